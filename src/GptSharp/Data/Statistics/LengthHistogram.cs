namespace GptSharp.Data.Statistics;

/// <summary>
/// Token lengths counted in equal bins: bin i holds the lengths in [i · <see cref="BinWidth"/>, (i + 1) · <see cref="BinWidth"/>).
/// The width is a power of two (at least 1) chosen so the bins up to the longest length number at most <see cref="MaxBins"/>.
/// </summary>
public sealed record LengthHistogram(int BinWidth, IReadOnlyList<int> Counts)
{
    public const int MaxBins = 40;

    public static LengthHistogram Of(IReadOnlyCollection<int> lengths)
    {
        int max = lengths.Count == 0 ? 0 : lengths.Max();
        int width = 1;
        while ((max / width) + 1 > MaxBins) width *= 2;
        var counts = new int[(max / width) + 1];
        foreach (int length in lengths) counts[length / width]++;
        return new(width, counts);
    }

    /// <summary>The lower bound of bin <paramref name="bin"/>.</summary>
    public int Start(int bin) => bin * BinWidth;
}
