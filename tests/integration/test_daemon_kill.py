# SPDX-License-Identifier: MIT
"""Kill -9 at random moments (issue 7's second acceptance): 200 runs of a
scenario with two CloudConvert modules against the fake server, with the
daemon killed and restarted again and again while runs are in flight. In
the end every run is either successful or an incomplete execution that was
then retried to success, the fake's journal shows no job created twice,
and the store passes PRAGMA integrity_check.

The moments are random; the seed is printed and can be replayed with
KILL_TEST_SEED=N."""

import collections
import os
import random
import sys
import time

import daemon_harness
import fake_cc
import harness

RUNS = int(os.environ.get("KILL_TEST_RUNS", "200"))

SCENARIO = """\
scenario: cc-two
settings: {store_incomplete: true}
flow:
  - {id: 1, module: builtin.set, with: {variables: {doc: "https://example.com/report.docx"}}}
  - id: 2
    module: cloudconvert.convert_file
    connection: cc
    with: {input: {url: "{{1.doc}}"}, output_format: pdf, download: true}
  - id: 3
    module: cloudconvert.optimize_file
    connection: cc
    with: {input: {upload: "{{2.file}}"}, download: true}
"""


class DaemonKillTest(daemon_harness.DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = fake_cc.FakeCloudConvert("--processing-delay", "0.05", "--sync-timeout", "2")

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def manual_runs(self):
        if not os.path.exists(os.path.join(self.state_dir, "store.db")):
            return 0
        with self.store() as db:
            return db.execute("SELECT count(*) FROM executions WHERE \"trigger\" = 'manual'"
                              ).fetchone()[0]

    def unfinished(self):
        with self.store() as db:
            running = db.execute("SELECT count(*) FROM executions WHERE status = 'running'"
                                 ).fetchone()[0]
            open_records = db.execute("SELECT count(*) FROM incomplete_executions "
                                      "WHERE status != 'resolved'").fetchone()[0]
        return running + open_records

    def test_kill_minus_nine_loses_and_repeats_nothing(self):
        seed = int(os.environ.get("KILL_TEST_SEED", str(int(time.time()))))
        print("KILL_TEST_SEED=%d" % seed, file=sys.stderr)
        rng = random.Random(seed)
        self.fake.reset()
        self.fake.connections(os.path.join(self.tmp, "connections.yaml"),
                              retry="{base: 20ms, cap: 300ms, attempts: 8}")
        self.add_scenario("cc-two.yaml", SCENARIO)
        d = self.daemon(extra_env={"CLOUDCONVERT_API_KEY": fake_cc.API_KEY}, start=False)
        kills = 0
        while self.manual_runs() < RUNS:
            d.start()
            for _ in range(rng.randint(4, 20)):
                d.ctl("trigger", "cc-two", timeout=30)
            time.sleep(rng.uniform(0.0, 1.2))
            d.kill()
            kills += 1

        # The last start recovers what the last kill left, and every
        # incomplete execution is retried until it succeeds.
        d.start()
        self.wait_until("every run finished", lambda: self.unfinished() == 0, timeout=240,
                        every=0.5)
        self.assertEqual(d.stop(), 0, d.log_text()[-4000:])

        with self.store() as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            statuses = collections.Counter(
                row[0] for row in db.execute("SELECT status FROM executions"))
            records = collections.Counter(
                row[0] for row in db.execute("SELECT status FROM incomplete_executions"))
            # Every run that stopped half-way is on record as incomplete, and
            # every such record was resolved by a successful retry.
            unresolved = db.execute(
                "SELECT e.id FROM executions e WHERE e.\"trigger\" = 'manual' AND "
                "e.status != 'success' AND NOT EXISTS (SELECT 1 FROM incomplete_executions i "
                "WHERE i.origin_execution_id = e.id AND i.status = 'resolved')").fetchall()
        self.assertGreaterEqual(kills, 5, "the daemon was killed again and again")
        self.assertEqual(set(statuses) - {"success", "incomplete"}, set(), statuses)
        self.assertEqual(set(records) - {"resolved"}, set(), records)
        self.assertEqual(unresolved, [], "runs that neither succeeded nor were finished later")
        self.assertGreater(records["resolved"], 0, "some runs were interrupted")

        # No job was created twice: one creation per tag (run, module, bundle).
        created = [e for e in self.fake.journal("api")
                   if e["method"] == "POST" and e["path"] == "/v2/jobs" and e["status"] == 201]
        tags = collections.Counter((e["body"] or {}).get("tag") for e in created)
        twice = {tag: n for tag, n in tags.items() if n > 1}
        if twice:
            # What happened to the jobs behind the tag, for the failure message.
            jobs = self.fake.api("GET", "/v2/jobs?per_page=100&filter[tag]=%s"
                                 % list(twice)[0])
            self.fail("jobs created twice: %s; the jobs: %s" % (twice, [
                (j["id"], j["status"], [(t["name"], t["status"], t.get("message"))
                                        for t in j["tasks"]]) for j in jobs]))
        # Two modules per run: every manual run created at most two jobs.
        self.assertLessEqual(len(created), 2 * self.manual_runs())
        print("kills=%d executions=%s records=%s jobs=%d" % (
            kills, dict(statuses), dict(records), len(created)), file=sys.stderr)


if __name__ == "__main__":
    harness.main()
