"""Faults of the cluster: a master killed, a master frozen past its lease,
MariaDB stopped and restarted under a running cluster."""
import re
import signal
import time

from harness import ClusterTest, wait_until


def worker_master(node):
    """The master a node's worker last connected to, from its log."""
    found = re.findall(r"worker: connected to master (\S+) at", node.log())
    return found[-1] if found else None


class TestFailover(ClusterTest):
    def start3(self):
        n1 = self.c.node("n1")
        n2 = self.c.node("n2")
        n3 = self.c.node("n3", master_group=False)
        le = self.c.wait_master(among=("n1", "n2"))
        self.c.wait_workers(n3, ["n1", "n2", "n3"])
        nodes = {"n1": n1, "n2": n2, "n3": n3}
        return nodes, le

    def test_master_sigkill(self):
        nodes, le = self.start3()
        old = nodes[le["holder"]]
        other = nodes["n2" if old.name == "n1" else "n1"]
        t0 = time.monotonic()
        old.kill()
        new = self.c.wait_master(other_than=old.name, min_epoch=le["epoch"] + 1)
        took = time.monotonic() - t0
        self.assertEqual(new["holder"], other.name)
        self.assertEqual(new["epoch"], le["epoch"] + 1)
        # Well under the 5 s lease: the dead session's named lock told us.
        self.assertLess(took, 4.0, "takeover waited for the lease to expire")
        other.wait_log(r"election: became master with epoch %d" % new["epoch"])
        wait_until(lambda: worker_master(nodes["n3"]) == other.name, 10,
                   what="n3 to reconnect to the new master")
        ws = self.c.wait_workers(nodes["n3"], [other.name, "n3"])
        self.assertEqual(len(ws), 3)  # the dead one is listed, not connected
        st = nodes["n3"].status()
        self.assertEqual((st["master"], st["epoch"], st["workers"]),
                         (other.name, new["epoch"], 2))
        # The killed node comes back as a worker of the new master.
        old.start()
        self.c.wait_workers(nodes["n3"], ["n1", "n2", "n3"])
        self.assertEqual(self.c.lease()["holder"], other.name)

    def test_master_sigstop_past_lease(self):
        nodes, le = self.start3()
        old = nodes[le["holder"]]
        other = nodes["n2" if old.name == "n1" else "n1"]
        old_epoch = le["epoch"]
        old.signal(signal.SIGSTOP)
        stopped_at = self.c.sql("SELECT NOW(6)")[0][0]
        new = self.c.wait_master(other_than=old.name, min_epoch=old_epoch + 1,
                                 timeout=15)
        self.assertEqual(new["holder"], other.name)
        self.c.wait_workers(nodes["n3"], [other.name, "n3"])
        time.sleep(1.0)
        old.signal(signal.SIGCONT)
        # It notices on its own clock that its lease ran out, steps down,
        # and whatever it had queued is refused by the fence.
        old.wait_log(r"master: (lease of epoch %d not renewed in time|stepped down)"
                     % old_epoch)
        old.wait_log(r"master: stepped down from epoch %d" % old_epoch)
        self.c.wait_workers(nodes["n3"], ["n1", "n2", "n3"])
        self.assertEqual(self.c.lease()["holder"], other.name)
        # No row was written with the old epoch after the freeze began.
        stale = self.c.sql("SELECT name FROM nodes WHERE epoch = %d AND "
                           "last_seen > '%s'" % (old_epoch, stopped_at))
        self.assertEqual(stale, [])
        rows = self.c.sql("SELECT name, epoch FROM nodes ORDER BY name")
        self.assertEqual(rows, [["n1", str(new["epoch"])], ["n2", str(new["epoch"])],
                                ["n3", str(new["epoch"])]])

    def test_clean_shutdown_hands_over_at_once(self):
        nodes, le = self.start3()
        old = nodes[le["holder"]]
        t0 = time.monotonic()
        old.stop()
        self.assertEqual(old.proc.returncode, 0)
        self.assertIn("election: resigned the lease", old.log())
        self.c.wait_master(other_than=old.name, min_epoch=le["epoch"] + 1)
        self.assertLess(time.monotonic() - t0, 4.0)


class TestDatabaseRestart(ClusterTest):
    def allow_db_errors(self):
        self.c.allow_error(r"cannot connect to MariaDB")

    def test_short_outage_cluster_survives(self):
        self.allow_db_errors()
        n1 = self.c.node("n1")
        n2 = self.c.node("n2")
        n3 = self.c.node("n3", master_group=False)
        le = self.c.wait_master(among=("n1", "n2"))
        self.c.wait_workers(n3, ["n1", "n2", "n3"])
        self.mdb.restart()
        # Everyone kept running, and the cluster is whole again.
        for n in (n1, n2, n3):
            self.assertTrue(n.alive(), "%s died with the database" % n.name)
        self.c.wait_workers(n3, ["n1", "n2", "n3"], timeout=30)
        new = self.c.wait_master(among=("n1", "n2"))
        # Either kept (same epoch) or cleanly handed over (higher epoch).
        self.assertGreaterEqual(new["epoch"], le["epoch"])
        st = n2.status()
        self.assertEqual(st["workers"], 3)
        for n in (n1, n2, n3):
            n.wait_log(r"(store|election): MariaDB session re-established|"
                       r"store: MariaDB session lost", timeout=15)

    def test_long_outage_master_steps_down_and_returns(self):
        self.allow_db_errors()
        n1 = self.c.node("n1")
        n3 = self.c.node("n3", master_group=False)
        le = self.c.wait_master(among=("n1",))
        self.c.wait_workers(n3, ["n1", "n3"])
        self.mdb.stop()
        # Without the database it cannot renew: it must step down on its own
        # clock and close the worker port.
        n1.wait_log(r"master: stepped down from epoch %d" % le["epoch"], timeout=15)
        n3.wait_log(r"connection to master n1 lost", timeout=15)
        self.mdb.start()
        new = self.c.wait_master(among=("n1",), min_epoch=le["epoch"] + 1, timeout=30)
        self.c.wait_workers(n3, ["n1", "n3"], timeout=30)
        self.assertTrue(n1.alive() and n3.alive())
        self.assertGreater(new["epoch"], le["epoch"])
