using System.Text.Json;
using GptSharp.IO;

namespace GptSharp.Evaluation;

/// <summary>
/// Models side by side: each one's <see cref="ModelFigures"/>, every figure also as a ratio to the first model's
/// (so the first model's ratios are 1). Written as snake_case JSON.
/// </summary>
public sealed record ComparisonReport
{
    public required string Dataset { get; init; }
    /// <summary>The data was plain text (no reply scores).</summary>
    public bool Text { get; init; }
    public required ModelComparisonOptions Options { get; init; }
    public required IReadOnlyList<ModelFigures> Models { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>The report with each model's <see cref="ModelFigures.Ratios"/> filled in; a ratio is null where either figure is missing or the first is 0.</summary>
    public static ComparisonReport Create(string dataset, ModelComparisonOptions options, IReadOnlyList<ModelFigures> models)
    {
        if (models.Count == 0) throw new GptSharpException("a comparison needs at least one model");
        var first = models[0];
        var withRatios = models.Select(m => m with
        {
            Ratios = ComparisonFigure.All.ToDictionary(f => f.Key, f => Ratio(f.Get(m), f.Get(first))),
        }).ToList();
        return new ComparisonReport { Dataset = dataset, Text = options.Text, Options = options, Models = withRatios };
    }

    static double? Ratio(double? value, double? reference) => value is { } v && reference is { } r && r != 0 ? v / r : null;

    public string ToJson() => JsonSerializer.Serialize(this, EvaluationReport.JsonOptions);

    /// <summary>Writes the report atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");
}
