using GptSharp.Models;
using GptSharp.Models.Quantized;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace GptSharp.Inference.Onnx;

/// <summary>
/// Decoding in ONNX Runtime (issue 14's engine, option a): the model's own graph (<see cref="GptOnnxGraph"/>, built from
/// its weights when the engine is made, logits for the last position only) run by one <see cref="InferenceSession"/>,
/// so a token costs one native call instead of ~300 TorchSharp dispatches. Int8 and int4 weights run as
/// <c>MatMulNBits</c> with int8 activations (accuracy_level 4, as llama.cpp's q8_0 / q4_0 dot products). Rows of a batch
/// advance together (equal lengths, as <see cref="Inference.TextGenerator"/> groups them); each step's presents are the
/// next step's pasts, handed back to ONNX Runtime without a copy.
/// </summary>
public sealed class OnnxRuntimeEngine : IDecodingEngine
{
    const string ScratchModel = "model.onnx", ScratchData = "model.onnx.data";
    readonly InferenceSession _session;
    readonly int _layers, _heads, _headSize, _vocab;
    readonly string[] _inputNames, _outputNames;
    readonly bool _fused;

    OnnxRuntimeEngine(InferenceSession session, GptConfig config, OnnxPrecision precision, bool fused)
    {
        _session = session;
        (_layers, _heads, _headSize, _vocab, _fused) = (config.NLayer, config.NHead, config.HeadSize, config.VocabSize, fused);
        var layers = Enumerable.Range(0, _layers);
        // Each present feeds the past of the same place in the next step.
        _inputNames = fused
            ? [GptOnnxGraph.InputIds, GptOnnxGraph.PositionIds, .. layers.SelectMany(i => new[] { FusedGptOnnxGraph.PastKey(i), FusedGptOnnxGraph.PastValue(i) })]
            : [GptOnnxGraph.InputIds, GptOnnxGraph.PositionIds, GptOnnxGraph.AttentionMask, .. layers.Select(GptOnnxGraph.Past)];
        _outputNames = fused
            ? [GptOnnxGraph.Logits, .. layers.SelectMany(i => new[] { FusedGptOnnxGraph.PresentKey(i), FusedGptOnnxGraph.PresentValue(i) })]
            : [GptOnnxGraph.Logits, .. layers.Select(GptOnnxGraph.Present)];
        Precision = precision;
    }

    public string Name => "onnxruntime";
    public OnnxPrecision Precision { get; }
    /// <summary>Sequences started and not yet disposed: each holds its caches (tests check that leaving a stream frees them).</summary>
    public int LiveStates => Volatile.Read(ref _liveStates);
    int _liveStates;

    /// <summary>
    /// Sets <paramref name="model"/> (float, CPU) up to decode on an engine in <paramref name="precision"/>: quantised, its
    /// float weights first take the engine's block-quantised values (<see cref="BlockQuantization.RoundTrip(Gpt, int)"/>), so its
    /// own losses are the engine's. Returns the engine, now <see cref="Gpt.Engine"/>.
    /// </summary>
    public static OnnxRuntimeEngine Attach(Gpt model, OnnxPrecision precision, string? profilePrefix = null)
    {
        if (precision != OnnxPrecision.Float32) BlockQuantization.RoundTrip(model, precision == OnnxPrecision.Int8 ? 8 : 4);
        var engine = Create(model, precision, profilePrefix: profilePrefix);
        model.Engine = engine;
        return engine;
    }

    /// <summary>
    /// An engine for <paramref name="model"/>'s current (float, CPU) weights in <paramref name="precision"/>, run on
    /// <paramref name="threads"/> threads (default: TorchSharp's count, so both engines use the same cores).
    /// <paramref name="profilePrefix"/> turns on ONNX Runtime's profiler (per-node times, written by <see cref="EndProfiling"/>).
    /// <paramref name="fused"/> (the default) runs <see cref="FusedGptOnnxGraph"/>, ONNX Runtime's fused operators; false
    /// runs the export's graph of standard operators (<see cref="GptOnnxGraph"/>).
    /// </summary>
    public static OnnxRuntimeEngine Create(Gpt model, OnnxPrecision precision = OnnxPrecision.Float32, int? threads = null,
                                           string? profilePrefix = null, bool fused = true)
    {
        if (model.Device.type != TorchSharp.DeviceType.CPU)
            throw new GptSharpException("the onnx engine runs on the CPU; on a GPU use the torch engine (--engine torch)");
        // The graph's weights go to a scratch directory ONNX Runtime loads from (external data: no 2 GB protobuf limit),
        // deleted as soon as the session holds them.
        string dir = Path.Combine(Path.GetTempPath(), $"gptsharp-ort-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, ScratchModel);
            using (no_grad())
            using (var data = new FileStream(Path.Combine(dir, ScratchData), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var builder = new OnnxGraphBuilder("gptsharp_gpt2", data, ScratchData);
                var onnx = fused ? FusedGptOnnxGraph.Build(model, builder, precision)
                    : GptOnnxGraph.Build(model, builder, precision, "engine", lastPositionOnly: true);
                using var file = File.Create(path);
                using var w = new Google.Protobuf.CodedOutputStream(file, leaveOpen: true);
                onnx.WriteTo(w);
            }
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
            return new OnnxRuntimeEngine(new InferenceSession(path, options), model.Config, precision, fused);
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

    public IDecodingState Start(int rows) =>
        rows > 0 ? new State(this, rows) : throw new ArgumentOutOfRangeException(nameof(rows), "at least one row");

    /// <summary>Stops the profiler (see <see cref="Create"/>) and returns the path of its JSON trace.</summary>
    public string EndProfiling() => _session.EndProfiling();

    public bool IsDisposed { get; private set; }

    public void Dispose()
    {
        IsDisposed = true;
        _session.Dispose();
    }

    sealed class State : IDecodingState
    {
        readonly OnnxRuntimeEngine engine;
        readonly int rows;

        public State(OnnxRuntimeEngine engine, int rows)
        {
            (this.engine, this.rows) = (engine, rows);
            Interlocked.Increment(ref engine._liveStates);
        }

        IDisposableReadOnlyCollection<OrtValue>? _outputs; // the last step's: logits, then the presents
        OrtValue? _emptyPast;

        public int Length { get; private set; }

        public Tensor Step(long[] ids, int fresh)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (fresh < 1 || ids.Length != rows * fresh) throw new ArgumentException($"expected {rows} × {fresh} ids, got {ids.Length}");
            int total = Length + fresh;
            var positions = new long[ids.Length];
            for (int r = 0; r < rows; r++)
                for (int t = 0; t < fresh; t++) positions[r * fresh + t] = Length + t;
            using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, [rows, fresh]);
            using var positionsValue = OrtValue.CreateTensorValueFromMemory(positions, [rows, fresh]);
            // The export's graph also takes an attention mask: all ones, as rows have no padding.
            using var maskValue = engine._fused ? null : OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, rows * total).ToArray(), [rows, total]);
            int fixedInputs = engine._fused ? 2 : 3, pasts = engine._inputNames.Length - fixedInputs;
            var inputs = new OrtValue[engine._inputNames.Length];
            (inputs[0], inputs[1]) = (idsValue, positionsValue);
            if (maskValue is not null) inputs[2] = maskValue;
            _emptyPast ??= _outputs is not null ? null : OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(),
                engine._fused ? [rows, engine._heads, 0, engine._headSize] : [2, rows, engine._heads, 0, engine._headSize]);
            for (int i = 0; i < pasts; i++) inputs[fixedInputs + i] = _outputs?[1 + i] ?? _emptyPast!;

            using var run = new RunOptions();
            var outputs = engine._session.Run(run, engine._inputNames, inputs, engine._outputNames);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            var result = tensor(logits.ToArray(), [rows, engine._vocab]);
            _outputs?.Dispose();
            _outputs = outputs;
            Length = total;
            return result;
        }

        bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Interlocked.Decrement(ref engine._liveStates);
            _outputs?.Dispose();
            _outputs = null;
            _emptyPast?.Dispose();
        }
    }
}
