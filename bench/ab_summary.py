"""Summarises bench/ab.sh's runs: per case, each side's median figure and the median of the per-round B/A ratios."""
import json, statistics, sys, pathlib, subprocess

out, a_root, b_root = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]

def commit(root):
    try: return subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError: return "?"

def figures(doc):
    """(case, tokens/s) pairs of one harness document."""
    for c in doc["cases"]:
        if "tg128_tokens_per_s" in c:
            p = c["precision"].split()[0]  # the label starts with fp32, bf16 or int8
            yield f"decode {p} tg128", c["tg128_tokens_per_s"]
            yield f"decode {p} pp256", c["pp256_tokens_per_s"]
        else:
            yield f"train {c['preset']} {c['precision']}", c["tokens_per_s"]

runs = {}  # (case, side, round) -> tokens/s
for f in out.glob("*.json"):
    if f.name == "summary.json": continue
    kind, side, rnd = f.stem.rsplit("-", 2)
    for case, v in figures(json.loads(f.read_text())):
        runs[(case, side, int(rnd))] = v

cases = {}
for case in sorted({k[0] for k in runs}):
    rounds = sorted({k[2] for k in runs if k[0] == case})
    a = [runs[(case, "A", r)] for r in rounds if (case, "A", r) in runs]
    b = [runs[(case, "B", r)] for r in rounds if (case, "B", r) in runs]
    ratios = [runs[(case, "B", r)] / runs[(case, "A", r)] for r in rounds if (case, "A", r) in runs and (case, "B", r) in runs]
    cases[case] = {"A_tokens_per_s": a, "B_tokens_per_s": b, "A_median": statistics.median(a), "B_median": statistics.median(b),
                   "ratio_per_round": [round(x, 3) for x in ratios], "ratio_median": round(statistics.median(ratios), 3)}
print(json.dumps({"A": {"root": a_root, "commit": commit(a_root)}, "B": {"root": b_root, "commit": commit(b_root)},
                  "ratio": "B / A tokens per second, per round (A and B run back to back, order alternating)", "cases": cases}, indent=2))
