using GptSharp.Tuning;

namespace GptSharp.Tests.Tuning;

public class DistributionTests
{
    [Fact]
    public void TheIssuesSearchSpaceParsesAndRoundTrips()
    {
        var space = SearchSpace.Parse("""{"lr": {"type": "float", "low": 1e-5, "high": 1e-2, "log": true}, "layers": {"type": "int", "low": 1, "high": 8, "step": 1}, "optim": {"type": "categorical", "choices": ["adamw", "sgd"]}}""");
        Assert.Equal(["lr", "layers", "optim"], space.Keys);
        Assert.Equal(new FloatDistribution(1e-5, 1e-2, log: true), space["lr"]);
        Assert.Equal(new IntDistribution(1, 8), space["layers"]);
        Assert.Equal(new CategoricalDistribution(["adamw", "sgd"]), space["optim"]);
        var again = SearchSpace.Parse(SearchSpace.ToJson(space).ToJsonString());
        Assert.Equal(space, again);
    }

    [Theory]
    [InlineData("""{"lr": {"type": "float", "low": 1, "high": 0.1}}""", "must not exceed")]
    [InlineData("""{"lr": {"type": "float", "low": 0, "high": 1, "log": true}}""", "low > 0")]
    [InlineData("""{"o": {"type": "categorical", "choices": []}}""", "empty")]
    [InlineData("""{"o": {"type": "categorical", "choices": ["a", "a"]}}""", "twice")]
    [InlineData("""{"n": {"type": "int", "low": 1, "high": 4, "log": true, "step": 2}}""", "together")]
    [InlineData("""{"n": {"type": "integer", "low": 1, "high": 4}}""", "unknown type")]
    [InlineData("""{"n": {"type": "int", "low": 1, "hi": 4}}""", "unknown key \"hi\"")]
    [InlineData("""{"n": {"type": "int", "low": 1.5, "high": 4}}""", "integer")]
    [InlineData("""{"n": 3}""", "expected an object")]
    [InlineData("""{"n": {"type": "int", "low": 1, "high": 4}""", "not valid JSON")]
    public void BadSearchSpacesFailNamingTheParameter(string json, string expected)
    {
        var e = Assert.Throws<GptSharpException>(() => SearchSpace.Parse(json));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void StepsMoveHighToTheLastGridPoint()
    {
        Assert.Equal(1.0, new FloatDistribution(0, 1, step: 0.25).High);
        Assert.Equal(0.9, new FloatDistribution(0, 1, step: 0.3).High, 12);
        Assert.Equal(7, new IntDistribution(1, 8, step: 3).High);
        Assert.True(new IntDistribution(1, 8, step: 3).Contains(4));
        Assert.False(new IntDistribution(1, 8, step: 3).Contains(5));
    }

    [Fact]
    public void ChangedSearchSpacesAreNamed()
    {
        var a = SearchSpace.Parse("""{"lr": {"type": "float", "low": 1e-5, "high": 1e-2, "log": true}, "bs": {"type": "int", "low": 1, "high": 8}}""");
        var b = SearchSpace.Parse("""{"lr": {"type": "float", "low": 1e-5, "high": 1e-1, "log": true}, "bs": {"type": "int", "low": 1, "high": 8}}""");
        var e = Assert.Throws<GptSharpException>(() => SearchSpace.CheckSame(a, b, "s"));
        Assert.Contains("\"lr\"", e.Message);
        SearchSpace.CheckSame(a, a, "s");
        var e2 = Assert.Throws<GptSharpException>(() => Distribution.CheckCompatible("bs", a["bs"], new FloatDistribution(1, 8)));
        Assert.Contains("\"bs\"", e2.Message);
    }

    [Fact]
    public void CategoricalChoicesKeepTheirTypes()
    {
        var c = new CategoricalDistribution(["a", 8, 0.5, true, null]);
        Assert.Equal(1, c.ToInternal(8L));
        Assert.Equal(1, c.ToInternal(8.0));
        Assert.Equal("a", c.ToExternal(0));
        Assert.Equal(0.5, c.ToExternal(2));
        Assert.Equal(4, c.ToInternal(null));
        Assert.Throws<GptSharpException>(() => c.ToInternal("b"));
    }
}
