using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Interop;

/// <summary>A model directory in Hugging Face GPT-2 layout: config.json + model.safetensors (tokenizer files are the tokenizer's).</summary>
public static class HfCheckpoint
{
    /// <summary>Writes config.json and model.safetensors into <paramref name="dir"/> (created if needed), each atomically.</summary>
    public static void Save(Gpt model, string dir, ScalarType? dtype = null) => throw new NotImplementedException();

    /// <summary>Reads config.json.</summary>
    public static GptConfig ReadConfig(string dir) => throw new NotImplementedException();

    /// <summary>Loads a model directory (ours or Hugging Face's GPT-2) onto <paramref name="device"/>.</summary>
    public static Gpt Load(string dir, Device? device = null) => throw new NotImplementedException();
}
