using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace GptSharp.Tuning.Storages;

/// <summary>
/// A study storage in one SQLite file, safe for several processes on one machine (the default storage, a file beside
/// the study). The file is in WAL mode, so readers never wait for the writer; every write is one <c>BEGIN IMMEDIATE</c>
/// transaction, which takes the file's write lock up front, so two workers cannot both read the queue and then both
/// take the same trial. A worker that finds the file locked waits (SQLite's busy timeout) and retries the whole
/// transaction for up to <see cref="LockTimeout"/>. Not for network file systems, whose locks SQLite cannot trust: use
/// <see cref="PostgresStorage"/> across machines. One instance is one connection, shared by its threads in turn.
/// </summary>
public sealed class SqliteStorage : SqlStorage
{
    /// <summary>How long a transaction keeps retrying while other processes hold the file's lock.</summary>
    public static TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(60);

    readonly SqliteConnection _connection;
    readonly Lock _gate = new();
    bool _disposed;

    /// <summary>Opens (or creates, with its directory) the database file <paramref name="path"/>; a clear error when it cannot be written or was written by a newer GptSharp.</summary>
    public SqliteStorage(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new GptSharpException("SQLite storage: the database path is empty");
        Path = System.IO.Path.GetFullPath(path);
        try
        {
            if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GptSharpException($"{Description}: cannot create its directory: {e.Message}");
        }
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = (int)LockTimeout.TotalSeconds,
        }.ToString());
        try
        {
            Retry(() =>
            {
                if (_connection.State != System.Data.ConnectionState.Open) _connection.Open();
                Pragma("PRAGMA busy_timeout = 5000");
                // Persistent in the file; several processes may ask at once (hence Retry).
                if (Pragma("PRAGMA journal_mode = WAL") is string mode && !mode.Equals("wal", StringComparison.OrdinalIgnoreCase))
                    throw new GptSharpException($"{Description}: cannot switch to WAL mode (journal mode stays {mode})");
                // With WAL, NORMAL survives a killed process (not a power cut) and commits much faster than FULL.
                Pragma("PRAGMA synchronous = NORMAL");
                return 0;
            });
            Run(true, db => { EnsureSchema(db, Ddl("INTEGER PRIMARY KEY", "REAL", "INTEGER"), TableExists); return 0; });
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw new GptSharpException($"{Description}: cannot open it: {Reason(e)}");
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>The database file, absolute.</summary>
    public string Path { get; }

    public override string Description => $"SQLite storage {Path}";

    object? Pragma(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    static bool TableExists(SqlSession db, string name) =>
        db.Scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = @n", ("n", name)) is not null;

    // Unix milliseconds from SQLite's own clock ('now' has millisecond resolution).
    private protected override string NowSql => "CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";
    private protected override string StaleSql => $"heartbeat < {NowSql} - @grace * 1000.0";
    private protected override string ForUpdate => "";
    private protected override string ForUpdateSkipLocked => "";

    private protected override DateTimeOffset? ReadTime(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(ordinal));

    private protected override T Run<T>(bool write, Func<SqlSession, T> body)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Retry(() =>
            {
                Pragma(write ? "BEGIN IMMEDIATE" : "BEGIN");
                try
                {
                    var result = body(new SqlSession(_connection, null));
                    Pragma("COMMIT");
                    return result;
                }
                catch
                {
                    // A failed COMMIT or statement may leave the transaction open; SQLite may also have rolled it back already.
                    if (InTransaction) try { Pragma("ROLLBACK"); } catch (SqliteException) { }
                    throw;
                }
            });
        }
    }

    /// <summary>Runs <paramref name="action"/> again while another process holds the file's lock (SQLITE_BUSY, SQLITE_LOCKED), up to <see cref="LockTimeout"/>.</summary>
    T Retry<T>(Func<T> action)
    {
        var clock = Stopwatch.StartNew();
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return action();
            }
            catch (SqliteException e) when (e.SqliteErrorCode is 5 or 6)
            {
                if (clock.Elapsed > LockTimeout)
                    throw new GptSharpException($"{Description} stayed locked by another process for {LockTimeout.TotalSeconds:0} s: {Reason(e)}");
                Thread.Sleep(Random.Shared.Next(5, 20 + 10 * Math.Min(attempt, 20)));
            }
        }
    }

    /// <summary>Whether a transaction is open on the connection (sqlite3_get_autocommit is 0).</summary>
    bool InTransaction => _connection.Handle is { } handle && SQLitePCL.raw.sqlite3_get_autocommit(handle) == 0;

    static string Reason(SqliteException e) => e.Message.Replace("SQLite Error ", "error ", StringComparison.Ordinal);

    public override void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _connection.Dispose();
        }
    }
}
