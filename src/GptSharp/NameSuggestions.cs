namespace GptSharp;

/// <summary>"Did you mean …?" for a mistyped name: the valid names within a small edit distance of it.</summary>
public static class NameSuggestions
{
    /// <summary>Names at most two edits from <paramref name="given"/>, or containing it (when it is 4+ characters), closest first.</summary>
    public static IReadOnlyList<string> Closest(string given, IEnumerable<string> names) =>
        [.. names.Distinct()
            .Select(n => (Name: n, Distance: EditDistance(n, given)))
            .Where(c => c.Distance <= 2 || c.Name.Contains(given, StringComparison.Ordinal) && given.Length >= 4)
            .OrderBy(c => c.Distance)
            .Select(c => c.Name)];

    /// <summary>Levenshtein distance (insertions, deletions, substitutions).</summary>
    public static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
