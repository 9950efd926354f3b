using GptSharp.Inference;
using GptSharp.Interop;

namespace GptSharp.Tests.Interop;

public class GenerationConfigFileTests
{
    [Fact]
    public void RoundTripsDecodingDefaults()
    {
        using var tmp = new Fixture.TempDir();
        var o = new GenerationOptions { MaxNewTokens = 64, Temperature = 0.7, TopK = 20, TopP = 0.9, DoSample = true };
        GenerationConfigFile.Write(tmp.Root, o, eosTokenId: 7);
        Assert.Equal(o, GenerationConfigFile.Read(tmp.Root));
        Assert.Contains("\"eos_token_id\": 7", File.ReadAllText(tmp["generation_config.json"]));
    }

    [Fact]
    public void MissingFileGivesTheFallbackAndBadValuesNameTheFile()
    {
        using var tmp = new Fixture.TempDir();
        Assert.Equal(new GenerationOptions { TopK = 3 }, GenerationConfigFile.Read(tmp.Root, new GenerationOptions { TopK = 3 }));
        File.WriteAllText(tmp["generation_config.json"], "{\"top_p\": 1.5}");
        var e = Assert.Throws<GptSharpException>(() => GenerationConfigFile.Read(tmp.Root));
        Assert.Contains("generation_config.json", e.Message);
        Assert.Contains("top_p", e.Message);
    }

    [Fact]
    public void BeamsWithoutDoSampleMeanNoSamplingAsInHuggingFace()
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["generation_config.json"], "{\"num_beams\": 4}");
        var o = GenerationConfigFile.Read(tmp.Root);
        Assert.Equal(4, o.NumBeams);
        Assert.False(o.DoSample);
        File.WriteAllText(tmp["generation_config.json"], "{\"num_beams\": 4, \"do_sample\": true}");
        Assert.Contains("num_beams", Assert.Throws<GptSharpException>(() => GenerationConfigFile.Read(tmp.Root)).Message);
    }
}
