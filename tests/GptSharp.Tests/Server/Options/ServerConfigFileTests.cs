using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Server.Options;

namespace GptSharp.Tests.Server.Options;

/// <summary>`serve --config`: snake_case keys over the defaults, paths from the file's folder, unknown keys refused.</summary>
public class ServerConfigFileTests
{
    [Fact]
    public void ReadsEveryKindOfSetting()
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["keys.txt"], "# ours\nk1\n\nk2\n");
        File.WriteAllText(tmp["serve.json"], """
            { "models": [{ "path": "chat", "alias": "c" }], "port": 9000, "api_keys_file": "keys.txt", "precision": "int8",
              "engine": "onnx", "max_queue": 3, "request_timeout_seconds": 2.5, "cors": ["https://example.com"], "filter": "none" }
            """);
        var o = ServerConfigFile.Read(tmp["serve.json"]);
        Assert.Equal(Path.Combine(tmp.Root, "chat"), o.Models.Single().Path);
        Assert.Equal("c", o.Models.Single().Id);
        Assert.Equal(9000, o.Port);
        Assert.Equal(["k1", "k2"], o.ApiKeys);
        Assert.Equal(InferencePrecision.Int8, o.Precision);
        Assert.Equal(DecodingEngineKind.OnnxRuntime, o.Engine);
        Assert.Equal(3, o.MaxQueue);
        Assert.Equal(TimeSpan.FromSeconds(2.5), o.RequestTimeout);
        Assert.Equal("none", o.Filter);
        Assert.Equal("127.0.0.1", o.Host); // not in the file: the default
        o.Validate();
    }

    [Fact]
    public void AnUnknownKeyOrBadValueIsNamed()
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["a.json"], """{ "max_qeue": 3 }""");
        Assert.Contains("max_qeue", Assert.Throws<GptSharpException>(() => ServerConfigFile.Read(tmp["a.json"])).Message);
        var bad = new ServerOptions { Models = [new("x")], MaxQueue = -1 };
        Assert.Contains("max_queue", Assert.Throws<GptSharpException>(() => bad.Validate()).Message);
        var twice = new ServerOptions { Models = [new("a/m"), new("b/m")] };
        Assert.Contains("--alias", Assert.Throws<GptSharpException>(() => twice.Validate()).Message);
    }
}
