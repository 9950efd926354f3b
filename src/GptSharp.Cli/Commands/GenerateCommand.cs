using System.Globalization;
using System.CommandLine;
using GptSharp.Inference;
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
        var engine = PrecisionOption.CreateEngine();
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
        var stats = new Option<bool>("--stats")
        {
            Description = "After the text, print to stderr the prompt's tokens, the time to the first token and the decoding speed " +
                          "(new tokens after the first ÷ their time), as llama.cpp's timings.",
        };

        var cmd = new Command("generate", "Continue a prompt with a trained model.")
            { model, device, precision, engine, prompt, maxNewTokens, temperature, topK, topP, seed, greedy, minNewTokens, repetitionPenalty, noRepeatNgram, stop,
              beams, returns, lengthPenalty, promptOverflow, stats };
        cmd.SetAction(async (p, ct) =>
        {
            // Check the options before the (slow) model load. Options not given come from the model's generation_config.json.
            string dir = p.GetValue(model)!;
            T? Given<T>(Option<T> o) where T : struct => p.GetResult(o) is { Implicit: false } ? p.GetValue(o) : null;
            var options = GenerationConfigFile.Read(dir).Override(new GenerationOverrides
            {
                MaxNewTokens = Given(maxNewTokens), Temperature = Given(temperature), TopK = Given(topK), TopP = Given(topP),
                Seed = p.GetValue(seed), Greedy = p.GetValue(greedy), MinNewTokens = Given(minNewTokens),
                RepetitionPenalty = Given(repetitionPenalty), NoRepeatNgramSize = Given(noRepeatNgram), StopSequences = p.GetValue(stop) ?? [],
                NumBeams = Given(beams), NumReturnSequences = p.GetValue(returns), LengthPenalty = Given(lengthPenalty),
                PromptOverflow = p.GetValue(promptOverflow) == "trim" ? PromptOverflow.TrimStart : PromptOverflow.Error,
            });
            var inference = PrecisionOption.Get(p, precision);
            var decodingEngine = PrecisionOption.GetEngine(p, engine);
            using var loaded = ModelDirectory.Load(dir, new LoadOptions { Device = Devices.Parse(p.GetValue(device)), Precision = inference, Engine = decodingEngine });
            var tokenizer = loaded.Tokenizer;
            // Ends at every end token the directory names; special tokens are never printed.
            var generator = loaded.CreateGenerator();

            string text = p.GetValue(prompt) ?? "";
            int[] promptIds = tokenizer.Encode(text);
            var output = p.InvocationConfiguration.Output;
            void NoteKept(int kept)
            {
                if (kept < promptIds.Length)
                    p.InvocationConfiguration.Error.WriteLine($"note: the prompt has {promptIds.Length} tokens; generating from its last {kept} (--prompt-overflow trim)");
            }
            if (options.NumBeams > 1)
            {
                // Beam search knows its best sequences only at the end.
                var results = generator.GenerateBeams(promptIds, options, ct);
                NoteKept(results[0].PromptTokensKept);
                foreach (var r in results) output.WriteLine(text + r.Text);
                return 0;
            }
            // Text comes whole characters at a time and cut exactly before a stop sequence; breaking out frees the cache.
            var deltas = generator.StreamTextAsync(promptIds, options, ct); // checks the prompt's length now
            await output.WriteAsync(text);
            await output.FlushAsync(ct);
            bool first = true;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan firstToken = default;
            int tokens = 0;
            await foreach (var d in deltas)
            {
                if (first) { NoteKept(d.PromptTokensKept); firstToken = clock.Elapsed; }
                first = false;
                tokens += d.Ids.Count;
                if (d.FinishReason == FinishReason.Cancelled) ct.ThrowIfCancellationRequested();
                await output.WriteAsync(d.Text);
                await output.FlushAsync(ct);
            }
            await output.WriteLineAsync();
            if (p.GetValue(stats))
            {
                double decode = (clock.Elapsed - firstToken).TotalSeconds;
                string speed = tokens > 1 ? string.Create(CultureInfo.InvariantCulture, $"{(tokens - 1) / decode:F1} tokens/s") : "n/a";
                p.InvocationConfiguration.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"prompt {promptIds.Length} tokens, first token after {firstToken.TotalMilliseconds:F0} ms; {tokens} new tokens, decoding {speed} ({(loaded.Model.Engine?.Name ?? "torch")} engine)"));
            }
            return 0;
        });
        return cmd;
    }
}
