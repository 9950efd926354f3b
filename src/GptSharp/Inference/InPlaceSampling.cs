using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace GptSharp.Inference;

/// <summary>
/// <see cref="Sampling.NextToken"/>'s draw (temperature, then top-k, top-p and min-p, then one token) over float32 logits
/// read in place from CPU memory. libtorch took ~1.8 ms a row for GPT-2's 50,257 logits with top-k 50 and ~5 ms with
/// top-p alone (a sort of the whole vocabulary): more than a batch-8 forward pass on the onnx engine per 8 rows. Here
/// the filters keep the same tokens (top-k keeps ties with the k-th; top-p keeps the most likely tokens until the
/// ones before reach p; min-p drops what is less likely than p times the best), found among the few most likely tokens,
/// and the draw takes one uniform number from the caller's generator (inverse CDF over the kept tokens, most likely
/// first): a seed still repeats its tokens, though they are not the ones libtorch's multinomial drew.
/// </summary>
internal static class InPlaceSampling
{
    /// <summary>Nucleus sampling without top-k looks for the nucleus among this many of the most likely tokens first.</summary>
    const int FirstNucleusGuess = 64, LargestNucleusGuess = 1024;

    /// <summary>False where the logits are not float32 in CPU memory, or hold a NaN or nothing finite (libtorch then reports it).</summary>
    public static bool TryNextToken(Tensor logits, GenerationOptions o, torch.Generator? rng, out int id)
    {
        id = -1;
        if (!Sampling.TryReadInPlace(logits, out var x)) return false;
        int n = x.Length;
        float max = TensorPrimitives.Max(x);
        if (!float.IsFinite(max)) return false;
        double invT = 1 / o.Temperature;
        bool topK = o.TopK > 0 && o.TopK < n, topP = o.TopP < 1;

        (float Logit, int Id)[] kept;
        double normaliser = 0; // of the probabilities top-p reads: the whole vocabulary's, or (top-k) the survivors', below
        if (topK) kept = MostLikely(x, o.TopK);
        else
        {
            var all = ArrayPool<float>.Shared.Rent(n);
            try
            {
                var w = all.AsSpan(0, n);
                Weights(x, max, invT, w);
                if (!topP)
                {
                    // Temperature (and min-p) over the whole vocabulary: the draw found in one pass over the weights.
                    if (o.MinP > 0)
                        for (int i = 0; i < n; i++)
                            if (w[i] < o.MinP) w[i] = 0; // weights are relative to the best token's (1)
                    double target = Uniform(rng) * TensorPrimitives.Sum(w), sum = 0;
                    for (int i = 0; i < n; i++)
                        if ((sum += w[i]) > target && w[i] > 0) { id = i; return true; }
                    id = x.IndexOf(max); // rounding left the target past the sum: the best token
                    return true;
                }
                normaliser = TensorPrimitives.Sum(w);
            }
            finally { ArrayPool<float>.Shared.Return(all); }
            // The nucleus lies among the m most likely tokens once they hold p of the mass: grow m until they do; a
            // nucleus wider than that (a flat distribution) comes from sorting everything.
            for (int m = FirstNucleusGuess; ; m *= 4)
            {
                if (m > LargestNucleusGuess || m >= n)
                {
                    kept = new (float, int)[n];
                    for (int i = 0; i < n; i++) kept[i] = (x[i], i);
                    break;
                }
                kept = MostLikely(x, m);
                double mass = 0;
                foreach (var (logit, _) in kept) mass += Weight(logit, max, invT);
                if (mass >= o.TopP * normaliser) break;
            }
        }

        // Most likely first (equal logits by id); sorted on primitive keys, which is several times faster over many.
        var order = new long[kept.Length];
        for (int j = 0; j < kept.Length; j++) order[j] = ((long)DescendingKey(kept[j].Logit) << 32) | (uint)kept[j].Id;
        Array.Sort(order);
        for (int j = 0; j < order.Length; j++) { int i = (int)(uint)order[j]; kept[j] = (x[i], i); }
        // Each kept token's weight, once; then top-p keeps a prefix of them and min-p zeroes the unlikely in it.
        var weights = ArrayPool<double>.Shared.Rent(kept.Length);
        try
        {
            for (int j = 0; j < kept.Length; j++) weights[j] = Weight(kept[j].Logit, max, invT);
            if (topK)
                for (int j = 0; j < kept.Length; j++) normaliser += weights[j];
            int count = kept.Length;
            if (topP)
            {
                // A token is dropped once the tokens ranked above it already reach p.
                double before = 0;
                for (int j = 0; j < kept.Length; j++)
                {
                    if (before >= o.TopP * normaliser) { count = j; break; }
                    before += weights[j];
                }
                count = Math.Max(count, 1);
            }
            double best = weights[0], keptTotal = 0;
            for (int j = 0; j < count; j++)
            {
                if (o.MinP > 0 && weights[j] < o.MinP * best) weights[j] = 0;
                keptTotal += weights[j];
            }
            double target = Uniform(rng) * keptTotal, sum = 0;
            id = kept[0].Id;
            for (int j = 0; j < count; j++)
                if (weights[j] > 0 && (sum += weights[j]) > target) { id = kept[j].Id; break; }
            return true;
        }
        finally { ArrayPool<double>.Shared.Return(weights); }
    }

    /// <summary>An int that orders floats from the largest down (finite and ±∞; NaN never comes here).</summary>
    static int DescendingKey(float v)
    {
        int bits = BitConverter.SingleToInt32Bits(v == 0 ? 0f : v); // -0 sorts with +0
        int ascending = bits < 0 ? ~bits ^ int.MinValue : bits;      // monotone in v, as a signed int
        return ~ascending;
    }

    /// <summary>A token's unnormalised probability, relative to the best token's (1).</summary>
    static double Weight(float logit, float max, double invT) => Math.Exp((logit - (double)max) * invT);

    /// <summary>Every token's <see cref="Weight"/>, vectorised.</summary>
    static void Weights(ReadOnlySpan<float> x, float max, double invT, Span<float> w)
    {
        TensorPrimitives.Subtract(x, max, w);
        TensorPrimitives.Multiply(w, (float)invT, w);
        TensorPrimitives.Exp(w, w);
    }

    /// <summary>The <paramref name="m"/> largest logits with their ids, and every other equal to the m-th (as torch's top-k filter keeps ties).</summary>
    static (float Logit, int Id)[] MostLikely(ReadOnlySpan<float> x, int m)
    {
        // A min-heap of the m best so far: most logits lose one comparison with its root.
        var heap = ArrayPool<float>.Shared.Rent(m);
        try
        {
            int size = 0;
            foreach (float v in x)
            {
                if (size < m)
                {
                    int c = size++;
                    heap[c] = v;
                    while (c > 0 && heap[(c - 1) / 2] > heap[c]) { (heap[c], heap[(c - 1) / 2]) = (heap[(c - 1) / 2], heap[c]); c = (c - 1) / 2; }
                }
                else if (v > heap[0])
                {
                    heap[0] = v;
                    for (int c = 0; ;)
                    {
                        int l = 2 * c + 1, r = l + 1, least = c;
                        if (l < size && heap[l] < heap[least]) least = l;
                        if (r < size && heap[r] < heap[least]) least = r;
                        if (least == c) break;
                        (heap[c], heap[least]) = (heap[least], heap[c]);
                        c = least;
                    }
                }
            }
            float kth = heap[0];
            var kept = new List<(float, int)>(m + 8);
            for (int i = 0; i < x.Length; i++)
                if (x[i] >= kth) kept.Add((x[i], i));
            return [.. kept];
        }
        finally { ArrayPool<float>.Shared.Return(heap); }
    }

    /// <summary>One uniform number in [0, 1) from the generator (libtorch's default one without).</summary>
    static double Uniform(torch.Generator? rng)
    {
        using var u = rand([1], ScalarType.Float64, generator: rng);
        return u.item<double>();
    }
}
