using System.Diagnostics;
using System.Text.Json.Nodes;
using GptSharp.Data;
using GptSharp.Interop;
using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>
/// The training loop: AdamW with warmup + cosine decay, gradient accumulation and clipping, periodic evaluation,
/// atomic checkpoints with exact resume, and cancellation that saves. It takes batches from any
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

    /// <summary>Saved into every checkpoint and final/, making them complete model directories.</summary>
    public BpeTokenizer? Tokenizer { get; init; }
    /// <summary>Written to config.json as eos_token_id when there is no <see cref="Tokenizer"/> to say it.</summary>
    public int? EosTokenId { get; init; }

    public Trainer(Gpt model, TrainingOptions options, IBatchSource train, IBatchSource? eval = null, ILearningRateSchedule? schedule = null)
    {
        _o = options.Validate();
        if (options.BlockSize > model.Config.BlockSize)
            throw new GptSharpException($"block_size ({options.BlockSize}) exceeds the model's n_positions ({model.Config.BlockSize})");
        _model = model;
        _train = train;
        _eval = eval;
        _schedule = schedule ?? LearningRateSchedules.Create(options);
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
        string? resumeFrom = PrepareOutputDir(outputDir);
        var metrics = new MetricsLog(Path.Combine(outputDir, MetricsLog.FileName));
        var runOptions = _o.TrajectoryOptions();
        string optionsHash = TrainingOptions.Hash(runOptions);
        var evalStart = _eval?.GetState(); // every evaluation sees the same batches

        using var optimizer = new AdamWOptimizer(_model, _o);
        _model.Precision.ComputeType = _o.Bf16 ? ScalarType.BFloat16 : null;

        TrainerState state;
        if (resumeFrom is not null)
        {
            state = LoadCheckpoint(resumeFrom, optimizer, runOptions, optionsHash);
            metrics.TruncateAfter(state.GlobalStep);
            progress?.Report(new TrainingProgress
            {
                Event = TrainingEvent.Message, Step = state.GlobalStep, MaxSteps = _o.MaxSteps, Path = resumeFrom,
                Message = $"resumed from {resumeFrom} at step {state.GlobalStep}",
            });
        }
        else
        {
            state = new TrainerState { MaxSteps = _o.MaxSteps, OptionsHash = optionsHash, RunOptions = runOptions };
            torch.random.manual_seed(_o.Seed); // dropout's randomness starts from the seed, so a run is reproducible
        }
        AtomicFile.WriteAllText(Path.Combine(outputDir, RunFile), _o.ToJson() + "\n");

        var wall = Stopwatch.StartNew();
        double elapsedBefore = state.ElapsedSeconds;
        TimeSpan Elapsed() => TimeSpan.FromSeconds(elapsedBefore + wall.Elapsed.TotalSeconds);
        int savedStep = resumeFrom is null ? -1 : state.GlobalStep;
        string? lastCheckpoint = resumeFrom;
        double? lastLoss = null, lastValLoss = null;
        long windowTokens = 0;
        int windowSteps = 0;
        double windowSeconds = 0;

        string SaveCheckpoint()
        {
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
                optimizer.Save(Path.Combine(tmp, AdamWOptimizer.FileName));
                s.Write(Path.Combine(tmp, TrainerState.FileName));
            });
            CheckpointStore.Rotate(outputDir, _o.SaveTotalLimit);
            savedStep = state.GlobalStep;
            progress?.Report(new TrainingProgress { Event = TrainingEvent.Checkpoint, Step = state.GlobalStep, MaxSteps = _o.MaxSteps, Path = dir, Elapsed = Elapsed() });
            return dir;
        }

        _model.train();
        for (int step = state.GlobalStep + 1; step <= _o.MaxSteps; step++)
        {
            if (ct.IsCancellationRequested)
            {
                if (state.GlobalStep > 0 && savedStep != state.GlobalStep) lastCheckpoint = SaveCheckpoint();
                return new TrainingResult(state.GlobalStep, _o.MaxSteps, true, lastLoss, lastValLoss, state.BestValLoss, outputDir, lastCheckpoint, null);
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
            bool logged = step % _o.LoggingSteps == 0 || step == _o.MaxSteps;
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
                Event = TrainingEvent.Step, Step = step, MaxSteps = _o.MaxSteps, Loss = loss, LearningRate = lr,
                TokensPerSecond = tokensPerSecond, Elapsed = Elapsed(), Eta = TimeSpan.FromSeconds((_o.MaxSteps - step) * windowSeconds / windowSteps),
                ValLoss = lastValLoss, Logged = logged, LiveTensors = DisposeScopeManager.Statistics.ThreadTotalLiveCount,
            });
            if (logged) (windowTokens, windowSteps, windowSeconds) = (0, 0, 0);

            if (_eval is not null && evalStart is not null && ((_o.EvalSteps > 0 && step % _o.EvalSteps == 0) || step == _o.MaxSteps))
            {
                double valLoss = Evaluate(evalStart);
                lastValLoss = valLoss;
                if (state.BestValLoss is not { } best || valLoss < best) state = state with { BestValLoss = valLoss };
                metrics.Append(new JsonObject { ["step"] = step, ["val_loss"] = valLoss, ["val_ppl"] = Math.Exp(valLoss), ["elapsed"] = Elapsed().TotalSeconds });
                progress?.Report(new TrainingProgress
                {
                    Event = TrainingEvent.Evaluation, Step = step, MaxSteps = _o.MaxSteps, Loss = loss, LearningRate = lr, ValLoss = valLoss, Elapsed = Elapsed(),
                });
            }
            if (_o.SaveSteps > 0 && step % _o.SaveSteps == 0) lastCheckpoint = SaveCheckpoint();
        }

        string finalDir = Path.Combine(outputDir, FinalDir);
        var finalState = state with { ElapsedSeconds = Elapsed().TotalSeconds };
        AtomicFile.WriteDirectory(finalDir, tmp =>
        {
            WriteModelDir(tmp);
            finalState.Write(Path.Combine(tmp, TrainerState.FileName));
        });
        progress?.Report(new TrainingProgress { Event = TrainingEvent.Checkpoint, Step = state.GlobalStep, MaxSteps = _o.MaxSteps, Path = finalDir, Elapsed = Elapsed() });
        return new TrainingResult(state.GlobalStep, _o.MaxSteps, false, lastLoss, lastValLoss, state.BestValLoss, outputDir, lastCheckpoint, finalDir);
    }

    /// <summary>One optimizer step over gradient_accumulation_steps micro-batches; every temporary dies with the scope.</summary>
    (double Loss, double? GradNorm, long Tokens) TrainStep(AdamWOptimizer optimizer)
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

    void WriteModelDir(string dir)
    {
        HfCheckpoint.Save(_model, dir, eosTokenId: Tokenizer?.EndOfTextId ?? EosTokenId);
        Tokenizer?.Save(dir);
    }

    static byte[] RngState()
    {
        using var state = torch.random.get_rng_state();
        return state.bytes.ToArray();
    }

    /// <summary>Decides between a fresh start and a resume; returns the checkpoint to resume from, if any.</summary>
    string? PrepareOutputDir(string outputDir)
    {
        Directory.CreateDirectory(outputDir);
        CheckpointStore.DeleteLeftovers(outputDir);
        string? resume = _o.ResumeFromCheckpoint switch
        {
            null => null,
            "latest" => CheckpointStore.Latest(outputDir),
            var path when File.Exists(Path.Combine(path, TrainerState.FileName)) => Path.GetFullPath(path),
            var path => throw new GptSharpException($"resume_from_checkpoint: '{path}' is not a checkpoint directory (no {TrainerState.FileName})"),
        };
        if (resume is not null) return resume;

        string[] artifacts = [RunFile, MetricsLog.FileName, FinalDir];
        var checkpoints = CheckpointStore.List(outputDir);
        bool previousRun = checkpoints.Count > 0 || artifacts.Any(a => Path.Exists(Path.Combine(outputDir, a)));
        // "latest" with nothing to resume starts over: rerunning the same command after an early interrupt just works.
        if (previousRun && !_o.OverwriteOutputDir && _o.ResumeFromCheckpoint != "latest")
            throw new GptSharpException($"output_dir '{outputDir}' already holds a training run; set resume_from_checkpoint=latest to continue it " +
                "or overwrite_output_dir=true to start over");
        foreach (var (_, path) in checkpoints) Directory.Delete(path, recursive: true);
        foreach (var a in artifacts)
        {
            string path = Path.Combine(outputDir, a);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else File.Delete(path);
        }
        return null;
    }

    TrainerState LoadCheckpoint(string dir, AdamWOptimizer optimizer, JsonObject runOptions, string optionsHash)
    {
        var state = TrainerState.Read(Path.Combine(dir, TrainerState.FileName));
        if (state.OptionsHash != optionsHash)
        {
            var changed = runOptions.Select(kv => kv.Key)
                .Union(state.RunOptions.Select(kv => kv.Key))
                .Where(k => !JsonNode.DeepEquals(runOptions[k], state.RunOptions[k]))
                .Select(k => $"{k} ({state.RunOptions[k]?.ToJsonString() ?? "null"} → {runOptions[k]?.ToJsonString() ?? "null"})");
            throw new GptSharpException($"cannot resume from {dir}: it was trained with different options: {string.Join(", ", changed)}. " +
                "Resuming needs the same options; start a new run with init_from to train further with new ones");
        }

        using (var saved = HfCheckpoint.Load(dir))
        {
            var (a, b) = (saved.Config, _model.Config);
            if ((a.VocabSize, a.BlockSize, a.NLayer, a.NHead, a.NEmbd) != (b.VocabSize, b.BlockSize, b.NLayer, b.NHead, b.NEmbd))
                throw new GptSharpException($"cannot resume from {dir}: its model shape differs from the one being trained");
            ModelWeights.Copy(saved, _model);
        }
        optimizer.Load(Path.Combine(dir, AdamWOptimizer.FileName));
        if (state.TrainSampler is { } sampler) _train.SetState(sampler);
        if (state.TorchRngState is { } rng)
        {
            using var t = tensor(Convert.FromBase64String(rng), ScalarType.Byte);
            torch.random.set_rng_state(t);
        }
        return state;
    }
}
