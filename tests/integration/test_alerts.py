"""Failure alerts by e-mail against a real SMTP server (aiosmtpd) and a real
MariaDB: recipients, no mail before the retries are spent, the server down
and back, the master killed right after a failure, a refused recipient,
a storm grouped into one mail, recovered mails, the test command."""
import json
import time

from harness import ClusterTest, SmtpSink, wait_until


class AlertTest(ClusterTest):
    group_s = 1

    def setUp(self):
        super().setUp()
        self.sink = SmtpSink(self.c.dir).start()
        self.addCleanup(self.sink.stop)
        self.smtp = {"smtp.host": "127.0.0.1", "smtp.port": self.sink.port,
                     "smtp.starttls": "off", "smtp.group_s": self.group_s,
                     "console.url": "https://console.example"}

    def one_node(self):
        """A master that is also the worker, and the users."""
        self.m = self.c.node("m1", extra=self.smtp)
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1"])
        self.users(self.m)

    def users(self, node):
        for name, email in (("alice", "alice@example.org"), ("bob", "bob@example.org"),
                            ("nomail", "")):
            st, j = node.api("POST", "/api/users", {"name": name, "email": email,
                                                   "password": "pw-" + name * 3})
            self.assertEqual(st, 201, j)

    def job(self, node, name, script, **kw):
        body = {"name": name, "script": script, "cron": "0 0 3 1 1 ? 2099",
                "owner": "alice", "monitors": ["bob", "nomail"]}
        body.update(kw)
        st, j = node.api("POST", "/api/jobs", body)
        self.assertEqual(st, 201, j)

    def start_job(self, node, name):
        st, j = node.api("POST", "/api/jobs/%s/run" % name)
        self.assertEqual(st, 201, j)
        return j["instance"]

    def mails_to(self, addr):
        return [m for m in self.sink.messages() if addr in m["X-Rcpt-To"]]

    def outbox(self):
        return self.c.sql("SELECT recipient, status, attempts FROM outbox ORDER BY id")


class TestAlerts(AlertTest):
    def setUp(self):
        super().setUp()
        self.one_node()

    def test_failure_mails_owner_and_monitors_once_retries_are_spent(self):
        self.job(self.m, "nightly", "echo step one; echo '<b>bad</b> input' >&2; exit 3",
                 retries=1, retry_wait_s=3, description="loads the <warehouse>",
                 monitors=["bob", "nomail", "reject-me@example.org", "Alice@example.org"])
        first = self.start_job(self.m, "nightly")
        wait_until(lambda: self.m.api("GET", "/api/instances/%d" % first)[1]["status"]
                   == "FAILED", 15)
        self.assertEqual(self.outbox(), [])  # a retry is coming: no mail yet
        rows = wait_until(lambda: len(self.outbox()) == 3 and all(
            r[1] in ("sent", "failed") for r in self.outbox()) and self.outbox(), 30,
            what="the alerts sent")
        got = {r[0]: r[1] for r in rows}
        self.assertEqual(got, {"alice@example.org": "sent", "bob@example.org": "sent",
                               "reject-me@example.org": "failed"})
        self.assertIn("has no e-mail address", self.m.log())
        m = self.mails_to("alice@example.org")
        self.assertEqual(len(m), 1)
        mail = m[0]
        self.assertEqual(mail["Subject"], "[heracron] job nightly (id 1) FAILED")
        for h in ("Date", "Message-ID", "From", "To", "MIME-Version"):
            self.assertTrue(mail[h], h)
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        self.assertIn("exit code 3", text)
        self.assertIn("<b>bad</b> input", text)           # the log's last lines
        self.assertIn("&lt;b&gt;bad&lt;/b&gt; input", html)  # escaped in HTML
        self.assertIn("loads the &lt;warehouse&gt;", html)
        self.assertIn("https://console.example/#/instance/", text)
        self.assertEqual(len(self.mails_to("bob@example.org")), 1)
        time.sleep(2)
        self.assertEqual(len(self.sink.messages()), 2)  # and no more

    def test_recovered_mail_and_alerts_off(self):
        self.job(self.m, "flip", "exit 1", monitors=[])
        self.start_job(self.m, "flip")
        wait_until(lambda: len(self.mails_to("alice@example.org")) == 1, 20)
        self.m.api("PUT", "/api/jobs/flip", {"script": "true"})
        self.start_job(self.m, "flip")
        wait_until(lambda: len(self.mails_to("alice@example.org")) == 2, 20)
        self.assertIn("recovered", self.mails_to("alice@example.org")[1]["Subject"])
        self.start_job(self.m, "flip")  # still fine: nothing more to say
        self.job(self.m, "quiet", "exit 1", monitors=[], alerts=False)
        iid = self.start_job(self.m, "quiet")
        wait_until(lambda: self.m.api("GET", "/api/instances/%d" % iid)[1]["status"]
                   == "FAILED", 15)
        time.sleep(2.5)
        self.assertEqual(len(self.mails_to("alice@example.org")), 2)

    def test_overdue_run_and_missed_deadline(self):
        self.job(self.m, "slowpoke", "sleep 5", monitors=[], expected_s=1)
        iid = self.start_job(self.m, "slowpoke")
        past = time.strftime("%H:%M", time.localtime(time.time() - 60))
        self.job(self.m, "late", "true", monitors=[], deadline=past)
        st, j = self.m.api("GET", "/api/jobs/late")
        self.assertEqual(j["deadline"], past)

        def texts():
            return " ".join(m.get_body(("plain",)).get_content()
                            for m in self.mails_to("alice@example.org"))
        wait_until(lambda: "slowpoke (id 1) running longer than expected" in texts()
                   and "late (id 2) not done by its deadline" in texts(), 30,
                   what="overdue and deadline mails")
        self.assertEqual(self.m.api("GET", "/api/instances/%d" % iid)[1]["status"],
                         "RUNNING")  # told while it runs
        time.sleep(2.5)  # once each, not every check
        self.assertEqual(texts().count("running longer than expected"), 1)
        self.assertEqual(texts().count("not done by its deadline"), 1)
        st, j = self.m.api("PUT", "/api/jobs/late", {"deadline": "25:00"})
        self.assertEqual((st, j["field"]), (400, "deadline"))

    def test_alert_test_command(self):
        rc, out, err = self.c.run_cli("--smtp.host=127.0.0.1",
                                      "--smtp.port=%d" % self.sink.port,
                                      "--smtp.starttls=off", "alert", "test", "--to",
                                      "ops@example.org")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.sink.messages()[0]["Subject"], "[heracron] test mail")
        rc, out, err = self.c.run_cli("--smtp.host=127.0.0.1",
                                      "--smtp.port=%d" % self.sink.port,
                                      "--smtp.starttls=off", "alert", "test", "--to",
                                      "reject@example.org")
        self.assertEqual(rc, 1)
        self.assertIn("550", err)


class TestAlertFaults(AlertTest):
    group_s = 3

    def test_smtp_down_then_up_sends_exactly_one(self):
        m = self.c.node("m1", extra=self.smtp)
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(m, ["m1"])
        self.users(m)
        self.job(m, "down", "exit 2", monitors=[])
        self.sink.stop()
        self.start_job(m, "down")
        wait_until(lambda: self.c.sql("SELECT attempts > 0, last_error <> '' FROM outbox")
                   == [["1", "1"]], 30, what="a failed attempt to send")
        self.assertEqual(self.outbox()[0][1], "pending")
        self.sink.start()
        wait_until(lambda: self.outbox()[0][1] == "sent", 40, what="the alert sent")
        time.sleep(2)
        self.assertEqual(len(self.sink.messages()), 1)

    def test_master_killed_right_after_failure(self):
        m1 = self.c.node("m1", groups="ctl", extra=self.smtp)
        self.c.wait_master(among=("m1",))
        m2 = self.c.node("m2", groups="ctl", extra=self.smtp)
        w = self.c.node("w1", master_group=False, extra=self.smtp)
        self.c.wait_workers(m1, ["m1", "m2", "w1"])
        self.users(m1)
        self.job(m1, "boom", "exit 9", monitors=[])
        iid = self.start_job(m1, "boom")
        wait_until(lambda: self.c.sql("SELECT COUNT(*) FROM outbox") == [["1"]], 15,
                   interval=0.02, what="the alert queued")
        m1.kill()  # within smtp.group_s of the failure: it had not sent it
        self.c.wait_master(among=("m2",), timeout=15)
        wait_until(lambda: self.outbox() and self.outbox()[0][1] == "sent", 30,
                   what="the successor sending it")
        time.sleep(2)
        self.assertEqual(len(self.sink.messages()), 1)
        self.assertIn("boom", self.sink.messages()[0]["Subject"])
        del iid, w


class TestAlertStorm(AlertTest):
    group_s = 4  # the 50 failures come within it

    def setUp(self):
        super().setUp()
        self.one_node()

    def test_storm_is_one_mail_per_recipient(self):
        self.job(self.m, "storm", "exit 1", monitors=["bob"])
        for _ in range(50):
            self.start_job(self.m, "storm")
        wait_until(lambda: self.c.sql("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
                   == [["100"]], 60, interval=0.5, what="100 alerts sent")
        for who in ("alice@example.org", "bob@example.org"):
            got = self.mails_to(who)
            self.assertEqual(len(got), 1, [m["Subject"] for m in got])
            listed = sum(m.get_body(("plain",)).get_content().count("Job storm (id 1) failed")
                         for m in got)
            self.assertEqual(listed, 50)
        self.assertRegex(self.mails_to("bob@example.org")[0]["Subject"],
                         r"50 alerts \(50 failed\): storm")

