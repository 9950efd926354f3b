using GptSharp.Inference;

namespace GptSharp.Tests.Inference;

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

    [Theory]
    [InlineData(null, new int[0])]
    [InlineData("{}", new int[0])]
    [InlineData("{\"eos_token_id\": 50256}", new[] { 50256 })]
    [InlineData("{\"eos_token_id\": [50256, 50260]}", new[] { 50256, 50260 })]
    public void EndTokenIdsAreANumberOrAList(string? json, int[] expected)
    {
        using var tmp = new Fixture.TempDir();
        if (json is not null) File.WriteAllText(tmp["generation_config.json"], json);
        Assert.Equal(expected, GenerationConfigFile.ReadEndTokenIds(tmp.Root));
    }

    [Theory]
    [InlineData("{\"eos_token_id\": \"<|end|>\"}")]
    [InlineData("{\"eos_token_id\": [50256, -1]}")]
    [InlineData("{\"eos_token_id\": 1.5}")]
    public void BadEndTokenIdsNameTheFileAndTheKey(string json)
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["generation_config.json"], json);
        var e = Assert.Throws<GptSharpException>(() => GenerationConfigFile.ReadEndTokenIds(tmp.Root));
        Assert.StartsWith(tmp["generation_config.json"] + ": eos_token_id must be", e.Message);
    }

    [Fact]
    public void AChatModelListsItsEndTokenWithEndOfText()
    {
        using var tmp = new Fixture.TempDir();
        GenerationConfigFile.Write(tmp.Root, new GenerationOptions(), eosTokenId: 7, otherEndIds: [9, 7]);
        Assert.Equal([7, 9], GenerationConfigFile.ReadEndTokenIds(tmp.Root));
        Assert.Contains("\"bos_token_id\": 7", File.ReadAllText(tmp["generation_config.json"]));
    }
}
