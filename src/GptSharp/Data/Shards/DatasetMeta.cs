using System.Text.Json;
using System.Text.Json.Serialization;
using GptSharp.IO;

namespace GptSharp.Data.Shards;

/// <summary>
/// <c>meta.json</c> of a prepared data directory: what the shards hold and how they were made.
/// Shard files sit next to it, named <c>train-00000.bin</c>, <c>val-00000.bin</c>, … (see <see cref="TokenShard"/>).
/// </summary>
public sealed record DatasetMeta
{
    public const string FileName = "meta.json";
    public const string CurrentFormat = "gptsharp-token-shards";

    public string Format { get; init; } = CurrentFormat;
    public int Version { get; init; } = TokenShard.FormatVersion;
    public required int VocabSize { get; init; }
    public required int EndOfTextId { get; init; }
    /// <summary>"uint16" or "uint32".</summary>
    public required string Dtype { get; init; }
    public required double ValFraction { get; init; }
    public required string DocumentBoundary { get; init; }
    public TokenizerInfo? Tokenizer { get; init; }
    public required SplitInfo Train { get; init; }
    public required SplitInfo Val { get; init; }
    public IReadOnlyList<InputInfo> Inputs { get; init; } = [];
    public DateTime CreatedUtc { get; init; }

    public sealed record SplitInfo(long Tokens, long Documents, IReadOnlyList<string> Shards);
    /// <summary>The tokenizer's directory (or "gpt2") and a SHA-256 over its files, to tell tokenizers apart.</summary>
    public sealed record TokenizerInfo(string Path, string? Sha256);
    public sealed record InputInfo(string Path, long Bytes);

    public SplitInfo Split(string name) => name switch
    {
        "train" => Train,
        "val" => Val,
        _ => throw new ArgumentException($"unknown split '{name}' (expected train or val)", nameof(name)),
    };

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static DatasetMeta Read(string dataDir)
    {
        string path = Path.Combine(dataDir, FileName);
        if (!File.Exists(path))
            throw new GptSharpException($"{path}: not found; is '{dataDir}' a data directory made by `gptsharp data prepare`?");
        DatasetMeta? meta;
        try { meta = JsonSerializer.Deserialize<DatasetMeta>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new GptSharpException($"{path}: invalid dataset metadata ({e.Message})"); }
        if (meta is null || meta.Format != CurrentFormat) throw new GptSharpException($"{path}: not a {CurrentFormat} metadata file");
        if (meta.Version != TokenShard.FormatVersion)
            throw new GptSharpException($"{path}: format version {meta.Version} is not supported (expected {TokenShard.FormatVersion})");
        return meta;
    }

    public void Write(string dataDir) =>
        AtomicFile.WriteAllText(Path.Combine(dataDir, FileName), JsonSerializer.Serialize(this, Json) + "\n");
}
