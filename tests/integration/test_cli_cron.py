"""heracron cron next: offline, both dialects, time zones, clear errors."""
import subprocess
import unittest

from harness import HERACRON


def cron(*args):
    p = subprocess.run([HERACRON, "cron", "next"] + list(args),
                       capture_output=True, text=True, timeout=10)
    return p.returncode, p.stdout.splitlines(), p.stderr


class TestCronNext(unittest.TestCase):
    def test_quartz(self):
        rc, out, err = cron("0 15 10 ? * 6L", "--from", "2026-11-23 00:00:00",
                            "--count", "3", "--tz", "UTC")
        self.assertEqual((rc, out), (0, ["2026-11-27 10:15:00", "2026-12-25 10:15:00",
                                         "2027-01-29 10:15:00"]), err)

    def test_unix_strictly_after_from(self):
        rc, out, err = cron("*/20 * * * *", "--from", "2026-11-23 10:00:00",
                            "--count", "2", "--tz", "UTC")
        self.assertEqual((rc, out), (0, ["2026-11-23 10:20:00", "2026-11-23 10:40:00"]))

    def test_dst_gap_skipped(self):
        rc, out, err = cron("0 30 2 * * ?", "--from", "2027-03-27 00:00:00",
                            "--count", "2", "--tz", "Europe/Paris")
        self.assertEqual(out, ["2027-03-27 02:30:00", "2027-03-29 02:30:00"])

    def test_default_count_and_now(self):
        rc, out, err = cron("0 0 * * * ?")
        self.assertEqual(rc, 0)
        self.assertEqual(len(out), 5)
        self.assertRegex(out[0], r"^\d{4}-\d\d-\d\d \d\d:00:00$")

    def test_never_fires(self):
        rc, out, err = cron("0 0 0 30 2 ?")
        self.assertEqual((rc, out), (0, []))

    def test_invalid_expressions_exit_2_naming_the_field(self):
        for expr, field in (("0 0 25 * * ?", "hour"), ("61 * * * *", "minute"),
                            ("* * * 13 *", "month"), ("0 0 0 ? * 9", "day-of-week"),
                            ("0 0 0 1 * MON", "day-of-week"), ("* *", "expression"),
                            ("0 0 0 32 * ?", "day-of-month"), ("0 0 0 1 1 ? 1900", "year"),
                            ("x * * * * ?", "second")):
            rc, out, err = cron(expr)
            self.assertEqual(rc, 2, expr)
            self.assertIn("%s:" % field, err, expr)
            self.assertEqual(out, [])

    def test_bad_options(self):
        self.assertEqual(cron("* * * * *", "--tz", "Nowhere/X")[0], 2)
        self.assertEqual(cron("* * * * *", "--from", "yesterday")[0], 2)
        self.assertEqual(cron("* * * * *", "--count", "0")[0], 2)
        self.assertEqual(cron()[0], 2)
