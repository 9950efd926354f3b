using GptSharp.Cli.Commands;

namespace GptSharp.Tests.Cli.Commands;

/// <summary>`gptsharp serve` refuses bad settings before loading anything (serving itself is tested in Server/).</summary>
public class ServeCommandTests
{
    [Fact]
    public async Task BadSettingsFailFastWithAClearError()
    {
        var (code, _, err) = await CliRunner.Run("serve");
        Assert.Equal(1, code);
        Assert.Contains("--model", err);

        (code, _, err) = await CliRunner.Run("serve", "--model", "/no/such/dir");
        Assert.Equal(1, code);
        Assert.Contains("model directory not found", err);

        (code, _, err) = await CliRunner.Run("serve", "--model", ".", "--precision", "fp64");
        Assert.Equal(1, code);
        Assert.Contains("unknown precision", err);

        (code, _, err) = await CliRunner.Run("serve", "--model", ".", "--engine", "tensorrt");
        Assert.Equal(1, code);
        Assert.Contains("tensorrt", err);

        (code, _, err) = await CliRunner.Run("serve", "--model", "a", "--alias", "x", "--alias", "y");
        Assert.Equal(1, code);
        Assert.Contains("--alias given 2 times for 1 --model", err);
    }

    [Fact]
    public void ModelsAliasesKeysAndOriginsRepeat()
    {
        var parse = CliApp.Build().Parse(["serve", "--model", "a", "--alias", "x", "--model", "b", "--api-key", "k1", "--api-key", "k2", "--cors", "https://e.com"]);
        Assert.Empty(parse.Errors);
        Assert.Equal(["a", "b"], parse.GetValue<string[]>("--model")!);
        Assert.Equal(["x"], parse.GetValue<string[]>("--alias")!);
        Assert.Equal(["k1", "k2"], parse.GetValue<string[]>("--api-key")!);
    }
}
