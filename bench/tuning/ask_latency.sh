#!/usr/bin/env bash
# `gptsharp tune ask` against `optuna ask` (Optuna 3.1's CLI) on a SQLite study that already holds N complete trials
# (bench/README.md, "Tuning"): the wall time of one ask as a whole process, TPE, the 5-parameter space of
# bench/tuning/ask_space.json. The issue asks for well under a second at 1,000 trials.
#   bench/tuning/ask_latency.sh [OUT.json] [TRIALS=1000] [RUNS=10]
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
OUT=${1:-bench/results/$(date -u +%Y-%m-%d)-tuning-ask.json}
TRIALS=${2:-1000}
RUNS=${3:-10}
PY=/usr/bin/python3
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! $PY -c 'import optuna' 2>/dev/null; then
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-optuna
fi
TMP=$(mktemp -d /tmp/gptsharp-ask.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
dotnet build src/GptSharp.Cli -c Release -o "$TMP/cli" >&2
dotnet build bench/GptSharp.TuningBench -c Release >&2
SPACE=$(cat bench/tuning/ask_space.json)

dotnet bench/GptSharp.TuningBench/bin/Release/net10.0/GptSharp.TuningBench.dll --fill "sqlite:///$TMP/ours.db" big bench/tuning/ask_space.json "$TRIALS"
# Optuna's study: the same space in its distribution format, N complete random trials.
OPTUNA_SPACE=$($PY - "$TMP/optuna.db" "$TRIALS" <<'PY'
import json, sys, optuna
from optuna.distributions import FloatDistribution, IntDistribution, CategoricalDistribution, distribution_to_json
optuna.logging.set_verbosity(optuna.logging.WARNING)
space = {"x": FloatDistribution(-5, 5), "lr": FloatDistribution(1e-5, 1, log=True), "layers": IntDistribution(1, 8),
         "width": IntDistribution(16, 1024, log=True), "optim": CategoricalDistribution(["adamw", "sgd", "adam"])}
study = optuna.create_study(study_name="big", storage="sqlite:///" + sys.argv[1], sampler=optuna.samplers.RandomSampler(seed=1))
for _ in range(int(sys.argv[2])):
    t = study.ask(space)
    study.tell(t, sum(v if isinstance(v, (int, float)) else len(v) for v in t.params.values()))
print(json.dumps({k: json.loads(distribution_to_json(d)) for k, d in space.items()}))
PY
)

time_runs() { # label, command...
  local label=$1; shift
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N); "$@" > "$TMP/last.out" 2> "$TMP/last.err" || { cat "$TMP/last.err" >&2; exit 1; }; t1=$(date +%s.%N)
    echo "$label $(awk "BEGIN { print $t1 - $t0 }")"
  done
}
{
  time_runs gptsharp dotnet "$TMP/cli/GptSharp.Cli.dll" tune ask --storage "sqlite:///$TMP/ours.db" --study big --sampler tpe --search-space "$SPACE"
  time_runs optuna /usr/bin/optuna ask --storage "sqlite:///$TMP/optuna.db" --study-name big --sampler TPESampler --search-space "$OPTUNA_SPACE"
} > "$TMP/times.txt"
$PY - "$TMP/times.txt" "$OUT" "$TRIALS" <<'PY'
import json, os, statistics, sys, datetime
times = {}
for line in open(sys.argv[1]):
    label, t = line.split()
    times.setdefault(label, []).append(float(t))
doc = {"what": "one `ask` as a whole process, TPE, SQLite, 5 parameters", "trials_in_study": int(sys.argv[3]),
       "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "load_average": os.getloadavg(),
       "seconds": {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "runs": v} for k, v in times.items()}}
doc["optuna_over_gptsharp"] = doc["seconds"]["optuna"]["median"] / doc["seconds"]["gptsharp"]["median"]
with open(sys.argv[2] + ".tmp", "w") as f: json.dump(doc, f, indent=1)
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
print(json.dumps({k: v["median"] for k, v in doc["seconds"].items()} | {"optuna_over_gptsharp": round(doc["optuna_over_gptsharp"], 2)}))
PY
