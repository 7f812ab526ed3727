#!/usr/bin/env bash
# The heracron demo: a private MariaDB, three nodes on loopback (demo1 and
# demo2 in the master group, demo3 a plain worker), who is master and how
# loaded the workers are, then a failover (the master is killed with
# SIGKILL).  Stops everything it started at the end or on Ctrl-C.
#
#   scripts/demo.sh [--forever]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
FOREVER=0
[ "${1:-}" = "--forever" ] && FOREVER=1
DEMO=/tmp/heracron-demo
B=$ROOT/build
PIDS=()

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

stop_all() {
  set +e
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  bash "$ROOT/scripts/mdb.sh" stop "$DEMO/mdb" >/dev/null 2>&1
  say "stopped everything the demo started (logs in $DEMO)"
}

# Leftovers of an earlier demo.
if [ -d "$DEMO" ]; then
  pkill -TERM -f "heracrond .*--db.socket=$DEMO/" 2>/dev/null || true
  bash scripts/mdb.sh stop "$DEMO/mdb" >/dev/null 2>&1 || true
  rm -rf "$DEMO"
fi
mkdir -p "$DEMO"

say "installing dependencies and building (build/)"
bash scripts/install-deps.sh
if [ -f config.status ]; then make distclean >/dev/null 2>&1 || true; fi
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p "$B"
( cd "$B" && { [ -f Makefile ] || ../configure --enable-werror >/dev/null; } &&
  make -j"$(nproc)" >/dev/null )

trap stop_all EXIT
trap 'exit 130' INT TERM

say "starting a private MariaDB in $DEMO/mdb"
eval "$(bash scripts/mdb.sh start "$DEMO/mdb")"
openssl rand -hex 32 > "$DEMO/cluster.token" 2>/dev/null ||
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DEMO/cluster.token"
chmod 600 "$DEMO/cluster.token"
echo "heracron-pw" > "$DEMO/db.password"
chmod 600 "$DEMO/db.password"
cat > "$DEMO/heracrond.conf" <<CONF
[db]
host = 127.0.0.1
port = $MDB_PORT
user = heracron
password_file = $DEMO/db.password
database = heracron

[cluster]
token_file = $DEMO/cluster.token
CONF
"$B/heracron" -c "$DEMO/heracrond.conf" db init

say "starting three nodes (logs in $DEMO/*.log)"
start_node() { # name master-port http-port master-group
  "$B/heracrond" -c "$DEMO/heracrond.conf" --node.name="$1" \
    --node.address="127.0.0.1:$2" --master.listen="127.0.0.1:$2" \
    --http.listen="127.0.0.1:$3" --node.master_group="$4" \
    --node.groups=default,etl --node.work_dir="$DEMO/$1-work" \
    >>"$DEMO/$1.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$1=$!"
  echo "$1: pid $!, master port $2, http $3, master group $4"
}
start_node demo1 17071 18081 true
start_node demo2 17072 18082 true
start_node demo3 17073 18083 false

show() {
  echo
  "$B/heracron" --url http://127.0.0.1:18083 status || true
  echo
  "$B/heracron" --url http://127.0.0.1:18083 workers || true
}

say "the cluster (refreshed every 2 s)"
for _ in 1 2 3 4 5 6; do sleep 2; show; done

master=$("$B/heracron" --url http://127.0.0.1:18083 --json status |
  sed -n 's/.*"master": "\([^"]*\)".*/\1/p')
if [ -n "$master" ]; then
  say "killing the master $master with SIGKILL"
  pid_var="PID_$master"
  kill -KILL "${!pid_var}"
  sleep 0.5
  show
  for _ in 1 2 3 4; do sleep 2; show; done
  say "restarting $master: it comes back as a worker"
  case "$master" in
    demo1) start_node demo1 17071 18081 true ;;
    demo2) start_node demo2 17072 18082 true ;;
  esac
  sleep 3
  show
fi

if [ "$FOREVER" -eq 1 ]; then
  say "running until Ctrl-C; try: $B/heracron --url http://127.0.0.1:18081 workers"
  while sleep 5; do show; done
fi
say "demo finished"
