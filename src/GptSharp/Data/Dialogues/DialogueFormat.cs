namespace GptSharp.Data.Dialogues;

/// <summary>
/// The syntax of a dialogue file. Each JSON record is either a pair <c>{"input", "output", "system"?}</c> or a
/// multi-turn <c>{"messages": [{"role", "content"}, …]}</c>, told apart by its keys, in both JSON syntaxes.
/// </summary>
public enum DialogueFormat
{
    /// <summary>Decided from the first non-blank character: '[' JSON array, '{' JSON lines, '&lt;' transcript.</summary>
    Auto,
    /// <summary>One JSON array of records (may span many lines).</summary>
    JsonArray,
    /// <summary>One JSON record per line (JSONL); blank lines are skipped.</summary>
    JsonLines,
    /// <summary>Plain text with &lt;user&gt; / &lt;bot&gt; (and optional &lt;system&gt;) line markers; see <see cref="DialogueReader"/>.</summary>
    Transcript,
}
