namespace GptSharp.Inference;

/// <summary>
/// A generated token's log-probability under the model (the softmax of its raw logits, before penalties, temperature
/// or truncation — what the model itself thought), and the most likely tokens at that position, most likely first.
/// </summary>
public sealed record TokenLogprob(int Id, double Logprob, IReadOnlyList<TokenLogprob> Top);
