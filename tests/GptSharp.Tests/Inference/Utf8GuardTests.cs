using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

public class Utf8GuardTests
{
    static readonly BpeTokenizer Gpt2 = BpeTokenizer.Gpt2();
    static Utf8Guard Guard => Utf8Guard.For(Gpt2, Gpt2.VocabSize);

    [Fact]
    public void FollowsCharactersSplitAcrossTokens()
    {
        int[] ids = Gpt2.Encode("你好，世界");
        Assert.Equal(Utf8Guard.Complete, Guard.StateAfter(ids));
        // Some prefix of GPT-2's tokens for these characters ends inside one.
        var cuts = Enumerable.Range(1, ids.Length - 1).Where(n => Guard.StateAfter(ids[..n]) != Utf8Guard.Complete).ToList();
        Assert.NotEmpty(cuts);
        foreach (int n in cuts)
            Assert.Contains('\uFFFD', Gpt2.Decode(ids[..n])); // what the guard prevents from being final
    }

    [Fact]
    public void MidCharacterOnlyContinuationsSurviveAndEndOfTextWaits()
    {
        int[] ids = Gpt2.Encode("你");
        Assert.True(ids.Length >= 2, "GPT-2 splits 你 across tokens");
        int state = Guard.StateAfter(ids[..1]);
        using var logits = zeros(Gpt2.VocabSize);
        using var masked = Guard.Apply(logits, state);
        using var allowed = masked.isfinite().nonzero().flatten();
        long[] survivors = allowed.data<long>().ToArray();
        Assert.Contains(ids[1], survivors.Select(i => (int)i));
        Assert.DoesNotContain(Gpt2.EndOfTextId, survivors.Select(i => (int)i));
        Assert.DoesNotContain(Gpt2.Encode("a")[0], survivors.Select(i => (int)i));
        // Every survivor completes the character and keeps the text decodable.
        Assert.All(survivors.Take(200), id => Assert.DoesNotContain('\uFFFD', Gpt2.Decode([ids[0], (int)id]).TrimEnd('\uFFFD')));

        using var open = Guard.Apply(logits, Utf8Guard.Complete);
        using var stillFinite = open[Gpt2.EndOfTextId].isfinite();
        Assert.True(stillFinite.item<bool>());
    }

    [Fact]
    public void SamplingUniformlyOverGpt2sVocabularyStaysValidUtf8()
    {
        // A model whose logits are all equal: every token, byte fragments included, is as likely as any other.
        using var model = Gpt.Create(new GptConfig { VocabSize = Gpt2.VocabSize, BlockSize = 256, NLayer = 1, NHead = 2, NEmbd = 32 }, seed: 1);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.StartsWith("ln_f.")) p.zero_();
        var generator = new TextGenerator(model, Gpt2);
        var o = new GenerationOptions { MaxNewTokens = 200, TopK = 0, Seed = 3, StopAtEndOfText = false };

        string guarded = generator.Complete([Gpt2.EndOfTextId], o).Text!;
        string raw = generator.Complete([Gpt2.EndOfTextId], o with { ValidUtf8 = false }).Text!;
        Assert.Contains('\uFFFD', raw.TrimEnd('\uFFFD')); // without the guard, broken characters inside the text
        Assert.DoesNotContain('\uFFFD', guarded.TrimEnd('\uFFFD')); // with it, at most a character cut off by max_new_tokens
    }

    [Fact]
    public void GreedyPicksTheBestAllowedTokenWhenTheBestIsBanned()
    {
        int[] ids = Gpt2.Encode("你");
        int state = Guard.StateAfter(ids[..1]);
        int plain = Gpt2.Encode("a")[0]; // banned mid-character
        Assert.False(Guard.Allows(state, plain));
        Assert.True(Guard.Allows(state, ids[1]));
        Assert.True(Guard.Allows(Utf8Guard.Complete, plain));

        using var logits = zeros(Gpt2.VocabSize);
        logits[plain] = 5f;       // the best, but it would break the character
        logits[ids[1]] = 4f;      // the best that completes it
        logits[Gpt2.EndOfTextId] = 4.5f; // waits until the character is complete
        var row = new DecodingSequence(ids[..1], null);
        row.Utf8State = state;
        var o = new GenerationOptions { DoSample = false };
        using var rng = new TorchSharp.torch.Generator(1);
        Assert.Equal(ids[1], row.Choose(logits, o, new HashSet<int> { Gpt2.EndOfTextId }, Guard, rng));
        // With the character complete, the best token goes through as it is.
        var fresh = new DecodingSequence([Gpt2.EndOfTextId], null);
        Assert.Equal(plain, fresh.Choose(logits, o, new HashSet<int> { Gpt2.EndOfTextId }, Guard, rng));
    }
}
