using System.CommandLine;
using System.Diagnostics;
using GptSharp.Tokenization;
using GptSharp.IO;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp tokenizer train`: trains a byte-level BPE tokenizer on the user's text files.</summary>
static class TokenizerCommand
{
    public static Command Create()
    {
        var command = new Command("tokenizer", "Work with BPE tokenizers.");
        command.Subcommands.Add(CreateTrain());
        return command;
    }

    static Command CreateTrain()
    {
        var input = new Option<string[]>("--input")
        {
            Description = "UTF-8 text files to train on (several may follow one --input).",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var vocabSize = new Option<int>("--vocab-size")
        {
            Description = "Vocabulary size: 256 byte tokens + merges + 5 special tokens.",
            DefaultValueFactory = _ => new BpeTrainerOptions().VocabSize,
        };
        var minFrequency = new Option<int>("--min-frequency")
        {
            Description = "Never merge a pair seen fewer times than this.",
            DefaultValueFactory = _ => new BpeTrainerOptions().MinPairFrequency,
        };
        var output = new Option<string>("--output")
        {
            Description = "Directory to write vocab.json, merges.txt and tokenizer_config.json to.",
            Required = true,
        };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing, non-empty --output directory (never one that holds an input or the working directory)." };
        var command = new Command("train", "Train a GPT-2-style byte-level BPE tokenizer on text files.") { input, vocabSize, minFrequency, output, overwrite };
        command.SetAction(async (parse, ct) =>
        {
            var console = parse.InvocationConfiguration.Output;
            var options = new BpeTrainerOptions { VocabSize = parse.GetValue(vocabSize), MinPairFrequency = parse.GetValue(minFrequency) };
            string dir = parse.GetValue(output)!;
            string[] inputs = parse.GetValue(input)!;
            OutputDirectory.Check(dir, parse.GetValue(overwrite), "--overwrite", inputs); // before the (long) training
            var clock = Stopwatch.StartNew();
            var tokenizer = await new BpeTrainer(options).TrainAsync(inputs, new ProgressPrinter(console, clock), ct);
            OutputDirectory.Write(dir, tokenizer.Save); // appears complete or not at all
            await console.WriteLineAsync($"saved tokenizer to {dir}: vocabulary {tokenizer.VocabSize} ({tokenizer.Merges.Count} merges), {clock.Elapsed.TotalSeconds:F1} s");
            return 0;
        });
        return command;
    }

    /// <summary>Prints a line per 10% of reading and per 10% of merging (synchronously, unlike Progress&lt;T&gt;).</summary>
    sealed class ProgressPrinter(TextWriter output, Stopwatch clock) : IProgress<BpeTrainingProgress>
    {
        BpeTrainingStage stage = BpeTrainingStage.Done;
        long nextPercent;

        public void Report(BpeTrainingProgress p)
        {
            if (p.Stage != stage) { stage = p.Stage; nextPercent = 0; }
            if (p.Stage == BpeTrainingStage.Done || p.Total <= 0) return;
            long percent = 100 * p.Completed / p.Total;
            if (percent < nextPercent) return;
            nextPercent = percent / 10 * 10 + 10;
            string what = p.Stage == BpeTrainingStage.CountingWords
                ? $"counting words: {percent}% ({p.Completed / 1e6:F1}/{p.Total / 1e6:F1} MB)"
                : $"merging: {percent}% ({p.Completed}/{p.Total} merges)";
            output.WriteLine($"[{clock.Elapsed.TotalSeconds,6:F1}s] {what}");
        }
    }
}
