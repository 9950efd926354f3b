using System.Diagnostics;
using System.Text.Json.Nodes;
using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;

namespace GptSharp.TuningBench;

/// <summary>The three parts of the tuning benchmark; optuna_peer.py has the same three with the same JSON shape.</summary>
static class Benchmarks
{
    public static ISampler MakeSampler(string kind, int seed) => kind switch
    {
        "tpe" => new TpeSampler(new TpeOptions { Seed = seed }),
        "random" => new RandomSampler(seed),
        _ => throw new GptSharpException($"unknown sampler \"{kind}\" (expected tpe or random)"),
    };

    /// <summary>Best value so far after each checkpoint, per objective × sampler × seed, in memory.</summary>
    public static JsonObject Quality(BenchConfig config, IReadOnlyList<Objective> objectives, IReadOnlyList<string> samplers, int trials, IReadOnlyList<int> seeds, Action<string> log)
    {
        var runs = new JsonArray();
        var all = new List<(string Objective, string Sampler, Dictionary<string, double> Best)>();
        foreach (var o in objectives)
            foreach (var kind in samplers)
                foreach (int seed in seeds)
                {
                    using var storage = new InMemoryStorage();
                    var study = Study.Create($"{o.Name}-{kind}-{seed}", storage, MakeSampler(kind, seed));
                    var clock = Stopwatch.StartNew();
                    study.Optimize(o.Evaluate, trials);
                    double seconds = clock.Elapsed.TotalSeconds;
                    var values = study.Trials.OrderBy(t => t.Number).Select(t => t.Value ?? double.PositiveInfinity).ToArray();
                    var best = config.Checkpoints.Where(k => k <= trials).ToDictionary(k => k.ToString(), k => values.Take(k).Min());
                    all.Add((o.Name, kind, best));
                    var bestParams = new JsonObject();
                    foreach (var (k, v) in study.BestParams) bestParams[k] = v switch { string s => s, long l => l, int i => i, double d => d, _ => v?.ToString() };
                    runs.Add(new JsonObject
                    {
                        ["objective"] = o.Name, ["sampler"] = kind, ["seed"] = seed,
                        ["best"] = new JsonObject(best.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
                        ["best_params"] = bestParams, ["seconds"] = Math.Round(seconds, 3),
                    });
                    log($"gptsharp {o.Name} {kind} seed {seed}: best {string.Join(", ", best.Select(kv => $"{kv.Key}: {kv.Value:G6}"))} ({seconds:F1} s)");
                }
        var median = new JsonObject();
        foreach (var byObjective in all.GroupBy(r => r.Objective))
        {
            var bySampler = new JsonObject();
            foreach (var g in byObjective.GroupBy(r => r.Sampler))
                bySampler[g.Key] = new JsonObject(g.First().Best.Keys.Select(k => KeyValuePair.Create(k, (JsonNode?)Median(g.Select(r => r.Best[k])))));
            median[byObjective.Key] = bySampler;
        }
        return new JsonObject
        {
            ["trials"] = trials, ["seeds"] = new JsonArray(seeds.Select(s => (JsonNode?)s).ToArray()),
            ["checkpoints"] = new JsonArray(config.Checkpoints.Select(s => (JsonNode?)s).ToArray()),
            ["runs"] = runs, ["median"] = median,
        };
    }

    /// <summary>TPE's time for ask + the suggestions of one trial, late in a 1,000-trial study (objectives.json's "sampler_time").</summary>
    public static JsonObject SamplerTime(BenchConfig config, Action<string> log)
    {
        var st = config.Root["sampler_time"]!;
        int trials = (int)st["trials"]!, lo = (int)st["window"]![0]!, hi = (int)st["window"]![1]!;
        var space = st["params"]!.AsArray().Select(p => ParamSpec.From(p!)).ToArray();
        using var storage = new InMemoryStorage();
        var study = Study.Create("sampler-time", storage, new TpeSampler(new TpeOptions { Seed = (int)st["seed"]! }));
        var times = new double[trials];
        string[] choices = ["p", "q", "r", "s"];
        for (int n = 0; n < trials; n++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var trial = study.Ask() ?? throw new GptSharpException("the study refused a trial");
            var p = space.ToDictionary(s => s.Name, s => s.Suggest(trial));
            times[n] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            study.Tell(trial, (double)p["a"] + (double)p["b"] + (int)p["c"] + Array.IndexOf(choices, (string)p["d"]) + (double)p["e"]);
            if ((n + 1) % 250 == 0) log($"gptsharp sampler time: {n + 1} trials, last {times[n]:F2} ms");
        }
        var window = times[lo..hi];
        return new JsonObject
        {
            ["sampler"] = "tpe", ["trials"] = trials, ["params"] = space.Length, ["window"] = new JsonArray(lo, hi),
            ["ms_per_trial"] = window.Average(), ["ms_per_trial_median"] = Median(window),
            ["ms_per_trial_first_100"] = times.Take(100).Average(), ["total_s"] = times.Sum() / 1000,
        };
    }

    /// <summary>Trials per second through SQLite and PostgreSQL with 1 and 4 worker processes (objectives.json's "storage").</summary>
    public static JsonArray Storage(BenchConfig config, string sqliteDir, string? postgresUrl, Action<string> log)
    {
        var st = config.Root["storage"]!;
        int total = (int)st["trials"]!;
        var rows = new JsonArray();
        foreach (string backend in st["backends"]!.AsArray().Select(b => (string)b!))
            foreach (int workers in st["workers"]!.AsArray().Select(w => (int)w!))
            {
                string? url, file = null;
                if (backend == "sqlite")
                {
                    file = Path.Combine(Path.GetFullPath(sqliteDir), $"gptsharp-bench-{workers}-{Guid.NewGuid():N}.db");
                    url = "sqlite:///" + file; // file is absolute: sqlite:////abs/path
                }
                else if (postgresUrl is not null) url = postgresUrl;
                else { log("gptsharp storage: no --postgres-url, PostgreSQL skipped"); continue; }
                var row = StorageRun(url, backend, workers, total);
                log($"gptsharp storage {backend} x{workers}: {(double)row["trials_per_s"]!:F1} trials/s ({row["trials"]} trials, {row["seconds"]} s)");
                rows.Add(row);
                if (file is not null) foreach (var f in Directory.GetFiles(Path.GetDirectoryName(file)!, Path.GetFileName(file) + "*")) File.Delete(f);
            }
        return rows;
    }

    static JsonObject StorageRun(string url, string backend, int workers, int total)
    {
        string name = $"bench-{backend}-{workers}-{Guid.NewGuid():N}"[..32];
        using (var storage = TrialStorages.Open(url)) Study.Create(name, storage, new RandomSampler(0));
        var procs = Enumerable.Range(0, workers).Select(w => StartWorker(url, name, total, w)).ToArray();
        // Every worker has its storage open and the study loaded before the clock starts.
        foreach (var p in procs)
        {
            string? line = p.StandardOutput.ReadLine();
            if (line != "ready") throw new GptSharpException($"worker {p.Id} did not start: {line ?? "(exited)"} {p.StandardError.ReadToEnd()}");
        }
        foreach (var p in procs) { p.StandardInput.WriteLine("go"); p.StandardInput.Flush(); }
        var results = procs.Select(p => (Line: p.StandardOutput.ReadLine(), Proc: p)).ToArray();
        foreach (var p in procs) p.WaitForExit();
        var failed = procs.Where(p => p.ExitCode != 0).Select(p => (JsonNode?)p.ExitCode).ToArray();
        var got = results.Select(r => JsonNode.Parse(r.Line ?? throw new GptSharpException($"worker {r.Proc.Id} failed: {r.Proc.StandardError.ReadToEnd()}"))!).ToArray();
        double start = got.Min(g => (double)g["start"]!), end = got.Max(g => (double)g["end"]!);
        int complete, inStudy;
        using (var storage = TrialStorages.Open(url))
        {
            var study = Study.Load(name, storage, new RandomSampler(0));
            complete = study.GetTrials(TrialState.Complete).Count;
            inStudy = study.Trials.Count;
        }
        double seconds = (end - start) / 1000;
        return new JsonObject
        {
            ["backend"] = backend, ["workers"] = workers, ["trials"] = complete, ["trials_in_study"] = inStudy,
            ["seconds"] = Math.Round(seconds, 3), ["trials_per_s"] = complete / seconds,
            ["per_worker"] = new JsonArray(got.Select(g => (JsonNode?)(int)g["trials"]!).ToArray()),
            ["worker_failures"] = new JsonArray(failed),
        };
    }

    static Process StartWorker(string url, string study, int total, int index)
    {
        var psi = new ProcessStartInfo
        {
            FileName = Environment.ProcessPath!,
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // Run through `dotnet X.dll` or the apphost alike.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(Benchmarks).Assembly.Location);
        foreach (var a in new[] { "--worker", url, study, total.ToString(), index.ToString() }) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new GptSharpException("could not start a worker process");
    }

    /// <summary>
    /// A storage worker (the harness started as a child): opens the storage, loads the study, says "ready", waits for
    /// "go" on stdin, runs trials until the study holds <paramref name="total"/> (OptimizeOptions.MaxTrials, decided in
    /// the storage), then prints {start, end, trials} (Unix ms) on stdout.
    /// </summary>
    /// <summary>Fills <paramref name="study"/> in <paramref name="url"/> with <paramref name="trials"/> complete random trials of the search space (ask/tell, as the CLI records it).</summary>
    public static int Fill(string url, string study, string searchSpaceJson, int trials)
    {
        var space = SearchSpace.Parse(searchSpaceJson);
        using var storage = TrialStorages.Open(url);
        var s = AskTell.Open(storage, study, StudyDirection.Minimize, new RandomSampler(1), space);
        for (int i = 0; i < trials; i++)
        {
            var t = s.Ask()!;
            double v = 0;
            foreach (var (name, d) in space) v += Convert.ToDouble(t.Suggest(name, d) is string c ? c.Length : t.Params[name]);
            s.Tell(t, v);
        }
        Console.Error.WriteLine($"{study}: {trials} complete trials in {url}");
        return 0;
    }

    public static int Worker(string url, string studyName, int total, int index)
    {
        using var storage = TrialStorages.Open(url);
        var study = Study.Load(studyName, storage, new RandomSampler(1000 + index));
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        if (Console.In.ReadLine() != "go") return 3;
        double start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        int done = study.OptimizeAsync((t, _) => Task.FromResult(Math.Pow(t.SuggestFloat("x", 0, 1), 2)), new OptimizeOptions { MaxTrials = total })
            .GetAwaiter().GetResult();
        double end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Console.Out.WriteLine(new JsonObject { ["start"] = start, ["end"] = end, ["trials"] = done, ["pid"] = Environment.ProcessId }.ToJsonString());
        return 0;
    }

    public static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
