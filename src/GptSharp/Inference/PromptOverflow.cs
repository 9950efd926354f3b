namespace GptSharp.Inference;

/// <summary>What generation does with a prompt that leaves too little of the model's context (n_positions) to generate in.</summary>
public enum PromptOverflow
{
    /// <summary>
    /// A prompt longer than the context is an error (a <see cref="GptSharpException"/> naming both lengths). A prompt
    /// that fits is kept whole, and generation ends with <see cref="FinishReason.ContextFull"/> when the context fills up.
    /// </summary>
    Error,

    /// <summary>
    /// When the prompt and max_new_tokens do not both fit in the context, the oldest prompt tokens are dropped (like
    /// Hugging Face's "hole" strategy). With C the context and N max_new_tokens, a prompt of P &gt; C - N tokens keeps its
    /// last max(C - N, C / 2) tokens (at least 1, never more than P): room for all N new tokens when that still keeps at
    /// least half the context, otherwise half the context (and generation may end with
    /// <see cref="FinishReason.ContextFull"/>). At least one position is always left to generate in.
    /// </summary>
    TrimStart,
}
