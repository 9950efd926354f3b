using GptSharp.Data;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using GptSharp.Checkpoints;
using GptSharp.Native;

namespace GptSharp.Training;

/// <summary>Where fine-tuning dialogues come from and how they become examples.</summary>
public sealed record FineTuningInputs
{
    /// <summary>The model directory to start from: ours, or a Hugging Face GPT-2 directory.</summary>
    public required string ModelDir { get; init; }
    /// <summary>Dialogues: JSON/JSONL input/output pairs, JSONL messages, or a &lt;user&gt;/&lt;bot&gt; transcript.</summary>
    public required string TrainFile { get; init; }
    /// <summary>Held-out dialogues; without one, <see cref="ValFraction"/> of the training conversations are held out.</summary>
    public string? ValFile { get; init; }
    public double ValFraction { get; init; } = 0.1;
    /// <summary>Compute the loss on every token instead of the assistant's replies only.</summary>
    public bool TrainOnPrompt { get; init; }
    /// <summary>Decoding defaults written to the fine-tuned model's generation_config.json.</summary>
    public GenerationOptions Generation { get; init; } = new() { MaxNewTokens = 128, Temperature = 0.7, TopK = 40 };
}

/// <summary>
/// Supervised fine-tuning on dialogues: loads a model and its tokenizer (growing the embedding for the chat role
/// tokens if needed), renders conversations with the chat template and trains with the same <see cref="Trainer"/> as
/// pretraining. final/ is a chat model directory: weights, tokenizer with its chat template, generation defaults.
/// </summary>
public static class FineTuning
{
    /// <summary>Everything checked and loaded; nothing trained or written yet.</summary>
    public sealed class Plan : IDisposable
    {
        internal Plan(TrainingOptions options, Gpt model, BpeTokenizer tokenizer, SftDataset train, SftDataset? val, IReadOnlyList<string> notes,
            GenerationOptions generation)
            => (Options, Model, Tokenizer, Train, Val, Notes, Generation) = (options, model, tokenizer, train, val, notes, generation);
        public GenerationOptions Generation { get; }
        public TrainingOptions Options { get; }
        public Gpt Model { get; }
        public BpeTokenizer Tokenizer { get; }
        public SftDataset Train { get; }
        public SftDataset? Val { get; }
        /// <summary>Optimizer steps the run will take (max_steps, or num_train_epochs over the training examples).</summary>
        public int MaxSteps => Options.ResolveMaxSteps((Train.Examples.Count + Options.PerDeviceTrainBatchSize - 1) / Options.PerDeviceTrainBatchSize);
        /// <summary>Things the user should know (truncated conversations, a grown vocabulary).</summary>
        public IReadOnlyList<string> Notes { get; }
        /// <summary>The paths the run reads (model, dialogues): starting over in output_dir never deletes them.</summary>
        public IReadOnlyList<string?> Inputs { get; init; } = [];
        public void Dispose() => Model.Dispose();
    }

    /// <summary>
    /// Checks and loads everything. Like Hugging Face's Trainer, a run with neither max_steps nor num_train_epochs lasts
    /// 3 epochs.
    /// </summary>
    public static Plan Check(FineTuningInputs inputs, TrainingOptions options)
    {
        if (!options.LengthGiven) options = options with { NumTrainEpochs = 3 };
        options.Validate();
        if (inputs.ValFile is null && inputs.ValFraction is < 0 or >= 1)
            throw new GptSharpException($"val_fraction must be in [0, 1) (got {inputs.ValFraction})");
        inputs.Generation.Validate();
        string?[] read = [inputs.ModelDir, inputs.TrainFile, inputs.ValFile];
        RunOutput.Check(options, read);
        var notes = new List<string>();

        // Read the dialogues first: a malformed file should fail before the (slow) model load.
        var conversations = DialogueReader.Read(inputs.TrainFile);
        var valConversations = inputs.ValFile is { } vf ? DialogueReader.Read(vf) : null;

        var device = Devices.Parse(options.Device);
        var loaded = ModelDirectory.Load(inputs.ModelDir, new LoadOptions { Device = device, Precision = InferencePrecision.Float32 });
        var model = loaded.Model;
        try
        {
            var template = new ChatTemplate(loaded.Tokenizer);
            if (loaded.Tokenizer.VocabSize > model.Config.VocabSize)
            {
                notes.Add($"grew the vocabulary from {model.Config.VocabSize} to {loaded.Tokenizer.VocabSize} tokens for the chat role tokens");
                var grown = VocabularyResize.Resize(model, loaded.Tokenizer.VocabSize);
                model.Dispose();
                model = grown;
            }
            if (options.BlockSize > model.Config.BlockSize)
                throw new GptSharpException($"block_size ({options.BlockSize}) exceeds the model's n_positions ({model.Config.BlockSize})");

            var all = SftDatasetBuilder.Build(conversations, template, options.BlockSize, inputs.TrainOnPrompt);
            SftDataset train;
            SftDataset? val;
            if (valConversations is not null)
                (train, val) = (all, SftDatasetBuilder.Build(valConversations, template, options.BlockSize, inputs.TrainOnPrompt));
            else if (inputs.ValFraction > 0)
            {
                var (t, v) = all.Split(inputs.ValFraction, options.Seed);
                (train, val) = (new SftDataset(t, all.Stats), v.Count > 0 ? new SftDataset(v, all.Stats) : null);
            }
            else (train, val) = (all, null);
            if (train.Examples.Count == 0) throw new GptSharpException($"{inputs.TrainFile}: no training conversations left after the validation split");
            // Every truncation is said, with the assistant text it cost: the model never learns from what was cut.
            if (all.Truncation is { Any: true } t1) notes.Add($"{inputs.TrainFile}: {t1}");
            if (valConversations is not null && val?.Truncation is { Any: true } t2) notes.Add($"{inputs.ValFile}: {t2}");
            return new Plan(options, model, loaded.Tokenizer, train, val, notes, inputs.Generation) { Inputs = read };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    public static async Task<TrainingResult> RunAsync(Plan plan, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        var o = plan.Options;
        foreach (var note in plan.Notes)
            progress?.Report(new TrainingProgress { Event = TrainingEvent.Message, MaxSteps = plan.MaxSteps, Message = note });
        progress?.Report(new TrainingProgress
        {
            Event = TrainingEvent.Message, MaxSteps = plan.MaxSteps,
            Message = $"model: {plan.Model.ParameterCount:N0} parameters; dialogues: {plan.Train.Examples.Count:N0} train / " +
                      $"{plan.Val?.Examples.Count ?? 0:N0} validation examples",
        });
        int padId = plan.Tokenizer.EndOfTextId;
        var trainer = new Trainer(plan.Model, o,
            new SftBatchSource(plan.Train.Examples, o.PerDeviceTrainBatchSize, o.BlockSize, o.Seed, padId),
            plan.Val is null ? null : new SftBatchSource(plan.Val.Examples, o.PerDeviceTrainBatchSize, o.BlockSize, o.Seed + 1, padId))
        {
            Tokenizer = plan.Tokenizer,
            EosTokenId = plan.Tokenizer.EndOfTextId,
            Inputs = plan.Inputs,
            FinalModel = final => MakeChatModel(final, plan.Generation),
        };
        return await trainer.TrainAsync(progress, ct);
    }

    /// <summary>Makes <paramref name="model"/> a chat model directory: the chat template and decoding defaults.</summary>
    public static void MakeChatModel(ModelDirectory model, GenerationOptions generation)
    {
        model.ChatTemplate = new ChatTemplate(model.Tokenizer);
        model.Generation = generation;
        // A chat model's replies end at <|end|>: listing it lets any generator that reads the file stop there too.
        model.EndTokenIds = model.Tokenizer.TokenToId(SpecialTokens.End) is int end ? [end] : [];
    }
}
