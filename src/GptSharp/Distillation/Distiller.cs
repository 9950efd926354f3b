using GptSharp.Checkpoints;
using GptSharp.Data;
using GptSharp.Data.Dialogues;
using GptSharp.Data.Shards;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using GptSharp.Native;
using GptSharp.Tokenization;
using GptSharp.Training;

namespace GptSharp.Distillation;

/// <summary>
/// Knowledge distillation on the same <see cref="Trainer"/> as pretraining and fine-tuning: a student made from the
/// teacher's layers (<see cref="StudentInitialization"/>) or a config of its own learns from the teacher's
/// distributions (<see cref="DistillationObjective"/>) on text or dialogues. Checkpoints, exact resume, metrics and
/// final/ are the Trainer's; val_loss is the student's plain cross-entropy, comparable with fine-tuning's. Distilled on
/// dialogues, final/ is a chat model with the teacher's decoding defaults.
/// </summary>
public static class Distiller
{
    /// <summary>Everything checked and loaded; nothing trained or written yet.</summary>
    public sealed class Plan : IDisposable
    {
        internal Plan(DistillationOptions options, Gpt teacher, Gpt student, BpeTokenizer tokenizer) =>
            (Options, Teacher, Student, Tokenizer) = (options, teacher, student, tokenizer);
        /// <summary>The options, resolved: block_size is set and the run has a length.</summary>
        public DistillationOptions Options { get; }
        /// <summary>The teacher, in teacher_precision and eval mode.</summary>
        public Gpt Teacher { get; }
        public Gpt Student { get; }
        /// <summary>The tokenizer both share, saved with the student.</summary>
        public BpeTokenizer Tokenizer { get; }
        /// <summary>The teacher layers the student was copied from; null for a student_config student.</summary>
        public IReadOnlyList<int>? StudentLayers { get; init; }
        /// <summary>Dialogues: the examples (and final/ becomes a chat model); null for text.</summary>
        public SftDataset? Train { get; init; }
        public SftDataset? Val { get; init; }
        /// <summary>Text: the data directory's description; null for dialogues.</summary>
        public DatasetMeta? Text { get; init; }
        public string? DataDir { get; init; }
        /// <summary>Decoding defaults written with a chat student: the teacher's.</summary>
        public GenerationOptions Generation { get; init; } = new();
        public int BlockSize => Options.BlockSize!.Value;
        /// <summary>Optimizer steps the run will take.</summary>
        public int MaxSteps => Options.ResolveMaxSteps(BatchesPerEpoch);
        /// <summary>Things the user should know (truncated conversations).</summary>
        public IReadOnlyList<string> Notes { get; init; } = [];
        /// <summary>The paths the run reads: starting over in output_dir never deletes them.</summary>
        public IReadOnlyList<string?> Inputs { get; init; } = [];

        long? BatchesPerEpoch(int b) => Train is { } train ? (train.Examples.Count + b - 1) / b
            : EpochSizedSource.BatchesPerEpoch(Text!.Train.Tokens, b, BlockSize);

        public void Dispose()
        {
            Student.Dispose();
            Teacher.Dispose();
        }
    }

    /// <summary>
    /// Checks every input before any work, so that bad input writes nothing: the options, the teacher, the student's
    /// layers or config against it, their shared tokenizer, the data, output_dir. Then loads the teacher and makes the
    /// student. On dialogues a run without max_steps or num_train_epochs lasts 3 epochs, as fine-tuning; on text 1,000 steps.
    /// </summary>
    public static Plan Check(DistillationInputs inputs, DistillationOptions options)
    {
        bool dialogues = !Directory.Exists(inputs.Data);
        if (dialogues && !options.LengthGiven) options = options with { NumTrainEpochs = 3 };
        options.Validate();
        if (!Directory.Exists(inputs.TeacherDir)) throw new GptSharpException($"teacher {inputs.TeacherDir}: model directory not found");
        if (!dialogues && inputs.ValData is not null)
            throw new GptSharpException($"validation dialogues ({inputs.ValData}) go with dialogue data; the data directory {inputs.Data} has its own val split");
        if (dialogues && !File.Exists(inputs.Data))
            throw new GptSharpException($"data {inputs.Data}: not found (expected a data directory from `gptsharp data prepare` or a dialogue file)");

        var teacherConfig = HfCheckpoint.ReadConfig(inputs.TeacherDir);
        var tokenizer = ModelDirectory.LoadTokenizer(inputs.TeacherDir, teacherConfig);
        int[]? layers = null;
        GptConfig studentConfig;
        if (options.StudentConfig is { } configPath)
        {
            studentConfig = StudentConfigFile.Read(configPath, teacherConfig);
            if (studentConfig.NLayer > teacherConfig.NLayer)
                throw new GptSharpException($"student_config {configPath}: n_layer {studentConfig.NLayer} is deeper than the teacher's {teacherConfig.NLayer}: " +
                                            "a student is a smaller model than its teacher");
            CheckSharedTokenizer(configPath, studentConfig, tokenizer, teacherConfig, inputs.TeacherDir);
        }
        else
        {
            layers = options.StudentLayers is { } n ? LayerSelection.Spread(teacherConfig.NLayer, n)
                : LayerSelection.Check(options.StudentLayerIndices!, teacherConfig.NLayer);
            studentConfig = teacherConfig with { NLayer = layers.Length };
        }
        studentConfig = studentConfig with { Dropout = options.Dropout ?? studentConfig.Dropout };
        if (options.AlphaCos > 0 && studentConfig.NEmbd != teacherConfig.NEmbd)
            throw new GptSharpException($"alpha_cos compares hidden states, which needs the same width: the student's n_embd is {studentConfig.NEmbd}, " +
                                        $"the teacher's {teacherConfig.NEmbd}; set alpha_cos=0");
        int context = Math.Min(teacherConfig.BlockSize, studentConfig.BlockSize);
        if (options.BlockSize is { } given) TrainingArguments.CheckFitsModel(given, context, " (the shorter of teacher's and student's)");
        options = options with { BlockSize = options.BlockSize ?? Math.Min(FineTuningOptions.DefaultBlockSize, context) };
        int blockSize = options.BlockSize!.Value;

        var notes = new List<string>();
        SftDataset? train = null, val = null;
        DatasetMeta? text = null;
        if (dialogues)
        {
            (train, val) = DialogueExamples(inputs, options, tokenizer, teacherConfig, notes);
        }
        else
        {
            text = DatasetMeta.Read(inputs.Data);
            CheckTextData(text, inputs.Data, tokenizer, teacherConfig, blockSize);
        }
        string?[] read = [inputs.TeacherDir, inputs.Data, inputs.ValData, options.StudentConfig];
        RunOutput.Check(options, read);
        options.ResolveMaxSteps(b => train is not null ? (train.Examples.Count + b - 1) / b
            : EpochSizedSource.BatchesPerEpoch(text!.Train.Tokens, b, blockSize)); // warmup_steps against the length, before any work

        var device = Devices.Parse(options.Device);
        var teacherDir = ModelDirectory.Load(inputs.TeacherDir, new LoadOptions { Device = device, Precision = InferencePrecision.Float32, Engine = DecodingEngineKind.Torch });
        var teacher = teacherDir.Model;
        Gpt? student = null;
        try
        {
            student = layers is not null ? StudentInitialization.FromTeacherLayers(teacher, layers, options.Seed, device, studentConfig.Dropout)
                : Gpt.Create(studentConfig, options.Seed, device);
            // The student copied the float weights; now the teacher computes as asked.
            switch (options.TeacherPrecision)
            {
                case "int8": Int8WeightOnly.Quantize(teacher); break;
                case "bf16": PrecisionSetup.Apply(teacher, InferencePrecision.BFloat16); break;
            }
            bool hasGeneration = File.Exists(Path.Combine(inputs.TeacherDir, GenerationConfigFile.FileName));
            return new Plan(options, teacher, student, tokenizer)
            {
                StudentLayers = layers, Train = train, Val = val, Text = text, DataDir = dialogues ? null : inputs.Data, Notes = notes, Inputs = read,
                Generation = hasGeneration ? teacherDir.Generation : FineTuning.DefaultGeneration,
            };
        }
        catch
        {
            student?.Dispose();
            teacher.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A student_config next to tokenizer files (a model directory's config.json) names its tokenizer: it must be the
    /// teacher's. Either way the student must have the teacher's vocabulary size, so both score the same tokens.
    /// </summary>
    static void CheckSharedTokenizer(string configPath, GptConfig student, BpeTokenizer teacherTokenizer, GptConfig teacher, string teacherDir)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        if (File.Exists(Path.Combine(dir, BpeFiles.VocabFile)))
        {
            var own = BpeTokenizer.Load(dir);
            var chat = SpecialTokens.All.Where(t => own.TokenToId(t) != teacherTokenizer.TokenToId(t)).ToList();
            if (own.VocabSize != teacherTokenizer.VocabSize || !own.EncodesTextLike(teacherTokenizer) || chat.Count > 0)
                throw new GptSharpException($"student_config {configPath}: its tokenizer ({dir}, {own.VocabSize} tokens) is not the teacher's " +
                    $"({teacherDir}, {teacherTokenizer.VocabSize} tokens){(chat.Count > 0 ? $"; they differ in {string.Join(", ", chat)}" : "")}: " +
                    "teacher and student must share the tokenizer (same vocabulary and chat tokens)");
        }
        if (student.VocabSize != teacher.VocabSize)
            throw new GptSharpException($"student_config {configPath}: vocab_size {student.VocabSize} differs from the teacher's {teacher.VocabSize}: " +
                                        "teacher and student must share the tokenizer (leave vocab_size out to take the teacher's)");
    }

    static (SftDataset Train, SftDataset? Val) DialogueExamples(DistillationInputs inputs, DistillationOptions options, BpeTokenizer tokenizer,
        GptConfig teacher, List<string> notes)
    {
        var conversations = DialogueReader.Read(inputs.Data);
        var valConversations = inputs.ValData is { } vf ? DialogueReader.Read(vf) : null;
        if (SpecialTokens.ChatRoles.Any(t => tokenizer.TokenToId(t) is not int id || id >= teacher.VocabSize))
            throw new GptSharpException($"teacher {inputs.TeacherDir} is not a chat model (its embedding has no chat role tokens): " +
                                        "fine-tune it on dialogues first (gptsharp finetune), or distil on text (a data directory)");
        var template = new ChatTemplate(tokenizer);
        int blockSize = options.BlockSize!.Value;
        var (train, val) = SftDatasetBuilder.BuildSplit(conversations, valConversations, template, blockSize, options.TrainOnPrompt,
                                                        options.ValFraction, options.Seed, inputs.Data, inputs.ValData, notes);
        return (train, val);
    }

    static void CheckTextData(DatasetMeta data, string dataDir, BpeTokenizer tokenizer, GptConfig teacher, int blockSize)
    {
        if (data.VocabSize > teacher.VocabSize)
            throw new GptSharpException($"data {dataDir} has a vocabulary of {data.VocabSize} tokens, more than the teacher's {teacher.VocabSize}: " +
                                        "prepare it with the teacher's tokenizer (gptsharp data prepare --tokenizer TEACHER_DIR)");
        if (TokenizerSource.ForDataset(data) is { } dataTokenizer && !dataTokenizer.EncodesTextLike(tokenizer))
            throw new GptSharpException($"data {dataDir} was prepared with another tokenizer ({data.Tokenizer?.Path}) than the teacher's: " +
                                        "its ids would mean other tokens; prepare it with --tokenizer TEACHER_DIR");
        if (data.Train.Tokens < blockSize + 1)
            throw new GptSharpException($"data {dataDir}: the train split has {data.Train.Tokens} tokens, fewer than block_size + 1 = {blockSize + 1}");
    }

    /// <summary>Trains a plan from <see cref="Check"/>; <paramref name="callbacks"/> go to the <see cref="Trainer"/>.</summary>
    public static async Task<TrainingResult> RunAsync(Plan plan, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default,
        IReadOnlyList<TrainerCallback>? callbacks = null)
    {
        var o = plan.Options;
        void Say(string message) => progress?.Report(new TrainingProgress { Event = TrainingEvent.Message, MaxSteps = plan.MaxSteps, Message = message });
        foreach (var note in plan.Notes) Say(note);
        var (t, s) = (plan.Teacher.Config, plan.Student.Config);
        Say($"teacher: {plan.Teacher.ParameterCount:N0} parameters (n_layer {t.NLayer}, n_embd {t.NEmbd}) in {o.TeacherPrecision}; " +
            $"student: {plan.Student.ParameterCount:N0} parameters (n_layer {s.NLayer}, n_embd {s.NEmbd}, " +
            (plan.StudentLayers is { } layers ? $"from teacher layers [{string.Join(", ", layers)}])" : "initialised fresh)") +
            (plan.Train is { } train ? $"; dialogues: {train.Examples.Count:N0} train / {plan.Val?.Examples.Count ?? 0:N0} validation examples"
                : $"; text: {plan.Text!.Train.Tokens:N0} train / {plan.Text.Val.Tokens:N0} val tokens"));

        using var trainTokens = plan.DataDir is { } dir ? TokenDataset.Open(dir, "train") : null;
        using var valTokens = plan.DataDir is { } d && plan.Text!.Val.Tokens >= plan.BlockSize + 1 ? TokenDataset.Open(d, "val") : null;
        int padId = plan.Tokenizer.EndOfTextId;
        IBatchSource trainBatches = plan.Train is { } examples
            ? new SftBatchSource(examples.Examples, o.PerDeviceTrainBatchSize, plan.BlockSize, o.Seed, padId)
            : new EpochSizedSource(new BatchSampler(trainTokens!, o.PerDeviceTrainBatchSize, plan.BlockSize, o.Seed), plan.Text!.Train.Tokens, plan.BlockSize);
        IBatchSource? valBatches = plan.Val is { } v ? new SftBatchSource(v.Examples, o.PerDeviceTrainBatchSize, plan.BlockSize, o.Seed + 1, padId)
            : valTokens is not null ? new BatchSampler(valTokens, o.PerDeviceTrainBatchSize, plan.BlockSize, o.Seed + 1) : null;
        if (plan.Train is null && valBatches is null) Say($"no evaluation: the val split has fewer than block_size + 1 = {plan.BlockSize + 1} tokens");

        var stops = new[] { plan.Tokenizer.EndOfTextId, plan.Tokenizer.TokenToId(SpecialTokens.End) ?? -1 }.Where(id => id >= 0).ToArray();
        var sampler = o.Lmbda > 0 ? new OnPolicySampler(plan.BlockSize, o.MaxNewTokens, o.SamplingTemperature, o.Seed, stops, padId) : null;
        var trainer = new Trainer(plan.Student, o, trainBatches, valBatches)
        {
            Tokenizer = plan.Tokenizer,
            EosTokenId = plan.Tokenizer.EndOfTextId,
            Inputs = plan.Inputs,
            FinalModel = plan.Train is null ? null : final => FineTuning.MakeChatModel(final, plan.Generation),
            Callbacks = callbacks ?? [],
            TrainingLoss = new DistillationObjective(plan.Teacher, o, sampler),
        };
        return await trainer.TrainAsync(progress, ct);
    }
}
