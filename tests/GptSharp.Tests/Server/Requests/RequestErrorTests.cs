namespace GptSharp.Tests.Server.Requests;

/// <summary>Every refusal is OpenAI's error shape with a status, a code and the field it is about.</summary>
[Collection(nameof(ServerCollection))]
public class RequestErrorTests(ServerModels models)
{
    const string Hi = """[{"role": "user", "content": "hi"}]""";

    [Theory]
    [InlineData("""{"model": "la", "messages": """, "invalid_json", null)]
    [InlineData("""[1, 2]""", "invalid_json", null)]
    [InlineData("""{"messages": HI}""", "missing_required_parameter", "model")]
    [InlineData("""{"model": "la"}""", "missing_required_parameter", "messages")]
    [InlineData("""{"model": "la", "messages": []}""", "invalid_value", "messages")]
    [InlineData("""{"model": "la", "messages": "hi"}""", "invalid_type", "messages")]
    [InlineData("""{"model": "la", "messages": [{"role": "tool", "content": "x"}]}""", "invalid_value", "messages[0].role")]
    [InlineData("""{"model": "la", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}""", "invalid_value", "messages[0].content[0].type")]
    [InlineData("""{"model": "la", "messages": [{"role": "user"}]}""", "missing_required_parameter", "messages[0].content")]
    [InlineData("""{"model": "la", "messages": HI, "temperature": 3}""", "invalid_value", "temperature")]
    [InlineData("""{"model": "la", "messages": HI, "temperature": "hot"}""", "invalid_type", "temperature")]
    [InlineData("""{"model": "la", "messages": HI, "top_p": 1.5}""", "invalid_value", "top_p")]
    [InlineData("""{"model": "la", "messages": HI, "n": 0}""", "invalid_value", "n")]
    [InlineData("""{"model": "la", "messages": HI, "max_tokens": 0}""", "invalid_value", "max_tokens")]
    [InlineData("""{"model": "la", "messages": HI, "max_completion_tokens": 100000}""", "invalid_value", "max_completion_tokens")]
    [InlineData("""{"model": "la", "messages": HI, "stop": ["a", "b", "c", "d", "e"]}""", "invalid_value", "stop")]
    [InlineData("""{"model": "la", "messages": HI, "stop": 5}""", "invalid_type", "stop")]
    [InlineData("""{"model": "la", "messages": HI, "seed": 1.5}""", "invalid_type", "seed")]
    [InlineData("""{"model": "la", "messages": HI, "stream": "yes"}""", "invalid_type", "stream")]
    [InlineData("""{"model": "la", "messages": HI, "stream_options": {"include_usage": true}}""", "invalid_value", "stream_options")]
    [InlineData("""{"model": "la", "messages": HI, "tools": [{"type": "function", "function": {"name": "f"}}]}""", "unsupported_parameter", "tools")]
    [InlineData("""{"model": "la", "messages": HI, "response_format": {"type": "json_object"}}""", "unsupported_parameter", "response_format")]
    [InlineData("""{"model": "la", "messages": HI, "logprobs": 2}""", "invalid_type", "logprobs")]
    [InlineData("""{"model": "la", "messages": HI, "top_logprobs": 2}""", "invalid_value", "top_logprobs")]
    [InlineData("""{"model": "la", "messages": HI, "logprobs": true, "top_logprobs": 21}""", "invalid_value", "top_logprobs")]
    [InlineData("""{"model": "la", "messages": HI, "frequency_penalty": 3}""", "invalid_value", "frequency_penalty")]
    [InlineData("""{"model": "la", "messages": HI, "repetition_penalty": 0}""", "invalid_value", "repetition_penalty")]
    [InlineData("""{"model": "la", "messages": HI, "logit_bias": {"x": 1}}""", "invalid_value", "logit_bias")]
    [InlineData("""{"model": "la", "messages": HI, "logit_bias": {"7": 101}}""", "invalid_value", "logit_bias")]
    [InlineData("""{"model": "la", "messages": HI, "logit_bias": {"99999999": 1}}""", "invalid_value", "logit_bias")]
    [InlineData("""{"model": "la", "messages": HI, "min_p": 2}""", "invalid_value", "min_p")]
    [InlineData("""{"model": "la", "messages": HI, "max_tokens": 61}""", "context_length_exceeded", "messages")]
    public async Task ABadChatRequestIs400NamingTheField(string body, string code, string? param)
    {
        var response = await models.Shared.Client().PostAsync("/v1/chat/completions", body.Replace("HI", Hi));
        await response.ErrorAsync(400, code, param);
    }

    [Fact]
    public async Task NeutralValuesAndUnknownFieldsAreAccepted()
    {
        var response = await models.Shared.Client().PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, "presence_penalty": 0, "frequency_penalty": 0, "logit_bias": {}, "logprobs": false, "top_logprobs": 0, "user": "u1", "tool_choice": "none", "response_format": {"type": "text"}, "mystery": [1]}""");
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task LimitsOnMessagesLengthsAndBodySize()
    {
        var http = models.Shared.Client();
        string nine = "[" + string.Join(",", Enumerable.Repeat("""{"role": "user", "content": "hi"}""", 9)) + "]";
        await (await http.PostAsync("/v1/chat/completions", $$"""{"model": "la", "messages": {{nine}}}""")).ErrorAsync(400, "invalid_value", "messages");
        string longText = new('a', 2001);
        await (await http.PostAsync("/v1/chat/completions", $$"""{"model": "la", "messages": [{"role": "user", "content": "{{longText}}"}]}"""))
            .ErrorAsync(400, "invalid_value", "messages[0].content");
        string huge = new('a', 20_000);
        await (await http.PostAsync("/v1/chat/completions", $$"""{"model": "la", "messages": [{"role": "user", "content": "{{huge}}"}]}"""))
            .ErrorAsync(413, "request_too_large");
        // A prompt longer than the 64-token context.
        string words = string.Join(" ", Enumerable.Repeat("word", 80));
        await (await http.PostAsync("/v1/completions", $$"""{"model": "la", "prompt": "{{words}}"}""")).ErrorAsync(400, "context_length_exceeded", "prompt");
    }

    [Fact]
    public async Task AnUnknownRouteOrAWrongMethodIsAnOpenAiError()
    {
        await (await models.Shared.Client().GetAsync("/v1/engines")).ErrorAsync(404, "unknown_route");
        await (await models.Shared.Client().GetAsync("/v1/chat/completions")).ErrorAsync(405, "method_not_allowed");
    }
}
