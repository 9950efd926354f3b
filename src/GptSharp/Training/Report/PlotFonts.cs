using SkiaSharp;

namespace GptSharp.Training.Report;

/// <summary>
/// Makes sure chart text has a font. ScottPlot's default SkiaSharp build on Linux (no fontconfig) finds fonts by
/// scanning the standard font folders; a bare container may have none, and then text is silently not drawn.
/// When Skia finds no font family, any TrueType file found in the usual places is registered with ScottPlot;
/// with no font anywhere the charts are still drawn, without text.
/// </summary>
static class PlotFonts
{
    static readonly Lock Gate = new();
    static bool _checked;

    /// <summary>True when chart text can be drawn (decided on the first call).</summary>
    public static bool HasFont { get; private set; }

    public static void EnsureUsable()
    {
        lock (Gate)
        {
            if (_checked) return;
            _checked = true;
            if (SKFontManager.Default.FontFamilyCount > 0 && ScottPlot.Fonts.Default is { Length: > 0 } name && SKFontManager.Default.MatchFamily(name) is not null)
            {
                HasFont = true;
                return;
            }
            string? file = FontFolders().Where(Directory.Exists)
                .SelectMany(d => SafeEnumerate(d))
                .OrderBy(f => Path.GetFileName(f).Contains("Sans", StringComparison.OrdinalIgnoreCase) ? 0 : 1)
                .FirstOrDefault();
            if (file is null) return;
            const string family = "GptSharpChartFont";
            foreach (var (bold, italic) in new[] { (false, false), (true, false), (false, true), (true, true) })
                ScottPlot.Fonts.AddFontFile(family, file, bold, italic);
            ScottPlot.Fonts.Default = family;
            HasFont = true;
        }
    }

    static IEnumerable<string> FontFolders()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return ["/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(home, ".fonts"), Path.Combine(home, ".local/share/fonts"),
            Environment.GetFolderPath(Environment.SpecialFolder.Fonts)];
    }

    static IEnumerable<string> SafeEnumerate(string dir)
    {
        try { return Directory.EnumerateFiles(dir, "*.ttf", SearchOption.AllDirectories).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
