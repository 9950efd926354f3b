using System.Net;
using System.Net.Sockets;
using GptSharp.Tuning;
using GptSharp.Tuning.Storages;
using Xunit.Abstractions;

namespace GptSharp.Tests.Tuning.Storages;

/// <summary>The contract and PostgreSQL's own cases against a throwaway cluster (<see cref="PostgresServer"/>); each test has its own database.</summary>
[Collection(PostgresServer.Collection)]
public sealed class PostgresStorageTests(PostgresServer server, ITestOutputHelper output) : TrialStorageContract(output)
{
    protected override Func<ITrialStorage>? NewStore()
    {
        if (!server.Available)
        {
            Output.WriteLine($"skipped: {server.SkipReason}");
            return null;
        }
        string url = server.CreateDatabase();
        return () => TrialStorages.Open(url);
    }

    [Fact]
    public void AnUnreachableServerIsAClearError()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        var e = Assert.Throws<GptSharpException>(() => TrialStorages.Open($"postgresql://someone@127.0.0.1:{port}/studies"));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.Contains("cannot reach PostgreSQL", e.Message);
        Assert.DoesNotContain(" at ", e.Message.Replace($"at 127.0.0.1", "", StringComparison.Ordinal));
    }

    [Fact]
    public void AMissingDatabaseIsAClearError()
    {
        if (!server.Available) return;
        var e = Assert.Throws<GptSharpException>(() => TrialStorages.Open($"postgresql://postgres@127.0.0.1:{server.Port}/no_such_db"));
        Assert.Contains("no_such_db", e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void ADatabaseFromANewerGptSharpIsRefused()
    {
        if (!server.Available) return;
        string url = server.CreateDatabase();
        TrialStorages.Open(url).Dispose();
        server.Execute(url, "UPDATE schema_version SET version = 2");
        var e = Assert.Throws<GptSharpException>(() => TrialStorages.Open(url));
        Assert.Contains("written by a newer GptSharp", e.Message);
        Assert.Contains($"127.0.0.1:{server.Port}", e.Message);
    }

    [Fact]
    public void WorkersOpeningAFreshDatabaseAtOnceAllSucceed()
    {
        if (!server.Available) return;
        string url = server.CreateDatabase();
        var studies = new StudyInfo[6];
        using var barrier = new Barrier(studies.Length);
        var errors = new List<Exception>();
        var threads = Enumerable.Range(0, studies.Length).Select(i => new Thread(() =>
        {
            try
            {
                barrier.SignalAndWait();
                using var s = TrialStorages.Open(url);
                studies[i] = s.CreateStudy("shared", StudyDirection.Minimize, loadIfExists: true);
            }
            catch (Exception e) { lock (errors) errors.Add(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(errors);
        Assert.All(studies, s => Assert.Equal(studies[0], s));
    }

    [Fact]
    public void HeartbeatsAreReadOnTheServersClock()
    {
        if (!server.Available) return;
        string url = server.CreateDatabase();
        using var s = TrialStorages.Open(url);
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var old = s.StartTrial(study.Id, new TrialStart("w", Heartbeat: true))!;
        var fresh = s.StartTrial(study.Id, new TrialStart("w", Heartbeat: true))!;
        server.Execute(url, $"UPDATE trials SET heartbeat = now() - interval '10 minutes' WHERE trial_id = {old.Id}");
        var failed = s.FailStaleTrials(study.Id, TimeSpan.FromMinutes(5), requeue: false);
        Assert.Equal([old.Number], failed.Select(t => t.Number));
        Assert.Equal(TrialState.Running, s.GetTrial(study.Id, fresh.Number)!.State);
        Assert.Empty(s.GetAllTrials(study.Id, [TrialState.Waiting]));
    }
}
