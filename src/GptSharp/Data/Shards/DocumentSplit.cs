namespace GptSharp.Data.Shards;

/// <summary>
/// The train/validation split: document i (0-based, counted across all input files in order) goes to validation when
/// ⌊(i+1)·f⌋ &gt; ⌊i·f⌋, i.e. every (1/f)-th document. Deterministic, independent of how documents are tokenized,
/// and exactly ⌊n·f⌋ of n documents are held out.
/// </summary>
public static class DocumentSplit
{
    public static bool IsValidation(long documentIndex, double valFraction) =>
        valFraction > 0 && Math.Floor((documentIndex + 1) * valFraction) > Math.Floor(documentIndex * valFraction);
}
