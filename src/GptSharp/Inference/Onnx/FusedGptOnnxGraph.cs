using GptSharp.Inference.Onnx.Proto;
using GptSharp.Models;
using static GptSharp.Inference.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;
using DataType = GptSharp.Inference.Onnx.Proto.TensorProto.Types.DataType;

namespace GptSharp.Inference.Onnx;

/// <summary>
/// GPT-2 for the onnx engine alone: the same model as <see cref="GptOnnxGraph"/> in ONNX Runtime's fused CPU operators
/// (com.microsoft) — <c>GroupQueryAttention</c> (with as many key/value heads as query heads: GPT-2's attention, causal,
/// over a KV buffer it appends to in place at each row's own length), <c>SkipLayerNormalization</c> (residual add, bias
/// and layer norm in one), <c>FastGelu</c> (GPT-2's tanh GELU with its bias) — so a layer is about 9 nodes instead of 40.
/// Quantised, the tied LM head is 8-bit too. Only ONNX Runtime runs it, hence not the export's graph.
/// Inputs: <c>input_ids</c>, <c>position_ids</c> [batch, sequence]; <c>seqlens_k</c> [batch] (int32: each row's length
/// after this step, minus one); <c>total_sequence_length</c> (int32 scalar: the longest row's); per layer
/// <c>past_key_N</c>, <c>past_value_N</c> [batch, heads, capacity, head_size], the engine's buffers
/// (<see cref="OnnxKvBuffers"/>), bound again as the outputs <c>present_key_N</c>, <c>present_value_N</c> so the
/// operator writes the new positions into them. Output <c>logits</c> [batch, 1, vocab] (the last position). Several new
/// tokens per row on top of a past only for a batch of one (the operator's rule; the engine splits such steps).
/// </summary>
static class FusedGptOnnxGraph
{
    public static string PastKey(int layer) => $"past_key_{layer}";
    public static string PastValue(int layer) => $"past_value_{layer}";
    public static string PresentKey(int layer) => $"present_key_{layer}";
    public static string PresentValue(int layer) => $"present_value_{layer}";
    public const string SeqLensK = "seqlens_k", TotalSequenceLength = "total_sequence_length";

    public static ModelProto Build(Gpt model, OnnxGraphBuilder g, OnnxPrecision precision)
    {
        var config = model.Config;
        int layers = config.NLayer, heads = config.NHead, c = config.NEmbd, d = config.HeadSize, vocab = config.VocabSize;
        var weights = model.state_dict();
        Tensor W(string name) => weights.TryGetValue(name, out var t) ? t : throw new GptSharpException($"the model has no weight '{name}'");
        string F(string name) => GptOnnxGraph.Float(g, name, W(name));
        const string ms = OnnxLinear.MicrosoftDomain;
        var epsilon = Attribute("epsilon", (float)config.LayerNormEpsilon);

        g.Input(GptOnnxGraph.InputIds, DataType.Int64, "batch_size", "sequence_length");
        g.Input(GptOnnxGraph.PositionIds, DataType.Int64, "batch_size", "sequence_length");
        g.Input(SeqLensK, DataType.Int32, "batch_size");
        g.Input(TotalSequenceLength, DataType.Int32);
        for (int i = 0; i < layers; i++)
        {
            g.Input(PastKey(i), DataType.Float, "batch_size", (long)heads, "past_sequence_length", (long)d);
            g.Input(PastValue(i), DataType.Float, "batch_size", (long)heads, "past_sequence_length", (long)d);
        }

        // fp32 keeps one copy of the tied embedding, transposed ([n_embd, vocab]): the LM head's MatMul streams it about a
        // fifth faster than Gemm reads [vocab, n_embd] with transB (GPT-2 124M, 2 threads), and rows are gathered along axis 1.
        string? wteT = null;
        string tokens;
        if (precision.IsFloat())
        {
            using (var t = W("wte.weight").detach().t()) wteT = GptOnnxGraph.Float(g, "wte.weight.t", t);
            tokens = g.Node("Transpose", [g.Node("Gather", [wteT, GptOnnxGraph.InputIds], Attribute("axis", 1L))], Attribute("perm", new long[] { 1, 2, 0 }));
        }
        else tokens = g.Node("Gather", [F("wte.weight"), GptOnnxGraph.InputIds]);
        var residual = g.Node("Add", [tokens, g.Node("Gather", [F("wpe.weight"), GptOnnxGraph.PositionIds])]);
        var normed = g.Node("LayerNormalization", [residual, F("h.0.ln_1.weight"), F("h.0.ln_1.bias")], Attribute("axis", -1L), epsilon);
        var linear = new OnnxLinear(g, precision);
        string? pending = null, pendingBias = null; // the last MLP's output and its bias, added by the next SkipLayerNormalization
        for (int i = 0; i < layers; i++)
        {
            string p = $"h.{i}.";
            if (pending is not null)
            {
                var next = g.Node("SkipLayerNormalization", [pending, residual, F(p + "ln_1.weight"), F(p + "ln_1.bias"), pendingBias!], 4, ms, epsilon);
                (normed, residual) = (next[0], next[3]);
            }
            // Queries, keys and values packed as c_attn gives them; each row's keys and values go into its cache at
            // its own length (seqlens_k), so rows of different lengths decode together.
            var packed = linear.Apply(normed, p + "attn.c_attn", W(p + "attn.c_attn.weight"), W(p + "attn.c_attn.bias"));
            var attention = g.Node("GroupQueryAttention", [packed, "", "", PastKey(i), PastValue(i), SeqLensK, TotalSequenceLength], 3, ms,
                                   Attribute("num_heads", (long)heads), Attribute("kv_num_heads", (long)heads));
            g.Rename(attention[1], PresentKey(i));
            g.Rename(attention[2], PresentValue(i));
            var projected = linear.Product(attention[0], p + "attn.c_proj", W(p + "attn.c_proj.weight"));
            var second = g.Node("SkipLayerNormalization", [projected, residual, F(p + "ln_2.weight"), F(p + "ln_2.bias"), F(p + "attn.c_proj.bias")], 4, ms, epsilon);
            residual = second[3];
            var hidden = g.Node("FastGelu", [linear.Product(second[0], p + "mlp.c_fc", W(p + "mlp.c_fc.weight")), F(p + "mlp.c_fc.bias")], 1, ms)[0];
            (pending, pendingBias) = (linear.Product(hidden, p + "mlp.c_proj", W(p + "mlp.c_proj.weight")), F(p + "mlp.c_proj.bias"));
        }
        var final = g.Node("SkipLayerNormalization", [pending!, residual, F("ln_f.weight"), F("ln_f.bias"), pendingBias!], 1, ms, epsilon)[0];
        // The last position alone goes through the LM head, tied to the token embedding; quantised, in 8-bit blocks whatever
        // the precision (as llama.cpp's q4_0 keeps its head at 6 bits or more): in fp32 it would stream more bytes than all
        // the int8 layers together.
        var last = g.Node("Reshape", [g.Node("Slice", [final, g.Int64s(-1), g.Int64s(long.MaxValue), g.Int64s(1)]), g.Int64s(-1, c)]);
        var head = wteT is not null ? g.Node("MatMul", [last, wteT]) : new OnnxLinear(g, OnnxPrecision.Int8).Product(last, "lm_head", W("wte.weight"));
        g.Rename(g.Node("Reshape", [head, g.Int64s(-1, 1, vocab)]), GptOnnxGraph.Logits);

        g.Output(GptOnnxGraph.Logits, DataType.Float, "batch_size", 1L, (long)vocab);
        for (int i = 0; i < layers; i++)
        {
            g.Output(PresentKey(i), DataType.Float, "batch_size", (long)heads, "total_sequence_length", (long)d);
            g.Output(PresentValue(i), DataType.Float, "batch_size", (long)heads, "total_sequence_length", (long)d);
        }
        var onnx = new ModelProto { IrVersion = GptOnnxGraph.IrVersion, ProducerName = "GptSharp", Graph = g.Graph };
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = GptOnnxGraph.Opset });
        onnx.OpsetImport.Add(new OperatorSetIdProto { Domain = ms, Version = 1 });
        return onnx;
    }
}
