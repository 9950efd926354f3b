using System.Diagnostics;
using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Training.Advisors;

/// <summary>Training speed at one block size: <see cref="BatchSize"/> sequences of <see cref="BlockSize"/> tokens per step.</summary>
public sealed record BlockSizeSpeed(int BlockSize, int BatchSize, double SecondsPerStep, double TokensPerSecond);

/// <summary>
/// What a longer block costs in training speed on the real model (attention grows with length): at each block size, a
/// few forward + backward passes over random token ids with the same number of tokens per step (batch = tokens per step
/// ÷ block size, at least 1), timed after one warm-up step. Weights are untouched (no optimizer step); gradients are
/// cleared afterwards and the model's training/eval mode restored.
/// </summary>
public static class BlockSizeThroughput
{
    public static IReadOnlyList<BlockSizeSpeed> Measure(Gpt model, IReadOnlyList<int> blockSizes, int tokensPerStep = 4096, int steps = 3,
        long seed = 0, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensPerStep, 1);
        foreach (int b in blockSizes)
            if (b < 1 || b > model.Config.BlockSize)
                throw new GptSharpException($"block size {b} is outside the model's context (1 … {model.Config.BlockSize})");
        bool wasTraining = model.training;
        model.train();
        var device = model.Device;
        using var generator = new Generator((ulong)seed);
        var result = new List<BlockSizeSpeed>();
        try
        {
            foreach (int blockSize in blockSizes)
            {
                int batch = Math.Max(1, tokensPerStep / blockSize);
                var watch = new Stopwatch();
                for (int step = 0; step <= steps; step++) // step 0 warms up
                {
                    ct.ThrowIfCancellationRequested();
                    if (step == 1) watch.Start();
                    using var scope = NewDisposeScope();
                    var ids = randint(0, model.Config.VocabSize, [batch, blockSize + 1], dtype: ScalarType.Int64, generator: generator).to(device);
                    var logits = model.Forward(ids[.., ..^1]);
                    var loss = Gpt.Loss(logits, ids[.., 1..]);
                    loss.backward();
                    _ = loss.item<float>(); // waits for the device
                    model.zero_grad();
                }
                watch.Stop();
                double perStep = watch.Elapsed.TotalSeconds / steps;
                result.Add(new BlockSizeSpeed(blockSize, batch, perStep, batch * (double)blockSize / perStep));
            }
        }
        finally
        {
            model.zero_grad();
            model.train(wasTraining);
        }
        return result;
    }
}
