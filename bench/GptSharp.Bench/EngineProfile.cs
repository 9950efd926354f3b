using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Inference.Kernels;
using GptSharp.Inference.Onnx;
using GptSharp.Inference;
using GptSharp.Models;

namespace GptSharp.Bench;

/// <summary>
/// Where a decoding step's time goes on the onnx engine: ONNX Runtime's profiler times every node of tg128 (GPT-2 124M,
/// batch 1, from a one-token prompt), and the nodes are split into streaming the weights (the linear layers and the LM
/// head: MatMul/Gemm/MatMulNBits whose second input is a 2-D weight), attention (GroupQueryAttention; in graphs of standard operators the 4-D MatMuls over the cache, Softmax,
/// the Concat that appends to the past, the mask), and everything else (layer norms, GELU, adds, reshapes); what the
/// nodes do not account for is time outside the kernels (the run call, inputs and outputs, our sampling).
/// On the onnx engine's row kernels (onnx-* on a machine with AVX-512 or AVX2; ort-* is the engine without them) the split is the
/// kernels' own: weights (the products), attention, the rest of the step (layer norms, the embedding, the fork-joins),
/// and outside the step (choosing the token, the generator).
/// </summary>
static class EngineProfile
{
    public static JsonObject Run(string precision, Action<string> log)
    {
        var config = GptPresets.Get("gpt2") with { VocabSize = 50257 };
        using var model = Gpt.Create(config, seed: 1337);
        if (precision.StartsWith("onnx-")) // batch-1 steps on the row kernels where this machine runs them
        {
            var rows = OnnxRuntimeEngine.Attach(model, DecodeBenchmark.OnnxPrecisionOf(precision)!.Value);
            if (rows.UsesRowKernels) return RowKernels(precision, model, rows, log);
            model.Engine = null; // disposes it
        }
        string prefix = Path.Combine(Path.GetTempPath(), $"gptsharp-profile-{Environment.ProcessId}");
        var engine = OnnxRuntimeEngine.Attach(model, DecodeBenchmark.OnnxPrecisionOf(precision)!.Value, prefix);
        var generator = new TextGenerator(model);
        var options = new GenerationOptions { DoSample = false, MaxNewTokens = DecodeBenchmark.NewTokens, StopAtEndOfText = false };
        var clock = Stopwatch.StartNew();
        int made = generator.Generate([1], options).Length;
        double wallMs = clock.Elapsed.TotalMilliseconds;
        string trace = engine.EndProfiling();
        try
        {
            var totals = new Dictionary<string, double> { ["weights"] = 0, ["attention"] = 0, ["other"] = 0 };
            var byOp = new Dictionary<string, double>();
            using var doc = JsonDocument.Parse(File.ReadAllText(trace));
            foreach (var e in doc.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time")) continue;
                var args = e.GetProperty("args");
                string op = args.GetProperty("op_name").GetString()!;
                double us = e.GetProperty("dur").GetDouble();
                byOp[op] = byOp.GetValueOrDefault(op) + us;
                totals[Kind(op, args)] += us;
            }
            double perToken(double us) => Math.Round(us / 1000 / made, 3);
            double nodes = totals.Values.Sum();
            var result = new JsonObject
            {
                ["precision"] = precision,
                ["tokens"] = made,
                ["ms_per_token"] = Math.Round(wallMs / made, 3),
                ["weights_ms_per_token"] = perToken(totals["weights"]),
                ["attention_ms_per_token"] = perToken(totals["attention"]),
                ["other_nodes_ms_per_token"] = perToken(totals["other"]),
                ["outside_nodes_ms_per_token"] = Math.Round((wallMs * 1000 - nodes) / 1000 / made, 3),
                ["by_operator_ms_per_token"] = new JsonObject(byOp.OrderByDescending(kv => kv.Value).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)perToken(kv.Value)))),
            };
            log($"profile {precision}: {result["ms_per_token"]} ms/token = weights {result["weights_ms_per_token"]} (LM head {result["lm_head_ms_per_token"]}) + attention {result["attention_ms_per_token"]} + other nodes {result["other_nodes_ms_per_token"]} + outside nodes {result["outside_nodes_ms_per_token"]}");
            return result;
        }
        finally
        {
            File.Delete(trace);
        }
    }

    /// <summary>The row kernels' own split (<see cref="RowDecoder.StepTimes"/>) over tg128.</summary>
    static JsonObject RowKernels(string precision, Gpt model, OnnxRuntimeEngine engine, Action<string> log)
    {
        var generator = new TextGenerator(model);
        var options = new GenerationOptions { DoSample = false, MaxNewTokens = DecodeBenchmark.NewTokens, StopAtEndOfText = false };
        generator.Generate([1], options with { MaxNewTokens = 8 });
        var times = new RowDecoder.StepTimes();
        engine.RowTimes = times;
        var clock = Stopwatch.StartNew();
        int made = generator.Generate([1], options).Length;
        double wallMs = clock.Elapsed.TotalMilliseconds;
        engine.RowTimes = null;
        double steps = times.PerStep(times.Total);
        var result = new JsonObject
        {
            ["precision"] = precision,
            ["engine"] = "row kernels",
            ["tokens"] = made,
            ["ms_per_token"] = Math.Round(wallMs / made, 3),
            ["weights_ms_per_token"] = Math.Round(times.PerStep(times.Weights), 3),
            ["lm_head_ms_per_token"] = Math.Round(times.PerStep(times.Head), 3),
            ["attention_ms_per_token"] = Math.Round(times.PerStep(times.Attention), 3),
            ["other_nodes_ms_per_token"] = Math.Round(steps - times.PerStep(times.Weights) - times.PerStep(times.Attention), 3),
            ["outside_nodes_ms_per_token"] = Math.Round(wallMs / made - steps, 3),
        };
        log($"profile {precision} (row kernels): {result["ms_per_token"]} ms/token = weights {result["weights_ms_per_token"]} (LM head {result["lm_head_ms_per_token"]}) + attention {result["attention_ms_per_token"]} + the rest of the step {result["other_nodes_ms_per_token"]} + outside the step {result["outside_nodes_ms_per_token"]}");
        return result;
    }

    static string Kind(string op, JsonElement args)
    {
        if (op is "Gemm" or "MatMulNBits" or "FusedMatMul" or "MatMul")
        {
            // The profiler lists activations only: a product with one listed input multiplies by a weight (an initializer),
            // as does one with a 2-D input (the LM head's Gemm); the attention products multiply two 4-D activations.
            var shapes = args.TryGetProperty("input_type_shape", out var s) ? s.EnumerateArray().ToArray() : [];
            bool weight = shapes.Length < 2 || shapes.Any(i => i.EnumerateObject().Any(p => p.Value.GetArrayLength() <= 2));
            return op == "MatMulNBits" || weight ? "weights" : "attention";
        }
        return op is "GroupQueryAttention" or "MultiHeadAttention" or "Softmax" or "Concat" or "Where" or "Transpose" ? "attention" : "other";
    }
}
