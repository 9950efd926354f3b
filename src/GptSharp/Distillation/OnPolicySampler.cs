using GptSharp.Data;
using GptSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Distillation;

/// <summary>
/// On-policy batches (Agarwal et al. 2024, GKD): each row keeps its prompt — the tokens before the first one the loss
/// counts (for text, where every token counts, the first half of the row) — and continues it with a reply the student
/// samples, which the teacher then scores. Sampling draws from a generator seeded by (seed, step, micro-batch), never
/// from torch's global one, so a resumed run samples the same replies.
/// </summary>
public sealed class OnPolicySampler(int blockSize, int maxNewTokens, double temperature, long seed, IReadOnlyCollection<int> stopIds, int padId)
{
    /// <summary>Whether the micro-batch at (step, micro) is on-policy: a fraction <paramref name="lmbda"/> of them, decided from the seed.</summary>
    public static bool IsOnPolicy(double lmbda, long seed, int step, int micro)
    {
        if (lmbda <= 0) return false;
        if (lmbda >= 1) return true;
        ulong draw = new SplitMix64(Mix(seed, step, micro)).NextUInt64();
        return (draw >> 11) * (1.0 / (1UL << 53)) < lmbda;
    }

    static ulong Mix(long seed, int step, int micro) =>
        (ulong)seed ^ (0x9E3779B97F4A7C15UL * (ulong)(step + 1)) ^ (0xD1B54A32D192ED03UL * (ulong)(micro + 1));

    /// <summary>The batch with the student's replies: targets are the sampled tokens, -100 elsewhere.</summary>
    public Batch Sample(Gpt student, Batch batch, int step, int micro)
    {
        var device = batch.Input.device;
        long[] input, targets;
        using (var masked = batch.LossMask is null ? batch.Targets.alias() : batch.Targets.masked_fill(batch.LossMask.logical_not(), -100))
        using (var inputCpu = batch.Input.cpu())
        using (var targetsCpu = masked.cpu())
            (input, targets) = (inputCpu.data<long>().ToArray(), targetsCpu.data<long>().ToArray());
        int rows = (int)batch.Input.shape[0], width = (int)batch.Input.shape[1];

        var sequences = new List<long>[rows];
        var promptLengths = new int[rows];
        bool training = student.training;
        student.eval(); // replies come from the model as it would answer: no dropout
        try
        {
            using var noGrad = no_grad();
            using var generator = new Generator(Mix(seed ^ 0x5DEECE66DL, step, micro));
            for (int r = 0; r < rows; r++)
            {
                var row = new ArraySegment<long>(input, r * width, width);
                var rowTargets = new ArraySegment<long>(targets, r * width, width);
                int first = Array.FindIndex(rowTargets.ToArray(), t => t != -100);
                int last = Array.FindLastIndex(rowTargets.ToArray(), t => t != -100);
                if (first < 0) { sequences[r] = [.. row.Take(1)]; promptLengths[r] = 1; continue; } // nothing counts: a row of nothing
                // The prompt ends with the token that predicts the first counted one; text rows keep their first half.
                int prompt = first > 0 ? first + 1 : Math.Max(1, (last + 2) / 2);
                promptLengths[r] = prompt;
                sequences[r] = [.. row.Take(prompt)];
                int budget = Math.Min(maxNewTokens, blockSize + 1 - prompt);
                if (budget > 0) sequences[r].AddRange(Reply(student, sequences[r], budget, generator));
            }
        }
        finally
        {
            if (training) student.train();
        }

        int t = Math.Max(1, sequences.Max(s => s.Count) - 1);
        var x = new long[rows * t];
        var y = new long[rows * t];
        Array.Fill(x, padId);
        Array.Fill(y, -100);
        for (int r = 0; r < rows; r++)
        {
            var s = sequences[r];
            for (int i = 0; i < s.Count - 1; i++)
            {
                x[r * t + i] = s[i];
                if (i + 1 >= promptLengths[r]) y[r * t + i] = s[i + 1];
            }
        }
        return new Batch(tensor(x, [rows, t]).to(device), tensor(y, [rows, t]).to(device));
    }

    /// <summary>Up to <paramref name="budget"/> tokens sampled after <paramref name="prompt"/>, ending early at a stop token (kept).</summary>
    List<long> Reply(Gpt student, List<long> prompt, int budget, Generator generator)
    {
        var reply = new List<long>();
        using var cache = new KvCache(student.Config.NLayer, prompt.Count + budget);
        var device = student.Device;
        using var scope = NewDisposeScope();
        var logits = student.Forward(tensor(prompt.ToArray(), [1, prompt.Count]).to(device), cache, lastPositionOnly: true);
        while (true)
        {
            using var step = NewDisposeScope();
            var probs = nn.functional.softmax(logits[0, -1].to(ScalarType.Float32) / temperature, -1);
            long next = multinomial(probs, 1, generator: generator).item<long>();
            reply.Add(next);
            if (stopIds.Contains((int)next) || reply.Count == budget) break;
            logits = student.Forward(tensor(new[] { next }, [1, 1]).to(device), cache, lastPositionOnly: true).MoveToOuterDisposeScope();
        }
        return reply;
    }
}
