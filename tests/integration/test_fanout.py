"""Fan-out jobs: broadcast to every worker of a group, static shards spread
by load with a failed shard retried alone, a minimum success fraction,
and stopping a fanned-out instance."""
import os

from harness import ClusterTest, wait_until

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
                                                "cron": "0 0 3 * * ?", "fanout": "map"})
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
