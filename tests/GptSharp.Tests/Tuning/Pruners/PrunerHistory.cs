using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tests.Tuning.Pruners;

/// <summary>Made-up histories for the pruner tests: studies in memory, trials that report and finish as told.</summary>
static class PrunerHistory
{
    public static Study NewStudy(IPruner pruner, StudyDirection direction = StudyDirection.Minimize, string name = "s") =>
        Study.Create(name, new InMemoryStorage(), new RandomSampler(1), pruner, direction);

    /// <summary>A trial that reports <paramref name="reports"/> and ends in <paramref name="state"/> (complete: its last value).</summary>
    public static FrozenTrial Finished(Study study, TrialState state, params (int Step, double Value)[] reports)
    {
        var trial = Running(study, reports);
        return study.Tell(trial.Number, state, state == TrialState.Complete ? reports[^1].Value : null);
    }

    public static FrozenTrial Complete(Study study, params (int Step, double Value)[] reports) => Finished(study, TrialState.Complete, reports);

    /// <summary>A running trial that has reported <paramref name="reports"/>.</summary>
    public static Trial Running(Study study, params (int Step, double Value)[] reports)
    {
        var trial = study.Ask()!;
        foreach (var (step, value) in reports) trial.Report(step, value);
        return trial;
    }

    /// <summary>Reports and asks the pruner, as the trainer's evaluation hook does.</summary>
    public static bool ReportAndAsk(Trial trial, int step, double value)
    {
        trial.Report(step, value);
        return trial.ShouldPrune();
    }

    /// <summary>The stored system attributes of trial <paramref name="number"/>.</summary>
    public static IReadOnlyDictionary<string, string> SystemAttrs(Study study, int number) => study.Storage.GetTrial(study.Id, number)!.SystemAttrs;
}
