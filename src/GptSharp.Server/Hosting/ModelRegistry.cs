using GptSharp.Checkpoints;
using GptSharp.Native;
using GptSharp.Server.Errors;
using GptSharp.Server.Options;
using GptSharp.Server.Scheduling;

namespace GptSharp.Server.Hosting;

/// <summary>
/// The served models, loaded in the background once the host starts so that /health can answer 503 meanwhile.
/// Stopping the host lets every scheduler drain, then frees the models.
/// </summary>
public sealed class ModelRegistry(ServerOptions options, SchedulerFactory schedulers, ILogger<ModelRegistry> log) : IHostedService, IAsyncDisposable
{
    readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly List<LoadedModel> _models = [];
    volatile bool _loaded;

    /// <summary>Completes when every model is loaded; faults with the load error.</summary>
    public Task Ready => _ready.Task;
    public bool IsReady => _loaded;
    public IReadOnlyList<LoadedModel> Models => _loaded ? _models : [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The weights load off the start-up path: the server listens (and says "loading") meanwhile.
        _ = Task.Run(Load, CancellationToken.None);
        return Task.CompletedTask;
    }

    void Load()
    {
        try
        {
            var load = new LoadOptions { Device = Devices.Parse(options.Device), Precision = options.Precision, Engine = options.Engine };
            foreach (var served in options.Models)
            {
                var directory = ModelDirectory.Load(served.Path, load);
                _models.Add(new LoadedModel(served.Id, directory, schedulers));
                log.LogInformation("loaded model {Id} from {Path}", served.Id, served.Path);
            }
            _loaded = true;
            _ready.TrySetResult();
        }
        catch (Exception e)
        {
            log.LogError("loading the models failed: {Message}", e.Message);
            _ready.TrySetException(e);
        }
    }

    /// <summary>The model a request names (404 model_not_found otherwise); 503 while loading.</summary>
    public LoadedModel Find(string id)
    {
        RequireReady();
        return _models.FirstOrDefault(m => m.Id == id)
            ?? throw new ApiException(404, $"The model '{id}' does not exist; this server has: {string.Join(", ", _models.Select(m => m.Id))}",
                "model", "model_not_found");
    }

    /// <summary>The model a request names, or the first one when it names none (the tokenizer routes).</summary>
    public LoadedModel FindOrFirst(string? id)
    {
        RequireReady();
        return id is null ? _models[0] : Find(id);
    }

    public void RequireReady()
    {
        if (!_loaded)
            throw new ApiException(503, Ready.IsFaulted ? "the models failed to load" : "the models are still loading; retry shortly",
                code: "model_loading") { RetryAfterSeconds = 1 };
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var m in _models) await m.DisposeAsync();
        _models.Clear();
    }
}
