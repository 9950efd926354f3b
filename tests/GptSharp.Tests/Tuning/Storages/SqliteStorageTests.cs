using GptSharp.Tuning;
using GptSharp.Tuning.Storages;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace GptSharp.Tests.Tuning.Storages;

public sealed class SqliteStorageTests(ITestOutputHelper output) : TrialStorageContract(output)
{
    readonly Fixture.TempDir _dir = new();
    int _files;

    protected override Func<ITrialStorage>? NewStore()
    {
        string path = _dir[$"study{++_files}.db"];
        return () => new SqliteStorage(path);
    }

    public override void Dispose()
    {
        base.Dispose();
        _dir.Dispose();
    }

    static void Execute(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    static object? Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    [Fact]
    public void OpensInWalModeCreatingItsDirectoryAndKeepsStudiesAcrossOpens()
    {
        string path = _dir["a/b/c/study.db"];
        using (var s = new SqliteStorage(path))
        {
            var study = s.CreateStudy("s", StudyDirection.Maximize, false);
            var t = s.StartTrial(study.Id, new TrialStart("w"))!;
            s.FinishTrial(t.Id, TrialState.Complete, 0.1 + 0.2);
            Assert.Equal(path, s.Path);
        }
        Assert.Equal("wal", Scalar(path, "PRAGMA journal_mode"));
        Assert.Equal(1L, Scalar(path, "SELECT version FROM schema_version"));
        using var again = new SqliteStorage(path);
        var info = again.FindStudy("s")!;
        Assert.Equal(StudyDirection.Maximize, info.Direction);
        Assert.Equal(0.1 + 0.2, again.GetTrial(info.Id, 0)!.Value);
    }

    [Fact]
    public void AnUnwritablePathIsAClearError()
    {
        File.WriteAllText(_dir["file"], "not a directory");
        var e = Assert.Throws<GptSharpException>(() => new SqliteStorage(_dir["file/study.db"]));
        Assert.Contains(_dir["file/study.db"], e.Message);
        Assert.Contains("directory", e.Message);
    }

    [Fact]
    public void AFileThatIsNoDatabaseIsAClearError()
    {
        File.WriteAllText(_dir["junk.db"], new string('x', 5000));
        var e = Assert.Throws<GptSharpException>(() => new SqliteStorage(_dir["junk.db"]));
        Assert.Contains("junk.db", e.Message);
    }

    [Fact]
    public void ADatabaseFromANewerGptSharpIsRefused()
    {
        string path = _dir["newer.db"];
        new SqliteStorage(path).Dispose();
        Execute(path, "UPDATE schema_version SET version = 2");
        var e = Assert.Throws<GptSharpException>(() => new SqliteStorage(path));
        Assert.Contains("written by a newer GptSharp", e.Message);
        Assert.Contains("schema version 2", e.Message);
    }

    [Fact]
    public void ADatabaseOfAnotherProgramIsRefused()
    {
        string path = _dir["optuna.db"];
        Execute(path, "CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name TEXT)");
        Assert.Contains("not a GptSharp tuning storage", Assert.Throws<GptSharpException>(() => new SqliteStorage(path)).Message);
    }

    [Fact]
    public void WorkersOpeningAFreshFileAtOnceAllSucceed()
    {
        string path = _dir["fresh/study.db"];
        var studies = new StudyInfo[6];
        using var barrier = new Barrier(studies.Length);
        var threads = Enumerable.Range(0, studies.Length).Select(i => new Thread(() =>
        {
            barrier.SignalAndWait();
            using var s = new SqliteStorage(path);
            studies[i] = s.CreateStudy("shared", StudyDirection.Minimize, loadIfExists: true);
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.All(studies, s => Assert.Equal(studies[0], s));
        Assert.Equal(1L, Scalar(path, "SELECT COUNT(*) FROM schema_version"));
    }
}
