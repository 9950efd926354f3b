using GptSharp.Models;
namespace GptSharp.Tests.Training;

/// <summary>
/// Tests that create models or train with dropout use torch's process-wide generator (Gpt.Create reseeds it), so they
/// run alone, after the parallel tests: neither they nor other tests' same-seed checks see each other's draws.
/// </summary>
[CollectionDefinition(nameof(GlobalTorchRng), DisableParallelization = true)]
public class GlobalTorchRng;
