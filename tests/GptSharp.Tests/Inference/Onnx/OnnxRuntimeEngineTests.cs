using GptSharp.Checkpoints;
using GptSharp.Inference.Onnx;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference.Onnx;

public class OnnxRuntimeEngineTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly int[] Prompt = [5, 17, 42, 99, 3, 250, 7];
    static readonly GenerationOptions Greedy = new() { DoSample = false, MaxNewTokens = 16, StopAtEndOfText = false };

    /// <summary>GPT-2's shape where it matters for the graph (GPT-2's vocabulary, head size 64, context 1024) at two layers.</summary>
    static Gpt Gpt2Shaped() => Gpt.Create(GptPresets.Get("gpt2") with { VocabSize = 50257, NLayer = 2, NHead = 3, NEmbd = 192 }, seed: 3);

    static Gpt Tiny(long seed = 7) => Gpt.Create(new GptConfig { VocabSize = 300, BlockSize = 32, NLayer = 2, NHead = 2, NEmbd = 32 }, seed);

    /// <summary>The last position's logits after each of: the prompt, then two single tokens, by TorchSharp (with its
    /// KV cache) and by the engine.</summary>
    static float MaxStepDiff(Gpt model, IDecodingEngine engine)
    {
        using var _ = no_grad();
        model.eval();
        using var cache = new KvCache(model.Config.NLayer, 64);
        using var state = engine.Start(1);
        float max = 0;
        foreach (int[] feed in new[] { Prompt, [11], [200] })
        {
            using var scope = NewDisposeScope();
            var expected = model.Forward(tensor(feed.Select(t => (long)t).ToArray()).unsqueeze(0), cache, lastPositionOnly: true).reshape(-1);
            var actual = state.Step([.. feed.Select(t => (long)t)], feed.Length).reshape(-1);
            Assert.Equal(expected.shape, actual.shape);
            max = Math.Max(max, (expected - actual).abs().max().item<float>());
        }
        Assert.Equal(Prompt.Length + 2, state.Length);
        return max;
    }

    [Fact]
    public void Fp32LogitsMatchTorchSharpOnTheHuggingFaceFixtureAndAGpt2ShapedModel()
    {
        using var hf = HfCheckpoint.Load(Fixture.Path("gpt2-tiny-hf"));
        using (var engine = OnnxRuntimeEngine.Create(hf))
            Assert.InRange(MaxStepDiff(hf, engine), 0, 1e-4f);
        using var gpt2 = Gpt2Shaped();
        using (var engine = OnnxRuntimeEngine.Create(gpt2))
            Assert.InRange(MaxStepDiff(gpt2, engine), 0, 1e-3f);
    }

    [Theory]
    [InlineData(OnnxPrecision.Int8, 8, 0.05f)]
    [InlineData(OnnxPrecision.Int4, 4, 0.05f)]
    public void QuantisedEnginesMatchTheirRoundTrippedWeightsUpToInt8Activations(OnnxPrecision precision, int bits, float tolerance)
    {
        // The engine's MatMulNBits computes with the very weights BlockQuantization.RoundTrip leaves in the float model;
        // what is left is its int8 activations (accuracy_level 4).
        using var model = Gpt2Shaped();
        using var engine = OnnxRuntimeEngine.Create(model, precision);
        using var fp32 = OnnxRuntimeEngine.Create(model);
        float vsFloat = MaxStepDiff(model, engine);
        BlockQuantization.RoundTrip(model, bits);
        float vsRoundTrip = MaxStepDiff(model, engine);
        Assert.InRange(vsRoundTrip, 0, tolerance);
        Assert.True(vsRoundTrip < vsFloat, $"round-tripped {vsRoundTrip} vs float {vsFloat}");
    }

    [Fact]
    public void BFloat16EngineRoundsTheWeightMatricesAndComputesInFloat32()
    {
        using var model = Gpt2Shaped();
        using var original = Gpt2Shaped();
        using var engine = OnnxRuntimeEngine.Attach(model, OnnxPrecision.BFloat16);
        Assert.Same(engine, model.Engine);
        Assert.Equal(OnnxPrecision.BFloat16, engine.Precision);
        var before = original.state_dict();
        foreach (var (name, p) in model.state_dict())
        {
            using var expected = p.dim() == 2 ? before[name].to(ScalarType.BFloat16).to(ScalarType.Float32) : before[name].clone();
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.True((p == expected).all().item<bool>(), name); // matrices rounded to bf16 values, biases and norms untouched
        }
        // TorchSharp on the rounded float32 weights is the reference: ONNX Runtime and the row kernels keep activations in
        // float32 (prompts too, with bf16Prompts off; on, see the next test).
        Assert.True(engine.PrefillsInTorch);
        using var float32Prompts = OnnxRuntimeEngine.Create(model, OnnxPrecision.BFloat16, bf16Prompts: false);
        Assert.InRange(MaxStepDiff(model, float32Prompts), 0, 1e-3f);
    }

    [Theory]
    [InlineData(OnnxPrecision.BFloat16, 0.015f, 0.004f)]
    [InlineData(OnnxPrecision.Int8, 0.03f, 0.02f)]
    [InlineData(OnnxPrecision.Int4, 0.03f, 0.02f)]
    public void PromptsRunInTorchsBFloat16AndLeaveTheCacheTheNextStepsRead(OnnxPrecision precision, float promptBound, float stepBound)
    {
        using var model = Gpt2Shaped();
        OnnxRuntimeEngine.Attach(model, precision).Dispose(); // the engine's rounding, as loading applies it
        using var torchPrompts = OnnxRuntimeEngine.Create(model, precision);
        using var ort = OnnxRuntimeEngine.Create(model, precision, bf16Prompts: false);
        using var fp32 = OnnxRuntimeEngine.Create(model);
        Assert.True(torchPrompts.PrefillsInTorch);
        Assert.False(ort.PrefillsInTorch);
        Assert.False(fp32.PrefillsInTorch);
        using (var tiny = Tiny())
        using (var small = OnnxRuntimeEngine.Create(tiny, precision))
            Assert.False(small.PrefillsInTorch); // no prompt of so small a model gains from TorchSharp: no copy
        using var _ = no_grad();
        static long[] Tokens(int count, int seed) => [.. Enumerable.Range(0, count).Select(i => (long)((i * 37 + seed) % 50257))];

        // A short prompt stays in ONNX Runtime (TorchSharp's cost per call would lose): the same logits to the bit.
        using (var shortA = torchPrompts.Start(1))
        using (var shortB = ort.Start(1))
        using (var scope = NewDisposeScope())
            Assert.Equal(0f, (shortA.Step(Tokens(16, 1), 16) - shortB.Step(Tokens(16, 1), 16)).abs().max().item<float>());

        // A long one (this model is small: 400 tokens are GPT-2 124M's ~35 in work) runs in TorchSharp, in two chunks (the
        // second continues a past read from the engine's buffers), then single tokens that read the keys and values the
        // prompt left there.
        using var a = torchPrompts.Start(1);
        using var b = ort.Start(1);
        long[][] feeds = [Tokens(400, 5), Tokens(380, 9), [11], [200], [31], [8]];
        foreach (var feed in feeds)
        {
            using var scope = NewDisposeScope();
            var x = a.Step(feed, feed.Length);
            var y = b.Step(feed, feed.Length);
            float relative = ((x - y).abs().max() / y.abs().max()).item<float>();
            output.WriteLine($"{feed.Length} tokens: largest difference {relative} of the largest logit");
            // A prompt's bf16 activations against ONNX Runtime's float32 (bf16) or int8 per block (int8, int4): the two
            // roundings; the steps after it differ only by the keys and values the prompt left (bf16 with its values
            // left unwritten: half the largest logit).
            Assert.InRange(relative, 0, feed.Length > 1 ? promptBound : stepBound);
        }
    }

    [Fact]
    public void GeneratorsOnAModelWithTheEngineGiveTorchSharpsGreedyTokensPlainBatchedAndStreamed()
    {
        using var model = Tiny();
        var generator = new TextGenerator(model);
        var expected = generator.Generate(Prompt, Greedy);
        var batchExpected = generator.GenerateBatch([Prompt, [.. Prompt.Reverse()], [1, 2]], Greedy);

        model.Engine = OnnxRuntimeEngine.Create(model);
        Assert.Equal(expected, generator.Generate(Prompt, Greedy));
        var batch = generator.GenerateBatch([Prompt, [.. Prompt.Reverse()], [1, 2]], Greedy);
        Assert.Equal(batchExpected.Select(r => r.Ids), batch.Select(r => r.Ids));
        Assert.Equal(0, ((OnnxRuntimeEngine)model.Engine).LiveStates);
    }

    [Fact]
    public async Task LeavingOrCancellingAStreamFreesTheEnginesCaches()
    {
        using var model = Tiny(seed: 9);
        var engine = OnnxRuntimeEngine.Create(model);
        model.Engine = engine;
        var generator = new TextGenerator(model);
        int taken = 0;
        await foreach (int _ in generator.StreamAsync(Prompt, Greedy))
        {
            Assert.Equal(1, engine.LiveStates);
            if (++taken == 3) break;
        }
        Assert.Equal(0, engine.LiveStates);

        using var cts = new CancellationTokenSource();
        var result = Task.Run(() => generator.Complete(Prompt, Greedy with { MaxNewTokens = 20 }, cts.Token));
        cts.Cancel();
        await result;
        Assert.Equal(0, engine.LiveStates);
    }

    [Fact]
    public void SlotsOfDifferentLengthsGiveTorchSharpsLogitsAsTheyJoinLeaveAndReuseACache()
    {
        using var _ = no_grad();
        using var model = Gpt2Shaped();
        model.eval();
        var engine = OnnxRuntimeEngine.Create(model);
        model.Engine = engine;
        using var torchSlots = new TorchDecodingSlots(model, 4);
        float max = 0;
        using (var onnx = engine.StartSlots(4))
        {
            Assert.Equal(1, engine.LiveStates);
            void Both(Action<IDecodingSlots> act) { act(torchSlots); act(onnx); }
            void Pass(int[][] tokens, int[] slots)
            {
                using var scope = NewDisposeScope();
                var expected = torchSlots.Forward(tokens, slots);
                var actual = onnx.Forward(tokens, slots);
                Assert.Equal(expected.shape, actual.shape);
                max = Math.Max(max, (expected - actual).abs().max().item<float>());
                for (int s = 0; s < torchSlots.Count; s++) Assert.Equal(torchSlots.Length(s), onnx.Length(s));
            }
            Both(s => { s.Add(); s.Add(); s.Add(); });
            Pass([Prompt, [1, 2, 3]], [0, 1]);               // two prompts of different lengths; slot 2 waits
            Pass([[4], [5], [6, 7, 8, 9]], [0, 1, 2]);        // two decode while slot 2's prompt goes in
            Pass([[10], [11, 12]], [2, 1]);                    // a chunk on top of a past, and one token; slot 0 idle
            Pass([[13], [14], [15]], [0, 1, 2]);
            var snapshots = (torchSlots.CopyOut(1), onnx.CopyOut(1));
            Both(s => Assert.Equal(2, s.Remove(1)));           // the last slot moves into the freed one
            Pass([[16], [17]], [0, 1]);
            Both(s => s.Add());
            torchSlots.CopyIn(2, snapshots.Item1, 4);
            onnx.CopyIn(2, snapshots.Item2, 4);               // a follow-up reusing 4 positions of the conversation
            Pass([[18, 19], [20], [21]], [2, 0, 1]);
            snapshots.Item1.Dispose();
            snapshots.Item2.Dispose();
        }
        Assert.InRange(max, 0, 1e-3f);
        Assert.Equal(0, engine.LiveStates);
    }

    [Fact]
    public void DisposingTheModelDisposesItsEngine()
    {
        var model = Tiny();
        var engine = OnnxRuntimeEngine.Create(model);
        model.Engine = engine;
        model.Dispose();
        Assert.True(engine.IsDisposed);
    }

    [Fact]
    public void LoadingRemovesTheScratchOfAProcessKilledWhileLoading()
    {
        // A pid no process has now: that of one that has just exited.
        using var exited = System.Diagnostics.Process.Start("true")!;
        exited.WaitForExit();
        string scratch = Path.Combine(Path.GetTempPath(), OnnxRuntimeEngine.ScratchDirectory);
        string killed = $"{scratch}.tmp-{exited.Id}-{Guid.NewGuid():N}", live = $"{scratch}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        foreach (var dir in new[] { killed, live })
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "model.onnx.data"), "half-written");
        }
        try
        {
            using var model = Tiny();
            using (OnnxRuntimeEngine.Create(model)) { }
            Assert.False(Directory.Exists(killed));
            Assert.True(Directory.Exists(live)); // this process's: a load in progress (another test's), kept
        }
        finally
        {
            foreach (var dir in new[] { killed, live }) if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
