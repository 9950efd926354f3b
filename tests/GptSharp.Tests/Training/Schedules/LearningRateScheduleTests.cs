using GptSharp.Training;
using GptSharp.Training.Schedules;

namespace GptSharp.Tests.Training.Schedules;

public class LearningRateScheduleTests
{
    [Theory]
    // lr 1e-3, 10 warmup steps, 110 in all, floor 1e-4
    [InlineData(0, 1e-4)]                 // 1e-3 · 1/10
    [InlineData(4, 5e-4)]                 // 1e-3 · 5/10
    [InlineData(9, 1e-3)]                 // warmup's last step reaches the peak
    [InlineData(10, 1e-3)]                // decay starts at cos 0
    [InlineData(35, 8.681980515339464e-4)] // p = 1/4: 1e-4 + ½(1 + √½)·9e-4
    [InlineData(60, 5.5e-4)]              // p = 1/2: halfway between 1e-3 and 1e-4
    [InlineData(85, 2.318019484660536e-4)] // p = 3/4: 1e-4 + ½(1 − √½)·9e-4
    [InlineData(110, 1e-4)]               // at and past the end: the floor
    [InlineData(500, 1e-4)]
    public void CosineWithWarmup(int step, double expected)
    {
        var schedule = new CosineSchedule(MaxLr: 1e-3, WarmupSteps: 10, TotalSteps: 110, MinLr: 1e-4);
        Assert.Equal(expected, schedule.LearningRate(step), 15);
    }

    [Fact]
    public void OptionsPickTheSchedule()
    {
        var o = new TrainingArguments { LearningRate = 2e-3, WarmupSteps = 0, MaxSteps = 100, MinLrRatio = 0.5 };
        var s = LearningRateSchedules.Create(o);
        Assert.Equal(new CosineSchedule(2e-3, 0, 100, 1e-3), s);
        Assert.Equal(2e-3, s.LearningRate(0), 15);
        Assert.Equal(1.5e-3, s.LearningRate(50), 15);
        var e = Assert.Throws<GptSharpException>(() => LearningRateSchedules.Create(o with { LrSchedulerType = "wavy" }));
        Assert.Contains("cosine", e.Message);
    }

    // The rest share lr 1e-3, 10 warmup steps (rate · (step + 1) / 10) and 110 steps in all.
    const double Lr = 1e-3;

    [Theory]
    [InlineData(0)]
    [InlineData(9)]
    [InlineData(500)]
    public void ConstantIgnoresWarmup(int step) =>
        Assert.Equal(Lr, LearningRateSchedules.Create(Options("constant")).LearningRate(step), 15);

    [Theory]
    [InlineData(0, 1e-4)]
    [InlineData(4, 5e-4)]
    [InlineData(9, 1e-3)]
    [InlineData(10, 1e-3)]
    [InlineData(500, 1e-3)]
    public void ConstantWithWarmup(int step, double expected) =>
        Assert.Equal(expected, LearningRateSchedules.Create(Options("constant_with_warmup")).LearningRate(step), 15);

    [Theory]
    [InlineData(4, 5e-4)]
    [InlineData(10, 1e-3)]    // 1e-3 · 100/100
    [InlineData(60, 5e-4)]    // · 50/100
    [InlineData(85, 2.5e-4)]  // · 25/100
    [InlineData(109, 1e-5)]   // · 1/100: the last step of the run
    [InlineData(110, 0.0)]    // zero at max_steps
    [InlineData(200, 0.0)]
    public void LinearDecaysToZeroAtMaxSteps(int step, double expected) =>
        Assert.Equal(expected, LearningRateSchedules.Create(Options("linear")).LearningRate(step), 15);

    [Theory]
    [InlineData(4, 5e-4)]
    [InlineData(10, 1e-3)]    // 0.5^⌊0/20⌋
    [InlineData(29, 1e-3)]    // ⌊19/20⌋ = 0
    [InlineData(30, 5e-4)]    // ⌊20/20⌋ = 1
    [InlineData(50, 2.5e-4)]
    [InlineData(69, 2.5e-4)]
    [InlineData(70, 1.25e-4)]
    public void StepHalvesEveryStepSize(int step, double expected) =>
        Assert.Equal(expected, LearningRateSchedules.Create(Options("step") with { StepSize = 20, Gamma = 0.5 }).LearningRate(step), 15);

    [Theory]
    [InlineData(4, 5e-4)]
    [InlineData(10, 1e-3)]
    [InlineData(11, 9e-4)]
    [InlineData(13, 7.29e-4)]
    [InlineData(20, 3.486784401e-4)] // 0.9^10
    public void Exponential(int step, double expected) =>
        Assert.Equal(expected, LearningRateSchedules.Create(Options("exponential") with { Gamma = 0.9 }).LearningRate(step), 15);

    [Fact]
    public void WarmupRatioRoundsUpAndNamesResolve()
    {
        var o = Options("linear") with { WarmupSteps = 0, WarmupRatio = 0.25 }; // ⌈27.5⌉ = 28 warmup steps
        Assert.Equal(new LinearSchedule(Lr, 28, 110), LearningRateSchedules.Create(o));
        Assert.Equal(Lr / 28, LearningRateSchedules.Create(o).LearningRate(0), 15);
        // The ratio applies to the resolved length (num_train_epochs runs pass it in).
        Assert.Equal(new CosineSchedule(Lr, 55, 220, Lr * 0.1), LearningRateSchedules.Create(o with { LrSchedulerType = "cosine" }, maxSteps: 220));
        Assert.Equal(new StepDecaySchedule(Lr, 10, 7, 0.1), LearningRateSchedules.Create(Options("step") with { StepSize = 7 }));
        Assert.Equal(new ExponentialSchedule(Lr, 10, 0.1), LearningRateSchedules.Create(Options("exponential")));
        Assert.Equal(new ConstantWithWarmupSchedule(Lr, 10), LearningRateSchedules.Create(Options("constant_with_warmup")));
        Assert.Equal(new ConstantSchedule(Lr), LearningRateSchedules.Create(Options("constant")));
        Assert.Equal(["constant", "constant_with_warmup", "step", "exponential", "linear", "cosine"], LearningRateSchedules.Names);
    }

    static TrainingArguments Options(string type) =>
        new() { LrSchedulerType = type, LearningRate = Lr, WarmupSteps = 10, MaxSteps = 110, MinLrRatio = 0.1, OutputDir = "unused" };
}
