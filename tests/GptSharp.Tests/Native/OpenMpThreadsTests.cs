using GptSharp.Native;
using static TorchSharp.torch;

namespace GptSharp.Tests.Native;

public class OpenMpThreadsTests
{
    [Fact]
    public void SingleThreadedChangesThisThreadsLibtorchThreadsOnlyAndRestoresThem()
    {
        int before = get_num_threads();
        int elsewhere = -1, inside;
        using (OpenMpThreads.SingleThreaded())
        {
            inside = get_num_threads();
            var other = new Thread(() => elsewhere = get_num_threads());
            other.Start();
            other.Join();
        }
        Assert.Equal(1, inside);
        Assert.Equal(before, get_num_threads());
        Assert.Equal(Math.Max(before, 1), Math.Max(elsewhere, 1));
        if (before > 1) Assert.True(elsewhere > 1, $"another thread saw {elsewhere} threads");
    }
}
