using System.CommandLine;
using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Server;
using GptSharp.Server.Hosting;
using GptSharp.Server.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GptSharp.Cli.Commands;

/// <summary>
/// `gptsharp serve`: an OpenAI-compatible HTTP server over one or more model directories (src/GptSharp.Server).
/// Settings come from --config (JSON), then the options given here. Ctrl+C stops accepting requests, lets those in
/// flight finish (up to drain_timeout_seconds), then exits.
/// </summary>
static class ServeCommand
{
    public static Command Create()
    {
        var defaults = new ServerOptions();
        var model = new Option<string[]>("--model") { Description = "Model directory to serve (repeatable: several models, the request's \"model\" picks one).", DefaultValueFactory = _ => [] };
        var alias = new Option<string[]>("--alias") { Description = "The id clients use for each --model, in the same order (default: the directory's name).", DefaultValueFactory = _ => [] };
        var host = new Option<string?>("--host") { Description = $"Address to listen on (default {defaults.Host}; 0.0.0.0 for every interface)." };
        var port = new Option<int?>("--port") { Description = $"Port to listen on (default {defaults.Port}; 0 picks a free one)." };
        var apiKey = new Option<string[]>("--api-key") { Description = "Require this bearer key (repeatable); /health stays open.", DefaultValueFactory = _ => [] };
        var apiKeysFile = new Option<string?>("--api-keys-file") { Description = "Require one of the keys in this file (one a line, # comments)." };
        var precision = new Option<string?>("--precision") { Description = "auto (int8 or int4 for a directory made by `quantize`, else fp32), fp32, bf16, int8 or int4 (on the onnx engine)." };
        var engine = new Option<string?>("--engine") { Description = "What decodes: torch (TorchSharp, any device), onnx (ONNX Runtime on the CPU, continuous batching included; fp32, bf16, int8 or int4) or auto (the default: onnx for fp32 on the CPU and for int4; torch for bf16, int8, a GPU and models the onnx engine cannot run)." };
        var device = new Option<string?>("--device") { Description = $"cpu, cuda, cuda:N or auto (default {defaults.Device})." };
        var maxBatch = new Option<int?>("--max-batch") { Description = $"Sequences a model decodes together (default {defaults.MaxBatch}): one forward pass per step for all of them (continuous batching)." };
        var maxQueue = new Option<int?>("--max-queue") { Description = $"Requests that may wait per model; more get 429 with Retry-After (default {defaults.MaxQueue})." };
        var filter = new Option<string?>("--filter") { Description = "Content filter: default (the built-in rules), none, or a rules JSON file." };
        var cors = new Option<string[]>("--cors") { Description = "Allow browser calls from this origin (repeatable; * for any).", DefaultValueFactory = _ => [] };
        var timeout = new Option<double?>("--request-timeout") { Description = $"Seconds a request may take (default {defaults.RequestTimeout.TotalSeconds})." };
        var rateLimit = new Option<int?>("--rate-limit") { Description = "Requests per minute per key (per address without keys); default off." };
        var config = new Option<string?>("--config") { Description = "JSON config file (keys as in README's Serving section); options given here override it." };

        var cmd = new Command("serve", "Serve models over an OpenAI-compatible HTTP API (chat and text completions, streaming, models, metrics).")
            { model, alias, host, port, apiKey, apiKeysFile, precision, engine, device, maxBatch, maxQueue, filter, cors, timeout, rateLimit, config };
        cmd.SetAction(async (p, ct) =>
        {
            var o = p.GetValue(config) is { } file ? ServerConfigFile.Read(file) : new ServerOptions();
            string[] dirs = p.GetValue(model)!, aliases = p.GetValue(alias)!;
            if (aliases.Length > dirs.Length) throw new GptSharpException($"--alias given {aliases.Length} times for {dirs.Length} --model directories");
            if (dirs.Length > 0) o = o with { Models = dirs.Select((d, i) => new ServedModel(d, i < aliases.Length ? aliases[i] : null)).ToArray() };
            string[] keys = p.GetValue(apiKey)!;
            o = o with
            {
                Host = p.GetValue(host) ?? o.Host,
                Port = p.GetValue(port) ?? o.Port,
                ApiKeys = p.GetValue(apiKeysFile) is { } kf ? [.. keys, .. ServerOptions.ReadApiKeys(kf)] : keys.Length > 0 ? keys : o.ApiKeys,
                Precision = p.GetValue(precision) is { } pr ? InferencePrecisionNames.Parse(pr) : o.Precision,
                Engine = p.GetValue(engine) is { } en ? DecodingEngineNames.Parse(en) : o.Engine,
                Device = p.GetValue(device) ?? o.Device,
                MaxBatch = p.GetValue(maxBatch) ?? o.MaxBatch,
                MaxQueue = p.GetValue(maxQueue) ?? o.MaxQueue,
                Filter = p.GetValue(filter) ?? o.Filter,
                CorsOrigins = p.GetValue(cors) is { Length: > 0 } origins ? origins : o.CorsOrigins,
                RequestTimeout = p.GetValue(timeout) is { } t ? TimeSpan.FromSeconds(t) : o.RequestTimeout,
                RateLimitPerMinute = p.GetValue(rateLimit) ?? o.RateLimitPerMinute,
            };
            if (o.Models.Count == 0) throw new GptSharpException("give a model to serve: --model DIR (or \"models\" in --config)");

            var output = p.InvocationConfiguration.Output;
            await using var app = GptServer.Build(o, b => b.Services.Configure<ConsoleLifetimeOptions>(l => l.SuppressStatusMessages = true));
            await app.StartAsync(ct);
            string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? $"http://{o.Host}:{o.Port}";
            await output.WriteLineAsync($"GptSharp server on {url} (OpenAI API at {url}/v1, chat page at {url}/); loading {o.Models.Count} model(s)…");
            var registry = app.Services.GetRequiredService<ModelRegistry>();
            try { await registry.Ready.WaitAsync(ct); }
            catch (OperationCanceledException) { await app.StopAsync(CancellationToken.None); throw; }
            catch (Exception e) { await app.StopAsync(CancellationToken.None); throw new GptSharpException($"loading the models failed: {e.Message}"); }
            foreach (var m in registry.Models)
                await output.WriteLineAsync($"  {m.Id}: {m.Directory.Directory} ({(m.ChatTemplate is null ? "base model: /v1/completions" : "chat model")}, context {m.ContextSize})");
            await output.WriteLineAsync($"ready; {(o.ApiKeys.Count > 0 ? "keys required; " : "")}Ctrl+C stops (in-flight requests finish first)");

            // Ctrl+C (the command's token) or the host's own stop (SIGTERM) ends it; in-flight requests drain in StopAsync.
            var stopping = app.Lifetime.ApplicationStopping;
            await Task.WhenAny(Task.Delay(Timeout.Infinite, ct), Task.Delay(Timeout.Infinite, stopping)).ContinueWith(_ => { });
            await output.WriteLineAsync("stopping: finishing in-flight requests…");
            await app.StopAsync(CancellationToken.None);
            await output.WriteLineAsync("stopped");
            return 0;
        });
        return cmd;
    }
}
