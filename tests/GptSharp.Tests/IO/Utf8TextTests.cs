using GptSharp.IO;

namespace GptSharp.Tests.IO;

public class Utf8TextTests
{
    [Fact]
    public void InvalidBytesAreReportedWithLineAndByte()
    {
        byte[] bytes = [.. "ok\nstill ok\nab"u8, 0xC3, 0x28, .. "\n"u8];
        var e = Assert.Throws<GptSharpException>(() => Utf8Text.Decode(bytes, "f.txt"));
        Assert.StartsWith("f.txt:3: invalid UTF-8 (at byte 2 of the line)", e.Message);
    }

    [Fact]
    public void ReadFileDropsTheByteOrderMarkAndNamesAMissingFile()
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllBytes(tmp["a.txt"], [0xEF, 0xBB, 0xBF, .. "héllo"u8]);
        Assert.Equal("héllo", Utf8Text.ReadFile(tmp["a.txt"]));
        var e = Assert.Throws<GptSharpException>(() => Utf8Text.ReadFile(tmp["none.txt"]));
        Assert.Equal($"{tmp["none.txt"]}: file not found", e.Message);
    }
}
