using System.CommandLine;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Tokenization;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp tokenize`: token ids for a piece of text, or for the "text" field of every line of a JSONL file.</summary>
static class TokenizeCommand
{
    static readonly JsonSerializerOptions JsonOut = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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

            var tokenizer = LoadTokenizer(parse.GetValue(tokenizerOption)!);
            Func<string, int[]> encode = parse.GetValue(allowSpecial) ? tokenizer.EncodeWithSpecialTokens : tokenizer.Encode;
            if (textValue is not null)
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonSerializer.Serialize(encode(textValue)));
                return 0;
            }
            long lines = await TokenizeFileAsync(inputPath!, outputPath!, encode, ct);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"tokenized {lines} lines into {outputPath}");
            return 0;
        });
        return command;
    }

    static BpeTokenizer LoadTokenizer(string value) =>
        string.Equals(value, "gpt2", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(value) ? BpeTokenizer.Gpt2() : BpeTokenizer.Load(value);

    /// <summary>Writes a temporary sibling of the output and renames it at the end, so a bad line leaves no output file.</summary>
    static async Task<long> TokenizeFileAsync(string inputPath, string outputPath, Func<string, int[]> encode, CancellationToken ct)
    {
        if (!File.Exists(inputPath)) throw new GptSharpException($"{inputPath}: file not found");
        string tmp = $"{Path.GetFullPath(outputPath)}.tmp-{Guid.NewGuid():N}";
        long count = 0;
        try
        {
            using (var reader = new StreamReader(inputPath, new UTF8Encoding(false, throwOnInvalidBytes: true)))
            await using (var writer = new StreamWriter(tmp, false, new UTF8Encoding(false)) { NewLine = "\n" })
            {
                int lineNumber = 0;
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    lineNumber++;
                    if (string.IsNullOrWhiteSpace(line)) continue;
                    var record = ParseRecord(line, $"{inputPath}:{lineNumber}", out string text);
                    record["ids"] = new JsonArray([.. encode(text).Select(id => (JsonNode)id)]);
                    await writer.WriteLineAsync(record.ToJsonString(JsonOut));
                    count++;
                }
            }
            File.Move(tmp, outputPath, overwrite: true);
            return count;
        }
        catch (DecoderFallbackException e)
        {
            File.Delete(tmp);
            throw new GptSharpException($"{inputPath}: not valid UTF-8", e);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    static JsonObject ParseRecord(string line, string where, out string text)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(line);
        }
        catch (JsonException e)
        {
            throw new GptSharpException($"{where}: not valid JSON ({e.Message})", e);
        }
        if (node is not JsonObject record) throw new GptSharpException($"{where}: expected a JSON object with a string \"text\" field");
        if (record["text"] is not JsonValue value || !value.TryGetValue(out string? t))
            throw new GptSharpException($"{where}: missing a string \"text\" field");
        text = t;
        return record;
    }
}
