using GptSharp.Inference;

namespace GptSharp.Server.Scheduling;

/// <summary>Makes a model's scheduler: the one place that picks the implementation (tests swap in their own).</summary>
public delegate IGenerationScheduler SchedulerFactory(string modelId, TextGenerator generator);
