using GptSharp.Checkpoints.Onnx;
using GptSharp.Inference.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace GptSharp.Tests.Checkpoints.Onnx;

/// <summary>
/// Runs an exported GPT-2 in ONNX Runtime the way a decoding loop would: a prompt, then one token at a time with the
/// previous step's presents as the pasts.
/// </summary>
sealed class OnnxModelRunner : IDisposable
{
    readonly InferenceSession _session;
    readonly int _layers, _heads, _headSize;

    public OnnxModelRunner(string dir, int layers, int heads, int headSize)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        _session = new InferenceSession(Path.Combine(dir, OnnxExport.ModelFile), options);
        (_layers, _heads, _headSize) = (layers, heads, headSize);
    }

    public sealed record Step(float[] Logits, long[] LogitsShape, float[][] Presents, long[] PresentShape);

    /// <summary>
    /// One pass: <paramref name="ids"/>, <paramref name="positions"/> [batch, seq], <paramref name="mask"/> [batch, past + seq];
    /// <paramref name="past"/> from the previous step (null: empty pasts).
    /// </summary>
    public Step Run(long[][] ids, long[][] positions, long[][] mask, Step? past = null)
    {
        int batch = ids.Length, seq = ids[0].Length, total = mask[0].Length;
        long pastLength = total - seq;
        var values = new List<OrtValue>();
        try
        {
            var inputs = new Dictionary<string, OrtValue>
            {
                ["input_ids"] = Track(values, OrtValue.CreateTensorValueFromMemory(ids.SelectMany(r => r).ToArray(), [batch, seq])),
                ["position_ids"] = Track(values, OrtValue.CreateTensorValueFromMemory(positions.SelectMany(r => r).ToArray(), [batch, seq])),
                ["attention_mask"] = Track(values, OrtValue.CreateTensorValueFromMemory(mask.SelectMany(r => r).ToArray(), [batch, total])),
            };
            for (int i = 0; i < _layers; i++)
                inputs[$"past_{i}"] = Track(values, OrtValue.CreateTensorValueFromMemory(past?.Presents[i] ?? [], [2, batch, _heads, pastLength, _headSize]));
            using var run = new RunOptions();
            var names = new[] { "logits" }.Concat(Enumerable.Range(0, _layers).Select(i => $"present_{i}")).ToArray();
            using var outputs = _session.Run(run, inputs, names);
            float[] Read(OrtValue v) => v.GetTensorDataAsSpan<float>().ToArray();
            return new Step(Read(outputs[0]), outputs[0].GetTensorTypeAndShape().Shape,
                            [.. outputs.Skip(1).Select(Read)], outputs[1].GetTensorTypeAndShape().Shape);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    static OrtValue Track(List<OrtValue> values, OrtValue v)
    {
        values.Add(v);
        return v;
    }

    /// <summary>Greedy decoding of one sequence for <paramref name="tokens"/> new tokens.</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int tokens, int vocab)
    {
        var all = prompt.Select(t => (long)t).ToList();
        var result = new List<int>();
        Step? step = null;
        long[] next = [.. all];
        for (int n = 0; n < tokens; n++)
        {
            int past = all.Count - next.Length;
            step = Run([next], [[.. Enumerable.Range(past, next.Length).Select(p => (long)p)]], [[.. Enumerable.Repeat(1L, all.Count)]], step);
            int last = (next.Length - 1) * vocab, best = 0;
            for (int v = 1; v < vocab; v++) if (step.Logits[last + v] > step.Logits[last + best]) best = v;
            result.Add(best);
            all.Add(best);
            next = [best];
        }
        return result;
    }

    public void Dispose() => _session.Dispose();
}
