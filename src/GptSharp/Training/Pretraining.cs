using GptSharp.Data;
using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using GptSharp.Checkpoints;
using GptSharp.Native;
using GptSharp.Data.Shards;

namespace GptSharp.Training;

/// <summary>
/// Pretraining from a prepared data directory: resolves the model (a preset, explicit sizes or init_from), samples random
/// windows of the train split, evaluates on the val split and runs a <see cref="Trainer"/>.
/// </summary>
public static class Pretraining
{
    /// <summary>
    /// A plan whose every input has been checked; nothing has been trained or written yet. <see cref="Tokenizer"/> is the
    /// data's tokenizer, saved into checkpoints; null when meta.json names none that can be found. <see cref="MaxSteps"/>
    /// is the run's length (max_steps, or num_train_epochs over the train split).
    /// </summary>
    public sealed record Plan(PretrainingOptions Options, DatasetMeta Data, GptConfig Model, BpeTokenizer? Tokenizer, torch.Device Device)
    {
        public int MaxSteps => Options.ResolveMaxSteps(b => BatchesPerEpoch(Options, Data, b));
    }

    /// <summary>Pretraining samples random windows; an epoch is as many batches as hold the train split's tokens once.</summary>
    static long? BatchesPerEpoch(PretrainingOptions o, DatasetMeta data, int batchSize) =>
        EpochSizedSource.BatchesPerEpoch(data.Train.Tokens, batchSize, o.BlockSize);

    /// <summary>
    /// Checks everything that can be checked before work starts: option ranges, the data directory, the model's shape
    /// against the data's vocabulary and block_size, output_dir (<see cref="RunOutput.Check"/>), and the device.
    /// <see cref="Plan.MaxSteps"/> resolves the run's length, which checks warmup_steps against it.
    /// </summary>
    public static Plan Check(PretrainingOptions options)
    {
        options.Validate();
        if (string.IsNullOrWhiteSpace(options.DataDir)) throw new GptSharpException("invalid option: data_dir is required");
        var data = DatasetMeta.Read(options.DataDir);
        var model = ModelConfig(options, data);
        TrainingArguments.CheckFitsModel(options.BlockSize, model.BlockSize,
            options.InitFrom is null ? "; raise n_positions or lower block_size" : $" from {options.InitFrom}; lower block_size");
        if (data.VocabSize > model.VocabSize)
            throw new GptSharpException($"vocab_size ({model.VocabSize}) is smaller than the data's vocabulary ({data.VocabSize} in {options.DataDir})");
        if (data.Train.Tokens < options.BlockSize + 1)
            throw new GptSharpException($"{options.DataDir}: the train split has {data.Train.Tokens} tokens, fewer than block_size + 1 = {options.BlockSize + 1}");
        options.ResolveMaxSteps(b => BatchesPerEpoch(options, data, b)); // the length, and warmup_steps within it
        var tokenizer = TokenizerSource.ForDataset(data);
        if (tokenizer is not null) ModelDirectory.CheckVocabulary(tokenizer, model, options.InitFrom ?? "the model");
        if (options.InitFrom is { } init && tokenizer is not null) CheckSameTokenizer(init, model, data, tokenizer, options.DataDir);
        RunOutput.Check(options, Inputs(options));
        return new Plan(options, data, model, tokenizer, Devices.Parse(options.Device));
    }

    /// <summary>
    /// init_from's weights learned its tokenizer's ids: data made by another tokenizer would train them on other tokens and
    /// save a tokenizer that does not match them.
    /// </summary>
    static void CheckSameTokenizer(string initFrom, GptConfig model, DatasetMeta data, BpeTokenizer dataTokenizer, string dataDir)
    {
        var modelTokenizer = ModelDirectory.LoadTokenizer(initFrom, model);
        string dataSource = data.Tokenizer?.Path ?? "?";
        if (!dataTokenizer.EncodesTextLike(modelTokenizer))
            throw new GptSharpException($"data_dir {dataDir} was prepared with another tokenizer ({dataSource}, {dataTokenizer.VocabSize} tokens) " +
                $"than init_from {initFrom} ({modelTokenizer.VocabSize} tokens): its ids would mean other tokens to the model; " +
                $"prepare the data with --tokenizer {initFrom}");
    }

    /// <summary>What the run reads: starting over in output_dir never deletes them.</summary>
    static string?[] Inputs(PretrainingOptions o) => [o.InitFrom, o.DataDir];

    static GptConfig ModelConfig(PretrainingOptions o, DatasetMeta data)
    {
        if (o.InitFrom is { } dir)
            return HfCheckpoint.ReadConfig(dir) with { Dropout = o.Dropout };
        bool explicitShape = o.Preset is null && (o.NLayer, o.NHead, o.NEmbd) != (null, null, null);
        var baseConfig = GptPresets.Get(o.Preset ?? "tiny");
        return (baseConfig with
        {
            NLayer = o.NLayer ?? baseConfig.NLayer,
            NHead = o.NHead ?? baseConfig.NHead,
            NEmbd = o.NEmbd ?? baseConfig.NEmbd,
            BlockSize = o.NPositions ?? (explicitShape ? o.BlockSize : baseConfig.BlockSize),
            VocabSize = o.VocabSize ?? data.VocabSize,
            Dropout = o.Dropout,
        }).Validate();
    }

    /// <summary>Checks (<see cref="Check"/>) and runs; <paramref name="callbacks"/> go to the <see cref="Trainer"/> (e.g. an evaluation hook that may stop the run).</summary>
    public static Task<TrainingResult> RunAsync(PretrainingOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default,
        IReadOnlyList<TrainerCallback>? callbacks = null) =>
        RunAsync(Check(options), progress, ct, callbacks);

    /// <summary>Runs a plan from <see cref="Check"/> (for callers that check before showing progress).</summary>
    public static async Task<TrainingResult> RunAsync(Plan plan, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default,
        IReadOnlyList<TrainerCallback>? callbacks = null)
    {
        var options = plan.Options;
        using var train = TokenDataset.Open(options.DataDir, "train");
        using var val = plan.Data.Val.Tokens >= options.BlockSize + 1 ? TokenDataset.Open(options.DataDir, "val") : null;
        if (plan.Tokenizer is null)
            progress?.Report(new TrainingProgress { Event = TrainingEvent.Message, MaxSteps = plan.MaxSteps,
                Message = "the data's tokenizer was not found; checkpoints will hold no tokenizer files" });
        if (val is null)
            progress?.Report(new TrainingProgress { Event = TrainingEvent.Message, MaxSteps = plan.MaxSteps,
                Message = $"no evaluation: the val split has fewer than block_size + 1 = {options.BlockSize + 1} tokens" });

        using var model = CreateModel(plan);
        var m = plan.Model;
        progress?.Report(new TrainingProgress { Event = TrainingEvent.Message, MaxSteps = plan.MaxSteps,
            Message = $"model: {model.ParameterCount:N0} parameters (n_layer {m.NLayer}, n_head {m.NHead}, n_embd {m.NEmbd}, n_positions {m.BlockSize}, " +
                      $"vocab {m.VocabSize}) on {plan.Device.type.ToString().ToLowerInvariant()}; data: {plan.Data.Train.Tokens:N0} train / {plan.Data.Val.Tokens:N0} val tokens" });
        var trainer = new Trainer(
            model, options,
            TrainBatches(plan, train),
            val is null ? null : new BatchSampler(val, options.PerDeviceTrainBatchSize, options.BlockSize, options.Seed + 1))
        {
            Tokenizer = plan.Tokenizer,
            EosTokenId = plan.Data.EndOfTextId,
            Inputs = Inputs(options),
            Callbacks = callbacks ?? [],
        };
        return await trainer.TrainAsync(progress, ct);
    }

    /// <summary>The train split's batches as a run samples them: random windows, seeded, sized as an epoch of the split.</summary>
    internal static IBatchSource TrainBatches(Plan plan, TokenDataset train) =>
        new EpochSizedSource(new BatchSampler(train, plan.Options.PerDeviceTrainBatchSize, plan.Options.BlockSize, plan.Options.Seed),
            plan.Data.Train.Tokens, plan.Options.BlockSize);

    /// <summary>The model a run starts from: created from the seed, with init_from's weights when given.</summary>
    internal static Gpt CreateModel(Plan plan)
    {
        var model = Gpt.Create(plan.Model, plan.Options.Seed, plan.Device);
        if (plan.Options.InitFrom is { } dir)
        {
            using var pretrained = HfCheckpoint.Load(dir);
            ModelWeights.Copy(pretrained, model);
        }
        return model;
    }
}
