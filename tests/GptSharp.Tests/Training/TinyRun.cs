using GptSharp.Tests.Data;
using GptSharp.Training;
using GptSharp.Data.Shards;

namespace GptSharp.Tests.Training;

/// <summary>A prepared repetitive corpus (byte-level tokens) shared by a test class, and tiny-model options for it.</summary>
public sealed class TinyCorpus : IDisposable
{
    internal Fixture.TempDir Dir { get; } = new();
    public string DataDir => Dir["data"];

    public TinyCorpus()
    {
        var docs = Enumerable.Range(0, 40).Select(i =>
            string.Concat(Enumerable.Repeat($"the cat sat on the mat {i % 4}. the dog sat on the log.\n", 6)) + "<|endoftext|>\n");
        string path = Dir.WriteText("corpus.txt", string.Concat(docs));
        DataPreparer.PrepareAsync([path], new ByteTokenizer(), DataDir, new PrepareOptions { ValFraction = 0.1 }).Wait();
    }

    public PretrainingOptions Options(string outputDir) => new()
    {
        DataDir = DataDir,
        OutputDir = Dir[outputDir],
        MaxSteps = 20,
        PerDeviceTrainBatchSize = 4,
        BlockSize = 32,
        NLayer = 2,
        NHead = 2,
        NEmbd = 32,
        LearningRate = 3e-3,
        WarmupSteps = 3,
        LoggingSteps = 1,
        EvalSteps = 10,
        EvalIters = 2,
        SaveSteps = 0,
        Seed = 7,
    };

    public void Dispose() => Dir.Dispose();
}

/// <summary>Records progress synchronously on the training thread; <see cref="OnStep"/> may cancel.</summary>
sealed class ProgressRecorder : IProgress<TrainingProgress>
{
    public List<TrainingProgress> All { get; } = [];
    public Action<TrainingProgress>? OnStep { get; init; }

    public IEnumerable<TrainingProgress> Steps => All.Where(p => p.Event == TrainingEvent.Step);

    public void Report(TrainingProgress value)
    {
        lock (All) All.Add(value);
        if (value.Event == TrainingEvent.Step) OnStep?.Invoke(value);
    }
}
