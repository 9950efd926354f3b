namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// The constants of the GGUF container (ggml's <c>gguf.h</c>, version 3): the file starts with the magic "GGUF", the
/// version, the tensor and metadata counts; strings are a uint64 byte length then UTF-8 without a terminator; tensor
/// data starts at the first multiple of <c>general.alignment</c> (32 unless the file says otherwise) after the header,
/// and each tensor's offset within it is a multiple of the alignment too. Everything is little-endian.
/// </summary>
public static class GgufFormat
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    public const uint Magic = 0x46554747;
    public const uint Version = 3;
    public const int DefaultAlignment = 32;
    public const string AlignmentKey = "general.alignment";

    /// <summary><paramref name="offset"/> rounded up to a multiple of <paramref name="alignment"/>.</summary>
    public static long Align(long offset, long alignment) => (offset + alignment - 1) / alignment * alignment;
}
