using System.Text.RegularExpressions;
using GptSharp.Cli.Commands;
using GptSharp.Tests.Server;

namespace GptSharp.Tests.Cli.Commands;

/// <summary>`gptsharp serve` end to end in process: it prints the URL and the models, serves, and stops cleanly when cancelled (Ctrl+C).</summary>
[Collection(nameof(ServerCollection))]
public class ServeCommandRunTests(ServerModels models)
{
    [Fact]
    public async Task ServesUntilCancelledThenStops()
    {
        var written = new StringWriter();
        var output = TextWriter.Synchronized(written);
        string Shown() { lock (output) return written.ToString(); } // the synchronized writer locks itself
        var error = TextWriter.Synchronized(new StringWriter());
        using var ctrlC = new CancellationTokenSource();
        var run = CliApp.RunAsync(["serve", "--model", models.La, "--alias", "chat", "--port", "0", "--device", "cpu"], output, error, ctrlC.Token);
        for (int i = 0; i < 600 && !Shown().Contains("ready"); i++)
        {
            Assert.False(run.IsCompleted, $"serve ended early: {error}");
            await Task.Delay(50);
        }
        string shown = Shown();
        Assert.Contains("chat: ", shown);
        Assert.Contains("chat model, context 64", shown);
        string url = Regex.Match(shown, @"http://127\.0\.0\.1:\d+").Value;

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal(200, (int)(await http.GetAsync("/health")).StatusCode);
        // The chat page is announced, and served from the assembly wherever serve runs.
        Assert.Contains($"chat page at {url}/", shown);
        Assert.Contains("<title>GptSharp chat</title>", await http.GetStringAsync("/"));
        ctrlC.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("stopped", Shown());
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync("/health"));
    }
}
