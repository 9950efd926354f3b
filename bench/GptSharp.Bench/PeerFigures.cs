namespace GptSharp.Bench;

/// <summary>
/// PyTorch 1.13.1 + nanoGPT's model.py (OpenBLAS, 2 threads) on our kind of machine, median training tokens/s,
/// from /work/shared/bench/README.md (measured 2026-11-22; each figure ±10 %).
/// </summary>
static class PeerFigures
{
    public sealed record Shape(int NLayer, int NHead, int NEmbd, int VocabSize, int BatchSize, long Parameters);
    public sealed record TokensPerSecond(double Glibc, double Tcmalloc);

    public const int BlockSize = 256;

    public static readonly IReadOnlyDictionary<string, Shape> Shapes = new Dictionary<string, Shape>
    {
        ["tiny"] = new(4, 4, 256, 8192, 8, 5_322_240),
        ["small"] = new(6, 6, 384, 8192, 8, 13_891_584),
        ["gpt2"] = new(12, 12, 768, 50304, 4, 123_886_080),
    };

    /// <summary>fp32, and bf16 autocast (ours: fp32 master weights with bf16 matmuls).</summary>
    public static readonly IReadOnlyDictionary<(string Preset, string Precision), TokensPerSecond> PyTorch =
        new Dictionary<(string, string), TokensPerSecond>
        {
            [("tiny", "fp32")] = new(2269, 6282),
            [("tiny", "bf16")] = new(2151, 11185),
            [("small", "fp32")] = new(1440, 2776),
            [("small", "bf16")] = new(2017, 4925),
            [("gpt2", "fp32")] = new(163, 340),
            [("gpt2", "bf16")] = new(207, 529),
        };

    /// <summary>llama.cpp, GPT-2 124M random weights, 2 threads, tokens/s: prompt 256 (pp256) and decode batch 1 (tg128).</summary>
    public sealed record Decoding(string Weights, double Pp256, double Tg128, string Batch8);

    /// <summary>Our fp32 against llama.cpp's f32 (with mmap, its default), our bf16 against its f16 (both 2-byte weights),
    /// our int8 against its q8_0 (8-bit weights with a scale per 32; ours has one per output channel).</summary>
    public static readonly IReadOnlyDictionary<string, Decoding> LlamaCpp = new Dictionary<string, Decoding>
    {
        ["fp32"] = new("f32", 950, 78, "195-250"),
        ["bf16"] = new("f16", 1420, 169, "320-360"),
        ["int8"] = new("q8_0", 1190, 220, "310-330"),
        ["int4"] = new("q4_0", 1940, 309, "440-460"),
    };

    public const string DecodingSource = "llama.cpp llama-bench, GPT-2 124M random weights, tied LM head, 2 threads (shared/bench/README.md, ±10 %)";

    public const string Source = "PyTorch 1.13.1, nanoGPT model.py, OpenBLAS, 2 threads (shared/bench/README.md, 2026-11-22, ±10 %)";
}
