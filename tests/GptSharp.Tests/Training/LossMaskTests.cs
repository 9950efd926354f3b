using System.Text.Json.Nodes;
using GptSharp.Data;
using GptSharp.Models;
using GptSharp.Training;
using static TorchSharp.torch;

namespace GptSharp.Tests.Training;

[Collection(nameof(GlobalTorchRng))]
public class LossMaskTests
{
    /// <summary>The same batch every time, with only the second half of each row counting toward the loss.</summary>
    sealed class MaskedBatches : IBatchSource
    {
        static readonly long[] Ids = Enumerable.Range(0, 18).Select(i => (long)(i * 7 % 50)).ToArray();

        public Batch Next(Device device)
        {
            var all = tensor(Ids, [2, 9], device: device);
            var mask = arange(8, device: device).ge(4).unsqueeze(0).expand(2, 8);
            return new Batch(all[.., ..8].contiguous(), all[.., 1..].contiguous(), mask); // Gpt.Loss views targets: contiguous
        }

        public JsonNode GetState() => new JsonObject();
        public void SetState(JsonNode state) { }
    }

    [Fact]
    public async Task OnlyUnmaskedTargetsCount()
    {
        using var dir = new Fixture.TempDir();
        using var model = Gpt.Create(new GptConfig { VocabSize = 50, BlockSize = 8, NLayer = 1, NHead = 2, NEmbd = 16 }, seed: 3);
        var source = new MaskedBatches();
        double expected, unmasked;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var b = source.Next(CPU);
            var logits = model.Forward(b.Input);
            expected = Gpt.Loss(logits, b.Targets.masked_fill(b.LossMask!.logical_not(), -100)).item<float>();
            unmasked = Gpt.Loss(logits, b.Targets).item<float>();
        }
        Assert.NotEqual(expected, unmasked, 5); // near ln 50 at init, yet apart

        var progress = new ProgressRecorder();
        var trainer = new Trainer(model, new TrainingArguments { OutputDir = dir["run"], MaxSteps = 1, EvalSteps = 0 }, source);
        var result = await trainer.TrainAsync(progress);
        Assert.Equal(expected, progress.Steps.Single().Loss, 6);
        Assert.True(Directory.Exists(result.FinalDir));
    }

    [Fact]
    public void AModelSetUpForBf16InferenceIsNotTrained()
    {
        using var dir = new Fixture.TempDir();
        using var model = Gpt.Create(new GptConfig { VocabSize = 50, BlockSize = 8, NLayer = 1, NHead = 2, NEmbd = 16 }, seed: 3);
        GptSharp.Models.Quantized.PrecisionSetup.Apply(model, InferencePrecision.BFloat16);
        var e = Assert.Throws<GptSharpException>(() => new Trainer(model, new TrainingArguments { OutputDir = dir["run"], MaxSteps = 1, EvalSteps = 0 }, new MaskedBatches()));
        Assert.Contains("cannot train: the model's weights are BFloat16", e.Message);
        Assert.False(Directory.Exists(dir["run"]));
    }
}
