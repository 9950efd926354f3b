using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp;
using GptSharp.ServeBench;

// A server only decodes: tensors on 2 MiB pages, as under `gptsharp serve` (a const: GptSharp is not touched yet).
AppContext.SetSwitch(GptSharp.Native.TorchRuntime.HugePageTensorsSwitch, true);
ServeBenchOptions o;
try { o = ServeBenchOptions.Parse(args); }
catch (GptSharpException e) { Console.Error.WriteLine(e.Message); return 2; }
void Log(string line) => Console.Error.WriteLine(line); // progress on stderr; stdout is the JSON document alone

// Fixed-length prompts of random GPT-2 token ids (below the special tokens), a different one per request.
IReadOnlyList<int> Prompt(int i) => new Random(1000 + i).GetItems(Enumerable.Range(0, 50256).ToArray(), o.PromptTokens);

InProcessServer? server = o.Url is null ? await InProcessServer.StartAsync(o) : null;
string url = o.Url ?? server!.Url;
int? pid = server is not null ? Environment.ProcessId : o.ServerPid;
Log($"server {url} ({(server is null ? "external" : $"in process, GPT-2 124M random weights, {o.Precision}, engine {o.Engine}")})");
// No draining of unread responses (the soak's disconnects close their connections); a connection per concurrent client.
using var http = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0, MaxConnectionsPerServer = 1024 })
{
    BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(10),
};

var doc = new JsonObject
{
    ["benchmark"] = o.Soak ? "serving soak: mixed valid, malformed, disconnecting and oversized requests" : "serving under load: streamed /v1/completions over HTTP (SSE), greedy",
    ["date_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"),
    ["machine"] = new JsonObject
    {
        ["cpu"] = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() : null,
        ["logical_cores"] = Environment.ProcessorCount,
        ["os"] = RuntimeInformation.OSDescription,
        ["load_average_start"] = LoadAverage(),
    },
    ["server"] = server is null ? url : $"in process (this driver's process: RSS includes the driver), max_batch {o.MaxBatch}, filter {o.Filter}",
    ["model"] = server is null ? o.ModelId : "GPT-2 124M (preset gpt2), random weights",
    ["precision"] = o.Precision,
    ["engine"] = server is null ? null : o.Engine,
    ["prompt_tokens"] = o.PromptTokens,
    ["max_tokens"] = o.MaxTokens,
    ["temperature"] = o.Temperature,
    ["temperature_note"] = o.Temperature > 0 ? "requests sample (the model's generation defaults: top-k 50); the in-process figures are greedy" : "greedy",
};

try
{
    // Warm-up: first requests pay for allocator growth and kernel selection.
    await StreamedRequest.RunAsync(http, StreamedRequest.Body(o.ModelId, Prompt(0), o.MaxTokens, o.Temperature));
    if (o.Soak)
    {
        var soak = await Soak.RunAsync(http, url, o, Prompt, pid);
        doc["soak"] = soak;
        Log($"soak: {soak.ToJsonString()}");
    }
    else
    {
        JsonObject? reference = null;
        if (server is not null && o.Reference)
        {
            reference = InProcessReference.Measure(server.Model.Generator, o, Prompt);
            Log($"in process: {reference.ToJsonString()}");
        }
        var levels = new JsonArray();
        foreach (int c in o.Levels)
        {
            var (report, _) = await LoadLevel.RunAsync(http, o, c, Prompt, pid);
            levels.Add(report);
            Log($"concurrency {c}: {report["aggregate_tokens_per_s"]} tokens/s, {report["requests_per_s"]} requests/s, TTFT p50/p95 {report["ttft_ms"]!["p50"]}/{report["ttft_ms"]!["p95"]} ms, ITL p50/p95 {report["itl_ms"]!["p50"]}/{report["itl_ms"]!["p95"]} ms, RSS {report["server_rss_mib"]} MiB");
        }
        doc["levels"] = levels;
        doc["in_process"] = reference;
        doc["decode_benchmark"] = o.ReferenceJson is { } path ? DecodeFigures(path, o.Precision) : null;
        doc["targets"] = Targets.Compare(o, levels, reference, doc["decode_benchmark"] as JsonObject);
    }
}
finally
{
    if (server is not null) await server.DisposeAsync();
}
doc["machine"]!["load_average_end"] = LoadAverage();

string json = doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
Console.WriteLine(json);
if (o.JsonOut is { } outPath)
{
    File.WriteAllText(outPath + ".tmp", json + "\n");
    File.Move(outPath + ".tmp", outPath, overwrite: true);
}
return o.Soak && doc["soak"]?["passed"]?.GetValue<bool>() == false ? 1 : 0;

static string? LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;

// The batch-8 figures of a GptSharp.Bench --decode document, for the same precision.
static JsonObject? DecodeFigures(string path, string precision)
{
    var cases = JsonNode.Parse(File.ReadAllText(path))?["cases"]?.AsArray() ?? [];
    var c = cases.FirstOrDefault(x => ((string?)x?["precision"])?.StartsWith(precision, StringComparison.Ordinal) == true);
    return c is null ? null : new JsonObject
    {
        ["file"] = path,
        ["tg128_batch8_aggregate_tokens_per_s"] = c["tg128_batch8_aggregate_tokens_per_s"]?.DeepClone(),
        ["continuous_batching_8_requests_tokens_per_s"] = c["continuous_batching_8_requests_tokens_per_s"]?.DeepClone(),
        ["tg128_tokens_per_s"] = c["tg128_tokens_per_s"]?.DeepClone(),
    };
}
