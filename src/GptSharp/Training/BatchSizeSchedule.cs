using System.Globalization;
using System.Text.Json.Serialization;

namespace GptSharp.Training;

/// <summary>
/// <c>batch_size_schedule</c>: the effective batch (sequences per optimizer step) grows during the run — small batches
/// early, while any gradient direction helps and steps are cheap, large ones late, when gradient noise dominates. GPT-3
/// ramped its batch linearly in tokens over the first 4–12 B tokens (Brown et al. 2020, "Language Models are Few-Shot
/// Learners", §2.3 and Table 2.1); Smith et al. 2018 ("Don't Decay the Learning Rate, Increase the Batch Size") show growing
/// the batch does what decaying the rate does.
/// <para>
/// Either a linear ramp from <see cref="Start"/> to <see cref="End"/> over <see cref="RampTokens"/> tokens seen (or
/// <see cref="RampSteps"/> optimizer steps), or explicit <see cref="Steps"/>. <see cref="Grow"/> says how a batch is
/// formed: <c>accumulation</c> keeps per_device_train_batch_size and takes more micro-batches per step; <c>batch</c> grows
/// the per-device batch up to per_device_train_batch_size (read as the largest that fits), then accumulates. A ramp's
/// sizes in between are rounded down to the nearest size the chosen way can form. <see cref="ScaleLr"/> scales the
/// learning rate with the batch: learning_rate is then the rate at the largest batch.
/// </para>
/// <para>
/// The size of step n depends only on n and on tokens_seen before it, which checkpoints hold: a resumed run takes the
/// same batches as an uninterrupted one.
/// </para>
/// </summary>
public sealed record BatchSizeSchedule
{
    public const string Key = "batch_size_schedule";
    public static readonly IReadOnlyList<string> GrowModes = ["accumulation", "batch"];
    public static readonly IReadOnlyList<string> LrScalings = ["none", "linear", "sqrt"];

    /// <summary>The first steps' effective batch, in sequences.</summary>
    public int? Start { get; init; }
    /// <summary>The effective batch once the ramp is done.</summary>
    public int? End { get; init; }
    /// <summary>Tokens seen (trainer_state's tokens_seen) over which the batch grows linearly from start to end.</summary>
    public double? RampTokens { get; init; }
    /// <summary>Optimizer steps over which the batch grows linearly from start to end (instead of ramp_tokens).</summary>
    public int? RampSteps { get; init; }
    /// <summary>Explicit sizes instead of a ramp: from <c>step</c> completed optimizer steps on (the first at 0), <c>batch_size</c> sequences.</summary>
    public IReadOnlyList<BatchSizeStep>? Steps { get; init; }
    /// <summary>accumulation (default: per-device batch fixed, memory flat) or batch (per-device batch first, up to per_device_train_batch_size).</summary>
    public string Grow { get; init; } = "accumulation";
    /// <summary>
    /// none (default); linear: rate ∝ batch (Goyal et al. 2017, "Accurate, Large Minibatch SGD"); sqrt: rate ∝ √batch
    /// (Krizhevsky 2014, "One weird trick"; Hoffer et al. 2017), the milder rule usually preferred for Adam.
    /// </summary>
    public string ScaleLr { get; init; } = "none";

    [JsonIgnore] public bool IsRamp => Steps is null;
    /// <summary>The largest effective batch the schedule reaches (learning_rate applies there when scaling).</summary>
    [JsonIgnore] public int Largest => Steps is { Count: > 0 } s ? s.Max(x => x.BatchSize) : End ?? 1;

    /// <summary>Adds a message per invalid value, naming <c>batch_size_schedule.key</c>; <paramref name="perDevice"/> is per_device_train_batch_size.</summary>
    internal void AddErrors(List<string> errors, int perDevice, int gradientAccumulationSteps, bool byEpochs)
    {
        void Need(bool ok, string message) { if (!ok) errors.Add($"{Key}.{message}"); }
        Need(GrowModes.Contains(Grow), $"grow must be one of: {string.Join(", ", GrowModes)} (got '{Grow}')");
        Need(LrScalings.Contains(ScaleLr), $"scale_lr must be one of: {string.Join(", ", LrScalings)} (got '{ScaleLr}')");
        if (gradientAccumulationSteps != 1)
            errors.Add($"{Key} sets the effective batch, so gradient_accumulation_steps must stay 1 (got {gradientAccumulationSteps})");
        bool rampGiven = Start is not null || End is not null || RampTokens is not null || RampSteps is not null;
        if (Steps is not null)
        {
            Need(!rampGiven, "steps replaces start, end, ramp_tokens and ramp_steps: give either explicit steps or a ramp");
            Need(Steps.Count > 0, "steps must list at least one {\"step\": 0, \"batch_size\": B}");
            for (int i = 0; i < Steps.Count; i++)
            {
                var s = Steps[i];
                if (i == 0) Need(s.Step == 0, $"steps[0].step must be 0, where the run begins (got {s.Step})");
                else Need(s.Step > Steps[i - 1].Step, $"steps[{i}].step must be after steps[{i - 1}].step = {Steps[i - 1].Step} (got {s.Step})");
                Need(s.BatchSize >= 1, $"steps[{i}].batch_size must be at least 1 (got {s.BatchSize})");
                if (s.BatchSize >= 1 && FormError(s.BatchSize, perDevice) is { } e) errors.Add($"{Key}.steps[{i}].batch_size {e}");
            }
            return;
        }
        Need(Start is >= 1, Start is null ? "start is required (the first steps' batch, in sequences)" : $"start must be at least 1 (got {Start})");
        Need(End is not null, "end is required (the batch once the ramp is done)");
        if (Start is >= 1 && End is { } end) Need(end >= Start, $"end must be at least start = {Start} (got {end})");
        if (Start is >= 1 && FormError(Start.Value, perDevice) is { } se) errors.Add($"{Key}.start {se}");
        if (End is >= 1 && FormError(End.Value, perDevice) is { } ee) errors.Add($"{Key}.end {ee}");
        if ((RampTokens is null) == (RampSteps is null))
            errors.Add($"{Key}: give one of ramp_tokens (tokens seen) or ramp_steps (optimizer steps) for the ramp's length");
        if (RampTokens is { } t) Need(t >= 1 && double.IsFinite(t), $"ramp_tokens must be at least 1 (got {t.ToString(CultureInfo.InvariantCulture)})");
        if (RampSteps is { } r) Need(r >= 1, $"ramp_steps must be at least 1 (got {r})");
        if (byEpochs && RampTokens is not null)
            errors.Add($"{Key}.ramp_tokens cannot be combined with num_train_epochs (how many steps an epoch takes depends on the tokens of each batch): " +
                       "use ramp_steps, explicit steps, or max_steps");

        string? FormError(int size, int cap) => Grow switch
        {
            "accumulation" when size % cap != 0 =>
                $"must be a multiple of per_device_train_batch_size = {cap} with grow=accumulation (got {size}); or use grow=batch",
            "batch" when size > cap && size % cap != 0 =>
                $"must be at most per_device_train_batch_size = {cap} or a multiple of it with grow=batch (got {size})",
            _ => null,
        };
    }

    /// <summary>The batch of optimizer step <paramref name="step"/> (1-based), taken after <paramref name="tokensSeen"/> tokens.</summary>
    public BatchShape At(int step, long tokensSeen, int perDevice)
    {
        int size;
        if (Steps is { } steps)
            size = steps.Last(s => s.Step <= step - 1).BatchSize;
        else
        {
            double progress = RampSteps is { } r ? (step - 1) / (double)r : tokensSeen / RampTokens!.Value;
            size = (int)Math.Floor(Start!.Value + (End!.Value - Start.Value) * Math.Min(1, progress));
        }
        return Form(size, perDevice);
    }

    /// <summary>The largest batch at most <paramref name="size"/> that <see cref="Grow"/> can form, as micro-batch × accumulation.</summary>
    BatchShape Form(int size, int perDevice)
    {
        if (Grow == "batch" && size <= perDevice) return new BatchShape(size, 1);
        return new BatchShape(perDevice, Math.Max(1, size / perDevice));
    }

    /// <summary>The learning rate's multiplier at <paramref name="shape"/>: 1 at the largest batch, or always 1 with scale_lr none.</summary>
    public double LearningRateFactor(BatchShape shape) => ScaleLr switch
    {
        "linear" => shape.Sequences / (double)Largest,
        "sqrt" => Math.Sqrt(shape.Sequences / (double)Largest),
        _ => 1,
    };

    /// <summary>
    /// Optimizer steps until <paramref name="sequences"/> sequences have been seen (num_train_epochs); only for
    /// ramp_steps and explicit steps, whose sizes depend on the step alone.
    /// </summary>
    public long StepsFor(double sequences, int perDevice)
    {
        if (RampTokens is not null) throw new InvalidOperationException("a ramp over tokens has no fixed number of steps per epoch");
        int lastChange = Steps is { } s ? s[^1].Step + 1 : RampSteps!.Value + 1; // from this step on the size stays
        double seen = 0;
        for (int step = 1; step < lastChange; step++)
        {
            seen += At(step, 0, perDevice).Sequences;
            if (seen >= sequences) return step;
        }
        int final = At(lastChange, 0, perDevice).Sequences;
        return lastChange - 1 + (long)Math.Ceiling(Math.Max(0, sequences - seen) / final);
    }
}
