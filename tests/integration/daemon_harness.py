# SPDX-License-Identifier: MIT
"""The real scenariod as the daemon tests use it: started in the
foreground with NOTIFY_SOCKET pointing at a datagram socket the test owns
(as systemd would), ready when it says READY=1, driven with scenarioctl
over its control socket, and stopped with real signals."""

import os
import signal
import socket
import subprocess
import time

import harness


class Daemon:
    """One scenariod process on a test's state, scenario folder and socket."""

    def __init__(self, test, scenarios, extra_env=None, args=()):
        self.test = test
        self.scenarios = scenarios
        self.socket_path = os.path.join(test.tmp, "control.sock")
        self.notify_path = os.path.join(test.tmp, "notify.sock")
        self.log_path = os.path.join(test.tmp, "scenariod.log")
        self.env = dict(os.environ)
        self.env.update(extra_env or {})
        self.extra_env = extra_env
        self.args = list(args)
        self.proc = None
        self.notify = None
        self.messages = []

    def start(self, wait_ready=True, timeout=20):
        if os.path.exists(self.notify_path):
            os.unlink(self.notify_path)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.messages = []
        env = dict(self.env, NOTIFY_SOCKET=self.notify_path)
        if "WATCHDOG_USEC" not in (self.extra_env or {}):
            env.pop("WATCHDOG_USEC", None)
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [harness.binary("scenariod"), "--state-dir", self.test.state_dir,
             "--scenarios", self.scenarios, "--socket", self.socket_path,
             "--connections", os.path.join(self.test.tmp, "connections.yaml")] + self.args,
            env=env, stdout=self.log, stderr=self.log, cwd=self.test.work)
        if wait_ready:
            self.wait_for("READY=1", timeout)
        return self

    def read_notify(self, timeout):
        self.notify.settimeout(timeout)
        try:
            data = self.notify.recv(4096).decode()
        except socket.timeout:
            return None
        self.messages.append(data)
        return data

    def wait_for(self, assignment, timeout=20):
        """Waits for a notify message holding `assignment` (e.g. READY=1)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for message in self.messages:
                if assignment in message.split("\n"):
                    self.messages.remove(message)
                    return message
            if self.proc.poll() is not None:
                raise AssertionError("scenariod exited with %d before %s:\n%s"
                                     % (self.proc.returncode, assignment, self.log_text()))
            self.read_notify(0.2)
        raise AssertionError("scenariod did not send %s within %ss:\n%s"
                             % (assignment, timeout, self.log_text()))

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def ctl(self, *args, timeout=60):
        return self.test.ctl("--socket", self.socket_path, *args, timeout=timeout)

    def status(self):
        result = self.ctl("status", "--json")
        self.test.assertEqual(result.code, 0, result.stderr)
        return result.json()

    def scenario(self, name):
        for s in self.status()["scenarios"]:
            if s["name"] == name:
                return s
        raise AssertionError("no scenario %s in status" % name)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("scenariod did not stop within %ss:\n%s"
                                 % (timeout, self.log_text()))
        self.proc = None
        while self.read_notify(0.01):
            pass
        self.log.close()
        self.notify.close()
        return code

    def kill(self):
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait()
        self.proc = None
        self.log.close()
        self.notify.close()


class DaemonTestCase(harness.ScenarioTestCase):
    """A test with a scenario folder and at most one daemon at a time."""

    def setUp(self):
        super().setUp()
        self.scenarios = os.path.join(self.tmp, "scenarios")
        os.makedirs(self.scenarios)
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.kill()
        super().tearDown()

    def daemon(self, extra_env=None, args=(), start=True):
        d = Daemon(self, self.scenarios, extra_env, args)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def add_scenario(self, name, text):
        path = os.path.join(self.scenarios, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def wait_until(self, what, check, timeout=30, every=0.1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = check()
            if value:
                return value
            time.sleep(every)
        raise AssertionError("timed out waiting for %s" % what)

    def executions(self, scenario=None):
        args = ["executions", "--json", "--limit", "1000"]
        if scenario:
            args += ["--scenario", scenario]
        result = self.ctl(*args)
        self.assertEqual(result.code, 0, result.stderr)
        return result.json()

    def incomplete(self, *args):
        result = self.ctl("incomplete", "list", "--json", *args)
        self.assertEqual(result.code, 0, result.stderr)
        return result.json()
