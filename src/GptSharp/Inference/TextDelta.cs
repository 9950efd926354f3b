namespace GptSharp.Inference;

/// <summary>
/// One step of <see cref="TextGenerator.StreamTextAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>:
/// the text that became safe to show and the tokens generated since the previous delta. Text may lag behind its tokens
/// (held back while it ends inside a UTF-8 character or could be the start of a stop sequence); it never holds half a
/// character, a special token, or anything from a stop sequence on. Concatenated, the deltas' text is the generated
/// text, and their ids every token the model produced (the one completing a stop sequence included; end tokens not).
/// </summary>
/// <param name="Text">The text to show now; may be empty.</param>
/// <param name="Ids">The tokens generated in this step (one, or none on the last delta unless a stop sequence ended generation).</param>
/// <param name="PromptTokensKept">How many prompt tokens generation started from: fewer than the prompt's when
/// <see cref="PromptOverflow.TrimStart"/> dropped the oldest. The same on every delta.</param>
public sealed record TextDelta(string Text, IReadOnlyList<int> Ids, int PromptTokensKept)
{
    /// <summary>Why generation ended: set on the last delta only, null before.</summary>
    public FinishReason? FinishReason { get; init; }
    /// <summary>The token's log-probability and alternatives, when <see cref="GenerationOptions.Logprobs"/> asked for them.</summary>
    public TokenLogprob? Logprob { get; init; }
}
