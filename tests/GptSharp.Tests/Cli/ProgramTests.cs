using GptSharp.Tests.Native;

namespace GptSharp.Tests.Cli;

public class ProgramTests
{
    [Fact]
    public async Task CommandsThatOnlyDecodePutLibtorchTensorsOnHugePagesAndTrainingCommandsDoNot()
    {
        using var tmp = new Fixture.TempDir();
        var (_, _, generate) = await CliProcess.Run(tmp.Root, ["generate", "--model", tmp["missing"], "--prompt", "Hi", "--verbose"]);
        var (trainCode, _, train) = await CliProcess.Run(tmp.Root, ["train", "--help", "--verbose"]);
        Assert.Equal(0, trainCode);
        string Line(string err) => err.Split('\n').Single(l => l.StartsWith("native: huge pages = "));
        bool tensors = HugePagesTests.Asks && Environment.GetEnvironmentVariable("THP_MEM_ALLOC_ENABLE") is null;
        Assert.Equal(tensors, Line(generate).Contains("libtorch tensors of 2 MiB and more"));
        Assert.DoesNotContain("libtorch tensors", Line(train));
    }
}
