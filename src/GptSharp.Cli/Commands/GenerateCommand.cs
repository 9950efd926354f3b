using System.CommandLine;
using GptSharp.Inference;
using GptSharp.Interop;
using GptSharp.Models;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp generate`: continue a prompt with a model directory's model and tokenizer, printing tokens as they come.</summary>
static class GenerateCommand
{
    public static Command Create()
    {
        var defaults = new GenerationOptions();
        var model = new Option<string>("--model") { Description = "Model directory: config.json, model.safetensors and tokenizer files (GPT-2's vocabulary when it has none).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var prompt = new Option<string>("--prompt") { Description = "Text to continue; empty starts a new document.", DefaultValueFactory = _ => "" };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "The most tokens to generate (default: the model's generation_config.json, else 100).", DefaultValueFactory = _ => defaults.MaxNewTokens };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature; 0 means greedy.", DefaultValueFactory = _ => defaults.Temperature };
        var topK = new Option<int>("--top-k") { Description = "Sample among the k most likely tokens; 0 turns it off.", DefaultValueFactory = _ => defaults.TopK };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling: the smallest set of tokens with this much probability; 1 turns it off.", DefaultValueFactory = _ => defaults.TopP };
        var seed = new Option<long?>("--seed") { Description = "Random seed, for repeatable output." };
        var greedy = new Option<bool>("--greedy") { Description = "Always take the most likely token (no sampling)." };

        var cmd = new Command("generate", "Continue a prompt with a trained model.")
            { model, device, prompt, maxNewTokens, temperature, topK, topP, seed, greedy };
        cmd.SetAction(async (p, ct) =>
        {
            // Check the options before the (slow) model load. Options not given come from the model's generation_config.json.
            string dir = p.GetValue(model)!;
            var fromModel = GenerationConfigFile.Read(dir);
            T Given<T>(Option<T> o, T fallback) => p.GetResult(o) is { Implicit: false } ? p.GetValue(o)! : fallback;
            var options = (fromModel with
            {
                MaxNewTokens = Given(maxNewTokens, fromModel.MaxNewTokens), Temperature = Given(temperature, fromModel.Temperature),
                TopK = Given(topK, fromModel.TopK), TopP = Given(topP, fromModel.TopP), Seed = p.GetValue(seed),
                DoSample = p.GetValue(greedy) ? false : fromModel.DoSample,
            }).Validate();
            using var loaded = ModelDirectory.Load(dir, Devices.Parse(p.GetValue(device)));
            var tokenizer = loaded.Tokenizer;
            var generator = new TextGenerator(loaded.Model, tokenizer.EndOfTextId);

            string text = p.GetValue(prompt) ?? "";
            var tokens = generator.StreamAsync(tokenizer.Encode(text), options, ct); // checks the prompt's length now
            var output = p.InvocationConfiguration.Output;
            await output.WriteAsync(text);
            await output.FlushAsync(ct);
            // A token can end inside a UTF-8 character: the stream decoder holds such bytes back until it is complete.
            var continuation = tokenizer.CreateStreamDecoder();
            await foreach (int id in tokens)
            {
                await output.WriteAsync(continuation.Append(id));
                await output.FlushAsync(ct);
            }
            await output.WriteLineAsync(continuation.Flush());
            return 0;
        });
        return cmd;
    }
}
