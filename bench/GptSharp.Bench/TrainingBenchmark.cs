using System.Diagnostics;
using GptSharp.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GptSharp.Bench;

/// <summary>What one preset × precision measured.</summary>
sealed record CaseResult(
    string Preset, string Precision, GptConfig Config, int BatchSize, long Parameters, int Warmup,
    double[] StepSeconds, long[] StepMinorFaults, float FirstLoss, float LastLoss, double? PeakRssMiB, double? RssMiB, double OwnCores, double? OtherCores)
{
    public int TokensPerStep => BatchSize * Config.BlockSize;
}

/// <summary>
/// Training throughput as nanoGPT measures it: forward, cross-entropy, backward, AdamW step, zero_grad(set_to_none),
/// on one fixed random batch (data loading is not part of it), warmup steps first, then timed steps.
/// </summary>
static class TrainingBenchmark
{
    public static CaseResult Run(string preset, string precision, int warmup, int steps, Action<string> log)
    {
        var shape = PeerFigures.Shapes[preset];
        var config = GptPresets.Get(preset) with { VocabSize = shape.VocabSize, BlockSize = PeerFigures.BlockSize, Dropout = 0 };
        using var model = Gpt.Create(config, seed: 1337);
        model.train();
        if (precision == "bf16") model.Precision.ComputeType = ScalarType.BFloat16;
        using var optimizer = AdamW(model);

        torch.random.manual_seed(42);
        using var x = randint(0, config.VocabSize, [shape.BatchSize, config.BlockSize], dtype: ScalarType.Int64);
        using var y = randint(0, config.VocabSize, [shape.BatchSize, config.BlockSize], dtype: ScalarType.Int64);

        ProcessStats.ResetPeakRss();
        var times = new List<double>();
        var faults = new List<long>();
        float first = float.NaN, last = float.NaN;
        ProcessStats.CpuMeter? cpu = null;
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup) cpu = new ProcessStats.CpuMeter();
            long? faultsBefore = ProcessStats.MinorFaults();
            var clock = Stopwatch.StartNew();
            float loss = Step(model, optimizer, x, y);
            double s = clock.Elapsed.TotalSeconds;
            if (i >= warmup)
            {
                times.Add(s);
                if (faultsBefore is { } f0 && ProcessStats.MinorFaults() is { } f1) faults.Add(f1 - f0);
            }
            if (i == 0) first = loss;
            last = loss;
            log($"{preset} {precision} step {i + 1}/{warmup + steps}{(i < warmup ? " (warmup)" : "")}: {s * 1000:F0} ms, loss {loss:F3}");
        }
        var (own, others) = cpu!.Stop();
        return new CaseResult(preset, precision, config, shape.BatchSize, model.ParameterCount, warmup, [.. times], [.. faults], first, last,
            ProcessStats.StatusMiB("VmHWM"), ProcessStats.StatusMiB("VmRSS"), own, others);
    }

    static float Step(Gpt model, OptimizerHelper optimizer, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        var loss = Gpt.Loss(model.Forward(x), y);
        loss.backward();
        optimizer.step();
        model.zero_grad(set_to_none: true);
        return loss.item<float>();
    }

    /// <summary>nanoGPT's optimizer: AdamW(lr 3e-4, betas 0.9/0.95), weight decay 0.1 on matrices and embeddings only.</summary>
    static OptimizerHelper AdamW(Gpt model)
    {
        var parameters = model.parameters().ToList();
        const double lr = 3e-4, beta1 = 0.9, beta2 = 0.95, eps = 1e-8;
        return optim.AdamW(
            [
                new AdamW.ParamGroup(parameters.Where(p => p.dim() >= 2).ToList(), lr, beta1, beta2, eps, weight_decay: 0.1, amsgrad: false, maximize: false),
                new AdamW.ParamGroup(parameters.Where(p => p.dim() < 2).ToList(), lr, beta1, beta2, eps, weight_decay: 0.0, amsgrad: false, maximize: false),
            ],
            lr, beta1, beta2, eps, weight_decay: 0.0);
    }
}
