using GptSharp.Models;
using GptSharp.Tests.Data;
using GptSharp.Tokenization;
using GptSharp.Training;
using GptSharp.Checkpoints;
using GptSharp.Data.Shards;

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

        var o = new PretrainingOptions
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

    [Fact]
    public async Task InitFromRefusesDataMadeByAnotherTokenizer()
    {
        using var dir = new Fixture.TempDir();
        // Two byte-level BPEs learned from different text: the same byte tokens, other merges and ids beyond them.
        string a = dir.WriteText("a.txt", string.Concat(Enumerable.Repeat("the cat sat on the mat. the cat sat.\n\n", 50)));
        string b = dir.WriteText("b.txt", string.Concat(Enumerable.Repeat("zebras zigzag quickly over frozen lakes.\n\n", 50)));
        var tokA = await new BpeTrainer(new BpeTrainerOptions { VocabSize = 300 }).TrainAsync([a]);
        var tokB = await new BpeTrainer(new BpeTrainerOptions { VocabSize = 300 }).TrainAsync([b]);
        tokA.Save(dir["tokA"]);
        await DataPreparer.PrepareAsync([a], tokA, dir["data"], new PrepareOptions { ValFraction = 0.1, Tokenizer = dir["tokA"], DocumentBoundary = DocumentBoundary.BlankLine });

        var config = new GptConfig { VocabSize = Math.Max(tokA.VocabSize, tokB.VocabSize), BlockSize = 16, NLayer = 1, NHead = 1, NEmbd = 8 };
        using (var model = Gpt.Create(config))
        {
            new ModelDirectory(model, tokB).Save(dir["modelB"]);
            new ModelDirectory(model, tokA).Save(dir["modelA"]);
        }
        var o = new PretrainingOptions { DataDir = dir["data"], OutputDir = dir["run"], MaxSteps = 1, PerDeviceTrainBatchSize = 1, BlockSize = 16, InitFrom = dir["modelB"] };
        var e = Assert.Throws<GptSharpException>(() => Pretraining.Check(o));
        Assert.Contains("another tokenizer", e.Message);
        Assert.Contains(dir["data"], e.Message);
        Assert.Contains(dir["tokA"], e.Message);
        Assert.Contains(dir["modelB"], e.Message);

        // The model's own tokenizer (saved with it) is the data's: accepted.
        Assert.Equal(dir["modelA"], Pretraining.Check(o with { InitFrom = dir["modelA"] }).Options.InitFrom);
    }
}
