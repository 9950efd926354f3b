using GptSharp.Checkpoints;
using GptSharp.Inference;
using GptSharp.Server.Scheduling;
using GptSharp.Tokenization;

namespace GptSharp.Server.Hosting;

/// <summary>A served model: its directory, the generator over it, its chat template (null for a base model) and its scheduler.</summary>
public sealed class LoadedModel : IAsyncDisposable
{
    public LoadedModel(string id, ModelDirectory directory, SchedulerFactory schedulers)
    {
        Id = id;
        Directory = directory;
        // Ends at <|endoftext|>, <|end|> (a chat reply's end) and the directory's eos ids.
        Generator = directory.CreateGenerator();
        ChatTemplate = directory.ChatTemplate ?? TemplateFromRoleTokens(directory);
        Scheduler = schedulers(id, Generator);
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public string Id { get; }
    public ModelDirectory Directory { get; }
    public TextGenerator Generator { get; }
    public ChatTemplate? ChatTemplate { get; }
    public IGenerationScheduler Scheduler { get; }
    public BpeTokenizer Tokenizer => Directory.Tokenizer;
    public int ContextSize => Generator.ContextSize;
    /// <summary>The model's vocabulary (vocab_size): the ids it can read and produce.</summary>
    public int VocabSize => Directory.Model.Config.VocabSize;
    /// <summary>When it was loaded (Unix seconds), for /v1/models.</summary>
    public long Created { get; }

    /// <summary>
    /// A directory saved without a template whose tokenizer has the role tokens and whose model has embeddings for them
    /// chats as <c>Chat.GptChatClient</c> would; otherwise it is a base model (completions only).
    /// </summary>
    static ChatTemplate? TemplateFromRoleTokens(ModelDirectory directory)
    {
        ChatTemplate template;
        try { template = new ChatTemplate(directory.Tokenizer); }
        catch (GptSharpException) { return null; }
        int highest = new[] { template.SystemId, template.UserId, template.AssistantId, template.EndId }.Max();
        return highest < directory.Model.Config.VocabSize ? template : null;
    }

    public async ValueTask DisposeAsync()
    {
        await Scheduler.DisposeAsync();
        Directory.Dispose();
    }
}
