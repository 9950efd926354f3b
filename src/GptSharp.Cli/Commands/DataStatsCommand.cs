using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using GptSharp.Checkpoints;
using GptSharp.Cli.Report;
using GptSharp.Data.Dialogues;
using GptSharp.Data.Shards;
using GptSharp.Data.Statistics;
using GptSharp.IO;
using GptSharp.Native;
using GptSharp.Tokenization;
using GptSharp.Training.Advisors;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp data stats`: token lengths of dialogues or documents, truncation per block size, a recommended block_size.</summary>
static class DataStatsCommand
{
    public const string JsonFile = "data_stats.json";

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static Command Create()
    {
        var dialogues = new Option<string>("--dialogues") { Description = "A dialogue file (as finetune reads it): conversation and assistant-reply lengths, truncation as fine-tuning does it." };
        var data = new Option<string>("--data") { Description = "A data directory made by `data prepare`: document lengths from its token shards (both splits)." };
        var text = new Option<string[]>("--text") { Description = "UTF-8 text files: document lengths, documents separated by <|endoftext|> lines (see --document-boundary).", AllowMultipleArgumentsPerToken = true };
        var tokenizer = new Option<string>("--tokenizer") { Description = "A tokenizer directory or \"gpt2\" (default: the --model's tokenizer). Needed for --dialogues and --text." };
        var model = new Option<string>("--model") { Description = "A model directory: its tokenizer, and its context (n_positions) caps the block sizes compared and recommended." };
        var maxPromptReply = new Option<int?>("--max-prompt-reply") { Description = "The longest prompt + reply (tokens) the model must serve: the block_size must hold it (rounded up to a multiple of 64)." };
        var boundary = new Option<string>("--document-boundary") { Description = "For --text: what separates documents, as in `data prepare`.", DefaultValueFactory = _ => "marker" };
        boundary.AcceptOnlyFromAmong([.. DocumentBoundaries.Names]);
        var throughput = new Option<bool>("--throughput") { Description = "With --model: also time a few forward + backward passes at each block size (the same tokens per step) and print tokens/s." };
        var throughputTokens = new Option<int>("--throughput-tokens") { Description = "Tokens per timed step (batch = this ÷ block size, at least 1).", DefaultValueFactory = _ => 4096 };
        var device = new Option<string>("--device") { Description = "For --throughput: cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var output = new Option<string>("--output") { Description = $"Directory to write {LengthHistogramPlot.FileName} and {JsonFile} into (created if needed; those two files are replaced)." };

        var cmd = new Command("stats", "Token-length distribution of dialogues or documents, how much each block size (64 … 1024, up to the model's context) " +
                                       "would truncate, and a recommended block_size.")
            { dialogues, data, text, tokenizer, model, maxPromptReply, boundary, throughput, throughputTokens, device, output };
        cmd.SetAction((p, ct) =>
        {
            string? dialogueFile = p.GetValue(dialogues), dataDir = p.GetValue(data), modelDir = p.GetValue(model), tokenizerName = p.GetValue(tokenizer);
            string[] textFiles = p.GetValue(text) ?? [];
            string? outDir = p.GetValue(output);
            int? maxPR = p.GetValue(maxPromptReply);

            int sources = (dialogueFile is null ? 0 : 1) + (dataDir is null ? 0 : 1) + (textFiles.Length == 0 ? 0 : 1);
            if (sources != 1) throw new GptSharpException("give exactly one of --dialogues FILE, --data DIR or --text FILE...");
            if (maxPR is < 1) throw new GptSharpException($"--max-prompt-reply must be at least 1 (got {maxPR})");
            if (dialogueFile is not null && !File.Exists(dialogueFile)) throw new GptSharpException($"{dialogueFile}: --dialogues file not found");
            if (dataDir is not null && !Directory.Exists(dataDir)) throw new GptSharpException($"{dataDir}: --data directory not found");
            foreach (var f in textFiles) if (!File.Exists(f)) throw new GptSharpException($"{f}: --text file not found");
            if (modelDir is not null && !Directory.Exists(modelDir)) throw new GptSharpException($"{modelDir}: --model directory not found");
            bool measure = p.GetValue(throughput);
            if (measure && modelDir is null) throw new GptSharpException("--throughput needs --model DIR: the speed is measured on that model");
            int budget = p.GetValue(throughputTokens);
            if (budget < 1) throw new GptSharpException($"--throughput-tokens must be at least 1 (got {budget})");
            var torchDevice = measure ? Devices.Parse(p.GetValue(device)) : null;
            if (outDir is not null)
            {
                OutputDirectory.CheckFile(Path.Combine(outDir, JsonFile));
                OutputDirectory.CheckFile(Path.Combine(outDir, LengthHistogramPlot.FileName));
            }

            int? context = null;
            BpeTokenizer? tok = null;
            if (modelDir is not null)
            {
                var config = HfCheckpoint.ReadConfig(modelDir);
                context = config.BlockSize;
                if (tokenizerName is null && dataDir is null) tok = ModelDirectory.LoadTokenizer(modelDir, config);
            }
            if (tokenizerName is not null)
            {
                if (!string.Equals(tokenizerName, TokenizerSource.BuiltInGpt2, StringComparison.OrdinalIgnoreCase) && !Directory.Exists(tokenizerName))
                    throw new GptSharpException($"{tokenizerName}: --tokenizer is neither a tokenizer directory nor \"gpt2\"");
                tok = TokenizerSource.Load(tokenizerName);
            }
            if (tok is null && dataDir is null) throw new GptSharpException("--dialogues and --text need a tokenizer: give --tokenizer DIR|gpt2 or --model DIR");

            var candidates = BlockSizeCandidates.For(context);
            DataStatistics stats;
            string source;
            if (dialogueFile is not null)
            {
                source = dialogueFile;
                stats = DialogueStatistics.Compute(DialogueReader.Read(dialogueFile), new ChatTemplate(tok!), candidates, dialogueFile, maxPR, context);
            }
            else if (dataDir is not null)
            {
                source = dataDir;
                stats = TextStatistics.Compute(TextStatistics.ShardDocumentLengths(dataDir), candidates, dataDir, maxPR, context);
            }
            else
            {
                source = string.Join(", ", textFiles);
                var lengths = TextStatistics.TextDocumentLengths(textFiles, tok!, DocumentBoundaries.Parse(p.GetValue(boundary)!));
                stats = TextStatistics.Compute(lengths, candidates, source, maxPR, context);
            }

            var w = p.InvocationConfiguration.Output;
            string? tokenizerUsed = dataDir is not null ? null : tokenizerName ?? modelDir;
            Print(w, stats, source, tokenizerUsed);
            IReadOnlyList<BlockSizeSpeed>? speeds = null;
            if (measure)
            {
                using var gpt = HfCheckpoint.Load(modelDir!, torchDevice);
                speeds = BlockSizeThroughput.Measure(gpt, candidates, budget, ct: ct);
                PrintSpeeds(w, speeds, budget, torchDevice!.ToString());
            }
            if (outDir is not null)
            {
                Directory.CreateDirectory(outDir);
                string png = LengthHistogramPlot.Render(stats, outDir);
                string json = Path.Combine(outDir, JsonFile);
                AtomicFile.WriteAllText(json, JsonSerializer.Serialize(new { source, tokenizer = tokenizerUsed, stats, throughput = speeds }, Json) + "\n");
                w.WriteLine($"wrote {png} and {json}");
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    internal static void PrintSpeeds(TextWriter w, IReadOnlyList<BlockSizeSpeed> speeds, int budget, string device)
    {
        w.WriteLine();
        w.WriteLine($"training speed on the model ({device}, forward + backward, {budget:N0} tokens per step):");
        w.WriteLine($"  {"block_size",10}{"batch",7}{"s/step",10}{"tokens/s",12}{"vs first",10}");
        foreach (var s in speeds)
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {s.BlockSize,10}{s.BatchSize,7}{s.SecondsPerStep,10:0.000}{s.TokensPerSecond,12:N0}{s.TokensPerSecond / speeds[0].TokensPerSecond,9:0.00}×"));
    }

    static string Pct(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    internal static void Print(TextWriter w, DataStatistics s, string source, string? tokenizer)
    {
        var inv = CultureInfo.InvariantCulture;
        string with = tokenizer is null ? "" : $" (tokenizer {tokenizer})";
        w.WriteLine($"{s.Lengths.Count:N0} {s.Unit} in {source}{with}; token lengths (nearest-rank percentiles):");
        w.WriteLine($"  {"",-20}{"count",8}{"min",7}{"p50",7}{"p90",7}{"p95",7}{"p99",7}{"max",7}{"mean",9}");
        void Row(string name, LengthSummary l) => w.WriteLine(string.Create(inv,
            $"  {name,-20}{l.Count,8:N0}{l.Min,7}{l.P50,7}{l.P90,7}{l.P95,7}{l.P99,7}{l.Max,7}{l.Mean,9:0.0}"));
        Row(s.Unit, s.Lengths);
        if (s.Replies is { } r) Row("assistant replies", r);
        w.WriteLine();
        string lost = s.Replies is null ? "tokens past one block" : "assistant tokens lost";
        w.WriteLine($"  {"block_size",10}  {s.Unit + " truncated",-28}{lost}");
        foreach (var t in s.Truncation)
            w.WriteLine(string.Create(inv, $"  {t.BlockSize,10}  {$"{t.Truncated:N0} of {t.Total:N0} ({Pct(t.TruncatedFraction)})",-28}" +
                                           $"{t.LossTokensLost:N0} of {t.LossTokens:N0} ({Pct(t.LostFraction)})"));
        w.WriteLine();
        var rec = s.Recommendation;
        w.WriteLine($"data-driven block_size: {rec.DataDriven} (smallest multiple of 64 with block_size + 1 >= p95 = {s.Lengths.P95} tokens: " +
                    $"at least 95 % of the {s.Unit} fit whole)");
        if (rec.TaskDriven is int task) w.WriteLine($"task-driven block_size: {task} (--max-prompt-reply rounded up to a multiple of 64)");
        if (rec.Capped) w.WriteLine($"note: the model's context (n_positions {rec.ContextLength}) is smaller than the {Math.Max(rec.DataDriven, rec.TaskDriven ?? 0)} wanted; capped");
        w.WriteLine($"recommended block_size: {rec.Recommended}; paste into the training config: {rec.ConfigLine}");
    }
}
