#!/usr/bin/env bash
# Compares two builds of the benchmark harness (e.g. the commit before a change and the change), alternating them in
# one run so both see the same machine: training tiny/small (fp32), gpt2 (fp32) and decoding (fp32, int8).
# usage: bench/ab.sh A_DIR B_DIR OUT_DIR [ROUNDS]
#   A_DIR, B_DIR: repository roots, each with bench/GptSharp.Bench built in Release (dotnet build bench/GptSharp.Bench -c Release)
#   OUT_DIR: receives one JSON per run and summary.json (median of the per-round B/A ratios; see bench/ab_summary.py)
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,6p "$0"; exit 2; }
A=$(cd "$1" && pwd); B=$(cd "$2" && pwd); OUT=$3; ROUNDS=${4:-3}
mkdir -p "$OUT"
dll() { echo "$1/bench/GptSharp.Bench/bin/Release/net10.0/GptSharp.Bench.dll"; }
for side in A B; do [ -f "$(dll "${!side}")" ] || { echo "no harness build in ${!side}" >&2; exit 2; }; done
run() { # side round kind args...
  local side=$1 round=$2 kind=$3; shift 3
  local root=${!side}
  echo "[$(date +%T)] $side round $round $kind" >&2
  dotnet "$(dll "$root")" "$@" --no-gemm --json-out "$OUT/$kind-$side-$round.json" >/dev/null
}
for r in $(seq 1 "$ROUNDS"); do
  # Alternate which side goes first so a drift in machine load does not favour one.
  if [ $((r % 2)) -eq 1 ]; then order="A B"; else order="B A"; fi
  for s in $order; do run $s $r train-small --preset tiny,small --precision fp32 --warmup 3 --steps 20; done
  for s in $order; do run $s $r train-gpt2 --preset gpt2 --precision fp32 --warmup 1 --steps 3; done
  for s in $order; do run $s $r decode --decode --precision fp32,int8 --warmup 1 --steps 2; done
done
python3 "$(dirname "$0")/ab_summary.py" "$OUT" "$A" "$B" | tee "$OUT/summary.json"
