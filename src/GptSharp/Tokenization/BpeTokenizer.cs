using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using MlBpeTokenizer = Microsoft.ML.Tokenizers.BpeTokenizer;

namespace GptSharp.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE tokenizer, read from Hugging Face files (vocab.json, merges.txt, tokenizer_config.json).
/// Encoding is Microsoft.ML.Tokenizers' BPE in byte-level mode with GPT-2's pre-tokenizer regex, which gives exactly
/// tiktoken's ids; special tokens are handled here so that plain text can never produce them.
/// Instances are immutable and safe to share between threads.
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    readonly BpeVocabulary vocabulary;
    readonly MlBpeTokenizer model;
    readonly Dictionary<string, int> specialIds;
    readonly byte[]?[] idToBytes;
    readonly string?[] idToToken;
    readonly Regex specialSplitter;

    internal BpeTokenizer(BpeVocabulary vocabulary)
    {
        this.vocabulary = vocabulary;
        model = MlBpeTokenizer.Create(new BpeOptions(vocabulary.Tokens)
        {
            Merges = vocabulary.Merges.Select(m => $"{m.Left} {m.Right}"),
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(ByteLevel.PreTokenizer(), specialTokens: null),
        });

        specialIds = vocabulary.SpecialTokens.ToDictionary(s => s.Content, s => s.Id, StringComparer.Ordinal);
        VocabSize = 1 + Math.Max(vocabulary.Tokens.Values.Max(), vocabulary.SpecialTokens.Count == 0 ? 0 : vocabulary.SpecialTokens.Max(s => s.Id));
        idToBytes = new byte[VocabSize][];
        idToToken = new string[VocabSize];
        foreach (var (token, id) in vocabulary.Tokens) { idToBytes[id] = ByteLevel.TryDecode(token); idToToken[id] = token; }
        foreach (var (content, id) in vocabulary.SpecialTokens) { idToBytes[id] = Encoding.UTF8.GetBytes(content); idToToken[id] = content; }
        EndOfTextId = specialIds[vocabulary.EndOfText];
        SpecialTokenNames = [.. vocabulary.SpecialTokens.Select(s => s.Content)];
        // Longest first, so that a special token that is a prefix of another never wins.
        specialSplitter = new Regex(string.Join('|', SpecialTokenNames.OrderByDescending(s => s.Length).Select(Regex.Escape)), RegexOptions.CultureInvariant);
    }

    /// <summary>
    /// Whether ordinary text gets the same ids from both: the same merges and the same id for every non-special token.
    /// Added special tokens (chat roles) may differ; they never come from ordinary text.
    /// </summary>
    public bool EncodesTextLike(BpeTokenizer other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (!Merges.SequenceEqual(other.Merges)) return false;
        var mine = vocabulary.Tokens.Where(t => !specialIds.ContainsKey(t.Key)).ToList();
        var theirs = other.vocabulary.Tokens.Where(t => !other.specialIds.ContainsKey(t.Key)).ToList();
        return mine.Count == theirs.Count && mine.All(t => other.vocabulary.Tokens.TryGetValue(t.Key, out int id) && id == t.Value);
    }

    /// <summary>Loads vocab.json, merges.txt and (optional) tokenizer_config.json from <paramref name="dir"/>.</summary>
    public static BpeTokenizer Load(string dir) => new(BpeFiles.Read(dir));

    static readonly Lazy<BpeTokenizer> gpt2 = new(LoadGpt2);

    /// <summary>
    /// OpenAI's GPT-2 vocabulary (embedded in the library) with the chat role tokens added after &lt;|endoftext|&gt; (50256):
    /// &lt;|system|&gt; 50257, &lt;|user|&gt; 50258, &lt;|assistant|&gt; 50259, &lt;|end|&gt; 50260. Parsed once and shared.
    /// </summary>
    public static BpeTokenizer Gpt2() => gpt2.Value;

    static BpeTokenizer LoadGpt2()
    {
        static byte[] Resource(string name)
        {
            using var stream = typeof(BpeTokenizer).Assembly.GetManifestResourceStream($"GptSharp.Tokenization.gpt2.{name}")
                ?? throw new InvalidOperationException($"embedded resource gpt2/{name} is missing from the GptSharp assembly");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
        const string vocabName = "embedded gpt2/vocab.json", mergesName = "embedded gpt2/merges.txt";
        var vocab = BpeFiles.ReadVocab(Resource(BpeFiles.VocabFile), vocabName);
        var merges = BpeFiles.ReadMerges(Resource(BpeFiles.MergesFile), mergesName);
        int eot = vocab[SpecialTokens.EndOfText];
        var roles = SpecialTokens.ChatRoles.Select((name, i) => (name, eot + 1 + i)).ToList();
        return new BpeTokenizer(BpeFiles.Validate(vocab, merges, null, roles, vocabName, mergesName, "gpt2"));
    }

    /// <summary>Writes vocab.json, merges.txt and tokenizer_config.json into <paramref name="dir"/>, each atomically.</summary>
    public void Save(string dir) => BpeFiles.Write(dir, vocabulary);

    /// <summary>Number of ids, special tokens included (one more than the largest id).</summary>
    public int VocabSize { get; }

    public int EndOfTextId { get; }

    /// <summary>The special tokens, in id order.</summary>
    public IReadOnlyList<string> SpecialTokenNames { get; }

    /// <summary>The merge rules in priority order (rank 0 first).</summary>
    public IReadOnlyList<(string Left, string Right)> Merges => vocabulary.Merges;

    /// <summary>The id of a token as written in vocab.json (byte-level form, e.g. "Ġthe") or of a special token.</summary>
    public int? TokenToId(string token) =>
        specialIds.TryGetValue(token, out int id) || vocabulary.Tokens.TryGetValue(token, out id) ? id : null;

    /// <summary>The token string for an id, as written in vocab.json (byte-level form) or the special token itself.</summary>
    public string IdToToken(int id) => (uint)id < (uint)idToToken.Length && idToToken[id] is { } t ? t : throw UnknownId(id);

    /// <summary>The token for an id, or null for an id the vocabulary leaves unused (a gap, or past its end).</summary>
    public string? TryIdToToken(int id) => (uint)id < (uint)idToToken.Length ? idToToken[id] : null;

    public bool IsSpecial(int id) => (uint)id < (uint)idToToken.Length && idToToken[id] is { } t && specialIds.ContainsKey(t);

    /// <summary>Encodes ordinary text: special-token strings inside it are plain text (<c>&lt;|endoftext|&gt;</c> → 27, 91, 437, …).</summary>
    public int[] Encode(string text) => text.Length == 0 ? [] : [.. model.EncodeToIds(text)];

    /// <summary>Encodes text in which special-token strings stand for themselves: the text is split at them first.</summary>
    public int[] EncodeWithSpecialTokens(string text)
    {
        var ids = new List<int>();
        int start = 0;
        foreach (var match in specialSplitter.EnumerateMatches(text))
        {
            if (match.Index > start) ids.AddRange(model.EncodeToIds(text.AsSpan(start, match.Index - start)));
            ids.Add(specialIds[text.Substring(match.Index, match.Length)]);
            start = match.Index + match.Length;
        }
        if (start < text.Length) ids.AddRange(model.EncodeToIds(text.AsSpan(start)));
        return [.. ids];
    }

    /// <summary>The bytes the ids stand for. A single id may be part of a UTF-8 character.</summary>
    public byte[] DecodeToBytes(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids) bytes.AddRange(TokenBytes(id));
        return [.. bytes];
    }

    /// <summary>The text the ids stand for; bytes that are not valid UTF-8 become U+FFFD.</summary>
    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString(DecodeToBytes(ids));

    /// <summary>A decoder for streaming generation: feed ids one at a time, get back the text each one completes.
    /// <paramref name="skipSpecialTokens"/>: special tokens give no text (as <see cref="TokenizerText.DecodeText"/>), for replies.</summary>
    public Utf8StreamDecoder CreateStreamDecoder(bool skipSpecialTokens = false) => new(this, skipSpecialTokens);

    internal byte[] TokenBytes(int id) =>
        (uint)id < (uint)idToBytes.Length && idToBytes[id] is { } b ? b : throw UnknownId(id);

    GptSharpException UnknownId(int id) => new($"token id {id} is not in the vocabulary (size {VocabSize})");
}
