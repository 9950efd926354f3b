namespace GptSharp.Inference;

/// <summary>Why generation ended. The comments give the name a wire protocol (OpenAI's finish_reason) would use.</summary>
public enum FinishReason
{
    /// <summary>"length": max_new_tokens were produced.</summary>
    Length,
    /// <summary>"stop": the model produced an end token (not included in the result).</summary>
    EndOfText,
    /// <summary>"stop_sequence": the output contained a stop sequence; the result is cut just before it.</summary>
    StopSequence,
    /// <summary>"length": the model's context (n_positions) was full.</summary>
    ContextFull,
    /// <summary>"cancelled": the cancellation token fired; the result holds what was produced so far.</summary>
    Cancelled,
    /// <summary>"content_filter": a content filter over the output ended it (never set by the generator itself).</summary>
    ContentFilter,
}

/// <summary>
/// One generated continuation. <see cref="Text"/> is cut exactly before a stop sequence; a token may straddle that
/// cut, so <see cref="Ids"/> holds only the tokens that lie wholly before it.
/// </summary>
/// <param name="Ids">The new token ids (no prompt, no end-of-text).</param>
/// <param name="Text">The decoded new text, or null when the generator has no tokenizer.</param>
/// <param name="Score">Beam search's length-penalised log-probability; null for greedy decoding and sampling.</param>
public sealed record GenerationResult(int[] Ids, string? Text, FinishReason FinishReason, double? Score = null)
{
    /// <summary>How many prompt tokens generation started from (fewer than the prompt's when <see cref="PromptOverflow.TrimStart"/> dropped the oldest).</summary>
    public int PromptTokensKept { get; init; }
}
