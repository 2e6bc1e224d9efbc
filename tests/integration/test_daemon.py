# SPDX-License-Identifier: MIT
"""The real scenariod, as an administrator uses it (issue 7's first
acceptance): it says READY=1 on a notify socket the test owns, runs an
interval scenario on time, answers scenarioctl trigger, status, reload
(a broken file is reported while its old version keeps running), enable
and disable (persisted over a restart), stores an in-flight run as an
incomplete execution on SIGTERM and exits 0, and a second daemon on the
same state directory is refused."""

import datetime
import os
import signal
import subprocess
import time

import daemon_harness
import harness

TICK = """\
scenario: tick
schedule: {interval: 1m}
flow:
  - {id: 1, module: builtin.set, with: {variables: {at: "{{now}}"}}}
  - {id: 2, module: builtin.log, with: {message: "tick {{1.at}}"}}
"""

GREETING = """\
scenario: greeting
flow:
  - {id: 1, module: builtin.set, with: {variables: {word: %s}}}
  - {id: 2, module: files.write, with: {dir: out, name: "{{execution.id}}.txt", data: "{{1.word}}"}}
"""

SLOW = """\
scenario: slow
flow:
  - {id: 1, module: builtin.set, with: {variables: {n: 1}}}
  - {id: 2, module: builtin.sleep, with: {duration: 4s}}
  - {id: 3, module: files.write, with: {dir: out, name: slow.txt, data: "finished"}}
"""


def iso_ms(text):
    when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(when.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


class DaemonTest(daemon_harness.DaemonTestCase):
    def read_out(self, name):
        with open(os.path.join(self.work, "out", name)) as f:
            return f.read()

    def test_the_daemon_as_an_administrator_uses_it(self):
        self.add_scenario("tick.yaml", TICK)
        greeting = self.add_scenario("greeting.yaml", GREETING % "hello")
        d = self.daemon()
        started = time.time()

        # The interval scenario ran at once (its activation) and plans the
        # next run one interval later.
        tick = self.wait_until("the first tick", lambda: (
            (s := d.scenario("tick"))["last_run"] and s["last_run"]["status"] == "success"
            and s))
        first = iso_ms(tick["last_run"]["started_at"])
        self.assertAlmostEqual(iso_ms(tick["next_run_at"]) - first, 60000, delta=50)
        self.assertEqual(tick["schedule"], "every 1m")

        # trigger runs the on-demand scenario now, and --wait reports it.
        result = d.ctl("trigger", "greeting", "--wait", "--json")
        self.assertEqual(result.code, 0, result.stderr)
        run = result.json()
        self.assertEqual(run["status"], "success")
        self.assertEqual(self.read_out(run["execution_id"] + ".txt"), "hello")
        result = d.ctl("trigger", "no-such")
        self.assertEqual(result.code, 64)
        self.assertIn("no scenario 'no-such'", result.stderr)

        # A broken file is reported at its line and column; the old version
        # keeps running.
        with open(greeting, "w") as f:
            f.write(GREETING % "hello" + "  - {id: 3, module: builtin.nope}\n")
        result = d.ctl("reload")
        self.assertEqual(result.code, 65, result.stdout + result.stderr)
        self.assertIn(greeting + ":5:", result.stderr)
        self.assertIn("builtin.nope", result.stderr)
        d.wait_for("RELOADING=1")
        status = d.scenario("greeting")
        self.assertIn(greeting + ":5:", status["problem"])
        run = d.ctl("trigger", "greeting", "--wait", "--json").json()
        self.assertEqual(self.read_out(run["execution_id"] + ".txt"), "hello")
        # Fixed, it is the new version that runs.
        with open(greeting, "w") as f:
            f.write(GREETING % "bonjour")
        result = d.ctl("reload", "--json")
        self.assertEqual(result.code, 0, result.stderr)
        self.assertEqual(result.json()["changed"], ["greeting"])
        run = d.ctl("trigger", "greeting", "--wait", "--json").json()
        self.assertEqual(self.read_out(run["execution_id"] + ".txt"), "bonjour")
        self.assertIsNone(d.scenario("greeting")["problem"])

        # Disabled, the interval scenario has no next run, over a restart.
        result = d.ctl("disable", "tick")
        self.assertEqual(result.code, 0, result.stderr)
        self.assertIsNone(d.scenario("tick")["next_run_at"])
        self.assertEqual(d.stop(), 0)
        d.start()
        tick = d.scenario("tick")
        self.assertFalse(tick["enabled"])
        self.assertIsNone(tick["next_run_at"])
        # Enabled again, it runs (an activation) and plans the next slot.
        self.assertEqual(d.ctl("enable", "tick").code, 0)
        self.wait_until("the tick after enabling",
                        lambda: len(self.executions("tick")) == 2)
        ticks = sorted(iso_ms(e["started_at"]) for e in self.executions("tick"))
        self.assertEqual([e["trigger"] for e in self.executions("tick")],
                         ["schedule", "schedule"])

        # On time: the next slot comes one interval after the last, give or
        # take the timer's granularity.
        self.wait_until("the tick one minute later",
                        lambda: len(self.executions("tick")) == 3, timeout=75, every=0.25)
        third = sorted(iso_ms(e["started_at"]) for e in self.executions("tick"))[-1]
        self.assertAlmostEqual(third - ticks[-1], 60000, delta=1000)
        self.assertEqual(d.stop(), 0)
        self.assertLess(time.time() - started, 150)

    def test_sigterm_stores_the_run_in_flight_and_the_restart_finishes_it(self):
        self.add_scenario("slow.yaml", SLOW)
        d = self.daemon()
        result = d.ctl("trigger", "slow")
        self.assertEqual(result.code, 0, result.stderr)
        time.sleep(1.0)  # the sleep module is in flight
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertIn("STOPPING=1", "\n".join(d.messages))

        (execution,) = self.executions("slow")
        self.assertEqual(execution["status"], "incomplete")
        self.assertEqual(execution["error"]["type"], "ExecutionInterrupted")
        (record,) = self.incomplete()
        self.assertEqual(record["status"], "pending")
        self.assertEqual(record["module_id"], "3", "the sleep finished; the write is left")
        self.assertFalse(os.path.exists(os.path.join(self.work, "out", "slow.txt")))

        # The next start attempts it at once and resolves it.
        d.start()
        self.wait_until("the retry", lambda: self.incomplete() == [])
        self.assertEqual(self.read_out("slow.txt"), "finished")
        retry = self.executions("slow")[0]
        self.assertEqual((retry["trigger"], retry["status"]), ("retry", "success"))
        self.assertEqual(retry["operations"], 1, "only the module that had not run")
        self.assertEqual(d.stop(), 0)

    def test_a_stop_past_its_bound_cancels_the_module_in_flight(self):
        self.add_scenario("slow.yaml", SLOW.replace("4s", "30s"))
        d = self.daemon(args=["--stop-timeout", "1s"])
        d.ctl("trigger", "slow")
        time.sleep(0.8)
        stopped = time.time()
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertLess(time.time() - stopped, 10)
        (record,) = self.incomplete()
        self.assertEqual(record["module_id"], "2")
        self.assertEqual(record["status"], "pending", "a sleep is safe to run again")

    def test_a_second_daemon_on_the_same_state_is_refused(self):
        self.add_scenario("tick.yaml", TICK)
        d = self.daemon()
        other = subprocess.run(
            [harness.binary("scenariod"), "--state-dir", self.state_dir,
             "--scenarios", self.scenarios,
             "--socket", os.path.join(self.tmp, "other.sock")],
            capture_output=True, text=True, timeout=20)
        self.assertEqual(other.returncode, 75, other.stderr)
        self.assertIn("another scenariod (pid %d)" % d.proc.pid, other.stderr)
        self.assertIn(self.state_dir, other.stderr)
        # The first one is untouched.
        self.assertEqual(len(d.status()["scenarios"]), 1)
        self.assertEqual(d.stop(), 0)

    def test_without_a_daemon_trigger_says_so(self):
        result = self.ctl("--socket", os.path.join(self.tmp, "none.sock"), "trigger", "x")
        self.assertEqual(result.code, 69)
        self.assertIn("no scenariod is answering", result.stderr)

    def test_slots_missed_while_stopped_run_once_at_start(self):
        self.add_scenario("tick.yaml", TICK)
        d = self.daemon()
        self.wait_until("the first tick", lambda: len(self.executions("tick")) == 1)
        self.assertEqual(d.stop(), 0)
        # As if the daemon had been down for three and a half intervals.
        now_ms = int(time.time() * 1000)
        with self.store() as db:
            db.execute("UPDATE schedules SET next_run_at = ? WHERE scenario = 'tick'",
                       (now_ms - 150000,))
        d.start()
        self.wait_until("the missed run", lambda: len(self.executions("tick")) == 2)
        time.sleep(1.0)
        self.assertEqual(len(self.executions("tick")), 2, "once, not once per missed slot")
        restarted = iso_ms(self.executions("tick")[0]["started_at"])
        self.assertAlmostEqual(iso_ms(d.scenario("tick")["next_run_at"]) - restarted, 60000,
                               delta=1000)
        self.assertIn("missed its slot", d.log_text())
        self.assertEqual(d.stop(), 0)

    def test_the_watchdog_is_fed(self):
        d = self.daemon(extra_env={"WATCHDOG_USEC": "1000000"})
        started = time.time()
        d.wait_for("WATCHDOG=1", timeout=5)
        d.wait_for("WATCHDOG=1", timeout=5)
        self.assertLess(time.time() - started, 3, "every half of WATCHDOG_USEC")
        self.assertEqual(d.stop(), 0)

    def test_the_control_socket_bounds_what_a_client_sends(self):
        import socket as sockets
        d = self.daemon()
        # A request line longer than 64 KiB is refused and the connection closed.
        s = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
        s.connect(d.socket_path)
        s.sendall(b"{" + b" " * (70 * 1024))
        reply = s.makefile("rb").readline()
        self.assertIn(b"longer than 65536 bytes", reply)
        try:
            self.assertEqual(s.recv(1), b"", "closed after the error")
        except ConnectionResetError:
            pass  # closed with our unread bytes still queued: the same
        s.close()
        # At most 64 connections at once; the next is told so, the daemon goes on.
        held = []
        for _ in range(64):
            c = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
            c.connect(d.socket_path)
            held.append(c)
        time.sleep(0.3)
        extra = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
        extra.connect(d.socket_path)
        self.assertIn(b"too many control connections", extra.makefile("rb").readline())
        extra.close()
        for c in held:
            c.close()
        time.sleep(0.3)
        self.assertEqual(d.ctl("status").code, 0)
        # A request that is not JSON gets an answer, not a hang.
        s = sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM)
        s.connect(d.socket_path)
        s.sendall(b"hello\n")
        self.assertIn(b'"exit":64', s.makefile("rb").readline())
        s.close()
        self.assertEqual(d.stop(), 0)

    def test_sighup_reloads(self):
        d = self.daemon()
        self.assertEqual(d.status()["scenarios"], [])
        self.add_scenario("greeting.yaml", GREETING % "hi")
        bad = self.add_scenario("bad.yaml", "flow:\n  - {id: 1, modul: builtin.log}\n")
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for("READY=1")
        status = d.status()
        self.assertEqual([s["name"] for s in status["scenarios"]], ["greeting"])
        # A file that never loaded is no scenario, but status names it.
        self.assertTrue(any(p["file"] == bad and p["line"] == 2 for p in status["problems"]),
                        status["problems"])
        human = d.ctl("status")
        self.assertIn(bad + ":2:", human.stdout)
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    harness.main()
