using TorchSharp;
using static TorchSharp.torch;
using GptSharp.Native;

namespace GptSharp.Models;

/// <summary>
/// GPT-2: token + learned position embeddings, a stack of pre-LayerNorm blocks, a final LayerNorm and an LM head
/// tied to the token embedding. Parameter names match Hugging Face's GPT-2 (wte, wpe, h.N.…, ln_f).
/// </summary>
public sealed class Gpt : nn.Module<Tensor, Tensor>
{
    readonly TorchSharp.Modules.Embedding wte, wpe;
    readonly nn.Module<Tensor, Tensor> drop, ln_f;
    readonly TorchSharp.Modules.ModuleList<Block> h;

    public GptConfig Config { get; }
    /// <summary>Set <see cref="MatmulPrecision.ComputeType"/> to bfloat16 for mixed-precision training or inference.</summary>
    public MatmulPrecision Precision { get; } = new();

    /// <summary>A freshly initialised model; the same seed gives the same weights, whatever else uses torch's global RNG.</summary>
    public Gpt(GptConfig config, long seed = 1337) : base(nameof(Gpt))
    {
        Config = config.Validate();
        wte = nn.Embedding(config.VocabSize, config.NEmbd);
        wpe = nn.Embedding(config.BlockSize, config.NEmbd);
        drop = nn.Dropout(config.Dropout);
        h = new TorchSharp.Modules.ModuleList<Block>(Enumerable.Range(0, config.NLayer).Select(_ => new Block(config, Precision)).ToArray());
        ln_f = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        RegisterComponents();
        InitWeights(seed);
        ParameterCount = parameters().Sum(p => p.numel());
    }

    /// <summary>A freshly initialised model on <paramref name="device"/>.</summary>
    public static Gpt Create(GptConfig config, long seed = 1337, Device? device = null)
    {
        var model = new Gpt(config, seed);
        if (device is not null && device.type != DeviceType.CPU) model.to(device);
        return model;
    }

    /// <summary>GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/√(2·n_layer), zero biases.</summary>
    void InitWeights(long seed)
    {
        using var _ = no_grad();
        using var generator = new Generator((ulong)seed);
        double residualStd = 0.02 / Math.Sqrt(2.0 * Config.NLayer);
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias")) nn.init.zeros_(p);
            else if (name.StartsWith("ln_") || name.Contains(".ln_")) nn.init.ones_(p);
            else p.normal_(0, name.EndsWith("c_proj.weight") ? residualStd : 0.02, generator); // nn.init.normal_ ignores its generator
        }
    }

    public long ParameterCount { get; }

    /// <summary>
    /// Sets up a model that will only infer: <see cref="MatmulPrecision.Use"/>, and in int8 <see cref="ReleaseFloatWeights"/>
    /// as well (the inference commands' choice: a third of the memory).
    /// </summary>
    public void UseForInference(InferencePrecision precision)
    {
        Precision.Use(precision);
        if (Precision.Int8Inference) ReleaseFloatWeights();
    }

    /// <summary>
    /// Turns on <see cref="MatmulPrecision.Int8Inference"/>, quantises every Linear layer and the token embedding (which
    /// is also the LM head) and frees their float copies: about a third of the fp32 memory for GPT-2 124M. What is left
    /// can only infer, in int8 — embeddings are looked up from the int8 rows too; training, saving or another precision
    /// is an error from then on (reload the directory for those), and the model must not move to another device.
    /// </summary>
    public void ReleaseFloatWeights()
    {
        if (Precision.FloatWeightsReleased) return;
        using var _ = no_grad();
        Precision.Int8Inference = true;
        foreach (var (_, module) in named_modules())
            if (module is TorchSharp.Modules.Linear linear)
            {
                using var w = linear.weight!;
                Precision.Int8(linear, w, linear.bias);
                linear.weight = Released(w);
            }
        using (var w = wte.weight!)
        {
            Precision.Int8(wte, w, null);
            wte.weight = Released(w);
        }
        Precision.MarkFloatWeightsReleased();
        Native.Allocator.ReturnFreeMemory(); // else the allocator keeps the freed pages and RSS does not move
    }

    // An empty stand-in: the module keeps a parameter of that name, without its storage.
    static TorchSharp.Modules.Parameter Released(Tensor w) => new(empty(0, w.dtype, w.device), requires_grad: false);

    public Device Device
    {
        // The embedding's weight getter wraps the native tensor in a new handle on every call: release it at once.
        get { using var w = wte.weight!; return w.device; }
    }

    /// <summary>Logits [B, T, vocab] for token ids [B, T].</summary>
    public override Tensor forward(Tensor idx) => Forward(idx);

    /// <summary>
    /// Logits for <paramref name="idx"/> ([B, T]). With a <paramref name="cache"/>, the ids continue the cached positions
    /// and their keys/values are appended to it. <paramref name="lastPositionOnly"/> computes logits for the last position
    /// alone ([B, 1, V]): all that decoding needs, and the LM head is a third of a short prompt's work.
    /// </summary>
    public Tensor Forward(Tensor idx, KvCache? cache = null, bool lastPositionOnly = false)
    {
        long t = idx.shape[1];
        int past = cache?.Length ?? 0;
        if (past + t > Config.BlockSize)
            throw new GptSharpException($"sequence of {past + t} tokens is longer than the model's context ({Config.BlockSize})");
        try
        {
            using var pos = arange(past, past + t, dtype: ScalarType.Int64, device: idx.device);
            using var tokens = Precision.FloatWeightsReleased ? Precision.Int8Embedding(wte, idx) : wte.forward(idx);
            var x = drop.forward(tokens + wpe.forward(pos));
            for (int i = 0; i < h.Count; i++) x = h[i].Forward(x, cache, i);
            if (lastPositionOnly) x = x[.., ^1..];
            x = ln_f.forward(x);
            // Tied LM head: logits = x · wteᵀ.
            using var head = wte.weight!;
            var logits = Precision.Linear(x, wte, head, null);
            cache?.Advance((int)t);
            return logits;
        }
        finally
        {
            Precision.EndPass();
        }
    }

    /// <summary>Mean next-token cross-entropy of logits [B, T, V] against targets [B, T]; targets of -100 are ignored.</summary>
    public static Tensor Loss(Tensor logits, Tensor targets) =>
        nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]).to(ScalarType.Float32), targets.reshape(-1), ignore_index: -100);
}
