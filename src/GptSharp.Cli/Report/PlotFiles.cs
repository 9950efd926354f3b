using ScottPlot;
using GptSharp.IO;

namespace GptSharp.Cli.Report;

/// <summary>How every chart becomes a file: a PNG of one size, written atomically (a reader never sees half an image).</summary>
public static class PlotFiles
{
    public const int Width = 800, Height = 500;

    /// <summary>Writes <paramref name="plot"/> to <paramref name="path"/> and returns the path.</summary>
    public static string Save(Plot plot, string path, int width = Width, int height = Height)
    {
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(path, f => f.Write(png));
        return path;
    }
}
