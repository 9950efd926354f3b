namespace GptSharp.Tuning;

/// <summary>
/// Draws parameters for trials (Optuna's <c>BaseSampler</c>). A sampler may draw some parameters jointly
/// (<see cref="InferRelativeSearchSpace"/> and <see cref="SampleRelative"/>, called once when a trial starts) and the
/// rest one at a time (<see cref="SampleIndependent"/>, called at each <c>Suggest*</c> the joint draw did not cover).
/// Values are internal (see <see cref="Distribution"/>). Samplers are seeded: the same seed and the same finished trials
/// give the same draws.
/// </summary>
public interface ISampler
{
    /// <summary>
    /// Called before a worker starts a trial. A sampler that fixes its points in advance (grid) enqueues them here,
    /// once per study; see <see cref="OnlyEnqueuedTrials"/>.
    /// </summary>
    void BeforeStudyTrial(Study study) { }

    /// <summary>When true the study runs only enqueued trials and stops when none is left (a grid that is exhausted).</summary>
    bool OnlyEnqueuedTrials => false;

    /// <summary>The parameters to draw jointly for <paramref name="trial"/>; empty for samplers that draw one at a time.</summary>
    IReadOnlyDictionary<string, Distribution> InferRelativeSearchSpace(Study study, FrozenTrial trial) => new Dictionary<string, Distribution>();

    /// <summary>Joint draws (internal values) for the space <see cref="InferRelativeSearchSpace"/> returned.</summary>
    IReadOnlyDictionary<string, double> SampleRelative(Study study, FrozenTrial trial, IReadOnlyDictionary<string, Distribution> searchSpace) =>
        new Dictionary<string, double>();

    /// <summary>One parameter's internal value.</summary>
    double SampleIndependent(Study study, FrozenTrial trial, string name, Distribution distribution);

    /// <summary>After a trial this worker ran has finished.</summary>
    void AfterTrial(Study study, FrozenTrial trial, TrialState state, double? value) { }
}
