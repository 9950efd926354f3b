using System.Runtime.InteropServices;
using GptSharp.Inference.Onnx.Proto;
using GptSharp.Models;
using static GptSharp.Inference.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;
using DataType = GptSharp.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace GptSharp.Inference.Onnx;

/// <summary>
/// GPT-2 as an ONNX graph of standard operators (opset 17), in the layout ONNX Runtime GenAI's <c>gpt2</c> model type
/// runs: inputs <c>input_ids</c>, <c>position_ids</c> [batch, sequence], <c>attention_mask</c> [batch, past + sequence]
/// (all int64) and per layer <c>past_N</c> [2, batch, heads, past, head_size] (keys, then values); outputs
/// <c>logits</c> [batch, sequence, vocab] and <c>present_N</c> [2, batch, heads, past + sequence, head_size].
/// A zero in the attention mask hides that position (left padding), on top of the causal mask.
/// </summary>
static class GptOnnxGraph
{
    public const string InputIds = "input_ids", PositionIds = "position_ids", AttentionMask = "attention_mask", Logits = "logits";
    public const string PastFormat = "past_%d", PresentFormat = "present_%d";
    public const int Opset = 17;
    // Opset 17 goes with IR version 8; ONNX Runtime reads newer IRs too, older runtimes need no more than this.
    public const long IrVersion = 8;

    public static string Past(int layer) => $"past_{layer}";
    public static string Present(int layer) => $"present_{layer}";

    /// <summary>Builds the graph of <paramref name="model"/>, writing its weights to <paramref name="g"/>'s data file.</summary>
    public static ModelProto Build(Gpt model, OnnxGraphBuilder g, OnnxPrecision precision, string producerVersion, bool lastPositionOnly = false)
    {
        var config = model.Config;
        int layers = config.NLayer, heads = config.NHead, c = config.NEmbd, d = config.HeadSize, vocab = config.VocabSize;
        var weights = model.state_dict();
        Tensor W(string name) => weights.TryGetValue(name, out var t) ? t : throw new GptSharpException($"the model has no weight '{name}'");

        g.Input(InputIds, DataType.Int64, "batch_size", "sequence_length");
        g.Input(PositionIds, DataType.Int64, "batch_size", "sequence_length");
        g.Input(AttentionMask, DataType.Int64, "batch_size", "total_sequence_length");
        for (int i = 0; i < layers; i++) g.Input(Past(i), DataType.Float, 2L, "batch_size", (long)heads, "past_sequence_length", (long)d);

        var bias = MaskBias(g);

        var x = g.Node("Add", [g.Node("Gather", [Float(g, "wte.weight", W("wte.weight")), InputIds]),
                                g.Node("Gather", [Float(g, "wpe.weight", W("wpe.weight")), PositionIds])]);
        var linear = new OnnxLinear(g, precision);
        var headShape = g.Int64s(0, 0, heads, d);
        var mergedShape = g.Int64s(0, 0, c);
        var scale = g.FloatScalar((float)(1 / Math.Sqrt(d)));
        for (int i = 0; i < layers; i++)
        {
            string p = $"h.{i}.";
            var ln1 = LayerNorm(g, x, W, p + "ln_1", config.LayerNormEpsilon);
            var qkv = linear.Apply(ln1, p + "attn.c_attn", W(p + "attn.c_attn.weight"), W(p + "attn.c_attn.bias"));
            var split = g.Node("Split", [qkv, g.Int64s(c, c, c)], 3, "", Attribute("axis", 2L));
            string Heads(string t) => g.Node("Transpose", [g.Node("Reshape", [t, headShape])], Attribute("perm", new long[] { 0, 2, 1, 3 }));
            var past = Past(i);
            var keys = g.Node("Concat", [g.Node("Gather", [past, g.Int64Scalar(0)], Attribute("axis", 0L)), Heads(split[1])], Attribute("axis", 2L));
            var values = g.Node("Concat", [g.Node("Gather", [past, g.Int64Scalar(1)], Attribute("axis", 0L)), Heads(split[2])], Attribute("axis", 2L));
            var zero = g.Int64s(0);
            g.Rename(g.Node("Concat", [g.Node("Unsqueeze", [keys, zero]), g.Node("Unsqueeze", [values, zero])], Attribute("axis", 0L)), Present(i));

            var scores = g.Node("Mul", [g.Node("MatMul", [Heads(split[0]), g.Node("Transpose", [keys], Attribute("perm", new long[] { 0, 1, 3, 2 }))]), scale]);
            var probs = g.Node("Softmax", [g.Node("Add", [scores, bias])], Attribute("axis", -1L));
            var attended = g.Node("MatMul", [probs, values]);
            var merged = g.Node("Reshape", [g.Node("Transpose", [attended], Attribute("perm", new long[] { 0, 2, 1, 3 })), mergedShape]);
            x = g.Node("Add", [x, linear.Apply(merged, p + "attn.c_proj", W(p + "attn.c_proj.weight"), W(p + "attn.c_proj.bias"))]);

            var ln2 = LayerNorm(g, x, W, p + "ln_2", config.LayerNormEpsilon);
            var hidden = Gelu(g, linear.Apply(ln2, p + "mlp.c_fc", W(p + "mlp.c_fc.weight"), W(p + "mlp.c_fc.bias")));
            x = g.Node("Add", [x, linear.Apply(hidden, p + "mlp.c_proj", W(p + "mlp.c_proj.weight"), W(p + "mlp.c_proj.bias"))]);
        }
        // Decoding needs the last position's logits alone: the LM head is a third of a short prompt's work.
        if (lastPositionOnly) x = g.Node("Slice", [x, g.Int64s(-1), g.Int64s(long.MaxValue), g.Int64s(1)]);
        var final = LayerNorm(g, x, W, "ln_f", config.LayerNormEpsilon);
        // The LM head is tied to the token embedding: Gemm with transB reads wte as it is, no transposed copy.
        var flat = g.Node("Reshape", [final, g.Int64s(-1, c)]);
        var head = g.Node("Gemm", [flat, "wte.weight"], Attribute("transB", 1L));
        var logitsShape = lastPositionOnly ? g.Int64s(-1, 1, vocab) : g.Node("Concat", [g.Node("Shape", [InputIds]), g.Int64s(vocab)], Attribute("axis", 0L));
        g.Rename(g.Node("Reshape", [head, logitsShape]), Logits);

        if (lastPositionOnly) g.Output(Logits, DataType.Float, "batch_size", 1L, (long)vocab);
        else g.Output(Logits, DataType.Float, "batch_size", "sequence_length", (long)vocab);
        for (int i = 0; i < layers; i++) g.Output(Present(i), DataType.Float, 2L, "batch_size", (long)heads, "total_sequence_length", (long)d);

        var onnx = new ModelProto
        {
            IrVersion = IrVersion, ProducerName = "GptSharp", ProducerVersion = producerVersion, Graph = g.Graph,
            DocString = $"GPT-2 ({layers} layers, {heads} heads, {c} wide, {vocab} tokens, context {config.BlockSize}), {precision.Name()} weights",
        };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (!precision.IsFloat()) onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = OnnxLinear.MicrosoftDomain, Version = 1 });
        return onnx;
    }

    /// <summary>
    /// The additive attention mask [batch, 1, sequence, total], computed once for all layers: 0 where a query may see a key
    /// (the key is not after it and its attention_mask is 1), a large negative number elsewhere. Not -inf: a padding
    /// query that sees nothing would then softmax to NaN.
    /// </summary>
    static string MaskBias(OnnxGraphBuilder g)
    {
        var total = g.Node("Gather", [g.Node("Shape", [AttentionMask]), g.Int64Scalar(1)], Attribute("axis", 0L));
        var sequence = g.Node("Gather", [g.Node("Shape", [InputIds]), g.Int64Scalar(1)], Attribute("axis", 0L));
        var one = g.Int64Scalar(1);
        var keys = g.Node("Range", [g.Int64Scalar(0), total, one]);
        var queries = g.Node("Range", [g.Node("Sub", [total, sequence]), total, one]);
        var causal = g.Node("LessOrEqual", [g.Node("Unsqueeze", [keys, g.Int64s(0)]), g.Node("Unsqueeze", [queries, g.Int64s(1)])]);
        var present = g.Node("Unsqueeze", [g.Node("Cast", [AttentionMask], Attribute("to", (long)DataType.Bool)), g.Int64s(1, 2)]);
        var allowed = g.Node("And", [causal, present]);
        return g.Node("Where", [allowed, g.FloatScalar(0f), g.FloatScalar(-1e9f)]);
    }

    static string LayerNorm(OnnxGraphBuilder g, string x, Func<string, Tensor> w, string name, double epsilon) =>
        g.Node("LayerNormalization", [x, Float(g, name + ".weight", w(name + ".weight")), Float(g, name + ".bias", w(name + ".bias"))],
               Attribute("axis", -1L), Attribute("epsilon", (float)epsilon));

    /// <summary>GPT-2's "gelu_new": 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), from basic operators (Gelu itself is opset 20).</summary>
    static string Gelu(OnnxGraphBuilder g, string x)
    {
        var cube = g.Node("Mul", [g.Node("Mul", [x, x]), x]);
        var inner = g.Node("Mul", [g.Node("Add", [x, g.Node("Mul", [cube, g.FloatScalar(0.044715f)])]), g.FloatScalar((float)Math.Sqrt(2 / Math.PI))]);
        return g.Node("Mul", [g.Node("Mul", [x, g.FloatScalar(0.5f)]), g.Node("Add", [g.Node("Tanh", [inner]), g.FloatScalar(1f)])]);
    }

    /// <summary>A float32 initializer holding <paramref name="t"/> as it is.</summary>
    public static string Float(OnnxGraphBuilder g, string name, Tensor t)
    {
        using var f = t.detach().to(ScalarType.Float32).cpu().contiguous();
        return g.Float(name, MemoryMarshal.Cast<byte, float>(f.bytes), f.shape);
    }
}
