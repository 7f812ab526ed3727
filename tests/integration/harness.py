"""Integration-test harness: a private MariaDB, real heracrond processes on
loopback, the heracron CLI, and raw sockets for abuse tests.

Standard library only; run with Debian's /usr/bin/python3.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("HERACRON_BUILD_DIR", REPO)
HERACROND = os.path.join(BUILD, "heracrond")
HERACRON = os.path.join(BUILD, "heracron")
MDB_SH = os.path.join(REPO, "scripts", "mdb.sh")

# Lines that fail any test when they appear in a daemon log.
SANITIZER = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|"
                       r"UndefinedBehaviorSanitizer|ThreadSanitizer")
ERROR_LINE = re.compile(r"^\S+ \S+ heracrond ERROR: (.*)$", re.M)


def http(url, method="GET", body=None, token=None, raw=None, headers=None):
    """One HTTP request; returns (status, parsed JSON or text)."""
    data = raw if raw is not None else (
        json.dumps(body).encode() if body is not None else None)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text.decode(errors="replace")


_ports_given = set()


def free_port():
    """A free loopback port below the kernel's ephemeral range (32768-60999
    on Debian): a port taken from that range (bind to 0) can meanwhile
    become the source port of some outgoing connection, and the node that
    was to listen on it fails with "Address already in use"."""
    for _ in range(1000):
        port = random.randint(20000, 32767)
        if port in _ports_given:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        _ports_given.add(port)
        return port
    raise RuntimeError("no free port in 20000-32767")


def wait_until(pred, timeout=10.0, interval=0.05, what="condition"):
    """Polls pred() until it returns something truthy; returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
        except Exception as e:  # the system may be in transition
            last = e
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1f s waiting for %s (last: %r)"
                         % (timeout, what, last))


class Mdb:
    """A private MariaDB server started with scripts/mdb.sh."""

    def __init__(self, root):
        self.dir = os.path.join(root, "mdb")
        self.sock = os.path.join(self.dir, "sock")
        self.port = None

    def _run(self, *args):
        p = subprocess.run(["bash", MDB_SH] + list(args), capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("mdb.sh %s failed: %s%s" % (args[0], p.stdout, p.stderr))
        return p.stdout

    def start(self):
        out = self._run("start", self.dir)
        self.port = int(re.search(r"MDB_PORT=(\d+)", out).group(1))

    def stop(self):
        self._run("stop", self.dir)

    def restart(self):
        self._run("restart", self.dir)

    def pid(self):
        with open(os.path.join(self.dir, "pid")) as f:
            return int(f.read())

    def sql(self, query, db=None):
        """Runs SQL as root over the socket; returns rows as lists of str."""
        cmd = ["mariadb", "--no-defaults", "--socket=" + self.sock, "-uroot",
               "--batch", "--skip-column-names", "-e", query]
        if db:
            cmd.append(db)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError("sql failed: %s" % p.stderr.strip())
        return [line.split("\t") for line in p.stdout.splitlines()]


class SmtpSink:
    """A private SMTP server (tests/integration/smtp_sink.py) that keeps
    what it receives; stop() and start() again on the same port."""

    def __init__(self, root):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="smtp-", dir=root)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "smtp_sink.py"),
             str(self.port), self.dir], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        line = self.proc.stdout.readline()
        if "ready" not in line:
            raise RuntimeError("smtp sink did not start: %s" % line)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def messages(self):
        """Parsed messages, oldest first (email.message.Message)."""
        import email
        from email import policy
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".eml"):
                with open(os.path.join(self.dir, name), "rb") as f:
                    out.append(email.message_from_binary_file(f, policy=policy.default))
        return out


class Node:
    """One heracrond process with its own ports and log file."""

    def __init__(self, cluster, name, master_group=True, groups="default",
                 token_file=None, extra=None):
        self.cluster = cluster
        self.name = name
        self.master_port = free_port()
        self.http_port = free_port()
        self.log_path = os.path.join(cluster.dir, name + ".log")
        self.args = [
            HERACROND,
            "--node.name=" + name,
            "--node.address=127.0.0.1:%d" % self.master_port,
            "--node.groups=" + groups,
            "--node.master_group=" + ("true" if master_group else "false"),
            "--node.work_dir=" + os.path.join(cluster.dir, name + "-work"),
            "--master.listen=127.0.0.1:%d" % self.master_port,
            "--http.listen=127.0.0.1:%d" % self.http_port,
            "--db.socket=" + cluster.mdb.sock,
            "--db.user=root",
            "--db.database=" + cluster.db,
            "--cluster.token_file=" + (token_file or cluster.token_file),
            "--http.console_dir=" + os.path.join(REPO, "web"),
            "--log.level=info",
        ] + ["--%s=%s" % kv for kv in (extra or {}).items()]
        self.proc = None
        self.log_file = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http_port

    def start(self):
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log_file,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout=15):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGCONT)
                self.proc.terminate()
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.log_file:
            self.log_file.close()
            self.log_file = None
        return self.proc.returncode

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0, after=0):
        """Waits for a log line matching pattern (searching from offset)."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.log()[after:]), timeout,
                          what="log of %s to match %r" % (self.name, pattern))

    def cli(self, *args, check=True):
        return self.cluster.cli("--url", self.url, *args, check=check)

    def api(self, method, path, body=None, token=None, **kw):
        """The node's API, as the cluster (admin) unless token is given."""
        return http(self.url + path, method, body,
                    token if token is not None else self.cluster.token, **kw)

    def status(self):
        return json.loads(self.cli("--json", "status"))

    def workers(self):
        return json.loads(self.cli("--json", "workers"))["workers"]


class Cluster:
    """A test's world: temp dir, MariaDB (shared or own), token, nodes."""

    def __init__(self, mdb, root):
        self.mdb = mdb
        self.dir = tempfile.mkdtemp(prefix="t-", dir=root)
        self.db = "hc_" + os.path.basename(self.dir).replace("-", "_")[:40]
        self.token_file = os.path.join(self.dir, "token")
        self.token = os.urandom(24).hex()
        with open(self.token_file, "w") as f:
            f.write(self.token + "\n")
        self.nodes = []
        self.allowed_errors = []
        rc, out, err = self.run_cli("--db.socket=" + mdb.sock, "--db.user=root",
                                    "--db.database=" + self.db, "db", "init")
        if rc != 0:
            raise RuntimeError("db init failed: %s" % err)

    def node(self, name, **kw):
        n = Node(self, name, **kw)
        self.nodes.append(n)
        return n.start()

    def run_cli(self, *args, timeout=30, token=None, env=None):
        """The CLI, as the cluster (an administrator) unless token is given."""
        e = dict(os.environ, HERACRON_TOKEN=token if token is not None else self.token)
        e.update(env or {})
        p = subprocess.run([HERACRON] + list(args), capture_output=True,
                           text=True, timeout=timeout, env=e)
        return p.returncode, p.stdout, p.stderr

    def cli(self, *args, check=True):
        rc, out, err = self.run_cli(*args)
        if check and rc != 0:
            raise AssertionError("heracron %s: exit %d: %s" % (" ".join(args), rc, err))
        return out

    def sql(self, query):
        return self.mdb.sql(query, self.db)

    def lease(self):
        rows = self.sql("SELECT holder, epoch, expires > NOW(6) FROM lease WHERE name='master'")
        h, e, live = rows[0]
        return {"holder": h, "epoch": int(e), "live": live == "1"}

    def wait_master(self, among=None, timeout=15, other_than=None, min_epoch=0):
        def ok():
            le = self.lease()
            if not le["live"] or le["epoch"] < min_epoch:
                return None
            if among and le["holder"] not in among:
                return None
            if other_than and le["holder"] == other_than:
                return None
            return le
        return wait_until(ok, timeout, what="a master")

    def wait_workers(self, via, names, timeout=20):
        """Waits until `via`'s API shows exactly these workers connected."""
        want = sorted(names)

        def ok():
            ws = via.workers()
            got = sorted(w["name"] for w in ws if w["connected"])
            return ws if got == want else None
        return wait_until(ok, timeout, interval=0.2,
                          what="workers %s connected" % want)

    def allow_error(self, regex):
        self.allowed_errors.append(re.compile(regex))

    def stop(self):
        for n in self.nodes:
            n.stop()

    def problems(self):
        """Sanitizer reports and unexpected ERROR lines in daemon logs."""
        found = []
        for n in self.nodes:
            text = n.log()
            if SANITIZER.search(text):
                found.append("%s: sanitizer report in %s" % (n.name, n.log_path))
            for m in ERROR_LINE.finditer(text):
                if not any(a.search(m.group(1)) for a in self.allowed_errors):
                    found.append("%s: unexpected ERROR: %s" % (n.name, m.group(1)))
            rc = n.proc.returncode if n.proc else 0
            if rc not in (0, None, -9, -signal.SIGKILL):
                found.append("%s: exited with status %s" % (n.name, rc))
        return found


class ClusterTest(unittest.TestCase):
    """Base class: one private MariaDB per test class, a fresh database and
    temp dir per test, every process stopped at the end, and logs checked
    for sanitizer reports and unexpected ERROR lines."""

    mdb = None
    root = None

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="hc-test-", dir="/tmp")
        cls.mdb = Mdb(cls.root)
        cls.mdb.start()

    @classmethod
    def tearDownClass(cls):
        try:
            cls.mdb.stop()
        finally:
            if os.environ.get("HERACRON_KEEP_LOGS") != "1":
                shutil.rmtree(cls.root, ignore_errors=True)

    def setUp(self):
        self.c = Cluster(self.mdb, self.root)
        self.addCleanup(self._finish)

    def _finish(self):
        self.c.stop()
        problems = self.c.problems()
        if problems:
            self.fail("; ".join(problems))


# ---- raw protocol helpers for abuse tests ---------------------------------

def pb_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_field(num, value):
    """A protobuf field: int -> varint, bytes/str -> length-delimited."""
    if isinstance(value, int):
        return pb_varint(num << 3) + pb_varint(value)
    if isinstance(value, str):
        value = value.encode()
    return pb_varint(num << 3 | 2) + pb_varint(len(value)) + value


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def read_frame(sock, timeout=5.0):
    sock.settimeout(timeout)
    hdr = b""
    while len(hdr) < 4:
        chunk = sock.recv(4 - len(hdr))
        if not chunk:
            return None
        hdr += chunk
    (n,) = struct.unpack(">I", hdr)
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def connect_raw(port):
    """Connects to a master port and reads its challenge frame."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    ch = read_frame(s)
    assert ch is not None, "master sent no challenge"
    return s


def closed_by_peer(sock, timeout=5.0):
    """True if the peer closes the connection within timeout."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def parse_fields(buf):
    """Decodes one protobuf message into {field: [values]} (varints as int,
    length-delimited as bytes)."""
    out = {}
    i = 0

    def varint():
        nonlocal i
        shift = n = 0
        while True:
            b = buf[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return n
    while i < len(buf):
        key = varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            val = varint()
        elif wt == 2:
            n = varint()
            val = bytes(buf[i:i + n])
            i += n
        elif wt == 5:
            val = bytes(buf[i:i + 4])
            i += 4
        elif wt == 1:
            val = bytes(buf[i:i + 8])
            i += 8
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(val)
    return out


def authenticate(port, token, name, groups=("default",)):
    """Connects and completes the real handshake (see src/net/auth.h);
    returns the socket, ready for heartbeats."""
    import hashlib
    import hmac
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    env = parse_fields(read_frame(s))
    ch = parse_fields(env[10][0])
    master_nonce = ch[1][0]
    mine = os.urandom(32)
    proof = hmac.new(token.encode(), b"heracron-hello" + master_nonce + mine +
                     name.encode(), hashlib.sha256).digest()
    hello = (pb_field(1, name) + pb_field(2, "127.0.0.1:1") +
             b"".join(pb_field(3, g) for g in groups) + pb_field(4, 1) +
             pb_field(7, mine) + pb_field(8, proof) + pb_field(9, 1))
    s.sendall(frame(pb_field(1, 1) + pb_field(11, hello)))
    reply = parse_fields(read_frame(s))
    if 12 not in reply:
        raise AssertionError("handshake refused: %r" % reply)
    welcome = parse_fields(reply[12][0])
    want = hmac.new(token.encode(), b"heracron-welcome" + mine + master_nonce +
                    name.encode(), hashlib.sha256).digest()
    assert welcome[1][0] == want, "master's proof is wrong"
    return s
