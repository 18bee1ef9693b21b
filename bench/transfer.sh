#!/usr/bin/env bash
# Runs the data in/out benchmark: tessera-transfer-bench once per cell, each
# in a fresh process on a fresh SQLite file (so peak RSS is per cell), and
# prints Markdown tables for docs/benchmarks.md.
#
# Usage: bench/transfer.sh
# Env:   BUILD_DIR (default build), XBENCH_DIR (temp files; default /tmp),
#        XBENCH_LINES (default "100000 1000000"), XBENCH_DURABILITY (default
#        "normal full"), XBENCH_IMAGES (default 100000), XBENCH_TIMEOUT
#        (seconds per cell, default 300).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
BENCH="${BUILD_DIR}/bench/tessera-transfer-bench"
DIR="${XBENCH_DIR:-/tmp}"
LINES="${XBENCH_LINES:-100000 1000000}"
DURABILITY="${XBENCH_DURABILITY:-normal full}"
IMAGES="${XBENCH_IMAGES:-100000}"
TIMEOUT="${XBENCH_TIMEOUT:-300}"

if [[ ! -x "${BENCH}" ]]; then
  echo "transfer.sh: ${BENCH} not found; build it first:" >&2
  echo "  cmake --build ${BUILD_DIR} --target tessera-transfer-bench" >&2
  exit 1
fi

run() { timeout --signal=INT "${TIMEOUT}" "${BENCH}" --dir "${DIR}" "$@"; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| import | lines | file MiB | durability | dedupe | seconds | CPU s | tasks/s | tasks per CPU s | RSS before MiB | peak RSS MiB | peak − before MiB |"
echo "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
for durability in ${DURABILITY}; do
  for kind in classify pairwise; do
    for lines in ${LINES}; do
      run --mode import --kind "${kind}" --lines "${lines}" \
        --durability "${durability}"
    done
  done
done
run --mode import --kind classify --lines "${LINES##* }" --durability normal \
  --dedupe
echo
echo "| step | images | boxes | MiB | seconds | CPU s | RSS before MiB | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
run --mode export --images "${IMAGES}" --boxes 10 --durability normal
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
