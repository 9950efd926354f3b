using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// A forward pass for decoding that runs outside TorchSharp's one-call-per-operation dispatch (ONNX Runtime, say), set
/// on a model as <see cref="Gpt.Engine"/>: every generator built on that model then decodes with it (plain, batched and
/// streamed generation, chat, evaluation's replies, the server's continuous batching), while training, losses and beam
/// search keep <see cref="Gpt.Forward"/>.
/// </summary>
public interface IDecodingEngine : IDisposable
{
    /// <summary>Its name in messages and benchmark output ("onnxruntime").</summary>
    string Name { get; }

    /// <summary>Starts <paramref name="rows"/> sequences with empty caches; they advance together, as one batch.</summary>
    IDecodingState Start(int rows);

    /// <summary>Up to <paramref name="slots"/> sequences that come and go, of any lengths (continuous batching).</summary>
    IDecodingSlots StartSlots(int slots);
}

/// <summary>The caches of sequences being decoded by an <see cref="IDecodingEngine"/>; disposing frees them.</summary>
public interface IDecodingState : IDisposable
{
    /// <summary>Positions cached so far (every row has the same number).</summary>
    int Length { get; }

    /// <summary>
    /// Feeds <paramref name="ids"/> ([rows × fresh], row-major: the tokens each row has not fed yet) and returns the last
    /// position's logits as a float32 CPU tensor [rows, vocab] (in the caller's dispose scope).
    /// </summary>
    Tensor Step(long[] ids, int fresh);
}
