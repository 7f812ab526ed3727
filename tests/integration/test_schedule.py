"""Cron scheduling and dependencies: versions for today and tomorrow, a DAG
of six jobs (fan-out, fan-in, an upstream in another host group) running
in dependency order, manual runs not releasing downstream jobs."""
import json
import time

from harness import ClusterTest, wait_until


class TestSchedule(ClusterTest):
    def setUp(self):
        super().setUp()
        self.m = self.c.node("m1", groups="default")
        self.w = self.c.node("w1", master_group=False, groups="etl")
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1", "w1"])

    def cli(self, *args):
        rc, out, err = self.c.run_cli("--url", self.m.url, *args)
        self.assertEqual(rc, 0, err)
        return out

    def instances(self, job):
        return json.loads(self.cli("--json", "instances", "--job", job))["instances"]

    def test_versions_and_dag(self):
        def add(name, *sched, group="default"):
            self.cli("job", "add", name, "--group", group, "--script",
                     "echo %s $HERACRON_ACTION_ID; sleep 0.3" % name, *sched)
        add("a", "--cron", "0 * * * * ?")          # every minute
        add("b", "--upstream", "a")
        add("c", "--upstream", "a", group="etl")    # on the other worker
        add("d", "--upstream", "b,c")               # fan-in
        add("e", "--upstream", "d")                 # fan-out
        add("f", "--upstream", "d")
        # versions: every remaining minute of today and all of tomorrow
        def counts():
            rows = self.c.sql("SELECT j.name, COUNT(*) FROM actions x JOIN jobs j "
                              "ON j.id = x.job_id GROUP BY j.name")
            got = {r[0]: int(r[1]) for r in rows}
            return got if len(got) == 6 else None
        got = wait_until(counts, 15, what="versions of six jobs")
        self.assertEqual(len(set(got.values())), 1, got)
        self.assertGreaterEqual(got["a"], 1440)  # tomorrow at least
        # a dependent action matches its upstream's time, with its job id
        a_id, d_id = self.c.sql(
            "SELECT MIN(x.id), (SELECT MIN(y.id) FROM actions y JOIN jobs k ON "
            "k.id = y.job_id WHERE k.name = 'd') FROM actions x JOIN jobs j ON "
            "j.id = x.job_id WHERE j.name = 'a'")[0]
        self.assertEqual(int(a_id) // 1000000, int(d_id) // 1000000)
        # the DAG runs in order within the next minute
        done = wait_until(lambda: (lambda r: r if r and r[0]["status"] == "SUCCEEDED"
                                   else None)(self.instances("f")), 90, interval=1,
                          what="the DAG to reach f")
        runs = {n: self.instances(n) for n in "abcdef"}
        for n, rows in runs.items():
            self.assertEqual(len(rows), 1, "%s ran %d times" % (n, len(rows)))
            self.assertEqual(rows[0]["status"], "SUCCEEDED", n)
            self.assertEqual(rows[0]["trigger"], "SCHEDULE", n)
        self.assertEqual(runs["c"][0]["worker"], "w1")
        self.assertEqual(runs["a"][0]["worker"], "m1")

        def before(up, down):
            self.assertLessEqual(runs[up][0]["ended_at"], runs[down][0]["started_at"],
                                 "%s must end before %s starts" % (up, down))
        for up, down in (("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"),
                         ("d", "f")):
            before(up, down)
        self.assertEqual(runs["d"][0]["action_id"] // 1000000,
                         runs["a"][0]["action_id"] // 1000000)
        del done

    def test_manual_run_does_not_release_downstream(self):
        self.cli("job", "add", "up", "--script", "true", "--cron", "0 0 3 1 1 ? 2099")
        self.cli("job", "add", "down", "--script", "true", "--upstream", "up")
        iid = json.loads(self.cli("--json", "run", "up"))["instance"]
        wait_until(lambda: self.instances("up") and
                   self.instances("up")[0]["status"] == "SUCCEEDED", 20)
        time.sleep(2)
        self.assertEqual(self.instances("down"), [])
        self.assertIsNone(json.loads(self.cli("--json", "instance", str(iid)))["action_id"])

    def test_job_changed_in_database_is_picked_up(self):
        self.cli("job", "add", "direct", "--script", "true", "--cron", "0 0 3 * * ?")
        wait_until(lambda: int(self.c.sql("SELECT COUNT(*) FROM actions")[0][0]) >= 1, 10)
        # an operator edits the schedule with SQL: old versions are withdrawn
        self.c.sql("UPDATE jobs SET cron = '0 30 4 * * ?', revision = revision + 1 "
                   "WHERE name = 'direct'")

        def moved():
            rows = self.c.sql("SELECT id, status FROM actions ORDER BY id")
            live = [r for r in rows if r[1] == "WAITING"]
            return rows if live and all(r[0][8:12] == "0430" for r in live) else None
        rows = wait_until(moved, 10, what="versions at 04:30")
        self.assertTrue(any(r[1] == "WITHDRAWN" and r[0][8:12] == "0300" for r in rows)
                        or all(r[0][8:12] == "0430" for r in rows))
