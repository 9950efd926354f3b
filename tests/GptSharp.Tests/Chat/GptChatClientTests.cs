using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using Microsoft.Extensions.AI;
using GptSharp.Chat;
using GptSharp.Checkpoints;
using GptSharp.Chat.Safety;

namespace GptSharp.Tests.Chat;

public sealed class GptChatClientTests : IDisposable
{
    // GPT-2's vocabulary plus the four role tokens (50257..50260), one tiny random layer.
    readonly Gpt _model = new(new GptConfig { VocabSize = 50261, BlockSize = 64, NLayer = 1, NHead = 2, NEmbd = 32 }, seed: 7);
    readonly BpeTokenizer _tokenizer = BpeTokenizer.Gpt2();
    readonly GptChatClient _client;

    public GptChatClientTests() => _client = new GptChatClient(_model, _tokenizer, "tiny");

    public void Dispose()
    {
        _client.Dispose();
        _model.Dispose();
    }

    static readonly ChatMessage[] Conversation =
    [
        new(ChatRole.System, "You are terse."),
        new(ChatRole.User, "Hello there, how are you?"),
    ];

    static ChatOptions Options(long seed, int max = 12) => new() { Seed = seed, MaxOutputTokens = max, Temperature = 0.9f, TopK = 40, TopP = 0.95f };

    static async Task<(string Text, List<ChatResponseUpdate> Updates)> Stream(IChatClient client, ChatOptions options)
    {
        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync(Conversation, options)) updates.Add(u);
        return (string.Concat(updates.Select(u => u.Text)), updates);
    }

    [Fact]
    public async Task ResponseIsTheDecodedGeneratorOutput()
    {
        var template = new ChatTemplate(_tokenizer);
        int[] prompt = template.RenderPrompt([new ChatTurn(TurnRole.System, "You are terse."), new ChatTurn(TurnRole.User, "Hello there, how are you?")]);
        int[] ids = new TextGenerator(_model, _tokenizer, template.EndId).Generate(prompt,
            new GenerationOptions { Seed = 3, MaxNewTokens = 12, Temperature = 0.9, TopK = 40, TopP = 0.95 });
        int eot = Array.IndexOf(ids, template.EndOfTextId);
        if (eot >= 0) ids = ids[..eot];

        var response = await _client.GetResponseAsync(Conversation, Options(3));

        Assert.Equal(_tokenizer.DecodeText(ids), response.Text); // a reply's text leaves special tokens out
        Assert.Equal(ChatRole.Assistant, response.Messages.Single().Role);
        Assert.Equal("tiny", response.ModelId);
        Assert.Equal(prompt.Length, response.Usage!.InputTokenCount);
        Assert.Equal(ids.Length, response.Usage.OutputTokenCount);
        Assert.Equal(prompt.Length + ids.Length, response.Usage.TotalTokenCount);
        Assert.Equal(ids.Length == 12 ? ChatFinishReason.Length : ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task StreamingConcatenationEqualsTheResponse()
    {
        var response = await _client.GetResponseAsync(Conversation, Options(11, max: 20));
        var (text, updates) = await Stream(_client, Options(11, max: 20));

        Assert.Equal(response.Text, text);
        Assert.True(updates.Count > 2, "text should arrive in several pieces");
        Assert.All(updates, u => Assert.Equal(ChatRole.Assistant, u.Role));
        Assert.Equal(response.FinishReason, updates[^1].FinishReason);
        Assert.Equal(response.Usage!.OutputTokenCount, updates[^1].Contents.OfType<UsageContent>().Single().Details.OutputTokenCount);
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
    }

    [Fact]
    public async Task MaxOutputTokensIsRespected()
    {
        var response = await _client.GetResponseAsync(Conversation, Options(5, max: 4));
        Assert.Equal(4, response.Usage!.OutputTokenCount); // a random model does not pick <|end|> within 4 tokens
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
    }

    [Fact]
    public async Task SameSeedSameReplyAndAnotherSeedDiffers()
    {
        var a = await _client.GetResponseAsync(Conversation, Options(21));
        var b = await _client.GetResponseAsync(Conversation, Options(21));
        var c = await _client.GetResponseAsync(Conversation, Options(22));
        Assert.Equal(a.Text, b.Text);
        Assert.NotEqual(a.Text, c.Text);
    }

    [Fact]
    public async Task TextIsCutAtTheFirstStopSequence()
    {
        string full = (await _client.GetResponseAsync(Conversation, Options(9, max: 20))).Text;
        Assert.True(full.Length > 12, full);
        string stop = full.Substring(6, 3);
        string expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];
        var options = Options(9, max: 20);
        options.StopSequences = ["no such text at all", stop];

        var response = await _client.GetResponseAsync(Conversation, options);
        var (streamed, _) = await Stream(_client, options);

        Assert.Equal(expected, response.Text);
        Assert.Equal(expected, streamed);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.True(response.Usage!.OutputTokenCount < 20);
    }

    [Fact]
    public async Task GreedyWhenTemperatureIsZero()
    {
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 8 };
        var a = await _client.GetResponseAsync(Conversation, options);
        var b = await _client.GetResponseAsync(Conversation, options);
        Assert.Equal(a.Text, b.Text);
    }

    [Fact]
    public async Task ToolRoleIsRejected()
    {
        var e = await Assert.ThrowsAsync<GptSharpException>(() =>
            _client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi"), new ChatMessage(ChatRole.Tool, "42")]));
        Assert.Contains("message 1 has role 'tool'", e.Message);
    }

    [Fact]
    public async Task CancellationStopsGeneration()
    {
        using var cts = new CancellationTokenSource();
        int pieces = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in _client.GetStreamingResponseAsync(Conversation, Options(1, max: 30), cts.Token))
                if (++pieces == 2) cts.Cancel();
        });
        // The client is usable again afterwards (the gate was released).
        Assert.NotNull(await _client.GetResponseAsync(Conversation, Options(1, max: 2)));
    }

    [Fact]
    public void MetadataNamesTheModel()
    {
        var meta = _client.GetService<ChatClientMetadata>();
        Assert.Equal("tiny", meta!.DefaultModelId);
        Assert.Equal("GptSharp", meta.ProviderName);
        Assert.Same(_client, _client.GetService<GptChatClient>());
    }

    [Fact]
    public void ModelWithoutRoleTokenEmbeddingsIsRejected()
    {
        using var plain = new Gpt(new GptConfig { VocabSize = 50257, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 });
        var e = Assert.Throws<GptSharpException>(() => new GptChatClient(plain, _tokenizer, "plain"));
        Assert.Contains("fine-tune it for chat", e.Message);
    }

    [Fact]
    public async Task LoadsFromAModelDirectoryAndNamesItAfterTheFolder()
    {
        using var tmp = new Fixture.TempDir();
        string dir = tmp["my-chat-model"];
        new ModelDirectory(_model, _tokenizer).Save(dir);
        using IChatClient client = new GptChatClient(ModelDirectory.Load(dir));
        var response = await client.GetResponseAsync(Conversation, Options(3, max: 5));
        Assert.Equal("my-chat-model", response.ModelId);
        Assert.Equal((await _client.GetResponseAsync(Conversation, Options(3, max: 5))).Text, response.Text);
    }

    [Fact]
    public async Task RawGenerationOptionsAreTheSettingsAndChatOptionsGoOverThem()
    {
        var template = new ChatTemplate(_tokenizer);
        int[] prompt = template.RenderPrompt([new ChatTurn(TurnRole.System, "You are terse."), new ChatTurn(TurnRole.User, "Hello there, how are you?")]);
        var raw = new GenerationOptions { Seed = 3, MaxNewTokens = 6, MinNewTokens = 6, Temperature = 0.9, TopK = 40, TopP = 0.95, RepetitionPenalty = 1.3 };
        var expected = new TextGenerator(_model, _tokenizer, template.EndId).Complete(prompt, raw);

        var response = await _client.GetResponseAsync(Conversation, new ChatOptions { RawRepresentationFactory = _ => raw });
        Assert.Equal(expected.Text, response.Text);
        Assert.Equal(6, response.Usage!.OutputTokenCount);

        var shorter = await _client.GetResponseAsync(Conversation, new ChatOptions { RawRepresentationFactory = _ => raw with { MinNewTokens = 2 }, MaxOutputTokens = 2 });
        Assert.Equal(2, shorter.Usage!.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Length, shorter.FinishReason);
    }

    [Fact]
    public async Task EachUpdateCarriesItsTextDelta()
    {
        var (text, updates) = await Stream(_client, Options(11, max: 20));
        var deltas = updates.Select(u => Assert.IsType<TextDelta>(u.RawRepresentation)).ToList();
        Assert.Equal(text, string.Concat(deltas.Select(d => d.Text)));
        Assert.Equal(updates[^1].Contents.OfType<UsageContent>().Single().Details.OutputTokenCount, deltas.Sum(d => d.Ids.Count));
        Assert.Equal(GptChatClient.ToChatFinishReason(deltas[^1].FinishReason!.Value), updates[^1].FinishReason);
    }

    [Theory]
    [InlineData(FinishReason.EndOfText, "stop")]
    [InlineData(FinishReason.StopSequence, "stop")]
    [InlineData(FinishReason.Length, "length")]
    [InlineData(FinishReason.ContextFull, "length")]
    [InlineData(FinishReason.ContentFilter, "content_filter")]
    public void FinishReasonsMapToTheChatOnes(FinishReason reason, string chat) =>
        Assert.Equal(new ChatFinishReason(chat), GptChatClient.ToChatFinishReason(reason));
}
