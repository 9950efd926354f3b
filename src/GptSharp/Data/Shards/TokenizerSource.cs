using System.Security.Cryptography;
using System.Text;
using GptSharp.Tokenization;

namespace GptSharp.Data.Shards;

/// <summary>
/// Names the tokenizer a data directory is made with: a directory of Hugging Face tokenizer files, or "gpt2" for the
/// built-in GPT-2 vocabulary. meta.json records the name and a hash of the files, so training can find the same
/// tokenizer again (and notice when its files changed).
/// </summary>
public static class TokenizerSource
{
    public const string BuiltInGpt2 = "gpt2";

    static readonly string[] Files = [BpeFiles.VocabFile, BpeFiles.MergesFile, BpeFiles.ConfigFile];

    static bool IsBuiltIn(string source) => string.Equals(source, BuiltInGpt2, StringComparison.OrdinalIgnoreCase) && !Directory.Exists(source);

    public static BpeTokenizer Load(string source) => IsBuiltIn(source) ? BpeTokenizer.Gpt2() : BpeTokenizer.Load(source);

    /// <summary>What meta.json records: the full directory path and a SHA-256 over its tokenizer files, or "gpt2" without a hash.</summary>
    public static DatasetMeta.TokenizerInfo Describe(string source) =>
        IsBuiltIn(source) ? new(BuiltInGpt2, null) : new(Path.GetFullPath(source), Hash(source));

    /// <summary>
    /// The tokenizer recorded in <paramref name="meta"/>; null if none was recorded or its directory is gone.
    /// Throws when the directory's files no longer match the recorded hash: the data's ids would mean other tokens.
    /// </summary>
    public static BpeTokenizer? ForDataset(DatasetMeta meta)
    {
        if (meta.Tokenizer is not { Path: { } path } info) return null;
        if (IsBuiltIn(path)) return BpeTokenizer.Gpt2();
        if (!Directory.Exists(path)) return null;
        if (info.Sha256 is { } expected && Hash(path) != expected)
            throw new GptSharpException($"the tokenizer files in {path} changed since the data was prepared; prepare the data again");
        return BpeTokenizer.Load(path);
    }

    /// <summary>SHA-256 over the tokenizer files present (name, then contents, in a fixed order).</summary>
    static string Hash(string dir)
    {
        if (!Directory.Exists(dir)) throw new GptSharpException($"{dir}: tokenizer directory not found");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in Files)
        {
            string path = Path.Combine(dir, name);
            if (!File.Exists(path)) continue;
            sha.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
            sha.AppendData(File.ReadAllBytes(path));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
