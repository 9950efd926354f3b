using GptSharp.Models;
using GptSharp.Tokenization;
namespace GptSharp.Inference;

/// <summary>
/// Decoding settings. Names and defaults follow Hugging Face's <c>generation_config.json</c> where they exist
/// (max_new_tokens, do_sample, temperature, top_k, top_p), except that sampling is on by default.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>The most tokens to generate; generation also stops at end-of-text or when the context is full.</summary>
    public int MaxNewTokens { get; init; } = 100;

    /// <summary>False: always take the most likely token (greedy), ignoring temperature, top_k and top_p.</summary>
    public bool DoSample { get; init; } = true;

    /// <summary>Divides the logits before sampling; below 1 sharpens, above 1 flattens. 0 means greedy.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Sample only among the k most likely tokens; 0 turns the filter off.</summary>
    public int TopK { get; init; } = 50;

    /// <summary>Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches p; 1 turns it off.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Seeds the sampler so the same prompt gives the same output; null picks a random seed.</summary>
    public long? Seed { get; init; }

    /// <summary>Stop (without emitting it) when the model produces the end-of-text token.</summary>
    public bool StopAtEndOfText { get; init; } = true;

    /// <summary>Reuse past keys/values (one position of work per token). Off recomputes the whole sequence each step, with the same output.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>CTRL's repetition penalty: logits of tokens already in the prompt or output are divided by it when positive
    /// and multiplied when negative, so above 1 discourages repeats. 1 turns it off.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;

    /// <summary>OpenAI's presence_penalty: subtracted once from the logit of every token the output already holds (the
    /// prompt does not count), so above 0 favours new tokens. 0 turns it off.</summary>
    public double PresencePenalty { get; init; }

    /// <summary>OpenAI's frequency_penalty: subtracted from a token's logit once for every time the output already holds
    /// it (the prompt does not count), so above 0 discourages repeating the same words. 0 turns it off.</summary>
    public double FrequencyPenalty { get; init; }

    /// <summary>OpenAI's logit_bias: added to these token ids' logits before sampling (-100 all but bans a token, 100 all
    /// but forces it). Ids must be in the model's vocabulary.</summary>
    public IReadOnlyDictionary<int, double> LogitBias { get; init; } = NoBias;

    static readonly IReadOnlyDictionary<int, double> NoBias = new Dictionary<int, double>();

    /// <summary>Min-p sampling: drop every token less likely than min_p times the most likely one (after temperature,
    /// top-k and top-p). 0 turns it off.</summary>
    public double MinP { get; init; }

    /// <summary>Never produce an n-gram of this size that already occurs in the prompt or output; 0 turns it off.</summary>
    public int NoRepeatNgramSize { get; init; }

    /// <summary>End-of-text is banned until this many new tokens have been produced.</summary>
    public int MinNewTokens { get; init; }

    /// <summary>Generation stops when the decoded output contains one of these strings; the result is cut just before it.
    /// A stop sequence may span several tokens, and tokens that end inside a UTF-8 character; with beam search a beam that
    /// reaches one is finished. Needs a tokenizer (see <see cref="TextGenerator(GptSharp.Models.Gpt, GptSharp.Tokenization.ITokenizer)"/>).</summary>
    public IReadOnlyList<string> StopSequences { get; init; } = Array.Empty<string>();

    /// <summary>Beam search with this many beams; 1 turns it off. Beam search is deterministic: it needs do_sample off
    /// (or temperature 0), and <see cref="Validate"/> refuses it combined with sampling. Repetition penalty,
    /// no-repeat n-grams, min_new_tokens and stop sequences apply to every beam.</summary>
    public int NumBeams { get; init; } = 1;

    /// <summary>Beam search ranks finished sequences by sum of log-probabilities / length^length_penalty: above 0 favours longer ones.</summary>
    public double LengthPenalty { get; init; } = 1.0;

    /// <summary>Beam search stops as soon as num_beams sequences are finished, instead of when no running beam can do better.</summary>
    public bool EarlyStopping { get; init; }

    /// <summary>How many of the best beams <see cref="TextGenerator.GenerateBeams"/> returns (at most num_beams).</summary>
    public int NumReturnSequences { get; init; } = 1;

    /// <summary>
    /// Never pick a token that would make the output invalid UTF-8 — part of a character followed by something that does
    /// not continue it, which shows as U+FFFD (<see cref="Utf8Guard"/>). Needs a generator with a byte-level BPE
    /// tokenizer; a step whose best token is valid is unchanged. Off reproduces other libraries' outputs byte for byte.
    /// </summary>
    public bool ValidUtf8 { get; init; } = true;

    /// <summary>What to do with a prompt that leaves too little of the context to generate in: an error (the default) or
    /// dropping its oldest tokens; <see cref="Inference.PromptOverflow"/> gives the exact rule.</summary>
    public PromptOverflow PromptOverflow { get; init; } = PromptOverflow.Error;

    /// <summary>
    /// Report each streamed token's log-probability (<see cref="TextDelta.Logprob"/>) with this many most likely
    /// alternatives (0–20); null reports none, and costs nothing.
    /// </summary>
    public int? Logprobs { get; init; }

    /// <summary>
    /// How many tokens of a prompt of <paramref name="promptLength"/> tokens generation starts from, in a context of
    /// <paramref name="contextSize"/> positions (see <see cref="Inference.PromptOverflow"/>); with
    /// <see cref="PromptOverflow.Error"/>, the prompt's length (checking it against the context is left to the generator).
    /// </summary>
    public int PromptTokensKept(int promptLength, int contextSize)
    {
        if (PromptOverflow == PromptOverflow.Error || promptLength + MaxNewTokens <= contextSize) return promptLength;
        int keep = Math.Max(1, Math.Max(contextSize - MaxNewTokens, contextSize / 2));
        return Math.Min(promptLength, keep);
    }

    /// <summary>True when decoding takes the argmax: sampling is off or the temperature is 0.</summary>
    public bool IsGreedy => !DoSample || Temperature == 0;

    /// <summary>
    /// <paramref name="given"/> over these options (a model's generation_config.json defaults), checked: every setting
    /// given replaces the default. Sampling: greedy when asked; with beam search (num_beams above 1, given or default)
    /// only when a sampling setting is asked for too (which <see cref="Validate"/> then refuses, saying why) — beam search
    /// does not sample; otherwise the default's do_sample.
    /// </summary>
    public GenerationOptions Override(GenerationOverrides given)
    {
        int beams = given.NumBeams ?? NumBeams;
        return (this with
        {
            MaxNewTokens = given.MaxNewTokens ?? MaxNewTokens,
            Temperature = given.Temperature ?? Temperature,
            TopK = given.TopK ?? TopK,
            TopP = given.TopP ?? TopP,
            Seed = given.Seed ?? Seed,
            DoSample = given.Greedy == true ? false : beams > 1 ? given.AsksForSampling : DoSample,
            MinNewTokens = given.MinNewTokens ?? MinNewTokens,
            RepetitionPenalty = given.RepetitionPenalty ?? RepetitionPenalty,
            PresencePenalty = given.PresencePenalty ?? PresencePenalty,
            FrequencyPenalty = given.FrequencyPenalty ?? FrequencyPenalty,
            LogitBias = given.LogitBias ?? LogitBias,
            MinP = given.MinP ?? MinP,
            NoRepeatNgramSize = given.NoRepeatNgramSize ?? NoRepeatNgramSize,
            StopSequences = given.StopSequences ?? StopSequences,
            NumBeams = beams,
            NumReturnSequences = given.NumReturnSequences ?? NumReturnSequences,
            LengthPenalty = given.LengthPenalty ?? LengthPenalty,
            PromptOverflow = given.PromptOverflow ?? PromptOverflow,
        }).Validate();
    }

    /// <summary>The most alternatives <see cref="Logprobs"/> may ask for (OpenAI's top_logprobs limit).</summary>
    public const int MaxLogprobs = 20;

    /// <summary>Throws a <see cref="GptSharpException"/> naming the first invalid option.</summary>
    public GenerationOptions Validate()
    {
        static void Need(bool ok, string what) { if (!ok) throw new GptSharpException($"invalid generation option: {what}"); }
        Need(MaxNewTokens >= 1, $"max_new_tokens must be at least 1 (got {MaxNewTokens})");
        Need(Temperature >= 0 && double.IsFinite(Temperature), $"temperature must be a finite number >= 0, where 0 means greedy (got {Temperature})");
        Need(TopK >= 0, $"top_k must be >= 0, where 0 turns it off (got {TopK})");
        Need(TopP > 0 && TopP <= 1, $"top_p must be in (0, 1], where 1 turns it off (got {TopP})");
        Need(double.IsFinite(RepetitionPenalty) && RepetitionPenalty > 0, $"repetition_penalty must be a finite number > 0, where 1 turns it off (got {RepetitionPenalty})");
        Need(double.IsFinite(PresencePenalty), $"presence_penalty must be a finite number, where 0 turns it off (got {PresencePenalty})");
        Need(double.IsFinite(FrequencyPenalty), $"frequency_penalty must be a finite number, where 0 turns it off (got {FrequencyPenalty})");
        Need(LogitBias is not null && LogitBias.All(b => b.Key >= 0 && double.IsFinite(b.Value)), "logit_bias must map token ids (>= 0) to finite numbers");
        Need(MinP >= 0 && MinP <= 1, $"min_p must be in [0, 1], where 0 turns it off (got {MinP})");
        Need(NoRepeatNgramSize >= 0, $"no_repeat_ngram_size must be >= 0, where 0 turns it off (got {NoRepeatNgramSize})");
        Need(MinNewTokens >= 0 && MinNewTokens <= MaxNewTokens, $"min_new_tokens must be in 0..max_new_tokens ({MaxNewTokens}) (got {MinNewTokens})");
        Need(StopSequences is not null && StopSequences.All(s => !string.IsNullOrEmpty(s)), "stop_sequences must be non-empty strings");
        Need(NumBeams >= 1, $"num_beams must be at least 1, where 1 turns beam search off (got {NumBeams})");
        Need(double.IsFinite(LengthPenalty), $"length_penalty must be a finite number (got {LengthPenalty})");
        Need(NumReturnSequences >= 1 && NumReturnSequences <= NumBeams, $"num_return_sequences must be in 1..num_beams ({NumBeams}) (got {NumReturnSequences})");
        Need(NumBeams == 1 || IsGreedy, $"num_beams > 1 (beam search, got {NumBeams}) is deterministic and cannot be combined with sampling: " +
                                        "set do_sample to false (--greedy) or temperature to 0, or use num_beams 1");
        Need(Logprobs is null or >= 0 and <= MaxLogprobs, $"logprobs must be null (off) or 0..{MaxLogprobs} alternatives (got {Logprobs})");
        Need(Enum.IsDefined(PromptOverflow), $"prompt_overflow must be Error or TrimStart (got {PromptOverflow})");
        return this;
    }
}
