#!/usr/bin/env bash
# The heracron demo: a private MariaDB, three nodes on loopback (demo1 and
# demo2 in the master group, demo3 a plain worker), who is master and how
# loaded the workers are, a sample DAG of five jobs run in dependency order
# (and a flaky job retried, whose failure is mailed to a local SMTP sink),
# a map/reduce job fed to runners, then a failover (the master is killed
# with SIGKILL).  The web console is on http://127.0.0.1:18081/ (user
# admin, the password is printed).  Stops everything it started at the end or on
# Ctrl-C.
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
  [ -n "${SINK_PID:-}" ] && kill -TERM "$SINK_PID" 2>/dev/null
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
say "starting an SMTP sink for the alert mail (mails land in $DEMO/mail)"
SMTP_PORT=17025
/usr/bin/python3 "$ROOT/tests/integration/smtp_sink.py" "$SMTP_PORT" "$DEMO/mail" \
  >"$DEMO/smtp.log" 2>&1 &
SINK_PID=$!
cat > "$DEMO/heracrond.conf" <<CONF
[db]
host = 127.0.0.1
port = $MDB_PORT
user = heracron
password_file = $DEMO/db.password
database = heracron

[cluster]
token_file = $DEMO/cluster.token

[smtp]
host = 127.0.0.1
port = $SMTP_PORT
starttls = off
group_s = 2

[console]
url = http://127.0.0.1:18081
CONF
head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DEMO/admin.password"
chmod 600 "$DEMO/admin.password"
"$B/heracron" -c "$DEMO/heracrond.conf" db init --admin-user admin \
  --admin-password-file "$DEMO/admin.password" --admin-email admin@example.test
# The CLI below acts with the cluster token (an administrator).
export HERACRON_TOKEN
HERACRON_TOKEN=$(cat "$DEMO/cluster.token")

say "starting three nodes (logs in $DEMO/*.log)"
start_node() { # name master-port http-port master-group
  "$B/heracrond" -c "$DEMO/heracrond.conf" --node.name="$1" \
    --node.address="127.0.0.1:$2" --master.listen="127.0.0.1:$2" \
    --http.listen="127.0.0.1:$3" --node.master_group="$4" \
    --node.groups="$5" --node.work_dir="$DEMO/$1-work" \
    --http.console_dir="$ROOT/web" \
    >>"$DEMO/$1.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$1=$!"
  echo "$1: pid $!, master port $2, http $3, master group $4"
}
start_node demo1 17071 18081 true default
start_node demo2 17072 18082 true default
start_node demo3 17073 18083 false default,etl

show() {
  echo
  "$B/heracron" --url http://127.0.0.1:18083 status || true
  echo
  "$B/heracron" --url http://127.0.0.1:18083 workers || true
}

say "the cluster (refreshed every 2 s)"
for _ in 1 2 3; do sleep 2; show; done

H="$B/heracron --url http://127.0.0.1:18083"
add() { $H job add "$@" --owner admin --folder /demo >/dev/null && echo "job $1 added"; }
say "a sample DAG: extract -> (clean, enrich on the etl group) -> load -> report"
add extract --cron '0 0 2 * * ?' \
  --script 'echo "extracting day ${zdt.addDay(-1).format("yyyy-MM-dd")}"; sleep 1'
add clean --upstream extract --script 'echo cleaning; sleep 1'
add enrich --upstream extract --group etl \
  --script 'echo "enriching on $(hostname) as $HERACRON_TRIGGER"; sleep 1'
add load --upstream clean,enrich --script 'echo loading; sleep 1'
add report --upstream load --script 'echo "report for $HERACRON_BIZDATE"'
add flaky --cron '0 0 4 * * ?' --retries 1 --retry-wait 1 \
  --script 'echo "attempt $HERACRON_ATTEMPT fails"; exit 3'
sleep 3
tomorrow=$(date -d tomorrow +%F)
$H actions --date "$tomorrow" --job load
action=$($H --json actions --date "$tomorrow" --job extract |
  sed -n 's/.*"id": \([0-9]*\),.*/\1/p' | head -1)
say "running the chain from extract's version $action now (recover --chain)"
$H recover --chain "$action"
$H run flaky
for _ in $(seq 1 20); do
  sleep 1
  $H --json instances --job report | grep -q SUCCEEDED && break
done
$H instances
say "the alert mail for flaky, as the SMTP sink received it"
for _ in $(seq 1 20); do
  ls "$DEMO"/mail/*.eml >/dev/null 2>&1 && break
  sleep 0.5
done
mail=$(ls "$DEMO"/mail/*.eml 2>/dev/null | head -1)
if [ -n "$mail" ]; then
  grep -E '^(X-Rcpt-To|Subject|From|Date):' "$mail"
  sed -n '/^Content-Type: text\/plain/,/^--/p' "$mail" | sed -n '4,20p'
else
  echo "(no mail yet; see $DEMO/*.log)"
fi
say "the output of enrich"
$H log "$($H --json instances --job enrich | sed -n 's/.*"id": \([0-9]*\),.*/\1/p' | head -1)"

say "a map/reduce job: 2,000 items squared by runners on the three nodes, then summed"
# Runners (--runner): one long-lived process per map on a worker reads an
# item a line and answers "<exit code> <result>" on fd 3.
add squares --cron '0 0 3 1 1 ? 2099' --map --reduce --runner --script "$(cat <<EOF
case "\$HERACRON_TASK_NAME" in
  root)   seq 1 2000 | $B/heracron map --name square ;;
  square) while read -r x; do echo "0 \$((x * x))" >&3; done ;;
  reduce) awk '{ s += \$1 } END { print "sum of squares:", s }' ;;
esac
EOF
)"
map=$($H --json run squares | sed -n 's/.*"instance": \([0-9]*\).*/\1/p')
t0=$(date +%s%N)
for _ in $(seq 1 120); do
  sleep 0.25
  $H --json instance "$map" | grep -q '"status": "\(SUCCEEDED\|FAILED\)"' && break
done
t1=$(date +%s%N)
$H instance "$map" | grep -E '^(status|parts|reason) '
echo "done $(( (t1 - t0) / 1000000 )) ms after it was queued"
$H instances --parent "$map" --limit 4
$H log "$($H --json instances --parent "$map" --limit 3 |
  sed -n 's/.*"id": \([0-9]*\),.*/\1/p' | sort -n | tail -1)"

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
    demo1) start_node demo1 17071 18081 true default ;;
    demo2) start_node demo2 17072 18082 true default ;;
  esac
  sleep 3
  show
fi

say "web console: http://127.0.0.1:18081/ (or :18082, :18083), user admin, password $(cat "$DEMO/admin.password")"
if [ "$FOREVER" -eq 1 ]; then
  say "running until Ctrl-C; try: HERACRON_TOKEN=\$(cat $DEMO/cluster.token) $B/heracron --url http://127.0.0.1:18081 workers"
  while sleep 5; do show; done
fi
say "demo finished"
