using System.CommandLine;
using System.Text.Json.Nodes;
using GptSharp.Checkpoints;
using GptSharp.Evaluation;
using GptSharp.IO;
using GptSharp.Native;

namespace GptSharp.Cli.Commands;

static class ScoreCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory (config.json + model.safetensors).", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var input = new Option<string>("--input") { Description = "JSONL file; each line an object with an \"ids\" array of token ids.", Required = true };
        var output = new Option<string>("--output") { Description = "JSONL file to write: each input line with \"loss\" and \"ppl\" added.", Required = true };
        var precision = PrecisionOption.Create();
        var cmd = new Command("score", "Score token sequences: mean next-token cross-entropy (loss) and perplexity (ppl) per line.")
            { model, device, precision, input, output };
        cmd.SetAction((p, ct) =>
        {
            var inference = PrecisionOption.Get(p, precision);
            OutputDirectory.CheckFile(p.GetValue(output)!); // before the model load
            // Token ids in, so the weights alone: a directory without tokenizer files scores as well.
            using var gpt = HfCheckpoint.Load(p.GetValue(model)!, Devices.Parse(p.GetValue(device)), inference);
            var scorer = new SequenceScorer(gpt);
            int n = JsonlFile.Transform(p.GetValue(input)!, p.GetValue(output)!, (obj, where) =>
            {
                ct.ThrowIfCancellationRequested();
                if (obj["ids"] is not JsonArray arr) throw new GptSharpException($"{where}: expected an \"ids\" array");
                var ids = arr.Select((v, i) => v is JsonValue jv && jv.TryGetValue<int>(out int id) ? id
                    : throw new GptSharpException($"{where}: ids[{i}] is not an integer")).ToList();
                double? loss;
                try { loss = scorer.Loss(ids); }
                catch (GptSharpException e) { throw new GptSharpException($"{where}: {e.Message}"); }
                obj["loss"] = loss;
                obj["ppl"] = loss is { } l ? Math.Exp(l) : null;
            });
            p.InvocationConfiguration.Output.WriteLine($"scored {n} sequences → {p.GetValue(output)}");
            return Task.FromResult(0);
        });
        return cmd;
    }
}
