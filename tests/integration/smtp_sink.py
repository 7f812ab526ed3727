#!/usr/bin/python3
"""A real SMTP server for the tests (Debian's aiosmtpd): stores every
message it accepts as DIR/<time>-<pid>-<n>.eml; refuses recipients whose
local part starts with "reject" (550) and "tempfail" (451).

    /usr/bin/python3 smtp_sink.py PORT DIR
"""
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, outdir):
        self.outdir = outdir
        self.n = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: recipient rejected" % address
        if local.startswith("tempfail"):
            return "451 4.3.0 <%s>: try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            name = "%d-%d-%d" % (time.time_ns(), os.getpid(), self.n)
        tmp = os.path.join(self.outdir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(b"X-Rcpt-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.outdir, name + ".eml"))
        return "250 2.0.0 stored as " + name


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    c = Controller(Sink(outdir), hostname="127.0.0.1", port=port)
    c.start()
    print("ready", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    done.wait()
    c.stop()


if __name__ == "__main__":
    main()
