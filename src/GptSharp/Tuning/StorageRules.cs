using System.Text.Json.Nodes;

namespace GptSharp.Tuning;

/// <summary>The rules every <see cref="ITrialStorage"/> applies alike, so the storages cannot drift apart.</summary>
public static class StorageRules
{
    /// <summary>The system attribute that says why a trial failed (JSON string).</summary>
    public const string FailReasonKey = "fail_reason";

    /// <summary>The fail reason of a trial failed by <see cref="ITrialStorage.FailStaleTrials"/>, as JSON.</summary>
    public const string StaleReasonJson = "\"its worker stopped sending heartbeats\"";

    /// <summary>The rule every storage applies to a name that exists: join it when allowed and the direction agrees.</summary>
    public static StudyInfo Existing(StudyInfo existing, StudyDirection direction, bool loadIfExists)
    {
        if (!loadIfExists) throw new GptSharpException($"a study named \"{existing.Name}\" already exists (load it, or choose another name)");
        if (existing.Direction != direction)
            throw new GptSharpException($"study \"{existing.Name}\" exists with direction {existing.Direction.ToName()}, not {direction.ToName()}");
        return existing;
    }

    /// <summary>The system attributes of a failed trial's waiting copy: its parameters fixed, and where it came from.</summary>
    public static IReadOnlyDictionary<string, string> RequeueAttrs(FrozenTrial failed)
    {
        var fixedParams = new JsonObject();
        foreach (var (k, v) in failed.Params) fixedParams[k] = CategoricalDistribution.ToNode(v);
        if (failed.SystemAttrs.TryGetValue(FrozenTrial.FixedParamsKey, out var json) && JsonNode.Parse(json) is JsonObject earlier)
            foreach (var (k, v) in earlier)
                if (!fixedParams.ContainsKey(k)) fixedParams[k] = v?.DeepClone();
        return new Dictionary<string, string>
        {
            [FrozenTrial.FixedParamsKey] = fixedParams.ToJsonString(),
            [FrozenTrial.RetriedFromKey] = failed.SystemAttrs.TryGetValue(FrozenTrial.RetriedFromKey, out var first) ? first : failed.Number.ToString(),
        };
    }

}
