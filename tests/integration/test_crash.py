# SPDX-License-Identifier: MIT
"""SIGKILL in the middle of a run leaves a store that opens cleanly and
shows the execution as not finished."""

import os
import signal
import sqlite3
import subprocess
import time

import harness

SLOW = """\
scenario: slow
flow:
  - id: 1
    module: builtin.set
    with: {variables: {step: one}}
  - id: 2
    module: builtin.sleep
    with: {duration: 30s}
  - id: 3
    module: builtin.log
    with: {message: never reached}
"""


class CrashTest(harness.ScenarioTestCase):
    def test_sigkill_mid_run(self):
        path = self.write_scenario("slow.yaml", SLOW)
        env = dict(os.environ, SCENARIOD_STATE_DIR=self.state_dir)
        proc = subprocess.Popen([self.scenarioctl, "run", path, "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        db_path = os.path.join(self.state_dir, "store.db")
        deadline = time.time() + 20
        sleeping = False
        while time.time() < deadline and not sleeping:
            time.sleep(0.1)
            if not os.path.exists(db_path):
                continue
            try:
                with sqlite3.connect(db_path, timeout=1) as db:
                    row = db.execute("SELECT count(*) FROM operations WHERE module_id = '2'"
                                     ).fetchone()
                    sleeping = row[0] == 1
            except sqlite3.OperationalError:
                pass
        self.assertTrue(sleeping, "the run never reached the sleep module")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)

        with sqlite3.connect(db_path) as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        listing = self.ctl("executions", "--json")
        self.assertEqual(listing.code, 0, listing.stderr)
        (execution,) = listing.json()
        self.assertEqual(execution["status"], "running")
        self.assertIsNone(execution["finished_at"])
        detail = self.ctl("execution", str(execution["id"]), "--json").json()
        self.assertEqual([o["module_id"] for o in detail["operations_list"]], ["1", "2"])
        self.assertEqual(detail["operations_list"][0]["status"], "success")

    def test_sigint_interrupts_with_a_warning(self):
        path = self.write_scenario("slow.yaml", SLOW)
        env = dict(os.environ, SCENARIOD_STATE_DIR=self.state_dir)
        proc = subprocess.Popen([self.scenarioctl, "run", path, "--json"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        self.assertEqual(proc.returncode, 0, err)
        import json
        run = json.loads(out)
        self.assertEqual(run["status"], "warning")
        self.assertEqual(run["error"]["type"], "ExecutionInterrupted")
        self.assertEqual(self.module(run, "3")["status"], "skipped")


if __name__ == "__main__":
    harness.main()
