"""Fan-out jobs: broadcast to every worker of a group, static shards spread
by load with a failed shard retried alone, a minimum success fraction,
and stopping a fanned-out instance."""
import os
import re
import time

from harness import HERACRON, ClusterTest, wait_until

ACTIVE = ("WAITING", "QUEUED", "DISPATCHED", "RUNNING")
# the node a part runs on: its work_dir is <dir>/<node>-work
WHERE = 'w=$(basename "$(dirname "$(dirname "$PWD")")"); w=${w%-work}'


class TestFanout(ClusterTest):
    def setUp(self):
        super().setUp()
        self.m = self.c.node("m1", groups="ctl")
        self.c.wait_master(among=("m1",))
        for n in ("w1", "w2", "w3"):
            self.c.node(n, master_group=False, groups="fleet")
        self.c.wait_workers(self.m, ["m1", "w1", "w2", "w3"])
        self.out = os.path.join(self.c.dir, "parts.txt")

    def job(self, name, script, **kw):
        body = {"name": name, "script": script, "group": "fleet",
                "cron": "0 0 3 1 1 ? 2099"}
        body.update(kw)
        st, j = self.m.api("POST", "/api/jobs", body)
        self.assertEqual(st, 201, j)

    def run_and_wait(self, name, timeout=30):
        st, j = self.m.api("POST", "/api/jobs/%s/run" % name)
        self.assertEqual(st, 201, j)
        iid = j["instance"]
        return wait_until(lambda: (lambda i: i if i["status"] not in ACTIVE else None)
                          (self.m.api("GET", "/api/instances/%d" % iid)[1]), timeout,
                          interval=0.2, what="instance %d to end" % iid)

    def lines(self):
        with open(self.out) as f:
            return sorted(f.read().split("\n")[:-1])

    def parts(self, iid):
        return self.m.api("GET", "/api/instances?parent=%d&limit=100" % iid)[1]["instances"]

    def test_broadcast_runs_once_on_every_worker(self):
        self.job("everywhere", WHERE + '; echo "$w $HERACRON_SHARD_INDEX/'
                 '$HERACRON_SHARD_COUNT" >> ' + self.out, fanout="broadcast")
        inst = self.run_and_wait("everywhere")
        self.assertEqual(inst["status"], "SUCCEEDED", inst)
        self.assertEqual(inst["parts"], {"SUCCEEDED": 3, "total": 3})
        got = self.lines()
        self.assertEqual(sorted(x.split()[0] for x in got), ["w1", "w2", "w3"])
        self.assertEqual(sorted(x.split()[1] for x in got), ["0/3", "1/3", "2/3"])
        parts = self.parts(inst["id"])
        self.assertEqual(sorted(p["worker"] for p in parts), ["w1", "w2", "w3"])
        st, log = self.m.api("GET", "/api/instances/%d/log" % parts[0]["id"])
        self.assertEqual(log["data"], "")  # each part has its own log

    def test_shards_spread_and_a_failed_shard_is_retried_alone(self):
        marker = os.path.join(self.c.dir, "shard2-failed-once")
        self.job("sharded", 'if [ "$HERACRON_SHARD_INDEX" = 2 ] && [ ! -e %s ]; then '
                 'touch %s; exit 1; fi; %s; echo "$HERACRON_SHARD_INDEX/'
                 '$HERACRON_SHARD_COUNT $w" >> %s; sleep 0.5'
                 % (marker, marker, WHERE, self.out),
                 fanout="shards", shards=4, retries=1, retry_wait_s=0)
        inst = self.run_and_wait("sharded")
        self.assertEqual(inst["status"], "SUCCEEDED", inst)
        got = self.lines()
        self.assertEqual([x.split()[0] for x in got], ["0/4", "1/4", "2/4", "3/4"])
        self.assertGreater(len({x.split()[1] for x in got}), 1)  # spread
        parts = self.parts(inst["id"])
        self.assertEqual(len(parts), 5)  # four, and shard 2 again
        self.assertEqual(sorted((p["shard_index"], p["attempt"], p["status"]) for p in parts),
                         [(0, 1, "SUCCEEDED"), (1, 1, "SUCCEEDED"), (2, 1, "FAILED"),
                          (2, 2, "SUCCEEDED"), (3, 1, "SUCCEEDED")])

    def test_minimum_success_fraction(self):
        script = WHERE + '; [ "$w" != w3 ]'
        self.job("mostly", script, fanout="broadcast", min_success_pct=60)
        self.job("all", script, fanout="broadcast")
        inst = self.run_and_wait("mostly")
        self.assertEqual(inst["status"], "SUCCEEDED")
        self.assertEqual(inst["reason"], "2 of 3 part(s) succeeded (60% needed)")
        inst = self.run_and_wait("all")
        self.assertEqual(inst["status"], "FAILED")
        self.assertEqual(inst["parts"], {"SUCCEEDED": 2, "FAILED": 1, "total": 3})
        st, j = self.m.api("POST", "/api/jobs", {"name": "bad", "script": "true",
                                                "cron": "0 0 3 * * ?", "fanout": "shards"})
        self.assertEqual((st, j["field"]), (400, "shards"))
        st, j = self.m.api("POST", "/api/jobs", {"name": "bad", "script": "true",
                                                "cron": "0 0 3 * * ?", "fanout": "everywhere"})
        self.assertEqual((st, j["field"]), (400, "fanout"))

    def test_stop_a_fanned_out_instance(self):
        self.job("long", "sleep 60", fanout="shards", shards=2)
        st, j = self.m.api("POST", "/api/jobs/long/run")
        iid = j["instance"]
        wait_until(lambda: len([p for p in self.parts(iid) if p["status"] == "RUNNING"])
                   == 2, 15, what="both parts running")
        st, j = self.m.api("POST", "/api/instances/%d/stop" % iid)
        self.assertEqual(st, 200, j)
        inst = wait_until(lambda: (lambda i: i if i["status"] not in ACTIVE else None)
                          (self.m.api("GET", "/api/instances/%d" % iid)[1]), 20)
        self.assertEqual(inst["status"], "STOPPED")
        self.assertEqual(inst["parts"], {"STOPPED": 2, "total": 2})


class TestMapReduce(ClusterTest):
    """Map and reduce: sub-tasks emitted by heracron map, spread over the
    group, results reduced; every item once across a worker killed and a
    master killed in the middle."""

    def setUp(self):
        super().setUp()
        self.m1 = self.c.node("m1", groups="ctl", extra={"master.worker_timeout_ms": 2000})
        self.c.wait_master(among=("m1",))
        self.m2 = self.c.node("m2", groups="ctl", extra={"master.worker_timeout_ms": 2000})
        # few slots each, so a map of 60 takes several rounds
        self.w = [self.c.node(n, master_group=False, groups="fleet",
                              extra={"node.max_running": 4}) for n in ("w1", "w2", "w3")]
        self.c.wait_workers(self.m1, ["m1", "m2", "w1", "w2", "w3"])
        self.out = os.path.join(self.c.dir, "items.txt")

    def job(self, name, items, work, **kw):
        script = ('case "$HERACRON_TASK_NAME" in\n'
                  '  root) seq 1 %d | %s map --name square ;;\n'
                  '  square) read -r x; echo $((x * x)); %s;'
                  ' echo "$HERACRON_TASK_ITEM" >> %s ;;\n'
                  "  reduce) awk '{s += $1} END {print \"sum\", s}' ;;\n"
                  'esac\n' % (items, HERACRON, work, self.out))
        body = {"name": name, "script": kw.pop("script", script), "group": "fleet",
                "fanout": "map",
                "reduce": True, "cron": "0 0 3 1 1 ? 2099", "retries": 2,
                "retry_wait_s": 0}
        body.update(kw)
        st, j = self.m1.api("POST", "/api/jobs", body)
        self.assertEqual(st, 201, j)

    def runner_job(self, name, items, work, **kw):
        # the same squares, by runners: an item a line on stdin, a status
        # line "<code> <result>" on fd 3; item 7 fails its first time
        flag = os.path.join(self.c.dir, name + ".failed-once")
        script = ('case "$HERACRON_TASK_NAME" in\n'
                  '  root) seq 1 %d | %s map --name square ;;\n'
                  '  square) while read -r x; do echo "pid $$ item $x"; %s;\n'
                  '    if [ "$x" = 7 ] && [ ! -e %s ]; then touch %s; echo 3 >&3; continue; fi\n'
                  '    echo "$x" >> %s; echo "0 $((x * x))" >&3; done ;;\n'
                  "  reduce) awk '{s += $1} END {print \"sum\", s}' ;;\n"
                  'esac\n' % (items, HERACRON, work, flag, flag, self.out))
        self.job(name, 0, "", script=script, runner=True, **kw)

    def start(self, via, name):
        st, j = via.api("POST", "/api/jobs/%s/run" % name)
        self.assertEqual(st, 201, j)
        return j["instance"]

    def wait_end(self, via, iid, timeout=60):
        return wait_until(lambda: (lambda i: i if i["status"] not in ACTIVE else None)
                          (via.api("GET", "/api/instances/%d" % iid)[1]), timeout,
                          interval=0.3, what="instance %d to end" % iid)

    def items(self):
        with open(self.out) as f:
            return f.read().split()

    def reduce_log(self, via, iid):
        parts = via.api("GET", "/api/instances?parent=%d&limit=1000" % iid)[1]["instances"]
        red = [p for p in parts if p["id"] == max(p["id"] for p in parts)][0]
        return via.api("GET", "/api/instances/%d/log" % red["id"])[1]["data"]

    def test_map_then_reduce(self):
        self.job("squares", 50, "true")
        iid = self.start(self.m1, "squares")
        inst = self.wait_end(self.m1, iid)
        self.assertEqual(inst["status"], "SUCCEEDED", inst)
        self.assertEqual(inst["parts"], {"SUCCEEDED": 52, "total": 52})  # root, 50, reduce
        self.assertEqual(sorted(self.items(), key=int), [str(i) for i in range(1, 51)])
        self.assertEqual(self.reduce_log(self.m1, iid), "sum 42925\n")
        # the CLI pages through the parts, with their task and result
        out = self.c.cli("--url", self.m1.url, "instances", "--parent", str(iid),
                         "--limit", "5", "--offset", "1")
        lines = out.strip().split("\n")
        self.assertEqual(len(lines), 6, out)  # a header and five parts
        self.assertIn("RESULT", lines[0])
        self.assertRegex(lines[1], r"\bsquare\s+\d+$")
        workers = {p["worker"] for p in self.m1.api(
            "GET", "/api/instances?parent=%d&limit=1000" % iid)[1]["instances"]}
        self.assertEqual(workers, {"w1", "w2", "w3"})

    def test_runners_serve_many_items(self):
        self.runner_job("byrunner", 40, "true")
        iid = self.start(self.m1, "byrunner")
        inst = self.wait_end(self.m1, iid)
        self.assertEqual(inst["status"], "SUCCEEDED", inst)
        # root, 40 items, item 7 again, reduce
        self.assertEqual(inst["parts"], {"SUCCEEDED": 42, "total": 42})
        self.assertEqual(sorted(self.items(), key=int), [str(i) for i in range(1, 41)])
        self.assertEqual(self.reduce_log(self.m1, iid), "sum 22140\n")
        parts = self.m1.api("GET", "/api/instances?parent=%d&limit=1000" % iid)[1]["instances"]
        pids = set()
        for p in parts:
            if p.get("task") != "square":
                continue
            log = self.m1.api("GET", "/api/instances/%d/log" % p["id"])[1]["data"]
            m = re.fullmatch(r"pid (\d+) item (\d+)\n", log)
            self.assertIsNotNone(m, "part %d log %r" % (p["id"], log))  # its own output only
            pids.add(m.group(1))
            if p["status"] == "FAILED":
                self.assertEqual((m.group(2), p["exit_code"]), ("7", 3))
        self.assertEqual(sum(p["status"] == "FAILED" for p in parts
                             if p.get("task") == "square"), 1)
        # 12 slots over three workers: far fewer processes than items
        self.assertLessEqual(len(pids), 12)

    def test_runner_protocol_errors(self):
        # a status line that is not "<code>[ <result>]", and a runner that
        # exits without answering: its item fails with the reason
        script = ('case "$HERACRON_TASK_NAME" in\n'
                  '  root) printf "a\\nb\\n" | %s map --name t ;;\n'
                  '  t) read -r x; if [ "$x" = a ]; then echo oops >&3; read -r x; fi; exit 0 ;;\n'
                  'esac\n' % HERACRON)
        self.job("badrunner", 0, "", script=script, runner=True, reduce=False, retries=0)
        iid = self.start(self.m1, "badrunner")
        inst = self.wait_end(self.m1, iid)
        self.assertEqual(inst["status"], "FAILED", inst)
        parts = [p for p in self.m1.api("GET", "/api/instances?parent=%d&limit=100" % iid)[1]
                 ["instances"] if p.get("task") == "t"]
        reasons = sorted(self.m1.api("GET", "/api/instances/%d" % p["id"])[1]["reason"]
                         for p in parts)
        self.assertEqual(len(reasons), 2)
        self.assertTrue(any("bad status line" in r for r in reasons), reasons)
        self.assertTrue(any("ended before answering" in r for r in reasons), reasons)

    def test_runner_flooding_output_times_out(self):
        # a runner that writes without end and never answers: its item
        # times out (the runner is killed); the worker stays responsive
        script = ('case "$HERACRON_TASK_NAME" in\n'
                  '  root) echo a | %s map --name t ;;\n'
                  '  t) while read -r x; do yes flood; done ;;\n'
                  'esac\n' % HERACRON)
        self.job("flood", 0, "", script=script, runner=True, reduce=False, retries=0,
                 timeout_s=2)
        iid = self.start(self.m1, "flood")
        inst = self.wait_end(self.m1, iid, timeout=30)
        self.assertEqual(inst["status"], "FAILED", inst)
        part = [p for p in self.m1.api("GET", "/api/instances?parent=%d&limit=10" % iid)[1]
                ["instances"] if p.get("task") == "t"][0]
        self.assertEqual(part["status"], "TIMED_OUT", part)
        log = self.m1.api("GET", "/api/instances/%d/log" % part["id"])[1]["data"]
        self.assertTrue(log.startswith("flood\nflood\n"), log[:100])
        self.assertEqual(self.m1.api("GET", "/api/workers")[0], 200)

    def test_reserved_names_and_who_may_map(self):
        rc, out, err = self.c.run_cli("map", "--name", "reduce", "--instance", "1",
                                      env={"HERACRON_URL": self.m1.url})
        self.assertEqual(rc, 2)
        self.assertIn("reserved", err)
        st, j = self.m1.api("POST", "/api/instances/1/map", {"name": "x", "items": ["1"]},
                            token="not-the-map-token")
        self.assertEqual(st, 401)

    def survives_worker_kill(self, name, runner=False):
        (self.runner_job if runner else self.job)(name, 60, "sleep 1")
        iid = self.start(self.m1, name)
        wait_until(lambda: len(self.items()) >= 3 if os.path.exists(self.out) else False,
                   30, what="some sub-tasks done")
        # A worker that dies after a sub-task's side effect but before its
        # report reaches a master cannot be told apart from one that died
        # before it: that part runs again.  Kill in the middle of a wave
        # (each sub-task sleeps 1 s, then writes), not right after writes.
        time.sleep(0.4)
        self.w[0].kill()
        inst = self.wait_end(self.m1, iid, timeout=90)
        self.assertEqual(inst["status"], "SUCCEEDED", inst)
        self.assertEqual(sorted(self.items(), key=int), [str(i) for i in range(1, 61)])
        self.assertEqual(self.reduce_log(self.m1, iid), "sum 73810\n")

    def survives_master_kill(self, name, runner=False):
        (self.runner_job if runner else self.job)(name, 60, "sleep 1")
        iid = self.start(self.m1, name)
        wait_until(lambda: len(self.items()) >= 3 if os.path.exists(self.out) else False,
                   30, what="some sub-tasks done")
        self.m1.kill()
        self.c.wait_master(among=("m2",), timeout=15)
        inst = self.wait_end(self.m2, iid, timeout=90)
        self.assertEqual(inst["status"], "SUCCEEDED", inst)
        self.assertEqual(sorted(self.items(), key=int), [str(i) for i in range(1, 61)])
        self.assertEqual(self.reduce_log(self.m2, iid), "sum 73810\n")

    def test_worker_killed_mid_map(self):
        self.survives_worker_kill("survive")

    def test_worker_killed_mid_map_with_runners(self):
        self.survives_worker_kill("survive2", runner=True)

    def test_master_killed_mid_map(self):
        self.survives_master_kill("failover")

    def test_master_killed_mid_map_with_runners(self):
        self.survives_master_kill("failover2", runner=True)
