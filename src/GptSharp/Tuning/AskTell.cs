namespace GptSharp.Tuning;

/// <summary>
/// Studies driven from outside by ask and tell (Optuna's CLI): the search space is given at every ask, so the study
/// records the first one and refuses a changed one, naming the parameter, instead of mixing two spaces in one study.
/// </summary>
public static class AskTell
{
    /// <summary>The study attribute holding the recorded search space (JSON).</summary>
    public const string SearchSpaceKey = "search_space";

    /// <summary>Creates the study if needed (recording <paramref name="space"/>) or joins it after checking the space is the recorded one.</summary>
    public static Study Open(ITrialStorage storage, string name, StudyDirection direction, ISampler sampler, IReadOnlyDictionary<string, Distribution> space)
    {
        var study = Study.Create(name, storage, sampler, null, direction, loadIfExists: true);
        var attrs = storage.GetStudySystemAttrs(study.Id);
        if (attrs.TryGetValue(SearchSpaceKey, out var recorded))
            SearchSpace.CheckSame(SearchSpace.Parse(recorded, $"study \"{name}\"'s search space"), space, name);
        else
            storage.SetStudySystemAttr(study.Id, SearchSpaceKey, SearchSpace.ToJson(space).ToJsonString());
        return study;
    }
}
