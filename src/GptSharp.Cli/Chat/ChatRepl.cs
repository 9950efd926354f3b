using System.Globalization;
using GptSharp.Chat;
using GptSharp.Chat.Safety;
using GptSharp.Inference;
using Microsoft.Extensions.AI;
using GptSharp.Models;

namespace GptSharp.Cli.Chat;

/// <summary>
/// The read-reply loop behind <c>gptsharp chat</c>: reads lines from a <see cref="TextReader"/> (a terminal or redirected
/// stdin), streams each reply to a <see cref="TextWriter"/>, and understands a few slash commands (see <see cref="Help"/>).
/// <para><see cref="Interrupt"/> is Ctrl+C (the host wires its interrupt signal, e.g. <c>Console.CancelKeyPress</c>, to
/// it): during a reply it stops the reply and the loop goes on at the prompt; at the prompt it leaves, so pressing
/// Ctrl+C twice stops a reply and then leaves. A stopped reply stays in the session's history as far as it was shown
/// (marked " [stopped]" on screen only), so the model's next prompt holds the same conversation the user saw.</para>
/// <para>What a content filter in the session's client does to a reply (<see cref="ContentFilterBlockContent"/>s in the
/// stream) is said on a line of its own after the reply, so the reply's text reads exactly as the filter let it through;
/// a refused message is said before the refusal.</para>
/// </summary>
public sealed class ChatRepl(ChatSession session, TextReader input, TextWriter output)
{
    public const string Help = """
        commands:
          /reset                 forget the conversation
          /system TEXT           set the system prompt (empty: none)
          /prefix TEXT           put TEXT in front of every message (empty: none)
          /set NAME VALUE        temperature, top_k, top_p, max_new_tokens, seed
          /help                  this list
          /exit                  leave (end of input does too)
        Ctrl+C stops a reply; at the prompt it leaves.
        """;

    readonly Lock gate = new();
    readonly List<ContentFilterBlock> replyBlocks = []; // phrases the filter took out of the reply in progress
    CancellationTokenSource? reply;   // the reply in progress
    CancellationTokenSource? leaving; // the loop in progress

    /// <summary>Shown before each user line; empty for none.</summary>
    public string PromptMarker { get; init; } = "> ";

    /// <summary>True while a reply is being generated.</summary>
    public bool Replying { get { lock (gate) return reply is not null; } }

    /// <summary>
    /// An interrupt request (Ctrl+C), from any thread: stops the reply in progress if there is one (generation stops
    /// before its next token), otherwise makes <see cref="RunAsync"/> return, even while it waits for a line.
    /// </summary>
    public ChatInterrupt Interrupt()
    {
        lock (gate)
        {
            if (reply is not null)
            {
                reply.Cancel();
                return ChatInterrupt.StoppedReply;
            }
            leaving?.Cancel();
            return ChatInterrupt.Leaving;
        }
    }

    /// <summary>Runs until /exit, end of input, an <see cref="Interrupt"/> at the prompt, or <paramref name="ct"/>.</summary>
    public async Task RunAsync(CancellationToken ct = default)
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(ct);
        lock (gate) leaving = leave;
        try { await LoopAsync(leave.Token); }
        catch (OperationCanceledException) when (leave.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            await output.WriteLineAsync(); // interrupted at the prompt: end the prompt's line
        }
        finally
        {
            lock (gate) leaving = null;
        }
    }

    async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await output.WriteAsync(PromptMarker);
            await output.FlushAsync(ct);
            // A terminal's ReadLine blocks and ignores cancellation: read on the thread pool so an interrupt can leave without the line.
            string? line = await Task.Run(input.ReadLine, CancellationToken.None).WaitAsync(ct);
            if (line is null) break;
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('/'))
            {
                if (!await CommandAsync(line)) break;
                continue;
            }
            await ReplyAsync(line, ct);
        }
    }

    async Task ReplyAsync(string line, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        lock (gate) reply = cts;
        ChatFinishReason? finish = null;
        try
        {
            await foreach (var update in session.ReplyStreamingAsync(line, cts.Token))
            {
                // A refused message is reported before the refusal; phrases of a reply after it, never between its pieces.
                foreach (var block in update.Contents.OfType<ContentFilterBlockContent>().Select(c => c.Block))
                    if (block.Where == ContentFilterSide.Input) await output.WriteLineAsync($"[message blocked: {block.Category}]");
                    else lock (gate) replyBlocks.Add(block);
                finish = update.FinishReason ?? finish;
                await output.WriteAsync(update.Text);
                await output.FlushAsync(CancellationToken.None);
            }
            await output.WriteLineAsync();
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            await output.WriteLineAsync(" [stopped]");
        }
        catch (GptSharpException e)
        {
            await output.WriteLineAsync($"error: {e.Message}");
        }
        finally
        {
            lock (gate) reply = null;
        }
        await ReportFilteredAsync(stopped: finish == ChatFinishReason.ContentFilter);
    }

    /// <summary>One line after the reply naming what the content filter took out of it, if anything.</summary>
    async Task ReportFilteredAsync(bool stopped)
    {
        ContentFilterBlock[] blocks;
        lock (gate)
        {
            blocks = [.. replyBlocks];
            replyBlocks.Clear();
        }
        if (blocks.Length == 0) return;
        string categories = string.Join(", ", blocks.Select(b => b.Category).Distinct());
        await output.WriteLineAsync(stopped ? $"[reply stopped by the content filter: {categories}]" : $"[masked by the content filter: {categories}]");
    }

    /// <summary>Runs one slash command; false means leave.</summary>
    async Task<bool> CommandAsync(string line)
    {
        int space = line.IndexOf(' ');
        string name = space < 0 ? line : line[..space], arg = space < 0 ? "" : line[(space + 1)..].Trim();
        switch (name)
        {
            case "/exit" or "/quit":
                return false;
            case "/help":
                await output.WriteLineAsync(Help);
                break;
            case "/reset":
                session.Reset();
                await output.WriteLineAsync("[conversation cleared]");
                break;
            case "/system":
                session.Options = session.Options with { SystemPrompt = arg.Length == 0 ? null : arg };
                await output.WriteLineAsync(arg.Length == 0 ? "[no system prompt]" : "[system prompt set]");
                break;
            case "/prefix":
                session.Options = session.Options with { UserPrefix = arg.Length == 0 ? null : arg };
                await output.WriteLineAsync(arg.Length == 0 ? "[no prefix]" : "[prefix set]");
                break;
            case "/set":
                await output.WriteLineAsync(Set(arg));
                break;
            default:
                await output.WriteLineAsync($"unknown command {name}; /help lists them");
                break;
        }
        return true;
    }

    string Set(string arg)
    {
        var parts = arg.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2) return "usage: /set NAME VALUE (temperature, top_k, top_p, max_new_tokens, seed)";
        string key = parts[0].Replace('-', '_').ToLowerInvariant(), value = parts[1];
        var g = session.Options.Generation;
        var inv = CultureInfo.InvariantCulture;
        GenerationOptions? changed = key switch
        {
            "temperature" when double.TryParse(value, inv, out double t) => g with { Temperature = t },
            "top_k" when int.TryParse(value, inv, out int k) => g with { TopK = k },
            "top_p" when double.TryParse(value, inv, out double p) => g with { TopP = p },
            "max_new_tokens" when int.TryParse(value, inv, out int n) => g with { MaxNewTokens = n },
            "seed" when value is "none" or "random" => g with { Seed = null },
            "seed" when long.TryParse(value, inv, out long s) => g with { Seed = s },
            "greedy" when bool.TryParse(value, out bool b) => g with { DoSample = !b },
            _ => null,
        };
        if (changed is null)
            return key is "temperature" or "top_k" or "top_p" or "max_new_tokens" or "seed" or "greedy"
                ? $"error: \"{value}\" is not a valid value for {key}"
                : $"error: unknown setting {parts[0]} (temperature, top_k, top_p, max_new_tokens, seed, greedy)";
        try { changed.Validate(); }
        catch (GptSharpException e) { return $"error: {e.Message}"; }
        session.Options = session.Options with { Generation = changed };
        return $"[{key} = {value}]";
    }
}
