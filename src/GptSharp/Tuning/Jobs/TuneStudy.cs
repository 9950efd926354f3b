using System.Text.Json.Nodes;

namespace GptSharp.Tuning.Jobs;

/// <summary>
/// The study a <see cref="TuneConfig"/> runs in. The first run creates it and records the config in it, so that running
/// the same command again continues the study and <c>tune worker</c> on another machine finds the whole job from the
/// storage URL and the study name alone.
/// </summary>
public static class TuneStudy
{
    /// <summary>The study attribute holding the config (<see cref="TuneConfig.ToJson"/>).</summary>
    public const string ConfigKey = "tune_config";

    /// <summary>
    /// Creates or continues the config's study. A study that exists must have the same job, objective, direction and
    /// search space (a clear error names what changed); the budget, timeout and the rest may change between runs
    /// and are recorded anew.
    /// </summary>
    public static Study Open(TuneConfig config, ITrialStorage storage)
    {
        var existing = storage.FindStudy(config.StudyName);
        if (existing is not null && Recorded(storage, existing.Id) is { } before)
        {
            string where = $"study \"{config.StudyName}\"";
            if (before.Job != config.Job) throw new GptSharpException($"{where} tunes job {before.Job}, not {config.Job}; use a new study_name");
            if (before.Objective != config.Objective || before.Direction != config.Direction)
                throw new GptSharpException($"{where} has objective {before.Objective} ({before.Direction.ToName()}), not {config.Objective} ({config.Direction.ToName()}); use a new study_name");
            SearchSpace.CheckSame(before.SearchSpace, config.SearchSpace, config.StudyName);
        }
        var study = Create(config, storage, config.Workers);
        storage.SetStudySystemAttr(study.Id, ConfigKey, config.ToJson().ToJsonString());
        if (config.EnqueueTrials.Count > 0)
            storage.EnqueueTrialsOnce(study.Id, "enqueue_trials", [.. config.EnqueueTrials.Select(t => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>
            {
                [FrozenTrial.FixedParamsKey] = new JsonObject(t.Select(kv => KeyValuePair.Create(kv.Key, CategoricalDistribution.ToNode(kv.Value)))).ToJsonString(),
            })]);
        return study;
    }

    /// <summary>Joins a study that <c>tune</c> created, with the config it recorded.</summary>
    public static (TuneConfig Config, Study Study) Join(ITrialStorage storage, string studyName)
    {
        var info = storage.FindStudy(studyName) ?? throw Study.NoSuchStudy(studyName, storage);
        var config = Recorded(storage, info.Id)
            ?? throw new GptSharpException($"study \"{studyName}\" was not made by `gptsharp tune` (it holds no tuning config): a worker cannot tell what to train");
        return (config, Create(config, storage, config.Workers));
    }

    static Study Create(TuneConfig config, ITrialStorage storage, int workers) =>
        Study.Create(config.StudyName, storage,
            TuningComponents.CreateSampler(config.Sampler, config.Seed, config.SearchSpace, workers),
            TuningComponents.CreatePruner(config.Pruner),
            config.Direction, loadIfExists: true,
            new HeartbeatOptions(config.HeartbeatInterval, config.GracePeriod, config.RequeueFailed));

    static TuneConfig? Recorded(ITrialStorage storage, long studyId) =>
        storage.GetStudySystemAttrs(studyId).TryGetValue(ConfigKey, out var json) && JsonNode.Parse(json) is JsonObject o
            ? TuneConfig.FromJson(o, "the study's recorded config", "study")
            : null;
}
