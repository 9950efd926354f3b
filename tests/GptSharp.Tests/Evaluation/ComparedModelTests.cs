using GptSharp.Checkpoints;
using GptSharp.Evaluation;
using GptSharp.Models;

namespace GptSharp.Tests.Evaluation;

public class ComparedModelTests
{
    [Theory]
    [InlineData("chat/final", "chat/final", InferencePrecision.Auto)]
    [InlineData("chat/final@int8", "chat/final", InferencePrecision.Int8)]
    [InlineData("chat/final@fp32", "chat/final", InferencePrecision.Float32)]
    [InlineData("a@b/final@bf16", "a@b/final", InferencePrecision.BFloat16)]
    public void ParsesADirectoryAndAnOptionalPrecision(string spec, string dir, InferencePrecision precision)
    {
        var m = ComparedModel.Parse(spec);
        Assert.Equal(dir, m.Directory);
        Assert.Equal(precision, m.Precision);
        Assert.Equal(spec, m.Label);
    }

    [Theory]
    [InlineData("chat/final@onnx-bf16", DecodingEngineKind.OnnxRuntime, InferencePrecision.BFloat16)]
    [InlineData("chat/final@torch-int8", DecodingEngineKind.Torch, InferencePrecision.Int8)]
    [InlineData("chat/final@auto-fp32", DecodingEngineKind.Auto, InferencePrecision.Float32)]
    [InlineData("chat/final@int4", DecodingEngineKind.Auto, InferencePrecision.Int4)]
    public void ParsesAnOptionalEngineBeforeThePrecision(string spec, DecodingEngineKind engine, InferencePrecision precision)
    {
        var m = ComparedModel.Parse(spec);
        Assert.Equal(("chat/final", engine, precision), (m.Directory, m.Engine, m.Precision));
    }

    [Fact]
    public void AnExistingDirectoryWithAnAtInItsNameIsTakenWhole()
    {
        using var tmp = new Fixture.TempDir();
        Directory.CreateDirectory(tmp["run@int8"]);
        var m = ComparedModel.Parse(tmp["run@int8"]);
        Assert.Equal(tmp["run@int8"], m.Directory);
        Assert.Equal(InferencePrecision.Auto, m.Precision);
    }

    [Theory]
    [InlineData("chat/final@fp16", "unknown precision 'fp16'")]
    [InlineData("chat/final@tensorrt-fp32", "unknown engine 'tensorrt'")]
    [InlineData("chat/final@torch-int4", "int4 runs on the onnx engine only")]
    [InlineData("@int8", "no directory before '@'")]
    [InlineData(" ", "an empty model path")]
    public void RejectsWhatIsNotAModel(string spec, string message)
    {
        var e = Assert.Throws<GptSharpException>(() => ComparedModel.Parse(spec));
        Assert.Contains(message, e.Message);
    }
}
