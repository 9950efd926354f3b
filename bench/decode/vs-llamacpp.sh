#!/usr/bin/env bash
# GptSharp's decoding benchmark and llama.cpp's llama-bench / llama-batched-bench on the same model, same machine, same run.
#   bench/decode/vs-llamacpp.sh [OUT_DIR]     default OUT_DIR: bench/results/<today>-decode-vs-llamacpp
# llama.cpp is built as ../shared/bench/llamacpp.md says (LLAMA_BIN: its build/bin, default ~/.cache/llamacpp/llama.cpp/build/bin).
# 1. The decoding benchmark's GPT-2 124M (random weights, seed 1337) is saved as a model directory and exported to GGUF
#    (f32, f16, q8_0, q4_0) with `gptsharp export`: llama.cpp runs the very weights GptSharp does.
# 2. ROUNDS times (default 3: our machines' bandwidth swings between two states for minutes, and each side keeps its best
#    round, so more rounds give both a fair draw), alternating: llama-bench tg128 (mmap on and off) and pp256 (2 threads)
#    on each GGUF, then GptSharp.Bench --decode --profile on PRECISIONS (default onnx-fp32,onnx-bf16,onnx-int8,onnx-int4:
#    each precision on the onnx engine; fp32, bf16, int8 for the torch engine, ort-* for the onnx engine without its row
#    kernels), then
#    llama-batched-bench (1 and 8 sequences of 128 new tokens after a 1-token prompt, as GptSharp's batch 8).
#    Around them, bench/decode/bandwidth.c measures the memory bandwidth (each round: before llama.cpp, before and after
#    GptSharp.Bench; GptSharp.Bench probes it too, before each of its extra fp32 runs): the fp32 floor is the run's best
#    bandwidth over the bytes a token streams, since the machine's bandwidth swings by half within seconds.
# 3. summary.py pairs them (fp32 and onnx-fp32 with f32, bf16 with f16, int8 and onnx-int8 with q8_0, onnx-int4 with q4_0)
#    and writes summary.json and summary.md with the ratios (best round of each side).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
OUT=${1:-bench/results/$(date -u +%Y-%m-%d)-decode-vs-llamacpp}
LLAMA_BIN=${LLAMA_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/llamacpp/llama.cpp/build/bin}
ROUNDS=${ROUNDS:-3} REPS=${REPS:-3}
PRECISIONS=${PRECISIONS:-onnx-fp32,onnx-bf16,onnx-int8,onnx-int4}
for tool in llama-bench llama-batched-bench; do
  [ -x "$LLAMA_BIN/$tool" ] || { echo "$LLAMA_BIN/$tool not found: build llama.cpp as ../shared/bench/llamacpp.md says, or set LLAMA_BIN" >&2; exit 2; }
done
mkdir -p "$OUT"
dotnet build bench/GptSharp.Bench -c Release -v q -nologo >&2
dotnet build src/GptSharp.Cli -c Release -v q -nologo >&2
BENCH=bench/GptSharp.Bench/bin/Release/net10.0/GptSharp.Bench.dll
CLI=src/GptSharp.Cli/bin/Release/net10.0/GptSharp.Cli.dll
[ -f "$OUT/model/config.json" ] || dotnet "$BENCH" --save-model "$OUT/model"
for type in f32 f16 q8_0 q4_0; do
  [ -f "$OUT/gpt2-$type.gguf" ] || dotnet "$CLI" export --model "$OUT/model" --format gguf --type "$type" --output "$OUT/gpt2-$type.gguf" >&2
done
PROBE=""
if command -v gcc > /dev/null; then
  PROBE=$(mktemp -d)/bandwidth
  gcc -O3 -ffast-math -march=native -fopenmp bench/decode/bandwidth.c -o "$PROBE" || PROBE=""
fi
[ -n "$PROBE" ] || echo "gcc with OpenMP not found: no bandwidth probe, so no fp32 floor in the summary" >&2
probe() { [ -z "$PROBE" ] || OMP_NUM_THREADS=2 "$PROBE" 497 20 > "$OUT/bandwidth-$1.json"; }
for round in $(seq 1 "$ROUNDS"); do
  probe "$round-start"
  for type in f32 f16 q8_0 q4_0; do
    echo "[$(date -u +%T)] round $round: llama-bench $type" >&2
    "$LLAMA_BIN/llama-bench" -m "$OUT/gpt2-$type.gguf" -t 2 -p 0 -n 128 -r "$REPS" -o json > "$OUT/llama-tg-$type-$round.json"
    # Weights read into memory instead of mmap'ed: faster for f32 (../shared/bench/README.md); the better of both counts.
    "$LLAMA_BIN/llama-bench" -m "$OUT/gpt2-$type.gguf" -t 2 -p 0 -n 128 -r "$REPS" -lm none -o json > "$OUT/llama-tg-$type-nommap-$round.json"
    "$LLAMA_BIN/llama-bench" -m "$OUT/gpt2-$type.gguf" -t 2 -p 256 -n 0 -r "$REPS" -o json > "$OUT/llama-pp-$type-$round.json"
  done
  echo "[$(date -u +%T)] round $round: GptSharp.Bench --decode --precision $PRECISIONS" >&2
  probe "$round-before-gptsharp"
  dotnet "$BENCH" --decode --profile --precision "$PRECISIONS" --steps "$REPS" --json-out "$OUT/gptsharp-$round.json" > /dev/null
  probe "$round-after-gptsharp"
  for type in f32 f16 q8_0 q4_0; do
    echo "[$(date -u +%T)] round $round: llama-batched-bench $type" >&2
    "$LLAMA_BIN/llama-batched-bench" -m "$OUT/gpt2-$type.gguf" -t 2 -tb 2 -c 2048 -b 2048 -ub 512 -npp 1 -ntg 128 -npl 1,8 \
      --output-format jsonl 2>/dev/null | grep '^{' > "$OUT/llama-batched-$type-$round.jsonl" || true
  done
done
python3 bench/decode/summary.py "$OUT" | tee "$OUT/summary.md"
