using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;
using GptSharp.Data.Dialogues;

namespace GptSharp.Evaluation;

/// <summary>
/// Scores a chat model on held-out conversations: loss, perplexity and next-token accuracy on the assistant's tokens
/// (teacher forcing), then the final reply of each conversation generated greedily from the turns before it and
/// compared with the reference (exact match, token F1, BLEU).
/// </summary>
public sealed class DialogueEvaluator(Gpt model, BpeTokenizer tokenizer)
{
    readonly ChatTemplate _template = new(tokenizer);

    public int MaxNewTokens { get; init; } = 128;
    /// <summary>More ids that end a reply (a model directory's eos_token_id); &lt;|end|&gt; and &lt;|endoftext|&gt; always do.</summary>
    public IReadOnlyList<int> EndTokenIds { get; init; } = [];
    /// <summary>How many prediction/reference pairs to keep in the report.</summary>
    public int SampleCount { get; init; } = 5;

    public EvaluationReport Evaluate(IReadOnlyList<Conversation> conversations, string? dataset = null, IProgress<int>? progress = null,
        CancellationToken ct = default)
    {
        if (conversations.Count == 0) throw new GptSharpException($"{dataset ?? "the dataset"}: no conversations to evaluate");
        int blockSize = model.Config.BlockSize;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            // Teacher-forced loss and accuracy over assistant tokens.
            var built = SftDatasetBuilder.Build(conversations, _template, blockSize);
            var examples = built.Examples;
            var notes = new List<string>();
            if (built.Truncation is { Any: true } truncation) notes.Add($"{truncation} (loss and token accuracy cover what is left)");
            double lossSum = 0;
            var accuracy = new TokenAccuracy(0, 0);
            using (no_grad())
            {
                foreach (var e in examples)
                {
                    ct.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var ids = tensor(e.Ids.Select(i => (long)i).ToArray(), device: model.Device).unsqueeze(0);
                    var targets = ids[.., 1..].clone();
                    var mask = tensor(e.LossMask[1..], device: model.Device).unsqueeze(0);
                    targets.masked_fill_(mask.logical_not(), -100);
                    var logits = model.Forward(ids[.., ..^1]);
                    var tokenAccuracy = NextTokenAccuracy.Compute(logits, targets, mask);
                    lossSum += Gpt.Loss(logits, targets).item<float>() * tokenAccuracy.Total;
                    accuracy += tokenAccuracy;
                }
            }
            double? loss = accuracy.Total > 0 ? lossSum / accuracy.Total : null;

            // Greedy replies: stop at the end-of-turn token (or any other end token).
            var generator = new TextGenerator(model, tokenizer, _template.EndId, EndTokenIds);
            // Keep the newest turns: generation drops the oldest prompt tokens so the reply has room, keeping at least half the context.
            var options = new GenerationOptions { DoSample = false, MaxNewTokens = MaxNewTokens, PromptOverflow = PromptOverflow.TrimStart };
            var predictions = new List<string>();
            var references = new List<string>();
            var inputs = new List<string>();
            int trimmed = 0, keptAtMost = 0;
            for (int i = 0; i < conversations.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                var messages = conversations[i].Messages;
                int last = messages.Count - 1; // readers guarantee a final assistant turn
                var prompt = _template.RenderPrompt(messages.Take(last));
                var reply = generator.Complete(prompt, options, ct);
                if (reply.FinishReason == FinishReason.Cancelled) ct.ThrowIfCancellationRequested();
                if (reply.PromptTokensKept < prompt.Length) { trimmed++; keptAtMost = Math.Max(keptAtMost, reply.PromptTokensKept); }
                predictions.Add(reply.Text!.Trim());
                references.Add(messages[last].Content);
                inputs.Add(messages.Take(last).LastOrDefault(m => m.Role == TurnRole.User)?.Content ?? "");
                progress?.Report(i + 1);
            }
            if (trimmed > 0)
                notes.Add($"{trimmed} prompt{(trimmed == 1 ? "" : "s")} (the turns before the reply) cut to their last " +
                          $"{keptAtMost} tokens to leave room for the reply");
            var scores = TextMetrics.Score(predictions, references);
            var samples = Enumerable.Range(0, Math.Min(SampleCount, predictions.Count))
                .Select(i => new EvaluationSample(inputs[i], references[i], predictions[i],
                    TextMetrics.ExactMatch(predictions[i], references[i]), TextMetrics.F1(predictions[i], references[i])))
                .ToList();
            return EvaluationReport.FromScores(scores, dataset: dataset) with
            {
                TokenAccuracy = accuracy.Total > 0 ? accuracy.Value : null,
                Loss = loss,
                Perplexity = loss is { } l ? Math.Exp(l) : null,
                Samples = samples,
                Notes = notes.Count > 0 ? notes : null,
                CreatedAt = DateTimeOffset.UtcNow,
            };
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }
}
