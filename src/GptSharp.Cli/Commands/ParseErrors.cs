using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace GptSharp.Cli.Commands;

/// <summary>
/// A command line that does not parse, as one `error: …` line (with a "did you mean" where a name is close) and a pointer to
/// the command's --help, instead of System.CommandLine's full help dump.
/// </summary>
static class ParseErrors
{
    public static IReadOnlyList<string> Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        string path = CommandPath(parse.CommandResult);
        string message;
        if (parse.UnmatchedTokens.FirstOrDefault() is { } token)
        {
            if (token.StartsWith('-'))
                message = $"unknown option '{token}' for '{path}'{Hint(token, OptionNames(parse.CommandResult))}";
            else if (command.Subcommands.Count > 0)
                message = $"unknown command '{token}' for '{path}'{Hint(token, command.Subcommands.SelectMany(c => c.Aliases.Prepend(c.Name)))}";
            else
                message = $"unexpected argument '{token}' for '{path}'";
        }
        else if (command.Options.FirstOrDefault(o => o.Required && parse.GetResult(o) is null) is { } missing)
            message = $"missing required option '{missing.Name}' for '{path}'";
        else if (command.Subcommands.Count > 0 && command.Action is null)
            message = $"'{path}' needs a command: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}";
        else
            message = Sentence(parse.Errors[0].Message);
        return [$"error: {message}", $"see '{path} --help'"];
    }

    static string CommandPath(SymbolResult? result)
    {
        var names = new List<string>();
        for (; result is not null; result = result.Parent)
            if (result is CommandResult c) names.Add(c.Command is RootCommand ? "gptsharp" : c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The options valid at this point: the command's own and the recursive ones of its parents (--verbose, --help).</summary>
    static IEnumerable<string> OptionNames(CommandResult result)
    {
        foreach (var o in result.Command.Options) { yield return o.Name; foreach (var a in o.Aliases) yield return a; }
        for (var p = result.Parent as CommandResult; p is not null; p = p.Parent as CommandResult)
            foreach (var o in p.Command.Options.Where(o => o.Recursive)) { yield return o.Name; foreach (var a in o.Aliases) yield return a; }
    }

    static string Hint(string given, IEnumerable<string> names) =>
        NameSuggestions.Closest(given, names) is { Count: > 0 } close ? $"; did you mean {string.Join(" or ", close.Select(n => $"'{n}'"))}?" : "";

    /// <summary>System.CommandLine's messages start with a capital and end with a full stop; ours are lower-case clauses.</summary>
    static string Sentence(string m)
    {
        m = Regex.Replace(m, @"\s*\n\s*", " ").Trim().TrimEnd('.');
        m = Regex.Replace(m, @"as expected type 'System\.(Double|Single|Decimal)'", "as a number");
        m = Regex.Replace(m, @"as expected type 'System\.(U?Int\d+|Nullable`1\[System\.U?Int\d+\])'", "as an integer");
        return m.Length > 1 && char.IsUpper(m[0]) && !char.IsUpper(m[1]) ? char.ToLowerInvariant(m[0]) + m[1..] : m;
    }
}
