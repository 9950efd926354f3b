using System.Runtime.CompilerServices;
using GptSharp.Native;

namespace GptSharp.Tests;

static class TestSetup
{
    // Tests may touch TorchSharp before any GptSharp type; make sure the native fixes come first.
    [ModuleInitializer]
    internal static void Init() => TorchRuntime.Initialize();
}
