using System.CommandLine;
using GptSharp.Inference;
using GptSharp.Chat;
using GptSharp.Chat.Safety;
using GptSharp.Checkpoints;
using GptSharp.Cli.Chat;
using GptSharp.Native;
using Microsoft.Extensions.AI;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp chat`: talk with a chat model, one line per message, replies streamed as they are generated.</summary>
static class ChatCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory of a chat model (fine-tuned with the role tokens).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var precision = PrecisionOption.Create();
        var engineOption = PrecisionOption.CreateEngine();
        var system = new Option<string?>("--system") { Description = "System prompt, sent first in every prompt." };
        var prefix = new Option<string?>("--prefix") { Description = "Text put in front of every message, e.g. \"写一首浪漫的诗：\"." };
        var filter = new Option<string>("--filter") { Description = "Content filter rules (JSON), \"default\" for the built-in list, or \"none\".", DefaultValueFactory = _ => "default" };
        var filterAction = new Option<string?>("--filter-action") { Description = "What a banned phrase in a reply does: stop or mask (default: the rules file's output_action)." };
        var maxNewTokens = new Option<int?>("--max-new-tokens") { Description = "The most tokens per reply (default: the model's generation_config.json, else 100)." };
        var temperature = new Option<double?>("--temperature") { Description = "Sampling temperature; 0 means greedy (default: the model's generation_config.json, else 1)." };
        var topK = new Option<int?>("--top-k") { Description = "Sample among the k most likely tokens; 0 turns it off (default: the model's generation_config.json, else 50)." };
        var topP = new Option<double?>("--top-p") { Description = "Nucleus sampling threshold; 1 turns it off (default: the model's generation_config.json, else 1)." };
        var seed = new Option<long?>("--seed") { Description = "Random seed, for repeatable replies." };

        var cmd = new Command("chat", "Chat with a model: type a message per line; /help lists the commands, Ctrl+C stops a reply.")
            { model, device, precision, engineOption, system, prefix, filter, filterAction, maxNewTokens, temperature, topK, topP, seed };
        // A synchronous action on purpose: System.CommandLine turns Ctrl+C into cancelling an async action's token
        // (ending the whole command), while here Ctrl+C must only stop the reply in progress.
        cmd.SetAction(p =>
        {
            string dir = p.GetValue(model)!;
            var generation = GenerationConfigFile.Read(dir).Override(new GenerationOverrides
            {
                MaxNewTokens = p.GetValue(maxNewTokens), Temperature = p.GetValue(temperature), TopK = p.GetValue(topK), TopP = p.GetValue(topP),
                Seed = p.GetValue(seed),
            });
            var inference = PrecisionOption.Get(p, precision);
            var decodingEngine = PrecisionOption.GetEngine(p, engineOption);
            var rules = LoadFilter(p.GetValue(filter)!, p.GetValue(filterAction));
            var options = new ChatSessionOptions { SystemPrompt = p.GetValue(system), UserPrefix = p.GetValue(prefix), Generation = generation };

            using var loaded = ModelDirectory.Load(dir, new LoadOptions { Device = Devices.Parse(p.GetValue(device)), Precision = inference, Engine = decodingEngine });
            // The engine would dispose what it is given; the using above does that already.
            var engine = new GptChatClient(loaded);
            var builder = new ChatClientBuilder(engine);
            if (rules is not null) builder.UseContentFilter(rules);
            var session = new ChatSession(builder.Build(), options);
            var output = p.InvocationConfiguration.Output;
            var repl = new ChatRepl(session, Console.In, output) { PromptMarker = Console.IsInputRedirected ? "" : "> " };
            if (!Console.IsInputRedirected) output.WriteLine("Type a message; /help lists the commands, /exit leaves.");
            // Ctrl+C during a reply stops it (the process goes on); at the prompt the REPL leaves and Ctrl+C ends the process as usual.
            ConsoleCancelEventHandler onCtrlC = (_, e) => e.Cancel = repl.Interrupt() == ChatInterrupt.StoppedReply;
            Console.CancelKeyPress += onCtrlC;
            try { repl.RunAsync().GetAwaiter().GetResult(); }
            finally { Console.CancelKeyPress -= onCtrlC; }
            return 0;
        });
        return cmd;
    }

    static ContentFilter? LoadFilter(string rules, string? action)
    {
        var filter = rules switch
        {
            "none" => null,
            "default" => ContentFilter.Default,
            _ => ContentFilter.Load(rules),
        };
        return action is null || filter is null ? filter : filter.WithOutputAction(ContentFilter.ParseAction(action, "--filter-action"));
    }
}
