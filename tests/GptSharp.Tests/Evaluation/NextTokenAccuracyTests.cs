using GptSharp.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Tests.Evaluation;

public class NextTokenAccuracyTests
{
    // One sequence of 3 positions over a vocabulary of 4; argmax per position is 2, 0, 3.
    static Tensor Logits() => tensor(new float[] { 0, 1, 5, 2, 9, 1, 0, 0, 0, 0, 1, 7 }).reshape(1, 3, 4);

    [Fact]
    public void CountsArgmaxHitsWhereTheMaskIsSet()
    {
        using var logits = Logits();
        using var targets = tensor(new long[] { 2, 1, 3 }).reshape(1, 3);
        using var mask = tensor(new[] { true, true, false }).reshape(1, 3);
        var acc = NextTokenAccuracy.Compute(logits, targets, mask);
        Assert.Equal(new TokenAccuracy(1, 2), acc); // position 0 hits, 1 misses, 2 is masked out
        Assert.Equal(0.5, acc.Value);
        Assert.Equal(new TokenAccuracy(2, 3), NextTokenAccuracy.Compute(logits, targets));
    }

    [Fact]
    public void IgnoresNegativeTargetsAndPoolsCounts()
    {
        using var logits = Logits();
        using var targets = tensor(new long[] { 2, -100, 3 }).reshape(1, 3);
        var acc = NextTokenAccuracy.Compute(logits, targets);
        Assert.Equal(new TokenAccuracy(2, 2), acc);
        Assert.Equal(new TokenAccuracy(3, 5), acc + new TokenAccuracy(1, 3));
        Assert.Equal(0, new TokenAccuracy(0, 0).Value);
    }

    [Fact]
    public void RejectsMismatchedShapes()
    {
        using var logits = Logits();
        using var targets = tensor(new long[] { 2, 1 }).reshape(1, 2);
        Assert.Throws<ArgumentException>(() => NextTokenAccuracy.Compute(logits, targets));
    }
}
