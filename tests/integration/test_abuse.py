"""Bad input on the worker port: each is refused with a logged reason, the
connection closed, and the rest of the cluster is not affected."""
import socket
import struct
import time

from harness import (ClusterTest, authenticate, closed_by_peer, connect_raw, frame,
                     pb_field, wait_until)


class TestAbuse(ClusterTest):
    def setUp(self):
        super().setUp()
        self.m = self.c.node("m1", extra={"master.max_frame": "65536",
                                          "master.auth_timeout_ms": "1500"})
        self.w = self.c.node("w1", master_group=False)
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1", "w1"])
        self.port = self.m.master_port

    def assert_cluster_healthy(self):
        """The genuine workers stay connected and heartbeating."""
        before = self.m.log().count("disconnected")
        ws = self.c.wait_workers(self.m, ["m1", "w1"])
        self.assertTrue(all(w["heartbeat_age_ms"] < 5000 for w in ws), ws)
        self.assertEqual(self.m.log().count("worker w1 disconnected"), 0)
        self.assertEqual(self.m.log().count("disconnected"), before)

    def expect_closed(self, data, reason, half_close=False):
        s = connect_raw(self.port)
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        self.assertTrue(closed_by_peer(s), "master kept the connection open")
        s.close()
        self.m.wait_log(reason)

    def test_http_request_on_worker_port(self):
        self.expect_closed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                           r"WARN: frame too large \(1195725856 bytes > maximum 65536\); "
                           r"the peer speaks HTTP to the worker port")
        self.assert_cluster_healthy()

    def test_oversized_frame(self):
        self.expect_closed(struct.pack(">I", 65537) + b"x" * 100,
                           r"frame too large \(65537 bytes > maximum 65536\) while "
                           r"reading frame, peer 127\.0\.0\.1:\d+")
        self.assert_cluster_healthy()

    def test_garbage_bytes(self):
        self.expect_closed(frame(b"\xff" * 16), r"undecodable frame \(16 bytes")
        self.assert_cluster_healthy()

    def test_truncated_frame(self):
        self.expect_closed(struct.pack(">I", 100) + b"\x08\x01", r"truncated frame: "
                           r"peer closed the connection after 6 bytes", half_close=True)
        self.assert_cluster_healthy()

    def test_unknown_payload(self):
        env = pb_field(1, 5) + pb_field(99, b"from the future")
        self.expect_closed(frame(env), r"frame without a known payload \(\d+ bytes, "
                           r"1 unknown fields\)")
        self.assert_cluster_healthy()

    def test_heartbeat_before_hello(self):
        s = connect_raw(self.port)
        s.sendall(frame(pb_field(1, 1) + pb_field(13, pb_field(4, 2))))
        self.assertTrue(closed_by_peer(s))
        self.m.wait_log(r"expected hello, got payload 13 before authenticating")
        self.assert_cluster_healthy()

    def test_hello_with_wrong_proof(self):
        s = connect_raw(self.port)
        hello = (pb_field(1, "intruder") + pb_field(2, "127.0.0.1:1") +
                 pb_field(7, b"n" * 32) + pb_field(8, b"p" * 32) + pb_field(9, 1))
        s.sendall(frame(pb_field(1, 1) + pb_field(11, hello)))
        self.assertTrue(closed_by_peer(s))
        self.m.wait_log(r"authentication failed for worker 'intruder' from "
                        r"127\.0\.0\.1:\d+: wrong cluster token")
        self.assert_cluster_healthy()

    def test_silent_peer_is_dropped(self):
        s = connect_raw(self.port)
        t0 = time.monotonic()
        self.assertTrue(closed_by_peer(s, timeout=10))
        self.assertLess(time.monotonic() - t0, 8)
        self.m.wait_log(r"did not authenticate within 1500 ms|no frame received")
        self.assert_cluster_healthy()

    def test_many_bad_peers_at_once(self):
        socks = []
        for i in range(50):
            s = connect_raw(self.port)
            s.sendall(frame(b"\xff" * (i + 1)) if i % 2 else struct.pack(">I", 1 << 30))
            socks.append(s)
        for s in socks:
            self.assertTrue(closed_by_peer(s))
            s.close()
        self.assert_cluster_healthy()

    def test_wrong_token(self):
        bad = self.c.dir + "/other-token"
        with open(bad, "w") as f:
            f.write("not-the-cluster-token\n")
        self.c.allow_error(r"master refused this node: authentication failed: "
                           r"wrong cluster token \(check cluster.token\)")
        intruder = self.c.node("x1", master_group=False, token_file=bad)
        intruder.wait_log(r"ERROR: worker: master refused this node: authentication "
                          r"failed: wrong cluster token \(check cluster.token\)")
        self.m.wait_log(r"authentication failed for worker 'x1'")
        self.assertNotIn("not-the-cluster-token", intruder.log() + self.m.log())
        time.sleep(1.5)
        names = [w["name"] for w in self.m.workers()]
        self.assertNotIn("x1", names)
        self.assert_cluster_healthy()
        # Logged once, not on every retry.
        self.assertEqual(intruder.log().count("ERROR"), 1)

    def test_duplicate_node_name(self):
        first_peer = [w["peer"] for w in self.m.workers() if w["name"] == "w1"][0]
        self.c.allow_error(r"master refused this node: node name 'w1' is already in use")
        dup = self.c.node("w1", master_group=False)
        dup.wait_log(r"ERROR: worker: master refused this node: node name 'w1' is "
                     r"already in use by a worker connected from 127\.0\.0\.1:\d+")
        self.m.wait_log(r"refused 127\.0\.0\.1:\d+: node name 'w1' is already in use")
        time.sleep(2.5)  # a registry flush
        w1 = [w for w in self.m.workers() if w["name"] == "w1"][0]
        self.assertEqual(w1["peer"], first_peer)
        self.assertTrue(w1["connected"])
        self.assert_cluster_healthy()
        # When the first one goes away, the name is free again.
        self.c.nodes[1].stop()
        dup.wait_log(r"connected to master m1", timeout=20)


class TestSlowPeer(ClusterTest):
    def test_peer_that_never_reads(self):
        """A worker that floods heartbeats and never reads the acks: the
        master stops reading it at the high-water mark and drops it at its
        timeout; the genuine worker is unaffected."""
        m = self.c.node("m1", extra={"master.write_queue_max": "65536",
                                     "master.worker_timeout_ms": "3000"})
        w = self.c.node("w1", master_group=False)
        self.c.wait_workers(m, ["m1", "w1"])
        token = open(self.c.token_file).read().strip()
        s = authenticate(m.master_port, token, "greedy")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hb = frame(pb_field(1, 7) + pb_field(13, pb_field(4, 1)))
        s.settimeout(0.5)
        sent = 0
        t0 = time.monotonic()
        try:  # until the master stops reading us and our send blocks
            while time.monotonic() - t0 < 20:
                s.sendall(hb * 256)
                sent += 256
        except (socket.timeout, BrokenPipeError, ConnectionResetError):
            pass
        m.wait_log(r"worker greedy 127\.0\.0\.1:\d+: peer is slow to read "
                   r"\(\d+ bytes queued\); pausing input", timeout=10)
        m.wait_log(r"master: worker greedy disconnected", timeout=15)
        self.assertGreater(sent, 0)
        ws = self.c.wait_workers(m, ["m1", "w1"])
        self.assertTrue(all(x["heartbeat_age_ms"] < 5000 for x in ws))
