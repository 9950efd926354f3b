using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;
using GptSharp.Data.Dialogues;

namespace GptSharp.Tests.Training;

public class SftTrainingStepTests
{
    [Fact]
    public void PaddedBatchLossEqualsTheLossOfEachExampleAlone()
    {
        var template = new ChatTemplate(BpeTokenizer.Gpt2());
        var conversations = new[]
        {
            new Conversation([new(TurnRole.User, "Hi"), new(TurnRole.Assistant, "Hello there, friend.")]),
            new Conversation([new(TurnRole.System, "Terse."), new(TurnRole.User, "Colour of the sky on a clear day?"), new(TurnRole.Assistant, "Blue.")]),
        };
        var dataset = SftDatasetBuilder.Build(conversations, template, blockSize: 32);
        using var model = Gpt.Create(new GptConfig { VocabSize = 50261, BlockSize = 32, NLayer = 1, NHead = 2, NEmbd = 32 }, seed: 3);
        model.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();

        var batch = new SftBatchSource(dataset.Examples, batchSize: 2, blockSize: 32, seed: 1, padId: template.EndOfTextId).Next(CPU);
        double batchLoss = Gpt.Loss(model.Forward(batch.Input), batch.Targets).item<float>();

        // Each example alone, unpadded: the mean over all loss tokens must match (right padding changes nothing).
        double total = 0;
        long count = 0;
        foreach (var example in dataset.Examples)
        {
            var alone = new SftBatchSource([example], batchSize: 1, blockSize: 32, seed: 1).Next(CPU);
            long n = alone.LossMask!.sum().item<long>();
            total += Gpt.Loss(model.Forward(alone.Input), alone.Targets).item<float>() * n;
            count += n;
        }
        Assert.Equal(dataset.Stats.LossTokens, count);
        Assert.Equal(total / count, batchLoss, 4);
    }
}
