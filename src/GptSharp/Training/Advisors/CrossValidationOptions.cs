namespace GptSharp.Training.Advisors;

/// <summary>How k-fold cross-validation splits and scores: k, the split seed, the metric.</summary>
public sealed record CrossValidationOptions
{
    public int Folds { get; init; } = 5;
    /// <summary>Seeds the shuffle that deals conversations into folds (<see cref="Data.Dialogues.SftSplits.KFold"/>).</summary>
    public long Seed { get; init; } = 1337;
    /// <summary>One of <see cref="CrossValidationMetric.All"/>.</summary>
    public string Metric { get; init; } = CrossValidationMetric.ValLoss;
    /// <summary>The longest generated reply when the metric is a reply metric.</summary>
    public int MaxNewTokens { get; init; } = 128;

    /// <summary>Checks the options against the number of conversations; the messages name the CLI options.</summary>
    public CrossValidationOptions Validate(int conversations, string dataName)
    {
        if (Folds < 2) throw new GptSharpException($"--folds must be at least 2, got {Folds}");
        CrossValidationMetric.Check(Metric);
        if (MaxNewTokens < 1) throw new GptSharpException($"--max-new-tokens must be at least 1, got {MaxNewTokens}");
        if (Folds > conversations)
            throw new GptSharpException($"--folds {Folds} is more than the {conversations} conversation{(conversations == 1 ? "" : "s")} in {dataName}: " +
                                        "every fold needs at least one to validate on");
        return this;
    }
}

/// <summary>One fold (numbered from 1, as its run directory fold-K): how many conversations it trained and validated on, its score, and its run directory.</summary>
public sealed record FoldResult(int Fold, int TrainCount, int ValCount, double Value, int Steps, string RunDir)
{
    /// <summary>The steps the run was to take (more than <see cref="Steps"/> when it stopped early).</summary>
    public int MaxSteps { get; init; }
}

/// <summary>Every fold's value and their mean, sample standard deviation and standard error.</summary>
public sealed record CrossValidationResult(string Metric, long Seed, int Conversations, IReadOnlyList<FoldResult> Folds)
{
    public bool LowerIsBetter => CrossValidationMetric.LowerIsBetter(Metric);
    public IReadOnlyList<double> Values => [.. Folds.Select(f => f.Value)];
    public FoldSummary Summary => CrossValidationStatistics.Summarize(Values);
}
