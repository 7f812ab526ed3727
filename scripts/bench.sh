#!/usr/bin/env bash
# Runs the benchmarks and prints their figures:
#   failover time after SIGKILL of the master (median of 7 runs),
#   one master with 1,000 simulated workers: CPU % and memory,
#   version generation for 100,000 jobs.
#   scripts/bench.sh [failover|workers|versions ...]
# Environment: BENCH_FAILOVER_RUNS, BENCH_WORKERS, BENCH_WORKERS_SECONDS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash scripts/install-deps.sh >/dev/null
if [ -f config.status ]; then make distclean >/dev/null 2>&1 || true; fi
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build
( cd build && { [ -f Makefile ] || ../configure --enable-werror >/dev/null; } &&
  make -j"$(nproc)" >/dev/null && make tests/bench/fakeworkers tests/bench/bench_versions >/dev/null )
HERACRON_BUILD_DIR="$ROOT/build" exec /usr/bin/python3 tests/bench/bench.py "$@"
