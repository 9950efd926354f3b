using System.CommandLine;
using System.Globalization;
using GptSharp.Cli.Report;
using GptSharp.Evaluation;
using GptSharp.IO;
using GptSharp.Native;

namespace GptSharp.Cli.Commands;

/// <summary>
/// `gptsharp compare`: models side by side — size, peak memory, loss and perplexity, reply scores, decode speed and
/// time to first token, each also as a ratio to the first model — as a table, JSON and a bar chart. Each model is
/// measured in a child process of its own, one after another, so that its peak RSS is its own and its timings are undisturbed.
/// </summary>
static class CompareCommand
{
    static readonly object WriteLock = new();

    public static Command Create()
    {
        var models = new Option<string[]>("--model")
        {
            Description = "A model directory, as DIR, DIR@PRECISION (auto, fp32, bf16, int8, int4: `--model chat/final --model chat/final@int8` " +
                          "compares one directory at two precisions; a `quantize` output is int8 or int4 by itself) or DIR@ENGINE-PRECISION " +
                          "(`chat/final@onnx-bf16`: the engine too, torch or onnx; see generate --engine). Repeat for each model; the first is " +
                          "the reference of every ratio.",
            Required = true, AllowMultipleArgumentsPerToken = false,
        };
        var data = new Option<string>("--data") { Description = "Held-out dialogues in any format finetune reads (loss and perplexity on the assistant's " +
                                                                "tokens, and each last reply generated and scored), or plain text with --text.", Required = true };
        var text = new Option<bool>("--text") { Description = "The data is plain text: loss and perplexity on every token; no reply scores." };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "The longest generated reply when scoring replies.", DefaultValueFactory = _ => 128 };
        var limit = new Option<int?>("--limit") { Description = "Evaluate only the first N conversations." };
        var decodeTokens = new Option<int>("--decode-tokens") { Description = "Tokens per decode-speed run (tg128), capped by the model's context.", DefaultValueFactory = _ => 128 };
        var repetitions = new Option<int>("--repetitions") { Description = "Timed runs per speed figure after a warm-up; the median is reported.", DefaultValueFactory = _ => 3 };
        var jsonOut = new Option<string?>("--json-out") { Description = "Write the comparison as JSON here (atomically)." };
        var plotFile = new Option<string?>("--plot") { Description = $"Write the bar chart here (default: beside --json-out with .png, else {ComparisonPlot.FileName} in the current directory)." };
        var noPlot = new Option<bool>("--no-plot") { Description = "Do not draw the bar chart." };
        var threads = new Option<int?>("--threads") { Description = "Compute threads for each model's measurement (default: torch's, all cores)." };
        // How the parent measures one model in a child process: the same options plus where the figures go.
        var figuresOut = new Option<string?>("--figures-out") { Description = "Measure the one --model in this process and write its figures here.", Hidden = true };
        var cmd = new Command("compare", "Compare models side by side on held-out data: parameters, weights on disk, peak RSS, loss and perplexity, " +
                                         "reply exact match / token F1 / BLEU, decode tokens/s at batch 1 and 8 and time to first token, each also " +
                                         "as a ratio to the first model. Each model is measured alone in a child process, one after another.")
            { models, data, text, maxNewTokens, limit, decodeTokens, repetitions, jsonOut, plotFile, noPlot, threads, figuresOut };
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            var err = p.InvocationConfiguration.Error;
            string I(int v) => v.ToString(CultureInfo.InvariantCulture);
            var options = new ModelComparisonOptions
            {
                Text = p.GetValue(text), Limit = p.GetValue(limit), MaxNewTokens = p.GetValue(maxNewTokens),
                DecodeTokens = p.GetValue(decodeTokens), Repetitions = p.GetValue(repetitions),
            }.Validate();
            if (p.GetValue(threads) is < 1) throw new GptSharpException($"--threads must be at least 1, got {p.GetValue(threads)}");
            string[] specs = p.GetValue(models) ?? [];
            var compared = specs.Select(ComparedModel.Parse).ToList();
            string dataPath = p.GetValue(data)!;

            if (p.GetValue(figuresOut) is { } figuresPath)
            {
                // A child: one model, measured in this process so that the peak RSS is this model's alone.
                if (compared.Count != 1) throw new GptSharpException("--figures-out measures exactly one --model");
                if (p.GetValue(threads) is { } t) TorchSharp.torch.set_num_threads(t);
                var one = ComparisonData.Load(dataPath, options);
                var figures = ModelComparison.Measure(compared[0], one, options, line => err.WriteLine(line), ct);
                (figures with { PeakRssBytes = ProcessMemory.PeakResidentBytes() }).Save(figuresPath);
                return 0;
            }

            // Everything that can be wrong is found before the first model is measured.
            string? jsonPath = p.GetValue(jsonOut);
            string? pngPath = p.GetValue(noPlot) ? null
                : p.GetValue(plotFile) ?? (jsonPath is not null ? Path.ChangeExtension(jsonPath, ".png") : ComparisonPlot.FileName);
            if (jsonPath is not null) OutputDirectory.CheckFile(jsonPath);
            if (pngPath is not null) OutputDirectory.CheckFile(pngPath);
            if (jsonPath is not null && pngPath is not null && Path.GetFullPath(jsonPath) == Path.GetFullPath(pngPath))
                throw new GptSharpException($"--json-out and --plot are the same file '{jsonPath}'");
            ModelComparison.CheckComparable(compared);
            ComparisonData.Load(dataPath, options);

            var measured = new List<ModelFigures>();
            var scratch = Directory.CreateTempSubdirectory("gptsharp-compare-");
            try
            {
                for (int i = 0; i < compared.Count; i++)
                {
                    string label = $"{i + 1}/{compared.Count} {compared[i].Label}";
                    err.WriteLine($"measuring {label}");
                    string file = Path.Combine(scratch.FullName, $"model{i}.json");
                    string[] args =
                    [
                        "compare", "--model", specs[i], "--data", dataPath, .. options.Text ? new[] { "--text" } : [],
                        "--max-new-tokens", I(options.MaxNewTokens), .. options.Limit is { } n ? new[] { "--limit", I(n) } : [],
                        "--decode-tokens", I(options.DecodeTokens), "--repetitions", I(options.Repetitions),
                        .. p.GetValue(threads) is { } t ? new[] { "--threads", I(t) } : [], "--figures-out", file,
                    ];
                    await ChildProcess.RunAsync(label, args, line => Write(err, line), line => Write(err, line), ct);
                    measured.Add(ModelFigures.Load(file));
                }
            }
            finally
            {
                try { scratch.Delete(recursive: true); } catch (IOException) { }
            }

            var report = ComparisonReport.Create(dataPath, options, measured);
            foreach (var m in report.Models)
                foreach (var note in m.Notes ?? []) err.WriteLine($"note: {m.Label}: {note}");
            ComparisonTable.Write(report, w);
            w.WriteLine($"peak RSS: each model's own process (runtime and libtorch included); weights on disk: the weight file it loaded; " +
                        $"decode: {measured[0].DecodeTokens} tokens greedy, median of {options.Repetitions}; time to first token: a {measured[0].PromptTokens}-token prompt");
            if (jsonPath is not null)
            {
                report.Save(jsonPath);
                w.WriteLine($"report → {jsonPath}");
            }
            if (pngPath is not null) w.WriteLine($"chart → {ComparisonPlot.Render(report, pngPath)}");
            return 0;
        });
        return cmd;
    }

    static void Write(TextWriter w, string line)
    {
        lock (WriteLock) w.WriteLine(line);
    }
}
