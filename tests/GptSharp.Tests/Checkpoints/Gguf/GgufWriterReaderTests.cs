using System.Text;
using GptSharp.Checkpoints.Gguf;

namespace GptSharp.Tests.Checkpoints.Gguf;

public class GgufWriterReaderTests
{
    static GgufWriter Sample(int alignment = GgufFormat.DefaultAlignment)
    {
        var w = new GgufWriter(alignment);
        w.Add("general.architecture", GgufValue.Of("gpt2"));
        w.Add("some.count", GgufValue.Of(7u));
        w.Add("some.eps", GgufValue.Of(1e-5f));
        w.Add("some.flag", GgufValue.Of(true));
        w.Add("some.wide", new GgufValue(GgufValueType.Int64, -5L));
        w.Add("some.double", new GgufValue(GgufValueType.Float64, 0.25));
        w.Add("some.words", GgufValue.Of(["a b", "ü", ""]));
        w.Add("some.ints", GgufValue.Of([1, -2, 3]));
        w.Add("some.bytes", new GgufValue(GgufValueType.Array, new byte[] { 9, 8 }, GgufValueType.UInt8));
        w.AddTensor("odd", [5], GgufTensorType.F32, Floats(1, 2, 3, 4, 5)); // 20 bytes: the next tensor must be padded
        w.AddTensor("matrix", [32, 2], GgufTensorType.Q8_0, Q8_0Quantizer.Quantize(Enumerable.Range(0, 64).Select(i => i - 32f).ToArray()));
        w.AddTensor("half", [3], GgufTensorType.F16, [.. BitConverter.GetBytes((Half)1.5f), .. BitConverter.GetBytes((Half)(-2f)), .. BitConverter.GetBytes((Half)0f)]);
        return w;
    }

    static byte[] Floats(params float[] v) => [.. v.SelectMany(BitConverter.GetBytes)];

    [Fact]
    public void WhatIsWrittenReadsBackWithAlignedOffsets()
    {
        using var tmp = new Fixture.TempDir();
        Sample().Write(tmp["a.gguf"]);
        byte[] raw = File.ReadAllBytes(tmp["a.gguf"]);
        Assert.Equal("GGUF", Encoding.ASCII.GetString(raw, 0, 4));
        Assert.Equal(3u, BitConverter.ToUInt32(raw, 4));
        Assert.Equal(3ul, BitConverter.ToUInt64(raw, 8)); // tensors
        Assert.Equal(9ul, BitConverter.ToUInt64(raw, 16)); // metadata entries

        var f = GgufReader.Read(tmp["a.gguf"]);
        Assert.Equal(3u, f.Version);
        Assert.Equal(["general.architecture", "some.count", "some.eps", "some.flag", "some.wide", "some.double", "some.words", "some.ints", "some.bytes"],
            f.MetadataInOrder.Select(kv => kv.Key));
        Assert.Equal("gpt2", f.Metadata["general.architecture"].AsString());
        Assert.Equal(GgufValueType.UInt32, f.Metadata["some.count"].Type);
        Assert.Equal(7, f.Metadata["some.count"].AsInteger());
        Assert.Equal(1e-5f, f.Metadata["some.eps"].AsFloat32());
        Assert.True(f.Metadata["some.flag"].AsBool());
        Assert.Equal(-5, f.Metadata["some.wide"].AsInteger());
        Assert.Equal(0.25, f.Metadata["some.double"].Value);
        Assert.Equal(["a b", "ü", ""], f.Metadata["some.words"].AsStrings());
        Assert.Equal([1, -2, 3], f.Metadata["some.ints"].AsInt32s());
        Assert.Equal(new byte[] { 9, 8 }, f.Metadata["some.bytes"].Value);

        Assert.Equal(0, f.DataOffset % 32);
        Assert.All(f.Tensors, t => Assert.Equal(0, t.Offset % 32));
        Assert.Equal([0L, 32, 32 + 2 * 34 + 28], f.Tensors.Select(t => t.Offset));
        Assert.Equal(raw.Length, f.DataOffset + f.Tensors[^1].Offset + 6);
        Assert.Equal([1f, 2, 3, 4, 5], f.ReadFloats("odd"));
        Assert.Equal([1.5f, -2, 0], f.ReadFloats("half"));
        Assert.Equal(new long[] { 2, 32 }, f.Tensor("matrix").Shape);
        Assert.Equal(Enumerable.Range(0, 64).Select(i => i - 32f), f.ReadFloats("matrix").Select(v => MathF.Round(v)));
    }

    [Fact]
    public void AnotherAlignmentIsRecordedAndHonoured()
    {
        using var tmp = new Fixture.TempDir();
        Sample(alignment: 64).Write(tmp["a.gguf"]);
        var f = GgufReader.Read(tmp["a.gguf"]);
        Assert.Equal(64, f.Alignment);
        Assert.Equal(64, f.Metadata[GgufFormat.AlignmentKey].AsInteger());
        Assert.Equal(0, f.DataOffset % 64);
        Assert.Equal([0L, 64, 192], f.Tensors.Select(t => t.Offset));
    }

    [Fact]
    public void ABadOrCutFileIsReportedClearly()
    {
        using var tmp = new Fixture.TempDir();
        Sample().Write(tmp["a.gguf"]);
        byte[] raw = File.ReadAllBytes(tmp["a.gguf"]);

        File.WriteAllBytes(tmp["cut.gguf"], raw[..^4]);
        Assert.Contains("runs past the end of the file", Assert.Throws<GptSharpException>(() => GgufReader.Read(tmp["cut.gguf"])).Message);
        File.WriteAllBytes(tmp["header.gguf"], raw[..60]);
        Assert.Contains("not a valid GGUF file", Assert.Throws<GptSharpException>(() => GgufReader.Read(tmp["header.gguf"])).Message);
        File.WriteAllBytes(tmp["magic.gguf"], [.. "GGML"u8, .. raw[4..]]);
        Assert.Contains("does not start with \"GGUF\"", Assert.Throws<GptSharpException>(() => GgufReader.Read(tmp["magic.gguf"])).Message);
        Assert.Contains("file not found", Assert.Throws<GptSharpException>(() => GgufReader.Read(tmp["none.gguf"])).Message);
    }

    [Fact]
    public void DataOfTheWrongSizeFailsAndLeavesNoFile()
    {
        using var tmp = new Fixture.TempDir();
        var w = new GgufWriter();
        w.AddTensor("t", [4], GgufTensorType.F32, new byte[12]);
        Assert.Throws<InvalidOperationException>(() => w.Write(tmp["bad.gguf"]));
        Assert.Empty(Directory.GetFileSystemEntries(tmp.Root));
    }
}
