using GptSharp.Inference;
using GptSharp.Tokenization;
using GptSharp.Chat;

namespace GptSharp.Tests.Chat;

/// <summary>
/// A stand-in for a chat model: the real <see cref="GptChatClient"/> over a <see cref="TextGenerator"/> whose tokens
/// come from a script (everything else — end tokens, UTF-8, stop sequences, finish reasons — is the real thing).
/// Records each prompt and the options it was generated with.
/// </summary>
sealed class ScriptedModel
{
    public static readonly BpeTokenizer Tokenizer = BpeTokenizer.Gpt2();
    public static readonly ChatTemplate Template = new(Tokenizer);

    readonly Func<IReadOnlyList<int>, int, CancellationToken, int?> next;

    /// <param name="next">The token for a prompt at a step (0, 1, …), or null when the reply is over (the model then says &lt;|end|&gt;).</param>
    public ScriptedModel(Func<IReadOnlyList<int>, int, CancellationToken, int?> next) => this.next = next;

    /// <summary>Answers every prompt with <paramref name="ids"/>, then &lt;|end|&gt;.</summary>
    public ScriptedModel(params int[] ids) : this((_, step, _) => step < ids.Length ? ids[step] : null) { }

    public List<int[]> Prompts { get; } = [];
    public List<GenerationOptions> Options { get; } = [];
    public string LastPrompt => Tokenizer.Decode(Prompts[^1]);

    public TextGenerator Generator(int context = 256) => new(Tokenizer, Template.EndId, context, (tokens, step, options, ct) =>
    {
        if (step == 0)
        {
            Prompts.Add([.. tokens]);
            Options.Add(options);
        }
        return next(tokens.Take(tokens.Count - step).ToArray(), step, ct) ?? Template.EndId;
    });

    public GptChatClient Client(int context = 256) => new(Generator(context), Tokenizer, "script");
}
