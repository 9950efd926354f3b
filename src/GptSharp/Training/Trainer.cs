using System.Diagnostics;
using System.Text.Json.Nodes;
using GptSharp.Data;
using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using GptSharp.Checkpoints;
using GptSharp.IO;

namespace GptSharp.Training;

/// <summary>
/// The training loop: an optimizer (<c>optim</c>) and a learning-rate schedule (<c>lr_scheduler_type</c>), gradient
/// accumulation and clipping, periodic evaluation with early stopping, atomic checkpoints with exact resume, rotation
/// that keeps the best, and cancellation that saves. It takes batches from any
/// <see cref="IBatchSource"/>, so pretraining and fine-tuning share it.
/// <para>
/// The output directory gets <c>run.json</c> (the options), <c>metrics.jsonl</c>, <c>checkpoint-N/</c> (a model
/// directory + <c>optimizer.safetensors</c> + <c>trainer_state.json</c>, rotated by save_total_limit) and <c>final/</c>.
/// </para>
/// <para>
/// Exact resume with dropout &gt; 0 relies on torch's process-wide CPU generator, which the checkpoint saves: it holds
/// only while nothing else in the process draws from or reseeds it (e.g. another model being created or trained).
/// </para>
/// </summary>
public sealed class Trainer
{
    public const string RunFile = "run.json", FinalDir = "final";

    readonly Gpt _model;
    readonly TrainingOptions _o;
    readonly IBatchSource _train;
    readonly IBatchSource? _eval;
    readonly ILearningRateSchedule _schedule;
    readonly Device _device;
    readonly int _maxSteps;

    /// <summary>The run's length: max_steps, or what num_train_epochs comes to on the train source.</summary>
    public int MaxSteps => _maxSteps;

    /// <summary>Saved into every checkpoint and final/, making them complete model directories.</summary>
    public BpeTokenizer? Tokenizer { get; init; }
    /// <summary>Written to config.json as eos_token_id when there is no <see cref="Tokenizer"/> to say it.</summary>
    public int? EosTokenId { get; init; }
    /// <summary>Completes final/'s model directory before it is written (fine-tuning adds the chat template and decoding defaults).</summary>
    public Action<ModelDirectory>? FinalModel { get; init; }
    /// <summary>Paths the run reads besides init_from and data_dir (a fine-tuned model): starting over never deletes them.</summary>
    public IReadOnlyList<string?> Inputs { get; init; } = [];

    public Trainer(Gpt model, TrainingOptions options, IBatchSource train, IBatchSource? eval = null, ILearningRateSchedule? schedule = null)
    {
        _o = options.Validate();
        if (options.BlockSize > model.Config.BlockSize)
            throw new GptSharpException($"block_size ({options.BlockSize}) exceeds the model's n_positions ({model.Config.BlockSize})");
        _maxSteps = options.ResolveMaxSteps(train.StepsPerEpoch(options.PerDeviceTrainBatchSize));
        if (options.WarmupSteps > _maxSteps)
            throw new GptSharpException($"invalid option: warmup_steps must be in [0, max_steps = {_maxSteps}] (got {options.WarmupSteps}; num_train_epochs = {options.NumTrainEpochs} makes {_maxSteps} steps)");
        if (eval is null && (options.LoadBestModelAtEnd || options.EarlyStoppingPatience is not null))
            throw new GptSharpException($"{(options.LoadBestModelAtEnd ? "load_best_model_at_end" : "early_stopping_patience")} needs evaluation, but there is no validation data");
        _model = model;
        _train = train;
        _eval = eval;
        _schedule = schedule ?? LearningRateSchedules.Create(options, _maxSteps);
        _device = model.Device;
    }

    /// <summary>
    /// Trains up to max_steps on a dedicated thread (autograd state is per thread). Cancelling saves a checkpoint of
    /// the last finished step and returns a result with <see cref="TrainingResult.Cancelled"/> set.
    /// </summary>
    public Task<TrainingResult> TrainAsync(IProgress<TrainingProgress>? progress = null, CancellationToken ct = default) =>
        Task.Factory.StartNew(() => Train(progress, ct), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    TrainingResult Train(IProgress<TrainingProgress>? progress, CancellationToken ct)
    {
        string outputDir = Path.GetFullPath(_o.OutputDir);
        using var runLock = RunDirectoryLock.Acquire(outputDir); // held until the run ends, however it ends
        string? resumeFrom = PrepareOutputDir(outputDir);
        var metrics = new MetricsLog(Path.Combine(outputDir, MetricsLog.FileName));
        var runOptions = _o.TrajectoryOptions();
        string optionsHash = TrainingOptions.Hash(runOptions);
        var evalStart = _eval?.GetState(); // every evaluation sees the same batches

        using var optimizer = TrainingOptimizers.Create(_model, _o);
        _model.Precision.ComputeType = _o.Bf16 ? ScalarType.BFloat16 : null;

        TrainerState state;
        if (resumeFrom is not null)
        {
            (state, resumeFrom) = Resume(resumeFrom, outputDir, optimizer, runOptions, optionsHash, progress);
            metrics.TruncateAfter(state.GlobalStep);
            progress?.Report(new TrainingProgress
            {
                Event = TrainingEvent.Message, Step = state.GlobalStep, MaxSteps = _maxSteps, Path = resumeFrom,
                Message = $"resumed from {resumeFrom} at step {state.GlobalStep}",
            });
        }
        else
        {
            state = new TrainerState { MaxSteps = _maxSteps, OptionsHash = optionsHash, RunOptions = runOptions };
            torch.random.manual_seed(_o.Seed); // dropout's randomness starts from the seed, so a run is reproducible
        }
        AtomicFile.WriteAllText(Path.Combine(outputDir, RunFile), _o.ToJson() + "\n");

        var wall = Stopwatch.StartNew();
        double elapsedBefore = state.ElapsedSeconds;
        TimeSpan Elapsed() => TimeSpan.FromSeconds(elapsedBefore + wall.Elapsed.TotalSeconds);
        int savedStep = resumeFrom is null ? -1 : state.GlobalStep;
        string? lastCheckpoint = resumeFrom;
        double? lastLoss = null, lastValLoss = null;
        int lastEvalStep = -1;
        bool stoppedEarly = false;
        string? BestCheckpoint() => state.BestCheckpointStep is { } b ? CheckpointStore.PathFor(outputDir, b) : null;
        long windowTokens = 0;
        int windowSteps = 0;
        double windowSeconds = 0;

        string SaveCheckpoint()
        {
            // A checkpoint's val loss is the evaluation at its own step (load_best_model_at_end makes sure there is one).
            if (lastEvalStep == state.GlobalStep && lastValLoss is { } v && (state.BestCheckpointValLoss is not { } bestSaved || v < bestSaved))
                state = state with { BestCheckpointStep = state.GlobalStep, BestCheckpointValLoss = v };
            state = state with
            {
                ElapsedSeconds = Elapsed().TotalSeconds,
                TorchRngState = Convert.ToBase64String(RngState()),
                TrainSampler = _train.GetState(),
            };
            string dir = CheckpointStore.PathFor(outputDir, state.GlobalStep);
            var s = state;
            AtomicFile.WriteDirectory(dir, tmp =>
            {
                WriteModelDir(tmp);
                optimizer.Save(Path.Combine(tmp, TrainingOptimizer.FileName));
                s.Write(Path.Combine(tmp, TrainerState.FileName));
            });
            CheckpointStore.Rotate(outputDir, _o.SaveTotalLimit, state.BestCheckpointStep);
            savedStep = state.GlobalStep;
            progress?.Report(new TrainingProgress { Event = TrainingEvent.Checkpoint, Step = state.GlobalStep, MaxSteps = _maxSteps, Path = dir, Elapsed = Elapsed() });
            return dir;
        }

        _model.train();
        for (int step = state.GlobalStep + 1; step <= _maxSteps; step++)
        {
            if (ct.IsCancellationRequested)
            {
                if (state.GlobalStep > 0 && savedStep != state.GlobalStep) lastCheckpoint = SaveCheckpoint();
                return new TrainingResult(state.GlobalStep, _maxSteps, true, lastLoss, lastValLoss, state.BestValLoss, outputDir, lastCheckpoint, null)
                    { BestCheckpoint = BestCheckpoint() };
            }

            double lr = _schedule.LearningRate(step - 1);
            optimizer.LearningRate = lr;
            var stepClock = Stopwatch.StartNew();
            var (loss, gradNorm, tokens) = TrainStep(optimizer);
            double stepSeconds = stepClock.Elapsed.TotalSeconds;
            if (!double.IsFinite(loss))
                throw new GptSharpException($"training diverged: loss is {loss} at step {step}; lower learning_rate, add warmup_steps or keep max_grad_norm on");

            state = state with { GlobalStep = step, TokensSeen = state.TokensSeen + tokens };
            lastLoss = loss;
            windowTokens += tokens;
            windowSteps++;
            windowSeconds += stepSeconds;
            double tokensPerSecond = windowTokens / Math.Max(windowSeconds, 1e-9);
            bool logged = step % _o.LoggingSteps == 0 || step == _maxSteps;
            if (logged)
            {
                var entry = new JsonObject { ["step"] = step, ["loss"] = loss, ["lr"] = lr };
                if (gradNorm is { } g) entry["grad_norm"] = g;
                entry["tokens_per_sec"] = tokensPerSecond;
                entry["elapsed"] = Elapsed().TotalSeconds;
                metrics.Append(entry);
            }
            progress?.Report(new TrainingProgress
            {
                Event = TrainingEvent.Step, Step = step, MaxSteps = _maxSteps, Loss = loss, LearningRate = lr,
                TokensPerSecond = tokensPerSecond, Elapsed = Elapsed(), Eta = TimeSpan.FromSeconds((_maxSteps - step) * windowSeconds / windowSteps),
                ValLoss = lastValLoss, Logged = logged, LiveTensors = DisposeScopeManager.Statistics.ThreadTotalLiveCount,
            });
            if (logged) (windowTokens, windowSteps, windowSeconds) = (0, 0, 0);

            if (_eval is not null && evalStart is not null && ((_o.EvalSteps > 0 && step % _o.EvalSteps == 0) || step == _maxSteps))
            {
                double valLoss = Evaluate(evalStart);
                lastValLoss = valLoss;
                lastEvalStep = step;
                state = state.BestValLoss is not { } best || valLoss < best
                    ? state with { BestValLoss = valLoss, EvalsWithoutImprovement = 0 }
                    : state with { EvalsWithoutImprovement = state.EvalsWithoutImprovement + 1 };
                stoppedEarly = _o.EarlyStoppingPatience is { } patience && state.EvalsWithoutImprovement >= patience && step < _maxSteps;
                metrics.Append(new JsonObject { ["step"] = step, ["val_loss"] = valLoss, ["val_ppl"] = Math.Exp(valLoss), ["elapsed"] = Elapsed().TotalSeconds });
                progress?.Report(new TrainingProgress
                {
                    Event = TrainingEvent.Evaluation, Step = step, MaxSteps = _maxSteps, Loss = loss, LearningRate = lr, ValLoss = valLoss, Elapsed = Elapsed(),
                });
            }
            if (_o.SaveSteps > 0 && step % _o.SaveSteps == 0) lastCheckpoint = SaveCheckpoint();
            if (stoppedEarly)
            {
                progress?.Report(new TrainingProgress
                {
                    Event = TrainingEvent.Message, Step = step, MaxSteps = _maxSteps, Elapsed = Elapsed(),
                    Message = $"early stopping at step {step}: val loss has not improved on {state.BestValLoss:F4} for {state.EvalsWithoutImprovement} evaluations",
                });
                break;
            }
        }

        if (_o.LoadBestModelAtEnd && state.BestCheckpointStep is { } bestStep && bestStep != state.GlobalStep
            && !(lastEvalStep == state.GlobalStep && lastValLoss <= state.BestCheckpointValLoss))
        {
            // The best checkpoint beats the last step: final/ gets its weights (rotation never deleted it).
            using var best = HfCheckpoint.Load(CheckpointStore.PathFor(outputDir, bestStep));
            ModelWeights.Copy(best, _model);
            progress?.Report(new TrainingProgress
            {
                Event = TrainingEvent.Message, Step = state.GlobalStep, MaxSteps = _maxSteps, Elapsed = Elapsed(),
                Message = $"final/ holds the best checkpoint's weights (step {bestStep}, val loss {state.BestCheckpointValLoss:F4})",
            });
        }

        string finalDir = Path.Combine(outputDir, FinalDir);
        var finalState = state with { ElapsedSeconds = Elapsed().TotalSeconds };
        AtomicFile.WriteDirectory(finalDir, tmp =>
        {
            WriteModelDir(tmp, FinalModel);
            finalState.Write(Path.Combine(tmp, TrainerState.FileName));
        });
        progress?.Report(new TrainingProgress { Event = TrainingEvent.Checkpoint, Step = state.GlobalStep, MaxSteps = _maxSteps, Path = finalDir, Elapsed = Elapsed() });
        return new TrainingResult(state.GlobalStep, _maxSteps, false, lastLoss, lastValLoss, state.BestValLoss, outputDir, lastCheckpoint, finalDir)
            { StoppedEarly = stoppedEarly, BestCheckpoint = BestCheckpoint() };
    }

    /// <summary>One optimizer step over gradient_accumulation_steps micro-batches; every temporary dies with the scope.</summary>
    (double Loss, double? GradNorm, long Tokens) TrainStep(TrainingOptimizer optimizer)
    {
        using var scope = NewDisposeScope();
        int accumulation = _o.GradientAccumulationSteps;
        double loss = 0;
        long tokens = 0;
        for (int micro = 0; micro < accumulation; micro++)
        {
            var batch = _train.Next(_device);
            var microLoss = Gpt.Loss(_model.Forward(batch.Input), Targets(batch)) / accumulation;
            microLoss.backward();
            loss += microLoss.item<float>();
            tokens += batch.Input.numel();
        }
        double? gradNorm = _o.MaxGradNorm > 0 ? nn.utils.clip_grad_norm_(optimizer.Parameters, _o.MaxGradNorm) : null;
        optimizer.Step();
        optimizer.ZeroGrad();
        return (loss, gradNorm, tokens);
    }

    static Tensor Targets(Batch batch) =>
        batch.LossMask is null ? batch.Targets : batch.Targets.masked_fill(batch.LossMask.logical_not(), -100);

    /// <summary>Mean loss over eval_iters validation batches, always the same ones.</summary>
    double Evaluate(JsonNode evalStart)
    {
        _eval!.SetState(evalStart.DeepClone());
        _model.eval();
        try
        {
            using var _ = no_grad();
            double sum = 0;
            for (int i = 0; i < _o.EvalIters; i++)
            {
                using var scope = NewDisposeScope();
                var batch = _eval.Next(_device);
                sum += Gpt.Loss(_model.Forward(batch.Input), Targets(batch)).item<float>();
            }
            return sum / _o.EvalIters;
        }
        finally
        {
            _model.train();
        }
    }

    void WriteModelDir(string dir, Action<ModelDirectory>? complete = null)
    {
        if (Tokenizer is null)
        {
            HfCheckpoint.Save(_model, dir, eosTokenId: EosTokenId);
            return;
        }
        var files = new ModelDirectory(_model, Tokenizer);
        complete?.Invoke(files);
        files.WriteFiles(dir);
    }

    static byte[] RngState()
    {
        using var state = torch.random.get_rng_state();
        return state.bytes.ToArray();
    }

    /// <summary>Decides between a fresh start and a resume (<see cref="RunOutput.Check"/>); returns the checkpoint to resume from, if any.</summary>
    string? PrepareOutputDir(string outputDir)
    {
        Directory.CreateDirectory(outputDir);
        CheckpointStore.DeleteLeftovers(outputDir);
        var plan = RunOutput.Check(_o, Inputs);
        foreach (var path in plan.ToDelete)
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
        }
        return plan.ResumeFrom;
    }

    /// <summary>
    /// Resumes from <paramref name="chosen"/>. With resume_from_checkpoint=latest, a checkpoint that cannot be read
    /// (say, a file truncated by a crash or a full disk) is skipped with a warning for the newest one before it; an
    /// explicit path must be readable. Returns the state and the checkpoint actually used.
    /// </summary>
    (TrainerState State, string Dir) Resume(string chosen, string outputDir, TrainingOptimizer optimizer, JsonObject runOptions, string optionsHash,
        IProgress<TrainingProgress>? progress)
    {
        bool latest = _o.ResumeFromCheckpoint == "latest";
        var candidates = latest ? CheckpointStore.List(outputDir).Select(c => c.Path).Reverse().ToList() : [chosen];
        var skipped = new List<string>();
        foreach (string dir in candidates)
        {
            CheckpointContents saved;
            try
            {
                saved = CheckpointContents.Read(dir);
                try { optimizer.Check(saved.Optimizer, saved.OptimizerPath); }
                catch { saved.Dispose(); throw; }
            }
            catch (Exception e) when (latest && e is GptSharpException or IOException or UnauthorizedAccessException)
            {
                skipped.Add($"{Path.GetFileName(dir)}: {e.Message}");
                progress?.Report(new TrainingProgress
                {
                    Event = TrainingEvent.Message, MaxSteps = _maxSteps, Path = dir,
                    Message = $"warning: cannot resume from {dir}, skipping it: {e.Message}",
                });
                continue;
            }
            using (saved) return (Apply(saved, optimizer, runOptions, optionsHash), dir);
        }
        throw new GptSharpException($"resume_from_checkpoint=latest: no checkpoint in {outputDir} can be resumed from ({string.Join("; ", skipped)}); " +
            "pass --overwrite (overwrite_output_dir=true) to start over");
    }

    TrainerState Apply(CheckpointContents saved, TrainingOptimizer optimizer, JsonObject runOptions, string optionsHash)
    {
        var (dir, state) = (saved.Dir, saved.State);
        if (state.OptionsHash != optionsHash)
        {
            var changed = runOptions.Select(kv => kv.Key)
                .Union(state.RunOptions.Select(kv => kv.Key))
                .Where(k => !JsonNode.DeepEquals(runOptions[k], state.RunOptions[k]))
                .Select(k => $"{k} ({state.RunOptions[k]?.ToJsonString() ?? "null"} → {runOptions[k]?.ToJsonString() ?? "null"})");
            throw new GptSharpException($"cannot resume from {dir}: it was trained with different options: {string.Join(", ", changed)}. " +
                "Resuming needs the same options; start a new run with init_from to train further with new ones");
        }

        var (a, b) = (saved.Model.Config, _model.Config);
        if ((a.VocabSize, a.BlockSize, a.NLayer, a.NHead, a.NEmbd) != (b.VocabSize, b.BlockSize, b.NLayer, b.NHead, b.NEmbd))
            throw new GptSharpException($"cannot resume from {dir}: its model shape differs from the one being trained");
        ModelWeights.Copy(saved.Model, _model);
        optimizer.Load(saved.Optimizer, saved.OptimizerPath);
        if (state.TrainSampler is { } sampler) _train.SetState(sampler);
        if (state.TorchRngState is { } rng)
        {
            using var t = tensor(Convert.FromBase64String(rng), ScalarType.Byte);
            torch.random.set_rng_state(t);
        }
        return state;
    }
}
