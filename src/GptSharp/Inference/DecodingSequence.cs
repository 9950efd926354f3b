using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Inference;

/// <summary>One prompt being continued, with the watch over its text (stop sequences, streamed text) when it has one.</summary>
internal sealed class DecodingSequence(int[] prompt, StopSequences? watch)
{
    public List<int> Tokens { get; } = [.. prompt];
    public int PromptLength { get; } = prompt.Length;
    public List<int> NewIds { get; } = [];
    public FinishReason? Finish { get; set; }
    public int Utf8State { get; set; }
    public StopSequences? Watch { get; } = watch;
    /// <summary>The text the last new token made safe to show (with a watch).</summary>
    public string Piece { get; set; } = "";

    public GenerationResult Result(ITokenizer? tokenizer)
    {
        var reason = Finish ?? FinishReason.Length;
        if (tokenizer is null) return new([.. NewIds], null, reason) { PromptTokensKept = PromptLength };
        if (Watch is not { Cut: >= 0 and int cut }) return new([.. NewIds], tokenizer.DecodeText(NewIds), reason) { PromptTokensKept = PromptLength };
        var (ids, text) = StopSequences.CutBefore(tokenizer, NewIds, cut);
        return new(ids, text, reason) { PromptTokensKept = PromptLength };
    }

    /// <summary>
    /// The last delta of a text stream, once <see cref="Finish"/> is set: a stop sequence was completed by a token that
    /// was not shown, so its text before the cut is the last piece; otherwise whatever the watch still held back.
    /// </summary>
    public TextDelta LastDelta(int promptTokensKept) => Finish == FinishReason.StopSequence
        ? new TextDelta(Piece, [NewIds[^1]], promptTokensKept) { FinishReason = Finish }
        : new TextDelta(Watch!.Flush(), [], promptTokensKept) { FinishReason = Finish };

    /// <summary>
    /// The next token from this sequence's last logits ([vocab]): the logits processors (repetition penalty, banned
    /// n-grams, min_new_tokens), the UTF-8 guard, then sampling with the sequence's own generator.
    /// </summary>
    public int Choose(Tensor logits, GenerationOptions o, IReadOnlySet<int> endIds, Utf8Guard? guard, torch.Generator rng)
    {
        // Greedy: the argmax read in place, unless the logits processors or the guard would change or ban it (banning
        // other tokens leaves the best one the best, so this is the same token).
        if (!(o.IsGreedy && Sampling.TryArgmax(logits, out int id) && LogitsProcessing.KeepsBest(id, Tokens, NewIds.Count, o, endIds)
              && (guard is null || guard.Allows(Utf8State, id))))
        {
            var adjusted = LogitsProcessing.Apply(logits, Tokens, NewIds.Count, o, endIds);
            if (guard is not null) adjusted = guard.Apply(adjusted, Utf8State);
            id = (int)Sampling.NextToken(adjusted, o, rng);
        }
        LastLogprob = o.Logprobs is { } top ? Logprob(logits, id, top) : null;
        return id;
    }

    /// <summary>The last chosen token's log-probability, when the options ask for it.</summary>
    public TokenLogprob? LastLogprob { get; private set; }

    static TokenLogprob Logprob(Tensor logits, int id, int top)
    {
        using var scope = NewDisposeScope();
        var lp = logits.to(ScalarType.Float32).log_softmax(0);
        var alternatives = new List<TokenLogprob>(top);
        if (top > 0)
        {
            var (values, indices) = lp.topk(top);
            float[] v = values.data<float>().ToArray();
            long[] ix = indices.data<long>().ToArray();
            for (int i = 0; i < v.Length; i++) alternatives.Add(new TokenLogprob((int)ix[i], v[i], []));
        }
        return new TokenLogprob(id, lp[id].item<float>(), alternatives);
    }

    /// <summary>
    /// Takes the chosen token: it either ends the sequence (an end token, a completed stop sequence; <see cref="Finish"/>
    /// is set) or is new output, when this returns true (<see cref="Piece"/> then holds the text it made safe to show).
    /// </summary>
    public bool Accept(int id, GenerationOptions o, IReadOnlySet<int> endIds, Utf8Guard? guard)
    {
        Tokens.Add(id);
        if (guard is not null) Utf8State = guard.Next(Utf8State, id);
        if (o.StopAtEndOfText && endIds.Contains(id)) { Finish = FinishReason.EndOfText; return false; }
        NewIds.Add(id);
        if (Watch is { } watch)
        {
            Piece = watch.Push(id);
            if (watch.Stopped) { Finish = FinishReason.StopSequence; return false; }
        }
        return true;
    }
}
