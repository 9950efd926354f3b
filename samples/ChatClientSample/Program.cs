// A chat loop over a local GptSharp model through Microsoft.Extensions.AI's IChatClient.
// Usage: dotnet run --project samples/ChatClientSample -- MODEL_DIR [--max-tokens N] [--temperature T]
// MODEL_DIR is a chat model directory (e.g. the final/ of `gptsharp finetune`, or its `gptsharp quantize` copy).
using GptSharp;
using GptSharp.Chat;
using GptSharp.Checkpoints;
using Microsoft.Extensions.AI;

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("usage: ChatClientSample MODEL_DIR [--max-tokens N] [--temperature T]");
    return args.Length == 0 ? 1 : 0;
}

string dir = args[0];
var options = new ChatOptions
{
    MaxOutputTokens = Option("--max-tokens") is { } n ? int.Parse(n) : 200,
    Temperature = Option("--temperature") is { } t ? float.Parse(t, System.Globalization.CultureInfo.InvariantCulture) : 0.8f,
    TopP = 0.95f,
    StopSequences = ["\nUser:"],
};

try
{
    using IChatClient client = new GptChatClient(ModelDirectory.Load(dir));
    Console.WriteLine($"{client.GetService<ChatClientMetadata>()?.DefaultModelId}: type a message, an empty line quits.");
    List<ChatMessage> history = [new(ChatRole.System, "You are a helpful assistant.")];
    while (Console.ReadLine() is { Length: > 0 } line)
    {
        history.Add(new(ChatRole.User, line));
        var reply = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync(history, options))
        {
            Console.Write(update.Text);
            reply.Add(update);
        }
        var response = reply.ToChatResponse(); // the streamed pieces as one reply, with finish reason and usage
        Console.WriteLine();
        Console.WriteLine($"  [{response.FinishReason}, {response.Usage?.InputTokenCount} prompt + {response.Usage?.OutputTokenCount} reply tokens]");
        history.AddMessages(response);
    }
    return 0;
}
catch (GptSharpException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

string? Option(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
