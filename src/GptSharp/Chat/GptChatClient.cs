using System.Runtime.CompilerServices;
using GptSharp.Checkpoints;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using Microsoft.Extensions.AI;
using GptSharp.Chat.Safety;

namespace GptSharp.Chat;

/// <summary>
/// The chat engine: a local chat model behind Microsoft.Extensions.AI's <see cref="IChatClient"/>. The conversation is
/// rendered with the <see cref="ChatTemplate"/> and the reply streamed by <see cref="TextGenerator.StreamTextAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>
/// until the model writes <c>&lt;|end|&gt;</c> (or <c>&lt;|endoftext|&gt;</c>, or another end token the model directory
/// names): whole UTF-8 characters, special tokens left out, cut exactly before a stop sequence. Each update's
/// <see cref="ChatResponseUpdate.RawRepresentation"/> is its <see cref="TextDelta"/>; the last one carries the finish
/// reason (the generator's, mapped: end token and stop sequence are <see cref="ChatFinishReason.Stop"/>, max tokens and
/// a full context <see cref="ChatFinishReason.Length"/>) and the usage. Cancelling throws, as every IChatClient does.
/// <para>Decoding settings: a <see cref="GenerationOptions"/> given as <see cref="ChatOptions.RawRepresentationFactory"/>
/// (as <see cref="ChatSession"/> does), else the client's defaults; over them, the ChatOptions set (max output tokens,
/// temperature, top-p, top-k, seed, stop sequences), by <see cref="GenerationOptions.Override"/>.</para>
/// <para>Generation runs synchronously on the thread that asks for the next update; calls on one client are
/// serialised, since they share one model. A <see cref="ChatContextWindow"/> is offered through <see cref="GetService"/>.</para>
/// </summary>
public sealed class GptChatClient : IChatClient
{
    readonly Gpt? _model;
    readonly BpeTokenizer _tokenizer;
    readonly ChatTemplate _template;
    readonly TextGenerator _generator;
    readonly GenerationOptions _defaults;
    readonly ChatContextWindow _window;
    readonly IDisposable? _owned;
    readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>
    /// Takes ownership of <paramref name="loaded"/> (disposed with the client). Decoding defaults are its
    /// <see cref="ModelDirectory.Generation"/>; the model id is the directory's name.
    /// </summary>
    public GptChatClient(ModelDirectory loaded)
        : this(loaded.Model, loaded.Tokenizer, DirectoryName(loaded.Directory ?? "model"), loaded.Generation, loaded.EndTokenIds)
    {
        _owned = loaded;
    }

    /// <summary>A client over a model the caller keeps owning.</summary>
    /// <param name="endTokenIds">More ids that end a reply (a model directory's eos_token_id); &lt;|end|&gt; and &lt;|endoftext|&gt; always do.</param>
    public GptChatClient(Gpt model, BpeTokenizer tokenizer, string modelId, GenerationOptions? defaults = null, IEnumerable<int>? endTokenIds = null)
        : this(ChatGenerator(model, tokenizer, modelId, endTokenIds), tokenizer, modelId, defaults)
    {
        _model = model;
    }

    /// <summary>A client over any generator that ends replies at &lt;|end|&gt; (a scripted one in tests).</summary>
    internal GptChatClient(TextGenerator generator, BpeTokenizer tokenizer, string modelId, GenerationOptions? defaults = null)
    {
        _tokenizer = tokenizer;
        _template = new ChatTemplate(tokenizer);
        _generator = generator;
        _defaults = (defaults ?? new GenerationOptions()).Validate();
        _window = new ChatContextWindow(_template, generator.ContextSize);
        ModelId = modelId;
        Metadata = new ChatClientMetadata("GptSharp", null, modelId);
    }

    static TextGenerator ChatGenerator(Gpt model, BpeTokenizer tokenizer, string modelId, IEnumerable<int>? endTokenIds)
    {
        var template = new ChatTemplate(tokenizer);
        int highest = new[] { template.SystemId, template.UserId, template.AssistantId, template.EndId }.Max();
        if (highest >= model.Config.VocabSize)
            throw new GptSharpException($"model '{modelId}' has vocab_size {model.Config.VocabSize}, so no embeddings for the chat role tokens " +
                                        $"(up to id {highest}); fine-tune it for chat first (gptsharp finetune)");
        // The generator stops at <|end|>, which closes an assistant turn, and at every other end token.
        return new TextGenerator(model, tokenizer, template.EndId, endTokenIds);
    }

    public string ModelId { get; }
    public ChatClientMetadata Metadata { get; }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // Bad input fails before any token is generated.
        int[] prompt = _template.RenderPrompt(ToTurns(messages, options));
        var generation = ToGenerationOptions(options);
        string responseId = Guid.NewGuid().ToString("N");

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int produced = 0;
            await foreach (var delta in _generator.StreamTextAsync(prompt, generation, cancellationToken).ConfigureAwait(false))
            {
                if (delta.FinishReason == FinishReason.Cancelled) cancellationToken.ThrowIfCancellationRequested();
                produced += delta.Ids.Count;
                var update = new ChatResponseUpdate(ChatRole.Assistant, delta.Text.Length > 0 ? delta.Text : null)
                {
                    ModelId = ModelId, ResponseId = responseId, MessageId = responseId, CreatedAt = DateTimeOffset.UtcNow, RawRepresentation = delta,
                };
                if (delta.FinishReason is { } reason)
                {
                    update.FinishReason = ToChatFinishReason(reason);
                    update.Contents.Add(new UsageContent(new UsageDetails
                    {
                        InputTokenCount = delta.PromptTokensKept, OutputTokenCount = produced, TotalTokenCount = delta.PromptTokensKept + produced,
                    }));
                }
                yield return update;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The generator's reason as Microsoft.Extensions.AI names it (cancellation throws instead).</summary>
    public static ChatFinishReason ToChatFinishReason(FinishReason reason) => reason switch
    {
        FinishReason.EndOfText or FinishReason.StopSequence => ChatFinishReason.Stop,
        FinishReason.Length or FinishReason.ContextFull => ChatFinishReason.Length,
        FinishReason.ContentFilter => ChatFinishReason.ContentFilter,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "a cancelled reply has no chat finish reason: it throws"),
    };

    /// <summary>The decoding settings for one request: see the class comment.</summary>
    GenerationOptions ToGenerationOptions(ChatOptions? o)
    {
        if (o is null) return _defaults;
        if (o.MaxOutputTokens is < 1) throw new GptSharpException($"invalid chat option: MaxOutputTokens must be at least 1 (got {o.MaxOutputTokens})");
        var start = o.RawRepresentationFactory?.Invoke(this) as GenerationOptions ?? _defaults;
        var stops = (o.StopSequences ?? []).Where(s => !string.IsNullOrEmpty(s)).ToArray();
        return start.Override(new GenerationOverrides
        {
            MaxNewTokens = o.MaxOutputTokens,
            Temperature = Changed(o.Temperature, start.Temperature, start.IsGreedy),
            TopP = Changed(o.TopP, start.TopP, false),
            TopK = o.TopK,
            Seed = o.Seed,
            StopSequences = stops.Length > 0 ? stops : null,
        });
    }

    /// <summary>
    /// A ChatOptions float over <paramref name="current"/>: null (no change) when it is <paramref name="current"/> rounded to
    /// float — ChatOptions cannot hold the exact value — or a temperature of 0 over settings that are greedy anyway.
    /// </summary>
    static double? Changed(float? given, double current, bool greedy) =>
        given is float f && f != (float)current && !(greedy && f == 0) ? f : null;

    /// <summary>MEAI messages as template turns: system, user and assistant text only.</summary>
    static IEnumerable<ChatTurn> ToTurns(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var turns = new List<ChatTurn>();
        if (!string.IsNullOrEmpty(options?.Instructions)) turns.Add(new ChatTurn(TurnRole.System, options.Instructions));
        int index = 0;
        foreach (var m in messages)
        {
            TurnRole role = m.Role == ChatRole.System ? TurnRole.System
                : m.Role == ChatRole.User ? TurnRole.User
                : m.Role == ChatRole.Assistant ? TurnRole.Assistant
                : throw new GptSharpException($"message {index} has role '{m.Role}'; this model's chat template knows only system, user and assistant");
            if (m.Contents.FirstOrDefault(c => c is not TextContent) is { } other)
                throw new GptSharpException($"message {index} contains {other.GetType().Name}; this model reads text only");
            turns.Add(new ChatTurn(role, m.Text));
            index++;
        }
        return turns;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return Metadata;
        if (serviceType == typeof(ChatContextWindow)) return _window;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType == typeof(Gpt)) return _model;
        if (serviceType == typeof(BpeTokenizer)) return _tokenizer;
        return null;
    }

    public void Dispose()
    {
        _owned?.Dispose();
        _gate.Dispose();
    }

    static string DirectoryName(string dir) => Path.GetFileName(Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
}
