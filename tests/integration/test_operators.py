"""Operators: logins and tokens, roles and job ownership, the audit trail,
metrics, and input that looks like SQL or HTML kept verbatim."""
import json
import os
import tempfile

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
                     "heracron_lease_epoch 1"):
            self.assertIn(line, text)
        self.assertRegex(text, r"heracron_store_batch_seconds_count [1-9]")
