using GptSharp.Checkpoints;
using GptSharp.Data.Dialogues;
using GptSharp.Evaluation;
using GptSharp.Tokenization;

namespace GptSharp.Training.Advisors;

/// <summary>
/// k-fold cross-validation of a fine-tuning job: the conversations are dealt into k folds
/// (<see cref="SftSplits.KFold"/>, seeded); each fold fine-tunes the model on the other folds in its own run directory
/// (output_dir/fold-K) and is scored on its own fold: the run's final val_loss, or a reply metric (token_f1,
/// exact_match, bleu) of its final model, as <c>gptsharp eval</c> computes it. Folds run one after another.
/// </summary>
public static class CrossValidation
{
    /// <summary>Trains one fold's plan; the default is <see cref="FineTuning.RunAsync"/> without progress.</summary>
    public delegate Task<TrainingResult> FoldTrainer(int fold, FineTuning.Plan plan, CancellationToken ct);

    /// <summary>The run directory of fold <paramref name="fold"/> (0-based): output_dir/fold-1 … fold-k.</summary>
    public static string FoldDir(string outputDir, int fold) => Path.Combine(outputDir, $"fold-{fold + 1}");

    /// <summary>The options of fold <paramref name="fold"/>'s run: the job's, in output_dir/fold-K.</summary>
    public static FineTuningOptions FoldOptions(FineTuningOptions options, int fold) => options with { OutputDir = FoldDir(options.OutputDir, fold) };

    /// <summary>
    /// Checks everything that can be checked without training or writing: the options, k against the conversations,
    /// every fold's run directory (a previous run there is refused unless overwrite_output_dir).
    /// </summary>
    public static void Check(string modelDir, IReadOnlyList<Conversation> conversations, FineTuningOptions options, CrossValidationOptions cv,
        string dataName = "the dialogues")
    {
        options.Validate();
        cv.Validate(conversations.Count, dataName);
        if (!Directory.Exists(modelDir)) throw new GptSharpException($"--model: '{modelDir}' is not a directory");
        for (int k = 0; k < cv.Folds; k++) RunOutput.Check(FoldOptions(options, k), [modelDir]);
    }

    public static async Task<CrossValidationResult> RunAsync(string modelDir, IReadOnlyList<Conversation> conversations, FineTuningOptions options,
        CrossValidationOptions cv, FoldTrainer? train = null, Action<string>? log = null, CancellationToken ct = default, string dataName = "the dialogues")
    {
        Check(modelDir, conversations, options, cv, dataName);
        train ??= (_, plan, token) => FineTuning.RunAsync(plan, null, token);
        var folds = new List<FoldResult>();
        for (int k = 0; k < cv.Folds; k++)
        {
            ct.ThrowIfCancellationRequested();
            var (trainIdx, valIdx) = SftSplits.KFold(conversations.Count, cv.Folds, k, cv.Seed);
            var valConversations = valIdx.Select(i => conversations[i]).ToList();
            log?.Invoke($"fold {k + 1}/{cv.Folds}: training on {trainIdx.Length} conversations, validating on {valIdx.Length}");
            TrainingResult result;
            using (var plan = FineTuning.Check(new FineTuningInputs
                   {
                       ModelDir = modelDir, Train = trainIdx.Select(i => conversations[i]).ToList(), Validation = valConversations,
                   }, FoldOptions(options, k)))
                result = await train(k, plan, ct).ConfigureAwait(false);
            if (result.Cancelled) ct.ThrowIfCancellationRequested();
            double value = cv.Metric == CrossValidationMetric.ValLoss
                ? result.LastValLoss ?? throw new GptSharpException($"fold {k + 1}: the run made no evaluation, so it has no val_loss")
                : Score(cv, result.FinalDir ?? throw new GptSharpException($"fold {k + 1}: the run wrote no final model"), valConversations, ct);
            log?.Invoke(FormattableString.Invariant($"fold {k + 1}/{cv.Folds}: {cv.Metric} {value:F4}"));
            folds.Add(new FoldResult(k + 1, trainIdx.Length, valIdx.Length, value, result.Step, result.OutputDir));
        }
        return new CrossValidationResult(cv.Metric, cv.Seed, conversations.Count, folds);
    }

    /// <summary>A reply metric of a fold's final model on its validation conversations (greedy replies, as <c>gptsharp eval</c>).</summary>
    static double Score(CrossValidationOptions cv, string modelDir, IReadOnlyList<Conversation> conversations, CancellationToken ct)
    {
        using var loaded = ModelDirectory.Load(modelDir, new LoadOptions());
        var report = new DialogueEvaluator(loaded.Model, loaded.Tokenizer) { EndTokenIds = loaded.EndTokenIds, SampleCount = 0, MaxNewTokens = cv.MaxNewTokens }
            .Evaluate(conversations, "the fold's conversations", ct: ct);
        double? v = cv.Metric switch
        {
            CrossValidationMetric.ExactMatch => report.ExactMatch, CrossValidationMetric.TokenF1 => report.F1, CrossValidationMetric.Bleu => report.Bleu, _ => null,
        };
        return v ?? throw new GptSharpException($"the evaluation gave no {cv.Metric}");
    }
}
