#!/usr/bin/env bash
# Runs `tessera simulate` for both policies at a few budgets and seeds and
# prints a Markdown table (docs/benchmarks.md, "Workforce simulation").
#
# Usage: bench/simulate.sh
# Env:   BUILD_DIR (default build), SIM_WORKERS (default 300), SIM_TASKS
#        (default 20000), SIM_CLASSES (default 4), SIM_BUDGETS (labels per
#        task, default "3"), SIM_SEEDS (default "1 2"), SIM_CONFIDENCE
#        (tessera's dynamic-overlap confidence targets, default "0.9"),
#        SIM_CONFIG (a config file whose [standing] and [allocation] apply;
#        default none: the built-in defaults).
# A tessera run of the defaults takes 3-4 minutes, a uniform one about 1.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
BIN="${BUILD_DIR}/tessera"
WORKERS="${SIM_WORKERS:-300}"
TASKS="${SIM_TASKS:-20000}"
CLASSES="${SIM_CLASSES:-4}"
BUDGETS="${SIM_BUDGETS:-3}"
SEEDS="${SIM_SEEDS:-1 2}"
CONFIDENCE="${SIM_CONFIDENCE:-0.9}"
CONFIG=()
if [[ -n "${SIM_CONFIG:-}" ]]; then CONFIG=(--config "${SIM_CONFIG}"); fi

if [[ ! -x "${BIN}" ]]; then
  echo "simulate.sh: ${BIN} not found; build it first:" >&2
  echo "  cmake --build ${BUILD_DIR} --target tessera" >&2
  exit 1
fi

echo "workers ${WORKERS}, tasks ${TASKS}, classes ${CLASSES}; $(nproc) cores, $(uname -m)"
echo
echo "| policy | seed | budget | labels | labels/task | accuracy | cost (CNY) | good newcomers | promoted | median tasks to promotion | good type below the bar (promoted) | seconds |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
row='"| \(.policy)\(if .policy == "tessera" then " c=\(.overlap.confidence)" else " k=\(.overlap)" end) | \(.seed) | \(.budget) | \(.labels) | \(.labels_per_task * 100 | round / 100) | \(.accuracy * 10000 | round / 10000) | \(.cost.amount_minor / 100) | \(.newcomers_good) | \(.newcomers_promoted) | \(.median_tasks_to_promotion // "–") | \(.newcomers_good_below_bar) (\(.newcomers_good_below_bar_promoted)) | \(.seconds | round) |"'
for per_task in ${BUDGETS}; do
  budget=$((per_task * TASKS))
  for seed in ${SEEDS}; do
    common=(--workers "${WORKERS}" --tasks "${TASKS}" --classes "${CLASSES}"
      --budget "${budget}" --seed "${seed}" --json "${CONFIG[@]}")
    "${BIN}" simulate "${common[@]}" --policy uniform | jq -r "${row}"
    for c in ${CONFIDENCE}; do
      "${BIN}" simulate "${common[@]}" --policy tessera --confidence "${c}" |
        jq -r "${row}"
    done
  done
done
