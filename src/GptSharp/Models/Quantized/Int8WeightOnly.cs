using TorchSharp;
using static TorchSharp.torch;
using GptSharp.Native;

namespace GptSharp.Models.Quantized;

/// <summary>
/// Weight-only int8 quantisation of a model in place, like torchao's <c>quantize_(model, int8_weight_only())</c>: every
/// <c>nn.Linear</c> becomes an <see cref="Int8Linear"/> and the token embedding (also the LM head) an
/// <see cref="Int8TokenEmbedding"/>; their float weights are freed. About a third of the fp32 memory for GPT-2 124M,
/// and decoding reads a quarter of the bytes. What is left can only infer: it has no float weights to train, to save
/// as float or to run in another precision (reload the float directory for those).
/// </summary>
public static class Int8WeightOnly
{
    /// <summary>
    /// Swaps the int8 modules in. Linear layers named in <paramref name="stored"/> ("h.0.attn.c_attn", as an int8
    /// checkpoint stores them) take those int8 weights as they are; the others are quantised from their float weights
    /// (<see cref="Int8Weights.Quantize"/>). Layers already int8 are left as they are.
    /// </summary>
    /// <param name="tokenEmbedding">
    /// Also the token embedding / LM head. Without it the float embedding stays (writing an int8 checkpoint, whose
    /// format keeps wte in float32, from a float model).
    /// </param>
    public static void Quantize(Gpt model, IReadOnlyDictionary<string, Int8Weight>? stored = null, bool tokenEmbedding = true)
    {
        using (no_grad())
        {
            var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
            if (stored is not null)
                foreach (var name in stored.Keys)
                    if (modules.GetValueOrDefault(name) is not TorchSharp.Modules.Linear)
                        throw new GptSharpException($"int8 weights for '{name}', which is not a Linear layer of this model");
            foreach (var (name, module) in modules)
            {
                if (module is not TorchSharp.Modules.Linear linear) continue;
                Int8Linear int8;
                using (var w = linear.weight!)
                {
                    if (stored?.GetValueOrDefault(name) is { } weight)
                    {
                        if (!weight.Values.shape.SequenceEqual(w.shape))
                            throw new GptSharpException($"int8 weights for '{name}' have shape [{string.Join(", ", weight.Values.shape)}]; " +
                                $"the model's layer is [{string.Join(", ", w.shape)}]");
                        int8 = Int8Linear.From(weight, linear.bias);
                    }
                    else
                    {
                        using var q = Int8Weights.Quantize(w);
                        int8 = Int8Linear.From(q, linear.bias);
                    }
                }
                Replace(model, modules, name, int8);
            }
            if (tokenEmbedding && modules.GetValueOrDefault("wte") is TorchSharp.Modules.Embedding embedding)
            {
                Int8Linear head;
                using (var w = embedding.weight!)
                using (var q = Int8Weights.Quantize(w))
                    head = Int8Linear.From(q, null);
                Replace(model, modules, "wte", new Int8TokenEmbedding(head));
            }
        }
        Native.Allocator.ReturnFreeMemory(); // else the allocator keeps the freed pages and RSS does not move
    }

    /// <summary>True when <paramref name="model"/> holds int8 layers (so no float weights for them).</summary>
    public static bool IsQuantized(Gpt model) => model.modules().Any(m => m is Int8Linear or Int8TokenEmbedding);

    /// <summary>Throws <see cref="InferenceOnly"/>'s error when <paramref name="model"/> is quantised; <paramref name="what"/> says what was attempted.</summary>
    public static void RequireFloat(Gpt model, string what)
    {
        if (IsQuantized(model))
            throw new GptSharpException($"cannot {what}: the model is quantised to int8 (Int8Linear layers) and has no float weights; " +
                                        "load the float model directory for that");
    }

    /// <summary>The error for training (autograd on) through an int8 layer.</summary>
    public static GptSharpException InferenceOnly() =>
        new("this model is quantised to int8 (Int8Linear layers): it can only infer, with autograd off; it has no float weights " +
            "to train or to run in another precision — load the float model directory for that");

    static void Replace(Gpt model, Dictionary<string, nn.Module> modules, string name, nn.Module<Tensor, Tensor> replacement)
    {
        int dot = name.LastIndexOf('.');
        var parent = dot < 0 ? model : modules[name[..dot]];
        if (parent is not IReplaceableChildren container)
            throw new InvalidOperationException($"'{name}' sits in a {parent.GetType().Name}, which cannot swap its layers");
        using var old = container.ReplaceChild(name[(dot + 1)..], replacement);
    }
}
