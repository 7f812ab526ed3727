"""The web console in a real browser (Debian's Chromium, headless, driven
through chromedriver): log in, create a job, run it, see its live log line
appear, stop it.  Screenshots are kept in $HERACRON_ARTIFACTS (default:
the build directory's screenshots/)."""
import os

from harness import BUILD, ClusterTest, wait_until

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ARTIFACTS = os.environ.get("HERACRON_ARTIFACTS", os.path.join(BUILD, "screenshots"))


class TestConsole(ClusterTest):
    def setUp(self):
        super().setUp()
        self.m = self.c.node("m1")
        self.c.wait_master(among=("m1",))
        self.c.wait_workers(self.m, ["m1"])
        pw = os.path.join(self.c.dir, "pw")
        with open(pw, "w") as f:
            f.write("console-test-pw\n")
        rc, out, err = self.c.run_cli(
            "--db.socket=" + self.c.mdb.sock, "--db.user=root",
            "--db.database=" + self.c.db, "db", "init", "--admin-user", "admin",
            "--admin-password-file", pw)
        self.assertEqual(rc, 0, err)
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--disable-dev-shm-usage", "--window-size=1366,768"):
            opts.add_argument(a)
        self.b = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        self.addCleanup(self.b.quit)
        os.makedirs(ARTIFACTS, exist_ok=True)

    def el(self, css, timeout=10):
        return wait_until(lambda: (lambda e: e[0] if e and e[0].is_displayed() else None)
                          (self.b.find_elements(By.CSS_SELECTOR, css)), timeout,
                          what="element %s" % css)

    def shot(self, name):
        self.b.save_screenshot(os.path.join(ARTIFACTS, "console-%s.png" % name))

    def test_login_create_run_watch_stop(self):
        b = self.b
        b.get(self.m.url + "/")
        self.el("#login-user").send_keys("admin")
        self.el("#login-password").send_keys("wrong password")
        self.el("#login-submit").click()
        wait_until(lambda: self.el("#login-error").text.strip() or None, 10,
                   what="a login error")
        self.el("#login-password").clear()
        self.el("#login-password").send_keys("console-test-pw")
        self.el("#login-submit").click()
        wait_until(lambda: "admin" in self.el("#whoami").text or None, 10,
                   what="logged in")
        self.el("#page-dashboard")
        self.shot("dashboard")

        self.el("#nav-jobs").click()
        self.el("#job-new").click()
        self.el("#job-name").send_keys("web_job")
        self.el("#job-script").send_keys("echo hello-from-the-console; sleep 120")
        self.el("#job-mode-cron").click()
        cron = self.el("#job-cron")
        cron.clear()
        cron.send_keys("0 61 3 * * ?")  # invalid: shown beside the field
        self.el("#job-save").click()
        err = wait_until(lambda: [e for e in b.find_elements(
            By.CSS_SELECTOR, '.field-error[data-field="cron"]') if e.text.strip()] or None,
            10, what="the cron field's error")
        self.assertIn("minute", err[0].text)
        self.shot("job-form-error")
        cron.clear()
        cron.send_keys("0 0 3 * * ?")
        self.el("#job-save").click()
        wait_until(lambda: "web_job" in self.el("#job-title").text or None, 10,
                   what="the job page")
        self.shot("job")

        self.el("#job-run").click()
        self.el("#page-instance")
        wait_until(lambda: "hello-from-the-console" in self.el("#inst-log").text or None,
                   15, what="the live log line")
        self.assertIn("RUNNING", self.el("#inst-status").text)
        self.shot("instance-running")
        self.el("#inst-stop").click()
        ok = b.find_elements(By.CSS_SELECTOR, "#confirm-ok")
        if ok and ok[0].is_displayed():
            ok[0].click()
        wait_until(lambda: "STOPPED" in self.el("#inst-status").text or None, 20,
                   what="the instance stopped")
        self.shot("instance-stopped")
        rows = self.c.sql("SELECT status FROM instances")
        self.assertEqual(rows, [["STOPPED"]])
        audit = self.c.sql("SELECT user_name, method, path, status FROM audit "
                           "WHERE path LIKE '/api/instances/%/stop'")
        self.assertEqual(audit[0][0], "admin")

        for page in ("workers", "actions", "instances", "audit"):
            self.el("#nav-" + page).click()
            self.el("#page-" + page)
            self.shot(page)

    def test_fanout_progress(self):
        st, j = self.m.api("POST", "/api/jobs", {"name": "sharded", "script": "true",
                                                "cron": "0 0 3 * * ?", "fanout": "shards",
                                                "shards": 3})
        self.assertEqual(st, 201, j)
        st, run = self.m.api("POST", "/api/jobs/sharded/run")
        iid = run["instance"]
        wait_until(lambda: self.m.api("GET", "/api/instances/%d" % iid)[1]["status"]
                   == "SUCCEEDED", 20)
        b = self.b
        b.get(self.m.url + "/")
        self.el("#login-user").send_keys("admin")
        self.el("#login-password").send_keys("console-test-pw")
        self.el("#login-submit").click()
        self.el("#page-dashboard")
        b.get(self.m.url + "/#/instance/%d" % iid)
        self.el("#inst-parts-bar")
        wait_until(lambda: "3 of 3" in self.el("#inst-parts").text or None, 10,
                   what="the parts' progress")
        self.shot("instance-parts")
