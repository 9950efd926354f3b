using System.Text.Json;
using System.Text.Json.Serialization;
using GptSharp.IO;

namespace GptSharp.Training.Advisors;

/// <summary>
/// A fold's result as a file in its run directory, written atomically: how a fold run in another process hands its
/// result back. Values round-trip exactly (a diverged run's NaN included), so a fold reads the same either way.
/// </summary>
public static class FoldResultFile
{
    public const string Name = "cv-fold.json";

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string PathIn(string foldDir) => Path.Combine(foldDir, Name);

    public static void Write(string foldDir, FoldResult result) => AtomicFile.WriteAllText(PathIn(foldDir), JsonSerializer.Serialize(result, Json) + "\n");

    /// <summary>The result a fold run left in <paramref name="foldDir"/>; an error naming the file when there is none or it is not one.</summary>
    public static FoldResult Read(string foldDir)
    {
        string path = PathIn(foldDir);
        if (!File.Exists(path)) throw new GptSharpException($"{path}: the fold's run left no result");
        try
        {
            return JsonSerializer.Deserialize<FoldResult>(File.ReadAllText(path), Json) ?? throw new GptSharpException($"{path}: not a fold result");
        }
        catch (JsonException e) { throw new GptSharpException($"{path}: not a fold result ({e.Message})"); }
    }
}
