using SkiaSharp;

namespace GptSharp.Cli.Report;

/// <summary>
/// Finds a font for chart text. ScottPlot's SkiaSharp build for Linux has no fontconfig dependency: it finds fonts by
/// scanning /usr/share/fonts, and a bare container (e.g. Debian with only the .NET SDK) has none there, in which case
/// charts are drawn without any text. Order of preference: a sans-serif family Skia knows, any family Skia knows,
/// then any TrueType file in the other usual font folders (registered with ScottPlot directly).
/// </summary>
public static class PlotFonts
{
    static readonly Lock Gate = new();
    static bool? _hasFont;
    static readonly string[] SansFamilies = ["DejaVu Sans", "Liberation Sans", "Noto Sans", "Open Sans", "Arial", "Helvetica", "Segoe UI"];

    /// <summary>Folders searched for a TrueType file when Skia finds no font.</summary>
    public static IReadOnlyList<string> Folders { get; } = FontFolders();

    /// <summary>Chooses ScottPlot's default font (once per process); false when no font exists, so charts have no text.</summary>
    public static bool EnsureUsable()
    {
        lock (Gate)
        {
            return _hasFont ??= Choose();
        }
    }

    static bool Choose()
    {
        // With no font files Skia still lists one family: an unnamed, empty one that draws nothing.
        var known = SKFontManager.Default.FontFamilies.Where(f => !string.IsNullOrWhiteSpace(f)).Order(StringComparer.Ordinal).ToList();
        if (known.Count > 0)
        {
            ScottPlot.Fonts.Default = SansFamilies.FirstOrDefault(f => known.Contains(f, StringComparer.OrdinalIgnoreCase))
                ?? known.FirstOrDefault(f => f.Contains("Sans", StringComparison.OrdinalIgnoreCase) && !f.Contains("Mono", StringComparison.OrdinalIgnoreCase))
                ?? known[0];
            return true;
        }
        string? file = Folders.Where(Directory.Exists)
            .SelectMany(TrueTypeFiles)
            .OrderBy(f => Path.GetFileName(f).Contains("Sans", StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenBy(f => f, StringComparer.Ordinal)
            .FirstOrDefault();
        if (file is null) return false;
        const string family = "GptSharp chart font";
        foreach (var (bold, italic) in new[] { (false, false), (true, false), (false, true), (true, true) })
            ScottPlot.Fonts.AddFontFile(family, file, bold, italic);
        ScottPlot.Fonts.Default = family;
        return true;
    }

    static string[] FontFolders()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string windows = Environment.GetFolderPath(Environment.SpecialFolder.Fonts);
        // Last: the DejaVu Sans we ship beside the binaries, so a machine without any font still gets labelled charts.
        return new[] { "/usr/share/fonts", "/usr/local/share/fonts", Path.Combine(home, ".fonts"), Path.Combine(home, ".local", "share", "fonts"), windows,
                Path.Combine(AppContext.BaseDirectory, "fonts") }
            .Where(d => d.Length > 0).ToArray();
    }

    static IEnumerable<string> TrueTypeFiles(string dir)
    {
        try { return Directory.EnumerateFiles(dir, "*.ttf", SearchOption.AllDirectories).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
