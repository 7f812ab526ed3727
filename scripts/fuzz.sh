#!/usr/bin/env bash
# Fuzzes the frame decoder and Envelope parsing with libFuzzer (clang,
# ASan, UBSan) for SECONDS (default 60), starting from the seed corpus in
# tests/fuzz/corpus/frame.  Prints executions, speed and coverage; exits 1
# if a crash was found (the reproducer is left in build-fuzz/).
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-60}
OUT=$ROOT/build-fuzz
mkdir -p "$OUT/corpus"
bash "$ROOT/scripts/install-deps.sh" >/dev/null
CC=$(command -v clang-14 || command -v clang)
# The generated protobuf code, without a full build.
protoc-c --proto_path="$ROOT/proto" --c_out="$OUT" "$ROOT/proto/heracron.proto"
mkdir -p "$OUT/proto" && mv "$OUT"/heracron.pb-c.[ch] "$OUT/proto/"
echo '#define PACKAGE_VERSION "fuzz"' > "$OUT/config.h"
"$CC" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$OUT" -I"$ROOT/src" "$ROOT/tests/fuzz/fuzz_frame.c" "$ROOT/src/net/frame.c" \
  "$OUT/proto/heracron.pb-c.c" -lprotobuf-c -o "$OUT/fuzz_frame"
cp -n "$ROOT"/tests/fuzz/corpus/frame/* "$OUT/corpus/" 2>/dev/null || true
cd "$OUT"
set +e
./fuzz_frame -max_total_time="$SECS" -max_len=8192 -print_final_stats=1 \
  corpus >fuzz.log 2>&1
rc=$?
set -e
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' fuzz.log || true
tail -1 fuzz.log | sed 's/^/last: /'
if [ $rc -ne 0 ] || ls crash-* leak-* timeout-* >/dev/null 2>&1; then
  echo "fuzz: FOUND A PROBLEM (see $OUT/fuzz.log and the crash-* file)"
  exit 1
fi
echo "fuzz: no crash in ${SECS} s"
