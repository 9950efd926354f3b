using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp;
using GptSharp.Bench;
using GptSharp.Native;
using TorchSharp;

// Decoding, as `gptsharp generate` does: tensors on 2 MiB pages (a const: GptSharp is not touched yet).
if (args.Contains("--decode")) AppContext.SetSwitch(TorchRuntime.HugePageTensorsSwitch, true);
BenchOptions options;
try { options = BenchOptions.Parse(args); }
catch (GptSharpException e) { Console.Error.WriteLine(e.Message); return 2; }

TorchRuntime.Initialize();
void Log(string line) => Console.Error.WriteLine(line); // progress on stderr; stdout is the JSON document alone
Log(string.Join(", ", TorchRuntime.Report.Select(kv => $"{kv.Key}: {kv.Value}")));

if (options.SaveModel is { } modelDir)
{
    DecodeBenchmark.SaveModel(modelDir);
    Log($"wrote {modelDir}");
    return 0;
}

var gemm = new JsonObject();
if (options.Gemm)
{
    gemm["fp32"] = Math.Round(Gemm.GFlops(torch.ScalarType.Float32), 1);
    gemm["bf16"] = Math.Round(Gemm.GFlops(torch.ScalarType.BFloat16), 1);
    Log($"GEMM 2048³ GFLOP/s: fp32 {gemm["fp32"]}, bf16 {gemm["bf16"]}");
}

var cases = new JsonArray();
if (options.Decode)
{
    foreach (var precision in options.Precisions)
    {
        cases.Add(Report.Decode(DecodeBenchmark.Run(precision, options.Steps, Log)));
        if (options.Profile && DecodeBenchmark.OnnxPrecisionOf(precision) is not null) cases[^1]!["time_split"] = EngineProfile.Run(precision, Log);
    }
}
else
{
    foreach (var preset in options.Presets)
        foreach (var precision in options.Precisions)
        {
            var r = TrainingBenchmark.Run(preset, precision, options.Warmup, options.Steps, Log);
            cases.Add(Report.Case(r));
            Log($"{preset} {precision}: {cases[^1]!["tokens_per_s"]} tokens/s, vs PyTorch {cases[^1]!["peer"]!["ratio"]}×");
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
}

var doc = new JsonObject
{
    ["benchmark"] = options.Decode
        ? $"generation: GPT-2 124M, batch 1, prompt {DecodeBenchmark.PromptTokens} (pp) and greedy decoding of {DecodeBenchmark.NewTokens} tokens (tg) with the KV cache"
        : "training throughput: forward + cross-entropy + backward + AdamW(lr 3e-4, betas 0.9/0.95, wd 0.1 on 2-D params) + zero_grad(set_to_none)",
    ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
    ["machine"] = new JsonObject
    {
        ["cpu"] = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() : null,
        ["logical_cores"] = Environment.ProcessorCount,
        ["os"] = RuntimeInformation.OSDescription,
        ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
    },
    ["runtime"] = new JsonObject
    {
        [".net"] = Environment.Version.ToString(),
        ["torchsharp"] = typeof(torch).Assembly.GetName().Version?.ToString(),
        ["allocator"] = Allocator.Current,
        ["mkl"] = TorchRuntime.Report.GetValueOrDefault("mkl"),
        ["libstdc++"] = TorchRuntime.Report.GetValueOrDefault("libstdc++"),
        ["huge_pages"] = TorchRuntime.Report.GetValueOrDefault("huge pages"),
        ["threads"] = torch.get_num_threads(),
    },
    ["gemm_gflops_2048"] = options.Gemm ? gemm : null,
    ["warmup"] = options.Decode ? null : options.Warmup,
    ["steps"] = options.Steps,
    ["peer"] = options.Decode ? PeerFigures.DecodingSource : PeerFigures.Source,
    ["cases"] = cases,
};
string json = doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
Console.WriteLine(json);
if (options.JsonOut is { } path)
{
    string tmp = path + ".tmp";
    File.WriteAllText(tmp, json + "\n");
    File.Move(tmp, path, overwrite: true);
}
return 0;
