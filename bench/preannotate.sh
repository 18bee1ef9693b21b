#!/usr/bin/env bash
# Measures the built-in HOG people detector on coco128's `person` boxes:
# precision/recall/F1 at IoU >= 0.5, box edits with drafts vs from scratch,
# and detector time per image; then the same at stricter score thresholds.
#
# Usage: bench/preannotate.sh          (numbers go to docs/benchmarks.md)
# Env:   BUILD_DIR (default build)
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
BENCH="${BUILD_DIR}/bench/tessera-preannotate-bench"
if [[ ! -x "${BENCH}" ]]; then
  echo "preannotate.sh: ${BENCH} not found; build it first:" >&2
  echo "  cmake --build ${BUILD_DIR} --target tessera-preannotate-bench" >&2
  exit 1
fi

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## defaults (a matched draft needs a move unless IoU >= 0.9)"
"${BENCH}" --sweep 0.6 0.7 0.8 0.85
echo "## same drafts, a matched draft accepted as is at IoU >= 0.75"
"${BENCH}" --accept-iou 0.75 --sweep 0.7 0.85
