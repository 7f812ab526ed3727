#!/usr/bin/env bash
# Runs every test of heracron on this machine, from a fresh clone too:
# installs the Debian packages it needs, builds out of tree, and runs
#   - the cmocka unit tests, then the same binaries under valgrind,
#   - make distcheck,
#   - the integration tests (private MariaDB, real heracrond processes),
#   - with --sanitizers: a second build with ASan+UBSan, its unit and
#     integration tests.
# Ends with "tests: N passed, N failed"; exit status 1 if anything failed.
#
#   scripts/test.sh [--sanitizers] [--no-distcheck] [PATTERN ...]
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SAN=0
DISTCHECK=1
PATTERNS=()
for a in "$@"; do
  case "$a" in
    --sanitizers) SAN=1 ;;
    --no-distcheck) DISTCHECK=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) PATTERNS+=("$a") ;;
  esac
done

PASSED=0
FAILED=0
FAILURES=()
pass() { PASSED=$((PASSED + $1)); }
fail() { FAILED=$((FAILED + $1)); FAILURES+=("$2"); }
step() { printf '\n=== %s\n' "$*"; }

# Servers a previous, interrupted run may have left behind.
cleanup_leftovers() {
  pkill -KILL -f 'heracrond .*--db.socket=/tmp/hc-test-' 2>/dev/null || true
  pkill -KILL -f 'mariadbd .*--datadir=/tmp/hc-test-' 2>/dev/null || true
  rm -rf /tmp/hc-test-* 2>/dev/null || true
}
trap cleanup_leftovers EXIT
cleanup_leftovers

step "dependencies"
bash scripts/install-deps.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }

# An in-tree configure would stop out-of-tree builds: undo it.
if [ -f config.status ]; then
  step "cleaning an in-tree build"
  make distclean >/dev/null 2>&1 || true
fi
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
  step "autoreconf"
  autoreconf -fi || { echo "tests: 0 passed, 1 failed"; exit 1; }
fi

# build DIR [configure args...]
build() {
  local dir=$1
  shift
  mkdir -p "$dir"
  ( cd "$dir" &&
    { [ -f Makefile ] && [ Makefile -nt "$ROOT/configure" ] ||
      "$ROOT/configure" --enable-werror "$@" >configure.out 2>&1 ||
      { cat configure.out; false; }; } &&
    make -j"$(nproc)" >make.out 2>&1 || { tail -50 make.out; false; } ) &&
  ( cd "$dir" && make -j"$(nproc)" check TESTS= >>make.out 2>&1 || { tail -50 make.out; false; } )
}

# unit DIR LABEL [wrapper...]: runs each cmocka binary, counts its cases.
unit() {
  local dir=$1 label=$2
  shift 2
  for t in "$dir"/tests/unit/test_*; do
    [ -x "$t" ] && [ "${t%.c}" = "$t" ] || continue
    local name out rc p f
    name=$(basename "$t")
    out=$("$@" "$t" 2>&1)
    rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    printf '%-28s %s passed, %s failed\n' "$label $name" "$p" "$f"
    pass "$p"
    if [ "$f" -gt 0 ]; then
      fail "$f" "$label $name"
      printf '%s\n' "$out" | tail -40
    fi
  done
}

# integration DIR LABEL: runs the integration tests against DIR's binaries.
integration() {
  local dir=$1 label=$2 p f
  HERACRON_BUILD_DIR="$ROOT/$dir" /usr/bin/python3 tests/integration/run.py \
    "${PATTERNS[@]}" 2>&1 | tee "$ROOT/$dir/integration.out"
  p=$(sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$ROOT/$dir/integration.out")
  f=$(sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$ROOT/$dir/integration.out")
  pass "${p:-0}"
  if [ "${f:-1}" -gt 0 ]; then fail "${f:-1}" "$label"; fi
}

step "build (build/)"
if build build; then
  pass 1
  step "unit tests"
  unit build unit
  step "unit tests under valgrind"
  unit build valgrind valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99
  if [ "$DISTCHECK" -eq 1 ]; then
    step "make distcheck"
    if (cd build && make -j"$(nproc)" distcheck >distcheck.out 2>&1); then
      echo "distcheck passed"; pass 1
    else
      tail -40 build/distcheck.out; fail 1 distcheck
    fi
  fi
  step "integration tests"
  integration build "integration"
else
  fail 1 "build"
fi

if [ "$SAN" -eq 1 ]; then
  step "build with AddressSanitizer + UBSan (build-san/)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  if build build-san --enable-sanitizers; then
    pass 1
    step "unit tests (sanitizers)"
    unit build-san asan
    step "integration tests (sanitizers)"
    integration build-san "integration (sanitizers)"
  else
    fail 1 "sanitizer build"
  fi
fi

echo
if [ ${#FAILURES[@]} -gt 0 ]; then
  echo "failed: ${FAILURES[*]}"
fi
echo "tests: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
