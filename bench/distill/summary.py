#!/usr/bin/python3
"""The distillation comparison's tables (bench/distill/run.sh).

    summary.py OUT_DIR

Reads OUT_DIR/eval-{teacher,distilled,ce-only,scratch}.json (gptsharp eval reports), decode-*.seconds (128 greedy
tokens, model load included, best of 3), each
run's final/ (parameters from config.json, size of model.safetensors) and metrics.jsonl (the last val_loss), and
prints a markdown table with ratios to the teacher; writes OUT_DIR/summary.json. Quality kept is the student's reply F1
over the teacher's, as DistilGPT2 reported quality kept.
"""
import json
import os
import sys

RUNS = [("teacher", "teacher (8 layers)"), ("distilled", "distilled student (4 layers)"),
        ("ce-only", "(b) layer-initialised, CE only"), ("scratch", "(a) from scratch")]


def parameters(config):
    v, p, l, e = config["vocab_size"], config["n_positions"], config["n_layer"], config["n_embd"]
    return v * e + p * e + l * (12 * e * e + 13 * e) + 2 * e


def last_val_loss(path):
    value = None
    if os.path.exists(path):
        with open(path) as fh:
            for line in fh:
                row = json.loads(line)
                if row.get("val_loss") is not None:
                    value = row["val_loss"]
    return value


def main(out):
    rows = []
    for name, label in RUNS:
        final = os.path.join(out, name, "final")
        if not os.path.exists(os.path.join(out, f"eval-{name}.json")):
            print(f"({name}: no eval report)", file=sys.stderr)
            continue
        with open(os.path.join(out, f"eval-{name}.json")) as fh:
            report = json.load(fh)
        with open(os.path.join(final, "config.json")) as fh:
            config = json.load(fh)
        with open(os.path.join(out, f"decode-{name}.seconds")) as fh:
            seconds = float(fh.read())
        rows.append({
            "run": name, "label": label, "n_layer": config["n_layer"], "parameters": parameters(config),
            "size_bytes": os.path.getsize(os.path.join(final, "model.safetensors")),
            "val_loss": last_val_loss(os.path.join(out, name, "metrics.jsonl")),
            "test_loss": report.get("loss"), "f1": report.get("f1"), "exact_match": report.get("exact_match"),
            "bleu": report.get("bleu"), "decode_seconds": seconds,
        })
    teacher = next((r for r in rows if r["run"] == "teacher"), None)
    for r in rows:
        if teacher:
            r["f1_kept"] = r["f1"] / teacher["f1"] if r["f1"] is not None and teacher["f1"] else None
            r["speedup"] = teacher["decode_seconds"] / r["decode_seconds"]
            r["size_ratio"] = r["size_bytes"] / teacher["size_bytes"]
    with open(os.path.join(out, "commands.txt")) as fh:
        commands = [line.rstrip("\n") for line in fh if line.strip()]
    with open(os.path.join(out, "summary.json"), "w") as fh:
        json.dump({"runs": rows, "commands": commands}, fh, indent=2)

    def f(v, digits=4):
        return "–" if v is None else f"{v:.{digits}f}"
    print("| model | layers | parameters | size MB | val_loss | test loss | reply F1 | exact match | BLEU | F1 kept | decode speed-up | size ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['label']} | {r['n_layer']} | {r['parameters']:,} | {r['size_bytes'] / 1e6:.1f} | {f(r['val_loss'])} | {f(r['test_loss'])} | "
              f"{f(r['f1'])} | {f(r['exact_match'])} | {f(r['bleu'])} | {f(r.get('f1_kept'), 3)} | {f(r.get('speedup'), 2)}× | {f(r.get('size_ratio'), 2)} |")
    print()
    print("Commands:")
    print()
    for c in commands:
        print(f"    {c}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
