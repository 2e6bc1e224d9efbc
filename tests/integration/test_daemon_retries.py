# SPDX-License-Identifier: MIT
"""Incomplete executions are attempted by the daemon at their stored times
and resolved on success (issue 7's third acceptance): a `break` handler's
own attempts and interval, the default backoff of the auto-retry class
(shortened here through SCENARIOD_RETRY_BACKOFF, as docs/operations.md
describes), and a 429 whose Retry-After asks for longer than the backoff."""

import datetime
import os

import daemon_harness
import harness
from scripted_http import ScriptedServer

BREAK = """\
scenario: breaker
settings: {store_incomplete: true}
flow:
  - {id: 1, module: builtin.set, with: {variables: {n: 1}}}
  - id: 2
    module: files.read
    with: {path: late.txt}
    on_error: {directive: break, retry: {attempts: 3, interval: 2s}}
  - {id: 3, module: files.write, with: {dir: out, name: done.txt, data: "{{2.file}}"}}
"""

BACKOFF = """\
scenario: fetcher
settings: {store_incomplete: true}
flow:
  - {id: 1, module: builtin.set, with: {variables: {n: 1}}}
  - {id: 2, module: http.request, with: {url: "%s/item", timeout: 5s}}
"""


def ms(text):
    when = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(when.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


class DaemonRetriesTest(daemon_harness.DaemonTestCase):
    def record(self, record_id):
        result = self.ctl("incomplete", "show", str(record_id), "--json")
        self.assertEqual(result.code, 0, result.stderr)
        return result.json()

    def attempts_of(self, scenario):
        return sorted((e for e in self.executions(scenario) if e["trigger"] == "retry"),
                      key=lambda e: e["id"])

    def test_break_attempts_follow_its_interval_until_success(self):
        self.add_scenario("breaker.yaml", BREAK)
        d = self.daemon()
        run = d.ctl("trigger", "breaker", "--wait", "--json").json()
        self.assertEqual(run["status"], "warning")
        (record,) = self.incomplete()
        self.assertEqual(record["status"], "pending")
        planned = ms(record["next_attempt_at"])
        self.assertAlmostEqual(planned - ms(record["created_at"]), 2000, delta=100)

        # First attempt: at its time, fails again, the next is planned.
        self.wait_until("the first attempt", lambda: self.attempts_of("breaker"), timeout=15)
        first = self.attempts_of("breaker")[0]
        self.assertAlmostEqual(ms(first["started_at"]), planned, delta=1000)
        after = self.wait_until("the record back to pending", lambda: (
            r := self.record(record["id"]))["status"] == "pending" and r["attempts"] == 1
            and r)
        with open(os.path.join(self.work, "late.txt"), "w") as f:
            f.write("arrived")
        self.wait_until("resolution", lambda: self.record(record["id"])["status"] == "resolved",
                        timeout=15)
        second = self.attempts_of("breaker")[1]
        self.assertAlmostEqual(ms(second["started_at"]), ms(after["next_attempt_at"]),
                               delta=1000)
        self.assertEqual(second["status"], "success")
        with open(os.path.join(self.work, "out", "done.txt")) as f:
            self.assertEqual(f.read(), "arrived")
        self.assertEqual(d.scenario("breaker")["incomplete"],
                         {"pending": 0, "in_progress": 0, "unresolved": 0})
        self.assertEqual(d.stop(), 0)

    def test_default_backoff_from_the_daemon_configuration(self):
        port = harness.free_port()
        self.add_scenario("fetcher.yaml", BACKOFF % ("http://127.0.0.1:%d" % port))
        d = self.daemon(extra_env={"SCENARIOD_RETRY_BACKOFF": "1s, 1s, 2s"})
        run = d.ctl("trigger", "fetcher", "--wait", "--json").json()
        self.assertEqual(run["status"], "incomplete")
        self.assertEqual(run["error"]["type"], "ConnectionError")
        (record,) = self.incomplete()
        self.assertEqual(record["max_attempts"], 3, "the configured schedule's length")
        self.assertAlmostEqual(ms(record["next_attempt_at"]) - ms(record["created_at"]), 1000,
                               delta=100)
        # Nothing listens yet: the first attempt fails on time, the second
        # finds the service.
        self.wait_until("a failed attempt", lambda: self.record(record["id"])["attempts"] >= 1)
        server = ScriptedServer(port)
        self.addCleanup(server.httpd.shutdown)
        self.wait_until("resolution", lambda: self.record(record["id"])["status"] == "resolved",
                        timeout=20)
        self.assertGreaterEqual(server.count("/item"), 1)
        self.assertEqual(d.stop(), 0)

    def test_a_person_retries_through_the_running_daemon(self):
        self.add_scenario("reader.yaml", """\
scenario: reader
settings: {store_incomplete: true}
flow:
  - {id: 1, module: builtin.set, with: {variables: {n: 1}}}
  - {id: 2, module: files.read, with: {path: missing.txt}}
""")
        d = self.daemon()
        run = d.ctl("trigger", "reader", "--wait", "--json").json()
        self.assertEqual(run["status"], "incomplete")
        (record,) = self.incomplete()
        self.assertEqual(record["status"], "unresolved", "a DataError waits for a person")
        with open(os.path.join(self.work, "missing.txt"), "w") as f:
            f.write("here now")
        result = d.ctl("incomplete", "retry", str(record["id"]), "--json")
        self.assertEqual(result.code, 0, result.stderr)
        retried = result.json()
        self.assertEqual(retried["status"], "success")
        self.assertEqual(retried["resumed_incomplete_id"], str(record["id"]))
        self.assertIn("Retry started: scenario='reader' incomplete=%d" % record["id"],
                      d.log_text(), "the daemon ran it, not scenarioctl")
        self.assertEqual(self.record(record["id"])["status"], "resolved")
        again = d.ctl("incomplete", "retry", str(record["id"]))
        self.assertEqual(again.code, 0)
        self.assertIn("resolved already", again.stderr)
        self.assertEqual(d.stop(), 0)

    def test_retry_after_moves_the_next_attempt_later(self):
        server = ScriptedServer()
        self.addCleanup(server.httpd.shutdown)
        server.script("/item", (429, {"error": "slow down"}, 0, {"Retry-After": "3600"}))
        self.add_scenario("fetcher.yaml", BACKOFF % server.base)
        d = self.daemon(extra_env={"SCENARIOD_RETRY_BACKOFF": "1s"})
        run = d.ctl("trigger", "fetcher", "--wait", "--json").json()
        self.assertEqual(run["error"]["type"], "RateLimitError")
        (record,) = self.incomplete()
        wait = ms(record["next_attempt_at"]) - ms(record["created_at"])
        self.assertGreaterEqual(wait, 3600 * 1000 - 1000, "Retry-After wins over 1s")
        self.assertEqual(d.status()["next_incomplete_attempt_at"], record["next_attempt_at"])
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    harness.main()
