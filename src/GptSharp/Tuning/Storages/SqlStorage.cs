using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Text.Json.Nodes;

namespace GptSharp.Tuning.Storages;

/// <summary>
/// What <see cref="SqliteStorage"/> and <see cref="PostgresStorage"/> share: the schema's tables and every
/// <see cref="ITrialStorage"/> method as one transaction of plain SQL. The subclasses give the transaction (with retries),
/// the clock, row locks and the DDL. Races are settled by the database: a write first locks its study's row
/// (<c>FOR UPDATE</c> on PostgreSQL; SQLite's <c>BEGIN IMMEDIATE</c> locks the whole file), so trial numbers, the trial
/// budget and the waiting queue are changed by one worker at a time; a trial is finished by a conditional
/// <c>UPDATE … WHERE state = 'running'</c>, which only one worker can win.
/// </summary>
public abstract class SqlStorage : ITrialStorage
{
    /// <summary>The schema this code reads and writes; kept in table <c>schema_version</c> so later versions can migrate.</summary>
    public const int SchemaVersion = 1;

    readonly ConcurrentDictionary<string, Distribution> _distributions = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<(long Study, string Name), Distribution> _kinds = new();

    private protected SqlStorage() { }

    /// <summary>The storage as error messages name it, e.g. "SQLite storage /runs/study.db".</summary>
    public abstract string Description { get; }

    /// <summary>Runs <paramref name="body"/> as one transaction (a writing one when <paramref name="write"/>), retrying it when the database asks to.</summary>
    private protected abstract T Run<T>(bool write, Func<SqlSession, T> body);

    /// <summary>The database's clock as a column value (heartbeat, started, completed).</summary>
    private protected abstract string NowSql { get; }

    /// <summary>A condition: the <c>heartbeat</c> column is older than <c>@grace</c> seconds before now.</summary>
    private protected abstract string StaleSql { get; }

    /// <summary>Appended to a SELECT of rows this transaction will change ("FOR UPDATE"; SQLite: nothing, the file is locked).</summary>
    private protected abstract string ForUpdate { get; }

    /// <summary>Appended to the SELECT that pops the oldest waiting trial ("FOR UPDATE SKIP LOCKED").</summary>
    private protected abstract string ForUpdateSkipLocked { get; }

    /// <summary>Reads a time column.</summary>
    private protected abstract DateTimeOffset? ReadTime(DbDataReader reader, int ordinal);

    public abstract void Dispose();

    /// <summary>Checks the schema version and creates the tables when there are none; <paramref name="ddl"/> are the dialect's CREATE statements.</summary>
    private protected void EnsureSchema(SqlSession db, IEnumerable<string> ddl, Func<SqlSession, string, bool> tableExists)
    {
        if (tableExists(db, "schema_version"))
        {
            long? version = db.Scalar("SELECT MAX(version) FROM schema_version") is { } v and not DBNull ? Convert.ToInt64(v) : null;
            if (version > SchemaVersion)
                throw new GptSharpException($"{Description} was written by a newer GptSharp (schema version {version}; this one reads version {SchemaVersion}): upgrade GptSharp");
            if (version == SchemaVersion) return;
        }
        else if (tableExists(db, "studies") || tableExists(db, "trials"))
            throw new GptSharpException($"{Description} holds tables (studies, trials) but no schema_version: it is not a GptSharp tuning storage (an Optuna database?); use another file or database");
        foreach (var statement in ddl) db.Exec(statement);
        db.Exec("INSERT INTO schema_version (version) VALUES (@v)", ("v", (long)SchemaVersion));
    }

    /// <summary>The tables (dialect-neutral but for the key, real and time types).</summary>
    private protected static IEnumerable<string> Ddl(string key, string real, string time) =>
    [
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
        $"CREATE TABLE IF NOT EXISTS studies (study_id {key}, name TEXT NOT NULL UNIQUE, direction TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS study_system_attrs (study_id BIGINT NOT NULL REFERENCES studies (study_id), key TEXT NOT NULL, value_json TEXT NOT NULL, PRIMARY KEY (study_id, key))",
        $"CREATE TABLE IF NOT EXISTS trials (trial_id {key}, study_id BIGINT NOT NULL REFERENCES studies (study_id), number INTEGER NOT NULL, " +
            $"state TEXT NOT NULL, value {real}, worker TEXT, heartbeat {time}, started {time}, completed {time}, UNIQUE (study_id, number))",
        "CREATE INDEX IF NOT EXISTS trials_by_state ON trials (study_id, state, number)",
        $"CREATE TABLE IF NOT EXISTS trial_params (param_id {key}, trial_id BIGINT NOT NULL REFERENCES trials (trial_id), name TEXT NOT NULL, " +
            $"distribution_json TEXT NOT NULL, internal_value {real} NOT NULL, UNIQUE (trial_id, name))",
        "CREATE INDEX IF NOT EXISTS trial_params_by_name ON trial_params (name, trial_id)",
        $"CREATE TABLE IF NOT EXISTS trial_values (trial_id BIGINT NOT NULL REFERENCES trials (trial_id), step INTEGER NOT NULL, value {real} NOT NULL, PRIMARY KEY (trial_id, step))",
        "CREATE TABLE IF NOT EXISTS trial_user_attrs (trial_id BIGINT NOT NULL REFERENCES trials (trial_id), key TEXT NOT NULL, value_json TEXT NOT NULL, PRIMARY KEY (trial_id, key))",
        "CREATE TABLE IF NOT EXISTS trial_system_attrs (trial_id BIGINT NOT NULL REFERENCES trials (trial_id), key TEXT NOT NULL, value_json TEXT NOT NULL, PRIMARY KEY (trial_id, key))",
        "CREATE TABLE IF NOT EXISTS enqueue_once (study_id BIGINT NOT NULL REFERENCES studies (study_id), key TEXT NOT NULL, PRIMARY KEY (study_id, key))",
    ];

    // ---- studies

    public StudyInfo CreateStudy(string name, StudyDirection direction, bool loadIfExists)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new GptSharpException("a study needs a name");
        return Run(true, db =>
        {
            if (FindStudy(db, name) is { } existing) return StorageRules.Existing(existing, direction, loadIfExists);
            if (db.Scalar("INSERT INTO studies (name, direction) VALUES (@n, @d) ON CONFLICT (name) DO NOTHING RETURNING study_id",
                    ("n", name), ("d", direction.ToName())) is { } id and not DBNull)
                return new StudyInfo(Convert.ToInt64(id), name, direction);
            // Another worker created it just now (PostgreSQL; SQLite's writers take turns).
            return StorageRules.Existing(FindStudy(db, name)!, direction, loadIfExists);
        });
    }

    public StudyInfo? FindStudy(string name) => Run(false, db => FindStudy(db, name));

    public IReadOnlyList<StudyInfo> GetAllStudies() => Run(false, db =>
        db.Query("SELECT study_id, name, direction FROM studies ORDER BY study_id", ReadStudy));

    static StudyInfo? FindStudy(SqlSession db, string name) =>
        db.Query("SELECT study_id, name, direction FROM studies WHERE name = @n", ReadStudy, ("n", name)).FirstOrDefault();

    static StudyInfo ReadStudy(DbDataReader r) => new(Convert.ToInt64(r.GetValue(0)), r.GetString(1), StudyDirectionExtensions.Parse(r.GetString(2)));

    public void SetStudySystemAttr(long studyId, string key, string json) => Run(true, db =>
    {
        LockStudy(db, studyId);
        db.Exec("INSERT INTO study_system_attrs (study_id, key, value_json) VALUES (@s, @k, @j) " +
                "ON CONFLICT (study_id, key) DO UPDATE SET value_json = excluded.value_json", ("s", studyId), ("k", key), ("j", json));
        return 0;
    });

    public IReadOnlyDictionary<string, string> GetStudySystemAttrs(long studyId) => Run(false, db =>
    {
        var attrs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in db.Query("SELECT key, value_json FROM study_system_attrs WHERE study_id = @s ORDER BY key",
                     r => (r.GetString(0), r.GetString(1)), ("s", studyId)))
            attrs[k] = v;
        if (attrs.Count == 0) RequireStudy(db, studyId);
        return attrs;
    });

    void RequireStudy(SqlSession db, long studyId)
    {
        if (db.Scalar("SELECT study_id FROM studies WHERE study_id = @s", ("s", studyId)) is null or DBNull)
            throw new GptSharpException($"no study with id {studyId} in {Description}");
    }

    /// <summary>Locks the study's row for the rest of the transaction, so trial numbers and the budget change one worker at a time.</summary>
    void LockStudy(SqlSession db, long studyId)
    {
        if (db.Scalar($"SELECT study_id FROM studies WHERE study_id = @s {ForUpdate}", ("s", studyId)) is null or DBNull)
            throw new GptSharpException($"no study with id {studyId} in {Description}");
    }

    // ---- trials

    public int EnqueueTrial(long studyId, IReadOnlyDictionary<string, string> systemAttrs) => Run(true, db =>
    {
        LockStudy(db, studyId);
        return InsertWaiting(db, studyId, systemAttrs);
    });

    public bool EnqueueTrialsOnce(long studyId, string key, IReadOnlyList<IReadOnlyDictionary<string, string>> systemAttrs) => Run(true, db =>
    {
        LockStudy(db, studyId);
        if (db.Exec("INSERT INTO enqueue_once (study_id, key) VALUES (@s, @k) ON CONFLICT (study_id, key) DO NOTHING", ("s", studyId), ("k", key)) == 0)
            return false;
        foreach (var attrs in systemAttrs) InsertWaiting(db, studyId, attrs);
        return true;
    });

    int InsertWaiting(SqlSession db, long studyId, IReadOnlyDictionary<string, string> systemAttrs)
    {
        var (id, number, _) = InsertTrial(db, studyId, TrialState.Waiting, null, false);
        foreach (var (k, v) in systemAttrs) SetAttr(db, "trial_system_attrs", id, k, v);
        return number;
    }

    /// <summary>Adds a trial with the next number, in one statement; the caller holds the study's lock.</summary>
    (long Id, int Number, DateTimeOffset? Started) InsertTrial(SqlSession db, long studyId, TrialState state, string? worker, bool heartbeat)
    {
        bool running = state == TrialState.Running;
        return db.Query(
            $"INSERT INTO trials (study_id, number, state, worker, heartbeat, started) SELECT @s, COALESCE(MAX(number) + 1, 0), @st, " +
            $"{(worker is null ? "NULL" : "@w")}, {(heartbeat ? NowSql : "NULL")}, {(running ? NowSql : "NULL")} FROM trials WHERE study_id = @s " +
            "RETURNING trial_id, number, started",
            r => (Convert.ToInt64(r.GetValue(0)), Convert.ToInt32(r.GetValue(1)), ReadTime(r, 2)),
            [("s", studyId), ("st", state.ToName()), .. (worker is null ? [] : new[] { ("w", (object?)worker) })])[0];
    }

    public FrozenTrial? StartTrial(long studyId, TrialStart start) => Run(true, db =>
    {
        LockStudy(db, studyId);
        if (start.MaxTrials is { } max)
        {
            long counted = Convert.ToInt64(db.Scalar(
                "SELECT COUNT(*) FROM trials WHERE study_id = @s AND state IN ('running', 'complete', 'pruned')", ("s", studyId)));
            if (counted >= max) return null;
        }
        object? waiting = db.Scalar(
            $"SELECT trial_id FROM trials WHERE study_id = @s AND state = 'waiting' ORDER BY number LIMIT 1 {ForUpdateSkipLocked}", ("s", studyId));
        if (waiting is null or DBNull)
        {
            if (start.OnlyWaiting) return null;
            var (id, number, started) = InsertTrial(db, studyId, TrialState.Running, start.Worker, start.Heartbeat);
            return new FrozenTrial(id, number, TrialState.Running, null, new Dictionary<string, Distribution>(), new Dictionary<string, double>(),
                new Dictionary<int, double>(), new Dictionary<string, string>(), new Dictionary<string, string>(), started, null);
        }
        db.Exec($"UPDATE trials SET state = 'running', worker = @w, started = {NowSql}, heartbeat = {(start.Heartbeat ? NowSql : "NULL")} " +
                "WHERE trial_id = @t", ("w", start.Worker), ("t", Convert.ToInt64(waiting)));
        return LoadTrials(db, "t.trial_id = @t", ("t", Convert.ToInt64(waiting)))[0];
    });

    public void SetTrialParam(long trialId, string name, Distribution distribution, double internalValue) => Run(true, db =>
    {
        var (studyId, _) = LockRunning(db, trialId);
        // Compatibility is an equivalence (type, log scale, choices), so any earlier trial's distribution of the name stands for
        // all; once one is found it is remembered, as trials are never deleted.
        if (!_kinds.TryGetValue((studyId, name), out var earlier) &&
            db.Scalar("SELECT p.distribution_json FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id " +
                      "WHERE t.study_id = @s AND p.name = @n AND p.trial_id <> @t ORDER BY t.number LIMIT 1",
                ("s", studyId), ("n", name), ("t", trialId)) is string json)
            earlier = _kinds[(studyId, name)] = ParseDistribution(name, json);
        if (earlier is not null) Distribution.CheckCompatible(name, earlier, distribution);
        if (!distribution.Contains(internalValue))
            throw new GptSharpException($"parameter \"{name}\": internal value {Distribution.Format(internalValue)} is outside {distribution.ToJsonString()}");
        db.Exec("INSERT INTO trial_params (trial_id, name, distribution_json, internal_value) VALUES (@t, @n, @d, @v) " +
                "ON CONFLICT (trial_id, name) DO UPDATE SET distribution_json = excluded.distribution_json, internal_value = excluded.internal_value",
            ("t", trialId), ("n", name), ("d", distribution.ToJsonString()), ("v", internalValue));
        return 0;
    });

    public void SetTrialIntermediateValue(long trialId, int step, double value) => Run(true, db =>
    {
        LockRunning(db, trialId);
        db.Exec("INSERT INTO trial_values (trial_id, step, value) VALUES (@t, @k, @v) ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value",
            ("t", trialId), ("k", (long)step), ("v", value));
        return 0;
    });

    public void SetTrialUserAttr(long trialId, string key, string json) => Run(true, db =>
    {
        LockRunning(db, trialId);
        SetAttr(db, "trial_user_attrs", trialId, key, json);
        return 0;
    });

    public void SetTrialSystemAttr(long trialId, string key, string json) => Run(true, db =>
    {
        LockRunning(db, trialId);
        SetAttr(db, "trial_system_attrs", trialId, key, json);
        return 0;
    });

    static void SetAttr(SqlSession db, string table, long trialId, string key, string json) =>
        db.Exec($"INSERT INTO {table} (trial_id, key, value_json) VALUES (@t, @k, @j) ON CONFLICT (trial_id, key) DO UPDATE SET value_json = excluded.value_json",
            ("t", trialId), ("k", key), ("j", json));

    /// <summary>Locks a trial's row; a clear error unless it is running.</summary>
    (long StudyId, int Number) LockRunning(SqlSession db, long trialId)
    {
        var row = db.Query($"SELECT study_id, number, state FROM trials WHERE trial_id = @t {ForUpdate}",
            r => (Convert.ToInt64(r.GetValue(0)), Convert.ToInt32(r.GetValue(1)), TrialStateExtensions.Parse(r.GetString(2))), ("t", trialId));
        if (row.Count == 0) throw new GptSharpException($"no trial with id {trialId} in {Description}");
        var (studyId, number, state) = row[0];
        if (state != TrialState.Running) throw NotRunning(db, trialId);
        return (studyId, number);
    }

    /// <summary>The error for a change to a trial that is not running (the same words as <see cref="InMemoryStorage"/>).</summary>
    GptSharpException NotRunning(SqlSession db, long trialId)
    {
        var row = db.Query("SELECT t.number, t.state, s.name FROM trials t JOIN studies s ON s.study_id = t.study_id WHERE t.trial_id = @t",
            r => (Convert.ToInt32(r.GetValue(0)), r.GetString(1), r.GetString(2)), ("t", trialId));
        return row.Count == 0
            ? new GptSharpException($"no trial with id {trialId} in {Description}")
            : new GptSharpException($"trial {row[0].Item1} of study \"{row[0].Item3}\" is {row[0].Item2}, not running");
    }

    public void FinishTrial(long trialId, TrialState state, double? value)
    {
        if (!state.IsFinished()) throw new GptSharpException($"a trial is finished as complete, pruned or fail, not {state.ToName()}");
        // SQLite would keep NaN as NULL: refuse what cannot be stored exactly.
        if (value is { } v && !double.IsFinite(v))
            throw new GptSharpException($"a trial's value must be finite, got {Distribution.Format(v)}");
        Run(true, db =>
        {
            if (db.Exec($"UPDATE trials SET state = @st, value = @v, completed = {NowSql} WHERE trial_id = @t AND state = 'running'",
                    ("st", state.ToName()), ("v", value), ("t", trialId)) == 1)
                return 0;
            throw NotRunning(db, trialId);
        });
    }

    /// <summary>A late beat of a trial that is no longer running changes nothing (as <see cref="InMemoryStorage"/>).</summary>
    public void RecordHeartbeat(long trialId) => Run(true, db =>
    {
        if (db.Exec($"UPDATE trials SET heartbeat = {NowSql} WHERE trial_id = @t AND state = 'running'", ("t", trialId)) == 0 &&
            db.Scalar("SELECT trial_id FROM trials WHERE trial_id = @t", ("t", trialId)) is null or DBNull)
            throw new GptSharpException($"no trial with id {trialId} in {Description}");
        return 0;
    });

    public IReadOnlyList<FrozenTrial> FailStaleTrials(long studyId, TimeSpan grace, bool requeue) => Run<IReadOnlyList<FrozenTrial>>(true, db =>
    {
        LockStudy(db, studyId);
        var ids = db.Query($"UPDATE trials SET state = 'fail', completed = {NowSql} WHERE study_id = @s AND state = 'running' " +
                           $"AND heartbeat IS NOT NULL AND {StaleSql} RETURNING trial_id",
            r => Convert.ToInt64(r.GetValue(0)), ("s", studyId), ("grace", grace.TotalSeconds));
        if (ids.Count == 0) return [];
        foreach (long id in ids) SetAttr(db, "trial_system_attrs", id, StorageRules.FailReasonKey, StorageRules.StaleReasonJson);
        var failed = LoadTrials(db, $"t.trial_id IN ({string.Join(", ", ids)})");
        if (requeue)
            foreach (var trial in failed)
                InsertWaiting(db, studyId, StorageRules.RequeueAttrs(trial));
        return failed;
    });

    public FrozenTrial? GetTrial(long studyId, int number) => Run(false, db =>
    {
        var trial = LoadTrials(db, "t.study_id = @s AND t.number = @n", ("s", studyId), ("n", (long)number)).FirstOrDefault();
        if (trial is null) RequireStudy(db, studyId);
        return trial;
    });

    public IReadOnlyList<FrozenTrial> GetAllTrials(long studyId, IReadOnlyCollection<TrialState>? states = null) => Run<IReadOnlyList<FrozenTrial>>(false, db =>
    {
        string where = "t.study_id = @s";
        if (states is not null)
        {
            if (states.Count == 0) { RequireStudy(db, studyId); return []; }
            where += $" AND t.state IN ({string.Join(", ", states.Distinct().Select(s => $"'{s.ToName()}'"))})";
        }
        var trials = LoadTrials(db, where, ("s", studyId));
        if (trials.Count == 0) RequireStudy(db, studyId);
        return trials;
    });

    /// <summary>The trials matching <paramref name="where"/> (on alias <c>t</c>), by number, each with its parameters, values and attributes: five queries in all.</summary>
    List<FrozenTrial> LoadTrials(SqlSession db, string where, params (string, object?)[] args)
    {
        var rows = db.Query($"SELECT t.trial_id, t.number, t.state, t.value, t.started, t.completed FROM trials t WHERE {where} ORDER BY t.number",
            r => new Row(Convert.ToInt64(r.GetValue(0)), Convert.ToInt32(r.GetValue(1)), TrialStateExtensions.Parse(r.GetString(2)),
                r.IsDBNull(3) ? null : r.GetDouble(3), ReadTime(r, 4), ReadTime(r, 5)), args);
        if (rows.Count == 0) return [];
        var byId = rows.ToDictionary(r => r.Id);
        string join = $"JOIN trials t ON t.trial_id = x.trial_id WHERE {where}";
        db.Query($"SELECT x.trial_id, x.name, x.distribution_json, x.internal_value FROM trial_params x {join} ORDER BY x.param_id", r =>
        {
            var row = byId[Convert.ToInt64(r.GetValue(0))];
            string name = r.GetString(1);
            row.Distributions[name] = ParseDistribution(name, r.GetString(2));
            row.Params[name] = r.GetDouble(3);
            return 0;
        }, args);
        db.Query($"SELECT x.trial_id, x.step, x.value FROM trial_values x {join} ORDER BY x.step", r =>
            byId[Convert.ToInt64(r.GetValue(0))].Values[Convert.ToInt32(r.GetValue(1))] = r.GetDouble(2), args);
        db.Query($"SELECT x.trial_id, x.key, x.value_json FROM trial_user_attrs x {join} ORDER BY x.key", r =>
            byId[Convert.ToInt64(r.GetValue(0))].UserAttrs[r.GetString(1)] = r.GetString(2), args);
        db.Query($"SELECT x.trial_id, x.key, x.value_json FROM trial_system_attrs x {join} ORDER BY x.key", r =>
            byId[Convert.ToInt64(r.GetValue(0))].SystemAttrs[r.GetString(1)] = r.GetString(2), args);
        return rows.Select(r => new FrozenTrial(r.Id, r.Number, r.State, r.Value, r.Distributions, r.Params, r.Values, r.UserAttrs,
            r.SystemAttrs, r.Started, r.Completed)).ToList();
    }

    Distribution ParseDistribution(string name, string json) =>
        _distributions.TryGetValue(json, out var d) ? d : _distributions[json] = Distribution.FromJson(name, JsonNode.Parse(json));

    sealed record Row(long Id, int Number, TrialState State, double? Value, DateTimeOffset? Started, DateTimeOffset? Completed)
    {
        public Dictionary<string, Distribution> Distributions { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, double> Params { get; } = new(StringComparer.Ordinal);
        public Dictionary<int, double> Values { get; } = [];
        public Dictionary<string, string> UserAttrs { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string> SystemAttrs { get; } = new(StringComparer.Ordinal);
    }
}

/// <summary>One open transaction: commands with named parameters (<c>@name</c>).</summary>
sealed class SqlSession(DbConnection connection, DbTransaction? transaction)
{
    public int Exec(string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(sql, args);
        return cmd.ExecuteNonQuery();
    }

    public object? Scalar(string sql, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(sql, args);
        return cmd.ExecuteScalar();
    }

    public List<T> Query<T>(string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] args)
    {
        using var cmd = Command(sql, args);
        using var reader = cmd.ExecuteReader();
        var list = new List<T>();
        while (reader.Read()) list.Add(read(reader));
        return list;
    }

    DbCommand Command(string sql, (string Name, object? Value)[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = transaction;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            // Only a trial's value (a double) is ever null; typing it lets PostgreSQL accept the NULL.
            (p.Value, p.DbType) = value switch
            {
                null => ((object)DBNull.Value, DbType.Double),
                long l => (l, DbType.Int64),
                int i => ((long)i, DbType.Int64),
                double d => (d, DbType.Double),
                string s => (s, DbType.String),
                _ => throw new ArgumentException($"unsupported parameter type {value.GetType().Name}"),
            };
            cmd.Parameters.Add(p);
        }
        return cmd;
    }
}
