using System.Text.Json;
using System.Text.Json.Serialization;
using GptSharp.Checkpoints;
using GptSharp.Models;

namespace GptSharp.Server.Options;

/// <summary>
/// The JSON config of <c>gptsharp serve --config</c>: the <see cref="ServerOptions"/> names in snake_case, e.g.
/// <code>{ "models": [{ "path": "runs/chat/final", "alias": "chat" }], "port": 8080, "api_keys_file": "keys.txt",
///   "max_queue": 64, "request_timeout_seconds": 120 }</code>
/// A key the server does not know is an error, naming it.
/// </summary>
public static class ServerConfigFile
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    sealed record ModelEntry(string Path, string? Alias);

    sealed record Keys
    {
        public ModelEntry[]? Models { get; init; }
        public string? Host { get; init; }
        public int? Port { get; init; }
        public string[]? ApiKeys { get; init; }
        public string? ApiKeysFile { get; init; }
        public string? Precision { get; init; }
        public string? Engine { get; init; }
        public string? Device { get; init; }
        public int? MaxBatch { get; init; }
        public int? MaxQueue { get; init; }
        public string? Filter { get; init; }
        public string[]? Cors { get; init; }
        public long? MaxRequestBytes { get; init; }
        public int? MaxMessages { get; init; }
        public int? MaxMessageChars { get; init; }
        public int? MaxTokensLimit { get; init; }
        public int? MaxChoices { get; init; }
        public double? RequestTimeoutSeconds { get; init; }
        public int? RateLimitPerMinute { get; init; }
        public double? DrainTimeoutSeconds { get; init; }
    }

    /// <summary>The file's settings over <paramref name="start"/>; relative paths are taken from the file's folder.</summary>
    public static ServerOptions Read(string path, ServerOptions? start = null)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: server config file not found");
        Keys keys;
        try { keys = JsonSerializer.Deserialize<Keys>(File.ReadAllText(path), Json) ?? new Keys(); }
        catch (JsonException e) { throw new GptSharpException($"{path}: {e.Message}"); }
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        string Rooted(string p) => System.IO.Path.IsPathRooted(p) ? p : System.IO.Path.Combine(dir, p);
        var o = start ?? new ServerOptions();
        return o with
        {
            Models = keys.Models?.Select(m => new ServedModel(Rooted(m.Path ?? throw new GptSharpException($"{path}: every model needs a \"path\"")), m.Alias)).ToArray() ?? o.Models,
            Host = keys.Host ?? o.Host,
            Port = keys.Port ?? o.Port,
            ApiKeys = keys.ApiKeysFile is { } f ? ServerOptions.ReadApiKeys(Rooted(f)) : keys.ApiKeys ?? o.ApiKeys,
            Precision = keys.Precision is { } p ? InferencePrecisionNames.Parse(p) : o.Precision,
            Engine = keys.Engine is { } engine ? DecodingEngineNames.Parse(engine) : o.Engine,
            Device = keys.Device ?? o.Device,
            MaxBatch = keys.MaxBatch ?? o.MaxBatch,
            MaxQueue = keys.MaxQueue ?? o.MaxQueue,
            Filter = keys.Filter is { } filter && filter is not ("default" or "none") ? Rooted(filter) : keys.Filter ?? o.Filter,
            CorsOrigins = keys.Cors ?? o.CorsOrigins,
            MaxRequestBytes = keys.MaxRequestBytes ?? o.MaxRequestBytes,
            MaxMessages = keys.MaxMessages ?? o.MaxMessages,
            MaxMessageChars = keys.MaxMessageChars ?? o.MaxMessageChars,
            MaxTokensLimit = keys.MaxTokensLimit ?? o.MaxTokensLimit,
            MaxChoices = keys.MaxChoices ?? o.MaxChoices,
            RequestTimeout = keys.RequestTimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : o.RequestTimeout,
            RateLimitPerMinute = keys.RateLimitPerMinute ?? o.RateLimitPerMinute,
            DrainTimeout = keys.DrainTimeoutSeconds is { } d ? TimeSpan.FromSeconds(d) : o.DrainTimeout,
        };
    }
}
