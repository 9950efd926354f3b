using System.Text;

namespace GptSharp.Tokenization;

/// <summary>
/// Trains a GPT-2-style byte-level BPE vocabulary on the user's text: GPT-2's pre-tokenizer splits the text into words,
/// words are counted, and the most frequent adjacent pair of tokens is merged until the vocabulary is full.
/// The result has the 256 byte tokens (ids 0..255, in GPT-2's order), one token per merge, then &lt;|endoftext|&gt; and
/// the chat role tokens.
/// </summary>
/// <remarks>
/// Each merge only revisits the words that contain the merged pair: pair counts are updated incrementally and the next
/// pair comes from a priority queue whose stale entries are refreshed when they reach the top. Ties go to the pair with
/// the smaller (left id, right id), so training is deterministic.
/// </remarks>
public sealed class BpeTrainer(BpeTrainerOptions options)
{
    /// <summary>Trains on UTF-8 text files, read as a stream (BOM allowed).</summary>
    public Task<BpeTokenizer> TrainAsync(IReadOnlyList<string> files, IProgress<BpeTrainingProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        if (files.Count == 0) throw new GptSharpException("no training input files given");
        foreach (string f in files)
            if (!File.Exists(f)) throw new GptSharpException($"{f}: training input file not found");
        return Task.Run(() =>
        {
            long total = files.Sum(f => new FileInfo(f).Length), done = 0, reported = 0;
            var counter = new WordCounter();
            foreach (string f in files)
                counter.AddFile(f, n =>
                {
                    done += n;
                    // About every 1% (and at the end), so that progress is neither silent nor flooding.
                    if (progress is not null && (done - reported >= total / 100 || done == total))
                    {
                        reported = done;
                        progress.Report(new(BpeTrainingStage.CountingWords, done, total));
                    }
                }, ct);
            if (counter.Counts.Count == 0) throw new GptSharpException($"the training corpus is empty ({string.Join(", ", files)} contain no text)");
            return Train(counter.Counts, progress, ct);
        }, ct);
    }

    /// <summary>Trains on in-memory texts (each one a separate document).</summary>
    public BpeTokenizer Train(IEnumerable<string> texts, IProgress<BpeTrainingProgress>? progress = null, CancellationToken ct = default)
    {
        options.Validate();
        var counter = new WordCounter();
        foreach (string text in texts) counter.AddText(text);
        if (counter.Counts.Count == 0) throw new GptSharpException("the training corpus is empty");
        return Train(counter.Counts, progress, ct);
    }

    BpeTokenizer Train(IReadOnlyDictionary<string, long> wordCounts, IProgress<BpeTrainingProgress>? progress, CancellationToken ct)
    {
        // Token ids 0..255 are the bytes in GPT-2's order.
        var tokens = new List<string>(options.VocabSize);
        var byteId = new int[256];
        foreach (byte b in ByteLevel.BytesInVocabOrder) { byteId[b] = tokens.Count; tokens.Add(ByteLevel.ByteToChar[b].ToString()); }
        var tokenIds = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);

        // Words as arrays of token ids; single-byte words have no pairs and are left out.
        var words = new List<Word>(wordCounts.Count);
        foreach (var (text, count) in wordCounts)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            if (utf8.Length < 2) continue;
            words.Add(new Word(Array.ConvertAll(utf8, b => byteId[b]), count));
        }

        var pairs = new PairStatistics();
        for (int w = 0; w < words.Count; w++)
        {
            var (symbols, count) = (words[w].Symbols, words[w].Count);
            for (int i = 0; i + 1 < symbols.Length; i++) pairs.Add(symbols[i], symbols[i + 1], count, w);
        }
        pairs.QueueAll();

        int wanted = options.VocabSize - SpecialTokens.All.Count;
        var merges = new List<(string, string)>();
        var mergedTo = new Dictionary<long, int>();
        int lastReported = 0;
        while (tokens.Count < wanted && pairs.TryTakeMostFrequent(out long pair, out long frequency))
        {
            ct.ThrowIfCancellationRequested();
            if (frequency < options.MinPairFrequency) break;
            (int left, int right) = PairStatistics.Split(pair);
            if (!mergedTo.TryGetValue(pair, out int merged))
            {
                // Two different merges can spell the same string; they share its id.
                string text = tokens[left] + tokens[right];
                if (!tokenIds.TryGetValue(text, out merged))
                {
                    merged = tokens.Count;
                    tokens.Add(text);
                    tokenIds.Add(text, merged);
                }
                mergedTo.Add(pair, merged);
                merges.Add((tokens[left], tokens[right]));
            }
            pairs.Merge(pair, merged, words);
            if (progress is not null && (merges.Count - lastReported >= 100 || tokens.Count == wanted))
            {
                lastReported = merges.Count;
                progress.Report(new(BpeTrainingStage.Merging, tokens.Count - 256, wanted - 256));
            }
        }

        var special = SpecialTokens.All.Select((s, i) => (s, tokens.Count + i)).ToList();
        var vocabulary = new BpeVocabulary(tokenIds, merges, special, SpecialTokens.EndOfText);
        progress?.Report(new(BpeTrainingStage.Done, tokens.Count + special.Count, options.VocabSize));
        return new BpeTokenizer(vocabulary);
    }

    /// <summary>A distinct pre-token word: its current tokens and how often it occurs.</summary>
    internal sealed class Word(int[] symbols, long count)
    {
        public int[] Symbols = symbols;
        public readonly long Count = count;
    }
}
