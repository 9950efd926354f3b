using GptSharp.Checkpoints;
using GptSharp.Models;

namespace GptSharp.Server.Options;

/// <summary>
/// Everything <see cref="GptServer.Build"/> needs: the models, where to listen, keys, scheduling bounds, the content
/// filter and the request limits. JSON config keys (<see cref="ServerConfigFile"/>) are these names in snake_case.
/// </summary>
public sealed record ServerOptions
{
    public IReadOnlyList<ServedModel> Models { get; init; } = [];
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>Bearer keys a request must present; empty serves without authentication.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];
    public InferencePrecision Precision { get; init; } = InferencePrecision.Auto;
    /// <summary>What decodes: TorchSharp, or the onnx engine (CPU; its slots run the continuous batching), as `generate` takes it.</summary>
    public DecodingEngineKind Engine { get; init; } = DecodingEngineKind.Auto;
    /// <summary>cpu, cuda, cuda:N or auto (<c>Native.Devices.Parse</c>: a GPU when there is one), as `generate` and `chat` take it.</summary>
    public string Device { get; init; } = "auto";
    /// <summary>How many sequences a model decodes at once, in one forward pass per step (continuous batching).</summary>
    public int MaxBatch { get; init; } = 8;
    /// <summary>Sequences that may wait per model beyond those running; more get 429 with Retry-After.</summary>
    public int MaxQueue { get; init; } = 64;
    /// <summary>"default" (the built-in rules), "none", or a rules JSON file.</summary>
    public string Filter { get; init; } = "default";
    /// <summary>Origins browsers may call from; empty allows none (no CORS headers).</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];
    public long MaxRequestBytes { get; init; } = 1 << 20;
    public int MaxMessages { get; init; } = 256;
    public int MaxMessageChars { get; init; } = 64 * 1024;
    /// <summary>The largest max_tokens (and n × max_tokens) a request may ask for.</summary>
    public int MaxTokensLimit { get; init; } = 4096;
    /// <summary>The most choices (n) one request may ask for.</summary>
    public int MaxChoices { get; init; } = 8;
    /// <summary>A request still generating after this long is stopped (504, or an error event when streaming).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Requests per minute per key (per client address without keys); 0 turns the limit off.</summary>
    public int RateLimitPerMinute { get; init; }
    /// <summary>How long Ctrl+C waits for in-flight requests to finish before ending them.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Throws a <see cref="GptSharpException"/> naming the first invalid setting.</summary>
    public ServerOptions Validate()
    {
        static void Need(bool ok, string what) { if (!ok) throw new GptSharpException($"invalid server option: {what}"); }
        Need(Models.Count > 0, "give at least one model (--model DIR)");
        var dup = Models.GroupBy(m => m.Id).FirstOrDefault(g => g.Count() > 1);
        Need(dup is null, $"two models are named '{dup?.Key}': give each an --alias");
        Need(Port is >= 0 and <= 65535, $"port must be in 0..65535 (got {Port})");
        Need(!string.IsNullOrWhiteSpace(Host), "host must not be empty");
        Need(ApiKeys.All(k => !string.IsNullOrWhiteSpace(k)), "api keys must not be empty");
        Need(MaxBatch >= 1, $"max_batch must be at least 1 (got {MaxBatch})");
        Need(MaxQueue >= 0, $"max_queue must be >= 0 (got {MaxQueue})");
        Need(MaxRequestBytes >= 1024, $"max_request_bytes must be at least 1024 (got {MaxRequestBytes})");
        Need(MaxMessages >= 1, $"max_messages must be at least 1 (got {MaxMessages})");
        Need(MaxMessageChars >= 1, $"max_message_chars must be at least 1 (got {MaxMessageChars})");
        Need(MaxTokensLimit >= 1, $"max_tokens_limit must be at least 1 (got {MaxTokensLimit})");
        Need(MaxChoices >= 1, $"max_choices must be at least 1 (got {MaxChoices})");
        Need(RequestTimeout > TimeSpan.Zero, $"request_timeout_seconds must be > 0 (got {RequestTimeout.TotalSeconds})");
        Need(RateLimitPerMinute >= 0, $"rate_limit_per_minute must be >= 0, where 0 turns it off (got {RateLimitPerMinute})");
        Need(DrainTimeout >= TimeSpan.Zero, $"drain_timeout_seconds must be >= 0 (got {DrainTimeout.TotalSeconds})");
        Need(CorsOrigins.All(o => Uri.TryCreate(o, UriKind.Absolute, out _) || o == "*"), "cors origins must be absolute URLs (https://example.com) or *");
        return this;
    }

    /// <summary>Reads an API keys file: one key a line; blank lines and lines starting with # are skipped.</summary>
    public static IReadOnlyList<string> ReadApiKeys(string path)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: api keys file not found");
        var keys = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        return keys.Length > 0 ? keys : throw new GptSharpException($"{path}: no api keys in the file");
    }
}
