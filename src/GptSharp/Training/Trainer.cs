using System.Diagnostics;
using System.Text.Json.Nodes;
using GptSharp.Data;
using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;
using GptSharp.Checkpoints;
using GptSharp.IO;
using GptSharp.Training.Schedules;

namespace GptSharp.Training;

/// <summary>
/// The training loop: an optimizer (<c>optim</c>) and a learning-rate schedule (<c>lr_scheduler_type</c>), gradient
/// accumulation and clipping, periodic evaluation, atomic checkpoints with exact resume, and cancellation that saves.
/// Everything else is a <see cref="TrainerCallback"/>: metrics.jsonl, progress, the best checkpoint
/// (load_best_model_at_end), early stopping, and any given in <see cref="Callbacks"/> — which see every evaluation and
/// may stop the run. It takes batches from any <see cref="IBatchSource"/> and, by <see cref="TrainingLoss"/>, any loss, so
/// pretraining, fine-tuning and distillation share it.
/// <para>
/// The output directory gets <c>run.json</c> (the options), <c>metrics.jsonl</c>, <c>checkpoint-N/</c> (a model
/// directory + <c>optimizer.safetensors</c> + <c>trainer_state.json</c>, rotated by save_total_limit, never deleting
/// the best) and <c>final/</c>.
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
    readonly TrainingArguments _o;
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
    /// <summary>Paths the run reads (init_from, data_dir, a fine-tuned model): starting over never deletes them.</summary>
    public IReadOnlyList<string?> Inputs { get; init; } = [];
    /// <summary>Called after the built-in callbacks, in order: e.g. a tuner's pruner in <see cref="TrainerCallback.OnEvaluate"/>.</summary>
    public IReadOnlyList<TrainerCallback> Callbacks { get; init; } = [];
    /// <summary>The training loss; null is the next-token cross-entropy. Evaluation's val_loss is always the cross-entropy.</summary>
    public ITrainingLoss? TrainingLoss { get; init; }

    public Trainer(Gpt model, TrainingArguments options, IBatchSource train, IBatchSource? eval = null, ILearningRateSchedule? schedule = null)
    {
        _o = options.Validate();
        // The module's own parameter object: not to be disposed here.
        if (model.parameters().First().dtype is var dtype && dtype != ScalarType.Float32)
            throw new GptSharpException($"cannot train: the model's weights are {dtype} (set up for inference); load it in fp32 " +
                                        "(bf16=true trains in mixed precision on fp32 weights)");
        _maxSteps = options.ResolveMaxSteps(train.StepsPerEpoch);
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
        var metricsLog = new MetricsLog(Path.Combine(outputDir, MetricsLog.FileName));
        var runOptions = _o.TrajectoryOptions();
        string optionsHash = TrainingArguments.Hash(runOptions);
        var evalStart = _eval?.GetState(); // every evaluation sees the same batches

        using var optimizer = TrainingOptimizers.Create(_model, _o);
        _model.Precision.ComputeType = _o.Bf16 ? ScalarType.BFloat16 : null;

        var wall = new Stopwatch(); // started once the run's earlier time is known
        double elapsedBefore = 0;
        TimeSpan Elapsed() => TimeSpan.FromSeconds(elapsedBefore + wall.Elapsed.TotalSeconds);
        var control = new TrainerControl(_o, _maxSteps, outputDir, new TrainerState { MaxSteps = _maxSteps, OptionsHash = optionsHash, RunOptions = runOptions }, Elapsed);
        var best = new BestCheckpointCallback(_model, _o.LoadBestModelAtEnd);
        var callbacks = CreateCallbacks(best, metricsLog, progress);
        void Message(string message, string? path = null) { foreach (var c in callbacks) c.OnMessage(control, message, path); }

        if (resumeFrom is not null)
        {
            (control.State, resumeFrom) = Resume(resumeFrom, outputDir, optimizer, runOptions, optionsHash, Message);
            metricsLog.TruncateAfter(control.State.GlobalStep);
            Message($"resumed from {resumeFrom} at step {control.State.GlobalStep}", resumeFrom);
        }
        else
        {
            torch.random.manual_seed(_o.Seed); // dropout's randomness starts from the seed, so a run is reproducible
        }
        AtomicFile.WriteAllText(Path.Combine(outputDir, RunFile), _o.ToJson() + "\n");

        elapsedBefore = control.State.ElapsedSeconds;
        wall.Start();
        int savedStep = resumeFrom is null ? -1 : control.State.GlobalStep;
        string? lastCheckpoint = resumeFrom;
        double? lastLoss = null;
        long windowTokens = 0;
        int windowSteps = 0;
        double windowSeconds = 0;

        string SaveCheckpoint()
        {
            best.BeforeSave(control);
            var s = control.State = control.State with
            {
                ElapsedSeconds = Elapsed().TotalSeconds,
                TorchRngState = Convert.ToBase64String(RngState()),
                TrainSampler = _train.GetState(),
            };
            string dir = CheckpointStore.PathFor(outputDir, s.GlobalStep);
            AtomicFile.WriteDirectory(dir, tmp =>
            {
                WriteModelDir(tmp);
                optimizer.Save(Path.Combine(tmp, TrainingOptimizer.FileName));
                s.Write(Path.Combine(tmp, TrainerState.FileName));
            });
            CheckpointStore.Rotate(outputDir, _o.SaveTotalLimit, s.BestCheckpointStep);
            savedStep = s.GlobalStep;
            foreach (var c in callbacks) c.OnSave(control, dir);
            return dir;
        }

        foreach (var c in callbacks) c.OnTrainBegin(control);
        _model.train();
        for (int step = control.State.GlobalStep + 1; step <= _maxSteps; step++)
        {
            if (ct.IsCancellationRequested)
            {
                if (control.State.GlobalStep > 0 && savedStep != control.State.GlobalStep) lastCheckpoint = SaveCheckpoint();
                return new TrainingResult(control.State.GlobalStep, _maxSteps, true, lastLoss, best.LastValLoss, control.State.BestValLoss, outputDir, lastCheckpoint, null)
                    { BestCheckpoint = BestCheckpointCallback.Path(control) };
            }

            // The batch follows tokens seen so far, which checkpoints hold: a resumed run ramps exactly as an uninterrupted one.
            var shape = _o.BatchAt(step, control.State.TokensSeen);
            double lr = _schedule.LearningRate(step - 1) * (_o.BatchSizeSchedule?.LearningRateFactor(shape) ?? 1);
            optimizer.LearningRate = lr;
            var stepClock = Stopwatch.StartNew();
            var (loss, gradNorm, tokens) = TrainStep(optimizer, shape, step);
            double stepSeconds = stepClock.Elapsed.TotalSeconds;
            if (!double.IsFinite(loss))
                throw new GptSharpException($"training diverged: loss is {loss} at step {step}; lower learning_rate, add warmup_steps or keep max_grad_norm on");

            control.State = control.State with { GlobalStep = step, TokensSeen = control.State.TokensSeen + tokens };
            lastLoss = loss;
            windowTokens += tokens;
            windowSteps++;
            windowSeconds += stepSeconds;
            bool logged = step % _o.LoggingSteps == 0 || step == _maxSteps;
            var done = new TrainingStep(step, loss, lr, gradNorm, tokens, windowTokens / Math.Max(windowSeconds, 1e-9),
                TimeSpan.FromSeconds((_maxSteps - step) * windowSeconds / windowSteps), logged) { Batch = shape };
            foreach (var c in callbacks) c.OnStepEnd(control, done);
            if (logged) (windowTokens, windowSteps, windowSeconds) = (0, 0, 0);

            if (_eval is not null && evalStart is not null && ((_o.EvalSteps > 0 && step % _o.EvalSteps == 0) || step == _maxSteps))
            {
                var evaluation = new TrainingEvaluation(step, Evaluate(evalStart));
                control.State = WithEvaluation(control.State, evaluation.ValLoss);
                foreach (var c in callbacks) c.OnEvaluate(control, evaluation);
            }
            if (_o.SaveSteps > 0 && step % _o.SaveSteps == 0) lastCheckpoint = SaveCheckpoint();
            if (control.ShouldStop)
            {
                Message(control.StopReason!);
                break;
            }
        }

        foreach (var c in callbacks) c.OnTrainEnd(control);
        if (best.RestoreBest(control) is { } restored) Message(restored);

        control.State = control.State with { ElapsedSeconds = Elapsed().TotalSeconds };
        string finalDir = WriteFinal(outputDir, control.State);
        foreach (var c in callbacks) c.OnSave(control, finalDir);
        return new TrainingResult(control.State.GlobalStep, _maxSteps, false, lastLoss, best.LastValLoss, control.State.BestValLoss, outputDir, lastCheckpoint, finalDir)
            { StoppedEarly = control.ShouldStop && control.State.GlobalStep < _maxSteps, BestCheckpoint = BestCheckpointCallback.Path(control), StopReason = control.StopReason };
    }

    /// <summary>The built-in callbacks in the order they run (best checkpoint first: others see its bookkeeping), then <see cref="Callbacks"/>.</summary>
    List<TrainerCallback> CreateCallbacks(BestCheckpointCallback best, MetricsLog metricsLog, IProgress<TrainingProgress>? progress)
    {
        List<TrainerCallback> callbacks = [best, new MetricsLogCallback(metricsLog)];
        if (progress is not null) callbacks.Add(new ProgressCallback(progress));
        if (_o.EarlyStoppingPatience is { } patience) callbacks.Add(new EarlyStoppingCallback(patience));
        callbacks.AddRange(Callbacks);
        return callbacks;
    }

    /// <summary>The state after an evaluation: a new best val loss, or one more evaluation without improvement (early stopping counts them).</summary>
    static TrainerState WithEvaluation(TrainerState state, double valLoss) =>
        state.BestValLoss is not { } best || valLoss < best
            ? state with { BestValLoss = valLoss, EvalsWithoutImprovement = 0 }
            : state with { EvalsWithoutImprovement = state.EvalsWithoutImprovement + 1 };

    /// <summary>Writes final/: the model directory and the run's last state.</summary>
    string WriteFinal(string outputDir, TrainerState state)
    {
        string finalDir = Path.Combine(outputDir, FinalDir);
        AtomicFile.WriteDirectory(finalDir, tmp =>
        {
            WriteModelDir(tmp, FinalModel);
            state.Write(Path.Combine(tmp, TrainerState.FileName));
        });
        return finalDir;
    }

    /// <summary>One optimizer step over the step's micro-batches; every temporary dies with the scope.</summary>
    (double Loss, double? GradNorm, long Tokens) TrainStep(TrainingOptimizer optimizer, BatchShape shape, int step) =>
        Step(_model, optimizer, _train, shape, shape.MicroBatch == _o.PerDeviceTrainBatchSize ? null : shape.MicroBatch, _o.MaxGradNorm, TrainingLoss, step);

    /// <summary>
    /// One optimizer step as a run takes it: gradient_accumulation_steps micro-batches of <paramref name="train"/>, clipping
    /// at max_grad_norm, the optimizer's update, gradients zeroed; tensors die in its own dispose scope. Also what the
    /// learning-rate range test steps with (Advisors), so it probes exactly the step a run would take.
    /// </summary>
    internal static (double Loss, double? GradNorm, long Tokens) Step(Gpt model, TrainingOptimizer optimizer, IBatchSource train, TrainingArguments o) =>
        Step(model, optimizer, train, new BatchShape(o.PerDeviceTrainBatchSize, o.GradientAccumulationSteps), null, o.MaxGradNorm, null, 0);

    /// <summary>One optimizer step of <paramref name="shape"/>; <paramref name="rows"/> asks the source for other than its own batch size.</summary>
    static (double Loss, double? GradNorm, long Tokens) Step(Gpt model, TrainingOptimizer optimizer, IBatchSource train, BatchShape shape, int? rows,
        double maxGradNorm, ITrainingLoss? trainingLoss, int step)
    {
        using var scope = NewDisposeScope();
        int accumulation = shape.Accumulation;
        double loss = 0;
        long tokens = 0;
        for (int micro = 0; micro < accumulation; micro++)
        {
            var batch = rows is { } r ? train.Next(model.Device, r) : train.Next(model.Device);
            var microLoss = (trainingLoss?.Loss(model, batch, step, micro) ?? Gpt.Loss(model.Forward(batch.Input), Targets(batch))) / accumulation;
            microLoss.backward();
            loss += microLoss.item<float>();
            tokens += batch.Input.numel();
        }
        double? gradNorm = maxGradNorm > 0 ? nn.utils.clip_grad_norm_(optimizer.Parameters, maxGradNorm) : null;
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
        Action<string, string?> message)
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
                message($"warning: cannot resume from {dir}, skipping it: {e.Message}", dir);
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
        if (state.OptionsHash != optionsHash && IsTheSameFineTuningFromBeforeOptionsPerJob(runOptions, state.RunOptions))
            state = state with { OptionsHash = optionsHash, RunOptions = runOptions }; // its next checkpoints in today's form
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

    /// <summary>
    /// A fine-tuning checkpoint written before options were split per job (2026-12-01) recorded every key of both jobs
    /// and neither val_fraction nor train_on_prompt (then flags outside the options). It resumes when every key both
    /// know agrees: the pretraining keys it also holds never applied to fine-tuning.
    /// </summary>
    static bool IsTheSameFineTuningFromBeforeOptionsPerJob(JsonObject current, JsonObject saved)
    {
        string[] added = ["val_fraction", "train_on_prompt"];
        if (!added.All(current.ContainsKey) || added.Any(saved.ContainsKey)) return false;
        return current.Where(kv => !added.Contains(kv.Key))
            .All(kv => saved.TryGetPropertyValue(kv.Key, out var old) && JsonNode.DeepEquals(kv.Value, old));
    }
}
