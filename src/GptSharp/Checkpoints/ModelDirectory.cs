using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;
using GptSharp.IO;
using GptSharp.Inference;

namespace GptSharp.Checkpoints;

/// <summary>A model with the tokenizer it was trained with.</summary>
public sealed record LoadedModel(Gpt Model, BpeTokenizer Tokenizer, string Directory) : IDisposable
{
    /// <summary>The ids the directory's generation_config.json names as ends of generation (eos_token_id), besides the
    /// tokenizer's own <c>&lt;|endoftext|&gt;</c> and <c>&lt;|end|&gt;</c>, which generation always stops at.</summary>
    public IReadOnlyList<int> EndTokenIds { get; init; } = [];

    public void Dispose() => Model.Dispose();
}

/// <summary>A complete model directory: HF GPT-2 weights and config plus tokenizer files, checked against each other.</summary>
public static class ModelDirectory
{
    /// <summary>
    /// Loads weights and tokenizer. A directory without tokenizer files (such as a bare Hugging Face download of
    /// weights) gets the built-in GPT-2 vocabulary when its vocab_size fits it.
    /// </summary>
    public static LoadedModel Load(string dir, Device? device = null)
    {
        var config = HfCheckpoint.ReadConfig(dir);
        var tokenizer = LoadTokenizer(dir, config);
        int[] ends = GenerationConfigFile.ReadEndTokenIds(dir); // a bad file fails before the (slow) weights load
        return new LoadedModel(HfCheckpoint.Load(dir, device), tokenizer, dir) { EndTokenIds = ends };
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

    /// <summary>Writes weights, config and tokenizer files into <paramref name="dir"/>, replacing it only once complete.</summary>
    public static void Save(Gpt model, BpeTokenizer tokenizer, string dir, ScalarType? dtype = null)
    {
        model.Precision.RequireFloatWeights();
        CheckVocabulary(tokenizer, model.Config, dir);
        AtomicFile.WriteDirectory(dir, tmp =>
        {
            HfCheckpoint.Save(model, tmp, dtype, tokenizer.EndOfTextId);
            tokenizer.Save(tmp);
        });
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
