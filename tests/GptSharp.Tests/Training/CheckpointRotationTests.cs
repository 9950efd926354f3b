using GptSharp.Training;

namespace GptSharp.Tests.Training;

public class CheckpointRotationTests
{
    [Theory]
    [InlineData(2, null, new[] { 40, 50 })]
    [InlineData(2, 20, new[] { 20, 40, 50 })]   // the best survives on top of the newest 2
    [InlineData(2, 50, new[] { 40, 50 })]       // the best among the newest costs nothing extra
    [InlineData(1, 10, new[] { 10, 50 })]
    public void KeepsTheNewestAndTheBest(int keep, int? best, int[] expected)
    {
        using var dir = new Fixture.TempDir();
        foreach (int step in new[] { 10, 20, 30, 40, 50 })
        {
            string path = CheckpointStore.PathFor(dir.Root, step);
            Directory.CreateDirectory(path);
            new TrainerState { GlobalStep = step }.Write(Path.Combine(path, TrainerState.FileName));
        }
        CheckpointStore.Rotate(dir.Root, keep, best);
        Assert.Equal(expected, CheckpointStore.List(dir.Root).Select(c => c.Step));
    }
}
