namespace GptSharp.Tokenization;

/// <summary>
/// The special tokens GptSharp models know. <c>&lt;|endoftext|&gt;</c> is GPT-2's own (document separator, BOS and EOS);
/// the role tokens mark chat turns. Plain text never encodes to them: only <see cref="BpeTokenizer.EncodeWithSpecialTokens"/>
/// or code that inserts their ids does.
/// </summary>
public static class SpecialTokens
{
    public const string EndOfText = "<|endoftext|>";
    public const string System = "<|system|>";
    public const string User = "<|user|>";
    public const string Assistant = "<|assistant|>";
    public const string End = "<|end|>";

    /// <summary>The chat role markers, in the order their ids follow <see cref="EndOfText"/>.</summary>
    public static IReadOnlyList<string> ChatRoles { get; } = [System, User, Assistant, End];

    /// <summary>Every special token, <see cref="EndOfText"/> first.</summary>
    public static IReadOnlyList<string> All { get; } = [EndOfText, System, User, Assistant, End];
}
