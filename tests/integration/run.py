#!/usr/bin/python3
"""Runs the integration tests: tests/integration/test_*.py.

    /usr/bin/python3 tests/integration/run.py [PATTERN ...]

One line per test, then "integration: N passed, N failed".  Each test has a
hard timeout (HERACRON_TEST_TIMEOUT seconds, default 180).  Logs of failed
tests are kept and their tails printed.
"""
import glob
import importlib.util
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
TIMEOUT = int(os.environ.get("HERACRON_TEST_TIMEOUT", "180"))


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout("test exceeded its %d s timeout" % TIMEOUT)


class Result(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.passed = 0
        self.failed_names = []
        self.t0 = 0

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()
        signal.alarm(TIMEOUT)

    def stopTest(self, test):
        signal.alarm(0)
        super().stopTest(test)

    def _name(self, test):
        return "%s.%s" % (type(test).__name__, test._testMethodName)

    def addSuccess(self, test):
        self.passed += 1
        print("PASS %s (%.1f s)" % (self._name(test), time.monotonic() - self.t0), flush=True)

    def _bad(self, test, err, kind):
        self.failed_names.append(self._name(test))
        msg = self._exc_info_to_string(err, test)
        print("FAIL %s (%s, %.1f s):\n%s" % (self._name(test), kind,
                                            time.monotonic() - self.t0,
                                            indent(msg)), flush=True)
        c = getattr(test, "c", None)
        if c is not None:
            for n in c.nodes:
                print("  --- last lines of %s (%s)" % (n.name, n.log_path))
                print(indent("\n".join(n.log().splitlines()[-30:])))

    def addFailure(self, test, err):
        self._bad(test, err, "failure")

    def addError(self, test, err):
        self._bad(test, err, "error")


def indent(text):
    return "\n".join("    " + line for line in text.splitlines())


def main():
    patterns = sys.argv[1:]
    signal.signal(signal.SIGALRM, on_alarm)
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for t in _flatten(loader.loadTestsFromModule(mod)):
            full = "%s.%s.%s" % (name, type(t).__name__, t._testMethodName)
            if not patterns or any(p in full for p in patterns):
                suite.addTest(t)
    if any(getattr(t, "c", None) for t in _flatten(suite)):
        pass
    # Failed tests keep their logs.
    os.environ.setdefault("HERACRON_KEEP_LOGS", "0")
    result = Result()
    suite.run(result)
    failed = len(result.failed_names)
    # Errors in setUpClass/tearDownClass are not attributed to one test.
    extra = [e for e in result.errors if not hasattr(e[0], "_testMethodName")]
    for e in extra:
        failed += 1
        print("FAIL %s:\n%s" % (e[0], indent(e[1])))
    print("integration: %d passed, %d failed" % (result.passed, failed))
    return 1 if failed else 0


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


if __name__ == "__main__":
    sys.exit(main())
