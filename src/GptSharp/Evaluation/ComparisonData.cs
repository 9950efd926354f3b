using GptSharp.Data.Dialogues;
using GptSharp.IO;
using GptSharp.Tokenization;

namespace GptSharp.Evaluation;

/// <summary>
/// What every model of a comparison is measured on: held-out dialogues (loss on the assistant's tokens and scored
/// replies) or plain text (loss on every token). Read and checked once, before any model loads.
/// </summary>
public sealed class ComparisonData
{
    ComparisonData(string path, string? text, IReadOnlyList<Conversation>? conversations) => (Path, Text, Conversations) = (path, text, conversations);

    public string Path { get; }
    /// <summary>The plain text, or null for dialogues.</summary>
    public string? Text { get; }
    /// <summary>The conversations (after the limit), or null for plain text.</summary>
    public IReadOnlyList<Conversation>? Conversations { get; }

    /// <summary>Reads <paramref name="path"/> as <see cref="ModelComparisonOptions.Text"/> says; errors name the file (and line).</summary>
    public static ComparisonData Load(string path, ModelComparisonOptions options)
    {
        if (options.Text)
        {
            string text = Utf8Text.ReadFile(path);
            if (text.Trim().Length == 0) throw new GptSharpException($"{path}: no text to evaluate");
            return new ComparisonData(path, text, null);
        }
        var conversations = DialogueReader.Read(path);
        if (conversations.Count == 0) throw new GptSharpException($"{path}: no conversations to evaluate");
        if (options.Limit is { } n) conversations = conversations.Take(n).ToList();
        return new ComparisonData(path, null, conversations);
    }
}
