#!/usr/bin/env bash
# The distillation comparison (issue 13's measured note): a teacher, its distilled half-depth student and two baselines.
#   bench/distill/run.sh [OUT_DIR]        default OUT_DIR: bench/results/<today>-distill
# 1. quickstart's tokenizer and data on samples/text/support.txt;
# 2. the teacher: samples/configs/distill-teacher-pretrain.json (8 layers), then fine-tuned on samples/dialogues/train.jsonl
#    with quickstart-finetune.json for FT_STEPS steps, evaluated every FT_STEPS/15 steps, keeping the checkpoint with the
#    lowest val_loss (load_best_model_at_end: a student learns from the teacher's best, not its last, distributions);
# 3. distilled: --student-layers 4 with samples/configs/distill.json (DISTILL_STEPS steps);
# 4. baseline (a) from scratch: the same 4-layer shape pretrained with the teacher's recipe and steps, then fine-tuned
#    for DISTILL_STEPS steps on the same dialogues (it sees the same data as teacher + student together);
#    baseline (b) layer-initialised, cross-entropy only: the distill run with alpha_ce=0 alpha_clm=1;
# 5. `gptsharp eval` of each on the held-out samples/dialogues/test.jsonl; summary.py writes summary.json and summary.md
#    (validation loss, reply F1, exact match, BLEU, parameters, size, time to decode 128 tokens; ratios to the teacher)
#    with the commands. `gptsharp compare` measures speed more finely (tokens/s at batch 1 and 8, time to first token).
# Environment: PRETRAIN_STEPS (default 1000), FT_STEPS (1500: a teacher trained until its val_loss levels off; one
# fine-tuned for as few steps as its students gets overtaken by them), REUSE=1 (skip a training step whose output has
# final/, e.g. to rerun the students against a kept teacher), DISTILL_STEPS (400), EXTRA (more --set pairs for every training
# run), EVAL_LIMIT (evaluate only the first N test dialogues). A smoke run of the script itself:
#   PRETRAIN_STEPS=3 FT_STEPS=3 DISTILL_STEPS=3 EVAL_LIMIT=3 EXTRA=warmup_steps=0 bench/distill/run.sh /tmp/distill-smoke
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
OUT=${1:-bench/results/$(date -u +%Y-%m-%d)-distill}
PRETRAIN_STEPS=${PRETRAIN_STEPS:-1000} FT_STEPS=${FT_STEPS:-1500} DISTILL_STEPS=${DISTILL_STEPS:-400}
TEACHER_EVAL=$(( FT_STEPS >= 15 ? FT_STEPS / 15 : 1 ))   # the teacher is evaluated 15 times and keeps its best checkpoint
read -r -a EXTRA <<< "${EXTRA:-}"
mkdir -p "$OUT"
: > "$OUT/commands.txt"

dotnet build src/GptSharp.Cli -c Release -v q -nologo >&2
CLI=src/GptSharp.Cli/bin/Release/net10.0/GptSharp.Cli.dll
g() { # runs and records a gptsharp command; with REUSE=1 a training command whose output already has final/ is skipped
  echo "gptsharp $*" >> "$OUT/commands.txt"
  local arg prev="" out=""
  for arg in "$@"; do
    case "$prev" in --output) out=$arg ;; esac
    case "$arg" in output_dir=*) out=${arg#output_dir=} ;; esac
    prev=$arg
  done
  if [ "${REUSE:-0}" = 1 ] && [ -n "$out" ] && { [ -d "$out/final" ] || [ -f "$out/vocab.json" ] || [ -f "$out/meta.json" ]; }; then
    echo "[$(date -u +%T)] reusing $out" >&2; return 0
  fi
  echo "[$(date -u +%T)] gptsharp $*" >&2
  dotnet "$CLI" "$@"
}
evaluate() { # name model
  g eval --model "$2" --data samples/dialogues/test.jsonl ${EVAL_LIMIT:+--limit "$EVAL_LIMIT"} --output "$OUT/eval-$1.json" > "$OUT/eval-$1.txt"
}

g tokenizer train --input samples/text/support.txt --vocab-size 2048 --output "$OUT/tokenizer" --overwrite
g data prepare --tokenizer "$OUT/tokenizer" --input samples/text/support.txt --output "$OUT/data" --document-boundary blank-line --overwrite

g train --config samples/configs/distill-teacher-pretrain.json --set data_dir="$OUT/data" output_dir="$OUT/teacher-pretrain" max_steps="$PRETRAIN_STEPS" "${EXTRA[@]}" --overwrite
g finetune --model "$OUT/teacher-pretrain/final" --data samples/dialogues/train.jsonl --config samples/configs/quickstart-finetune.json \
  --output "$OUT/teacher" --set max_steps="$FT_STEPS" eval_steps="$TEACHER_EVAL" save_steps="$TEACHER_EVAL" load_best_model_at_end=true "${EXTRA[@]}" --overwrite

g distill --teacher "$OUT/teacher/final" --student-layers 4 --data samples/dialogues/train.jsonl --config samples/configs/distill.json \
  --output "$OUT/distilled" --set max_steps="$DISTILL_STEPS" "${EXTRA[@]}" --overwrite
g distill --teacher "$OUT/teacher/final" --student-layers 4 --data samples/dialogues/train.jsonl --config samples/configs/distill.json \
  --output "$OUT/ce-only" --set max_steps="$DISTILL_STEPS" alpha_ce=0 alpha_clm=1 "${EXTRA[@]}" --overwrite

g train --config samples/configs/distill-teacher-pretrain.json --set data_dir="$OUT/data" output_dir="$OUT/scratch-pretrain" max_steps="$PRETRAIN_STEPS" n_layer=4 "${EXTRA[@]}" --overwrite
g finetune --model "$OUT/scratch-pretrain/final" --data samples/dialogues/train.jsonl --config samples/configs/quickstart-finetune.json \
  --output "$OUT/scratch" --set max_steps="$DISTILL_STEPS" eval_steps="$DISTILL_STEPS" "${EXTRA[@]}" --overwrite

timed_decode() { # name model: 128 greedy tokens after a fixed prompt, the best of 3 (model load included)
  local best="" start end
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    dotnet "$CLI" generate --model "$2" --prompt "Where is my order?" --greedy --min-new-tokens 128 --max-new-tokens 128 > /dev/null
    end=$(date +%s.%N)
    best=$(python3 -c "print(min(x for x in [$end - $start, ${best:-1e9}]))")
  done
  echo "$best" > "$OUT/decode-$1.seconds"
}
echo "gptsharp generate --model MODEL --prompt \"Where is my order?\" --greedy --min-new-tokens 128 --max-new-tokens 128   (timed, best of 3)" >> "$OUT/commands.txt"
for run in teacher distilled ce-only scratch; do evaluate "$run" "$OUT/$run/final"; timed_decode "$run" "$OUT/$run/final"; done
python3 bench/distill/summary.py "$OUT" | tee "$OUT/summary.md"
