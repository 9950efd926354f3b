using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;

namespace GptSharp.Evaluation;

/// <summary>Loss, perplexity and next-token accuracy of a model on plain text, over consecutive context-sized windows.</summary>
public sealed class TextEvaluator(Gpt model, ITokenizer tokenizer)
{
    public EvaluationReport Evaluate(string text, string? dataset = null, CancellationToken ct = default)
    {
        var ids = tokenizer.Encode(text);
        if (ids.Length < 2) throw new GptSharpException($"{dataset ?? "the text"}: fewer than two tokens to evaluate");
        int window = model.Config.BlockSize;
        bool wasTraining = model.training;
        model.eval();
        double lossSum = 0;
        var accuracy = new TokenAccuracy(0, 0);
        try
        {
            using var _ = no_grad();
            // Windows overlap by one token so every token but the first is predicted exactly once.
            for (int start = 0; start < ids.Length - 1; start += window)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int length = Math.Min(window + 1, ids.Length - start);
                var x = tensor(ids[start..(start + length)].Select(i => (long)i).ToArray(), device: model.Device).unsqueeze(0);
                var logits = model.Forward(x[.., ..^1]);
                var targets = x[.., 1..];
                var a = NextTokenAccuracy.Compute(logits, targets);
                lossSum += Gpt.Loss(logits, targets).item<float>() * a.Total;
                accuracy += a;
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        double loss = lossSum / accuracy.Total;
        return new EvaluationReport
        {
            Dataset = dataset, Examples = 1, Loss = loss, Perplexity = Math.Exp(loss), TokenAccuracy = accuracy.Value, CreatedAt = DateTimeOffset.UtcNow,
        };
    }
}
