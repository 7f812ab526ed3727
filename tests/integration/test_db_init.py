"""heracron db init: creates the schema, is idempotent, fails clearly."""
from harness import ClusterTest


class TestDbInit(ClusterTest):
    def test_creates_and_is_idempotent(self):
        args = ("--db.socket=" + self.mdb.sock, "--db.user=root",
                "--db.database=fresh_db")
        rc, out, err = self.c.run_cli(*args, "db", "init")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"database fresh_db: schema version \d+ \(applied \d+ migrations?\)")
        tables = {r[0] for r in self.mdb.sql("SHOW TABLES", "fresh_db")}
        self.assertTrue({"lease", "nodes", "schema_version", "jobs", "job_upstreams",
                         "actions", "instances", "instance_logs"} <= tables)
        rc, out, err = self.c.run_cli(*args, "db", "init")
        self.assertEqual(rc, 0, err)
        self.assertIn("(up to date)", out)
        self.assertEqual(self.mdb.sql("SELECT COUNT(*) FROM lease", "fresh_db"), [["1"]])

    def test_over_tcp_with_password_file(self):
        pw = self.c.dir + "/pw"
        with open(pw, "w") as f:
            f.write("heracron-pw\n")
        rc, out, err = self.c.run_cli("--db.host=127.0.0.1", "--db.port=%d" % self.mdb.port,
                                      "--db.user=heracron", "--db.password_file=" + pw,
                                      "--db.database=heracron", "db", "init")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("heracron-pw", out + err)

    def test_bad_credentials_and_names(self):
        rc, out, err = self.c.run_cli("--db.host=127.0.0.1", "--db.port=%d" % self.mdb.port,
                                      "--db.user=heracron", "--db.password=wrong",
                                      "--db.database=heracron", "db", "init")
        self.assertEqual(rc, 1)
        self.assertIn("Access denied", err)
        self.assertNotIn("wrong", err.replace("Access denied", ""))
        rc, out, err = self.c.run_cli("--db.socket=" + self.mdb.sock, "--db.user=root",
                                      "--db.database=bad;name", "db", "init")
        self.assertEqual(rc, 1)
        self.assertIn("db.database", err)
        rc, out, err = self.c.run_cli("--db.socket=/nonexistent/sock", "--db.user=root",
                                      "db", "init")
        self.assertEqual(rc, 1)
        self.assertIn("cannot connect to MariaDB", err)
