#!/usr/bin/env bash
# Runs the core-platform benchmark matrix with bench's tessera-loadgen and
# prints Markdown tables: HTTP load (SQLite full/normal, PostgreSQL) at 64 and
# 1,000 connections, the in-process storage limit, and claim latency as a
# pool grows. Everything runs on 127.0.0.1; every server is stopped at the end.
#
# Usage: bench/run.sh            (make bench calls it after building)
# Env:   BUILD_DIR (default build), BENCH_SECONDS (annotate window per level,
#        default 10), BENCH_BACKENDS (default "sqlite-full sqlite-normal
#        postgres"), BENCH_GROWTH_SIZES (default 10000,1000000),
#        BENCH_KEEP=1 keeps the work directory (databases, server logs),
#        BENCH_WORKER_THREADS (e.g. "32 128": extra runs at 1,000 connections
#        with `[server] worker_threads` set to each value; default none) on
#        BENCH_WORKER_BACKENDS (default "sqlite-full sqlite-normal").
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
TESSERA="${BUILD_DIR}/tessera"
LOADGEN="${BUILD_DIR}/bench/tessera-loadgen"
WINDOW="${BENCH_SECONDS:-10}"
BACKENDS="${BENCH_BACKENDS:-sqlite-full sqlite-normal postgres}"
GROWTH_SIZES="${BENCH_GROWTH_SIZES:-10000,1000000}"
WORKER_THREADS="${BENCH_WORKER_THREADS:-}"
WORKER_BACKENDS="${BENCH_WORKER_BACKENDS:-sqlite-full sqlite-normal}"

for bin in "${TESSERA}" "${LOADGEN}"; do
  if [[ ! -x "${bin}" ]]; then
    echo "run.sh: ${bin} not found; build first (make build)" >&2
    exit 1
  fi
done

# PostgreSQL rows need a server: re-run under scripts/with-postgres, which
# starts a throwaway one and stops it when we are done.
if [[ " ${BACKENDS} ${WORKER_THREADS:+${WORKER_BACKENDS}} " == *" postgres "* &&
      -z "${TESSERA_TEST_PG_URL:-}" ]]; then
  exec bash scripts/with-postgres "$0" "$@"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench.XXXXXX")"
report="${work}/report"
mkdir -p "${report}"
child=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # The load generator stops its servers itself, and they die with it
  # (PR_SET_PDEATHSIG) if it is killed.
  if [[ -n "${child}" ]] && kill -0 "${child}" 2>/dev/null; then
    kill -TERM "${child}" 2>/dev/null || true
    wait "${child}" 2>/dev/null || true
  fi
  if [[ "${BENCH_KEEP:-0}" == 1 || ${status} -ne 0 ]]; then
    echo "run.sh: work directory kept: ${work}" >&2
  else
    rm -rf "${work}"
  fi
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs the load generator in the background so that signals reach us at once.
loadgen() {
  "${LOADGEN}" "$@" --tessera "${TESSERA}" --workdir "${work}" \
    --report-dir "${report_dir:-${report}}" >/dev/null &
  child=$!
  local rc=0
  wait "${child}" || rc=$?
  child=""
  return "${rc}"
}

failed=0
started=$(date +%s)
for backend in ${BACKENDS}; do
  echo "== ${backend}" >&2
  loadgen matrix --backend "${backend}" --connections 64,1000 \
    --seconds "${WINDOW}" --review-seconds 5 --tasks 200000 \
    --inproc-threads 32 --inproc-seconds 5 --inproc-claim-only 60000 ||
    { echo "run.sh: ${backend} failed" >&2; failed=1; }
done
echo "== pool growth (${GROWTH_SIZES})" >&2
loadgen growth --sizes "${GROWTH_SIZES}" --durability full --cycles 4000 \
  --threads 8 --connections 64 --inproc-seconds 5 ||
  { echo "run.sh: growth failed" >&2; failed=1; }
# Handler threads: the same 1,000-connection HTTP load (no in-process part)
# against servers started with `[server] worker_threads = N`.
for threads in ${WORKER_THREADS}; do
  printf '[server]\nworker_threads = %d\n' "${threads}" >"${work}/workers-${threads}.toml"
  for backend in ${WORKER_BACKENDS}; do
    echo "== ${backend}, ${threads} worker threads" >&2
    report_dir="${report}/workers" loadgen matrix --backend "${backend}" --connections 1000 \
      --seconds "${WINDOW}" --review-seconds 5 --tasks 200000 \
      --paced-think-ms 0 --skip-inproc \
      --server-config "${work}/workers-${threads}.toml" \
      --label "${backend}, ${threads} workers" ||
      { echo "run.sh: ${backend} with ${threads} workers failed" >&2; failed=1; }
  done
done
elapsed=$(( $(date +%s) - started ))

fsync_rate() {
  # 4 KiB synchronous writes per second on the work directory's disk.
  local out
  out=$(dd if=/dev/zero of="${work}/fsync.probe" bs=4k count=500 oflag=dsync 2>&1 | tail -1)
  rm -f "${work}/fsync.probe"
  echo "${out}"
}

rows() { if [[ -f "${report}/$1" ]]; then cat "${report}/$1"; else echo "| (no rows) |"; fi; }

cat <<EOF2
## Run of $(date -u +%Y-%m-%dT%H:%MZ) ($(git rev-parse --short HEAD 2>/dev/null || echo "no git")), ${elapsed} s

- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r)
- disk: dd 4 KiB O_DSYNC writes: $(fsync_rate)
- command: \`bench/run.sh\` (BENCH_SECONDS=${WINDOW}, backends: ${BACKENDS})

### HTTP load (closed loop: each connection starts its next request when the last is answered)

Latencies in ms (p50 / p99 / max). Server split = mean ms of: first route's handler / second route's handler / store write transaction / store read transaction, from the server's /metrics (handler time includes waiting for a worker thread; store time includes waiting for the writer). CPU = cores busy during the window: the tessera server / the load generator / the whole machine (the rest is PostgreSQL, the kernel, and anyone else on the machine); the window includes the grace time of a slow run, so treat it as approximate.

| backend | conns | cycle | cycles/s | first request | second request | cycle p99 | server split (ms) | errors | CPU server / client / machine | server RSS / anon MiB |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
$(rows http.md)

### In-process limit (service::Service called directly, no HTTP; fresh identical database)

| backend | operation | threads | ops/s | claim p50 / p99 / max | submit p50 / p99 / max | errors |
| --- | --- | --- | --- | --- | --- | --- |
$(rows inproc.md)

### HTTP vs in-process (target: claim→submit cycles over HTTP ≥ 40% of in-process claims/s; p99 < 50 ms at 1,000 connections)

| backend | conns | HTTP cycle | HTTP cycles/s | in-process claims/s | HTTP cycles ÷ claims | in-process cycles/s | HTTP cycles ÷ cycles | claim / submit p99 ms | server RSS / HWM MiB |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
$(rows ratio.md)

### Claim latency as the pool grows (SQLite, durability full; each measurement bounded to 4,000 cycles)

| backend | pool tasks | insert time s (rate) | in-process claim p50 / p99 ms | HTTP claim p50 / p99 ms | HTTP cycles/s | errors |
| --- | --- | --- | --- | --- | --- | --- |
$(rows growth.md)
EOF2
if [[ -n "${WORKER_THREADS}" ]]; then
  cat <<EOF2

### Handler threads at 1,000 connections (\`[server] worker_threads\`: ${WORKER_THREADS})

| backend, workers | conns | cycle | cycles/s | first request | second request | cycle p99 | server split (ms) | errors | CPU server / client / machine | server RSS / anon MiB |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
$(rows workers/http.md)
EOF2
fi
exit "${failed}"
