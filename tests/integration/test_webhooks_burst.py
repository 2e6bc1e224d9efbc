# SPDX-License-Identifier: MIT
"""A burst of 10,000 signed CloudConvert deliveries, with the daemon
killed (SIGKILL) in the middle of it and started again (issue 8's second
acceptance): no delivery answered 200 is lost, each event is queued once
(the fake delivers again what got no answer) and its trigger emits it in
exactly one cycle, and the run after it completes for every event."""

import collections
import json
import os
import time

import fake_cc
import harness
from http_front import HttpFrontTestCase

COUNT = int(os.environ.get("BURST_COUNT", "10000"))

BURST = """\
scenario: burst
schedule: instant
flow:
  - id: 1
    module: cloudconvert.watch_job_events
    connection: cc
    with: {events: [job.finished]}
  - {id: 2, module: builtin.set, with: {variables: {tag: "{{1.job.tag}}"}}}
"""


class WebhookBurstTest(HttpFrontTestCase):
    def setUp(self):
        super().setUp()
        # Deliveries that meet a dead daemon are retried for ~40 s.
        self.fake = fake_cc.FakeCloudConvert("--webhook-retries", "40",
                                             "--webhook-retry-delay", "0.05")
        self.addCleanup(self.fake.stop)
        self.fake.connections(os.path.join(self.tmp, "connections.yaml"))

    def outputs_of(self, module_id):
        with self.store() as db:
            rows = db.execute(
                "SELECT o.output FROM operations o JOIN executions e ON e.id = o.execution_id "
                "WHERE e.scenario = 'burst' AND o.module_id = ? AND o.status = 'success'",
                (str(module_id),)).fetchall()
        return [bundle for (text,) in rows for bundle in json.loads(text or "[]")]

    def executions_emitting(self, job_id):
        with self.store() as db:
            return db.execute(
                "SELECT e.id, e.status, e.trigger, o.bundle FROM operations o JOIN executions e "
                "ON e.id = o.execution_id WHERE o.module_id = '1' AND o.output LIKE ?",
                ("%" + job_id + "%",)).fetchall()

    def test_a_killed_daemon_loses_nothing_it_answered(self):
        port = harness.free_port()
        self.add_scenario("burst.yaml", BURST)
        env = {"CLOUDCONVERT_API_KEY": fake_cc.API_KEY}
        args = ["--public-url", "http://127.0.0.1:%d" % port]
        d = self.listening_daemon(extra_env=env, args=args, port=port)
        self.wait_until("the registration", lambda: d.scenario("burst")["webhook"]["status"]
                        == "registered")
        webhook_id = d.scenario("burst")["webhook"]["id"]

        started = self.fake.admin("POST", "webhooks/burst", {
            "webhook_id": webhook_id, "count": COUNT, "concurrency": 16, "wait": False})
        burst = started["burst"]

        def report():
            return self.fake.admin("GET", "webhooks/bursts/%d" % burst)

        self.wait_until("a third of the burst", lambda: report()["sent"] >= COUNT // 3,
                        timeout=120)
        d.kill()
        killed_at = report()["sent"]
        time.sleep(0.3)
        d = self.listening_daemon(extra_env=env, args=args, port=port)
        final = self.wait_until("the end of the burst", lambda: (r := report())["done"] and r,
                                timeout=300, every=0.5)
        self.assertLess(killed_at, COUNT)
        # Every delivery ended answered 200; some needed retries (the
        # daemon was away).
        self.assertEqual(final["statuses"], {"200": COUNT}, final["statuses"])
        self.assertGreater(final["attempts"], COUNT)

        def drained():
            with self.store() as db:
                return db.execute("SELECT count(*) FROM events").fetchone()[0] == 0 and \
                    d.status()["daemon"]["running"] == 0

        self.wait_until("the queue drained", drained, timeout=300, every=0.5)
        # Each event queued once: one key a job, and the trigger emitted
        # it in exactly one cycle; the next module ran for every one.
        with self.store() as db:
            keys = db.execute("SELECT count(*) FROM event_keys WHERE scenario = 'burst'"
                              ).fetchone()[0]
        self.assertEqual(keys, COUNT)
        emitted = collections.Counter(b["job"]["id"] for b in self.outputs_of(1))
        self.assertEqual(set(emitted), set(final["job_ids"]))
        twice = [j for j, n in emitted.items() if n != 1]
        self.assertEqual(twice, [], "emitted more than once, by executions %s" % (
            self.executions_emitting(twice[0]) if twice else None))
        tags = {b["tag"] for b in self.outputs_of(2)}
        self.assertEqual(len(tags), COUNT)
        # Whatever the kill cut short was stored and finished by retries.
        self.wait_until("no incomplete execution left", lambda: not [
            r for r in self.incomplete() if r["status"] != "resolved"], timeout=120)


if __name__ == "__main__":
    harness.main()
