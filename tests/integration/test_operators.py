"""Operators: logins and tokens, roles and job ownership, the audit trail,
metrics, and input that looks like SQL or HTML kept verbatim."""
import json
import os
import tempfile
import urllib.request

from harness import ClusterTest, wait_until


class TestOperators(ClusterTest):
    def setUp(self):
        super().setUp()
        self.m = self.c.node("m1")
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1"])
        self.home = tempfile.mkdtemp(dir=self.c.dir)
        pw = self.secret("admin-pw", "correct horse battery")
        rc, out, err = self.c.run_cli(
            "--db.socket=" + self.c.mdb.sock, "--db.user=root",
            "--db.database=" + self.c.db, "db", "init", "--admin-user", "alice",
            "--admin-password-file", pw, "--admin-email", "alice@example.org")
        self.assertEqual(rc, 0, err)
        self.assertIn("administrator alice created", out)

    def secret(self, name, text):
        path = os.path.join(self.c.dir, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        return path

    def as_user(self, *args, home=None):
        """The CLI with no token but the one `heracron login` saved."""
        return self.c.run_cli("--url", self.m.url, *args, token="",
                              env={"HOME": home or self.home, "XDG_CONFIG_HOME": ""})

    def login(self, user, password):
        st, j = self.m.api("POST", "/api/login", {"user": user, "password": password},
                           token="")
        self.assertEqual(st, 200, j)
        return j["token"]

    def test_tokens_and_login(self):
        st, j = self.m.api("GET", "/api/jobs", token="")
        self.assertEqual(st, 401)
        st, j = self.m.api("GET", "/api/jobs", token="not-a-token")
        self.assertEqual(st, 401)
        self.assertIn("log in again", j["error"])
        st, j = self.m.api("GET", "/healthz", token="")
        self.assertEqual(st, 200)
        # login through the CLI keeps the token for the next commands
        rc, out, err = self.as_user("login", "--user", "alice", "--password-file",
                                    self.secret("pw", "correct horse battery"))
        self.assertEqual(rc, 0, err)
        self.assertIn("logged in as alice (admin)", out)
        token_file = os.path.join(self.home, ".config", "heracron", "token")
        self.assertEqual(os.stat(token_file).st_mode & 0o777, 0o600)
        rc, out, err = self.as_user("--json", "status")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.as_user("logout")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.as_user("status")
        self.assertEqual(rc, 1)
        # wrong passwords, then the limit
        for _ in range(5):
            st, j = self.m.api("POST", "/api/login",
                               {"user": "alice", "password": "wrong"}, token="")
            self.assertEqual(st, 401)
        st, j = self.m.api("POST", "/api/login",
                           {"user": "alice", "password": "correct horse battery"},
                           token="")
        self.assertEqual(st, 429)
        self.assertIn("wait a minute", j["error"])
        rc, out, err = self.as_user("login", "--user", "alice", "--password-file",
                                    "/nonexistent")
        self.assertEqual(rc, 2)

    def test_roles_and_ownership(self):
        admin = self.login("alice", "correct horse battery")
        for name in ("bob", "carol"):
            st, j = self.m.api("POST", "/api/users", {"name": name, "password": name * 4,
                                                      "email": name + "@example.org"},
                               token=admin)
            self.assertEqual(st, 201, j)
        st, j = self.m.api("POST", "/api/users", {"name": "bob", "password": "x" * 8},
                           token=admin)
        self.assertEqual(st, 409)
        st, j = self.m.api("POST", "/api/users", {"name": "dave", "password": "short"},
                           token=admin)
        self.assertEqual((st, j["field"]), (400, "password"))
        bob, carol = self.login("bob", "bobbobbobbob"), self.login("carol", "carolcarolcarolcarol")
        st, j = self.m.api("GET", "/api/users", token=bob)
        self.assertEqual(st, 403)
        # bob's job: his by default; carol may look, not touch
        st, job = self.m.api("POST", "/api/jobs", {"name": "bobs", "script": "sleep 30",
                                                  "cron": "0 0 3 1 1 ? 2099"}, token=bob)
        self.assertEqual((st, job["owner"]), (201, "bob"))
        st, j = self.m.api("POST", "/api/jobs", {"name": "x", "script": "true",
                                                "cron": "0 0 3 * * ?", "owner": "bob"},
                           token=carol)
        self.assertEqual(st, 403)
        st, j = self.m.api("GET", "/api/jobs/bobs", token=carol)
        self.assertEqual(st, 200)
        for method, path, body in (("PUT", "/api/jobs/bobs", {"retries": 1}),
                                   ("POST", "/api/jobs/bobs/run", None),
                                   ("POST", "/api/jobs/bobs/disable", None),
                                   ("DELETE", "/api/jobs/bobs", None),
                                   ("POST", "/api/reruns", {"job": "bobs", "from": "2026-01-01",
                                                            "to": "2026-01-01"})):
            st, j = self.m.api(method, path, body, token=carol)
            self.assertEqual(st, 403, (method, path, j))
            self.assertIn("belongs to bob", j["error"])
        st, run = self.m.api("POST", "/api/jobs/bobs/run", token=bob)
        self.assertEqual(st, 201, run)
        iid = run["instance"]
        wait_until(lambda: self.m.api("GET", "/api/instances/%d" % iid)[1]["status"]
                   == "RUNNING", 10)
        st, j = self.m.api("POST", "/api/instances/%d/stop" % iid, token=carol)
        self.assertEqual(st, 403)
        st, j = self.m.api("PUT", "/api/jobs/bobs", {"owner": "carol"}, token=bob)
        self.assertEqual(st, 403)
        st, j = self.m.api("POST", "/api/instances/%d/stop" % iid, token=admin)
        self.assertEqual(st, 200, j)
        st, j = self.m.api("PUT", "/api/folders/etl", {"variables": {"a": "b"}}, token=bob)
        self.assertEqual(st, 403)
        # the trail: who did what, with the refusals
        st, j = self.m.api("GET", "/api/audit?limit=100", token=carol)
        self.assertEqual(st, 200)
        rows = [(a["user"], a["method"], a["path"], a["status"]) for a in j["audit"]]
        self.assertIn(("bob", "POST", "/api/jobs/bobs/run", 201), rows)
        self.assertIn(("carol", "DELETE", "/api/jobs/bobs", 403), rows)
        self.assertIn(("alice", "POST", "/api/instances/%d/stop" % iid, 200), rows)
        self.assertIn(("bob", "POST", "/api/login", 200), rows)
        self.assertFalse(any("bobbob" in json.dumps(a) for a in j["audit"]))
        rc, out, err = self.c.run_cli("--url", self.m.url, "audit", "--limit", "5")
        self.assertEqual(rc, 0, err)
        self.assertIn("/api/instances/%d/stop" % iid, out)

    def test_sql_and_html_kept_verbatim(self):
        text = "'; DROP TABLE jobs; -- <script>alert(1)</script> \\ \" %s"
        st, job = self.m.api("POST", "/api/jobs", {"name": "odd", "description": text,
                                                  "script": "echo '%s'" % "<b>&amp;</b>",
                                                  "cron": "0 0 3 * * ?"})
        self.assertEqual(st, 201, job)
        st, j = self.m.api("GET", "/api/jobs/odd")
        self.assertEqual(j["description"], text)
        self.assertEqual(self.c.sql("SELECT COUNT(*) FROM jobs"), [["1"]])
        st, run = self.m.api("POST", "/api/jobs/odd/run")
        iid = run["instance"]
        wait_until(lambda: self.m.api("GET", "/api/instances/%d" % iid)[1]["status"]
                   == "SUCCEEDED", 15)
        st, log = self.m.api("GET", "/api/instances/%d/log" % iid)
        self.assertEqual(log["data"], "<b>&amp;</b>\n")
        st, j = self.m.api("GET", "/api/jobs/%27%3B%20DROP")
        self.assertEqual(st, 404)

    def test_metrics(self):
        self.m.api("POST", "/api/jobs", {"name": "m", "script": "true",
                                         "cron": "0 0 3 * * ?"})
        st, run = self.m.api("POST", "/api/jobs/m/run")
        wait_until(lambda: self.m.api("GET", "/api/instances/%d" % run["instance"])[1]
                   ["status"] == "SUCCEEDED", 15)
        st, text = self.m.api("GET", "/metrics", token="")
        self.assertEqual(st, 200)
        for line in ('heracron_queue_depth{queue="schedule"} 0',
                     "heracron_is_master 1", "heracron_workers_connected 1",
                     "heracron_instances_started_total 1",
                     'heracron_instances_finished_total{status="succeeded"} 1',
                     "heracron_dispatch_latency_seconds_count 1",
                     "heracron_lease_epoch 1", "heracron_outbox_pending 0"):
            self.assertIn(line, text)
        self.assertRegex(text, r"heracron_store_batch_seconds_count [1-9]")


class TestApiReads(ClusterTest):
    """Log pages, download and live stream; instance filters and paging;
    the cron preview; the console's files."""

    def setUp(self):
        super().setUp()
        self.m = self.c.node("m1")
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1"])

    def run_job(self, name, script):
        self.m.api("POST", "/api/jobs", {"name": name, "script": script,
                                         "cron": "0 0 3 * * ?"})
        st, run = self.m.api("POST", "/api/jobs/%s/run" % name)
        self.assertEqual(st, 201, run)
        return run["instance"]

    def wait_end(self, iid):
        return wait_until(lambda: (lambda j: j if j["status"] not in
                                   ("QUEUED", "DISPATCHED", "RUNNING") else None)
                          (self.m.api("GET", "/api/instances/%d" % iid)[1]), 20)

    def test_log_pages_download_and_stream(self):
        iid = self.run_job("lines", "i=1; while [ $i -le 450 ]; do echo line $i; "
                           "i=$((i+1)); done")
        self.wait_end(iid)
        st, j = self.m.api("GET", "/api/instances/%d/log?lines=200&page=1" % iid)
        self.assertEqual((j["total_lines"], j["pages"], j["page"]), (450, 3, 1))
        self.assertTrue(j["data"].startswith("line 1\n") and
                        j["data"].endswith("line 200\n"))
        st, j = self.m.api("GET", "/api/instances/%d/log?lines=200" % iid)  # the last
        self.assertEqual((j["page"], j["data"].count("\n")), (3, 50))
        st, j = self.m.api("GET", "/api/instances/%d/log?lines=0" % iid)
        self.assertEqual((st, j["field"]), (400, "lines"))
        st, text = self.m.api("GET", "/api/instances/%d/log/download?token=%s"
                              % (iid, self.c.token), token="")
        self.assertEqual(st, 200)
        self.assertEqual(text.count("\n"), 450)
        st, j = self.m.api("GET", "/api/instances/99999/log/download")
        self.assertEqual(st, 404)
        # a live stream of a running job: events as output comes, then the end
        iid = self.run_job("slow", "echo one; sleep 1; echo two")
        req = urllib.request.Request(
            self.m.url + "/api/instances/%d/log/stream" % iid,
            headers={"Authorization": "Bearer " + self.c.token})
        events = []
        with urllib.request.urlopen(req, timeout=20) as r:
            self.assertEqual(r.headers["Content-Type"], "text/event-stream")
            event = None
            for raw in r:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    events.append((event, json.loads(line[6:])))
                    if event == "end":
                        break
        data = "".join(e[1]["data"] for e in events if e[0] == "chunk")
        self.assertEqual(data, "one\ntwo\n")
        self.assertEqual(events[-1], ("end", {"status": "SUCCEEDED"}))

    def test_instance_filters_and_paging(self):
        ids = [self.run_job("a%d" % i, "true") for i in range(3)]
        for i in ids:
            self.wait_end(i)
        st, j = self.m.api("GET", "/api/instances?limit=2")
        self.assertEqual((j["total"], len(j["instances"])), (3, 2))
        st, j = self.m.api("GET", "/api/instances?limit=2&offset=2")
        self.assertEqual([x["id"] for x in j["instances"]], [ids[0]])
        st, j = self.m.api("GET", "/api/instances?trigger=MANUAL&worker=m1&since=2000-01-01")
        self.assertEqual(j["total"], 3)
        st, j = self.m.api("GET", "/api/instances?trigger=DEBUG")
        self.assertEqual(j["total"], 0)
        st, j = self.m.api("GET", "/api/instances?since=yesterday")
        self.assertEqual((st, j["field"]), (400, "since"))

    def test_cron_preview_and_console(self):
        st, j = self.m.api("GET", "/api/cron/next?expr=0%200%203%20*%20*%20%3F&count=3")
        self.assertEqual(len(j["times"]), 3)
        self.assertTrue(all(t.endswith("03:00:00") for t in j["times"]))
        st, j = self.m.api("GET", "/api/cron/next?expr=0%2061%20*%20*%20*%20%3F")
        self.assertEqual((st, j["field"]), (400, "cron"))
        self.assertIn("minute", j["error"])
        st, page = self.m.api("GET", "/", token="")
        self.assertEqual(st, 200)
        self.assertIn("<html", page.lower())
        st, js = self.m.api("GET", "/app.js", token="")
        self.assertEqual(st, 200)
        for bad in ("/../etc/passwd", "/.hidden.js", "/x/app.js", "/nope.js"):
            st, j = self.m.api("GET", bad, token="")
            self.assertEqual(st, 404, bad)
