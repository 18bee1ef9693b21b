#!/usr/bin/env bash
# Runs the quality-engine benchmark: bench's tessera-algo-bench once per data
# set, method and thread count, each in a fresh process (so peak RSS is per
# method), and prints a Markdown table with crowd-kit's reference timings.
#
# Usage: bench/algo.sh [DATA_DIR]   (default /tmp/tessera-algo-data)
# Data: DATA_DIR/{synth_100k,synth_1m,synth_4m,pair_10k}.{answers,truth}.csv,
#   made by ../shared/bench/gen_synth.py (GEN_SYNTH overrides its path) when
#   missing; without the generator it says how to get them and exits 0.
# Env:  BUILD_DIR (default build), ALGO_SETS (default "500k 5m 20m pairs"),
#       ALGO_THREADS (default "1 2"), ALGO_REPEAT (runs per cell, the fastest
#       compute is kept; default 1), PYTHON (default /usr/bin/python3).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
BENCH="${BUILD_DIR}/bench/tessera-algo-bench"
DATA="${1:-/tmp/tessera-algo-data}"
SETS="${ALGO_SETS:-500k 5m 20m pairs}"
THREADS="${ALGO_THREADS:-1 2}"
REPEAT="${ALGO_REPEAT:-1}"
PYTHON="${PYTHON:-/usr/bin/python3}"
GEN_SYNTH="${GEN_SYNTH:-$(cd .. && pwd)/shared/bench/gen_synth.py}"

if [[ ! -x "${BENCH}" ]]; then
  echo "algo.sh: ${BENCH} not found; build it first:" >&2
  echo "  cmake --build ${BUILD_DIR} --target tessera-algo-bench" >&2
  exit 1
fi

# Per set: file prefix, gen_synth.py arguments, methods, and crowd-kit's
# fit+predict seconds per method (../shared/bench/README.md; "best" is
# compared with crowd-kit's Dawid-Skene, the model it smooths).
declare -A PREFIX=(
  [500k]=synth_100k [5m]=synth_1m [20m]=synth_4m [pairs]=pair_10k)
declare -A GEN=(
  [500k]="cat --tasks 100000 --classes 4 --workers 1000 --overlap 5 --seed 100"
  [5m]="cat --tasks 1000000 --classes 4 --workers 5000 --overlap 5 --seed 1000"
  [20m]="cat --tasks 4000000 --classes 4 --workers 1000 --overlap 5 --seed 4000"
  [pairs]="pair --items 10000 --comparisons 200000 --workers 200 --seed 7")
declare -A METHODS=(
  [500k]="mv wawa ds ocds best glad mace" [5m]="mv wawa ds ocds best"
  [20m]="mv wawa ds ocds best" [pairs]="bt crowd-bt")
declare -A REF=(
  [500k/mv]=0.63 [500k/wawa]=0.97 [500k/ds]=5.35 [500k/ocds]=4.99
  [500k/best]=5.35 [500k/glad]=625 [500k/mace]=222
  [5m/mv]=8.98 [5m/wawa]=20.7 [5m/ds]=70.2 [5m/ocds]=85.9 [5m/best]=70.2
  [pairs/bt]=4.07 [pairs/crowd-bt]=231)

# Make missing data sets, or explain how to get them.
mkdir -p "${DATA}"
for set in ${SETS}; do
  prefix="${DATA}/${PREFIX[${set}]}"
  [[ -f "${prefix}.answers.csv" && -f "${prefix}.truth.csv" ]] && continue
  if [[ ! -f "${GEN_SYNTH}" ]]; then
    cat <<EOF
algo.sh: ${prefix}.answers.csv is missing and the generator
${GEN_SYNTH} is not here. Make the data with gen_synth.py (it needs numpy
and pandas) from the Tessera team's shared benchmark folder:
EOF
    for s in ${SETS}; do
      echo "  ${PYTHON} gen_synth.py ${GEN[${s}]} --out ${DATA}/${PREFIX[${s}]}"
    done
    echo "then run: bench/algo.sh ${DATA}   (or set GEN_SYNTH=/path/to/gen_synth.py)"
    exit 0
  fi
  echo "algo.sh: generating ${set}: gen_synth.py ${GEN[${set}]}" >&2
  "${PYTHON}" "${GEN_SYNTH}" ${GEN[${set}]} --out "${prefix}" >&2
done

load1() { cut -d' ' -f1 /proc/loadavg; }

# One cell: REPEAT fresh processes, keeping the row with the fastest compute.
cell() {
  local set=$1 method=$2 threads=$3 kind=cat best="" best_s="" row s before
  [[ ${set} == pairs ]] && kind=pair
  local prefix="${DATA}/${PREFIX[${set}]}" ref="${REF[${set}/${method}]:-0}"
  for ((i = 0; i < REPEAT; ++i)); do
    before=$(load1)
    row=$("${BENCH}" --kind "${kind}" --answers "${prefix}.answers.csv" \
      --truth "${prefix}.truth.csv" --method "${method}" \
      --threads "${threads}" --set "${set}" --reference-seconds "${ref}")
    row="${row} ${before} → $(load1) |"
    s=$(awk -F'|' '{gsub(/ /, "", $7); print $7}' <<<"${row}")
    if [[ -z "${best_s}" ]] || awk -v a="${s}" -v b="${best_s}" \
        'BEGIN { exit !(a < b) }'; then
      best="${row}"
      best_s="${s}"
    fi
  done
  echo "${best}"
}

started=$(date +%s)
load_start=$(cat /proc/loadavg)
rows=()
for set in ${SETS}; do
  threads_list="${THREADS}"
  # Bradley-Terry and Crowd-BT are single-threaded.
  [[ ${set} == pairs ]] && threads_list=1
  for method in ${METHODS[${set}]}; do
    for threads in ${threads_list}; do
      echo "algo.sh: ${set} ${method} threads=${threads}" >&2
      rows+=("$(cell "${set}" "${method}" "${threads}")")
    done
  done
done
elapsed=$(( $(date +%s) - started ))

cat <<EOF
## Quality engine run of $(date -u +%Y-%m-%dT%H:%MZ) ($(git rev-parse --short HEAD 2>/dev/null || echo "no git")), ${elapsed} s

- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)
- load average (1, 5, 15 min): at start $(cut -d' ' -f1-3 <<<"${load_start}"), at end $(cut -d' ' -f1-3 /proc/loadavg)
- command: \`bench/algo.sh ${DATA}\` (ALGO_THREADS="${THREADS}", ALGO_REPEAT=${REPEAT})

EOF
"${BENCH}" --header | sed -e '1s/$/ load 1 min before → after |/' -e '2s/$/ --- |/'
printf '%s\n' "${rows[@]}"
