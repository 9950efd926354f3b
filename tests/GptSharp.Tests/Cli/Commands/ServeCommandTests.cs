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
    }
}
