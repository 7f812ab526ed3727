#!/usr/bin/env bash
# Fuzzes with libFuzzer (clang, ASan, UBSan), SECONDS each (default 60),
# from the seed corpora in tests/fuzz/corpus/:
#   frame  the frame decoder and Envelope parsing (the worker port's input)
#   cron   the cron parser and next-time search
# Prints executions, speed and peak memory; exits 1 if a crash was found
# (the reproducer is left in build-fuzz/).
#
#   scripts/fuzz.sh [SECONDS] [frame|cron ...]
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
TARGETS=("${@:2}")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(frame cron)
FLAGS=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$OUT" -I"$ROOT/src")
"$CC" "${FLAGS[@]}" "$ROOT/tests/fuzz/fuzz_frame.c" "$ROOT/src/net/frame.c" \
  "$OUT/proto/heracron.pb-c.c" -lprotobuf-c -o "$OUT/fuzz_frame"
"$CC" "${FLAGS[@]}" "$ROOT/tests/fuzz/fuzz_cron.c" "$ROOT/src/sched/cron.c" \
  "$ROOT/src/sched/civil.c" "$ROOT/src/sched/tz.c" -o "$OUT/fuzz_cron"
cd "$OUT"
found=0
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus-$t"
  cp -n "$ROOT"/tests/fuzz/corpus/"$t"/* "corpus-$t/" 2>/dev/null || true
  set +e
  "./fuzz_$t" -max_total_time="$SECS" -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$OUT/$t-" "corpus-$t" >"fuzz-$t.log" 2>&1
  rc=$?
  set -e
  echo "== $t"
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "fuzz-$t.log" || true
  grep -E '^#[0-9]+.*(DONE|cov:)' "fuzz-$t.log" | tail -1
  if [ $rc -ne 0 ] || ls "$OUT/$t"-crash-* "$OUT/$t"-leak-* >/dev/null 2>&1; then
    echo "fuzz $t: FOUND A PROBLEM (see $OUT/fuzz-$t.log)"
    found=1
  else
    echo "fuzz $t: no crash in ${SECS} s"
  fi
done
exit $found
