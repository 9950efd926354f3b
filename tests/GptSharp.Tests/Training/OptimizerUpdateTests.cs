using GptSharp.Tests.Data;
using GptSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GptSharp.Tests.Training;

/// <summary>
/// Each optimizer's first two steps on a tiny model (a 2-D weight that gets weight decay and a 1-D bias that does not)
/// against PyTorch's documented update rules, written out here in plain doubles.
/// </summary>
public class OptimizerUpdateTests
{
    /// <summary>Loss = Σ w·gw + Σ b·gb, so the gradients are exactly the coefficients we pick for each step.</summary>
    sealed class TwoParams : nn.Module
    {
        public readonly Parameter w = new(tensor(new double[,] { { 0.5, -1.5 } }));
        public readonly Parameter b = new(tensor(new[] { 0.25 }));

        public TwoParams() : base(nameof(TwoParams)) => RegisterComponents();

        public void Backward(double[] gw, double[] gb)
        {
            using var scope = NewDisposeScope();
            var loss = (w * tensor(gw).reshape(1, 2)).sum() + (b * tensor(gb)).sum();
            loss.backward();
        }

        public double[] Values() => [.. w.data<double>(), .. b.data<double>()];
    }

    // Gradients of the two steps, for [w0, w1, b0].
    static readonly double[][] Grads = [[0.3, -0.2, 0.1], [-0.4, 0.5, 0.2]];
    static readonly double[] Start = [0.5, -1.5, 0.25];
    static readonly bool[] Decays = [true, true, false];
    const double Lr = 0.1, Wd = 0.05;

    static double[] RunTorch(TrainingArguments o)
    {
        using var model = new TwoParams();
        using var optimizer = TrainingOptimizers.Create(model, o);
        optimizer.LearningRate = Lr;
        foreach (var g in Grads)
        {
            model.Backward([g[0], g[1]], [g[2]]);
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        return model.Values();
    }

    static TrainingArguments Options(string optim) => new() { Optim = optim, LearningRate = Lr, WeightDecay = Wd, OutputDir = "unused" };

    static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 12);
    }

    [Fact]
    public void AdamW()
    {
        var o = Options("adamw") with { AdamBeta1 = 0.9, AdamBeta2 = 0.95, AdamEpsilon = 1e-8 };
        var p = (double[])Start.Clone();
        for (int i = 0; i < 3; i++)
        {
            double m = 0, v = 0;
            for (int t = 1; t <= 2; t++)
            {
                double g = Grads[t - 1][i];
                if (Decays[i]) p[i] *= 1 - Lr * Wd; // decoupled decay
                m = 0.9 * m + 0.1 * g;
                v = 0.95 * v + 0.05 * g * g;
                double mHat = m / (1 - Math.Pow(0.9, t)), vHat = v / (1 - Math.Pow(0.95, t));
                p[i] -= Lr * mHat / (Math.Sqrt(vHat) + 1e-8);
            }
        }
        AssertClose(p, RunTorch(o));
    }

    [Fact]
    public void Adam()
    {
        var o = Options("adam") with { AdamBeta1 = 0.8, AdamBeta2 = 0.99, AdamEpsilon = 1e-6 };
        var p = (double[])Start.Clone();
        for (int i = 0; i < 3; i++)
        {
            double m = 0, v = 0;
            for (int t = 1; t <= 2; t++)
            {
                double g = Grads[t - 1][i] + (Decays[i] ? Wd * p[i] : 0); // L2 through the gradient
                m = 0.8 * m + 0.2 * g;
                v = 0.99 * v + 0.01 * g * g;
                double mHat = m / (1 - Math.Pow(0.8, t)), vHat = v / (1 - Math.Pow(0.99, t));
                p[i] -= Lr * mHat / (Math.Sqrt(vHat) + 1e-6);
            }
        }
        AssertClose(p, RunTorch(o));
    }

    [Theory]
    [InlineData(0.0, 0.0, false)]
    [InlineData(0.9, 0.0, false)]
    [InlineData(0.9, 0.3, false)]
    [InlineData(0.9, 0.0, true)]
    public void Sgd(double momentum, double dampening, bool nesterov)
    {
        var o = Options("sgd") with { SgdMomentum = momentum, SgdDampening = dampening, SgdNesterov = nesterov };
        var p = (double[])Start.Clone();
        for (int i = 0; i < 3; i++)
        {
            double buf = 0;
            for (int t = 1; t <= 2; t++)
            {
                double g = Grads[t - 1][i] + (Decays[i] ? Wd * p[i] : 0);
                if (momentum != 0)
                {
                    buf = t == 1 ? g : momentum * buf + (1 - dampening) * g; // the first step seeds the buffer undamped
                    g = nesterov ? g + momentum * buf : buf;
                }
                p[i] -= Lr * g;
            }
        }
        AssertClose(p, RunTorch(o));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    public void RmsProp(double momentum)
    {
        var o = Options("rmsprop") with { RmspropAlpha = 0.9, RmspropMomentum = momentum, RmspropEpsilon = 1e-7 };
        var p = (double[])Start.Clone();
        for (int i = 0; i < 3; i++)
        {
            double v = 0, buf = 0;
            for (int t = 1; t <= 2; t++)
            {
                double g = Grads[t - 1][i] + (Decays[i] ? Wd * p[i] : 0);
                v = 0.9 * v + 0.1 * g * g;
                double avg = Math.Sqrt(v) + 1e-7;
                if (momentum > 0)
                {
                    buf = momentum * buf + g / avg;
                    p[i] -= Lr * buf;
                }
                else p[i] -= Lr * g / avg;
            }
        }
        AssertClose(p, RunTorch(o));
    }

    /// <summary>Two steps, save, load into a fresh copy, then one more step on both: the copies stay bit-identical.</summary>
    [Theory]
    [InlineData("adamw")]
    [InlineData("adam")]
    [InlineData("sgd")]
    [InlineData("rmsprop")]
    public void SavedStateResumesExactly(string optim)
    {
        using var dir = new Fixture.TempDir();
        var o = Options(optim) with { SgdMomentum = 0.9, RmspropMomentum = 0.5 };
        using var original = new TwoParams();
        using var optimizer = TrainingOptimizers.Create(original, o);
        optimizer.LearningRate = Lr;
        foreach (var g in Grads)
        {
            original.Backward([g[0], g[1]], [g[2]]);
            optimizer.Step();
            optimizer.ZeroGrad();
        }
        string path = dir[TrainingOptimizer.FileName];
        optimizer.Save(path);

        using var copy = new TwoParams();
        using (no_grad())
        {
            copy.w.copy_(original.w);
            copy.b.copy_(original.b);
        }
        using var resumed = TrainingOptimizers.Create(copy, o);
        resumed.LearningRate = Lr;
        resumed.Load(path);

        foreach (var (model, opt) in new[] { (original, optimizer), (copy, resumed) })
        {
            model.Backward([0.7, -0.1], [-0.3]);
            opt.Step();
            opt.ZeroGrad();
        }
        Assert.Equal(original.Values(), copy.Values());

        // A file from another optimizer is refused, naming the missing state.
        if (optim == "adamw")
        {
            using var other = new TwoParams();
            using var rms = TrainingOptimizers.Create(other, Options("rmsprop"));
            var e = Assert.Throws<GptSharpException>(() => rms.Load(path));
            Assert.Contains("square_avg", e.Message);
        }
    }
}
