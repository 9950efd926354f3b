#!/usr/bin/env python3
"""Pairs GptSharp.Bench --decode with llama.cpp from one vs-llamacpp.sh run: summary.json and a markdown table on stdout."""
import glob, json, os, sys

out = sys.argv[1]
PAIRS = {"fp32": "f32", "onnx-fp32": "f32", "ort-fp32": "f32", "bf16": "f16", "onnx-bf16": "f16", "ort-bf16": "f16", "int8": "q8_0", "onnx-int8": "q8_0", "ort-int8": "q8_0", "onnx-int4": "q4_0", "ort-int4": "q4_0"}


def load(path):
    with open(path) as f:
        return json.load(f)


def llama(kind, weights):
    """Best avg_ts over the rounds (llama-bench -o json: a list with one entry per test)."""
    best = None
    for path in sorted(glob.glob(os.path.join(out, f"llama-{kind}-{weights}-[0-9]*.json")) + glob.glob(os.path.join(out, f"llama-{kind}-{weights}-nommap-*.json"))):
        for entry in load(path):
            best = max(best or 0, entry["avg_ts"])
    return best


def batched(weights, sequences):
    best = None
    for path in sorted(glob.glob(os.path.join(out, f"llama-batched-{weights}-*.jsonl"))):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if row.get("pl") == sequences:
                    best = max(best or 0, row["speed_tg"])
    return best


ours = {}
machine = None
for path in sorted(glob.glob(os.path.join(out, "gptsharp-*.json"))):
    doc = load(path)
    machine = doc.get("machine")
    for case in doc["cases"]:
        best = ours.setdefault(case["key"], {})
        for field in ("tg128_tokens_per_s_best", "pp256_tokens_per_s", "tg128_batch8_aggregate_tokens_per_s"):
            best[field] = max(best.get(field, 0), case[field] or 0)
        if case.get("time_split"):
            best["time_split"] = case["time_split"]

rows = []
for precision, weights in PAIRS.items():
    if precision not in ours:
        continue
    o = ours[precision]
    tg, pp, b8 = llama("tg", weights), llama("pp", weights), batched(weights, 8)
    rows.append({
        "gptsharp": precision, "llama_cpp": weights,
        "tg128": o["tg128_tokens_per_s_best"], "llama_tg128": tg, "ratio_tg128": round(o["tg128_tokens_per_s_best"] / tg, 3) if tg else None,
        "pp256": o["pp256_tokens_per_s"], "llama_pp256": pp, "ratio_pp256": round(o["pp256_tokens_per_s"] / pp, 3) if pp else None,
        "batch8": o["tg128_batch8_aggregate_tokens_per_s"], "llama_batch8": b8,
        "ratio_batch8": round(o["tg128_batch8_aggregate_tokens_per_s"] / b8, 3) if b8 else None,
        "time_split": o.get("time_split"),
    })

# The fp32 floor: the fastest the memory streamed during the run (bench/decode/bandwidth.c between the steps, and the
# benchmark's own probe before its fp32 runs) over the bytes an fp32 token streams (every weight but the position table,
# read one row per token). The bandwidth swings between ~34 and ~60 GB/s within seconds on our machines, so each side
# is held against the best it could have had: its best run over the run's best bandwidth.
STREAMED_FP32_BYTES = (124_439_808 - 1024 * 768) * 4
probes = [load(p)["gb_per_s"] for p in sorted(glob.glob(os.path.join(out, "bandwidth-*.json")))]
for path in sorted(glob.glob(os.path.join(out, "gptsharp-*.json"))):
    for case in load(path)["cases"]:
        probes += [pair["probe_gb_per_s"] for pair in case.get("fp32_floor_pairs") or []]
pairs = [pair for path in sorted(glob.glob(os.path.join(out, "gptsharp-*.json"))) for case in load(path)["cases"]
         if case["key"] == "onnx-fp32" for pair in case.get("fp32_floor_pairs") or []]
fp32_floor = None
if probes and "onnx-fp32" in ours:
    floor = max(probes) * 1e9 / STREAMED_FP32_BYTES
    llama_f32 = llama("tg", "f32")
    fp32_floor = {"probes_gb_per_s": probes, "best_gb_per_s": max(probes), "floor_tokens_per_s": round(floor, 1),
                  "onnx_fp32_tg128_best": ours["onnx-fp32"]["tg128_tokens_per_s_best"],
                  "onnx_fp32_of_floor": round(ours["onnx-fp32"]["tg128_tokens_per_s_best"] / floor, 3),
                  "llama_f32_tg128_best": round(llama_f32, 1) if llama_f32 else None,
                  "llama_f32_of_floor": round(llama_f32 / floor, 3) if llama_f32 else None, "pairs": pairs}

with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump({"machine": machine, "rows": rows, "fp32_floor": fp32_floor}, f, indent=2)
print(f"GPT-2 124M (random weights), 2 threads, best of the rounds; machine: {machine}\n")
print("| GptSharp | llama.cpp | tg128 ours | tg128 llama.cpp | ratio | pp256 ours | pp256 llama.cpp | ratio | batch 8 ours | batch 8 llama.cpp | ratio |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    cells = [r["gptsharp"], r["llama_cpp"], r["tg128"], r["llama_tg128"], r["ratio_tg128"], r["pp256"], r["llama_pp256"], r["ratio_pp256"],
             r["batch8"], r["llama_batch8"], r["ratio_batch8"]]
    print("| " + " | ".join("" if c is None else f"{c:.1f}" if isinstance(c, float) and c > 5 else str(c) for c in cells) + " |")
split = [r for r in rows if r.get("time_split")]
if split:
    print("\nWhere a token's time goes on the onnx engine (tg128, ms per token; ONNX Runtime's profiler, or on onnx-* with the row kernels their own counters, where 'other nodes' is the rest of the step and 'outside the nodes' the generator):\n")
    print("| precision | total | weights streamed | attention | other nodes | outside the nodes |")
    print("|---|---|---|---|---|---|")
    for r in split:
        t = r["time_split"]
        print(f"| {r['gptsharp']} | {t['ms_per_token']} | {t['weights_ms_per_token']} | {t['attention_ms_per_token']} | {t['other_nodes_ms_per_token']} | {t['outside_nodes_ms_per_token']} |")
if fp32_floor:
    f = fp32_floor
    print(f"\nfp32 against the memory-bandwidth floor: the best of {len(f['probes_gb_per_s'])} bandwidth probes in this run "
          f"({min(f['probes_gb_per_s'])}–{f['best_gb_per_s']} GB/s) gives {f['floor_tokens_per_s']} tokens/s; onnx-fp32's best tg128 "
          f"{f['onnx_fp32_tg128_best']} is {f['onnx_fp32_of_floor']:.0%} of it"
          + (f", llama.cpp f32's best {f['llama_f32_tg128_best']} {f['llama_f32_of_floor']:.0%}." if f["llama_f32_tg128_best"] else "."))
    if f["pairs"]:
        print("\nEach probe in GptSharp.Bench's process followed at once by a tg128 run (onnx-fp32): the floor of that moment.\n")
        print("| probe GB/s | floor tokens/s | tg128 | of the floor |")
        print("|---|---|---|---|")
        for pair in f["pairs"]:
            print(f"| {pair['probe_gb_per_s']} | {pair['floor_tokens_per_s']} | {pair['tg128_tokens_per_s']} | {pair['of_floor']:.0%} |")
