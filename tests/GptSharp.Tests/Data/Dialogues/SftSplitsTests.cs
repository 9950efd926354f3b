using GptSharp.Tokenization;
using GptSharp.Data.Dialogues;

namespace GptSharp.Tests.Data.Dialogues;

public class SftSplitsTests
{
    [Fact]
    public void TrainValidationSplitIsDeterministicAndDisjoint()
    {
        var (train, val) = SftSplits.TrainValidation(100, 0.1, seed: 42);
        var (train2, val2) = SftSplits.TrainValidation(100, 0.1, seed: 42);
        Assert.Equal(train, train2);
        Assert.Equal(val, val2);
        Assert.Equal(10, val.Length);
        Assert.Equal(Enumerable.Range(0, 100), train.Concat(val).Order());
        Assert.NotEqual(val, SftSplits.TrainValidation(100, 0.1, seed: 43).Val);
        Assert.NotEqual(Enumerable.Range(90, 10), val); // shuffled, not the last tenth
    }

    [Fact]
    public void SmallSetsKeepAtLeastOneOnEachSide()
    {
        Assert.Single(SftSplits.TrainValidation(3, 0.01, 1).Val);
        Assert.Empty(SftSplits.TrainValidation(5, 0, 1).Val);
        Assert.Single(SftSplits.TrainValidation(2, 0.9, 1).Train);
        Assert.Throws<GptSharpException>(() => SftSplits.TrainValidation(10, 1.0, 1));
    }

    [Theory]
    [InlineData(10, 3)]
    [InlineData(17, 5)]
    [InlineData(4, 4)]
    public void KFoldValidatesEveryExampleExactlyOnce(int count, int k)
    {
        var seen = new int[count];
        for (int fold = 0; fold < k; fold++)
        {
            var (train, val) = SftSplits.KFold(count, k, fold, seed: 7);
            Assert.Equal(Enumerable.Range(0, count), train.Concat(val).Order());
            Assert.InRange(val.Length, count / k, (count + k - 1) / k);
            foreach (int i in val) seen[i]++;
            var again = SftSplits.KFold(count, k, fold, seed: 7);
            Assert.Equal(train, again.Train);
            Assert.Equal(val, again.Val);
        }
        Assert.All(seen, n => Assert.Equal(1, n));
    }

    [Fact]
    public void KFoldRejectsBadArguments()
    {
        Assert.Throws<GptSharpException>(() => SftSplits.KFold(10, 1, 0, 1));
        Assert.Throws<GptSharpException>(() => SftSplits.KFold(10, 3, 3, 1));
        Assert.Throws<GptSharpException>(() => SftSplits.KFold(2, 3, 0, 1));
    }

    [Fact]
    public void DatasetSplitsSelectTheIndexedExamples()
    {
        var examples = Enumerable.Range(0, 12).Select(i => new SftExample([i, i + 1], [false, true])).ToArray();
        var dataset = new SftDataset(examples, new SftDatasetStats(12, 12, 0, 0, 0, 24, 12));
        var (train, val) = dataset.Split(0.25, seed: 3);
        Assert.Equal(SftSplits.TrainValidation(12, 0.25, 3).Val.Select(i => examples[i]), val);
        Assert.Equal(9, train.Count);
        var fold = dataset.KFold(4, 1, seed: 3);
        Assert.Equal(SftSplits.KFold(12, 4, 1, 3).Val.Select(i => examples[i]), fold.Val);
        Assert.Equal(12, fold.Train.Count + fold.Val.Count);
    }
}
