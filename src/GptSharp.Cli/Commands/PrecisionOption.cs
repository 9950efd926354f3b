using System.CommandLine;
using GptSharp.Checkpoints;
using GptSharp.Models;

namespace GptSharp.Cli.Commands;

/// <summary>--precision for the commands that run a model: how it multiplies while inferring.</summary>
static class PrecisionOption
{
    public static Option<string> Create() => new("--precision")
    {
        Description = "auto (int8 or int4 for a directory made by `quantize`, else fp32), fp32, bf16 (weights as bfloat16; on the torch engine the whole model " +
                      "converted, on the onnx engine bf16 weights with float32 activations), int8 " +
                      "(weight-only int8; quantises a float model as it runs) or int4 (4-bit weights in blocks of 32, on the onnx engine).",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>Parsed before the model loads, so a typo costs nothing.</summary>
    public static InferencePrecision Get(ParseResult p, Option<string> option) => InferencePrecisionNames.Parse(p.GetValue(option)!);

    public static Option<string> CreateEngine() => new("--engine")
    {
        Description = "What decodes: torch (TorchSharp, any device), onnx (ONNX Runtime running the model's graph on the CPU: no " +
                      "per-operation dispatch, so faster at batch 1; fp32, bf16, int8 or int4) or auto (onnx for fp32 on the CPU and for int4; " +
                      "torch for bf16, int8, a GPU and models the onnx engine cannot run).",
        DefaultValueFactory = _ => "auto",
    };

    public static DecodingEngineKind GetEngine(ParseResult p, Option<string> option) => DecodingEngineNames.Parse(p.GetValue(option)!);
}
