using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace GptSharp.Tests.Tuning.Storages;

/// <summary>
/// A throwaway PostgreSQL cluster for tests (an xunit collection fixture: <c>[Collection(PostgresServer.Collection)]</c>):
/// <c>initdb</c> in a temporary directory (as the <c>postgres</c> user when the tests run as root, since initdb refuses
/// root), <c>pg_ctl start</c> on a free loopback port with trust authentication, and <c>pg_ctl stop -m immediate</c> plus
/// the directory's removal at the end. Durability is off (fsync), as nothing here must survive a crash of the machine.
/// When PostgreSQL is not installed, <see cref="Available"/> is false and tests return early, unless CI is "true":
/// there the fixture fails, so a CI machine without PostgreSQL cannot pass silently.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    public const string Collection = "PostgreSQL server";

    readonly string? _dir, _bin;
    int _databases;

    public PostgresServer()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => d, StringComparer.Ordinal)
                .Select(d => Path.Combine(d, "bin")).FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")))
            : null;
        if (_bin is null)
        {
            SkipReason = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; Debian package postgresql)";
            if (Environment.GetEnvironmentVariable("CI") == "true")
                throw new InvalidOperationException($"{SkipReason}: with CI=true the PostgreSQL tests must run (.ci/run installs it)");
            return;
        }
        // Short path: the server's Unix socket lives here too, and socket paths are limited to ~100 bytes.
        _dir = Directory.CreateTempSubdirectory("gptsharp-pg-").FullName;
        try
        {
            if (Environment.IsPrivilegedProcess) Run("chown", null, "-R", "postgres:postgres", _dir);
            string data = Path.Combine(_dir, "data");
            Run(Path.Combine(_bin, "initdb"), _dir, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync");
            for (int attempt = 0; ; attempt++)
            {
                Port = FreePort();
                try
                {
                    Run(Path.Combine(_bin, "pg_ctl"), _dir, "-D", data, "-l", Path.Combine(_dir, "server.log"), "-w", "-t", "60", "-o",
                        $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                        "start");
                    break;
                }
                catch (InvalidOperationException) when (attempt < 2) { } // the port was taken meanwhile
            }
            ConnectionUrl = $"postgresql://postgres@127.0.0.1:{Port}/postgres";
            Available = true;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Whether the server runs; when false, tests return at once (see <see cref="SkipReason"/>).</summary>
    public bool Available { get; }

    /// <summary>Why the server is not available.</summary>
    public string? SkipReason { get; }

    public int Port { get; }

    /// <summary>The URL of the server's <c>postgres</c> database, for <see cref="GptSharp.Tuning.Storages.TrialStorages.Open"/>.</summary>
    public string ConnectionUrl { get; } = "";

    /// <summary>A new empty database; its URL. Each test takes its own, so tests never see each other's studies.</summary>
    public string CreateDatabase()
    {
        if (!Available) throw new InvalidOperationException(SkipReason);
        string name = $"test_{Interlocked.Increment(ref _databases)}";
        using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false");
        connection.Open();
        using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        cmd.ExecuteNonQuery();
        return $"postgresql://postgres@127.0.0.1:{Port}/{name}";
    }

    /// <summary>Runs SQL in the database of <paramref name="url"/> (tests that tamper with a storage).</summary>
    public void Execute(string url, string sql)
    {
        using var connection = new NpgsqlConnection(GptSharp.Tuning.Storages.TrialStorages.PostgresConnectionString(url) + ";Pooling=false");
        connection.Open();
        using var cmd = new NpgsqlCommand(sql, connection);
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        if (_dir is null || _bin is null) return;
        try
        {
            if (File.Exists(Path.Combine(_dir, "data", "postmaster.pid")))
                Run(Path.Combine(_bin, "pg_ctl"), _dir, "-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Runs a program (as the postgres user when we are root and <paramref name="cwd"/> is given); throws with its output when it fails.</summary>
    static void Run(string program, string? cwd, params string[] args)
    {
        var info = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (cwd is not null) info.WorkingDirectory = cwd;
        if (cwd is not null && Environment.IsPrivilegedProcess)
        {
            info.FileName = "runuser";
            foreach (string a in (string[])["-u", "postgres", "--", program, .. args]) info.ArgumentList.Add(a);
        }
        else
        {
            info.FileName = program;
            foreach (string a in args) info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        // pg_ctl's server keeps inherited pipes open: read to the end only after the program itself exits.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000)) { process.Kill(); throw new InvalidOperationException($"{program} did not finish in 120 s"); }
        if (process.ExitCode != 0)
        {
            Task.WaitAll([stdout, stderr], 2000);
            throw new InvalidOperationException($"{Path.GetFileName(program)} {string.Join(' ', args)} failed ({process.ExitCode}): " +
                $"{(stdout.IsCompleted ? stdout.Result : "")}{(stderr.IsCompleted ? stderr.Result : "")}");
        }
    }
}

/// <summary>The tests that share one <see cref="PostgresServer"/>.</summary>
[CollectionDefinition(PostgresServer.Collection)]
public sealed class PostgresServerCollection : ICollectionFixture<PostgresServer>;
