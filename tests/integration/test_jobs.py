"""Job definitions through the CLI and the HTTP API: create, show, list,
update, enable/disable, delete, and every validation error (nothing saved)."""
import json

from harness import ClusterTest


class TestJobs(ClusterTest):
    def setUp(self):
        super().setUp()
        self.n = self.c.node("n1")
        self.c.wait_master()

    def job(self, *args, check=True):
        return self.c.run_cli("--url", self.n.url, *args)

    def api(self, method, path, body=None):
        return self.n.api(method, path, body)

    def count_jobs(self):
        return int(self.c.sql("SELECT COUNT(*) FROM jobs")[0][0])

    def test_crud(self):
        rc, out, err = self.job("job", "add", "extract", "--script", "echo hi",
                                "--cron", "0 0 3 * * ?", "--tz", "Europe/Paris",
                                "--owner", "alice", "--retries", "2", "--timeout", "60")
        self.assertEqual(rc, 0, err)
        self.assertIn("schedule     0 0 3 * * ? in Europe/Paris", out)
        rc, out, err = self.job("job", "add", "load", "--script", "echo load",
                                "--upstream", "extract", "--group", "etl")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.job("--json", "job", "show", "extract")
        j = json.loads(out)
        self.assertEqual((j["name"], j["owner"], j["retries"], j["timeout_s"]),
                         ("extract", "alice", 2, 60))
        self.assertEqual(j["downstreams"], ["load"])
        rc, out, err = self.job("job", "list")
        self.assertRegex(out, r"(?m)^2\s+load\s+etl\s+after \[\"extract\"\]\s+yes")
        # update: a cron replaces the upstreams
        rc, out, err = self.job("--json", "job", "update", "load", "--cron", "*/5 * * * *")
        self.assertEqual(rc, 0, err)
        j = json.loads(out)
        self.assertEqual((j["cron"], j["upstreams"], j["revision"]), ("*/5 * * * *", [], 2))
        rc, out, err = self.job("--json", "job", "disable", "2")
        self.assertFalse(json.loads(out)["enabled"])
        rc, out, err = self.job("job", "delete", "load")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.count_jobs(), 1)
        # SQL-looking text is stored and shown verbatim
        desc = "x'; DROP TABLE jobs; --"
        rc, out, err = self.job("--json", "job", "update", "extract", "--description", desc)
        self.assertEqual(json.loads(out)["description"], desc)
        self.assertEqual(self.count_jobs(), 1)

    def test_validation_saves_nothing(self):
        self.job("job", "add", "a", "--script", "true", "--cron", "* * * * *")
        self.job("job", "add", "b", "--script", "true", "--upstream", "a")
        cases = [
            (["job", "add", "x", "--script", "true", "--cron", "0 0 25 * * ?"], "cron: hour"),
            (["job", "add", "x", "--script", "true", "--cron", "* * * * *", "--upstream", "a"],
             "cron: a job has either a cron schedule or upstream jobs"),
            (["job", "add", "x", "--script", "true"], "cron: give a cron schedule"),
            (["job", "add", "x", "--script", " ", "--cron", "* * * * *"], "script: is empty"),
            (["job", "add", "x", "--script", "true", "--upstream", "nosuch"],
             "upstreams: unknown upstream job 'nosuch'"),
            (["job", "add", "x y", "--script", "true", "--cron", "* * * * *"], "name:"),
            (["job", "add", "x", "--script", "true", "--cron", "* * * * *", "--tz", "Mars/Base"],
             "tz: unknown time zone"),
            (["job", "add", "x", "--script", "true", "--cron", "* * * * *", "--retries", "-1"],
             "retries"),
            (["job", "update", "a", "--upstream", "b"], "upstreams: these upstreams would make "
             "a dependency cycle"),
            (["job", "update", "a", "--upstream", "a"], "upstreams: a job cannot depend on itself"),
        ]
        for args, msg in cases:
            rc, out, err = self.job(*args)
            self.assertEqual(rc, 2, args)
            self.assertIn(msg, err, args)
        self.assertEqual(self.count_jobs(), 2)
        self.assertEqual(self.c.sql("SELECT COUNT(*) FROM job_upstreams"), [["1"]])
        rc, out, err = self.job("job", "add", "a", "--script", "true", "--cron", "* * * * *")
        self.assertEqual(rc, 1)
        self.assertIn("exists already", err)
        rc, out, err = self.job("job", "delete", "a")
        self.assertEqual(rc, 1)
        self.assertIn("other jobs depend on it", err)
        rc, out, err = self.job("job", "show", "999")
        self.assertEqual(rc, 2)
        self.assertIn("no such job", err)

    def test_api_errors(self):
        st, j = self.api("POST", "/api/jobs", {"name": "x", "script": "true",
                                               "cron": "61 * * * *"})
        self.assertEqual((st, j["field"]), (400, "cron"))
        st, j = self.api("POST", "/api/jobs", {"name": "x", "script": 5, "cron": "* * * * *"})
        self.assertEqual((st, j["field"]), (400, "script"))
        st, j = self.api("POST", "/api/jobs", {"name": "x", "bogus": 1})
        self.assertEqual((st, j["field"]), (400, "bogus"))
        st, j = self.n.api("POST", "/api/jobs", raw=b"{not json")
        self.assertEqual(st, 400)
        st, j = self.api("DELETE", "/api/jobs/nosuch")
        self.assertEqual(st, 404)
        st, j = self.api("PATCH", "/api/jobs")
        self.assertEqual(st, 405)
        st, j = self.api("POST", "/api/jobs", {"name": "ok", "script": "true",
                                               "cron": "* * * * *"})
        self.assertEqual(st, 201)
        self.assertEqual(self.count_jobs(), 1)
