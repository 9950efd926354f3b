using GptSharp.Checkpoints;
using GptSharp.Data.Dialogues;
using GptSharp.Evaluation;
using GptSharp.Tokenization;

namespace GptSharp.Training.Advisors;

/// <summary>
/// k-fold cross-validation of a fine-tuning job: the conversations are dealt into k folds
/// (<see cref="SftSplits.KFold"/>, seeded); each fold fine-tunes the model on the other folds in its own run directory
/// (output_dir/fold-K) and is scored on its own fold: the run's final val_loss, or a reply metric (token_f1,
/// exact_match, bleu) of its final model, as <c>gptsharp eval</c> computes it. <see cref="RunAsync"/> runs the folds
/// one after another; <see cref="RunFoldAsync"/> runs one, so that a caller can run folds in separate processes.
/// Every fold leaves its result in fold-K/<see cref="FoldResultFile.Name"/>.
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
    /// the run directory of every fold, or of <paramref name="onlyFold"/> (0-based) alone — a previous run there is
    /// refused unless overwrite_output_dir.
    /// </summary>
    public static void Check(string modelDir, IReadOnlyList<Conversation> conversations, FineTuningOptions options, CrossValidationOptions cv,
        string dataName = "the dialogues", int? onlyFold = null)
    {
        options.Validate();
        cv.Validate(conversations.Count, dataName);
        if (!Directory.Exists(modelDir)) throw new GptSharpException($"--model: '{modelDir}' is not a directory");
        if (onlyFold is { } f && (f < 0 || f >= cv.Folds)) throw new GptSharpException($"--fold must be between 1 and {cv.Folds}, got {f + 1}");
        for (int k = 0; k < cv.Folds; k++)
            if (onlyFold is null || onlyFold == k) RunOutput.Check(FoldOptions(options, k), [modelDir]);
    }

    public static async Task<CrossValidationResult> RunAsync(string modelDir, IReadOnlyList<Conversation> conversations, FineTuningOptions options,
        CrossValidationOptions cv, FoldTrainer? train = null, Action<string>? log = null, CancellationToken ct = default, string dataName = "the dialogues")
    {
        Check(modelDir, conversations, options, cv, dataName);
        var folds = new List<FoldResult>();
        for (int k = 0; k < cv.Folds; k++)
            folds.Add(await RunFoldCheckedAsync(modelDir, conversations, options, cv, k, train, log, ct).ConfigureAwait(false));
        return new CrossValidationResult(cv.Metric, cv.Seed, conversations.Count, folds);
    }

    /// <summary>
    /// Runs fold <paramref name="fold"/> (0-based) alone — the same run, with the same result, as inside
    /// <see cref="RunAsync"/>, since every run seeds its own randomness — and writes its result to
    /// fold-K/<see cref="FoldResultFile.Name"/>.
    /// </summary>
    public static Task<FoldResult> RunFoldAsync(string modelDir, IReadOnlyList<Conversation> conversations, FineTuningOptions options,
        CrossValidationOptions cv, int fold, FoldTrainer? train = null, Action<string>? log = null, CancellationToken ct = default,
        string dataName = "the dialogues")
    {
        Check(modelDir, conversations, options, cv, dataName, fold);
        return RunFoldCheckedAsync(modelDir, conversations, options, cv, fold, train, log, ct);
    }

    static async Task<FoldResult> RunFoldCheckedAsync(string modelDir, IReadOnlyList<Conversation> conversations, FineTuningOptions options,
        CrossValidationOptions cv, int k, FoldTrainer? train, Action<string>? log, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        train ??= (_, plan, token) => FineTuning.RunAsync(plan, null, token);
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
        var fold = new FoldResult(k + 1, trainIdx.Length, valIdx.Length, value, result.Step, result.OutputDir) { MaxSteps = result.MaxSteps };
        FoldResultFile.Write(FoldDir(options.OutputDir, k), fold);
        return fold;
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
