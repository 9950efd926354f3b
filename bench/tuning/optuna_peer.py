#!/usr/bin/python3
"""Optuna's side of GptSharp's tuning benchmark (bench/README.md, "Tuning").

The same objectives, seeds, trial counts and checkpoints as bench/GptSharp.TuningBench (search spaces from
objectives.json, formulas as written there), with Optuna's TPESampler (defaults, seeded) and RandomSampler; TPE's
time per trial at 1,000 trials; RDB storage throughput with SQLite and PostgreSQL, 1 and 4 worker processes.
One JSON document on stdout (and --json-out FILE); progress on stderr. Run it with Debian's /usr/bin/python3
(python3-optuna, python3-psycopg2).
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid

import optuna

HERE = os.path.dirname(os.path.abspath(__file__))

# --- the objectives (objectives.json gives the formulas and the known optima) ---

HARTMANN_ALPHA = [1.0, 1.2, 3.0, 3.2]
HARTMANN_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
HARTMANN_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
              [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
OFFSETS = {"sgd": 0.6, "momentum": 0.3, "adam": 0.05, "adamw": 0.0}


def branin(p):
    x1, x2 = p["x1"], p["x2"]
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


def hartmann6(p):
    x = [p[f"x{j}"] for j in range(6)]
    total = 0.0
    for i in range(4):
        inner = sum(HARTMANN_A[i][j] * (x[j] - 1e-4 * HARTMANN_P[i][j]) ** 2 for j in range(6))
        total -= HARTMANN_ALPHA[i] * math.exp(-inner)
    return total


def lr_wd(p):
    u, v = math.log10(p["lr"]) + 3, math.log10(p["wd"]) + 4
    return u * u + v * v + u * v / 2 + 0.2 * (1 - math.cos(2 * math.pi * u))


def mixed(p):
    a, b = (p["layers"] - 6) / 3, (math.log2(p["width"]) - 8) / 2
    return a * a + b * b + a * b / 2 + OFFSETS[p["optimizer"]] + 4 * (p["dropout"] - 0.1) ** 2


FUNCTIONS = {"branin": branin, "hartmann6": hartmann6, "lr_wd": lr_wd, "mixed": mixed}


def suggest(trial, spec):
    """The parameters of `spec` (objectives.json's "params"), suggested in order."""
    out = {}
    for s in spec:
        if s["type"] == "float":
            out[s["name"]] = trial.suggest_float(s["name"], s["low"], s["high"], log=s.get("log", False))
        elif s["type"] == "int":
            out[s["name"]] = trial.suggest_int(s["name"], s["low"], s["high"], log=s.get("log", False))
        else:
            out[s["name"]] = trial.suggest_categorical(s["name"], s["choices"])
    return out


def check_objectives(config):
    """Every objective at its documented optimum gives the documented value."""
    for o in config["objectives"]:
        for at in o["optimum"]["at"]:
            got = FUNCTIONS[o["name"]](at)
            if abs(got - o["optimum"]["value"]) > 1e-5:
                raise SystemExit(f"{o['name']} at {at} is {got}, not the documented {o['optimum']['value']}")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def make_sampler(kind, seed):
    return optuna.samplers.TPESampler(seed=seed) if kind == "tpe" else optuna.samplers.RandomSampler(seed=seed)


# --- quality: best-so-far at the checkpoints ---

def quality(config, samplers, trials, seeds):
    runs = []
    for o in config["objectives"]:
        f, spec = FUNCTIONS[o["name"]], o["params"]
        for kind in samplers:
            for seed in seeds:
                study = optuna.create_study(direction="minimize", sampler=make_sampler(kind, seed))
                t0 = time.perf_counter()
                study.optimize(lambda t: f(suggest(t, spec)), n_trials=trials)
                seconds = time.perf_counter() - t0
                values = [t.value for t in study.trials]
                best = {str(k): min(values[:k]) for k in config["checkpoints"] if k <= trials}
                runs.append({"objective": o["name"], "sampler": kind, "seed": seed, "best": best,
                             "best_params": study.best_params, "seconds": round(seconds, 3)})
                log(f"optuna {o['name']} {kind} seed {seed}: best {best} ({seconds:.1f} s)")
    return {"trials": trials, "seeds": seeds, "checkpoints": config["checkpoints"], "runs": runs,
            "median": medians(runs)}


def medians(runs):
    out = {}
    for r in runs:
        for k, v in r["best"].items():
            out.setdefault(r["objective"], {}).setdefault(r["sampler"], {}).setdefault(k, []).append(v)
    return {o: {s: {k: statistics.median(v) for k, v in ks.items()} for s, ks in ss.items()} for o, ss in out.items()}


# --- sampler time per trial ---

def sampler_time(config):
    st = config["sampler_time"]
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=st["seed"]))
    times = []
    for n in range(st["trials"]):
        t0 = time.perf_counter()
        trial = study.ask()
        p = suggest(trial, st["params"])
        times.append(time.perf_counter() - t0)
        study.tell(trial, p["a"] + p["b"] + p["c"] + ["p", "q", "r", "s"].index(p["d"]) + p["e"])
        if (n + 1) % 250 == 0:
            log(f"optuna sampler time: {n + 1} trials, last {times[-1] * 1e3:.1f} ms")
    lo, hi = st["window"]
    window = times[lo:hi]
    return {"sampler": "tpe", "trials": st["trials"], "params": len(st["params"]), "window": [lo, hi],
            "ms_per_trial": 1e3 * statistics.fmean(window), "ms_per_trial_median": 1e3 * statistics.median(window),
            "ms_per_trial_first_100": 1e3 * statistics.fmean(times[:100]),
            "total_s": sum(times)}


# --- storage throughput ---

def storage_worker(url, study_name, total, workers, barrier, results):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.load_study(study_name=study_name, storage=storage, sampler=optuna.samplers.RandomSampler())
    barrier.wait()
    start = time.time()
    # MaxTrialsCallback is Optuna's study-wide budget; it is checked after each trial, so workers can overshoot a little.
    callback = optuna.study.MaxTrialsCallback(total, states=(optuna.trial.TrialState.COMPLETE,))
    done = [0]

    def objective(t):
        done[0] += 1
        return t.suggest_float("x", 0, 1) ** 2

    error = None
    try:
        study.optimize(objective, n_trials=total, callbacks=[callback])
    except Exception as e:  # e.g. SQLite's "database is locked": recorded, and the parent does not wait forever
        error = f"{type(e).__name__}: {e}"
    results.put({"start": start, "end": time.time(), "trials": done[0], "pid": os.getpid(), "error": error})


def storage_run(url, backend, workers, total):
    name = f"bench-{backend}-{workers}-{uuid.uuid4().hex[:8]}"
    optuna.create_study(study_name=name, storage=optuna.storages.RDBStorage(url), direction="minimize")
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=storage_worker, args=(url, name, total, workers, barrier, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    got = [results.get(timeout=900) for _ in procs]
    for p in procs:
        p.join()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    start, end = min(g["start"] for g in got), max(g["end"] for g in got)
    storage = optuna.storages.RDBStorage(url)
    trials = optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)
    complete = sum(1 for t in trials if t.state == optuna.trial.TrialState.COMPLETE)
    return {"backend": backend, "workers": workers, "trials": complete, "trials_in_study": len(trials),
            "seconds": round(end - start, 3), "trials_per_s": complete / (end - start),
            "per_worker": [g["trials"] for g in got], "worker_failures": failed,
            "worker_errors": [g["error"] for g in got if g["error"]]}


def storage_bench(config, sqlite_dir, postgres_url):
    st, out = config["storage"], []
    for backend in st["backends"]:
        for workers in st["workers"]:
            if backend == "sqlite":
                path = os.path.join(sqlite_dir, f"optuna-bench-{workers}-{uuid.uuid4().hex[:8]}.db")
                url = f"sqlite:///{path}"
            elif postgres_url:
                url = postgres_url
            else:
                log("optuna storage: no --postgres-url, PostgreSQL skipped")
                continue
            r = storage_run(url, backend, workers, st["trials"])
            log(f"optuna storage {backend} x{workers}: {r['trials_per_s']:.1f} trials/s ({r['trials']} trials, {r['seconds']} s)")
            out.append(r)
            if backend == "sqlite":
                os.remove(path)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json-out", help="also write the JSON document here")
    ap.add_argument("--parts", default="quality,sampler-time,storage", help="comma-separated: quality, sampler-time, storage")
    ap.add_argument("--objectives", help="comma-separated subset (default: all)")
    ap.add_argument("--samplers", default="tpe,random")
    ap.add_argument("--seeds", type=int, help="seeds 0..N-1 (default: objectives.json's 10)")
    ap.add_argument("--trials", type=int, help="trials per run (default: objectives.json's 100)")
    ap.add_argument("--sqlite-dir", default=tempfile.gettempdir())
    ap.add_argument("--postgres-url", help="e.g. postgresql://postgres@127.0.0.1:5433/optuna_bench (a database of its own: Optuna's tables)")
    ap.add_argument("--check", action="store_true", help="only check the objectives at their optima")
    args = ap.parse_args()

    with open(os.path.join(HERE, "objectives.json")) as fh:
        config = json.load(fh)
    check_objectives(config)
    if args.check:
        log("objectives: every optimum checked")
        return
    if args.objectives:
        keep = args.objectives.split(",")
        config["objectives"] = [o for o in config["objectives"] if o["name"] in keep]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    parts = args.parts.split(",")
    seeds = list(range(args.seeds)) if args.seeds else config["seeds"]
    doc = {"tool": "optuna", "version": optuna.__version__, "python": platform.python_version(),
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": platform.node(),
           "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    if "quality" in parts:
        doc["quality"] = quality(config, args.samplers.split(","), args.trials or config["trials"], seeds)
    if "sampler-time" in parts:
        doc["sampler_time"] = sampler_time(config)
    if "storage" in parts:
        doc["storage"] = storage_bench(config, args.sqlite_dir, args.postgres_url)
    doc["load_average_end"] = os.getloadavg()
    text = json.dumps(doc, indent=2)
    if args.json_out:
        tmp = args.json_out + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(text + "\n")
        os.replace(tmp, args.json_out)
    print(text)


if __name__ == "__main__":
    main()
