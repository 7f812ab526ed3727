"""A three-node cluster: election, workers, the status and workers
commands, human and JSON."""
from harness import ClusterTest, wait_until


class TestCluster(ClusterTest):
    def test_three_nodes_elect_and_connect(self):
        n1 = self.c.node("n1")
        n2 = self.c.node("n2")
        n3 = self.c.node("n3", master_group=False)
        le = self.c.wait_master(among=("n1", "n2"))
        self.assertGreaterEqual(le["epoch"], 1)
        self.c.wait_workers(n3, ["n1", "n2", "n3"])
        # Loads arrive with the first registry flush after the heartbeats.
        ws = wait_until(lambda: (lambda ws: ws if all(w["load"] for w in ws) else None)(n3.workers()),
                        10, what="heartbeat loads")
        for w in ws:
            self.assertGreater(w["cores"], 0)
            self.assertGreater(w["mem_total"], 0)
            self.assertEqual(w["groups"], ["default"])
            self.assertEqual(len(w["load"]), w["cores"])
            self.assertLess(w["heartbeat_age_ms"], 10000)
        self.assertEqual({w["name"]: w["master_group"] for w in ws},
                         {"n1": True, "n2": True, "n3": False})
        # Any node answers, with the same view.
        for n in (n1, n2, n3):
            st = wait_until(lambda: (lambda s: s if s["workers"] == 3 else None)(n.status()),
                            10, what="status with 3 workers")
            self.assertEqual(st["master"], le["holder"])
            self.assertEqual(st["epoch"], le["epoch"])
            self.assertGreater(st["lease_expires_ms"], 0)
            self.assertEqual(st["node"], n.name)
        human = n2.cli("status")
        self.assertIn("master   %s" % le["holder"], human)
        self.assertIn("workers  3 connected", human)
        table = n1.cli("workers")
        self.assertIn("LOAD/CORE", table)
        for name in ("n1", "n2", "n3"):
            self.assertRegex(table, r"(?m)^%s\s+127\.0\.0\.1:\d+\s+default\s+\d+ .*connected$" % name)
        # Only the master writes the nodes table, under its epoch.
        rows = self.c.sql("SELECT DISTINCT epoch FROM nodes")
        self.assertEqual(rows, [[str(le["epoch"])]])

    def test_only_master_group_competes(self):
        self.c.node("w1", master_group=False)
        w2 = self.c.node("w2", master_group=False)
        w2.wait_log(r"no master holds the lease yet")
        st = w2.status()
        self.assertIsNone(st["master"])
        self.assertEqual(st["workers"], 0)
        self.assertIn("master   none", w2.cli("status"))
        m = self.c.node("m1")
        self.assertEqual(self.c.wait_master()["holder"], "m1")
        self.c.wait_workers(m, ["w1", "w2", "m1"])

    def test_cli_errors(self):
        rc, out, err = self.c.run_cli("--url", "http://127.0.0.1:1", "status")
        self.assertEqual(rc, 1)
        self.assertIn("cannot reach heracron API", err)
        rc, out, err = self.c.run_cli("nosuchcommand")
        self.assertEqual(rc, 2)
        self.assertIn("unknown command", err)
        rc, out, err = self.c.run_cli("--no.such=1", "status")
        self.assertEqual(rc, 2)
        rc, out, err = self.c.run_cli("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^heracron \d+\.\d+")
