namespace GptSharp.Inference;

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>max_new_tokens were produced.</summary>
    Length,
    /// <summary>The model produced the end-of-text token (not included in the result).</summary>
    EndOfText,
    /// <summary>The output contained a stop sequence; the result is cut just before it.</summary>
    StopSequence,
    /// <summary>The model's context (n_positions) was full.</summary>
    ContextFull,
    /// <summary>The cancellation token fired; the result holds what was produced so far.</summary>
    Cancelled,
}

/// <summary>
/// One generated continuation. <see cref="Text"/> is cut exactly before a stop sequence; a token may straddle that
/// cut, so <see cref="Ids"/> holds only the tokens that lie wholly before it.
/// </summary>
/// <param name="Ids">The new token ids (no prompt, no end-of-text).</param>
/// <param name="Text">The decoded new text, or null when the generator has no tokenizer.</param>
/// <param name="Score">Beam search's length-penalised log-probability; null for greedy decoding and sampling.</param>
public sealed record GenerationResult(int[] Ids, string? Text, FinishReason FinishReason, double? Score = null);
