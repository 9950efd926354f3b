namespace GptSharp.Tests.Server.Routes;

/// <summary>A base model (no chat template) serves text completions.</summary>
[Collection(nameof(ServerCollection))]
public class CompletionsBaseModelTests(ServerModels models)
{
    [Fact]
    public async Task ABaseModelCompletesText()
    {
        var body = await (await models.Shared.Client().PostAsync("/v1/completions", """{"model": "base", "prompt": "Where is order", "max_tokens": 3, "seed": 1}""")).BodyAsync();
        Assert.Equal("base", (string?)body["model"]);
        int completion = (int)body["usage"]!["completion_tokens"]!;
        Assert.InRange(completion, 0, 3);
        Assert.Equal(completion == 3 ? "length" : "stop", (string?)body["choices"]![0]!["finish_reason"]);
    }
}
