#!/usr/bin/python3
"""Markdown tables from the tuning benchmark's two JSON documents (bench/README.md, "Tuning").

    summary.py GPTSHARP.json OPTUNA.json

Quality: per objective and checkpoint, the median over seeds of the best value so far (minimised) for our TPE, our
random, Optuna's TPE and Optuna's random, and whether ours is at least as good (ours <= Optuna's, TPE against TPE).
Then TPE's ms per trial at 1,000 trials and trials/s per storage and worker count, with ours/Optuna ratios.
A missing file or part leaves its columns as "–".
"""
import json
import os
import sys


def load(path):
    if not os.path.exists(path):
        print(f"({path} is missing)", file=sys.stderr)
        return {}
    with open(path) as fh:
        return json.load(fh)


def fmt(v, digits=4):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def med(doc, objective, sampler, k):
    return doc.get("quality", {}).get("median", {}).get(objective, {}).get(sampler, {}).get(str(k))


def wins(doc, objective, k, ours="tpe", theirs=None, other=None):
    """Seeds where our value <= Optuna's, paired by seed."""
    a = {r["seed"]: r["best"].get(str(k)) for r in doc.get("quality", {}).get("runs", []) if r["objective"] == objective and r["sampler"] == ours}
    b = {r["seed"]: r["best"].get(str(k)) for r in other.get("quality", {}).get("runs", []) if r["objective"] == objective and r["sampler"] == (theirs or ours)}
    both = [s for s in a if s in b and a[s] is not None and b[s] is not None]
    return f"{sum(1 for s in both if a[s] <= b[s])}/{len(both)}" if both else "–"


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    ours, optuna = load(sys.argv[1]), load(sys.argv[2])
    q = ours.get("quality") or optuna.get("quality") or {}
    checkpoints = q.get("checkpoints", [25, 50, 100])
    objectives = list(dict.fromkeys([r["objective"] for d in (ours, optuna) for r in d.get("quality", {}).get("runs", [])]))
    print(f"GptSharp ({ours.get('date', '?')}, load {fmt((ours.get('load_average') or [None])[0], 3)}) against "
          f"Optuna {optuna.get('version', '?')} ({optuna.get('date', '?')}, load {fmt((optuna.get('load_average') or [None])[0], 3)})\n")
    if objectives:
        seeds = len(q.get("seeds", []))
        print(f"### Best value so far, median over {seeds} seeds (minimised)\n")
        print("| objective | trials | our TPE | our random | Optuna TPE | Optuna random | our TPE ≤ Optuna TPE | seeds ours ≤ Optuna |")
        print("|---|---|---|---|---|---|---|---|")
        for o in objectives:
            for k in checkpoints:
                a, b = med(ours, o, "tpe", k), med(optuna, o, "tpe", k)
                ok = "–" if a is None or b is None else ("yes" if a <= b else "**no**")
                print(f"| {o} | {k} | {fmt(a)} | {fmt(med(ours, o, 'random', k))} | {fmt(b)} | {fmt(med(optuna, o, 'random', k))} | {ok} | {wins(ours, o, k, other=optuna)} |")
        print()
    sa, sb = ours.get("sampler_time"), optuna.get("sampler_time")
    if sa or sb:
        print("### TPE sampler time per trial (ask + suggestions), trials 900–999 of 1,000, 5 parameters\n")
        print("| | ours ms/trial | Optuna ms/trial | Optuna / ours |")
        print("|---|---|---|---|")
        for key, label in (("ms_per_trial", "mean"), ("ms_per_trial_median", "median"), ("ms_per_trial_first_100", "mean, trials 0–99")):
            a, b = (sa or {}).get(key), (sb or {}).get(key)
            print(f"| {label} | {fmt(a, 3)} | {fmt(b, 3)} | {fmt(b / a, 3) if a and b else '–'} |")
        print()
    rows = {}
    for side, doc in (("ours", ours), ("optuna", optuna)):
        for r in doc.get("storage", []):
            rows.setdefault((r["backend"], r["workers"]), {})[side] = r
    if rows:
        print("### Storage throughput: trials/s, 200 trials shared by the workers (RandomSampler, trivial objective)\n")
        print("| storage | worker processes | ours trials/s | Optuna trials/s | ours / Optuna | trials ours / Optuna |")
        print("|---|---|---|---|---|---|")
        for (backend, workers), r in sorted(rows.items()):
            a, b = r.get("ours", {}).get("trials_per_s"), r.get("optuna", {}).get("trials_per_s")
            n = f"{r.get('ours', {}).get('trials', '–')} / {r.get('optuna', {}).get('trials', '–')}"
            print(f"| {backend} | {workers} | {fmt(a, 4)} | {fmt(b, 4)} | {fmt(a / b, 3) if a and b else '–'} | {n} |")


if __name__ == "__main__":
    main()
