using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Inference;
using GptSharp.Inference.Onnx;
using GptSharp.IO;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using GptSharp.Tokenization;
using static TorchSharp.torch;

namespace GptSharp.Checkpoints;

/// <summary>
/// A model directory as one object, like Hugging Face's <c>from_pretrained</c>/<c>save_pretrained</c>: the model
/// (config.json and model.safetensors, or model.int8.safetensors for an int8 model), its tokenizer (vocab.json,
/// merges.txt, tokenizer_config.json with the chat template of a chat model) and its decoding defaults
/// (generation_config.json). <see cref="Load"/> reads and checks them against each other; <see cref="Save"/> writes
/// them all, replacing the directory only once complete.
/// </summary>
public sealed class ModelDirectory : IDisposable
{
    const string ChatTemplateKey = "chat_template";
    readonly bool _ownsModel;
    GenerationOptions? _generation;

    /// <summary>
    /// A model and its tokenizer, to save (<see cref="Save"/>). The caller keeps ownership of <paramref name="model"/>:
    /// disposing this object does not dispose it (a loaded one does).
    /// </summary>
    public ModelDirectory(Gpt model, BpeTokenizer tokenizer) : this(model, tokenizer, ownsModel: false) { }

    ModelDirectory(Gpt model, BpeTokenizer tokenizer, bool ownsModel)
    {
        CheckVocabulary(tokenizer, model.Config, "the model");
        (Model, Tokenizer, _ownsModel) = (model, tokenizer, ownsModel);
    }

    public Gpt Model { get; }
    public BpeTokenizer Tokenizer { get; }

    /// <summary>The directory this was loaded from or last saved to; null before either.</summary>
    public string? Directory { get; private set; }

    /// <summary>
    /// Decoding defaults (generation_config.json); the defaults of <see cref="GenerationOptions"/> when the directory
    /// has none. Setting it makes <see cref="Save"/> write the file; a directory that had none is saved without one.
    /// </summary>
    public GenerationOptions Generation
    {
        get => _generation ?? new GenerationOptions();
        set => _generation = value.Validate();
    }

    /// <summary>
    /// The chat template of a chat model (tokenizer_config.json names one and the tokenizer has the role tokens); null
    /// for a base model, or for one whose template is not ours (no role tokens to render it with).
    /// </summary>
    public ChatTemplate? ChatTemplate { get; set; }

    /// <summary>
    /// The ids generation_config.json names as ends of generation (eos_token_id), besides the tokenizer's own
    /// <c>&lt;|endoftext|&gt;</c> and <c>&lt;|end|&gt;</c>, which generation always stops at. Saved with <see cref="Generation"/>.
    /// </summary>
    public IReadOnlyList<int> EndTokenIds { get; set; } = [];

    /// <summary>
    /// A generator over this model with the directory's decoding defaults (<see cref="Generation"/>, used when a call
    /// gives no options) that ends at every end token the directory names (<see cref="EndTokenIds"/>, the tokenizer's
    /// <c>&lt;|endoftext|&gt;</c> and, for a chat model, <c>&lt;|end|&gt;</c>).
    /// </summary>
    public TextGenerator CreateGenerator() => new(Model, Tokenizer, Tokenizer.EndOfTextId, EndTokenIds) { Defaults = Generation };

    /// <summary>
    /// Loads model, tokenizer, decoding defaults and chat template. A directory without tokenizer files (such as a bare
    /// Hugging Face download of weights) gets the built-in GPT-2 vocabulary when its vocab_size fits it. An int8
    /// directory loads as int8 layers (or, asked for fp32 or bf16, as its dequantised weights).
    /// </summary>
    public static ModelDirectory Load(string dir, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        var config = HfCheckpoint.ReadConfig(dir);
        var tokenizer = LoadTokenizer(dir, config);
        // Bad generation or tokenizer files fail before the (slow) weights load.
        int[] ends = GenerationConfigFile.ReadEndTokenIds(dir);
        GenerationOptions? generation = File.Exists(Path.Combine(dir, GenerationConfigFile.FileName)) ? GenerationConfigFile.Read(dir) : null;
        var template = HasChatTemplate(dir) && HasRoleTokens(tokenizer) ? new ChatTemplate(tokenizer) : null;
        // A 4-bit directory runs in 4 bits unless asked otherwise, as an int8 one runs in int8.
        var asked = options.Precision == InferencePrecision.Auto && Int4Checkpoint.Exists(dir) ? InferencePrecision.Int4 : options.Precision;
        if (asked == InferencePrecision.Auto && Int8Checkpoint.Exists(dir) && !File.Exists(Path.Combine(dir, HfCheckpoint.WeightsFile)))
            asked = InferencePrecision.Int8;
        bool onCpu = options.Device is null || options.Device.type == TorchSharp.DeviceType.CPU;
        var engine = DecodingEngineNames.Resolve(options.Engine, asked, onnxRuns: onCpu && config.HeadSize % 8 == 0);
        if (engine == DecodingEngineKind.OnnxRuntime && !onCpu)
            throw new GptSharpException("the onnx engine runs on the CPU; on a GPU use the torch engine (--engine torch)");
        var model = HfCheckpoint.Load(dir, options.Device, engine == DecodingEngineKind.OnnxRuntime ? InferencePrecision.Float32 : options.Precision);
        if (engine == DecodingEngineKind.OnnxRuntime)
        {
            var precision = asked switch
            {
                InferencePrecision.BFloat16 => OnnxPrecision.BFloat16,
                InferencePrecision.Int8 => OnnxPrecision.Int8,
                InferencePrecision.Int4 => OnnxPrecision.Int4,
                _ => OnnxPrecision.Float32,
            };
            try { OnnxRuntimeEngine.Attach(model, precision); }
            catch { model.Dispose(); throw; }
        }
        return new ModelDirectory(model, tokenizer, ownsModel: true)
        {
            Directory = dir, _generation = generation, ChatTemplate = template, EndTokenIds = ends,
        };
    }

    /// <summary>
    /// Writes everything into <paramref name="dir"/>, replacing it only once complete: config.json, the weights as the
    /// model holds them (model.safetensors for a float model; model.int8.safetensors and quantization_config.json for a
    /// quantised one), the tokenizer files with the chat template, and generation_config.json when there are decoding defaults.
    /// </summary>
    public void Save(string dir)
    {
        AtomicFile.WriteDirectory(dir, WriteFiles);
        Directory = dir;
    }

    /// <summary>
    /// Writes the same files as <see cref="Save"/> into an existing directory, each atomically: for a directory that
    /// holds more (a training checkpoint) and is itself made atomic by its writer.
    /// </summary>
    public void WriteFiles(string dir)
    {
        System.IO.Directory.CreateDirectory(dir);
        if (Int8WeightOnly.IsQuantized(Model)) Int8Checkpoint.Save(Model, dir, Tokenizer.EndOfTextId);
        else HfCheckpoint.Save(Model, dir, eosTokenId: Tokenizer.EndOfTextId);
        WriteTokenizerFiles(dir, alwaysGeneration: false);
    }

    /// <summary>
    /// The tokenizer files (with the chat template of a chat model) and generation_config.json, which exports carry
    /// beside their own weights; <paramref name="alwaysGeneration"/> writes the latter even without decoding defaults.
    /// </summary>
    internal void WriteTokenizerFiles(string dir, bool alwaysGeneration)
    {
        Tokenizer.Save(dir);
        if (ChatTemplate is not null) AddChatTemplate(dir);
        if (alwaysGeneration || _generation is not null || EndTokenIds.Count > 0)
            GenerationConfigFile.Write(dir, Generation, Tokenizer.EndOfTextId, EndTokenIds);
    }

    public void Dispose()
    {
        if (_ownsModel) Model.Dispose();
    }

    static bool HasChatTemplate(string dir)
    {
        string path = Path.Combine(dir, BpeFiles.ConfigFile);
        if (!File.Exists(path)) return false;
        try { return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o[ChatTemplateKey] is not null; }
        catch (JsonException e) { throw new GptSharpException($"{path}: not valid JSON ({e.Message})"); }
    }

    static bool HasRoleTokens(BpeTokenizer tokenizer) =>
        SpecialTokens.ChatRoles.All(t => tokenizer.TokenToId(t) is int id && tokenizer.IsSpecial(id));

    static void AddChatTemplate(string dir)
    {
        string path = Path.Combine(dir, BpeFiles.ConfigFile);
        var config = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? new JsonObject();
        config[ChatTemplateKey] = Tokenization.ChatTemplate.JinjaTemplate;
        AtomicFile.WriteAllText(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The directory's tokenizer (GPT-2's when it has no tokenizer files and its vocab_size fits), checked against its config.</summary>
    public static BpeTokenizer LoadTokenizer(string dir, GptConfig config)
    {
        BpeTokenizer tokenizer;
        if (File.Exists(Path.Combine(dir, "vocab.json")) || File.Exists(Path.Combine(dir, "merges.txt")))
            tokenizer = BpeTokenizer.Load(dir);
        else if (config.VocabSize >= 50257)
            tokenizer = BpeTokenizer.Gpt2();
        else
            throw new GptSharpException($"{dir}: no tokenizer files (vocab.json, merges.txt), and vocab_size {config.VocabSize} is not GPT-2's");
        CheckVocabulary(tokenizer, config, dir);
        return tokenizer;
    }

    /// <summary>
    /// Every token that ordinary text can produce must have an embedding. Added role tokens beyond the model's
    /// vocabulary are tolerated (a stock GPT-2 checkpoint has none); chat fine-tuning grows the embedding for them.
    /// </summary>
    public static void CheckVocabulary(BpeTokenizer tokenizer, GptConfig config, string where)
    {
        for (int id = config.VocabSize; id < tokenizer.VocabSize; id++)
            if (!tokenizer.IsSpecial(id) || id == tokenizer.EndOfTextId)
                throw new GptSharpException($"{where}: the tokenizer has {tokenizer.VocabSize} tokens but the model's vocab_size is {config.VocabSize}; " +
                                            "they do not belong together");
    }
}
