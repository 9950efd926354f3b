using System.Runtime.InteropServices;
using GptSharp.Checkpoints;
using GptSharp.Checkpoints.Gguf;
using GptSharp.Compression;
using GptSharp.Models;
using GptSharp.Tests.Distillation;
using GptSharp.Tokenization;
using static TorchSharp.torch;

namespace GptSharp.Tests.Checkpoints.Gguf;

[Collection(nameof(GptSharp.Tests.Training.GlobalTorchRng))]
public class GgufExportTests
{
    const int Layers = 2, Embd = 32;

    /// <summary>A tiny chat model (2 layers × 32, rows of whole 32-value blocks) whose vocabulary has 3 unused ids at the end.</summary>
    internal static (string Dir, BpeTokenizer Tokenizer) TinyChatModel(Fixture.TempDir tmp)
    {
        var tok = TinyTeacher.Tokenizer();
        using var model = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize + 3, BlockSize = 64, NLayer = Layers, NHead = 2, NEmbd = Embd, Dropout = 0 }, seed: 7);
        new ModelDirectory(model, tok) { ChatTemplate = new ChatTemplate(tok) }.Save(tmp["chat"]);
        return (tmp["chat"], tok);
    }

    /// <summary>Hugging Face name → llama.cpp name, written out here rather than taken from the exporter.</summary>
    static readonly (string Hf, string Gguf)[] Names =
    [
        ("wte.weight", "token_embd.weight"), ("wpe.weight", "position_embd.weight"), ("ln_f.weight", "output_norm.weight"), ("ln_f.bias", "output_norm.bias"),
        .. Enumerable.Range(0, Layers).SelectMany(i => new[]
        {
            ($"h.{i}.ln_1.weight", $"blk.{i}.attn_norm.weight"), ($"h.{i}.ln_1.bias", $"blk.{i}.attn_norm.bias"),
            ($"h.{i}.attn.c_attn.weight", $"blk.{i}.attn_qkv.weight"), ($"h.{i}.attn.c_attn.bias", $"blk.{i}.attn_qkv.bias"),
            ($"h.{i}.attn.c_proj.weight", $"blk.{i}.attn_output.weight"), ($"h.{i}.attn.c_proj.bias", $"blk.{i}.attn_output.bias"),
            ($"h.{i}.ln_2.weight", $"blk.{i}.ffn_norm.weight"), ($"h.{i}.ln_2.bias", $"blk.{i}.ffn_norm.bias"),
            ($"h.{i}.mlp.c_fc.weight", $"blk.{i}.ffn_up.weight"), ($"h.{i}.mlp.c_fc.bias", $"blk.{i}.ffn_up.bias"),
            ($"h.{i}.mlp.c_proj.weight", $"blk.{i}.ffn_down.weight"), ($"h.{i}.mlp.c_proj.bias", $"blk.{i}.ffn_down.bias"),
        }),
    ];

    /// <summary>model.safetensors as llama.cpp lays it out: Conv1D weights [in, out] transposed to [out, in] (ggml ne [in, out]).</summary>
    static Dictionary<string, (long[] Shape, float[] Values)> Expected(string dir)
    {
        var stored = SafeTensors.Read(Path.Combine(dir, HfCheckpoint.WeightsFile));
        try
        {
            return Names.ToDictionary(n => n.Gguf, n =>
            {
                var t = stored[n.Hf];
                bool conv1D = n.Hf.EndsWith(".weight") && n.Hf.Contains(".c_");
                using var v = (conv1D ? t.t() : t.alias()).contiguous();
                return (v.shape, v.data<float>().ToArray());
            });
        }
        finally { foreach (var t in stored.Values) t.Dispose(); }
    }

    [Theory]
    [InlineData(GgufExportType.F32)]
    [InlineData(GgufExportType.F16)]
    [InlineData(GgufExportType.Q8_0)]
    [InlineData(GgufExportType.Q4_0)]
    public void ATinyChatModelRoundTripsThroughOurReader(GgufExportType type)
    {
        using var tmp = new Fixture.TempDir();
        var (dir, tok) = TinyChatModel(tmp);
        var report = GgufExport.Export(dir, tmp["m.gguf"], type);
        var f = GgufReader.Read(tmp["m.gguf"]);
        Assert.Equal(new FileInfo(tmp["m.gguf"]).Length, report.Bytes);
        Assert.True(report.ChatTemplate);

        // Hyperparameters as llama.cpp's GPT-2 loader reads them.
        var md = f.Metadata;
        Assert.Equal("gpt2", f.MetadataInOrder[0].Value.AsString());
        Assert.Equal("general.architecture", f.MetadataInOrder[0].Key);
        Assert.Equal(64, md["gpt2.context_length"].AsInteger());
        Assert.Equal(Embd, md["gpt2.embedding_length"].AsInteger());
        Assert.Equal(4 * Embd, md["gpt2.feed_forward_length"].AsInteger());
        Assert.Equal(Layers, md["gpt2.block_count"].AsInteger());
        Assert.Equal(2, md["gpt2.attention.head_count"].AsInteger());
        Assert.Equal(1e-5f, md["gpt2.attention.layer_norm_epsilon"].AsFloat32());
        Assert.Equal(type switch { GgufExportType.F32 => 0, GgufExportType.F16 => 1, GgufExportType.Q8_0 => 7, _ => 2 }, md["general.file_type"].AsInteger());
        Assert.Equal("chat", md["general.name"].AsString());

        // The tokenizer: every id up to vocab_size, role tokens as control tokens, padding as unused, our merges.
        Assert.Equal("gpt2", md["tokenizer.ggml.model"].AsString());
        Assert.Equal("gpt-2", md["tokenizer.ggml.pre"].AsString());
        string[] tokens = md["tokenizer.ggml.tokens"].AsStrings();
        int[] types = md["tokenizer.ggml.token_type"].AsInt32s();
        Assert.Equal(tok.VocabSize + 3, tokens.Length);
        Assert.Equal(tokens.Length, types.Length);
        for (int id = 0; id < tok.VocabSize; id++)
        {
            Assert.Equal(tok.IdToToken(id), tokens[id]);
            Assert.Equal(tok.IsSpecial(id) ? 3 : 1, types[id]);
        }
        Assert.Equal(Enumerable.Range(tok.VocabSize, 3).Select(id => $"[PAD{id}]"), tokens[tok.VocabSize..]);
        Assert.All(types[tok.VocabSize..], t => Assert.Equal(5, t));
        foreach (string role in SpecialTokens.All) Assert.Equal(3, types[Array.IndexOf(tokens, role)]);
        Assert.Equal(tok.Merges.Select(m => m.Left + " " + m.Right), md["tokenizer.ggml.merges"].AsStrings());
        Assert.Equal(tok.EndOfTextId, md["tokenizer.ggml.eos_token_id"].AsInteger());
        Assert.Equal(tok.EndOfTextId, md["tokenizer.ggml.bos_token_id"].AsInteger());
        Assert.False(md["tokenizer.ggml.add_bos_token"].AsBool());
        Assert.Equal(ChatTemplate.JinjaTemplate, md["tokenizer.chat_template"].AsString());

        // Tensors: llama.cpp's names and ggml shapes; data within what each type can hold.
        var expected = Expected(dir);
        Assert.Equal(expected.Keys.Order(), f.Tensors.Select(t => t.Name).Order());
        Assert.Equal(0, f.DataOffset % 32);
        foreach (var info in f.Tensors)
        {
            var (shape, values) = expected[info.Name];
            Assert.Equal(shape, info.Shape);
            Assert.Equal(0, info.Offset % f.Alignment);
            var expectedType = info.Dims.Length == 1 || info.Name == "position_embd.weight" ? GgufTensorType.F32
                : type == GgufExportType.Q4_0 && info.Name == "token_embd.weight" ? GgufTensorType.Q8_0
                : (GgufTensorType)Enum.Parse(typeof(GgufTensorType), type.ToString());
            Assert.True(expectedType == info.Type, $"{info.Name}: {info.Type}, expected {expectedType}");
            float[] read = f.ReadFloats(info.Name);
            switch (info.Type)
            {
                case GgufTensorType.F32:
                    Assert.Equal(MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), f.ReadBytes(info.Name));
                    break;
                case GgufTensorType.F16:
                    for (int i = 0; i < values.Length; i++) Assert.Equal((float)(Half)values[i], read[i]);
                    break;
                default:
                    AssertWithinBlockBound(info.Name, values, read, info.Type == GgufTensorType.Q8_0 ? 1f / 254 + 1f / 2048 : 1f / 8 + 1f / 1024);
                    break;
            }
        }
    }

    static void AssertWithinBlockBound(string name, float[] expected, float[] actual, float relativeToBlockMax)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int b = 0; b < expected.Length / 32; b++)
        {
            float bound = expected.AsSpan(b * 32, 32).ToArray().Max(MathF.Abs) * relativeToBlockMax + 1e-6f;
            for (int i = b * 32; i < b * 32 + 32; i++)
                Assert.True(MathF.Abs(expected[i] - actual[i]) <= bound, $"{name}[{i}]: {expected[i]} → {actual[i]} (bound {bound})");
        }
    }

    [Fact]
    public void RowsThatAreNotWholeBlocksFallBackToF16()
    {
        using var tmp = new Fixture.TempDir();
        var tok = TinyTeacher.Tokenizer();
        using (var model = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize, BlockSize = 32, NLayer = 1, NHead = 2, NEmbd = 16, Dropout = 0 }))
            new ModelDirectory(model, tok).Save(tmp["base"]);
        var report = GgufExport.Export(tmp["base"], tmp["m.gguf"], GgufExportType.Q8_0);
        var f = GgufReader.Read(tmp["m.gguf"]);
        Assert.Equal(GgufTensorType.F16, f.Tensor("blk.0.attn_qkv.weight").Type); // ne[0] = 16
        Assert.Equal(GgufTensorType.Q8_0, f.Tensor("blk.0.ffn_down.weight").Type); // ne[0] = 64
        Assert.Equal(1, report.QuantizedTensors);
        Assert.False(report.ChatTemplate); // a base model: no template
        Assert.False(f.Metadata.ContainsKey("tokenizer.chat_template"));
    }

    [Fact]
    public void AnInt8DirectoryIsExportedFromItsDequantisedWeights()
    {
        using var tmp = new Fixture.TempDir();
        var (dir, _) = TinyChatModel(tmp);
        WeightQuantization.QuantizeDirectory(dir, tmp["int8"]);
        GgufExport.Export(tmp["int8"], tmp["m.gguf"], GgufExportType.F32);
        var f = GgufReader.Read(tmp["m.gguf"]);
        using var dequantised = HfCheckpoint.Load(tmp["int8"]);
        using var w = dequantised.named_parameters().Single(p => p.name == "h.0.attn.c_attn.weight").parameter.detach().contiguous();
        Assert.Equal(w.data<float>().ToArray(), f.ReadFloats("blk.0.attn_qkv.weight"));
    }

    [Fact]
    public void BadInputFailsBeforeAnyWorkAndWritesNothing()
    {
        using var tmp = new Fixture.TempDir();
        Assert.Contains("model directory not found", Assert.Throws<GptSharpException>(() => GgufExport.Export(tmp["none"], tmp["m.gguf"], GgufExportType.F16)).Message);
        var (dir, _) = TinyChatModel(tmp);
        File.WriteAllText(tmp["m.gguf"], "keep");
        Assert.Contains("--overwrite", Assert.Throws<GptSharpException>(() => GgufExport.Export(dir, tmp["m.gguf"], GgufExportType.F16)).Message);
        Assert.Equal("keep", File.ReadAllText(tmp["m.gguf"]));
        Directory.CreateDirectory(tmp["out"]);
        Assert.Contains("is a directory", Assert.Throws<GptSharpException>(() => GgufExport.Export(dir, tmp["out"], GgufExportType.F16)).Message);
        Assert.Contains("refusing to replace a file of the model directory",
            Assert.Throws<GptSharpException>(() => GgufExport.Export(dir, Path.Combine(dir, "config.json"), GgufExportType.F16, overwrite: true)).Message);
        Assert.Contains("unknown GGUF type 'q5_k'", Assert.Throws<GptSharpException>(() => GgufExportTypes.Parse("q5_k")).Message);

        GgufExport.Export(dir, tmp["m.gguf"], GgufExportType.F16, overwrite: true);
        Assert.Equal(1, GgufReader.Read(tmp["m.gguf"]).Metadata["general.file_type"].AsInteger());
        Assert.Equal(["chat", "m.gguf", "out"], Directory.GetFileSystemEntries(tmp.Root).Select(e => Path.GetFileName(e)).Order());
    }

    [Fact]
    public void TensorNamesFollowLlamaCpp()
    {
        Assert.Equal("blk.11.ffn_down.bias", GgufExport.TensorName("h.11.mlp.c_proj.bias"));
        Assert.Throws<InvalidOperationException>(() => GgufExport.TensorName("lm_head.weight"));
    }
}
