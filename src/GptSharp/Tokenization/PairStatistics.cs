using System.Runtime.InteropServices;

namespace GptSharp.Tokenization;

/// <summary>
/// The BPE trainer's bookkeeping: how often each adjacent token pair occurs (weighted by word frequency), which words
/// contain it, and a max-priority queue over the counts. Counts that drop are not updated in the queue; an entry is
/// checked when it reaches the top and re-queued with its current count if it is stale.
/// </summary>
sealed class PairStatistics
{
    readonly Dictionary<long, long> counts = [];
    readonly Dictionary<long, List<int>> wordsWith = [];
    readonly PriorityQueue<long, (long Count, long Pair)> queue = new(Comparer<(long Count, long Pair)>.Create(
        (a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Pair.CompareTo(b.Pair)));
    readonly HashSet<long> grown = [];

    public static long Join(int left, int right) => ((long)left << 32) | (uint)right;
    public static (int Left, int Right) Split(long pair) => ((int)(pair >> 32), (int)pair);

    public void Add(int left, int right, long count, int word)
    {
        long pair = Join(left, right);
        Change(pair, count);
        ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(wordsWith, pair, out _);
        list ??= [];
        if (list.Count == 0 || list[^1] != word) list.Add(word);
    }

    void Change(long pair, long delta)
    {
        ref long c = ref CollectionsMarshal.GetValueRefOrAddDefault(counts, pair, out _);
        c += delta;
        if (delta > 0) grown.Add(pair);
    }

    public void QueueAll()
    {
        foreach (var (pair, count) in counts) queue.Enqueue(pair, (count, pair));
        grown.Clear();
    }

    public bool TryTakeMostFrequent(out long pair, out long count)
    {
        while (queue.TryDequeue(out pair, out var queued))
        {
            counts.TryGetValue(pair, out count);
            if (count == queued.Count) return true;
            if (count > 0) queue.Enqueue(pair, (count, pair));
        }
        count = 0;
        return false;
    }

    /// <summary>Replaces every occurrence of <paramref name="pair"/> by <paramref name="merged"/> in the words that have it.</summary>
    public void Merge(long pair, int merged, List<BpeTrainer.Word> words)
    {
        var (a, b) = Split(pair);
        var list = wordsWith[pair];
        list.Sort();
        int previous = -1;
        foreach (int w in list)
        {
            if (w == previous) continue;
            previous = w;
            var word = words[w];
            int[] s = word.Symbols;
            long c = word.Count;
            int n = s.Length, o = 0;
            bool changed = false;
            for (int r = 0; r < n;)
            {
                if (r + 1 < n && s[r] == a && s[r + 1] == b)
                {
                    // The pairs around the merged one change: (prev, a) → (prev, merged) and (b, next) → (merged, next).
                    // s[o-1] is already rewritten, so runs such as "a b a b" come out right.
                    if (o > 0) { Change(Join(s[o - 1], a), -c); Add(s[o - 1], merged, c, w); }
                    if (r + 2 < n) { Change(Join(b, s[r + 2]), -c); Add(merged, s[r + 2], c, w); }
                    Change(pair, -c);
                    s[o++] = merged;
                    r += 2;
                    changed = true;
                }
                else s[o++] = s[r++];
            }
            if (changed) word.Symbols = s[..o];
        }
        counts.Remove(pair);
        wordsWith.Remove(pair);
        foreach (long p in grown)
            if (counts.TryGetValue(p, out long count) && count > 0) queue.Enqueue(p, (count, p));
        grown.Clear();
    }
}
