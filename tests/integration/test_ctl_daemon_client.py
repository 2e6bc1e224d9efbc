# SPDX-License-Identifier: MIT
"""scenarioctl status, reload and trigger against a scripted fake daemon.

The fake serves the control socket protocol (one JSON object per line,
request then reply) on a Unix socket in the test's temp dir, answers each
command with a canned reply and records every request line, so the tests
check both sides of the contract without a real scenariod: the exact request
lines, the output for people and for scripts, the exit codes, and what a
person sees when no daemon answers (no socket file, a stale one, a daemon
that never replies, garbage).

SCENARIOCTL_TIMEOUT_MS (read by ctl/control_client.c) shortens the 30 s
reply timeout of status, reload and trigger without --wait, so the "never
answers" cases take a fraction of a second."""

import grp
import json
import os
import pwd
import shutil
import socket
import socketserver
import subprocess
import threading
import time
import unittest

import harness

STATUS = {
    "ok": True,
    "daemon": {"pid": 4242, "version": "0.1.0", "started_at": "2026-12-04T10:00:00.000Z",
               "state_dir": "/var/lib/scenariod", "scenarios_dir": "/etc/scenariod/scenarios",
               "workers": 8, "running": 1, "queued": 0, "stopping": False},
    "scenarios": [
        {"name": "invoices", "file": "/etc/scenariod/scenarios/invoices.yaml", "enabled": True,
         "disabled_reason": None, "schedule": "every 15m", "timezone": "UTC",
         "next_run_at": "2026-12-04T10:15:00.000Z",
         "last_run": {"execution_id": "12", "status": "success", "trigger": "schedule",
                      "started_at": "2026-12-04T10:00:00.000Z",
                      "finished_at": "2026-12-04T10:00:01.500Z"},
         "running": 1, "incomplete": {"pending": 2, "in_progress": 0, "unresolved": 1},
         "problem": None},
        {"name": "reports", "file": "/etc/scenariod/scenarios/reports.yaml", "enabled": False,
         "disabled_reason": "disabled by hand", "schedule": None, "timezone": "UTC",
         "next_run_at": None, "last_run": None, "running": 0,
         "incomplete": {"pending": 0, "in_progress": 0, "unresolved": 0},
         "problem": "/etc/scenariod/scenarios/reports.yaml:3:5: unknown key 'colour'"},
    ],
    "incomplete": {"pending": 2, "in_progress": 0, "unresolved": 1},
    "next_incomplete_attempt_at": "2026-12-04T10:20:00.000Z",
}

RUN = {"execution_id": "42", "scenario": "invoices", "status": "success", "operations": 3,
       "duration_ms": 812, "bytes": 0, "incomplete_id": None, "error": None,
       "modules": [{"id": "1", "module": "builtin.log", "bundles_in": 1, "bundles_out": 1,
                    "status": "success", "error": None}]}


def compact(doc):
    """The request line as scenarioctl sends it (cJSON unformatted)."""
    return json.dumps(doc, separators=(",", ":")) + "\n"


class FakeDaemon:
    """A control socket server. `replies` maps a command to what it answers:
    a dict (sent as one JSON line), bytes (sent as they are), SILENT (never
    answers), or a function of the request returning one of those; a
    (seconds, reply) tuple answers after a delay."""

    SILENT = object()

    def __init__(self, path, replies):
        self.path = path
        self.replies = replies
        self.requests = []
        self.release = threading.Event()
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                line = self.rfile.readline(64 * 1024 + 1)
                fake.requests.append(line.decode())
                try:
                    reply = fake.replies[json.loads(line)["command"]]
                except (ValueError, KeyError):
                    reply = {"ok": False, "error": "unknown command", "exit": 64}
                if callable(reply):
                    reply = reply(json.loads(line))
                if isinstance(reply, tuple):
                    time.sleep(reply[0])
                    reply = reply[1]
                if reply is FakeDaemon.SILENT:
                    fake.release.wait(30)
                    return
                if isinstance(reply, dict):
                    reply = (json.dumps(reply) + "\n").encode()
                try:
                    self.wfile.write(reply)
                except OSError:
                    pass  # scenarioctl gave up first (a reply too long)

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

        self.server = Server(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class DaemonClientTest(harness.ScenarioTestCase):
    def setUp(self):
        super().setUp()
        self.socket = os.path.join(self.tmp, "control.sock")
        self.fake = None

    def tearDown(self):
        if self.fake:
            self.fake.stop()
        super().tearDown()

    def serve(self, **replies):
        self.fake = FakeDaemon(self.socket, replies)
        return self.fake

    def sctl(self, *args, env=None):
        return self.ctl("--socket", self.socket, *args, env=env)

    def assertExit(self, result, code):
        self.assertEqual(result.code, code, "exit code %d, stdout:\n%s\nstderr:\n%s"
                         % (result.code, result.stdout, result.stderr))

    def assertRequests(self, *docs):
        self.assertEqual(self.fake.requests, [compact(d) for d in docs])

    # status

    def test_status_for_people(self):
        self.serve(status=STATUS)
        result = self.sctl("status")
        self.assertExit(result, 0)
        self.assertRequests({"command": "status"})
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0], "scenariod 4242, version 0.1.0, up since "
                                   "2026-12-04T10:00:00.000Z; 8 workers, 1 running, 0 queued")
        header = lines[2].split()
        self.assertEqual(header, ["SCENARIO", "ENABLED", "SCHEDULE", "NEXT", "RUN", "LAST",
                                  "RUN", "RUNNING", "INCOMPLETE"])
        self.assertEqual(lines[3].split("  ")[0], "invoices")
        for text in ("yes", "every 15m", "2026-12-04T10:15:00.000Z",
                     "success 2026-12-04T10:00:00.000Z", "2 pending, 1 unresolved"):
            self.assertIn(text, lines[3])
        self.assertEqual(lines[4].split(), ["reports", "no", "-", "-", "-", "0", "-"])
        self.assertIn("/etc/scenariod/scenarios/reports.yaml:3:5: unknown key 'colour'", lines)
        self.assertEqual(lines[-1], "incomplete executions: 2 pending, 1 unresolved; "
                                    "next automatic attempt 2026-12-04T10:20:00.000Z")

    def test_status_says_stopping_and_omits_empty_parts(self):
        doc = json.loads(json.dumps(STATUS))
        doc["daemon"]["stopping"] = True
        doc["scenarios"] = []
        doc["incomplete"] = {"pending": 0, "in_progress": 0, "unresolved": 0}
        doc["next_incomplete_attempt_at"] = None
        self.serve(status=doc)
        result = self.sctl("status")
        self.assertExit(result, 0)
        lines = result.stdout.splitlines()
        self.assertTrue(lines[0].endswith("; stopping"), lines[0])
        self.assertEqual(lines[-1], "no scenarios in /etc/scenariod/scenarios")
        self.assertNotIn("incomplete executions", result.stdout)

    def test_status_json_is_the_reply_without_ok(self):
        self.serve(status=STATUS)
        for args in (("status", "--json"), ("--json", "status")):
            result = self.sctl(*args)
            self.assertExit(result, 0)
            expected = dict(STATUS)
            del expected["ok"]
            self.assertEqual(result.json(), expected)

    def test_status_reply_over_64_kib(self):
        doc = json.loads(json.dumps(STATUS))
        template = doc["scenarios"][0]
        doc["scenarios"] = []
        for i in range(3000):
            s = dict(template, name="scenario-%04d" % i)
            s["file"] = "/etc/scenariod/scenarios/scenario-%04d.yaml" % i
            doc["scenarios"].append(s)
        self.assertGreater(len(json.dumps(doc)), 64 * 1024 * 8)
        self.serve(status=doc)
        result = self.sctl("status")
        self.assertExit(result, 0)
        rows = [l for l in result.stdout.splitlines() if l.startswith("scenario-")]
        self.assertEqual(len(rows), 3000)
        result = self.sctl("status", "--json")
        self.assertExit(result, 0)
        self.assertEqual(len(result.json()["scenarios"]), 3000)

    # reload

    def test_reload_summary(self):
        self.serve(reload={"ok": True, "added": ["a"], "changed": ["b", "c"], "removed": [],
                           "unchanged": 3, "problems": []})
        result = self.sctl("reload")
        self.assertExit(result, 0)
        self.assertRequests({"command": "reload"})
        self.assertEqual(result.stdout,
                         "reloaded: 1 added (a), 2 changed (b, c), 0 removed, 3 unchanged\n")
        self.assertEqual(result.stderr, "")

    def test_reload_with_problems_exits_65(self):
        reply = {"ok": False, "added": [], "changed": ["b"], "removed": ["c"], "unchanged": 1,
                 "problems": [{"file": "/p/x.yaml", "line": 3, "column": 5,
                               "message": "unknown key 'x'"}],
                 "error": "1 file failed to load; its previous version keeps running",
                 "exit": 65}
        self.serve(reload=reply)
        result = self.sctl("reload")
        self.assertExit(result, 65)
        self.assertEqual(result.stdout,
                         "reloaded: 0 added, 1 changed (b), 1 removed (c), 1 unchanged\n")
        self.assertIn("/p/x.yaml:3:5: error: unknown key 'x'\n", result.stderr)
        self.assertIn("scenarioctl reload: 1 file failed to load; its previous version keeps "
                      "running\n", result.stderr)
        result = self.sctl("reload", "--json")
        self.assertExit(result, 65)
        expected = dict(reply)
        del expected["ok"]
        self.assertEqual(result.json(), expected)

    def test_reload_refused(self):
        self.serve(reload={"ok": False, "error": "scenariod is stopping", "exit": 70})
        result = self.sctl("reload")
        self.assertExit(result, 70)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr, "scenarioctl reload: scenariod is stopping\n")

    # trigger

    def test_trigger_started_and_queued(self):
        self.serve(trigger=lambda req: {"ok": True, "scenario": req["scenario"],
                                        "execution_id": None if req["scenario"] == "busy"
                                        else "42",
                                        "queued": req["scenario"] == "busy"})
        result = self.sctl("trigger", "invoices")
        self.assertExit(result, 0)
        self.assertEqual(result.stdout, "started execution 42 of 'invoices'\n")
        result = self.sctl("trigger", "busy")
        self.assertExit(result, 0)
        self.assertEqual(result.stdout, "queued a run of 'busy' (all workers are busy)\n")
        result = self.sctl("trigger", "invoices", "--json")
        self.assertExit(result, 0)
        self.assertEqual(result.json(), {"scenario": "invoices", "execution_id": "42",
                                         "queued": False})
        req = {"command": "trigger", "scenario": "invoices", "wait": False}
        self.assertRequests(req, dict(req, scenario="busy"), req)

    def test_trigger_wait_prints_the_run_and_exits_like_run(self):
        runs = {"ok": dict(RUN),
                "failed": dict(RUN, status="error",
                               error={"type": "RuntimeError", "module": "1",
                                      "message": "boom"}),
                "held": dict(RUN, status="incomplete", incomplete_id="7")}
        # Slower than the timeout: --wait has none.
        self.serve(trigger=lambda req: (0.6, {"ok": True, "scenario": req["scenario"],
                                              "run": runs[req["scenario"]]}))
        env = {"SCENARIOCTL_TIMEOUT_MS": "200"}
        result = self.sctl("trigger", "ok", "--wait", env=env)
        self.assertExit(result, 0)
        self.assertRequests({"command": "trigger", "scenario": "ok", "wait": True})
        self.assertTrue(result.stdout.startswith(
            "execution 42 of 'invoices': success, 3 operations, 812 ms\n"), result.stdout)
        self.assertIn("builtin.log", result.stdout)
        result = self.sctl("trigger", "failed", "--wait", env=env)
        self.assertExit(result, 1)
        self.assertIn("RuntimeError in module 1: boom", result.stdout)
        result = self.sctl("trigger", "held", "--wait", env=env)
        self.assertExit(result, 3)
        self.assertIn("stored as incomplete execution 7", result.stdout)
        result = self.sctl("trigger", "held", "--wait", "--json", env=env)
        self.assertExit(result, 3)
        self.assertEqual(result.json(), runs["held"])

    def test_trigger_refusals_use_the_replys_exit_code(self):
        replies = {"seq": {"ok": False, "exit": 75,
                           "error": "'seq' is sequential and has 2 unresolved incomplete "
                                    "executions"},
                   "nope": {"ok": False, "exit": 64, "error": "no scenario 'nope'"},
                   "bare": {"ok": False}}
        self.serve(trigger=lambda req: replies[req["scenario"]])
        result = self.sctl("trigger", "seq")
        self.assertExit(result, 75)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr, "scenarioctl trigger: 'seq' is sequential and has 2 "
                                        "unresolved incomplete executions\n")
        result = self.sctl("trigger", "nope", "--json")
        self.assertExit(result, 64)
        self.assertEqual(result.stdout, "")
        self.assertIn("no scenario 'nope'", result.stderr)
        result = self.sctl("trigger", "bare")
        self.assertExit(result, 70)

    def test_usage_errors_exit_64_without_asking(self):
        self.serve()
        self.assertExit(self.sctl("trigger"), 64)
        self.assertExit(self.sctl("trigger", "a", "b"), 64)
        self.assertExit(self.sctl("status", "extra"), 64)
        self.assertExit(self.sctl("reload", "--wait"), 64)
        self.assertExit(self.sctl("trigger", "a", "--bogus"), 64)
        for command in ("status", "reload", "trigger"):
            result = self.sctl(command, "--help")
            self.assertExit(result, 0)
            self.assertIn("Usage: scenarioctl " + command, result.stdout)
        self.assertEqual(self.fake.requests, [])

    # an unreachable or broken daemon

    def test_no_socket_exits_69_naming_it(self):
        for command in (("status",), ("reload",), ("trigger", "x")):
            result = self.sctl(*command)
            self.assertExit(result, 69)
            self.assertEqual(result.stderr,
                             "scenarioctl %s: no scenariod is answering on %s (is it running? "
                             "'systemctl status scenariod')\n" % (command[0], self.socket))

    def test_stale_socket_exits_69(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(self.socket)
        s.close()
        result = self.sctl("status")
        self.assertExit(result, 69)
        self.assertIn("no scenariod is answering on " + self.socket, result.stderr)

    def test_socket_of_another_group_exits_69_naming_the_group(self):
        self.serve(status=STATUS)
        os.chmod(self.tmp, 0o755)
        os.chmod(self.socket, 0o660)
        group = grp.getgrgid(os.stat(self.socket).st_gid).gr_name
        prefix = []
        if os.geteuid() == 0:
            # root may use any socket: ask as nobody, outside the group.
            if not shutil.which("setpriv"):
                raise unittest.SkipTest("running as root without setpriv")
            nobody = pwd.getpwnam("nobody")
            if nobody.pw_gid == os.stat(self.socket).st_gid:
                raise unittest.SkipTest("nobody is in the socket's group")
            prefix = ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid,
                      "--clear-groups"]
        else:
            os.chmod(self.socket, 0)
        env = dict(os.environ, SCENARIOD_STATE_DIR=self.state_dir, HOME=self.tmp)
        proc = subprocess.run(prefix + [self.scenarioctl, "--socket", self.socket, "status"],
                              capture_output=True, text=True, timeout=60, env=env, cwd=self.tmp)
        result = harness.Result(proc)
        self.assertExit(result, 69)
        self.assertIn("permission denied on %s" % self.socket, result.stderr)
        self.assertIn("group '%s'" % group, result.stderr)
        self.assertEqual(self.fake.requests, [])

    def test_silent_daemon_times_out_with_69(self):
        self.serve(status=FakeDaemon.SILENT)
        start = time.monotonic()
        result = self.sctl("status", env={"SCENARIOCTL_TIMEOUT_MS": "300"})
        elapsed = time.monotonic() - start
        self.assertExit(result, 69)
        self.assertEqual(result.stderr, "scenarioctl status: scenariod on %s did not answer "
                                        "within 0.3 s\n" % self.socket)
        self.assertLess(elapsed, 20)
        self.assertEqual(self.fake.requests, [compact({"command": "status"})])

    def test_garbage_replies_exit_70(self):
        garbage = [b"hello\n", b"[1, 2]\n", b'{"ok": true} trailing\n', b'{"no_ok": 1}\n',
                   b'{"ok": "yes"}\n', b"", b"\x00\xff\n"]
        replies = iter(garbage)
        self.serve(status=lambda req: next(replies))
        for text in garbage:
            result = self.sctl("status")
            self.assertExit(result, 70)
            self.assertIn("scenarioctl status: scenariod on %s sent a reply that is not one "
                          "JSON object line" % self.socket, result.stderr)
            self.assertEqual(result.stdout, "")

    def test_reply_without_newline_before_hangup_is_read(self):
        self.serve(status=(json.dumps(STATUS)).encode())
        self.assertExit(self.sctl("status"), 0)

    def test_reply_over_64_mib_exits_70(self):
        self.serve(status=b'{"ok": true, "pad": "' + b"x" * (64 * 1024 * 1024) + b'"}\n')
        result = self.sctl("status")
        self.assertExit(result, 70)
        self.assertIn("at most 64 MiB", result.stderr)


if __name__ == "__main__":
    harness.main()
