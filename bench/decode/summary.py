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

# The fp32 floor of each round: the bandwidth probe's best figure that round over the bytes an fp32 token streams
# (every weight but the position table, read one row per token).
STREAMED_FP32_BYTES = (124_439_808 - 1024 * 768) * 4
floor_rows = []
for path in sorted(glob.glob(os.path.join(out, "gptsharp-*.json"))):
    round_ = os.path.basename(path)[len("gptsharp-"):-len(".json")]
    probes = [load(p) for p in sorted(glob.glob(os.path.join(out, f"bandwidth-{round_}-*.json")))]
    ours_fp32 = next((c["tg128_tokens_per_s_best"] for c in load(path)["cases"] if c["key"] == "onnx-fp32"), None)
    if not probes or ours_fp32 is None:
        continue
    gb = max(p["gb_per_s"] for p in probes)
    floor = gb * 1e9 / STREAMED_FP32_BYTES
    llama_fp32 = max((e["avg_ts"] for name in (f"llama-tg-f32-{round_}.json", f"llama-tg-f32-nommap-{round_}.json")
                      if os.path.exists(os.path.join(out, name)) for e in load(os.path.join(out, name))), default=None)
    floor_rows.append({"round": round_, "probe_gb_per_s": [p["gb_per_s"] for p in probes], "floor_tokens_per_s": round(floor, 1),
                       "onnx_fp32_tg128": ours_fp32, "onnx_fp32_of_floor": round(ours_fp32 / floor, 3),
                       "llama_f32_tg128": llama_fp32, "llama_f32_of_floor": round(llama_fp32 / floor, 3) if llama_fp32 else None})

with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump({"machine": machine, "rows": rows, "fp32_floor": floor_rows}, f, indent=2)
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
if floor_rows:
    print("\nfp32 against the memory-bandwidth floor of each round (bench/decode/bandwidth.c, 2 threads, 497 MB, the best of "
          "its passes before llama.cpp, before and after GptSharp; floor = that bandwidth / the 494.6 MB an fp32 token streams):\n")
    print("| round | probe GB/s | floor tokens/s | onnx-fp32 tg128 | of the floor | llama.cpp f32 tg128 | of the floor |")
    print("|---|---|---|---|---|---|---|")
    for r in floor_rows:
        llama_share = "" if r["llama_f32_of_floor"] is None else f"{r['llama_f32_of_floor']:.0%}"
        print(f"| {r['round']} | {' / '.join(str(g) for g in r['probe_gb_per_s'])} | {r['floor_tokens_per_s']} | {r['onnx_fp32_tg128']} | "
              f"{r['onnx_fp32_of_floor']:.0%} | {r['llama_f32_tg128'] or ''} | {llama_share} |")
