using GptSharp.Training;

namespace GptSharp.Tests.Training;

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
        var o = new TrainingOptions { LearningRate = 2e-3, WarmupSteps = 0, MaxSteps = 100, MinLrRatio = 0.5 };
        var s = LearningRateSchedules.Create(o);
        Assert.Equal(new CosineSchedule(2e-3, 0, 100, 1e-3), s);
        Assert.Equal(2e-3, s.LearningRate(0), 15);
        Assert.Equal(1.5e-3, s.LearningRate(50), 15);
        var e = Assert.Throws<GptSharpException>(() => LearningRateSchedules.Create(o with { LrSchedulerType = "wavy" }));
        Assert.Contains("cosine", e.Message);
    }
}
