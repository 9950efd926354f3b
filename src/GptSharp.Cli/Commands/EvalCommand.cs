using System.CommandLine;
using System.Globalization;
using GptSharp.Evaluation;
using GptSharp.Checkpoints;
using GptSharp.IO;
using GptSharp.Native;
using GptSharp.Data.Dialogues;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp eval`: a chat model on held-out dialogues — loss, perplexity, token accuracy, exact match, F1, BLEU.</summary>
static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Chat model directory (e.g. the final/ of a finetune run).", Required = true };
        var data = new Option<string>("--data") { Description = "Held-out dialogues in any format finetune reads; the last assistant turn of each is the reference.", Required = true };
        var output = new Option<string?>("--output") { Description = "Write the report as JSON here." };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "The longest generated reply.", DefaultValueFactory = _ => 128 };
        var samples = new Option<int>("--samples") { Description = "Sample replies to show and keep in the report.", DefaultValueFactory = _ => 5 };
        var limit = new Option<int?>("--limit") { Description = "Evaluate only the first N conversations." };
        var text = new Option<bool>("--text") { Description = "The data is plain text: report loss, perplexity and next-token accuracy only." };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var precision = PrecisionOption.Create();
        var engine = PrecisionOption.CreateEngine();
        var cmd = new Command("eval", "Evaluate a chat model on held-out dialogues: loss, perplexity and next-token accuracy on the assistant's tokens, " +
                                      "and greedy replies scored by exact match, token F1 and BLEU.")
            { model, data, text, output, maxNewTokens, samples, limit, device, precision, engine };
        cmd.SetAction((p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            if (p.GetValue(maxNewTokens) < 1) throw new GptSharpException("--max-new-tokens must be at least 1");
            if (p.GetValue(limit) is < 1) throw new GptSharpException("--limit must be at least 1");
            var inference = PrecisionOption.Get(p, precision);
            var decodingEngine = PrecisionOption.GetEngine(p, engine);
            if (p.GetValue(output) is { } reportPath) OutputDirectory.CheckFile(reportPath); // before the (long) evaluation
            string dataPath = p.GetValue(data)!;
            EvaluationReport report;
            if (p.GetValue(text))
            {
                string content = Utf8Text.ReadFile(dataPath);
                using var loaded = ModelDirectory.Load(p.GetValue(model)!, new LoadOptions { Device = Devices.Parse(p.GetValue(device)), Precision = inference, Engine = decodingEngine });
                report = new TextEvaluator(loaded.Model, loaded.Tokenizer).Evaluate(content, dataPath, ct) with { Model = loaded.Directory };
            }
            else
            {
                var conversations = DialogueReader.Read(dataPath);
                if (p.GetValue(limit) is { } n) conversations = conversations.Take(n).ToList();
                using var loaded = ModelDirectory.Load(p.GetValue(model)!, new LoadOptions { Device = Devices.Parse(p.GetValue(device)), Precision = inference, Engine = decodingEngine });
                var evaluator = new DialogueEvaluator(loaded.Model, loaded.Tokenizer)
                {
                    MaxNewTokens = p.GetValue(maxNewTokens), SampleCount = p.GetValue(samples), EndTokenIds = loaded.EndTokenIds,
                };
                report = evaluator.Evaluate(conversations, dataPath, ct: ct) with { Model = loaded.Directory };
            }

            foreach (var note in report.Notes ?? []) p.InvocationConfiguration.Error.WriteLine($"note: {note}");
            string F(double? v, string fmt = "F4") => v is { } x ? x.ToString(fmt, CultureInfo.InvariantCulture) : "-";
            w.WriteLine($"{"metric",-16} value");
            foreach (var (name, value) in new[] {
                         ("conversations", report.Examples.ToString(CultureInfo.InvariantCulture)), ("loss", F(report.Loss)), ("perplexity", F(report.Perplexity, "F2")),
                         ("token accuracy", F(report.TokenAccuracy)), ("exact match", F(report.ExactMatch)), ("token F1", F(report.F1)), ("BLEU", F(report.Bleu)) })
                w.WriteLine($"{name,-16} {value}");
            foreach (var s in report.Samples ?? [])
            {
                w.WriteLine();
                w.WriteLine($"  user:      {s.Input}");
                w.WriteLine($"  reference: {s.Reference}");
                w.WriteLine($"  model:     {s.Prediction}   (F1 {F(s.F1, "F2")})");
            }
            if (p.GetValue(output) is { } path)
            {
                report.Save(path);
                w.WriteLine($"report → {path}");
            }
            return Task.FromResult(0);
        });
        return cmd;
    }
}
