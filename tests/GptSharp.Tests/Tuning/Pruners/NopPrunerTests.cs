using GptSharp.Tuning;
using GptSharp.Tuning.Pruners;
using static GptSharp.Tests.Tuning.Pruners.PrunerHistory;

namespace GptSharp.Tests.Tuning.Pruners;

public class NopPrunerTests
{
    [Fact]
    public void NeverPrunesEvenTheWorstTrial()
    {
        var study = NewStudy(new NopPruner());
        for (int i = 0; i < 6; i++) Complete(study, (50, 1.0));
        var trial = Running(study);
        Assert.False(ReportAndAsk(trial, 50, 1e9));
        Assert.False(ReportAndAsk(trial, 100, double.NaN));
    }
}
