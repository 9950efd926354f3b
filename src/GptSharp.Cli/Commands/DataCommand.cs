using System.CommandLine;
using GptSharp.Cli.Progress;
using GptSharp.Data.Shards;

namespace GptSharp.Cli.Commands;

static class DataCommand
{
    public static Command Create() => new("data", "Prepare training data and measure it.") { Prepare(), DataStatsCommand.Create() };

    static Command Prepare()
    {
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "A tokenizer directory (vocab.json, merges.txt, tokenizer_config.json) or \"gpt2\" for the built-in GPT-2 vocabulary.",
            Required = true,
        };
        var input = new Option<string[]>("--input") { Description = "UTF-8 text files (any size; streamed).", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "Data directory to write: token shards and meta.json.", Required = true };
        var valFraction = new Option<double>("--val-fraction") { Description = "Fraction of documents held out for validation (every 1/f-th).", DefaultValueFactory = _ => 0.05 };
        var boundary = new Option<string>("--document-boundary")
        {
            Description = "What separates documents: marker (<|endoftext|> lines), file, blank-line or line. Every file ends a document.",
            DefaultValueFactory = _ => "marker",
        };
        boundary.AcceptOnlyFromAmong([.. DocumentBoundaries.Names]);
        var shardTokens = new Option<long>("--shard-tokens") { Description = "Tokens per shard file.", DefaultValueFactory = _ => 100_000_000 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output directory." };

        var cmd = new Command("prepare", "Tokenize text files into train/validation token shards, documents separated by <|endoftext|>.")
            { tokenizer, input, output, valFraction, boundary, shardTokens, overwrite };
        cmd.SetAction(async (p, ct) =>
        {
            var options = new PrepareOptions
            {
                ValFraction = p.GetValue(valFraction),
                DocumentBoundary = DocumentBoundaries.Parse(p.GetValue(boundary)!),
                ShardTokens = p.GetValue(shardTokens),
                Overwrite = p.GetValue(overwrite),
                Tokenizer = p.GetValue(tokenizer),
            }.Validate();
            var tok = TokenizerSource.Load(p.GetValue(tokenizer)!);
            string outDir = p.GetValue(output)!;
            var writer = p.InvocationConfiguration.Output;
            var meta = await PrepareProgressView.RunAsync(progress => DataPreparer.PrepareAsync(p.GetValue(input)!, tok, outDir, options, progress, ct), writer);
            writer.WriteLine($"wrote {outDir}: train {meta.Train.Tokens:N0} tokens ({meta.Train.Documents:N0} documents, {meta.Train.Shards.Count} shards), " +
                             $"val {meta.Val.Tokens:N0} tokens ({meta.Val.Documents:N0} documents), {meta.Dtype}");
            return 0;
        });
        return cmd;
    }
}
