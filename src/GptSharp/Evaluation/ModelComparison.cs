using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using GptSharp.Tokenization;

namespace GptSharp.Evaluation;

/// <summary>
/// Measures models for a side-by-side comparison (<see cref="ComparisonReport"/>): size, loss and perplexity and reply
/// scores by the same evaluators as <c>gptsharp eval</c> (<see cref="DialogueEvaluator"/>, <see cref="TextEvaluator"/>),
/// and generation speed (<see cref="DecodeSpeed"/>). One model at a time: timings of models measured together would
/// disturb each other, and a process's peak memory is only one model's when it measured that model alone.
/// </summary>
public static class ModelComparison
{
    /// <summary>
    /// Checks, before anything slow, that every model can load and that all share the first's tokenizer: the same ids
    /// for the same text and the same special tokens, since a loss per token over different tokens compares nothing.
    /// </summary>
    public static void CheckComparable(IReadOnlyList<ComparedModel> models)
    {
        if (models.Count == 0) throw new GptSharpException("--model: give at least one model to compare");
        BpeTokenizer? firstTokenizer = null;
        foreach (var m in models)
        {
            if (!Directory.Exists(m.Directory)) throw new GptSharpException($"--model {m.Label}: directory '{m.Directory}' not found");
            var tokenizer = ModelDirectory.LoadTokenizer(m.Directory, HfCheckpoint.ReadConfig(m.Directory));
            WeightFile(m.Directory);
            if (firstTokenizer is null) { firstTokenizer = tokenizer; continue; }
            if (!SameTokens(firstTokenizer, tokenizer))
                throw new GptSharpException($"--model {m.Label}: its tokenizer is not {models[0].Label}'s (different vocabulary, merges or special tokens), " +
                                            "so their losses per token cannot be compared");
        }
    }

    static bool SameTokens(BpeTokenizer a, BpeTokenizer b) =>
        a.EncodesTextLike(b) && a.SpecialTokenNames.Order().SequenceEqual(b.SpecialTokenNames.Order()) &&
        a.SpecialTokenNames.All(t => a.TokenToId(t) == b.TokenToId(t));

    /// <summary>The weight file a model directory loads from: model.safetensors, else a quantised directory's model.int8.safetensors.</summary>
    public static string WeightFile(string dir)
    {
        string floats = Path.Combine(dir, HfCheckpoint.WeightsFile);
        if (File.Exists(floats)) return floats;
        if (Int8Checkpoint.Exists(dir)) return Path.Combine(dir, Int8Checkpoint.WeightsFile);
        if (Int4Checkpoint.Exists(dir)) return Path.Combine(dir, Int4Checkpoint.WeightsFile);
        throw new GptSharpException($"{floats}: file not found (nor {Int8Checkpoint.WeightsFile} or {Int4Checkpoint.WeightsFile})");
    }

    /// <summary>
    /// Loads <paramref name="model"/> on the CPU and measures it: everything but <see cref="ModelFigures.PeakRssBytes"/>,
    /// which only a process that measured this model alone can give.
    /// </summary>
    public static ModelFigures Measure(ComparedModel model, ComparisonData data, ModelComparisonOptions options, Action<string>? log = null,
        CancellationToken ct = default)
    {
        options.Validate();
        log ??= _ => { };
        string weights = WeightFile(model.Directory);
        using var loaded = ModelDirectory.Load(model.Directory, new LoadOptions { Precision = model.Precision, Engine = model.Engine });
        string precision = model.Precision switch
        {
            InferencePrecision.Auto when loaded.Model.Engine is Inference.Onnx.OnnxRuntimeEngine { Precision: var p } => Inference.Onnx.OnnxPrecisionNames.Name(p),
            InferencePrecision.Auto => Int8WeightOnly.IsQuantized(loaded.Model) ? "int8" : "fp32",
            InferencePrecision.BFloat16 => "bf16",
            InferencePrecision.Int8 => "int8",
            InferencePrecision.Int4 => "int4",
            _ => "fp32",
        };

        EvaluationReport report;
        string sample;
        if (data.Text is { } text)
        {
            log("loss and perplexity on the text");
            report = new TextEvaluator(loaded.Model, loaded.Tokenizer).Evaluate(text, data.Path, ct);
            sample = text;
        }
        else
        {
            var conversations = data.Conversations!;
            log($"loss, perplexity and replies on {conversations.Count} conversations");
            var evaluator = new DialogueEvaluator(loaded.Model, loaded.Tokenizer)
            {
                MaxNewTokens = options.MaxNewTokens, SampleCount = 0, EndTokenIds = loaded.EndTokenIds,
            };
            int step = Math.Max(1, conversations.Count / 10);
            var progress = new Progress(n => { if (n % step == 0 || n == conversations.Count) log($"replies {n}/{conversations.Count}"); });
            report = evaluator.Evaluate(conversations, data.Path, progress, ct);
            sample = string.Join("\n", conversations.SelectMany(c => c.Messages).Select(m => m.Content));
        }

        log($"decode speed ({options.Repetitions} runs each after a warm-up)");
        // Real tokens for the speed prompts; a few thousand characters are plenty for a 256-token prompt.
        var promptIds = loaded.Tokenizer.Encode(sample.Length > 16_000 ? sample[..16_000] : sample);
        if (promptIds.Length == 0) promptIds = [loaded.Tokenizer.EndOfTextId];
        var speed = DecodeSpeed.Measure(loaded.Model, promptIds, options.DecodeTokens, options.PromptTokens, options.Repetitions, ct);

        return new ModelFigures
        {
            Label = model.Label, Model = model.Directory, Precision = precision, Engine = loaded.Model.Engine?.Name ?? "torch",
            Parameters = loaded.Model.ParameterCount, WeightFile = Path.GetFileName(weights), WeightBytes = new FileInfo(weights).Length,
            Examples = report.Examples, Loss = report.Loss, Perplexity = report.Perplexity,
            ExactMatch = report.ExactMatch, F1 = report.F1, Bleu = report.Bleu,
            DecodeTokensPerSecond = speed.TokensPerSecond, Batch8TokensPerSecond = speed.Batch8TokensPerSecond,
            TimeToFirstTokenSeconds = speed.TimeToFirstTokenSeconds, DecodeTokens = speed.DecodeTokens, PromptTokens = speed.PromptTokens,
            Notes = report.Notes,
        };
    }

    /// <summary>Reports each count as it comes, on the caller's thread (System.Progress would post it elsewhere).</summary>
    sealed class Progress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
