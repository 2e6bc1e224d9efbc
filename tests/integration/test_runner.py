# SPDX-License-Identifier: MIT
"""The runner's decisions hold across processes, not only inside one
(scenarios/runner.h): runs of a sequential scenario started together by
several scenarioctl processes run one after the other, in order; a run is
held while the scenario has unresolved incomplete executions; and a retry
run that is killed half-way is replayed from the state it resumed."""

import os
import signal
import subprocess
import time

import harness

SEQUENTIAL = """\
scenario: one-at-a-time
settings: {sequential: true}
flow:
  - {id: 1, module: builtin.set, with: {variables: {at: "{{now}}"}}}
  - {id: 2, module: builtin.sleep, with: {duration: 1s}}
"""


class RunnerTest(harness.ScenarioTestCase):
    def start_run(self, path, *extra):
        env = dict(os.environ, SCENARIOD_STATE_DIR=self.state_dir)
        return subprocess.Popen([self.scenarioctl, "run", path, "--json"] + list(extra),
                                env=env, cwd=self.work, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def test_sequential_runs_from_three_processes_do_not_overlap(self):
        path = self.write_scenario("seq.yaml", SEQUENTIAL)
        procs = [self.start_run(path) for _ in range(3)]
        outputs = [p.communicate(timeout=60) for p in procs]
        for p, (out, err) in zip(procs, outputs):
            self.assertEqual(p.returncode, 0, err)
        waited = [err for _, err in outputs if "waiting for" in err]
        self.assertGreaterEqual(len(waited), 2, "two runs said they waited")

        with self.store() as db:
            rows = db.execute("SELECT started_at, finished_at FROM executions "
                              "ORDER BY started_at").fetchall()
            holds = db.execute("SELECT count(*) FROM run_holds").fetchone()[0]
        self.assertEqual(len(rows), 3)
        for (_, finished), (started, _) in zip(rows, rows[1:]):
            self.assertLessEqual(finished, started, "sequential runs overlapped: %s" % rows)
        self.assertEqual(holds, 0, "every hold was released")

    def test_a_killed_waiter_does_not_block_the_scenario(self):
        path = self.write_scenario("seq.yaml", SEQUENTIAL.replace("1s", "3s"))
        first = self.start_run(path)
        time.sleep(0.7)
        waiter = self.start_run(path)
        time.sleep(0.7)
        waiter.send_signal(signal.SIGKILL)
        waiter.communicate(timeout=10)
        out, err = first.communicate(timeout=30)
        self.assertEqual(first.returncode, 0, err)
        started = time.time()
        run = self.run_json(path)
        self.assertEqual(run["status"], "success")
        self.assertLess(time.time() - started, 10, "the dead waiter's hold was ignored")

    def test_held_by_an_unresolved_incomplete_execution(self):
        path = self.write_scenario("held.yaml", """\
scenario: held
settings: {sequential: true, store_incomplete: true}
flow:
  - {id: 1, module: builtin.set, with: {variables: {n: 1}}}
  - {id: 2, module: files.read, with: {path: does-not-exist.txt}}
""")
        run = self.run_json(path, expect_code=3)
        self.assertIsNotNone(run["incomplete_id"])
        held = self.ctl("run", path)
        self.assertEqual(held.code, 75, held.stderr)
        self.assertIn("sequential", held.stderr)
        self.assertIn("--force", held.stderr)
        forced = self.ctl("run", path, "--force", "--json")
        self.assertEqual(forced.code, 3, forced.stderr)


if __name__ == "__main__":
    harness.main()
