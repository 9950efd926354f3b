using GptSharp.Models;
using GptSharp.Tokenization;
using GptSharp.Checkpoints;

namespace GptSharp.Tests.Checkpoints;

public class ModelDirectoryTests
{
    [Fact]
    public void SavesAndLoadsModelWithTokenizer()
    {
        using var tmp = new Fixture.TempDir();
        var tok = new BpeTrainer(new BpeTrainerOptions { VocabSize = 300, MinPairFrequency = 1 })
            .Train(["the cat sat on the mat", "the dog sat on the log"]);
        using var model = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 });
        new ModelDirectory(model, tok).Save(tmp["m"]);
        Assert.Equal(["config.json", "merges.txt", "model.safetensors", "tokenizer_config.json", "vocab.json"],
            Directory.GetFiles(tmp["m"]).Select(Path.GetFileName).Order());
        using var loaded = ModelDirectory.Load(tmp["m"]);
        Assert.Equal(tok.Encode("the cat sat"), loaded.Tokenizer.Encode("the cat sat"));
        Assert.Equal(tok.VocabSize, loaded.Model.Config.VocabSize);
    }

    [Fact]
    public void BareGpt2WeightsGetTheBuiltInVocabulary()
    {
        using var loaded = ModelDirectory.Load(Fixture.Path("gpt2-tiny-hf"));
        Assert.Equal([15496, 11, 995, 0], loaded.Tokenizer.Encode("Hello, world!"));
    }

    [Fact]
    public void ATokenizerLargerThanTheModelIsRejected()
    {
        using var tmp = new Fixture.TempDir();
        using var model = Gpt.Create(new GptConfig { VocabSize = 1000, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 });
        var e = Assert.Throws<GptSharpException>(() => new ModelDirectory(model, BpeTokenizer.Gpt2()).Save(tmp["m"]));
        Assert.Contains("vocab_size is 1000", e.Message);
        Assert.False(Directory.Exists(tmp["m"]));
    }
}
