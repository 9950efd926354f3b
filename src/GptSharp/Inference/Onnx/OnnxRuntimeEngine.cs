using GptSharp.Inference.Kernels;
using GptSharp.IO;
using GptSharp.Native;
using TorchSharp;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using Microsoft.ML.OnnxRuntime;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using static TorchSharp.torch;

namespace GptSharp.Inference.Onnx;

/// <summary>
/// Decoding in ONNX Runtime (issue 14's engine, option a): the model's own graph (<see cref="FusedGptOnnxGraph"/>, built
/// from its weights when the engine is made) run by one <see cref="InferenceSession"/>, so a token costs one native call
/// instead of ~300 TorchSharp dispatches. Int8 and int4 weights run as <c>MatMulNBits</c> with int8 activations
/// (accuracy_level 4, as llama.cpp's q8_0 / q4_0 dot products). The KV cache is <see cref="OnnxKvBuffers"/>, written in
/// place at each row's own length, so rows of different lengths decode in one pass: rows that advance together for
/// <see cref="Inference.TextGenerator"/> (<see cref="Start"/>), sequences that come and go for the server's continuous
/// batching (<see cref="StartSlots"/>).
/// </summary>
public sealed class OnnxRuntimeEngine : IDecodingEngine
{
    const string ScratchModel = "model.onnx", ScratchData = "model.onnx.data";
    /// <summary>Where in the temporary folder a graph is written while its session loads (with AtomicFile's suffix).</summary>
    public const string ScratchDirectory = "gptsharp-ort";
    readonly InferenceSession _session;
    readonly int _layers, _heads, _headSize, _vocab, _context;
    readonly string[] _inputNames, _outputNames;

    readonly RowDecoder? _rows;
    readonly Lock _rowsInUse = new();
    /// <summary>bf16, int8 and int4: the engine's weights in a bfloat16 model for single-sequence prompts (see
    /// <see cref="Prefill"/>); in bf16 its weights are the row kernels' too.</summary>
    readonly Gpt? _prompts;
    readonly int _threads;

    OnnxRuntimeEngine(InferenceSession session, GptConfig config, OnnxPrecision precision, RowDecoder? rows, Gpt? prompts, int threads)
    {
        (_session, _rows, _prompts, _threads) = (session, rows, prompts, threads);
        (_layers, _heads, _headSize, _vocab, _context) = (config.NLayer, config.NHead, config.HeadSize, config.VocabSize, config.BlockSize);
        var layers = Enumerable.Range(0, _layers);
        _inputNames = [GptOnnxGraph.InputIds, GptOnnxGraph.PositionIds, FusedGptOnnxGraph.SeqLensK, FusedGptOnnxGraph.TotalSequenceLength,
                       .. layers.SelectMany(i => new[] { FusedGptOnnxGraph.PastKey(i), FusedGptOnnxGraph.PastValue(i) })];
        _outputNames = [GptOnnxGraph.Logits, .. layers.SelectMany(i => new[] { FusedGptOnnxGraph.PresentKey(i), FusedGptOnnxGraph.PresentValue(i) })];
        Precision = precision;
    }

    public string Name => "onnxruntime";

    /// <summary>Whether single-sequence decoding steps run on <see cref="RowDecoder"/>'s kernels (machines with AVX-512 or AVX2) rather than in ONNX Runtime.</summary>
    public bool UsesRowKernels => _rows is not null;

    /// <summary>The row kernels' vector width (512 or 256), 0 without them.</summary>
    public int RowKernelBits => _rows?.VectorBits ?? 0;

    /// <summary>The row kernels' time split while set (see <see cref="RowDecoder.Times"/>); ignored without them.</summary>
    public RowDecoder.StepTimes? RowTimes
    {
        get => _rows?.Times;
        set { if (_rows is not null) _rows.Times = value; }
    }
    public OnnxPrecision Precision { get; }
    /// <summary>Caches started and not yet disposed (<see cref="Start"/>'s and <see cref="StartSlots"/>'s): tests check that leaving a stream frees them.</summary>
    public int LiveStates => Volatile.Read(ref _liveStates);
    int _liveStates;

    /// <summary>
    /// Sets <paramref name="model"/> (float, CPU) up to decode on an engine in <paramref name="precision"/>: quantised, its
    /// float weights first take the engine's block-quantised values (<see cref="BlockQuantization.RoundTrip(Gpt, int)"/>), in
    /// bf16 their bfloat16 values (<see cref="RoundToBFloat16"/>), so its own losses are the engine's. Returns the engine, now <see cref="Gpt.Engine"/>.
    /// </summary>
    public static OnnxRuntimeEngine Attach(Gpt model, OnnxPrecision precision, string? profilePrefix = null, bool rowKernels = true)
    {
        if (precision == OnnxPrecision.BFloat16) RoundToBFloat16(model);
        else if (precision != OnnxPrecision.Float32) BlockQuantization.RoundTrip(model, BitsOf(precision));
        var engine = Create(model, precision, profilePrefix: profilePrefix, rowKernels: rowKernels);
        model.Engine = engine;
        return engine;
    }

    /// <summary>
    /// An engine for <paramref name="model"/>'s current (float, CPU) weights in <paramref name="precision"/>, run on
    /// <paramref name="threads"/> threads (default: TorchSharp's count, so both engines use the same cores).
    /// <paramref name="profilePrefix"/> turns on ONNX Runtime's profiler (per-node times, written by <see cref="EndProfiling"/>).
    /// <paramref name="rowKernels"/>: single-sequence decoding steps on <see cref="RowDecoder"/> where it applies (see
    /// <see cref="UsesRowKernels"/>); off, every step runs in ONNX Runtime. <paramref name="rowKernelBits"/>: their vector
    /// width, 512 or 256 (default: the widest this CPU runs). <paramref name="bf16Prompts"/>: in bf16, int8 and int4, a
    /// single sequence's prompt runs on a bfloat16 copy of the engine's weights in TorchSharp (see <see cref="Prefill"/>);
    /// off, in ONNX Runtime. fp32 prompts always run in ONNX Runtime, in float32.
    /// </summary>
    public static OnnxRuntimeEngine Create(Gpt model, OnnxPrecision precision = OnnxPrecision.Float32, int? threads = null, string? profilePrefix = null,
                                           bool rowKernels = true, int? rowKernelBits = null, bool bf16Prompts = true)
    {
        if (model.Device.type != TorchSharp.DeviceType.CPU)
            throw new GptSharpException("the onnx engine runs on the CPU; on a GPU use the torch engine (--engine torch)");
        if (model.Config.HeadSize % 8 != 0)
            throw new GptSharpException($"the onnx engine needs a head size (n_embd / n_head) that is a multiple of 8, this model's is {model.Config.HeadSize}; use --engine torch");
        // The graph's weights go to a scratch directory ONNX Runtime loads from (external data: no 2 GB protobuf limit),
        // deleted as soon as the session holds them. It is named as AtomicFile names its temporaries, so the scratch of
        // a process killed while loading (hundreds of MB for GPT-2) is removed by the next load.
        string scratch = Path.Combine(Path.GetTempPath(), ScratchDirectory);
        string dir = $"{scratch}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            string path = Path.Combine(dir, ScratchModel);
            try
            {
                AtomicFile.DeleteStaleTemporaries(scratch);
                Directory.CreateDirectory(dir);
                using (no_grad())
                using (var data = new FileStream(Path.Combine(dir, ScratchData), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
                {
                    var onnx = FusedGptOnnxGraph.Build(model, new OnnxGraphBuilder("gptsharp_gpt2", data, ScratchData), precision);
                    using var file = File.Create(path);
                    using var w = new Google.Protobuf.CodedOutputStream(file, leaveOpen: true);
                    onnx.WriteTo(w);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw ScratchFailed(e); }
            using var options = new SessionOptions
            {
                IntraOpNumThreads = threads ?? get_num_threads(), InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            if (profilePrefix is not null)
            {
                options.ProfileOutputPathPrefix = profilePrefix; // read when profiling is turned on
                options.EnableProfiling = true;
            }
            var session = new InferenceSession(path, options);
            // The profiler times ONNX Runtime's nodes: a profiled engine runs every step there.
            // A model whose longest prompt could not gain from TorchSharp gets no copy.
            bool torchPrompts = precision != OnnxPrecision.Float32 && bf16Prompts && profilePrefix is null &&
                                GainsInTorch(precision, model.ParameterCount, model.Config.BlockSize);
            var prompts = torchPrompts ? BFloat16Copy(model, precision) : null;
            try
            {
                var rows = rowKernels && profilePrefix is null ? RowDecoder.TryCreate(model, BitsOf(precision), options.IntraOpNumThreads, rowKernelBits,
                                                                                            precision == OnnxPrecision.BFloat16 ? prompts : null) : null;
                return new OnnxRuntimeEngine(session, model.Config, precision, rows, prompts, options.IntraOpNumThreads);
            }
            catch { prompts?.Dispose(); session.Dispose(); throw; }
        }
        catch (OnnxRuntimeException e)
        {
            throw new GptSharpException($"ONNX Runtime could not load the model's graph: {e.Message}");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The error when the graph cannot be written where ONNX Runtime loads it from (a full or read-only temporary folder).</summary>
    static GptSharpException ScratchFailed(Exception e) =>
        new($"the onnx engine writes the model's graph (about the size of its weights) to a scratch folder under " +
            $"{Path.GetTempPath()} while it loads, and could not: {e.Message.TrimEnd('.')}. Free space there, or set TMPDIR " +
            "to a writable folder with room, or decode with --engine torch", e);

    public IDecodingState Start(int rows) =>
        rows > 0 ? new State(this, rows) : throw new ArgumentOutOfRangeException(nameof(rows), "at least one row");

    public IDecodingSlots StartSlots(int slots) =>
        slots > 0 ? new Slots(this, slots) : throw new ArgumentOutOfRangeException(nameof(slots), "at least one slot");

    /// <summary>Stops the profiler (see <see cref="Create"/>) and returns the path of its JSON trace.</summary>
    public string EndProfiling() => _session.EndProfiling();

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        IsDisposed = true;
        _session.Dispose();
        lock (_rowsInUse) _rows?.Dispose();
        _prompts?.Dispose();
    }

    /// <summary>
    /// Where a prompt gains from TorchSharp (measured on GPT-2 124M, 2 threads): oneDNN's bf16 GEMMs cost ~25 ms a call
    /// however short the prompt (they reorder the weights), so ONNX Runtime keeps prompts shorter than 32 tokens in bf16
    /// (its fp32 GEMMs: 29 against 33 ms at 16 tokens, 49 against 41 at 32) and than 128 in int8 and int4
    /// (<c>MatMulNBits</c>: 53 against 55 ms at 64, 207 against 168 at 256), and prompts of small models, whose fixed
    /// costs dominate (quickstart's 1 M parameters: 2.3 against 2.5 ms at 127 tokens): at least this many tokens ×
    /// parameters (GPT-2 124M × 32).
    /// </summary>
    const long MinTorchPromptWork = 4_000_000_000;

    /// <summary>Whether a prompt of <paramref name="tokens"/> on a model of <paramref name="parameters"/> runs faster in
    /// TorchSharp than in ONNX Runtime at <paramref name="precision"/> (see <see cref="MinTorchPromptWork"/>).</summary>
    static bool GainsInTorch(OnnxPrecision precision, long parameters, int tokens) =>
        tokens >= (precision == OnnxPrecision.BFloat16 ? 32 : 128) && tokens * parameters >= MinTorchPromptWork;

    /// <summary>Whether long prompts of single sequences run in TorchSharp's bf16 (see <see cref="Prefill"/>): bf16, int8
    /// and int4 on a model large enough to gain.</summary>
    public bool PrefillsInTorch => _prompts is not null;

    /// <summary>The engine's weights in <paramref name="precision"/> (int8 and int4: the graph's block-quantised values,
    /// whether or not <paramref name="model"/> holds them yet) as a bfloat16 module, for inference.</summary>
    static Gpt BFloat16Copy(Gpt model, OnnxPrecision precision)
    {
        var copy = new Gpt(model.Config);
        try
        {
            using (no_grad())
            {
                var from = model.state_dict();
                foreach (var (name, t) in copy.state_dict()) t.copy_(from[name]);
            }
            if (precision is OnnxPrecision.Int8 or OnnxPrecision.Int4) BlockQuantization.RoundTrip(copy, BitsOf(precision));
            copy.to(ScalarType.BFloat16);
            copy.eval();
            return copy;
        }
        catch { copy.Dispose(); throw; }
    }

    /// <summary>
    /// bf16, int8 and int4: one sequence's <paramref name="fresh"/> new tokens after its <paramref name="past"/> cached
    /// positions, on <see cref="_prompts"/> in TorchSharp, whose bf16 GEMMs (oneDNN) run a prompt about twice as fast as
    /// ONNX Runtime's fp32 ones (it has no bf16 MatMul on the CPU) and faster than its int8 <c>MatMulNBits</c>.
    /// Activations are bf16 here, as on the torch engine's bf16 and int8; the past comes from the slot's buffers and the
    /// new keys and values go back to them as float32, where the row kernels and ONNX Runtime read them.
    /// </summary>
    unsafe void Prefill(OnnxKvBuffers kv, int slot, ReadOnlySpan<long> ids, int fresh, int past, Tensor logits, int logitsRow)
    {
        Span<nint> starts = stackalloc nint[2 * _layers];
        kv.SlotStarts(slot, starts);
        long capacity = kv.Capacity, row = (long)_headSize * sizeof(float);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var team = OpenMpThreads.Team(_threads); // a generator keeps libtorch single-threaded beside the engine
        using var cache = new KvCache(_layers, past + fresh);
        if (past > 0)
        {
            for (int l = 0; l < 2 * _layers; l += 2)
                cache.Preload(l / 2, Read(starts[l], past), Read(starts[l + 1], past));
            cache.Advance(past);
        }
        using var input = tensor(ids.ToArray(), [1, fresh]);
        var last = _prompts!.Forward(input, cache, lastPositionOnly: true).to(ScalarType.Float32).contiguous();
        last.bytes.CopyTo(logits.bytes.Slice((int)((long)logitsRow * _vocab * sizeof(float)), _vocab * sizeof(float)));
        for (int l = 0; l < 2 * _layers; l += 2)
        {
            var (keys, values) = cache.Stored(l / 2)!.Value;
            Write(keys, starts[l]);
            Write(values, starts[l + 1]);
        }

        // [1, heads, positions, head_size] bf16 of the slot's first positions (the buffer's [heads, capacity, head_size]).
        Tensor Read(nint buffer, int positions)
        {
            var t = empty([1, _heads, positions, _headSize], ScalarType.Float32);
            fixed (byte* to = t.bytes)
                for (int h = 0; h < _heads; h++)
                    Buffer.MemoryCopy((byte*)buffer + h * capacity * row, to + (long)h * positions * row, positions * row, positions * row);
            return t.to(ScalarType.BFloat16);
        }

        // The new positions [past, past + fresh) of a cache layer's storage into the buffer.
        void Write(Tensor stored, nint buffer)
        {
            var t = stored.narrow(2, past, fresh).to(ScalarType.Float32).contiguous();
            fixed (byte* from = t.bytes)
                for (int h = 0; h < _heads; h++)
                    Buffer.MemoryCopy(from + (long)h * fresh * row, (byte*)buffer + (h * capacity + past) * row, fresh * row, fresh * row);
        }
    }

    static int BitsOf(OnnxPrecision precision) => precision switch
    {
        OnnxPrecision.BFloat16 => 16,
        OnnxPrecision.Int8 => 8,
        OnnxPrecision.Int4 => 4,
        _ => 0,
    };

    /// <summary>
    /// Rounds the weight matrices (the blocks' linear weights and both embeddings, as llama.cpp's f16 files hold them) to
    /// their nearest bfloat16, in place; biases and norms stay float32. Activations stay float32: bf16 on this engine
    /// halves the bytes a token streams, not the arithmetic's precision.
    /// </summary>
    public static void RoundToBFloat16(Gpt model)
    {
        Int8WeightOnly.RequireFloat(model, "round its weights to bf16");
        using var _ = no_grad();
        foreach (var (_, p) in model.named_parameters())
            if (p.dim() == 2 && p.dtype == ScalarType.Float32)
                using (var rounded = p.to(ScalarType.BFloat16))
                using (var back = rounded.to(ScalarType.Float32))
                    p.copy_(back);
    }

    /// <summary>KV buffers for <paramref name="slots"/> sequences, room for <paramref name="positions"/> to start with; one
    /// position beyond the context, for a full slot's dummy token (see <see cref="Slots.Forward"/>).</summary>
    OnnxKvBuffers NewBuffers(int slots, int positions)
    {
        int capacity = 64;
        while (capacity < positions) capacity *= 2;
        return new OnnxKvBuffers(_layers, _heads, _headSize, slots, Math.Min(capacity, _context + 1), _context + 1);
    }

    /// <summary>
    /// One pass over slots [<paramref name="first"/>, first + count) of <paramref name="kv"/>, count = pasts.Length: row r
    /// feeds <paramref name="fresh"/> tokens (<paramref name="ids"/>, row-major) after its <paramref name="pasts"/>[r] cached
    /// positions; the last position's logits of row r go to row <paramref name="logitsRow"/> + r of
    /// <paramref name="logits"/> (float32, CPU, contiguous), written there by ONNX Runtime: no managed array per step for
    /// the GC to collect. GroupQueryAttention takes several tokens per row only for one row with a past, or for rows that
    /// all start empty; callers split steps accordingly.
    /// </summary>
    unsafe void Run(OnnxKvBuffers kv, int first, ReadOnlySpan<long> ids, int fresh, ReadOnlySpan<int> pasts, Tensor logits, int logitsRow)
    {
        int count = pasts.Length;
        // One sequence's long prompt: TorchSharp's bf16 GEMMs (see MinTorchPromptWork).
        if (_prompts is not null && count == 1 && GainsInTorch(Precision, _prompts.ParameterCount, fresh))
        {
            Prefill(kv, first, ids, fresh, pasts[0], logits, logitsRow);
            return;
        }
        // One sequence, one token: a pass over every weight for one row, which the row kernels stream faster than
        // ONNX Runtime's single-row products. Another thread decoding on this engine at the same moment uses ONNX Runtime.
        if (_rows is not null && count == 1 && fresh == 1 && _rowsInUse.TryEnter())
        {
            try
            {
                Span<nint> starts = stackalloc nint[2 * _layers];
                kv.SlotStarts(first, starts);
                fixed (byte* start = logits.bytes)
                    _rows.Step(ids[0], pasts[0], starts, kv.Capacity, (float*)(start + (long)logitsRow * _vocab * sizeof(float)));
                return;
            }
            finally { _rowsInUse.Exit(); }
        }
        var positions = new long[count * fresh];
        var seqlens = new int[count];
        int total = 0;
        for (int r = 0; r < count; r++)
        {
            // A dummy row of a full slot (see Slots.Forward) sits one past the context: any position embedding will do.
            for (int t = 0; t < fresh; t++) positions[r * fresh + t] = Math.Min(pasts[r] + t, _context - 1);
            seqlens[r] = pasts[r] + fresh - 1;
            total = Math.Max(total, pasts[r] + fresh);
        }
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids.ToArray(), [count, fresh]);
        using var positionsValue = OrtValue.CreateTensorValueFromMemory(positions, [count, fresh]);
        using var seqlensValue = OrtValue.CreateTensorValueFromMemory(seqlens, [count]);
        using var totalValue = OrtValue.CreateTensorValueFromMemory(new[] { total }, []);
        fixed (byte* start = logits.bytes)
        {
            using var logitsValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, [count, 1, _vocab],
                                                                       (IntPtr)(start + (long)logitsRow * _vocab * sizeof(float)), (long)count * _vocab * sizeof(float));
            var views = kv.Views(first, count);
            var inputs = new OrtValue[_inputNames.Length];
            (inputs[0], inputs[1], inputs[2], inputs[3]) = (idsValue, positionsValue, seqlensValue, totalValue);
            views.CopyTo(inputs, 4);
            var outputs = new OrtValue[_outputNames.Length];
            outputs[0] = logitsValue;
            views.CopyTo(outputs, 1); // past and present share each buffer: GroupQueryAttention writes the new positions in place
            using var run = new RunOptions();
            _session.Run(run, _inputNames, inputs, _outputNames, outputs);
        }
    }

    /// <summary>Rows that advance together, for <see cref="TextGenerator"/>: slot r is row r.</summary>
    sealed class State : IDecodingState
    {
        readonly OnnxRuntimeEngine _engine;
        readonly int _rows;
        OnnxKvBuffers? _kv;

        public State(OnnxRuntimeEngine engine, int rows)
        {
            (_engine, _rows) = (engine, rows);
            Interlocked.Increment(ref engine._liveStates);
        }

        public int Length { get; private set; }

        public Tensor Step(long[] ids, int fresh)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (fresh < 1 || ids.Length != _rows * fresh) throw new ArgumentException($"expected {_rows} × {fresh} ids, got {ids.Length}");
            int total = Length + fresh;
            if (total > _engine._context) throw new GptSharpException($"sequence of {total} tokens is longer than the model's context ({_engine._context})");
            var pasts = Enumerable.Repeat(Length, _rows).ToArray();
            _kv ??= _engine.NewBuffers(_rows, total);
            _kv.Reserve(total, pasts);
            var logits = empty([_rows, _engine._vocab], ScalarType.Float32);
            if (Length == 0 || fresh == 1 || _rows == 1)
                _engine.Run(_kv, 0, ids, fresh, pasts, logits, 0);
            else // several new tokens on top of a past: a row at a time
                for (int r = 0; r < _rows; r++)
                    _engine.Run(_kv, r, ids.AsSpan(r * fresh, fresh), fresh, [Length], logits, r);
            Length = total;
            return logits;
        }

        bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Interlocked.Decrement(ref _engine._liveStates);
            _kv?.Dispose();
        }
    }

    /// <summary>Sequences that come and go (the server's continuous batching): the slots in use are 0..Count-1.</summary>
    sealed class Slots : IDecodingSlots
    {
        readonly OnnxRuntimeEngine _engine;
        readonly OnnxKvBuffers _kv;
        readonly SlotLengths _lengths;

        public Slots(OnnxRuntimeEngine engine, int slots)
        {
            _engine = engine;
            _lengths = new SlotLengths(slots);
            _kv = engine.NewBuffers(slots, 256);
            Interlocked.Increment(ref engine._liveStates);
        }

        public int Count => _lengths.Count;

        public int Length(int slot) => _lengths[slot];

        public int Add() => _lengths.Add();

        public int Remove(int slot)
        {
            int last = _lengths.Remove(slot);
            if (last >= 0) _kv.CopySlot(last, slot, _lengths[slot]);
            return last;
        }

        public IKvSnapshot CopyOut(int slot) => new Snapshot(_kv.CopyOut(slot, Length(slot)), _lengths[slot]);

        public void CopyIn(int slot, IKvSnapshot snapshot, int length)
        {
            _lengths.Check(slot);
            if (snapshot is not Snapshot s) throw new ArgumentException("a snapshot of other slots", nameof(snapshot));
            length = Math.Min(length, s.Length);
            _kv.Reserve(length, _lengths.InUse);
            _kv.CopyIn(slot, s.Data, s.Length, length);
            _lengths[slot] = length;
        }

        public Tensor Forward(IReadOnlyList<IReadOnlyList<int>> tokens, IReadOnlyList<int> slots)
        {
            if (tokens.Count != slots.Count || tokens.Count == 0)
                throw new ArgumentException($"expected one token list per slot (got {tokens.Count} and {slots.Count})");
            if (slots.Distinct().Count() != slots.Count) throw new ArgumentException("a slot appears twice in one pass");
            int longest = 0;
            for (int i = 0; i < slots.Count; i++)
            {
                if (tokens[i].Count == 0) throw new ArgumentException($"sequence {i} has no new tokens");
                int needed = Length(slots[i]) + tokens[i].Count;
                if (needed > _engine._context)
                    throw new GptSharpException($"sequence of {needed} tokens is longer than the model's context ({_engine._context})");
                longest = Math.Max(longest, needed);
            }
            // The one-token rows run as one pass over every slot in use: a slot fed nothing here gets a dummy token one
            // position past its end, which its own next tokens overwrite before anything reads it. Rows with several
            // tokens (prompt chunks) run after, one at a time.
            var singles = Enumerable.Range(0, slots.Count).Where(i => tokens[i].Count == 1).ToList();
            int held = 0;
            foreach (int length in _lengths.InUse) held = Math.Max(held, length);
            _kv.Reserve(Math.Max(longest, singles.Count > 0 ? held + 1 : 0), _lengths.InUse);
            var logits = empty([slots.Count, _engine._vocab], ScalarType.Float32);
            if (singles.Count > 0)
            {
                var ids = new long[Count];
                var pasts = _lengths.InUse.ToArray();
                foreach (int i in singles) ids[slots[i]] = tokens[i][0];
                if (singles.Count == Count && Enumerable.Range(0, Count).All(i => slots[i] == i))
                    _engine.Run(_kv, 0, ids, 1, pasts, logits, 0); // every slot decoding, in slot order: straight into place
                else
                {
                    using var all = empty([Count, _engine._vocab], ScalarType.Float32);
                    _engine.Run(_kv, 0, ids, 1, pasts, all, 0);
                    using var from = tensor(singles.Select(i => (long)slots[i]).ToArray());
                    using var to = tensor(singles.Select(i => (long)i).ToArray());
                    using var picked = all.index_select(0, from);
                    logits.index_copy_(0, to, picked);
                }
            }
            for (int i = 0; i < slots.Count; i++)
            {
                if (tokens[i].Count == 1) continue;
                var ids = tokens[i].Select(t => (long)t).ToArray();
                _engine.Run(_kv, slots[i], ids, ids.Length, [_lengths[slots[i]]], logits, i);
            }
            for (int i = 0; i < slots.Count; i++) _lengths[slots[i]] += tokens[i].Count;
            return logits;
        }

        bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Interlocked.Decrement(ref _engine._liveStates);
            _kv.Dispose();
        }

        sealed class Snapshot(float[] data, int length) : IKvSnapshot
        {
            public float[] Data { get; } = data;
            public int Length { get; } = length;
            public void Dispose() { }
        }
    }
}
