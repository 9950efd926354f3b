using GptSharp.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Tests.Native;

public class TorchRuntimeTests
{
    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
        Assert.Contains("libstdc++", TorchRuntime.Report.Keys);
    }

    [Fact]
    public void AutogradWorks()
    {
        using var x = tensor(3.0f, requires_grad: true);
        using var y = x * x;
        y.backward();
        Assert.Equal(6.0f, x.grad!.item<float>());
    }

    [Fact]
    public void PatchedLibraryNoLongerRequiresGlibcxx332()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        string lib = Path.Combine(dir, "libLibTorchSharp.so");
        Assert.True(File.Exists(lib));
        byte[] bytes = File.ReadAllBytes(lib);
        // Patching an already-patched (or compatible) file finds nothing left to do, and never throws.
        Assert.False(LibStdCxxCompat.TryPatch(bytes));
    }

    [Fact]
    public void PatchRemovesTheVersionRequirementFromThePristineFile()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string pristine = Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(pristine), pristine);
        byte[] bytes = File.ReadAllBytes(pristine);
        Assert.True(LibStdCxxCompat.TryPatch(bytes));
        Assert.False(LibStdCxxCompat.TryPatch(bytes));
        Assert.Equal(new FileInfo(pristine).Length, bytes.Length);
    }

    [Fact]
    public void RejectsNonElf() =>
        Assert.Throws<GptSharpException>(() => LibStdCxxCompat.TryPatch(new byte[100]));
}
