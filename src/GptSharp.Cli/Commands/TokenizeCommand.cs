using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Tokenization;
using GptSharp.IO;
using GptSharp.Data.Shards;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp tokenize`: token ids for a piece of text, or for the "text" field of every line of a JSONL file.</summary>
static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizerOption = new Option<string>("--tokenizer")
        {
            Description = "A tokenizer directory (vocab.json, merges.txt, tokenizer_config.json) or \"gpt2\" for the built-in GPT-2 vocabulary.",
            DefaultValueFactory = _ => "gpt2",
        };
        var text = new Option<string?>("--text") { Description = "Text to encode; prints its ids as a JSON array." };
        var input = new Option<string?>("--input") { Description = "JSONL file whose lines each have a string \"text\" field." };
        var output = new Option<string?>("--output") { Description = "JSONL file to write: each input line with an \"ids\" field added." };
        var allowSpecial = new Option<bool>("--allow-special") { Description = "Treat special-token strings such as <|endoftext|> in the text as special tokens." };
        var command = new Command("tokenize", "Encode text into token ids.") { tokenizerOption, text, input, output, allowSpecial };
        command.SetAction(async (parse, ct) =>
        {
            string? textValue = parse.GetValue(text), inputPath = parse.GetValue(input), outputPath = parse.GetValue(output);
            if ((textValue is null) == (inputPath is null)) throw new GptSharpException("give either --text or --input (with --output)");
            if (inputPath is not null && outputPath is null) throw new GptSharpException("--input needs --output");
            if (textValue is not null && outputPath is not null) throw new GptSharpException("--output goes with --input, not --text");

            if (outputPath is not null) OutputDirectory.CheckFile(outputPath);
            var tokenizer = TokenizerSource.Load(parse.GetValue(tokenizerOption)!);
            Func<string, int[]> encode = parse.GetValue(allowSpecial) ? tokenizer.EncodeWithSpecialTokens : tokenizer.Encode;
            if (textValue is not null)
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonSerializer.Serialize(encode(textValue)));
                return 0;
            }
            int lines = TokenizeFile(inputPath!, outputPath!, encode, ct);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"tokenized {lines} lines into {outputPath}");
            return 0;
        });
        return command;
    }

    static int TokenizeFile(string inputPath, string outputPath, Func<string, int[]> encode, CancellationToken ct) =>
        JsonlFile.Transform(inputPath, outputPath, (record, where) =>
        {
            ct.ThrowIfCancellationRequested();
            if (record["text"] is not JsonValue value || !value.TryGetValue(out string? text))
                throw new GptSharpException($"{where}: missing a string \"text\" field");
            record["ids"] = new JsonArray([.. encode(text).Select(id => (JsonNode)id)]);
        });
}
