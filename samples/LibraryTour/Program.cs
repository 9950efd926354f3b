// README.md's "From C#" code, as one program: the build compiles it, so the README cannot go stale, and
// tests/GptSharp.Tests/Samples/ReadmeCodeTests.cs checks that every ```csharp block of the README is here word for word.
// Run it after `gptsharp quickstart` (from the folder that holds quickstart-run/):
//   dotnet run --project samples/LibraryTour
using GptSharp.Chat;
using GptSharp.Chat.Safety;
using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Tokenization;
using GptSharp.Training;
using GptSharp.Tuning;
using GptSharp.Tuning.Pruners;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;
using Microsoft.Extensions.AI;

// 1. A model directory, streamed as text.
using var model = ModelDirectory.Load("quickstart-run/model/final", new LoadOptions { Precision = InferencePrecision.Int8 });
await foreach (var delta in model.CreateGenerator().StreamTextAsync("Thank you for contacting"))
    Console.Write(delta.Text);
Console.WriteLine();

// 2. A chat model as an IChatClient, with the content filter as middleware.
using IChatClient chat = new GptChatClient(ModelDirectory.Load("quickstart-run/chat/final")).AsBuilder().UseContentFilter(ContentFilter.Default).Build();
await foreach (var update in chat.GetStreamingResponseAsync("Where is my order 12345?"))
    Console.Write(update.Text);
Console.WriteLine();

// 4. A tuning study, define-by-run (README, "Tuning").
var study = Study.Create("demo", new InMemoryStorage(), new TpeSampler(new TpeOptions { Seed = 1 }), new MedianPruner());
study.Optimize(trial =>
{
    double x = trial.SuggestFloat("x", -10, 10);
    string opt = trial.SuggestCategorical("optim", ["adamw", "sgd"]);
    return (x - 2) * (x - 2) + (opt == "sgd" ? 1 : 0);
}, nTrials: 50);
Console.WriteLine($"{study.BestValue} at {string.Join(", ", study.BestParams)}");

// 3. Fine-tuning on conversations held in memory; a callback sees every evaluation and may stop the run.
Conversation[] dialogues = [
    new([new(TurnRole.User, "Where is order 123?"), new(TurnRole.Assistant, "Order 123 has shipped.")]),
    new([new(TurnRole.User, "Can I return my mug?"), new(TurnRole.Assistant, "Yes, within 30 days.")]),
];
var options = FineTuningOptions.Load(null, ["output_dir=runs/tour-chat", "max_steps=20", "eval_steps=10", "overwrite_output_dir=true"]);
using var plan = FineTuning.Check(new FineTuningInputs { ModelDir = "quickstart-run/model/final", Train = dialogues, Validation = dialogues }, options);
var result = await FineTuning.RunAsync(plan, callbacks: [new StopAbove(8.0)]);
Console.WriteLine($"{result.Step} steps, val loss {result.LastValLoss:F3} → {result.FinalDir}");

sealed class StopAbove(double limit) : TrainerCallback
{
    public override void OnEvaluate(TrainerControl control, TrainingEvaluation e)
    {
        if (e.ValLoss > limit) control.Stop($"val loss {e.ValLoss:F3} above {limit} at step {e.Step}");
    }
}
