namespace GptSharp.ServeBench;

/// <summary>Command line of the load driver (see <see cref="Usage"/>).</summary>
sealed record ServeBenchOptions
{
    public const string Usage =
        "usage: GptSharp.ServeBench [--url http://HOST:PORT --model-id ID [--server-pid PID]] [--precision fp32|int8 (default fp32)]\n" +
        "                           [--engine torch|onnx|auto (what the in-process server decodes with, default auto: onnx for fp32, torch for int8)]\n" +
        "                           [--levels 1,4,8,16,32] [--rounds N (requests per level = N x concurrency, default 2)]\n" +
        "                           [--prompt-tokens 256] [--max-tokens 64] [--max-batch 8] [--filter none|default (default none)]\n" +
        "                           [--temperature T (default 0: greedy; above 0 the requests sample, the model's top-k applying)]\n" +
        "                           [--reference-json DECODE.json (GptSharp.Bench --decode output)] [--no-reference] [--json-out FILE]\n" +
        "                           [--soak [--soak-requests 1000] [--soak-concurrency 64]]\n" +
        "Without --url it serves GPT-2 124M with random weights itself (in this process, on a loopback port).";

    public string? Url { get; init; }
    public string ModelId { get; init; } = "gpt2";
    public int? ServerPid { get; init; }
    public string Precision { get; init; } = "fp32";
    public string Engine { get; init; } = "auto";
    public int[] Levels { get; init; } = [1, 4, 8, 16, 32];
    public int Rounds { get; init; } = 2;
    public int PromptTokens { get; init; } = 256;
    public int MaxTokens { get; init; } = 64;
    public int MaxBatch { get; init; } = 8;
    public double Temperature { get; init; }
    public string Filter { get; init; } = "none";
    public string? ReferenceJson { get; init; }
    public bool Reference { get; init; } = true;
    public string? JsonOut { get; init; }
    public bool Soak { get; init; }
    public int SoakRequests { get; init; } = 1000;
    public int SoakConcurrency { get; init; } = 64;

    public static ServeBenchOptions Parse(string[] args)
    {
        var o = new ServeBenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new GptSharpException($"{args[i]} needs a value\n{Usage}");
            int Count(int min)
            {
                string name = args[i], v = Value();
                return int.TryParse(v, out int n) && n >= min ? n : throw new GptSharpException($"{name} must be an integer >= {min} (got '{v}')");
            }
            o = args[i] switch
            {
                "--url" => o with { Url = Value().TrimEnd('/') },
                "--model-id" => o with { ModelId = Value() },
                "--server-pid" => o with { ServerPid = Count(1) },
                "--precision" => o with { Precision = Value() is var p && p is "fp32" or "int8" or "bf16" ? p : throw new GptSharpException($"--precision: fp32, bf16 or int8\n{Usage}") },
                "--engine" => o with { Engine = Value() is var e && e is "torch" or "onnx" or "auto" ? e : throw new GptSharpException($"--engine: torch, onnx or auto\n{Usage}") },
                "--levels" => o with { Levels = [.. Value().Split(',').Select(s => int.TryParse(s, out int n) && n > 0 ? n : throw new GptSharpException($"--levels: '{s}' is not a positive integer"))] },
                "--rounds" => o with { Rounds = Count(1) },
                "--prompt-tokens" => o with { PromptTokens = Count(1) },
                "--max-tokens" => o with { MaxTokens = Count(2) },
                "--max-batch" => o with { MaxBatch = Count(1) },
                "--temperature" => o with { Temperature = Value() is var t && double.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, out double v) && v is >= 0 and <= 2 ? v : throw new GptSharpException($"--temperature must be a number from 0 to 2 (got '{t}')") },
                "--filter" => o with { Filter = Value() },
                "--reference-json" => o with { ReferenceJson = Value() },
                "--no-reference" => o with { Reference = false },
                "--json-out" => o with { JsonOut = Value() },
                "--soak" => o with { Soak = true },
                "--soak-requests" => o with { SoakRequests = Count(1) },
                "--soak-concurrency" => o with { SoakConcurrency = Count(1) },
                "-h" or "--help" => throw new GptSharpException(Usage),
                _ => throw new GptSharpException($"unknown option '{args[i]}'\n{Usage}"),
            };
        }
        return o;
    }
}
