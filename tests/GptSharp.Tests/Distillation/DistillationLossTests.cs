using GptSharp.Distillation;
using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Tests.Distillation;

public class DistillationLossTests
{
    // Two positions over a vocabulary of three.
    static readonly double[][] Student = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]];
    static readonly double[][] Teacher = [[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]];

    static double[] Softmax(double[] logits, double t)
    {
        var e = logits.Select(l => Math.Exp(l / t)).ToArray();
        double z = e.Sum();
        return [.. e.Select(x => x / z)];
    }

    /// <summary>KL(p ‖ q) = Σ p · log(p / q), by hand.</summary>
    static double Kl(double[] p, double[] q) => p.Zip(q).Sum(x => x.First * Math.Log(x.First / x.Second));

    static Tensor Logits(double[][] rows, long batch = 1) =>
        tensor(rows.SelectMany(r => r.Select(x => (float)x)).ToArray(), [batch, rows.Length / batch, rows[0].Length]);

    static DistillationLoss.Weights Weights(double alphaCe = 1, double alphaClm = 0, double alphaCos = 0, double beta = 0, double t = 2) =>
        new(t, alphaCe, alphaClm, alphaCos, beta);

    [Fact]
    public void TheKlTermIsTheForwardKlOfTheSoftenedDistributionsTimesTSquared()
    {
        const double t = 2;
        double expected = t * t * (Kl(Softmax(Teacher[0], t), Softmax(Student[0], t)) + Kl(Softmax(Teacher[1], t), Softmax(Student[1], t))) / 2;
        using var targets = tensor(new long[] { 1, 2 }, [1, 2]);
        using var loss = DistillationLoss.Compute(Logits(Student), Logits(Teacher), targets, Weights(t: t));
        Assert.Equal(expected, loss.item<float>(), 5);
        Assert.True(expected > 0.05); // a case where the terms matter
    }

    [Fact]
    public void MaskedPositionsDoNotCount()
    {
        const double t = 2;
        double onlyFirst = t * t * Kl(Softmax(Teacher[0], t), Softmax(Student[0], t));
        using var targets = tensor(new long[] { 1, -100 }, [1, 2]);
        using var loss = DistillationLoss.Compute(Logits(Student), Logits(Teacher), targets, Weights(t: t));
        Assert.Equal(onlyFirst, loss.item<float>(), 5);

        // The cross-entropy term too: as the model's own loss, which ignores -100.
        using var ce = DistillationLoss.Compute(Logits(Student), Logits(Teacher), targets, Weights(alphaCe: 0, alphaClm: 1));
        double byHand = -Math.Log(Softmax(Student[0], 1)[1]);
        Assert.Equal(byHand, ce.item<float>(), 5);

        using var none = tensor(new long[] { -100, -100 }, [1, 2]);
        using var nothing = DistillationLoss.Compute(Logits(Student), Logits(Teacher), none, Weights(alphaClm: 1));
        Assert.Equal(0, nothing.item<float>());
    }

    [Fact]
    public void TheJsdEndpointsAreTheForwardAndReverseKl()
    {
        const double t = 1.5;
        using var s = tensor(Student.SelectMany(r => r.Select(x => (float)x)).ToArray(), [2, 3]);
        using var te = tensor(Teacher.SelectMany(r => r.Select(x => (float)x)).ToArray(), [2, 3]);
        using var forward = DistillationLoss.Divergence(s, te, beta: 0, t);
        using var reverse = DistillationLoss.Divergence(s, te, beta: 1, t);
        using var middle = DistillationLoss.Divergence(s, te, beta: 0.3, t);
        for (int i = 0; i < 2; i++)
        {
            var (p, q) = (Softmax(Teacher[i], t), Softmax(Student[i], t));
            Assert.Equal(Kl(p, q), forward[i].item<float>(), 5);
            Assert.Equal(Kl(q, p), reverse[i].item<float>(), 5);
            // Between: β·KL(teacher ‖ M) + (1 − β)·KL(student ‖ M), M = β·teacher + (1 − β)·student (TRL's GKD).
            var m = p.Zip(q).Select(x => 0.3 * x.First + 0.7 * x.Second).ToArray();
            Assert.Equal(0.3 * Kl(p, m) + 0.7 * Kl(q, m), middle[i].item<float>(), 5);
        }
    }

    [Fact]
    public void TheCosineTermIsOneMinusTheCosineOfTheHiddenStates()
    {
        using var targets = tensor(new long[] { 0, 0 }, [1, 2]);
        using var a = tensor(new float[] { 1, 0, 2, 2 }, [1, 2, 2]);
        using var b = tensor(new float[] { 0, 3, 1, 1 }, [1, 2, 2]); // orthogonal, then parallel
        using var same = Logits(Student);
        using var loss = DistillationLoss.Compute(same, Logits(Student), targets, Weights(alphaCe: 1, alphaCos: 2), a, b);
        Assert.Equal(2 * (1 + 0) / 2.0, loss.item<float>(), 5); // identical logits: no KL
    }

    [Fact]
    public void ItMatchesTheModelsCrossEntropyWhenOnlyAlphaClmIsOn()
    {
        using var logits = randn(2, 4, 7, generator: new Generator(3));
        using var targets = tensor(new long[] { 1, 2, -100, 3, 4, -100, 5, 6 }, [2, 4]);
        using var loss = DistillationLoss.Compute(logits, randn(2, 4, 7), targets, Weights(alphaCe: 0, alphaClm: 1));
        using var ce = Gpt.Loss(logits, targets);
        Assert.Equal(ce.item<float>(), loss.item<float>(), 6);
    }
}
