using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.IO;
using GptSharp.Training;

namespace GptSharp.Cli.Commands;

/// <summary>
/// The training job an advisor (lr-find, find-batch-size) probes: <c>--config PRETRAIN.json</c>, or <c>--model DIR
/// --data DIALOGUES [--config FINETUNE.json]</c>, plus <c>--set</c>. Declared and resolved here once, so every advisor
/// reads a job exactly as <c>train</c> and <c>finetune</c> do.
/// </summary>
sealed class AdvisorJob
{
    readonly string _command;
    public Option<string?> Config { get; } = new("--config")
    {
        Description = "Pretraining config (as for `train`), or with --model/--data a fine-tuning config (as for `finetune`).",
    };
    public Option<string?> Model { get; } = new("--model") { Description = "Fine-tuning: the model directory to start from (needs --data)." };
    public Option<string?> Data { get; } = new("--data") { Description = "Fine-tuning: the dialogues (any format `finetune` reads)." };
    public Option<string[]> Set { get; }

    /// <param name="setExample">What the --set help shows, e.g. "--set optim=sgd".</param>
    public AdvisorJob(string command, string setExample)
    {
        _command = command;
        Set = new("--set")
        {
            Description = $"Override one option: --set key=value (repeatable), e.g. {setExample}.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [],
        };
    }

    public IEnumerable<Option> Options => [Config, Model, Data, Set];

    /// <summary>Refuses an --output folder that cannot be written, before any work.</summary>
    public static void CheckOutput(string outDir) => OutputDirectory.CheckWritable(Path.GetFullPath(outDir), $"--output '{outDir}'");

    /// <summary>Writes the advisor's chart (<paramref name="render"/> returns its path) and its JSON into <paramref name="outDir"/>, and says where.</summary>
    public static void WriteResults(string outDir, Func<string, string> render, string jsonFile, JsonNode json, TextWriter w)
    {
        Directory.CreateDirectory(outDir);
        string png = render(outDir);
        string path = Path.Combine(outDir, jsonFile);
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        w.WriteLine($"wrote {png} and {path}");
    }

    /// <summary>
    /// Checks the job and runs <paramref name="pretrain"/> or <paramref name="finetune"/> on its plan, off the caller's
    /// thread. The job's output_dir is set to <paramref name="outDir"/>, which the advisor writes, so the job's checks pass
    /// without touching a run.
    /// </summary>
    public async Task<T> RunAsync<T>(ParseResult p, string outDir, TextWriter w, Func<Pretraining.Plan, T> pretrain, Func<FineTuning.Plan, T> finetune,
        CancellationToken ct)
    {
        string[] overrides = [.. p.GetValue(Set) ?? [], $"output_dir={outDir}"];
        string? modelDir = p.GetValue(Model), dataFile = p.GetValue(Data), configFile = p.GetValue(Config);
        if (modelDir is null && dataFile is null)
        {
            if (configFile is null)
                throw new GptSharpException($"{_command} needs a job: --config PRETRAIN.json, or --model DIR --data DIALOGUES [--config FINETUNE.json]");
            var plan = Pretraining.Check(PretrainingOptions.Load(configFile, overrides));
            return await Task.Run(() => pretrain(plan), ct);
        }
        if (modelDir is null || dataFile is null) throw new GptSharpException($"fine-tuning {_command} needs both --model and --data");
        using var ft = FineTuning.Check(new FineTuningInputs { ModelDir = modelDir, TrainFile = dataFile }, FineTuningOptions.Load(configFile, overrides));
        foreach (var note in ft.Notes) w.WriteLine($"note: {note}");
        return await Task.Run(() => finetune(ft), ct);
    }
}
