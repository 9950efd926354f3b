using GptSharp.IO;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GptSharp.Tokenization;

/// <summary>
/// Reads and writes the Hugging Face GPT-2 tokenizer files: vocab.json (token → id), merges.txt (merge rules in priority
/// order after a "#version: 0.2" header) and tokenizer_config.json (added special tokens). Every problem is reported as a
/// <see cref="GptSharpException"/> naming the file and, where there is one, the line.
/// </summary>
static class BpeFiles
{
    public const string VocabFile = "vocab.json", MergesFile = "merges.txt", ConfigFile = "tokenizer_config.json";
    const string MergesHeader = "#version: 0.2";

    public static BpeVocabulary Read(string dir)
    {
        if (!Directory.Exists(dir)) throw new GptSharpException($"{dir}: tokenizer directory not found");
        string vocabPath = Path.Combine(dir, VocabFile), mergesPath = Path.Combine(dir, MergesFile), configPath = Path.Combine(dir, ConfigFile);
        var vocab = ReadVocab(ReadAll(vocabPath), vocabPath);
        var merges = ReadMerges(ReadAll(mergesPath), mergesPath);
        JsonObject? config = File.Exists(configPath) ? ReadConfig(ReadAll(configPath), configPath) : null;
        return Validate(vocab, merges, config, [], vocabPath, mergesPath, configPath);
    }

    static byte[] ReadAll(string path)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: file not found");
        return File.ReadAllBytes(path);
    }

    /// <summary>Parses vocab.json: one JSON object of token → non-negative integer id.</summary>
    public static Dictionary<string, int> ReadVocab(ReadOnlySpan<byte> json, string path)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new GptSharpException($"{path}: expected a JSON object mapping tokens to ids");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                string token = reader.GetString()!;
                reader.Read();
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int id) || id < 0)
                    throw new GptSharpException($"{path}: token {Quote(token)} must map to a non-negative integer id");
                if (!vocab.TryAdd(token, id)) throw new GptSharpException($"{path}: token {Quote(token)} appears twice");
            }
            if (reader.Read()) throw new GptSharpException($"{path}: unexpected content after the JSON object");
        }
        catch (JsonException e)
        {
            throw new GptSharpException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
        if (vocab.Count == 0) throw new GptSharpException($"{path}: the vocabulary is empty");
        return vocab;
    }

    /// <summary>Parses merges.txt into (left, right, line number) rules, in rank order.</summary>
    public static List<(string Left, string Right, int Line)> ReadMerges(byte[] bytes, string path)
    {
        string text = Utf8Text.Decode(bytes, path);
        var merges = new List<(string, string, int)>();
        int lineNumber = 0;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var line = rawLine;
            if (lineNumber == 1 && line.StartsWith("\uFEFF")) line = line[1..];
            if (lineNumber == 1 && line.StartsWith("#version")) continue;
            if (line.IsWhiteSpace()) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line[(space + 1)..].Contains(' '))
                throw new GptSharpException($"{path}: line {lineNumber} is malformed: expected two tokens separated by one space, got {Quote(line.ToString())}");
            merges.Add((line[..space].ToString(), line[(space + 1)..].ToString(), lineNumber));
        }
        return merges;
    }

    public static JsonObject ReadConfig(byte[] json, string path)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new GptSharpException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new GptSharpException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks that the files agree and splits special tokens from ordinary ones. Special tokens are the config's
    /// added_tokens_decoder, <paramref name="extraSpecial"/>, and &lt;|endoftext|&gt; when vocab.json has it.
    /// </summary>
    public static BpeVocabulary Validate(Dictionary<string, int> vocab, List<(string Left, string Right, int Line)> merges, JsonObject? config,
        IReadOnlyList<(string Content, int Id)> extraSpecial, string vocabPath, string mergesPath, string configPath)
    {
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        void AddSpecial(string content, int id, string source)
        {
            if (special.TryGetValue(content, out int existing) && existing != id)
                throw new GptSharpException($"{source}: special token {Quote(content)} has id {id} but also id {existing}");
            if (vocab.TryGetValue(content, out int vocabId) && vocabId != id)
                throw new GptSharpException($"{source}: special token {Quote(content)} has id {id} but vocab.json gives it id {vocabId}");
            special[content] = id;
        }

        string endOfText = SpecialTokens.EndOfText;
        if (config is not null)
        {
            try
            {
                if (config["added_tokens_decoder"] is JsonObject added)
                    foreach (var (key, value) in added)
                    {
                        if (!int.TryParse(key, out int id) || id < 0)
                            throw new GptSharpException($"{configPath}: added_tokens_decoder key {Quote(key)} is not a token id");
                        string content = value?["content"]?.GetValue<string>()
                            ?? throw new GptSharpException($"{configPath}: added_tokens_decoder[{key}] has no \"content\" string");
                        AddSpecial(content, id, configPath);
                    }
                if (config["eos_token"] is JsonNode eos)
                    endOfText = (eos is JsonObject o ? o["content"] : eos)?.GetValue<string>() ?? endOfText;
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new GptSharpException($"{configPath}: unexpected value type ({e.Message})", e);
            }
        }
        foreach (var (content, id) in extraSpecial) AddSpecial(content, id, "built-in special tokens");
        if (vocab.TryGetValue(SpecialTokens.EndOfText, out int eotId)) AddSpecial(SpecialTokens.EndOfText, eotId, vocabPath);
        if (!special.ContainsKey(endOfText))
        {
            if (!vocab.TryGetValue(endOfText, out int eosId))
                throw new GptSharpException($"{vocabPath}: the end-of-text token {Quote(endOfText)} is in neither vocab.json nor tokenizer_config.json");
            special[endOfText] = eosId;
        }

        // Ordinary tokens: everything else in vocab.json. Each must be byte-level and have its own id.
        var tokens = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        var owner = new Dictionary<int, string>(vocab.Count + special.Count);
        foreach (var (content, id) in special)
            if (!owner.TryAdd(id, content)) throw new GptSharpException($"{configPath}: special tokens {Quote(owner[id])} and {Quote(content)} share id {id}");
        foreach (var (token, id) in vocab)
        {
            if (special.ContainsKey(token)) continue;
            if (ByteLevel.TryDecode(token) is null)
                throw new GptSharpException($"{vocabPath}: token {Quote(token)} (id {id}) is not a byte-level BPE token (GPT-2 style vocabularies only)");
            if (!owner.TryAdd(id, token)) throw new GptSharpException($"{vocabPath}: tokens {Quote(owner[id])} and {Quote(token)} share id {id}");
            tokens.Add(token, id);
        }
        for (int b = 0; b < 256; b++)
            if (!tokens.ContainsKey(ByteLevel.ByteToChar[b].ToString()))
                throw new GptSharpException($"{vocabPath}: missing the single-byte token {Quote(ByteLevel.ByteToChar[b].ToString())} for byte 0x{b:X2}; every byte needs one");

        var seen = new Dictionary<(string, string), int>();
        var rules = new List<(string, string)>(merges.Count);
        foreach (var (left, right, line) in merges)
        {
            if (!tokens.ContainsKey(left)) throw new GptSharpException($"{mergesPath}: line {line}: token {Quote(left)} is not in vocab.json");
            if (!tokens.ContainsKey(right)) throw new GptSharpException($"{mergesPath}: line {line}: token {Quote(right)} is not in vocab.json");
            if (!tokens.ContainsKey(left + right))
                throw new GptSharpException($"{mergesPath}: line {line}: the merged token {Quote(left + right)} is not in vocab.json");
            if (!seen.TryAdd((left, right), line)) throw new GptSharpException($"{mergesPath}: line {line} repeats the merge on line {seen[(left, right)]}");
            rules.Add((left, right));
        }
        var specialList = special.OrderBy(kv => kv.Value).Select(kv => (kv.Key, kv.Value)).ToList();
        return new BpeVocabulary(tokens, rules, specialList, endOfText);
    }

    /// <summary>Writes the three files into <paramref name="dir"/> (created if needed), each atomically.</summary>
    public static void Write(string dir, BpeVocabulary vocabulary)
    {
        Directory.CreateDirectory(dir);
        var writerOptions = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        // vocab.json holds the ordinary tokens and the end-of-text token, as GPT-2's does; the other special tokens
        // live in tokenizer_config.json's added_tokens_decoder, as Hugging Face writes added tokens.
        AtomicFile.Write(Path.Combine(dir, VocabFile), stream =>
        {
            using var w = new Utf8JsonWriter(stream, writerOptions);
            w.WriteStartObject();
            var entries = vocabulary.Tokens.Select(kv => (kv.Key, kv.Value))
                .Concat(vocabulary.SpecialTokens.Where(s => s.Content == vocabulary.EndOfText));
            foreach (var (token, id) in entries.OrderBy(e => e.Item2)) w.WriteNumber(token, id);
            w.WriteEndObject();
        });

        AtomicFile.Write(Path.Combine(dir, MergesFile), stream =>
        {
            using var w = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
            w.WriteLine(MergesHeader);
            foreach (var (left, right) in vocabulary.Merges) { w.Write(left); w.Write(' '); w.WriteLine(right); }
        });

        var added = new JsonObject();
        foreach (var (content, id) in vocabulary.SpecialTokens)
            added[id.ToString()] = new JsonObject
            {
                ["content"] = content, ["lstrip"] = false, ["normalized"] = false, ["rstrip"] = false, ["single_word"] = false, ["special"] = true,
            };
        var config = new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_prefix_space"] = false,
            ["added_tokens_decoder"] = added,
            ["additional_special_tokens"] = new JsonArray([.. vocabulary.SpecialTokens.Where(s => s.Content != vocabulary.EndOfText).Select(s => (JsonNode)s.Content)]),
            ["bos_token"] = vocabulary.EndOfText,
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = vocabulary.EndOfText,
            ["errors"] = "replace",
            ["tokenizer_class"] = "GPT2Tokenizer",
            ["unk_token"] = vocabulary.EndOfText,
        };
        AtomicFile.Write(Path.Combine(dir, ConfigFile), stream =>
        {
            using var w = new Utf8JsonWriter(stream, writerOptions);
            config.WriteTo(w);
        });
    }

    static string Quote(string s) => JsonSerializer.Serialize(s);
}
