using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using GptSharp.Cli.Report;
using GptSharp.Training;
using GptSharp.Training.Advisors;

namespace GptSharp.Cli.Commands;

/// <summary>
/// `gptsharp find-batch-size`: the largest per-device batch that fits a memory budget on a pretraining config or a
/// fine-tuning job, each probe's speed, and the batch + gradient_accumulation_steps that keep the job's effective batch;
/// writes find_batch_size.png and find_batch_size.json. Every input is checked before anything is written.
/// </summary>
static class FindBatchSizeCommand
{
    public const string DefaultOutput = "find-batch-size", JsonFile = "find_batch_size.json";

    public static Command Create()
    {
        var defaults = new BatchSizeOptions();
        var job = new AdvisorJob("find-batch-size", "--set block_size=256 --set bf16=true");
        var budget = new Option<string?>("--memory-budget")
        {
            Description = "Memory a probe may use above what the process holds before it, e.g. 4GiB, 512MiB, 2GB (default: MemAvailable " +
                          "of /proc/meminfo). Not available on CUDA, where a batch fits when it raises no out-of-memory error.",
        };
        var maxBatch = new Option<int>("--max-batch") { Description = "The largest batch to try.", DefaultValueFactory = _ => defaults.MaxBatch };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps per probe.", DefaultValueFactory = _ => defaults.Steps };
        var output = new Option<string>("--output")
        {
            Description = $"Directory for {BatchSizePlot.FileName} and {JsonFile} (default: {DefaultOutput}/ in the current directory).",
            DefaultValueFactory = _ => DefaultOutput,
        };
        var cmd = new Command("find-batch-size", "Finds the largest per-device batch that fits a memory budget (doubling, then binary search), " +
                                                 "each probe a few real optimizer steps with its peak memory and tokens/s, and recommends the " +
                                                 "per_device_train_batch_size and gradient_accumulation_steps that keep the job's effective batch. " +
                                                 "The model is restored and no run is written; only the plot and the JSON.")
            { budget, maxBatch, steps, output };
        foreach (var o in job.Options) cmd.Options.Add(o);
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            long? memoryBudget = p.GetValue(budget) is { } text ? MemorySize.Parse(text, "--memory-budget") : null;
            var search = new BatchSizeOptions { MaxBatch = p.GetValue(maxBatch), Steps = p.GetValue(steps), MemoryBudget = memoryBudget }.Validate();
            string outDir = p.GetValue(output)!;
            AdvisorJob.CheckOutput(outDir);
            var progress = new Progress(w);
            var result = await job.RunAsync(p, outDir, w,
                plan => BatchSizeFinder.Run(plan, search, progress, ct), plan => BatchSizeFinder.Run(plan, search, progress, ct), ct);
            Print(result, w);
            AdvisorJob.WriteResults(outDir, dir => BatchSizePlot.Render(result, dir), JsonFile, ToJson(result), w);
            return 0;
        });
        return cmd;
    }

    /// <summary>A line per probe, synchronously (the test runs on one thread).</summary>
    sealed class Progress(TextWriter w) : IProgress<BatchSizeProbe>
    {
        public void Report(BatchSizeProbe p) => w.WriteLine($"probe batch {p.BatchSize,5}: {(p.Fits ? "fits" : "does not fit")}  {Row(p)}");
    }

    static string Peak(BatchSizeProbe p) => p.PeakBytes is long b ? MemorySize.Format(b) : "n/a";
    static string Speed(BatchSizeProbe p) => p.TokensPerSecond is double v ? v.ToString("N0", CultureInfo.InvariantCulture) : "-";
    static string Row(BatchSizeProbe p) => $"baseline {(p.BaselineBytes is long b ? MemorySize.Format(b) : "n/a")}  peak {Peak(p)}  {Speed(p)} tokens/s{(p.Failure is { } f ? "  (" + f + ")" : "")}";

    static void Print(BatchSizeResult r, TextWriter w)
    {
        w.WriteLine();
        w.WriteLine(r.MemoryBudget is long b
            ? $"memory budget {MemorySize.Format(b)} above the process's use before each probe ({r.Meter}); block_size {r.BlockSize}"
            : $"no memory meter on this device: a batch fits when it raises no out-of-memory error; block_size {r.BlockSize}");
        w.WriteLine($"{"batch",5}  {"fits",-4}  {"peak memory",12}  {"tokens/s",10}");
        foreach (var p in r.ByBatchSize)
            w.WriteLine($"{p.BatchSize,5}  {(p.Fits ? "yes" : "no"),-4}  {Peak(p),12}  {Speed(p),10}{(p.Failure is { } f ? "  " + f : "")}");
        w.WriteLine();
        w.WriteLine($"largest batch that fits: {r.LargestFit}{(r.LargestFit == r.Options.MaxBatch ? " (= --max-batch; raise it to look further)" : "")}");
        var rec = r.Recommendation;
        w.WriteLine($"the job's effective batch: per_device_train_batch_size {r.PerDeviceTrainBatchSize} × gradient_accumulation_steps " +
                    $"{r.GradientAccumulationSteps} = {rec.EffectiveBatch} sequences ({(long)rec.EffectiveBatch * r.BlockSize:N0} tokens) per update");
        w.WriteLine($"put it in your config:  \"per_device_train_batch_size\": {rec.PerDeviceTrainBatchSize}, \"gradient_accumulation_steps\": {rec.GradientAccumulationSteps}");
    }

    static JsonObject ToJson(BatchSizeResult r) => new()
    {
        ["max_batch"] = r.Options.MaxBatch,
        ["steps"] = r.Options.Steps,
        ["memory_budget_bytes"] = r.MemoryBudget,
        ["memory_meter"] = r.Meter,
        ["block_size"] = r.BlockSize,
        ["largest_fit"] = r.LargestFit,
        ["job"] = new JsonObject
        {
            ["per_device_train_batch_size"] = r.PerDeviceTrainBatchSize,
            ["gradient_accumulation_steps"] = r.GradientAccumulationSteps,
            ["effective_batch"] = r.Recommendation.EffectiveBatch,
        },
        ["recommended"] = new JsonObject
        {
            ["per_device_train_batch_size"] = r.Recommendation.PerDeviceTrainBatchSize,
            ["gradient_accumulation_steps"] = r.Recommendation.GradientAccumulationSteps,
        },
        ["probes"] = new JsonArray([.. r.Probes.Select((p, i) => (JsonNode)new JsonObject
        {
            ["order"] = i + 1, ["batch_size"] = p.BatchSize, ["fits"] = p.Fits, ["baseline_bytes"] = p.BaselineBytes, ["peak_bytes"] = p.PeakBytes,
            ["tokens_per_second"] = p.TokensPerSecond, ["failure"] = p.Failure,
        })]),
    };
}
