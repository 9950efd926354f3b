using GptSharp.Native;
namespace GptSharp.Bench;

/// <summary>Command line: --preset tiny|small|gpt2|all, --precision fp32|bf16|int8|all, --steps N, --warmup N, --json-out FILE, --no-gemm, --decode.</summary>
sealed record BenchOptions(string[] Presets, string[] Precisions, int Steps, int Warmup, string? JsonOut, bool Gemm, bool Decode)
{
    /// <summary>--save-model DIR: write the decoding benchmark's GPT-2 124M (random weights, seed 1337, GPT-2 tokenizer) as a model directory and exit (for GGUF exports that llama.cpp runs).</summary>
    public string? SaveModel { get; init; }
    /// <summary>--profile: with --decode, also split the onnx engine's per-token time (<see cref="EngineProfile"/>) for its precisions.</summary>
    public bool Profile { get; init; }

    public const string Usage =
        "usage: GptSharp.Bench [--preset tiny|small|gpt2|all (comma-separated ok, default all)] [--precision fp32|bf16|all (default all;\n" +
        "                      with --decode also int8, onnx-fp32, onnx-bf16, onnx-int8, onnx-int4: the onnx engine;\n" +
        "                      ort-fp32, ort-bf16, ort-int8, ort-int4: the same with every step in ONNX Runtime)]\n" +
        "                      [--steps N (timed, default 10)] [--warmup N (default 3)] [--json-out FILE] [--no-gemm]\n" +
        "                      [--decode: generation speed of GPT-2 124M instead (pp256, tg128; --steps = repetitions)]\n" +
        "                      [--save-model DIR: write that GPT-2 124M (random weights) as a model directory and exit]\n" +
        "                      [--profile: with --decode, split the onnx engine's time per token: weights, attention, the rest]\n" +
        "Allocator: tcmalloc when libtcmalloc-minimal4 is installed, else glibc+tunables; GPTSHARP_ALLOCATOR=glibc: glibc+tunables;\n" +
        "GPTSHARP_RELAUNCHED=1: glibc+mallopt (no restart); GPTSHARP_ALLOCATOR=stock: plain glibc.";

    static readonly string[] AllPresets = ["tiny", "small", "gpt2"], AllPrecisions = ["fp32", "bf16"], AllDecodePrecisions = ["fp32", "bf16", "int8", "onnx-fp32", "onnx-bf16", "onnx-int8", "onnx-int4", "ort-fp32", "ort-bf16", "ort-int8", "ort-int4"];

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions(AllPresets, AllPrecisions, Steps: 10, Warmup: 3, JsonOut: null, Gemm: true, Decode: false);
        string precision = "all";
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new GptSharpException($"{args[i]} needs a value\n{Usage}");
            int Count(string name, int min)
            {
                string v = Value();
                return int.TryParse(v, out int n) && n >= min ? n : throw new GptSharpException($"{name} must be an integer >= {min} (got '{v}')");
            }
            BenchOptions PrecisionGiven(string value) { precision = value; return o; } // checked once --decode is known
            o = args[i] switch
            {
                "--preset" => o with { Presets = List(Value(), AllPresets, "--preset") },
                "--precision" => PrecisionGiven(Value()),
                "--steps" => o with { Steps = Count("--steps", 1) },
                "--warmup" => o with { Warmup = Count("--warmup", 0) },
                "--json-out" => o with { JsonOut = Value() },
                "--no-gemm" => o with { Gemm = false },
                "--decode" => o with { Decode = true },
                "--save-model" => o with { SaveModel = Value() },
                "--profile" => o with { Profile = true },
                "-h" or "--help" => throw new GptSharpException(Usage),
                _ => throw new GptSharpException($"unknown option '{args[i]}'\n{Usage}"),
            };
        }
        return o with { Precisions = List(precision, o.Decode ? AllDecodePrecisions : AllPrecisions, "--precision") };
    }

    static string[] List(string value, string[] allowed, string option)
    {
        if (value == "all") return allowed;
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var item in items)
            if (!allowed.Contains(item))
                throw new GptSharpException($"{option}: unknown value '{item}' (expected {string.Join(", ", allowed)} or all)");
        return items;
    }
}
