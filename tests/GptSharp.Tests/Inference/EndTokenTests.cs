using GptSharp.Inference;
using GptSharp.Tests.Cli;
using GptSharp.Tokenization;
using Microsoft.Extensions.AI;
using GptSharp.Chat;
using GptSharp.Checkpoints;

namespace GptSharp.Tests.Inference;

/// <summary>
/// Generation stops at every end token a model directory names (&lt;|endoftext|&gt;, the chat template's &lt;|end|&gt;,
/// generation_config.json's eos_token_id), and replies never show special tokens as text: in chat, the chat client,
/// eval and generate. The models here always say one token, so each reply is exactly what that token does to it.
/// </summary>
public class EndTokenTests
{
    static readonly BpeTokenizer Tokenizer = BpeTokenizer.Gpt2();
    static readonly ChatTemplate Template = new(Tokenizer);
    static readonly int La = Tokenizer.Encode(" la").Single();
    static readonly ChatSessionOptions Greedy = new() { Generation = new() { DoSample = false, MaxNewTokens = 6 } };

    [Fact]
    public async Task AChatReplyEndsAtEndOfText()
    {
        using var model = BiasedModel.AlwaysSays(Template.EndOfTextId);
        using var client = new GptChatClient(model, Tokenizer, "tiny");
        var session = new ChatSession(client, Greedy);
        Assert.Equal("", (await session.ReplyAsync("Hi")).Text);
        Assert.Equal("", session.History[1].Content);
    }

    [Fact]
    public async Task AChatReplyNeverShowsASpecialToken()
    {
        using var model = BiasedModel.AlwaysSays(Template.UserId);
        using var client = new GptChatClient(model, Tokenizer, "tiny");
        Assert.Equal("", (await new ChatSession(client, Greedy).ReplyAsync("Hi")).Text);
    }

    [Fact]
    public async Task ChatEndsAtEveryEndTokenOfTheModelDirectory()
    {
        using var tmp = new Fixture.TempDir();
        string dir = BiasedModel.SaveChatModel(tmp["model"], La, $$"""{"eos_token_id": [50256, {{La}}], "do_sample": false}""");
        using var loaded = ModelDirectory.Load(dir);
        Assert.Equal([50256, La], loaded.EndTokenIds);
        using var engine = new GptChatClient(loaded.Model, loaded.Tokenizer, "model", endTokenIds: loaded.EndTokenIds);
        Assert.Equal("", (await new ChatSession(engine, Greedy).ReplyAsync("Hi")).Text);

        using var client = new GptChatClient(ModelDirectory.Load(dir)); // owns (and disposes) what it is given
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { MaxOutputTokens = 6 });
        Assert.Equal("", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(0, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task TheChatClientNeverShowsASpecialToken()
    {
        using var model = BiasedModel.AlwaysSays(Template.AssistantId);
        using var client = new GptChatClient(model, Tokenizer, "tiny");
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")], new ChatOptions { MaxOutputTokens = 4, Temperature = 0 });
        Assert.Equal("", response.Text);
    }

    [Fact]
    public void EveryEndTokenStopsGenerationAndMinNewTokensHoldsThemAllBack()
    {
        using var model = BiasedModel.AlwaysSays(Template.EndOfTextId);
        var generator = new TextGenerator(model, Tokenizer, Template.EndId);
        Assert.Equal([Template.EndOfTextId, Template.EndId], generator.EndIds.Order());
        var greedy = new GenerationOptions { DoSample = false, MaxNewTokens = 5 };
        var result = generator.Complete([Template.UserId], greedy);
        Assert.Empty(result.Ids);
        Assert.Equal(FinishReason.EndOfText, result.FinishReason);

        var held = generator.Complete([Template.UserId], greedy with { MinNewTokens = 3 });
        Assert.Equal(3, held.Ids.Length);
        Assert.DoesNotContain(held.Ids, generator.EndIds.Contains);
    }

    [Fact]
    public async Task EvalRepliesEndAtEndOfText()
    {
        using var tmp = new Fixture.TempDir();
        string dir = BiasedModel.SaveChatModel(tmp["model"], Template.EndOfTextId);
        File.WriteAllText(tmp["test.jsonl"], """
            {"input": "Where is order 123?", "output": "It has shipped."}
            {"input": "Can I return my mug?", "output": "Yes."}
            """);
        var (code, output, error) = await CliRunner.Run("eval", "--model", dir, "--data", tmp["test.jsonl"], "--max-new-tokens", "6",
            "--device", "cpu", "--output", tmp["report.json"]);
        Assert.True(code == 0, error + output);
        Assert.DoesNotContain("<|", output);
        var report = EvaluationReportJson(tmp["report.json"]);
        Assert.All(report.RootElement.GetProperty("samples").EnumerateArray(), s => Assert.Equal("", s.GetProperty("prediction").GetString()));
    }

    static System.Text.Json.JsonDocument EvaluationReportJson(string path) => System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));

    [Theory]
    [InlineData("end", null)]                    // a chat model's <|end|>
    [InlineData("la", "[50256, LA]")]             // generation_config.json lists a second end token
    [InlineData("la", "LA")]                      // ... or names just one
    [InlineData("user", null)]                    // a special token that ends nothing is still never printed
    public async Task GenerateStopsAtEveryEndTokenAndNeverPrintsSpecialTokens(string says, string? eos)
    {
        using var tmp = new Fixture.TempDir();
        int favourite = says switch { "end" => Template.EndId, "la" => La, _ => Template.UserId };
        string dir = BiasedModel.SaveChatModel(tmp["model"], favourite, eos is null ? null : $$"""{"eos_token_id": {{eos.Replace("LA", La.ToString())}}}""");
        foreach (var beams in new[] { "1", "2" })
        {
            var (code, output, error) = await CliRunner.Run("generate", "--model", dir, "--prompt", "Hi", "--greedy", "--max-new-tokens", "5",
                "--num-beams", beams, "--device", "cpu");
            Assert.True(code == 0, error + output);
            Assert.Equal("Hi" + Environment.NewLine, output);
        }
    }
}
