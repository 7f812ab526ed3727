"""Running jobs for real: manual runs on workers chosen by load, exit codes,
retries, live logs, timeouts that kill the whole process group."""
import json
import os
import time

from harness import ClusterTest, wait_until


class TestExecution(ClusterTest):
    def setUp(self):
        super().setUp()
        self.m = self.c.node("m1")
        self.w = self.c.node("w1", master_group=False)
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1", "w1"])

    def cli(self, *args):
        rc, out, err = self.c.run_cli("--url", self.m.url, *args)
        self.assertEqual(rc, 0, err)
        return out

    def add(self, name, script, *extra):
        self.cli("job", "add", name, "--script", script, "--cron", "0 0 3 * * ?",
                 *extra)

    def run_job(self, name):
        return json.loads(self.cli("--json", "run", name))["instance"]

    def instance(self, iid):
        return json.loads(self.cli("--json", "instance", str(iid)))

    def wait_final(self, iid, timeout=20):
        return wait_until(lambda: (lambda i: i if i["status"] not in
                                   ("QUEUED", "DISPATCHED", "RUNNING") else None)
                          (self.instance(iid)), timeout, what="instance %d to end" % iid)

    def test_success_env_and_log(self):
        self.add("hello", 'echo "id=$HERACRON_INSTANCE_ID job=$HERACRON_JOB_ID '
                 'trigger=$HERACRON_TRIGGER"; echo to-stderr >&2; pwd')
        iid = self.run_job("hello")
        inst = self.wait_final(iid)
        self.assertEqual((inst["status"], inst["exit_code"], inst["trigger"]),
                         ("SUCCEEDED", 0, "MANUAL"))
        self.assertIn(inst["worker"], ("m1", "w1"))
        log = self.cli("log", str(iid))
        self.assertIn("id=%d job=%d trigger=manual" % (iid, inst["job_id"]), log)
        self.assertIn("to-stderr", log)
        self.assertRegex(log, r"/\d{4}-\d\d-\d\d/manual-%d\n" % iid)

    def test_failure_is_retried_then_fails(self):
        self.add("flaky", "echo attempt; exit 7", "--retries", "2", "--retry-wait", "1")
        first = self.run_job("flaky")
        self.wait_final(first)

        def three():
            rows = json.loads(self.cli("--json", "instances", "--job", "flaky"))["instances"]
            done = [r for r in rows if r["status"] == "FAILED"]
            return rows if len(done) == 3 else None
        rows = wait_until(three, 20, what="three failed attempts")
        self.assertEqual(sorted(r["attempt"] for r in rows), [1, 2, 3])
        self.assertTrue(all(r["exit_code"] == 7 for r in rows))
        time.sleep(1.5)  # and no fourth
        rows = json.loads(self.cli("--json", "instances", "--job", "flaky"))["instances"]
        self.assertEqual(len(rows), 3)

    def test_spread_over_workers(self):
        self.add("sleeper", "sleep 2")
        ids = [self.run_job("sleeper") for _ in range(4)]
        workers = {self.wait_final(i)["worker"] for i in ids}
        self.assertEqual(workers, {"m1", "w1"})

    def test_live_log_while_running(self):
        self.add("slow", "echo first; sleep 3; echo second")
        iid = self.run_job("slow")
        wait_until(lambda: "first" in self.cli("log", str(iid)), 3,
                   what="the first line while the job runs")
        self.assertEqual(self.instance(iid)["status"], "RUNNING")
        rc, out, err = self.c.run_cli("--url", self.m.url, "log", str(iid), "--follow")
        self.assertEqual((rc, out), (0, "first\nsecond\n"), err)

    def test_timeout_kills_the_process_group(self):
        marker = os.path.join(self.c.dir, "grandchild.pid")
        # a grandchild in the background that would outlive a plain kill
        self.add("stuck", "sh -c 'echo $$ > %s; sleep 300' & sleep 300" % marker,
                 "--timeout", "1")
        iid = self.run_job("stuck")
        inst = self.wait_final(iid, timeout=15)
        self.assertEqual(inst["status"], "TIMED_OUT")
        pid = int(open(marker).read())
        wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
                   open("/proc/%d/stat" % pid).read().split()[2] == "Z", 10,
                   what="the grandchild to be killed")

    def test_interpreter_per_type(self):
        self.add("py", 'import os\nprint("py", os.environ["HERACRON_TRIGGER"])',
                 "--type", "python")
        inst = self.wait_final(self.run_job("py"))
        self.assertEqual(inst["status"], "SUCCEEDED")
        self.assertEqual(self.cli("log", str(inst["id"])), "py manual\n")
        # a type no worker has: FAILED at once, saying why, not retried
        self.add("rb", "puts 1", "--type", "ruby", "--retries", "3")
        inst = self.wait_final(self.run_job("rb"))
        self.assertEqual(inst["status"], "FAILED")
        self.assertIn("no interpreter", inst["reason"])
        time.sleep(1)
        rows = json.loads(self.cli("--json", "instances", "--job", "rb"))["instances"]
        self.assertEqual(len(rows), 1)

    def test_old_work_directories_are_removed(self):
        # a worker keeps node.work_keep_days days of work directories; older
        # day directories go within seconds of its start, then hourly
        work = os.path.join(self.c.dir, "w2-work")
        today = time.strftime("%Y-%m-%d")
        for day in ("2001-02-03", "2001-02-04", today):
            os.makedirs(os.path.join(work, day, "manual-1"))
        with open(os.path.join(work, "2001-02-03", "manual-1", "script"), "w") as f:
            f.write("true\n")
        self.c.node("w2", master_group=False, extra={"node.work_keep_days": 3})
        wait_until(lambda: not os.path.exists(os.path.join(work, "2001-02-03")) and
                   not os.path.exists(os.path.join(work, "2001-02-04")), 30,
                   what="old day directories to be removed")
        self.assertTrue(os.path.isdir(os.path.join(work, today, "manual-1")))

    def test_unknown_job(self):
        rc, out, err = self.c.run_cli("--url", self.m.url, "run", "nosuch")
        self.assertEqual(rc, 2)
        self.assertIn("no such job", err)
        rc, out, err = self.c.run_cli("--url", self.m.url, "instance", "424242")
        self.assertEqual(rc, 2)
