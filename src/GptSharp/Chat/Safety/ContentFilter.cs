using System.Text.Json;
using System.Text.RegularExpressions;

namespace GptSharp.Chat.Safety;

/// <summary>
/// Blocks user messages and model replies that contain banned words or match banned patterns, grouped in named
/// categories. Rules come from JSON:
/// <code>
/// { "categories": { "violence": { "words": ["..."], "patterns": ["regex", ...] }, ... },
///   "refusal": "a polite message", "output_action": "stop" | "mask", "max_pattern_length": 32 }
/// </code>
/// Text and words are compared in a normal form (<see cref="FilterText"/>): any case, fullwidth or other compatibility
/// forms, extra spaces, and spaces between Chinese characters make no difference ("I will KILL   YOU", "你是白 痴吗").
/// A word that starts (ends) with a Latin-style letter or digit must start (end) at a word boundary, so "kill" does not
/// match "skill" nor "idiot" "idiotic"; simple English inflections of each of its words still match ("idiots",
/// "killing you": -s, -es, -ed, -d, -ing, -'s). Chinese/Japanese/Korean text has no spaces between words, so such
/// characters need no boundary ("白痴" matches inside "你是白痴吗"). Patterns are .NET regular expressions, matched
/// case-insensitively on the normal form; a streamed reply is only checked for pattern matches up to
/// <c>max_pattern_length</c> characters long. A match is cut or masked in the original text, widened to whole words.
/// </summary>
public sealed class ContentFilter
{
    public const string DefaultRefusal = "Sorry, I can't help with that.";
    const int DefaultMaxPatternLength = 32;

    static readonly Lazy<ContentFilter> defaults = new(() => Parse(ContentFilterDefaults.Json, "the built-in content filter rules"));

    /// <summary>The built-in rules: a small, mild list (see samples/content-filter.json).</summary>
    public static ContentFilter Default => defaults.Value;

    public sealed record Category(string Name, IReadOnlyList<string> Words, IReadOnlyList<Regex> Patterns);

    public IReadOnlyList<Category> Categories { get; }
    /// <summary>What the chat answers instead of calling the model when a user message is blocked.</summary>
    public string Refusal { get; }
    public ContentFilterAction OutputAction { get; }
    /// <summary>
    /// How many characters a streamed reply holds back so that a banned phrase split over several pieces is still seen
    /// whole: the longest word, or the longest pattern match allowed when there are patterns.
    /// </summary>
    public int HoldBack { get; }

    /// <summary>One compiled rule: a word (as a regex over the normal form) or a pattern, with its category.</summary>
    readonly record struct Rule(Regex Regex, string Category);

    readonly IReadOnlyList<Rule> rules;
    readonly int maxPatternLength;

    /// <summary>The inflections a word's Latin words may take: kill → kills, killed, killing; idiot → idiots, idiot's.</summary>
    const string Inflection = "(?:'s|s|es|ed|d|ing)?";
    const int LongestInflection = 3;
    /// <summary>A letter or digit of a space-separated word; next to one, a Latin-style word edge is no word boundary.</summary>
    const string WordChar = @"[\p{L}\p{Nd}-[" + FilterText.CjkClass + "]]";

    ContentFilter(IReadOnlyList<Category> categories, string refusal, ContentFilterAction action, int maxPatternLength)
    {
        Categories = categories;
        Refusal = refusal;
        OutputAction = action;
        this.maxPatternLength = maxPatternLength;
        var compiled = new List<Rule>();
        int longestWord = 0;
        foreach (var category in categories)
        {
            foreach (var word in category.Words)
            {
                var (regex, longest) = WordRule(word);
                compiled.Add(new(regex, category.Name));
                longestWord = Math.Max(longestWord, longest);
            }
            compiled.AddRange(category.Patterns.Select(p => new Rule(p, category.Name)));
        }
        rules = compiled;
        bool anyPattern = categories.Any(c => c.Patterns.Count > 0);
        HoldBack = Math.Max(longestWord, anyPattern ? maxPatternLength : 0);
    }

    /// <summary>A word as a regex over the normal form, and the longest text it can match there.</summary>
    static (Regex Regex, int Longest) WordRule(string word)
    {
        string normal = FilterText.Of(word).Text.Trim();
        var parts = normal.Split(' ');
        var regex = new System.Text.StringBuilder();
        if (FilterText.IsWordChar(normal[0])) regex.Append($"(?<!{WordChar})");
        regex.AppendJoin(' ', parts.Select(p => Regex.Escape(p) + (char.IsLetter(p[^1]) && FilterText.IsWordChar(p[^1]) ? Inflection : "")));
        if (FilterText.IsWordChar(normal[^1])) regex.Append($"(?!{WordChar})");
        int longest = normal.Length + LongestInflection * parts.Count(p => char.IsLetter(p[^1]) && FilterText.IsWordChar(p[^1]));
        return (new Regex(regex.ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), longest);
    }

    /// <summary>A copy with another output action (e.g. from a command-line option).</summary>
    public ContentFilter WithOutputAction(ContentFilterAction action) =>
        new(Categories, Refusal, action, maxPatternLength);

    /// <summary>Reads rules from a JSON file; every problem is a <see cref="GptSharpException"/> naming the file and the rule.</summary>
    public static ContentFilter Load(string path)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: content filter rules file not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Reads rules from JSON text; <paramref name="source"/> names it in error messages.</summary>
    public static ContentFilter Parse(string json, string source)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            root = doc.RootElement.Clone();
        }
        catch (JsonException e) { throw Error(source, $"not valid JSON (line {e.LineNumber + 1}: {e.Message})"); }
        if (root.ValueKind != JsonValueKind.Object) throw Error(source, "expected a JSON object with \"categories\"");

        string refusal = DefaultRefusal;
        var action = ContentFilterAction.Stop;
        int maxPatternLength = DefaultMaxPatternLength;
        List<Category>? categories = null;
        foreach (var prop in root.EnumerateObject())
        {
            switch (prop.Name)
            {
                case "categories":
                    if (prop.Value.ValueKind != JsonValueKind.Object) throw Error(source, "\"categories\" must be an object of named categories");
                    categories = [.. prop.Value.EnumerateObject().Select(c => ParseCategory(c, source))];
                    break;
                case "refusal":
                    refusal = prop.Value.ValueKind == JsonValueKind.String && prop.Value.GetString() is { Length: > 0 } r ? r
                        : throw Error(source, "\"refusal\" must be a non-empty string");
                    break;
                case "output_action":
                    action = prop.Value.ValueKind == JsonValueKind.String ? ParseAction(prop.Value.GetString()!, source)
                        : throw Error(source, "\"output_action\" must be \"stop\" or \"mask\"");
                    break;
                case "max_pattern_length":
                    maxPatternLength = prop.Value.ValueKind == JsonValueKind.Number && prop.Value.TryGetInt32(out int n) && n is >= 1 and <= 10_000 ? n
                        : throw Error(source, "\"max_pattern_length\" must be a whole number from 1 to 10000");
                    break;
                default:
                    throw Error(source, $"unknown key \"{prop.Name}\" (expected categories, refusal, output_action, max_pattern_length)");
            }
        }
        if (categories is null) throw Error(source, "missing \"categories\"");
        return new ContentFilter(categories, refusal, action, maxPatternLength);
    }

    /// <summary>"stop" or "mask" (any case).</summary>
    public static ContentFilterAction ParseAction(string value, string source) => value.ToLowerInvariant() switch
    {
        "stop" => ContentFilterAction.Stop,
        "mask" => ContentFilterAction.Mask,
        _ => throw Error(source, $"output_action \"{value}\" is unknown (expected \"stop\" or \"mask\")"),
    };

    static Category ParseCategory(JsonProperty category, string source)
    {
        string where = $"category \"{category.Name}\"";
        if (category.Value.ValueKind != JsonValueKind.Object) throw Error(source, $"{where} must be an object with \"words\" and/or \"patterns\"");
        var words = new List<string>();
        var patterns = new List<Regex>();
        foreach (var prop in category.Value.EnumerateObject())
        {
            if (prop.Name is not ("words" or "patterns"))
                throw Error(source, $"{where}: unknown key \"{prop.Name}\" (expected words, patterns)");
            if (prop.Value.ValueKind != JsonValueKind.Array) throw Error(source, $"{where}: \"{prop.Name}\" must be an array of strings");
            int i = 0;
            foreach (var item in prop.Value.EnumerateArray())
            {
                string rule = $"{where}, {prop.Name}[{i++}]";
                if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 } text)
                    throw Error(source, $"{rule} must be a non-empty string");
                if (prop.Name == "words")
                {
                    if (FilterText.Of(text).Text.Trim().Length == 0) throw Error(source, $"{rule} \"{text}\" has nothing to match (only spaces or invisible characters)");
                    words.Add(text);
                    continue;
                }
                try
                {
                    patterns.Add(new Regex(text, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
                }
                catch (ArgumentException e) { throw Error(source, $"{rule} \"{text}\" is not a valid regular expression ({e.Message})"); }
            }
        }
        return new Category(category.Name, words, patterns);
    }

    static GptSharpException Error(string source, string what) => new($"{source}: {what}");

    /// <summary>Checks a whole text, such as a user message.</summary>
    public ContentFilterVerdict CheckInput(string text) =>
        FindFirst(text, before: null, textIsComplete: true) is { } m ? new(true, m.Category, text.Substring(m.Index, m.Length)) : ContentFilterVerdict.Allowed;

    /// <summary>A filter for one streamed reply.</summary>
    public ContentFilterStream CreateOutputStream() => new(this);

    internal readonly record struct Match(int Index, int Length, string Category)
    {
        public int End => Index + Length;
    }

    /// <summary>
    /// The earliest match in <paramref name="text"/> (the longest among those starting there), as a range of the text
    /// widened to whole words. <paramref name="before"/> is the character just before the text, for the word-boundary
    /// check. When the text is not complete, a match touching its end is not reported: more text may turn "idiot" into
    /// "idiotic", or let a pattern match further.
    /// </summary>
    internal Match? FindFirst(string text, char? before, bool textIsComplete)
    {
        string original = before is { } b ? b + text : text;
        int offset = original.Length - text.Length;
        var normal = FilterText.Of(original);
        // Matches start in the text itself; the character before only serves the boundary checks.
        int from = 0;
        while (from < normal.Text.Length && normal.OriginalStart(from) < offset) from++;
        Match? best = null;
        foreach (var rule in rules)
        {
            var m = rule.Regex.Match(normal.Text, from);
            while (m.Success && m.Length == 0) m = m.NextMatch();
            if (!m.Success || (!textIsComplete && m.Index + m.Length >= normal.Text.Length)) continue;
            int start = normal.OriginalStart(m.Index), end = normal.OriginalEnd(m.Index + m.Length - 1);
            // Masking part of a word would leave the rest of it readable: take the whole word.
            while (start > offset && FilterText.IsWordChar(original[start - 1]) && FilterText.IsWordChar(original[start])) start--;
            while (end < original.Length && FilterText.IsWordChar(original[end]) && FilterText.IsWordChar(original[end - 1])) end++;
            var found = new Match(start - offset, end - start, rule.Category);
            if (best is not { } c || found.Index < c.Index || (found.Index == c.Index && found.Length > c.Length)) best = found;
        }
        return best;
    }
}
