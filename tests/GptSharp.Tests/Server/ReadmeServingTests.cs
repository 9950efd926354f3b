using System.ClientModel;
using System.Text;
using System.Text.RegularExpressions;
using GptSharp.Server;
using GptSharp.Server.Hosting;
using GptSharp.Tests.Cli;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;

namespace GptSharp.Tests.Server;

/// <summary>
/// README.md's Serving section works as written, against the server it starts (a chat model aliased "support", key
/// sk-local), on a real socket: the curl request is sent as the README spells it, and the C# client block below is the
/// README's, word for word (Samples/ReadmeCodeTests checks that).
/// </summary>
[Collection(nameof(ServerCollection))]
public class ReadmeServingTests(ServerModels models)
{
    [Fact]
    public async Task TheCurlRequestAndTheClientCodeWork()
    {
        await using var app = GptServer.Build(models.Options() with { Models = [new(models.La, "support")], ApiKeys = ["sk-local"], Port = 0 });
        await app.StartAsync();
        await app.Services.GetRequiredService<ModelRegistry>().Ready.WaitAsync(TimeSpan.FromSeconds(60));
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        string readme = File.ReadAllText(Path.Combine(ReadmeCommandsTests.RepoRoot, "README.md"));
        string curl = readme.Split('\n').Single(l => l.StartsWith("curl ", StringComparison.Ordinal));
        using var request = new HttpRequestMessage(HttpMethod.Post, Regex.Match(curl, @"http://\S+").Value.Replace("http://127.0.0.1:8080", url))
        {
            Content = new StringContent(Regex.Match(curl, "-d '([^']*)'").Groups[1].Value, Encoding.UTF8, "application/json"),
        };
        foreach (Match h in Regex.Matches(curl, "-H \"Authorization: ([^\"]*)\"")) request.Headers.TryAddWithoutValidation("Authorization", h.Groups[1].Value);
        using var http = new HttpClient();
        var response = await http.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        var events = Sse.Json(await response.Content.ReadAsStringAsync());
        Assert.Equal("support", (string?)events[0]["model"]);

        var client = new ChatClient("support", new ApiKeyCredential("sk-local"), new OpenAIClientOptions { Endpoint = new Uri(url + "/v1") });
        ChatCompletion reply = await client.CompleteChatAsync([new UserChatMessage("Where is my order 12345?")]);
        IChatClient chat = client.AsIChatClient();
        ChatResponse answer = await chat.GetResponseAsync("Where is my order 12345?");

        Assert.StartsWith(" la la", reply.Content[0].Text);
        Assert.StartsWith(" la la", answer.Text);
        await app.StopAsync();
    }
}
