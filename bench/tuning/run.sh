#!/usr/bin/env bash
# The tuning benchmark (bench/README.md, "Tuning"): GptSharp's tuner and Optuna side by side.
#   bench/tuning/run.sh [OUT_PREFIX]       default OUT_PREFIX: bench/results/<today>-tuning
# Writes OUT_PREFIX-gptsharp.json, OUT_PREFIX-optuna.json and OUT_PREFIX-summary.md (the table summary.py prints).
# Installs Debian's python3-optuna and python3-psycopg2 when missing, builds the harness, starts a throwaway
# PostgreSQL cluster (initdb + pg_ctl, a temporary directory, a loopback port; stopped at exit) when PostgreSQL 15's
# binaries are there, and runs both sides one after the other.
# Environment: PARTS (default quality,sampler-time,storage), SEEDS (number of seeds, default 10), SIDES (gptsharp,optuna).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
OUT=${1:-bench/results/$(date -u +%Y-%m-%d)-tuning}
PARTS=${PARTS:-quality,sampler-time,storage}
SIDES=${SIDES:-gptsharp,optuna}
SEED_ARGS=(); [ -n "${SEEDS:-}" ] && SEED_ARGS=(--seeds "$SEEDS")
PY=/usr/bin/python3   # Debian's Python: python3-optuna lives there, not in a pyenv on PATH
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

# The peer's packages.
if ! $PY -c 'import optuna, psycopg2' 2>/dev/null; then
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-optuna python3-psycopg2
fi
$PY bench/tuning/optuna_peer.py --check

# A throwaway PostgreSQL cluster, as the storage tests start one.
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
PG_DIR="" PG_URL_OURS="" PG_URL_OPTUNA=""
stop_pg() {
  if [ -n "$PG_DIR" ] && [ -e "$PG_DIR/data/postmaster.pid" ]; then as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true; fi
  [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
  return 0
}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
trap stop_pg EXIT
if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then
  PG_DIR=$(mktemp -d /tmp/gptsharp-tune-pg.XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
  PG_PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust --no-sync >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null
  for db in gptsharp_bench optuna_bench; do as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"; done
  PG_URL_OURS="postgresql://postgres@127.0.0.1:$PG_PORT/gptsharp_bench"
  PG_URL_OPTUNA="postgresql://postgres@127.0.0.1:$PG_PORT/optuna_bench"
  echo "PostgreSQL $($PG_BIN/postgres --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)" >&2
else
  echo "no PostgreSQL binaries (/usr/lib/postgresql/*/bin): the PostgreSQL rows are skipped" >&2
fi
SQLITE_DIR=$(mktemp -d /tmp/gptsharp-tune-sqlite.XXXXXX)
trap 'stop_pg; rm -rf "$SQLITE_DIR"' EXIT

mkdir -p "$(dirname "$OUT")"
if [[ ,$SIDES, == *,gptsharp,* ]]; then
  dotnet build bench/GptSharp.TuningBench -c Release -v q -nologo >&2
  dotnet bench/GptSharp.TuningBench/bin/Release/net10.0/GptSharp.TuningBench.dll --parts "$PARTS" "${SEED_ARGS[@]}" \
    --sqlite-dir "$SQLITE_DIR" ${PG_URL_OURS:+--postgres-url "$PG_URL_OURS"} --json-out "$OUT-gptsharp.json" >/dev/null
fi
if [[ ,$SIDES, == *,optuna,* ]]; then
  $PY bench/tuning/optuna_peer.py --parts "$PARTS" "${SEED_ARGS[@]}" \
    --sqlite-dir "$SQLITE_DIR" ${PG_URL_OPTUNA:+--postgres-url "$PG_URL_OPTUNA"} --json-out "$OUT-optuna.json" >/dev/null
fi
$PY bench/tuning/summary.py "$OUT-gptsharp.json" "$OUT-optuna.json" | tee "$OUT-summary.md"
