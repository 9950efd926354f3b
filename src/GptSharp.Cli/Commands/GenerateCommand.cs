using System.CommandLine;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Checkpoints;
using GptSharp.Native;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp generate`: continue a prompt with a model directory's model and tokenizer, printing tokens as they come.</summary>
static class GenerateCommand
{
    // Options not given come from the model's generation_config.json, so help must not show a fixed default.
    static string FromModel(object fallback) =>
        $"default: the model's generation_config.json, else {string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}", fallback)}";

    public static Command Create()
    {
        var defaults = new GenerationOptions();
        var model = new Option<string>("--model") { Description = "Model directory: config.json, model.safetensors and tokenizer files (GPT-2's vocabulary when it has none).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var precision = PrecisionOption.Create();
        var prompt = new Option<string>("--prompt") { Description = "Text to continue; empty starts a new document.", DefaultValueFactory = _ => "" };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = $"The most tokens to generate ({FromModel(defaults.MaxNewTokens)})." };
        var temperature = new Option<double>("--temperature") { Description = $"Sampling temperature; 0 means greedy ({FromModel(defaults.Temperature)})." };
        var topK = new Option<int>("--top-k") { Description = $"Sample among the k most likely tokens; 0 turns it off ({FromModel(defaults.TopK)})." };
        var topP = new Option<double>("--top-p") { Description = $"Nucleus sampling: the smallest set of tokens with this much probability; 1 turns it off ({FromModel(defaults.TopP)})." };
        var seed = new Option<long?>("--seed") { Description = "Random seed, for repeatable output." };
        var greedy = new Option<bool>("--greedy") { Description = "Always take the most likely token (no sampling; default: sampling unless the model's generation_config.json says do_sample false)." };
        var minNewTokens = new Option<int>("--min-new-tokens") { Description = $"Do not stop at end-of-text before this many tokens ({FromModel(defaults.MinNewTokens)})." };
        var repetitionPenalty = new Option<double>("--repetition-penalty") { Description = $"Penalise tokens already present (> 1 discourages repeats; 1 is off) ({FromModel(defaults.RepetitionPenalty)})." };
        var noRepeatNgram = new Option<int>("--no-repeat-ngram-size") { Description = $"Never repeat an n-gram of this size (0 is off) ({FromModel(defaults.NoRepeatNgramSize)})." };
        var stop = new Option<string[]>("--stop") { Description = "Stop when the text contains this (repeatable); the output is cut before it.", DefaultValueFactory = _ => [] };
        var beams = new Option<int>("--num-beams") { Description = $"Beam search with this many beams (1 is off; {FromModel(defaults.NumBeams)}). Deterministic: turns sampling off, and cannot be combined with --temperature, --top-k or --top-p." };
        var returns = new Option<int>("--num-return-sequences") { Description = "With beam search: print this many best beams.", DefaultValueFactory = _ => 1 };
        var lengthPenalty = new Option<double>("--length-penalty") { Description = $"Beam score = log-probability / length^this ({FromModel(defaults.LengthPenalty)})." };
        var promptOverflow = new Option<string>("--prompt-overflow")
        {
            Description = "A prompt that leaves too little of the model's context: error, or trim its oldest tokens to leave room for " +
                          "--max-new-tokens (keeping at least half the context).",
            DefaultValueFactory = _ => "error",
        };
        promptOverflow.AcceptOnlyFromAmong("error", "trim");

        var cmd = new Command("generate", "Continue a prompt with a trained model.")
            { model, device, precision, prompt, maxNewTokens, temperature, topK, topP, seed, greedy, minNewTokens, repetitionPenalty, noRepeatNgram, stop,
              beams, returns, lengthPenalty, promptOverflow };
        cmd.SetAction(async (p, ct) =>
        {
            // Check the options before the (slow) model load. Options not given come from the model's generation_config.json.
            string dir = p.GetValue(model)!;
            var fromModel = GenerationConfigFile.Read(dir);
            T Given<T>(Option<T> o, T fallback) => p.GetResult(o) is { Implicit: false } ? p.GetValue(o)! : fallback;
            // Beam search does not sample: asking for beams turns sampling off, unless sampling options are asked for too (then Validate says why not).
            bool beamSearch = Given(beams, fromModel.NumBeams) > 1;
            bool samplingAsked = new Option[] { temperature, topK, topP }.Any(o => p.GetResult(o) is { Implicit: false });
            var options = (fromModel with
            {
                MaxNewTokens = Given(maxNewTokens, fromModel.MaxNewTokens), Temperature = Given(temperature, fromModel.Temperature),
                TopK = Given(topK, fromModel.TopK), TopP = Given(topP, fromModel.TopP), Seed = p.GetValue(seed),
                DoSample = p.GetValue(greedy) ? false : beamSearch ? samplingAsked : fromModel.DoSample,
                MinNewTokens = Given(minNewTokens, fromModel.MinNewTokens), RepetitionPenalty = Given(repetitionPenalty, fromModel.RepetitionPenalty),
                NoRepeatNgramSize = Given(noRepeatNgram, fromModel.NoRepeatNgramSize), StopSequences = p.GetValue(stop) ?? [],
                NumBeams = Given(beams, fromModel.NumBeams), NumReturnSequences = p.GetValue(returns), LengthPenalty = Given(lengthPenalty, fromModel.LengthPenalty),
                PromptOverflow = p.GetValue(promptOverflow) == "trim" ? PromptOverflow.TrimStart : PromptOverflow.Error,
            }).Validate();
            var inference = PrecisionOption.Get(p, precision);
            using var loaded = ModelDirectory.Load(dir, new LoadOptions { Device = Devices.Parse(p.GetValue(device)), Precision = inference });
            var tokenizer = loaded.Tokenizer;
            // Ends at every end token the directory names; special tokens are never printed.
            var generator = new TextGenerator(loaded.Model, tokenizer, tokenizer.EndOfTextId, loaded.EndTokenIds);

            string text = p.GetValue(prompt) ?? "";
            int[] promptIds = tokenizer.Encode(text);
            int kept = options.PromptTokensKept(promptIds.Length, loaded.Model.Config.BlockSize);
            if (kept < promptIds.Length)
                p.InvocationConfiguration.Error.WriteLine($"note: the prompt has {promptIds.Length} tokens; generating from its last {kept} (--prompt-overflow trim)");
            if (options.NumBeams > 1)
            {
                // Beam search knows its best sequences only at the end.
                foreach (var r in generator.GenerateBeams(promptIds, options, ct))
                    p.InvocationConfiguration.Output.WriteLine(text + r.Text);
                return 0;
            }
            // Stop sequences are cut here, on the text (the generator's own check would end the stream before the token
            // that completes one, leaving the held-back start of it unresolved); breaking out frees the cache.
            var tokens = generator.StreamAsync(promptIds, options with { StopSequences = [] }, ct); // checks the prompt's length now
            var output = p.InvocationConfiguration.Output;
            await output.WriteAsync(text);
            await output.FlushAsync(ct);
            // A token can end inside a UTF-8 character: the stream decoder holds such bytes back until it is complete.
            // Text that may be the start of a stop sequence is held back too, so the cut is exact while streaming.
            var continuation = tokenizer.CreateStreamDecoder(skipSpecialTokens: true);
            var cut = new StopSequenceCut(options.StopSequences);
            bool stopped = false;
            await foreach (int id in tokens)
            {
                (string piece, stopped) = cut.Push(continuation.Append(id));
                await output.WriteAsync(piece);
                await output.FlushAsync(ct);
                if (stopped) break;
            }
            if (!stopped) await output.WriteAsync(cut.End(continuation.Flush()).Text);
            await output.WriteLineAsync();
            return 0;
        });
        return cmd;
    }
}
