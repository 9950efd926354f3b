using static TorchSharp.torch;

namespace GptSharp.Models.Quantized;

/// <summary>Sets a float model up to infer in an <see cref="InferencePrecision"/>, as loading a model directory does.</summary>
public static class PrecisionSetup
{
    /// <summary>
    /// bf16: matmuls in bfloat16 with the casts kept (<see cref="MatmulPrecision"/>); int8: the int8 layers swapped in
    /// (<see cref="Int8WeightOnly.Quantize"/>, after which the model only infers); fp32 and auto change nothing.
    /// </summary>
    public static void Apply(Gpt model, InferencePrecision precision)
    {
        switch (precision)
        {
            case InferencePrecision.Int8:
                Int8WeightOnly.Quantize(model);
                break;
            case InferencePrecision.BFloat16:
                Int8WeightOnly.RequireFloat(model, "infer in bf16");
                model.Precision.ComputeType = ScalarType.BFloat16;
                break;
            case InferencePrecision.Float32:
                Int8WeightOnly.RequireFloat(model, "infer in fp32");
                model.Precision.ComputeType = null;
                break;
        }
    }
}
