"""Triggers and instance operations (RECOVERY, SUPER_RECOVERY, RERUN,
DEBUG, stop, cancel, retry, actions), and the faults of execution: a worker
killed mid-job (LOST, retried elsewhere) and a master killed mid-DAG (the
DAG completes, every action runs exactly once)."""
import json
import os
import time

from harness import ClusterTest, wait_until

ACTIVE = ("WAITING", "QUEUED", "DISPATCHED", "RUNNING")
NEVER = "0 0 3 1 1 ? 2099"  # a cron that does not fire during a test


class OpsTest(ClusterTest):
    via = None

    def cli(self, *args, ok=True):
        rc, out, err = self.c.run_cli("--url", self.via.url, *args)
        if ok:
            self.assertEqual(rc, 0, err)
            return out
        return rc, out, err

    def jcli(self, *args):
        return json.loads(self.cli("--json", *args))

    def instances(self, job):
        return self.jcli("instances", "--job", job)["instances"]

    def instance(self, iid):
        return self.jcli("instance", str(iid))

    def wait_final(self, iid, timeout=30):
        return wait_until(lambda: (lambda i: i if i["status"] not in ACTIVE
                                   else None)(self.instance(iid)), timeout,
                          interval=0.1, what="instance %d to end" % iid)

    def wait_job(self, job, n, status="SUCCEEDED", timeout=30):
        """Waits for n instances of job in status; returns all its rows."""
        def ok():
            rows = self.instances(job)
            return rows if sum(r["status"] == status for r in rows) >= n else None
        return wait_until(ok, timeout, interval=0.2,
                          what="%d %s instance(s) of %s" % (n, status, job))

    def counter(self, job):
        return os.path.join(self.c.dir, job + ".runs")

    def runs(self, job):
        """Lines the job's script appended: one per execution."""
        try:
            with open(self.counter(job)) as f:
                return f.read().split()
        except FileNotFoundError:
            return []

    def add(self, name, script, *sched, group="default", extra=()):
        self.cli("job", "add", name, "--group", group, "--script", script,
                 *(sched or ("--cron", NEVER)), *extra)


class TestOperations(OpsTest):
    def setUp(self):
        super().setUp()
        self.m = self.via = self.c.node("m1")
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1"])

    def first_action(self, job):
        acts = self.jcli("actions", "--job", job,
                         "--date", time.strftime("%Y-%m-%d"))["actions"]
        if not acts:  # late in the day: tomorrow's
            acts = self.jcli("actions", "--job", job, "--date",
                             time.strftime("%Y-%m-%d",
                                           time.localtime(time.time() + 86400)))["actions"]
        return acts[0]

    def test_recovery_releases_downstream_and_chain_reruns_it(self):
        self.add("up", "echo $HERACRON_ACTION_ID >> %s" % self.counter("up"),
                 "--cron", "0 0 23 * * ?")
        self.add("down", "echo $HERACRON_TRIGGER >> %s" % self.counter("down"),
                 "--upstream", "up")
        act = wait_until(lambda: self.first_action("down"), 15,
                         what="versions of down")
        self.assertEqual(len(act["upstreams"]), 1)
        up_action = act["upstreams"][0]
        out = self.cli("recover", str(up_action))
        self.assertIn("RECOVERY", out)
        self.wait_job("down", 1)
        self.assertEqual(self.runs("down"), ["schedule"])
        self.assertEqual(self.runs("up"), [str(up_action)])
        # SUPER_RECOVERY: the action again, then its downstream chain
        self.cli("recover", "--chain", str(up_action))
        rows = self.wait_job("down", 2)
        self.assertEqual(self.runs("down"), ["schedule", "super_recovery"])
        self.assertEqual(sorted(r["trigger"] for r in rows),
                         ["SCHEDULE", "SUPER_RECOVERY"])
        # a recovery while one is under way is refused
        self.add("slow", "sleep 3", "--cron", "0 0 23 * * ?")
        sa = wait_until(lambda: self.first_action("slow"), 15)["id"]
        self.cli("recover", str(sa))
        rc, out, err = self.cli("recover", str(sa), ok=False)
        self.assertEqual(rc, 1)
        self.assertIn("under way", err)
        rc, out, err = self.cli("recover", "999999999999999999", ok=False)
        self.assertEqual(rc, 2)
        self.assertIn("no such action", err)

    def test_debug_run(self):
        f = os.path.join(self.c.dir, "adhoc.sh")
        with open(f, "w") as fh:
            fh.write("echo debug says $HERACRON_TRIGGER\nexit 3\n")
        out = self.cli("debug", "--script-file", f, "--follow")
        self.assertIn("debug says debug", out)
        rows = self.jcli("instances", "--status", "FAILED")["instances"]
        self.assertEqual([(r["trigger"], r["exit_code"]) for r in rows],
                         [("DEBUG", 3)])
        rc, out, err = self.cli("debug", "--script-file", "/nonexistent", ok=False)
        self.assertEqual(rc, 2)
        rc, out, err = self.cli("debug", "--group", "nobody-has-it",
                                "--script-file", f, ok=False)
        self.assertEqual(rc, 0)  # queued: it waits for a worker of that group

    def test_rerun_backfills_days_n_at_a_time(self):
        log = self.counter("bf")
        # each run notes its day and how many runs were under way with it
        self.add("bf", "echo start $HERACRON_BIZDATE >> {0}; sleep 1;"
                 " echo end $HERACRON_BIZDATE >> {0}".format(log))
        out = self.cli("rerun", "bf", "--from", "2026-02-26", "--to", "2026-03-02",
                       "--parallel", "2")
        self.assertIn("5 day(s)", out)
        rows = self.wait_job("bf", 5, timeout=40)
        self.assertEqual({r["trigger"] for r in rows}, {"RERUN"})
        events = [ln.split() for ln in open(log).read().splitlines()]
        days = [d for e, d in events if e == "start"]
        self.assertEqual(sorted(days), ["20260226", "20260227", "20260228",
                                        "20260301", "20260302"])
        running = peak = 0
        for e, _ in events:
            running += 1 if e == "start" else -1
            peak = max(peak, running)
        self.assertEqual(peak, 2)
        # bad input
        for args, field in ((("--from", "2026-03-02", "--to", "2026-03-01"), "before"),
                            (("--from", "2026-13-01", "--to", "2026-03-01"), "date"),
                            (("--from", "2025-01-01", "--to", "2026-12-31"), "366")):
            rc, out, err = self.cli("rerun", "bf", *args, ok=False)
            self.assertEqual(rc, 2, err)
            self.assertIn(field, err)
        rc, out, err = self.cli("rerun", "nosuch", "--from", "2026-01-01",
                                "--to", "2026-01-01", ok=False)
        self.assertEqual(rc, 2)
        self.assertIn("no such job", err)

    def test_variables_folders_and_date_macros(self):
        self.cli("folder", "set", "/etl", "--var", "region=eu", "--var",
                 "who=folder")
        self.cli("folder", "set", "/etl/daily", "--var", "region=us")
        folders = self.jcli("folder", "list")["folders"]
        self.assertEqual([f["path"] for f in folders], ["/etl", "/etl/daily"])
        self.add("vars", 'echo "${region} ${who} ${own} ${yesterday}'
                 ' ${zdt.addDay(-1).format("yyyyMMdd")}'
                 ' ${zdt.addMonth(-1).format("yyyy-MM")} ${HOME:+shell}"',
                 extra=("--folder", "/etl/daily", "--var", "own=job"))
        self.cli("rerun", "vars", "--from", "2026-03-01", "--to", "2026-03-01")
        row = self.wait_job("vars", 1)[0]
        self.assertEqual(self.cli("log", str(row["id"])),
                         "us folder job 20260228 20260228 2026-02 shell\n")
        # a bad macro fails the instance without running it, saying why
        self.add("badmacro", 'echo ${zdt.adDay(1)}')
        iid = json.loads(self.cli("--json", "run", "badmacro"))["instance"]
        inst = self.wait_final(iid)
        self.assertEqual(inst["status"], "FAILED")
        self.assertIn("adDay", inst["reason"])
        rc, out, err = self.cli("job", "add", "badvar", "--script", "true",
                                "--cron", NEVER, "--var", "no spaces=x", ok=False)
        self.assertEqual(rc, 2)
        self.assertIn("variables", err)

    def test_stop_cancel_retry(self):
        self.add("long", "echo started; sleep 60")
        iid = json.loads(self.cli("--json", "run", "long"))["instance"]
        wait_until(lambda: self.instance(iid)["status"] == "RUNNING", 10)
        self.cli("stop", str(iid))
        inst = self.wait_final(iid, timeout=15)
        self.assertEqual(inst["status"], "STOPPED")
        # a stopped instance is not retried by itself, but can be by hand
        self.assertEqual(len(self.instances("long")), 1)
        out = self.cli("retry", str(iid))
        self.assertIn("retry of %d" % iid, out)
        rows = self.instances("long")
        self.assertEqual(len(rows), 2)
        again = rows[0]["id"]
        wait_until(lambda: self.instance(again)["status"] == "RUNNING", 10)
        self.cli("stop", str(again))
        self.assertEqual(self.wait_final(again)["status"], "STOPPED")
        # cancel: only before it starts (a group nobody serves keeps it queued)
        self.add("nowhere", "true", group="nobody")
        qid = json.loads(self.cli("--json", "run", "nowhere"))["instance"]
        self.cli("cancel", str(qid))
        self.assertEqual(self.instance(qid)["status"], "CANCELED")
        for verb, iid_, code in (("cancel", qid, 1), ("stop", qid, 1),
                                 ("retry", 99999999, 2), ("stop", 0, 2)):
            rc, out, err = self.cli(verb, str(iid_), ok=False)
            self.assertEqual(rc, code, (verb, err))


class TestBoundedLog(OpsTest):
    def setUp(self):
        super().setUp()
        self.m = self.via = self.c.node("m1", extra={"node.log_max_bytes": 8192})
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1"])

    def test_head_and_tail_kept(self):
        self.add("chatty", "i=1; while [ $i -le 3000 ]; do echo line $i; "
                 "i=$((i+1)); done")
        iid = json.loads(self.cli("--json", "run", "chatty"))["instance"]
        self.assertEqual(self.wait_final(iid)["status"], "SUCCEEDED")
        log = self.cli("log", str(iid))
        head, sep, tail = log.partition("\n[heracron: ")
        self.assertTrue(sep, log[:200])
        self.assertTrue(head.startswith("line 1\nline 2\n"))
        self.assertEqual(len(head.encode()), 4096)
        self.assertIn("bytes of output cut here", tail)
        self.assertTrue(tail.endswith("line 2999\nline 3000\n"))
        full = sum(len("line %d\n" % i) for i in range(1, 3001))
        cut = int(tail.split()[0])
        self.assertEqual(cut, full - 8192)


class TestWorkerLoss(OpsTest):
    """SIGKILL of a worker in the middle of a job."""

    def setUp(self):
        super().setUp()
        self.m = self.via = self.c.node("m1", groups="ctl",
                                        extra={"master.worker_timeout_ms": 2000})
        self.c.wait_master(among=("m1",))
        self.w1 = self.c.node("w1", master_group=False, groups="work")
        self.c.wait_workers(self.m, ["m1", "w1"])

    def test_killed_worker_instance_is_lost_and_retried_elsewhere(self):
        self.add("victim", "echo $HERACRON_INSTANCE_ID >> %s; sleep 4; echo done"
                 % self.counter("victim"), group="work",
                 extra=("--retries", "1", "--retry-wait", "0"))
        iid = json.loads(self.cli("--json", "run", "victim"))["instance"]
        wait_until(lambda: self.instance(iid)["status"] == "RUNNING", 10)
        self.w2 = self.c.node("w2", master_group=False, groups="work")
        self.c.wait_workers(self.m, ["m1", "w1", "w2"])
        self.w1.kill()
        inst = self.wait_final(iid, timeout=20)
        self.assertEqual(inst["status"], "LOST")
        self.assertEqual(inst["worker"], "w1")
        rows = self.wait_job("victim", 1, timeout=20)
        retry = [r for r in rows if r["id"] != iid][0]
        self.assertEqual((retry["worker"], retry["attempt"]), ("w2", 2))
        self.assertEqual(self.runs("victim"), [str(iid), str(retry["id"])])

    def test_worker_restarted_with_the_same_name(self):
        self.add("victim2", "sleep 30", group="work")
        iid = json.loads(self.cli("--json", "run", "victim2"))["instance"]
        wait_until(lambda: self.instance(iid)["status"] == "RUNNING", 10)
        self.w1.kill()
        self.w1.start()  # back before the timeout, without the job
        inst = self.wait_final(iid, timeout=20)
        self.assertEqual(inst["status"], "LOST")


class TestMasterFailoverMidDag(OpsTest):
    """SIGKILL of the master while a DAG runs: it completes, and every
    action runs exactly once (each run appends its action id to a file)."""

    def setUp(self):
        super().setUp()
        # the masters run no DAG job: killing one must not kill a job
        self.m1 = self.c.node("m1", groups="ctl")
        self.c.wait_master(among=("m1",))
        self.m2 = self.c.node("m2", groups="ctl")
        self.w1 = self.c.node("w1", master_group=False, groups="default")
        self.w2 = self.c.node("w2", master_group=False, groups="etl")
        self.via = self.m2
        self.c.wait_workers(self.m1, ["m1", "m2", "w1", "w2"])

    def test_dag_completes_once(self):
        def add(name, *sched, group="default"):
            self.add(name, "echo $HERACRON_ACTION_ID >> %s; sleep 1.5"
                     % self.counter(name), *sched, group=group)
        add("a", "--cron", "0 * * * * ?")  # versions are per minute
        add("b", "--upstream", "a")
        add("c", "--upstream", "a", group="etl")
        add("d", "--upstream", "b,c")
        add("e", "--upstream", "d")
        add("f", "--upstream", "d")
        # kill the master while b and c (the second level) run
        wait_until(lambda: self.runs("b") or None, 90, interval=0.1,
                   what="the DAG's second level to start")
        first = self.runs("a")[0]
        self.m1.kill()
        self.c.wait_master(among=("m2",), timeout=15)
        # the DAG of that action completes on the new master
        minute = first[:12]  # a dependent action has its base's time
        def done():
            return all(minute in [x[:12] for x in self.runs(j)] for j in "ef")
        wait_until(done, 60, interval=0.2, what="the DAG to complete")
        for job in "abcdef":
            got = self.runs(job)
            self.assertEqual(len(got), len(set(got)),
                             "%s ran an action twice: %s" % (job, got))
            self.assertIn(minute, [x[:12] for x in got], job)
        rows = self.c.sql("SELECT action_id, COUNT(*) FROM instances WHERE "
                          "status = 'SUCCEEDED' GROUP BY action_id HAVING COUNT(*) > 1")
        self.assertEqual(rows, [])
        lost = self.c.sql("SELECT COUNT(*) FROM instances WHERE status = 'LOST'")
        self.assertEqual(lost, [["0"]])
