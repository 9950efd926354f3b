using GptSharp.Models;
using static TorchSharp.torch;
using GptSharp.Models.Quantized;
using GptSharp.Native;

namespace GptSharp.Checkpoints;

/// <summary>How <see cref="ModelDirectory.Load"/> places and sets up the model.</summary>
public sealed record LoadOptions
{
    /// <summary>Where the model goes; null for the CPU (<c>Native.Devices.Parse</c> turns "auto", "cuda:1", … into one).</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// How the model infers. <see cref="InferencePrecision.Auto"/>: int8 for a directory holding int8 weights, else fp32.
    /// Int8 swaps in int8 layers (<c>Models.Quantized.Int8WeightOnly</c>); from then on the model can only infer.
    /// </summary>
    public InferencePrecision Precision { get; init; } = InferencePrecision.Auto;

    /// <summary>
    /// What decodes: <see cref="DecodingEngineKind.OnnxRuntime"/> builds the model's ONNX graph in the precision asked
    /// (auto: int8 for an int8 directory, else fp32) and sets it as <see cref="Gpt.Engine"/>; the TorchSharp model is
    /// kept in fp32 beside it for losses and beam search. Auto: the onnx engine for fp32 on the CPU and for int4, else
    /// torch (see <see cref="DecodingEngineKind.Auto"/>); training loads its models with <see cref="DecodingEngineKind.Torch"/>.
    /// </summary>
    public DecodingEngineKind Engine { get; init; } = DecodingEngineKind.Auto;
}
