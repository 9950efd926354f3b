using GptSharp.Checkpoints;
using GptSharp.Data.Dialogues;
using GptSharp.Evaluation;
using GptSharp.Training;
using GptSharp.Training.Advisors;

namespace GptSharp.Tuning.Jobs;

/// <summary>
/// Runs one trial of a <see cref="TuneConfig"/>: draws its parameters, trains the base job with them in a run directory
/// of its own, and returns the objective. The run is written to a hidden <c>.trial-NNNN.partial</c> directory and
/// renamed to <c>trial-NNNN</c> once it is done (pruned runs too), so a run directory is never half-written: what a
/// killed worker leaves is a partial directory, which <see cref="RunDirectories.RemoveAbandoned"/> deletes. With
/// cv_folds, the trial is k fold runs in trial-NNNN/fold-K, and its objective is their mean.
/// </summary>
public static class TrialRunner
{
    /// <summary>The run directory of trial <paramref name="number"/>.</summary>
    public static string RunDir(TuneConfig config, int number) => Path.Combine(config.OutputDir, $"trial-{number:D4}");

    public static async Task<double> RunAsync(TuneConfig config, Trial trial, Action<string>? log, CancellationToken ct)
    {
        var parameters = config.SearchSpace.Select(p => TuneConfig.Override(p.Key, trial.Suggest(p.Key, p.Value))).ToArray();
        log?.Invoke($"trial {trial.Number} started: {string.Join(" ", parameters)}");
        string final = RunDir(config, trial.Number), partial = RunDirectories.PartialDir(config, trial.Number);
        RunDirectories.Delete(partial);
        Directory.CreateDirectory(config.OutputDir);
        var options = config.LoadOptions(parameters, partial);
        if (config.CvFolds is { } folds) return await RunFoldsAsync(config, trial, (FineTuningOptions)options, folds, final, partial, log, ct).ConfigureAwait(false);
        var pruning = new PruningCallback(trial, log);
        try
        {
            TrainingResult result;
            if (options is FineTuningOptions ft)
            {
                using var plan = FineTuning.Check(new FineTuningInputs { ModelDir = config.Model!, TrainFile = config.Data, ValFile = config.ValData }, ft);
                result = await FineTuning.RunAsync(plan, null, ct, [pruning]).ConfigureAwait(false);
            }
            else
                result = await Pretraining.RunAsync((PretrainingOptions)options, null, ct, [pruning]).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            trial.SetUserAttr("steps", result.Step);
            trial.SetUserAttr("max_steps", result.MaxSteps);

            double? value = null;
            if (!pruning.Pruned)
            {
                value = config.Objective == "val_loss"
                    ? result.LastValLoss ?? throw new GptSharpException("the run made no evaluation, so it has no val_loss: give it validation data (val_fraction, val_data, or a val split)")
                    : Score(config, result.FinalDir ?? throw new GptSharpException("the run wrote no final model"), ct);
            }
            RunDirectories.Publish(partial, final);
            trial.SetUserAttr("run_dir", final);
            if (pruning.Pruned)
            {
                log?.Invoke($"trial {trial.Number} pruned at step {pruning.PrunedAt} of {result.MaxSteps}");
                throw new TrialPrunedException();
            }
            log?.Invoke($"trial {trial.Number} complete: {config.Objective} {value:F4} ({result.Step} steps)");
            return value!.Value;
        }
        catch (Exception e) when (e is not TrialPrunedException)
        {
            Failed(trial, e, partial, log);
            throw;
        }
    }

    /// <summary>
    /// A trial scored by k-fold cross-validation: the folds (dealt with the base job's seed, so every trial sees the
    /// same ones) run one after another; after each, the running mean is reported with step = the fold's number, so
    /// that the pruner compares trials fold by fold. The folds' values and their standard deviation become user attrs.
    /// </summary>
    static async Task<double> RunFoldsAsync(TuneConfig config, Trial trial, FineTuningOptions options, int k, string final, string partial,
        Action<string>? log, CancellationToken ct)
    {
        try
        {
            var conversations = DialogueReader.Read(config.Data!);
            var cv = new CrossValidationOptions { Folds = k, Seed = config.Seed, Metric = config.Objective };
            var values = new List<double>();
            int steps = 0, maxSteps = 0;
            int? prunedAt = null;
            for (int f = 0; f < k && prunedAt is null; f++)
            {
                var fold = await CrossValidation.RunFoldAsync(config.Model!, conversations, options, cv, f, log: s => log?.Invoke($"trial {trial.Number} {s}"),
                    ct: ct, dataName: config.Data!).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                values.Add(fold.Value);
                steps += fold.Steps;
                maxSteps += fold.MaxSteps;
                double mean = values.Average();
                trial.Report(f + 1, mean);
                log?.Invoke(FormattableString.Invariant($"trial {trial.Number}: mean {config.Objective} {mean:F4} after {f + 1} of {k} folds"));
                // After the last fold the trial is complete: nothing left to save.
                if (f + 1 < k && trial.ShouldPrune()) prunedAt = f + 1;
            }
            trial.SetUserAttr("steps", steps);
            trial.SetUserAttr("max_steps", maxSteps * k / values.Count); // the folds not run are counted as long as the ones that ran
            // JSON has no NaN: a diverged fold's value is kept as null.
            static double? Json(double v) => double.IsFinite(v) ? v : null;
            trial.SetUserAttr("cv_values", values.Select(Json).ToArray());
            trial.SetUserAttr("cv_std", Json(CrossValidationStatistics.Summarize(values).StdDev));
            RunDirectories.Publish(partial, final);
            trial.SetUserAttr("run_dir", final);
            if (prunedAt is { } at)
            {
                log?.Invoke($"trial {trial.Number} pruned after fold {at} of {k}");
                throw new TrialPrunedException();
            }
            double value = values.Average();
            log?.Invoke(FormattableString.Invariant($"trial {trial.Number} complete: {config.Objective} {value:F4} (mean of {k} folds; {steps} steps)"));
            return value;
        }
        catch (Exception e) when (e is not TrialPrunedException)
        {
            Failed(trial, e, partial, log);
            throw;
        }
    }

    static void Failed(Trial trial, Exception e, string partial, Action<string>? log)
    {
        RunDirectories.Delete(partial);
        log?.Invoke($"trial {trial.Number} failed: {(e is GptSharpException ? e.Message : e.GetType().Name + ": " + e.Message)}");
    }

    /// <summary>A reply metric of the trained model on the held-out dialogues (greedy replies, as <c>gptsharp eval</c>).</summary>
    static double Score(TuneConfig config, string modelDir, CancellationToken ct)
    {
        var conversations = DialogueReader.Read(config.ValData!);
        using var loaded = ModelDirectory.Load(modelDir, new LoadOptions());
        var report = new DialogueEvaluator(loaded.Model, loaded.Tokenizer) { EndTokenIds = loaded.EndTokenIds, SampleCount = 0 }
            .Evaluate(conversations, config.ValData, ct: ct);
        double? v = config.Objective switch { "exact_match" => report.ExactMatch, "token_f1" => report.F1, "bleu" => report.Bleu, _ => null };
        return v ?? throw new GptSharpException($"the evaluation gave no {config.Objective}");
    }
}
