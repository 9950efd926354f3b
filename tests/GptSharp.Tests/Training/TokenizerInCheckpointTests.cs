using GptSharp.Data;
using GptSharp.Interop;
using GptSharp.Tests.Data;
using GptSharp.Tokenization;
using GptSharp.Training;

namespace GptSharp.Tests.Training;

[Collection(nameof(GlobalTorchRng))]
public class TokenizerInCheckpointTests
{
    [Fact]
    public async Task CheckpointsAreCompleteModelDirectories()
    {
        using var dir = new Fixture.TempDir();
        BpeTokenizer.Gpt2().Save(dir["tok"]);
        string text = dir.WriteText("a.txt", string.Concat(Enumerable.Range(0, 20).Select(i => $"The cat number {i} sat on the mat.\n<|endoftext|>\n")));
        await DataPreparer.PrepareAsync([text], TokenizerSource.Load(dir["tok"]), dir["data"], new PrepareOptions { ValFraction = 0.1, Tokenizer = dir["tok"] });

        var o = new TrainingOptions
        {
            DataDir = dir["data"], OutputDir = dir["run"], MaxSteps = 2, PerDeviceTrainBatchSize = 2, BlockSize = 16,
            NLayer = 1, NHead = 2, NEmbd = 32, EvalIters = 1, SaveSteps = 2,
        };
        await Pretraining.RunAsync(o);
        foreach (var d in new[] { "final", "checkpoint-2" })
        {
            using var loaded = ModelDirectory.Load(Path.Combine(dir["run"], d));
            Assert.Equal(50261, loaded.Model.Config.VocabSize);
            Assert.Equal(BpeTokenizer.Gpt2().Encode("The cat sat."), loaded.Tokenizer.Encode("The cat sat."));
        }

        // Tokenizer files edited after preparation: the data's ids may no longer mean the same tokens.
        File.AppendAllText(Path.Combine(dir["tok"], "merges.txt"), "\n");
        var e = Assert.Throws<GptSharpException>(() => Pretraining.Check(o with { OutputDir = dir["run2"] }));
        Assert.Contains("changed since the data was prepared", e.Message);
    }
}
