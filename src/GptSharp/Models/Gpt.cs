using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// GPT-2: token + learned position embeddings, a stack of pre-LayerNorm blocks, a final LayerNorm and an LM head
/// tied to the token embedding. Parameter names match Hugging Face's GPT-2 (wte, wpe, h.N.…, ln_f).
/// </summary>
public sealed class Gpt : nn.Module<Tensor, Tensor>, IReplaceableChildren
{
    // The token embedding is an nn.Embedding, or an ITiedTokenEmbedding that quantisation put in its place.
    nn.Module<Tensor, Tensor> wte;
    readonly TorchSharp.Modules.Embedding wpe;
    readonly nn.Module<Tensor, Tensor> drop, ln_f;
    readonly TorchSharp.Modules.ModuleList<Block> h;

    public GptConfig Config { get; }
    /// <summary>
    /// Set <see cref="MatmulPrecision.ComputeType"/> to bfloat16 for mixed-precision training or inference. For int8
    /// inference the layers themselves are swapped (<c>Models.Quantized.Int8WeightOnly.Quantize</c>).
    /// </summary>
    public MatmulPrecision Precision { get; } = new();
    readonly KeptCasts _headCasts;

    /// <summary>A freshly initialised model; the same seed gives the same weights, whatever else uses torch's global RNG.</summary>
    public Gpt(GptConfig config, long seed = 1337) : base(nameof(Gpt))
    {
        Config = config.Validate();
        _headCasts = Precision.ForLayer();
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
    /// The engine generators decode with instead of <see cref="Forward"/> (null: Forward with a <see cref="KvCache"/>).
    /// The model owns it: disposing the model disposes it.
    /// </summary>
    public IDecodingEngine? Engine
    {
        get => _engine;
        set { if (!ReferenceEquals(_engine, value)) _engine?.Dispose(); _engine = value; }
    }
    IDecodingEngine? _engine;

    public Device Device
    {
        // The embedding's weight getter wraps the native tensor in a new handle on every call: release it at once.
        // The position embedding, because it stays a float nn.Embedding whatever the precision.
        get { using var w = wpe.weight!; return w.device; }
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
        using var hidden = Hidden(idx, cache, lastPositionOnly);
        return Head(hidden);
    }

    /// <summary>
    /// The last hidden state ([B, T, C], after ln_f: what the LM head reads) and the logits of <paramref name="idx"/>, in
    /// one pass: distillation aligns the student's hidden states with its teacher's.
    /// </summary>
    public (Tensor Hidden, Tensor Logits) ForwardWithHidden(Tensor idx)
    {
        var hidden = Hidden(idx, null, false);
        return (hidden, Head(hidden));
    }

    Tensor Hidden(Tensor idx, KvCache? cache, bool lastPositionOnly)
    {
        long t = idx.shape[1];
        int past = cache?.Length ?? 0;
        if (past + t > Config.BlockSize)
            throw new GptSharpException($"sequence of {past + t} tokens is longer than the model's context ({Config.BlockSize})");
        using var pos = arange(past, past + t, dtype: ScalarType.Int64, device: idx.device);
        using var tokens = wte.forward(idx);
        var x = drop.forward(tokens + wpe.forward(pos));
        for (int i = 0; i < h.Count; i++) x = h[i].Forward(x, cache, i);
        if (lastPositionOnly) x = x[.., ^1..];
        x = ln_f.forward(x);
        cache?.Advance((int)t);
        return x;
    }

    /// <summary>
    /// Logits of the last new position of each of several sequences ([S, V]), in one forward pass: sequence i feeds
    /// <paramref name="tokens"/>[i] (a prompt chunk, or the one token it just chose) after what slot
    /// <paramref name="slots"/>[i] of <paramref name="cache"/> holds, and the slot takes the new keys and values. The
    /// tokens are packed into one row, so every linear layer runs once over all of them; the one-token rows attend
    /// together (continuous batching's step: Yu et al. 2022, "Orca", selective batching).
    /// </summary>
    public Tensor ForwardPacked(IReadOnlyList<IReadOnlyList<int>> tokens, IReadOnlyList<int> slots, KvSlots cache)
    {
        if (tokens.Count != slots.Count || tokens.Count == 0)
            throw new ArgumentException($"expected one token list per slot (got {tokens.Count} and {slots.Count})");
        var rows = new PackedStep.Row[tokens.Count];
        var ids = new List<long>();
        var positions = new List<long>();
        int longest = 0;
        for (int i = 0; i < tokens.Count; i++)
        {
            int t = tokens[i].Count, past = cache.Length(slots[i]);
            if (t == 0) throw new ArgumentException($"sequence {i} has no new tokens");
            if (past + t > Config.BlockSize)
                throw new GptSharpException($"sequence of {past + t} tokens is longer than the model's context ({Config.BlockSize})");
            rows[i] = new PackedStep.Row(slots[i], ids.Count, t, past);
            foreach (int id in tokens[i]) ids.Add(id);
            for (int p = past; p < past + t; p++) positions.Add(p);
            longest = Math.Max(longest, past + t);
        }
        if (slots.Distinct().Count() != slots.Count) throw new ArgumentException("a slot appears twice in one pass");
        cache.Reserve(longest);
        var device = Device;
        using var step = new PackedStep(rows, cache.Count, device);
        using var idx = tensor(ids.ToArray(), [1, ids.Count], ScalarType.Int64, device);
        using var pos = tensor(positions.ToArray(), ScalarType.Int64, device);
        using var tok = wte.forward(idx);
        var x = drop.forward(tok + wpe.forward(pos));
        for (int i = 0; i < h.Count; i++) x = h[i].ForwardPacked(x, cache, step, i);
        using var last = tensor(rows.Select(r => (long)(r.Start + r.Length - 1)).ToArray(), ScalarType.Int64, device);
        x = x[0].index_select(0, last); // [S, C]: only the positions whose next token is wanted
        var logits = Head(ln_f.forward(x));
        foreach (var r in rows) cache.Advance(r.Slot, r.Length);
        return logits;
    }

    /// <summary>Tied LM head: logits = x · wteᵀ.</summary>
    Tensor Head(Tensor x)
    {
        if (wte is ITiedTokenEmbedding tied) return tied.Head(x);
        using var weight = ((TorchSharp.Modules.Embedding)wte).weight!;
        return Precision.Linear(x, weight, null, _headCasts);
    }

    nn.Module<Tensor, Tensor> IReplaceableChildren.ReplaceChild(string name, nn.Module<Tensor, Tensor> module)
    {
        if (name != nameof(wte)) throw ChildReplacement.Unknown(this, name);
        if (module is not ITiedTokenEmbedding and not TorchSharp.Modules.Embedding)
            throw new ArgumentException($"the token embedding must be an nn.Embedding or an {nameof(ITiedTokenEmbedding)}");
        var old = wte;
        wte = module;
        ChildReplacement.Register(this, name, module);
        return old;
    }

    /// <summary>Mean next-token cross-entropy of logits [B, T, V] against targets [B, T]; targets of -100 are ignored.</summary>
    public static Tensor Loss(Tensor logits, Tensor targets) =>
        nn.functional.cross_entropy(logits.reshape(-1, logits.shape[^1]).to(ScalarType.Float32), targets.reshape(-1), ignore_index: -100);

    protected override void Dispose(bool disposing)
    {
        if (disposing) Engine = null;
        base.Dispose(disposing);
    }
}
