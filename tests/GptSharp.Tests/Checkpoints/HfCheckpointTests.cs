using System.Text.Json;
using GptSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using GptSharp.Checkpoints;

namespace GptSharp.Tests.Checkpoints;

public class HfCheckpointTests
{
    static readonly string Dir = Fixture.Path("gpt2-tiny-hf");
    static readonly Lazy<JsonElement> Expected = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Dir, "expected.json"))).RootElement);

    [Fact]
    public void ReadsTheHuggingFaceConfig()
    {
        var c = HfCheckpoint.ReadConfig(Dir);
        Assert.Equal(new GptConfig { VocabSize = 50257, BlockSize = 128, NLayer = 2, NHead = 4, NEmbd = 64, Dropout = 0.1 }, c);
    }

    [Fact]
    public void ReproducesReferenceLogitsAndLosses()
    {
        using var model = HfCheckpoint.Load(Dir);
        var tol = Expected.Value.GetProperty("tolerance");
        double atol = tol.GetProperty("logits_atol").GetDouble(), rtol = tol.GetProperty("logits_rtol").GetDouble();
        double lossAtol = tol.GetProperty("loss_atol").GetDouble();
        using var _ = no_grad();
        foreach (var c in Expected.Value.GetProperty("cases").EnumerateArray())
        {
            string name = c.GetProperty("name").GetString()!;
            long[] ids = c.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(ids).unsqueeze(0))[0];
            Check(name + " position 0", logits[0], c.GetProperty("logits_position_0"));
            Check(name + " last position", logits[^1], c.GetProperty("logits_last_position"));
            Assert.Equal(c.GetProperty("argmax_per_position").EnumerateArray().Select(e => e.GetInt64()), logits.argmax(-1).data<long>().ToArray());
            var lse = logits.to(ScalarType.Float64).logsumexp(-1).data<double>().ToArray();
            var refLse = c.GetProperty("logsumexp_per_position").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            for (int i = 0; i < lse.Length; i++) Assert.True(Math.Abs(lse[i] - refLse[i]) <= atol + rtol * Math.Abs(refLse[i]), $"{name} lse[{i}]");
            if (c.GetProperty("loss").ValueKind == JsonValueKind.Number)
            {
                var loss = Gpt.Loss(logits[..^1].unsqueeze(0), tensor(ids[1..]).unsqueeze(0)).item<float>();
                Assert.True(Math.Abs(loss - c.GetProperty("loss").GetDouble()) <= lossAtol, $"{name}: loss {loss}");
            }
        }

        void Check(string what, Tensor got, JsonElement expected)
        {
            var g = got.data<float>().ToArray();
            var e = expected.EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(e.Length, g.Length);
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(g[i] - e[i]) <= atol + rtol * Math.Abs(e[i]), $"{what}[{i}]: got {g[i]}, expected {e[i]}");
        }
    }

    [Fact]
    public void GreedyContinuationMatchesWithAndWithoutCache()
    {
        using var model = HfCheckpoint.Load(Dir);
        var greedy = Expected.Value.GetProperty("greedy");
        var prompt = greedy.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt64()).ToList();
        var expected = greedy.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        using var _ = no_grad();

        var ids = new List<long>(prompt);
        for (int i = 0; i < expected.Length; i++)
        {
            using var scope = NewDisposeScope();
            ids.Add(model.Forward(tensor(ids.ToArray()).unsqueeze(0))[0, -1].argmax().item<long>());
        }
        Assert.Equal(expected, ids.Skip(prompt.Count));

        using var cache = new KvCache(model.Config.NLayer, model.Config.BlockSize);
        var cached = new List<long>();
        using (NewDisposeScope())
        {
            var next = model.Forward(tensor(prompt.ToArray()).unsqueeze(0), cache)[0, -1].argmax().item<long>();
            for (int i = 0; i < expected.Length; i++)
            {
                cached.Add(next);
                next = model.Forward(tensor(new[] { next }).unsqueeze(0), cache)[0, -1].argmax().item<long>();
            }
        }
        Assert.Equal(expected, cached);
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void SaveLoadRoundTrip(ScalarType dtype)
    {
        using var tmp = new Fixture.TempDir();
        using var model = Gpt.Create(new GptConfig { VocabSize = 101, BlockSize = 16, NLayer = 2, NHead = 2, NEmbd = 32 });
        HfCheckpoint.Save(model, tmp.Root, dtype);
        using var loaded = HfCheckpoint.Load(tmp.Root);
        Assert.Equal(model.Config with { }, loaded.Config);
        var stored = SafeTensors.Read(Path.Combine(tmp.Root, "model.safetensors"));
        Assert.All(stored.Values, t => Assert.Equal(dtype, t.dtype));
        Assert.Equal(new long[] { 32, 96 }, stored["h.0.attn.c_attn.weight"].shape); // Conv1D layout [in, out]
        foreach (var ((name, a), (_, b)) in model.named_parameters().Zip(loaded.named_parameters()))
        {
            using var expect = a.to(dtype).to(ScalarType.Float32);
            Assert.True(expect.equal(b).all().item<bool>(), name); // bit-exact (after the same rounding)
        }
    }

    [Fact]
    public void ReSavingTheFixtureKeepsEveryByteOfEveryTensor()
    {
        using var tmp = new Fixture.TempDir();
        using var model = HfCheckpoint.Load(Dir);
        HfCheckpoint.Save(model, tmp.Root);
        var a = SafeTensors.Read(Path.Combine(Dir, "model.safetensors"));
        var b = SafeTensors.Read(Path.Combine(tmp.Root, "model.safetensors"));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var k in a.Keys) Assert.True(a[k].bytes.SequenceEqual(b[k].bytes), k);
    }

    [Fact]
    public void AcceptsTransformerPrefixMaskBuffersAndLmHead()
    {
        using var tmp = new Fixture.TempDir();
        var t = SafeTensors.Read(Path.Combine(Dir, "model.safetensors"));
        var renamed = t.ToDictionary(kv => "transformer." + kv.Key, kv => kv.Value);
        renamed["transformer.h.0.attn.bias"] = ones(1, 1, 128, 128).tril();
        renamed["transformer.h.0.attn.masked_bias"] = tensor(-1e4f);
        renamed["lm_head.weight"] = t["wte.weight"];
        SafeTensors.Write(Path.Combine(tmp.Root, "model.safetensors"), renamed);
        File.Copy(Path.Combine(Dir, "config.json"), Path.Combine(tmp.Root, "config.json"));
        using var a = HfCheckpoint.Load(Dir);
        using var b = HfCheckpoint.Load(tmp.Root);
        Assert.All(a.parameters().Zip(b.parameters()), p => Assert.True(p.First.equal(p.Second).all().item<bool>()));
    }

    [Fact]
    public void BadCheckpointsFailWithTheFileName()
    {
        using var tmp = new Fixture.TempDir();
        Assert.Contains("model directory not found", Assert.Throws<GptSharpException>(() => HfCheckpoint.Load(tmp["nope"])).Message);
        Assert.Contains("config.json", Assert.Throws<GptSharpException>(() => HfCheckpoint.Load(tmp.Root)).Message);

        File.Copy(Path.Combine(Dir, "config.json"), tmp["config.json"]);
        File.WriteAllBytes(tmp["model.safetensors"], [1, 2, 3]);
        var e = Assert.Throws<GptSharpException>(() => HfCheckpoint.Load(tmp.Root));
        Assert.Contains("model.safetensors", e.Message);

        // Truncated: header intact, data cut short.
        var bytes = File.ReadAllBytes(Path.Combine(Dir, "model.safetensors"));
        File.WriteAllBytes(tmp["model.safetensors"], bytes[..(bytes.Length / 2)]);
        Assert.Contains("do not match", Assert.Throws<GptSharpException>(() => HfCheckpoint.Load(tmp.Root)).Message);

        // A config that disagrees with the weights.
        File.Copy(Path.Combine(Dir, "model.safetensors"), tmp["model.safetensors"], overwrite: true);
        File.WriteAllText(tmp["config.json"], File.ReadAllText(Path.Combine(Dir, "config.json")).Replace("\"n_embd\": 64", "\"n_embd\": 32"));
        Assert.Contains("has shape", Assert.Throws<GptSharpException>(() => HfCheckpoint.Load(tmp.Root)).Message);

        File.WriteAllText(tmp["config.json"], "{ not json");
        Assert.Contains("invalid JSON", Assert.Throws<GptSharpException>(() => HfCheckpoint.Load(tmp.Root)).Message);
    }
}
