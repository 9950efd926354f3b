using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Inference.Kernels;

/// <summary>
/// GPT-2's forward pass for one new token of one sequence, in C# over <see cref="MatVec"/>'s kernels and a
/// <see cref="KernelWorkers"/> pool: issue 14's option (b), used by the onnx engine for its batch-1 decoding steps, where a
/// token is a pass over every weight and ONNX Runtime's single-row products (MLAS: compute-bound at int8 and int4,
/// ~1 ms of per-node scheduling) are slowest. Prompts and batches of several rows stay on ONNX Runtime, whose GEMMs are
/// better there; both read and write the same KV cache (<c>[heads, capacity, head_size]</c> per layer and sequence).
/// Weights: the model's float tensors as they are (fp32), bfloat16 copies of them (bf16: the engine has rounded them to
/// bf16 values, so these are exact), or <see cref="PackedWeights"/> of the same levels and scales as the onnx engine's
/// graph (8 or 4 bits, the LM head 8-bit), so logits match it to rounding.
/// </summary>
public sealed unsafe class RowDecoder : IDisposable
{
    /// <summary>A linear layer's weights in one of three forms: float32 (<see cref="Weights"/>), bfloat16
    /// (<see cref="Half"/>, the same [N, K] layout) or <see cref="PackedWeights"/>.</summary>
    sealed class Linear(int n, int k, float* bias, float* weights, PackedWeights? packed, ushort* half = null)
    {
        public readonly int N = n, K = k;
        public readonly float* Bias = bias, Weights = weights;
        public readonly ushort* Half = half;
        public readonly PackedWeights? Packed = packed;
    }

    sealed class Layer
    {
        public required float* Norm1, Norm1Bias, Norm2, Norm2Bias;
        public required Linear Attention, Projection, Up, Down;
    }

    readonly int _layers, _heads, _headSize, _width, _vocab, _context;
    readonly bool _wide;
    readonly float _epsilon;
    readonly KernelWorkers _workers;
    readonly List<Tensor> _held = [];
    readonly Layer[] _blocks;
    readonly float* _tokens, _positions, _finalNorm, _finalNormBias;
    readonly Linear _head;
    readonly QuantizedActivations _quantized;
    readonly float* _scratch;
    readonly float* _x, _normed, _qkv, _attended, _hidden;
    readonly float*[] _scores;
    readonly Action<int> _matVec, _attend;

    // The job being run: set before KernelWorkers.Run, read by every part.
    Linear? _linear;
    float* _input, _output;
    bool _accumulate, _gelu;
    int _position, _capacity;
    float* _keys, _values;

    RowDecoder(Gpt model, int bits, int threads, int vectorBits, Gpt? halves)
    {
        (_wide, VectorBits) = (vectorBits == 512, vectorBits);
        var config = model.Config;
        (_layers, _heads, _headSize, _width, _vocab, _context) = (config.NLayer, config.NHead, config.HeadSize, config.NEmbd, config.VocabSize, config.BlockSize);
        _epsilon = (float)config.LayerNormEpsilon;
        var weights = model.state_dict();
        float* F(string name)
        {
            if (!weights.TryGetValue(name, out var t)) throw new GptSharpException($"the model has no weight '{name}'");
            var held = t.detach().to(ScalarType.Float32).contiguous(); // shares the parameter's memory when it is float32 and contiguous
            _held.Add(held);
            fixed (byte* p = held.bytes) return (float*)p; // native memory: the pointer stays valid while the tensor lives
        }
        var halfWeights = halves?.state_dict() ?? weights;
        ushort* H(string name)
        {
            // A copy (half the bytes to stream), or the bf16 model's own tensor when given.
            var held = halfWeights[name].detach().to(ScalarType.BFloat16).contiguous();
            _held.Add(held);
            fixed (byte* p = held.bytes) return (ushort*)p;
        }
        Linear L(string name, int n, int k, int linearBits) => linearBits switch
        {
            0 => new Linear(n, k, F(name + ".bias"), F(name + ".weight"), null),
            16 => new Linear(n, k, F(name + ".bias"), null, null, H(name + ".weight")),
            _ => new Linear(n, k, F(name + ".bias"), null, PackedWeights.Quantize(weights[name + ".weight"], linearBits)),
        };
        int c = _width;
        _blocks = new Layer[_layers];
        for (int i = 0; i < _layers; i++)
        {
            string p = $"h.{i}.";
            _blocks[i] = new Layer
            {
                Norm1 = F(p + "ln_1.weight"), Norm1Bias = F(p + "ln_1.bias"), Norm2 = F(p + "ln_2.weight"), Norm2Bias = F(p + "ln_2.bias"),
                Attention = L(p + "attn.c_attn", 3 * c, c, bits), Projection = L(p + "attn.c_proj", c, c, bits),
                Up = L(p + "mlp.c_fc", 4 * c, c, bits), Down = L(p + "mlp.c_proj", c, 4 * c, bits),
            };
        }
        _tokens = F("wte.weight");
        _positions = F("wpe.weight");
        _finalNorm = F("ln_f.weight");
        _finalNormBias = F("ln_f.bias");
        _head = bits switch
        {
            0 => new Linear(_vocab, c, null, _tokens, null),
            16 => new Linear(_vocab, c, null, null, null, H("wte.weight")),
            _ => new Linear(_vocab, c, null, null, PackedWeights.Quantize(weights["wte.weight"], 8)),
        };
        _quantized = new QuantizedActivations(4 * c);
        _workers = new KernelWorkers(threads);
        long floats = c + c + 3 * c + c + 4 * c;
        _scratch = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), 64);
        _x = _scratch;
        _normed = _x + c;
        _qkv = _normed + c;
        _attended = _qkv + 3 * c;
        _hidden = _attended + c;
        _scores = new float*[_heads];
        for (int i = 0; i < _scores.Length; i++) _scores[i] = (float*)NativeMemory.AlignedAlloc((nuint)((config.BlockSize + 1) * sizeof(float)), 64);
        _matVec = MatVecPart;
        _attend = AttendPart;
    }

    /// <summary>
    /// A decoder for <paramref name="model"/> (float32, CPU) with its block linear weights in <paramref name="bits"/>
    /// (0: float32 as they are; 16: bfloat16 copies of them, the LM head too; 8 or 4: block-quantised, the LM head 8-bit), on <paramref name="threads"/> threads, with
    /// <paramref name="vectorBits"/>-bit kernels (512: AVX-512, 256: AVX2; default: the widest this CPU runs; float32 and
    /// bfloat16 products are 256-bit at either, see <see cref="MatVec.Float32"/>); null where
    /// the kernels do not apply: neither AVX-512 nor AVX2 (the caller keeps its own path), or a model width or head size
    /// they do not handle (n_embd a multiple of 64, head size of 16). <paramref name="halves"/>: at 16 bits, the same model
    /// in bfloat16, whose tensors the kernels then read instead of copies.
    /// </summary>
    public static RowDecoder? TryCreate(Gpt model, int bits, int threads, int? vectorBits = null, Gpt? halves = null)
    {
        if (bits is not (0 or 4 or 8 or 16)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "0, 4, 8 or 16");
        int width = vectorBits ?? MatVec.Width;
        if (vectorBits is { } asked && !(asked == 512 && MatVec.Avx512 || asked == 256 && MatVec.Avx2))
            throw new ArgumentOutOfRangeException(nameof(vectorBits), asked, $"this CPU runs the row kernels at {(MatVec.Width == 0 ? "no width" : $"{MatVec.Width} bits or less")}; 512 or 256");
        var config = model.Config;
        if (width == 0 || config.NEmbd % 64 != 0 || config.HeadSize % 16 != 0) return null;
        using var _ = no_grad();
        return new RowDecoder(model, bits, threads, width, halves);
    }

    /// <summary>The kernels' vector width: 512 (AVX-512) or 256 (AVX2).</summary>
    public int VectorBits { get; }

    /// <summary>Where steps spend their time (the decoding benchmark's <c>--profile</c>): counted while set.</summary>
    public StepTimes? Times { get; set; }

    /// <summary>Stopwatch ticks over <see cref="Steps"/> steps: the weights' products (activations quantised and bias,
    /// residual and GELU applied on the way; <see cref="Head"/> the LM head's share), attention (the cache written, and
    /// read by every head), and the whole step.</summary>
    public sealed class StepTimes
    {
        public long Steps, Weights, Head, Attention, Total;

        /// <summary>Milliseconds per step of <paramref name="ticks"/>.</summary>
        public double PerStep(long ticks) => Steps == 0 ? 0 : ticks * 1000.0 / System.Diagnostics.Stopwatch.Frequency / Steps;
    }

    /// <summary>
    /// Feeds <paramref name="token"/> at <paramref name="position"/> of a sequence whose cache holds that many positions:
    /// its keys and values go to position <paramref name="position"/> of each layer's
    /// <paramref name="caches"/>[2·layer] (keys) and [2·layer + 1] (values), each [heads, <paramref name="capacity"/>,
    /// head_size]; the next token's logits go to <paramref name="logits"/>[0..vocab).
    /// </summary>
    public void Step(long token, int position, ReadOnlySpan<nint> caches, int capacity, float* logits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((ulong)token >= (ulong)_vocab) throw new ArgumentOutOfRangeException(nameof(token), token, $"vocabulary of {_vocab}");
        if (position < 0 || position >= capacity) throw new ArgumentOutOfRangeException(nameof(position), position, $"capacity {capacity}");
        if (caches.Length != 2 * _layers) throw new ArgumentException($"expected {2 * _layers} caches", nameof(caches));
        var times = Times;
        long start = times is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        int c = _width;
        var x = new Span<float>(_x, c);
        TensorPrimitives.Add(new ReadOnlySpan<float>(_tokens + token * c, c), new ReadOnlySpan<float>(_positions + (long)Math.Min(position, _context - 1) * c, c), x);
        // (a position past the context is the onnx engine's dummy row of a full slot: any embedding will do)
        (_position, _capacity) = (position, capacity);
        for (int l = 0; l < _layers; l++)
        {
            var block = _blocks[l];
            Norm(_x, block.Norm1, block.Norm1Bias, _normed);
            Run(block.Attention, _normed, _qkv, accumulate: false, gelu: false);
            // The new position's keys and values into the cache, then attention over it, heads split across the workers.
            long attention = times is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            _keys = (float*)caches[2 * l];
            _values = (float*)caches[2 * l + 1];
            for (int h = 0; h < _heads; h++)
            {
                long at = ((long)h * capacity + position) * _headSize;
                Unsafe.CopyBlock(_keys + at, _qkv + c + h * _headSize, (uint)(_headSize * sizeof(float)));
                Unsafe.CopyBlock(_values + at, _qkv + 2 * c + h * _headSize, (uint)(_headSize * sizeof(float)));
            }
            _workers.Run(_heads, _attend);
            if (times is not null) times.Attention += System.Diagnostics.Stopwatch.GetTimestamp() - attention;
            Run(block.Projection, _attended, _x, accumulate: true, gelu: false);
            Norm(_x, block.Norm2, block.Norm2Bias, _normed);
            Run(block.Up, _normed, _hidden, accumulate: false, gelu: true);
            Run(block.Down, _hidden, _x, accumulate: true, gelu: false);
        }
        Norm(_x, _finalNorm, _finalNormBias, _normed);
        Run(_head, _normed, logits, accumulate: false, gelu: false);
        if (times is not null)
        {
            times.Total += System.Diagnostics.Stopwatch.GetTimestamp() - start;
            times.Steps++;
        }
    }

    void Run(Linear linear, float* input, float* output, bool accumulate, bool gelu)
    {
        var times = Times;
        long start = times is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        if (linear.Packed is { } packed) _quantized.Quantize(input, linear.K, packed.Bits, _wide);
        (_linear, _accumulate, _gelu) = (linear, accumulate, gelu);
        _input = input;
        _output = output;
        _workers.Run(Math.Min(ChunksPerProduct, linear.N), _matVec);
        if (times is not null)
        {
            long spent = System.Diagnostics.Stopwatch.GetTimestamp() - start;
            times.Weights += spent;
            if (linear == _head) times.Head += spent;
        }
    }

    /// <summary>Chunks a product's rows are claimed in: enough that a descheduled worker delays it by little (each thread
    /// takes its own run of them front to back, so their number costs no sequential reading; GPT-2's 768 rows: 48 a chunk).</summary>
    const int ChunksPerProduct = 16;

    void MatVecPart(int part)
    {
        var linear = _linear!;
        int parts = Math.Min(ChunksPerProduct, linear.N), n0 = (int)((long)linear.N * part / parts), n1 = (int)((long)linear.N * (part + 1) / parts);
        if (n0 >= n1) return;
        if (linear.Half != null) MatVec.BFloat16(linear.Half, _input, _output, linear.Bias, n0, n1, linear.K, _accumulate);
        else if (linear.Packed is null) MatVec.Float32(linear.Weights, _input, _output, linear.Bias, n0, n1, linear.K, _accumulate);
        else if (linear.Packed.Bits == 8)
            if (_wide) MatVec.Int8(linear.Packed.Data, _quantized, _output, linear.Bias, n0, n1, linear.K, _accumulate);
            else MatVec.Int8x256(linear.Packed.Data, _quantized, _output, linear.Bias, n0, n1, linear.K, _accumulate);
        else if (_wide) MatVec.Int4(linear.Packed.Data, _quantized, _output, linear.Bias, n0, n1, linear.K, _accumulate);
        else MatVec.Int4x256(linear.Packed.Data, _quantized, _output, linear.Bias, n0, n1, linear.K, _accumulate);
        if (_gelu) Gelu(new Span<float>(_output + n0, n1 - n0));
    }

    /// <summary>GPT-2's tanh GELU, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), in place.</summary>
    static void Gelu(Span<float> x)
    {
        Span<float> t = stackalloc float[256];
        for (int i = 0; i < x.Length; i += t.Length)
        {
            var chunk = x.Slice(i, Math.Min(t.Length, x.Length - i));
            var inner = t[..chunk.Length];
            TensorPrimitives.Multiply(chunk, chunk, inner);
            TensorPrimitives.Multiply(inner, 0.044715f, inner);
            TensorPrimitives.Add(inner, 1f, inner);
            TensorPrimitives.Multiply(inner, chunk, inner);
            TensorPrimitives.Multiply(inner, 0.7978845608028654f, inner);
            TensorPrimitives.Tanh(inner, inner);
            TensorPrimitives.Add(inner, 1f, inner);
            TensorPrimitives.Multiply(inner, chunk, inner);
            TensorPrimitives.Multiply(inner, 0.5f, chunk);
        }
    }

    void Norm(float* input, float* weight, float* bias, float* output)
    {
        int c = _width;
        var x = new ReadOnlySpan<float>(input, c);
        var y = new Span<float>(output, c);
        float mean = TensorPrimitives.Sum(x) / c;
        TensorPrimitives.Subtract(x, mean, y);
        float variance = TensorPrimitives.SumOfSquares(y) / c;
        TensorPrimitives.Multiply(y, 1f / MathF.Sqrt(variance + _epsilon), y);
        TensorPrimitives.MultiplyAdd(y, new ReadOnlySpan<float>(weight, c), new ReadOnlySpan<float>(bias, c), y);
    }

    /// <summary>Causal attention of the new position over positions 0..position, for one head.</summary>
    void AttendPart(int h)
    {
        int d = _headSize, length = _position + 1;
        float scale = 1f / MathF.Sqrt(d);
        float* scores = _scores[h];
        {
            float* q = _qkv + h * d;
            float* keys = _keys + (long)h * _capacity * d, values = _values + (long)h * _capacity * d;
            for (int t = 0; t < length; t++)
            {
                float* k = keys + (long)t * d;
                if (_wide)
                {
                    var sum = Vector512<float>.Zero;
                    for (int i = 0; i < d; i += 16) sum += Vector512.Load(q + i) * Vector512.Load(k + i);
                    scores[t] = MatVec.Sum(sum) * scale;
                }
                else
                {
                    var sum = Vector256<float>.Zero;
                    for (int i = 0; i < d; i += 8) sum += Vector256.Load(q + i) * Vector256.Load(k + i);
                    scores[t] = MatVec.Sum(sum) * scale;
                }
            }
            var s = new Span<float>(scores, length);
            TensorPrimitives.SoftMax(s, s);
            float* output = _attended + h * d;
            new Span<float>(output, d).Clear();
            for (int t = 0; t < length; t++)
            {
                float* v = values + (long)t * d;
                if (_wide)
                    for (int i = 0; i < d; i += 16) (Vector512.Load(output + i) + Vector512.Create(scores[t]) * Vector512.Load(v + i)).Store(output + i);
                else
                    for (int i = 0; i < d; i += 8) (Vector256.Load(output + i) + Vector256.Create(scores[t]) * Vector256.Load(v + i)).Store(output + i);
            }
        }
    }

    bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _workers.Dispose();
        foreach (var t in _held) t.Dispose();
        foreach (var b in _blocks)
            foreach (var l in new[] { b.Attention, b.Projection, b.Up, b.Down }) l.Packed?.Dispose();
        _head.Packed?.Dispose();
        _quantized.Dispose();
        NativeMemory.AlignedFree(_scratch);
        foreach (var s in _scores) NativeMemory.AlignedFree(s);
    }
}
