using GptSharp.Server.Options;
using GptSharp.Tests.Inference;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Server;

/// <summary>
/// Tiny chat model directories for the server tests (1 layer, 32 wide, GPT-2's tokenizer with the role tokens), each
/// always saying one token: "la" says " la", "rude" says " idiot" (which the default filter stops), "ender" says
/// &lt;|end|&gt; at once; "base" is a random base model, "small" has
/// its own tokenizer. Plus one server over all of them, shared by the tests that need no settings of their own.
/// </summary>
public sealed class ServerModels : IAsyncLifetime
{
    public static readonly BpeTokenizer Gpt2 = BpeTokenizer.Gpt2();
    public static readonly ChatTemplate Template = new(Gpt2);
    readonly Fixture.TempDir _tmp = new();

    public string La { get; private set; } = "";
    public string Rude { get; private set; } = "";
    public string Ender { get; private set; } = "";
    /// <summary>A base model: GPT-2's vocabulary without the role tokens (a Hugging Face download, no tokenizer files).</summary>
    public string Base { get; } = Fixture.Path("gpt2-tiny-hf");
    /// <summary>A model with a small tokenizer of its own.</summary>
    public string Small { get; private set; } = "";
    internal TestHost Shared { get; private set; } = null!;

    /// <summary>Small limits, so the limit tests need small bodies.</summary>
    public ServerOptions Options() => new()
    {
        Models = [new(La, "la"), new(Rude, "rude"), new(Ender, "ender"), new(Base, "base"), new(Small, "small")],
        MaxMessages = 8, MaxMessageChars = 2000, MaxRequestBytes = 16 * 1024, MaxTokensLimit = 256,
    };

    public async Task InitializeAsync()
    {
        La = BiasedModel.SaveChatModel(_tmp["la"], Gpt2.Encode(" la").Single());
        Rude = BiasedModel.SaveChatModel(_tmp["rude"], Gpt2.Encode(" idiot").Single());
        Ender = BiasedModel.SaveChatModel(_tmp["ender"], Template.EndId);
        Small = Cli.Commands.FinetuneEvalCommandTests.TinyModel(_tmp);
        Shared = await TestHost.StartAsync(Options());
    }

    public async Task DisposeAsync()
    {
        await Shared.DisposeAsync();
        _tmp.Dispose();
    }

    /// <summary>The prompt length of one user message, as the chat template renders it.</summary>
    public static int PromptTokens(string user) => Template.RenderPrompt([new ChatTurn(TurnRole.User, user)]).Length;
}

[CollectionDefinition(nameof(ServerCollection))]
public class ServerCollection : ICollectionFixture<ServerModels>;
