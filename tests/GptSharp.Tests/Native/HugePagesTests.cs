using System.Globalization;
using GptSharp.Native;
using static TorchSharp.torch;

namespace GptSharp.Tests.Native;

public unsafe class HugePagesTests
{
    /// <summary>Whether this process asks for huge pages: Linux, not turned off, and a kernel that gives them.</summary>
    internal static bool Asks => HugePages.Enabled && HugePages.KernelMode is "always" or "madvise";

    /// <summary>The kernel's flags (<c>VmFlags</c> in /proc/self/smaps) of the mapping holding <paramref name="address"/>.</summary>
    static string[] FlagsAt(nint address)
    {
        bool inside = false;
        foreach (var line in File.ReadLines("/proc/self/smaps"))
        {
            int dash = line.IndexOf('-');
            if (dash > 0 && line.IndexOf(' ') > dash && ulong.TryParse(line[..dash], NumberStyles.HexNumber, null, out ulong start)
                && ulong.TryParse(line[(dash + 1)..line.IndexOf(' ')], NumberStyles.HexNumber, null, out ulong end))
                inside = (ulong)address >= start && (ulong)address < end;
            else if (inside && line.StartsWith("VmFlags:"))
                return line["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        throw new InvalidOperationException($"no mapping holds 0x{address:x}");
    }

    [Fact]
    public void LargeBuffersAreTwoMebibyteAlignedAndMarkedForHugePagesSmallOnesAreNot()
    {
        var large = (byte*)HugePages.Allocate(5 << 20);
        var small = (byte*)HugePages.Allocate(4096);
        try
        {
            new Span<byte>(large, 5 << 20).Fill(7);
            Assert.Equal(7, large[(5 << 20) - 1]);
            Assert.Equal(0, (long)small % 64);
            if (!OperatingSystem.IsLinux()) return;
            Assert.Equal(Asks, (long)large % HugePages.PageBytes == 0 && FlagsAt((nint)large).Contains("hg"));
            Assert.DoesNotContain("hg", FlagsAt((nint)small));
        }
        finally
        {
            HugePages.Free(large);
            HugePages.Free(small);
        }
    }

    [Fact]
    public void LibtorchTensorsStayOnSmallPagesWhereTheProcessMaySetTheSwitchOnlyBeforeGptSharpLoads()
    {
        // The test host trains: it never sets TorchRuntime.HugePageTensorsSwitch, so libtorch is left as it was.
        string report = TorchRuntime.Report["huge pages"];
        using var big = zeros(4 << 20); // 16 MiB
        if (!OperatingSystem.IsLinux())
        {
            Assert.Equal("not on this OS", report);
            return;
        }
        nint address;
        fixed (byte* p = big.bytes) address = (nint)p;
        bool userAsked = Environment.GetEnvironmentVariable("THP_MEM_ALLOC_ENABLE") == "1";
        Assert.Equal(userAsked && Asks, FlagsAt(address).Contains("hg"));
        Assert.DoesNotContain("libtorch tensors", report);
        Assert.Contains(Asks ? "the onnx engine's weights and KV cache" : "off", report);
    }
}
