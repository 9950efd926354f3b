using GptSharp.Data;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using GptSharp.Checkpoints;
using GptSharp.Native;
using GptSharp.Data.Dialogues;

namespace GptSharp.Training;

/// <summary>
/// What fine-tuning starts from and learns on: a model directory and conversations — in memory
/// (<see cref="Train"/>, <see cref="Validation"/>) or in dialogue files (<see cref="TrainFile"/>, <see cref="ValFile"/>).
/// </summary>
public sealed record FineTuningInputs
{
    /// <summary>The model directory to start from: ours, or a Hugging Face GPT-2 directory.</summary>
    public required string ModelDir { get; init; }
    /// <summary>Training conversations in memory (checked like a file's); give this or <see cref="TrainFile"/>.</summary>
    public IEnumerable<Conversation>? Train { get; init; }
    /// <summary>Dialogues: JSON/JSONL input/output pairs, JSONL messages, or a &lt;user&gt;/&lt;bot&gt; transcript.</summary>
    public string? TrainFile { get; init; }
    /// <summary>
    /// Held-out conversations in memory, or in <see cref="ValFile"/> (not both); without either, val_fraction of the
    /// training conversations are held out.
    /// </summary>
    public IEnumerable<Conversation>? Validation { get; init; }
    public string? ValFile { get; init; }
    /// <summary>Decoding defaults written to the fine-tuned model's generation_config.json.</summary>
    public GenerationOptions Generation { get; init; } = FineTuning.DefaultGeneration;
}

/// <summary>
/// Supervised fine-tuning on dialogues: loads a model and its tokenizer (growing the embedding for the chat role
/// tokens if needed), renders conversations with the chat template and trains with the same <see cref="Trainer"/> as
/// pretraining. final/ is a chat model directory: weights, tokenizer with its chat template, generation defaults.
/// </summary>
public static class FineTuning
{
    /// <summary>The decoding defaults a chat model gets when nothing else says them.</summary>
    public static GenerationOptions DefaultGeneration => new() { MaxNewTokens = 128, Temperature = 0.7, TopK = 40 };

    /// <summary>Everything checked and loaded; nothing trained or written yet.</summary>
    public sealed class Plan : IDisposable
    {
        internal Plan(FineTuningOptions options, Gpt model, BpeTokenizer tokenizer, SftDataset train, SftDataset? val, IReadOnlyList<string> notes,
            GenerationOptions generation)
            => (Options, Model, Tokenizer, Train, Val, Notes, Generation) = (options, model, tokenizer, train, val, notes, generation);
        public GenerationOptions Generation { get; }
        /// <summary>The options, resolved: block_size is set (fitted to the model unless given) and the run has a length.</summary>
        public FineTuningOptions Options { get; }
        public Gpt Model { get; }
        public BpeTokenizer Tokenizer { get; }
        public SftDataset Train { get; }
        public SftDataset? Val { get; }
        /// <summary>Tokens per example: block_size as given, or fitted to the model's context.</summary>
        public int BlockSize => Options.BlockSize!.Value;
        /// <summary>Optimizer steps the run will take (max_steps, or num_train_epochs over the training examples).</summary>
        public int MaxSteps => Options.ResolveMaxSteps(b => (Train.Examples.Count + b - 1) / b);
        /// <summary>Things the user should know (truncated conversations, a grown vocabulary).</summary>
        public IReadOnlyList<string> Notes { get; }
        /// <summary>The paths the run reads (model, dialogues): starting over in output_dir never deletes them.</summary>
        public IReadOnlyList<string?> Inputs { get; init; } = [];
        public void Dispose() => Model.Dispose();
    }

    /// <summary>
    /// Checks and loads everything. Like Hugging Face's Trainer, a run with neither max_steps nor num_train_epochs lasts
    /// 3 epochs; block_size, unless given, fits the model (<see cref="FineTuningOptions.ResolveBlockSize"/>).
    /// </summary>
    public static Plan Check(FineTuningInputs inputs, FineTuningOptions options)
    {
        if (!options.LengthGiven) options = options with { NumTrainEpochs = 3 };
        options.Validate();
        if ((inputs.Train is null) == (inputs.TrainFile is null))
            throw new GptSharpException("fine-tuning needs training conversations: give either Train (in memory) or TrainFile, not both");
        if (inputs.Validation is not null && inputs.ValFile is not null)
            throw new GptSharpException("give validation conversations either in memory (Validation) or as ValFile, not both");
        inputs.Generation.Validate();
        string?[] read = [inputs.ModelDir, inputs.TrainFile, inputs.ValFile];
        RunOutput.Check(options, read);
        var notes = new List<string>();

        // Read the dialogues first: a malformed file should fail before the (slow) model load.
        const string trainMemory = "train conversations", valMemory = "validation conversations";
        string trainName = inputs.TrainFile ?? trainMemory;
        var conversations = inputs.Train is { } given ? DialogueReader.Check(given, trainMemory) : DialogueReader.Read(inputs.TrainFile!);
        var valConversations = inputs.Validation is { } givenVal ? DialogueReader.Check(givenVal, valMemory)
            : inputs.ValFile is { } vf ? DialogueReader.Read(vf) : null;
        string valName = inputs.ValFile ?? valMemory;

        var device = Devices.Parse(options.Device);
        var loaded = ModelDirectory.Load(inputs.ModelDir, new LoadOptions { Device = device, Precision = InferencePrecision.Float32, Engine = DecodingEngineKind.Torch });
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
            options = options with { BlockSize = options.ResolveBlockSize(model.Config.BlockSize) };
            int blockSize = options.BlockSize.Value;

            var (train, val) = SftDatasetBuilder.BuildSplit(conversations, valConversations, template, blockSize, options.TrainOnPrompt,
                                                            options.ValFraction, options.Seed, trainName, valName, notes);
            var plan = new Plan(options, model, loaded.Tokenizer, train, val, notes, inputs.Generation) { Inputs = read };
            _ = plan.MaxSteps; // resolves num_train_epochs on the examples, checking warmup_steps against it before any work
            return plan;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Trains a plan from <see cref="Check"/> and makes final/ a chat model; <paramref name="callbacks"/> go to the
    /// <see cref="Trainer"/> (e.g. an evaluation hook that may stop the run).
    /// </summary>
    public static async Task<TrainingResult> RunAsync(Plan plan, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default,
        IReadOnlyList<TrainerCallback>? callbacks = null)
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
            TrainBatches(plan),
            plan.Val is null ? null : new SftBatchSource(plan.Val.Examples, o.PerDeviceTrainBatchSize, plan.BlockSize, o.Seed + 1, padId))
        {
            Tokenizer = plan.Tokenizer,
            EosTokenId = plan.Tokenizer.EndOfTextId,
            Inputs = plan.Inputs,
            FinalModel = final => MakeChatModel(final, plan.Generation),
            Callbacks = callbacks ?? [],
        };
        return await trainer.TrainAsync(progress, ct);
    }

    /// <summary>The training examples' batches as a run draws them: shuffled from the seed, padded with &lt;|endoftext|&gt;.</summary>
    internal static IBatchSource TrainBatches(Plan plan) =>
        new SftBatchSource(plan.Train.Examples, plan.Options.PerDeviceTrainBatchSize, plan.BlockSize, plan.Options.Seed, plan.Tokenizer.EndOfTextId);

    /// <summary>Makes <paramref name="model"/> a chat model directory: the chat template and decoding defaults.</summary>
    public static void MakeChatModel(ModelDirectory model, GenerationOptions generation)
    {
        model.ChatTemplate = new ChatTemplate(model.Tokenizer);
        model.Generation = generation;
        // A chat model's replies end at <|end|>: listing it lets any generator that reads the file stop there too.
        model.EndTokenIds = model.Tokenizer.TokenToId(SpecialTokens.End) is int end ? [end] : [];
    }
}
