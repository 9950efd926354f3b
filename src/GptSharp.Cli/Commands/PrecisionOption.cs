using System.CommandLine;
using GptSharp.Models;

namespace GptSharp.Cli.Commands;

/// <summary>--precision for the commands that run a model: how it multiplies while inferring.</summary>
static class PrecisionOption
{
    public static Option<string> Create() => new("--precision")
    {
        Description = "auto (int8 for a directory made by `quantize`, else fp32), fp32, bf16 (the model converted to bfloat16) or int8 " +
                      "(weight-only int8 with bf16 activations; quantises a float model as it runs).",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>Parsed before the model loads, so a typo costs nothing.</summary>
    public static InferencePrecision Get(ParseResult p, Option<string> option) => InferencePrecisionNames.Parse(p.GetValue(option)!);
}
