# SPDX-License-Identifier: MIT
"""Incomplete executions with CloudConvert: a run whose second CloudConvert
module fails is stored and finished later without a second job for the
module that already succeeded, also when the process is killed while the
second module is in flight (issue 4's acceptance, against the fake server's
journal)."""

import os
import signal
import subprocess
import time

import fake_cc

PIPELINE = """\
scenario: cc-pipeline
settings: {store_incomplete: true}
flow:
  - id: 1
    module: cloudconvert.convert_file
    connection: cc
    with:
      input: {url: "https://example.com/report.docx"}
      output_format: pdf
      download: true
  - id: 2
    module: cloudconvert.optimize_file
    connection: cc
    with:
      input: {upload: "{{1.file}}"}
      download: true
  - id: 3
    module: files.write
    with: {dir: out, name: "{{2.file.name}}", data: "{{2.file}}"}
"""


class IncompleteCloudConvertTest(fake_cc.CloudConvertTestCase):
    def ctl_cc(self, *args, timeout=120):
        return self.ctl("--connections", self.connections_file, *args, timeout=timeout,
                        env={"CLOUDCONVERT_API_KEY": fake_cc.API_KEY})

    def created_jobs(self):
        """Job creations that reached the fake (201), with their tags."""
        return [e for e in self.fake.journal("api")
                if e["method"] == "POST" and e["path"] == "/v2/jobs" and e["status"] == 201]

    def tags_of_module(self, module_id):
        return [j for j in self.created_jobs()
                if (j["body"] or {}).get("tag", "").split(":")[-2:-1] == [module_id]]

    def written(self):
        out = os.path.join(self.work, "out")
        return sorted(os.listdir(out)) if os.path.isdir(out) else []

    def test_500_on_the_second_module_is_stored_and_retried(self):
        # Every job creation after the first answers 500, whatever the retries.
        self.fake.faults({"id": "down", "action": "server_error", "status": 500,
                          "method": "POST", "path": "^/v2/jobs$", "skip": 1})
        path = self.write_scenario("pipeline.yaml", PIPELINE)
        result = self.ctl_cc("run", path, "--json")
        self.assertEqual(result.code, 3, result.stdout + result.stderr)
        run = result.json()
        self.assertEqual(run["status"], "incomplete")
        self.assertEqual(self.written(), [])

        listing = self.ctl_cc("incomplete", "list", "--json")
        (record,) = listing.json()
        self.assertEqual(record["status"], "pending")
        self.assertEqual(record["module_id"], "2")
        self.assertEqual(record["error"]["type"], "ConnectionError")

        self.fake.admin("DELETE", "faults")
        retry = self.ctl_cc("incomplete", "retry", str(record["id"]), "--json")
        self.assertEqual(retry.code, 0, retry.stdout + retry.stderr)
        self.assertEqual(retry.json()["status"], "success")
        self.assertEqual(len(self.written()), 1)
        self.assertEqual(len(self.tags_of_module("1")), 1, "one job for module 1 over both runs")
        self.assertEqual(len(self.tags_of_module("2")), 1)
        self.assertEqual(self.ctl_cc("incomplete", "list", "--json").json(), [])
        self.assert_no_key_leaks()

    def test_a_failed_job_is_a_runtime_error_that_is_never_stored(self):
        """Default handling, "any other type fails the run": a job that ends
        in error is a RuntimeError, which is not stored even with
        store_incomplete, and the run rolls back."""
        self.fake.faults({"action": "fail_task", "operation": "optimize",
                          "code": "ENGINE_FAILED", "message": "the optimizer crashed"})
        path = self.write_scenario("pipeline.yaml", PIPELINE)
        result = self.ctl_cc("run", path, "--json")
        self.assertEqual(result.code, 1, result.stdout + result.stderr)
        run = result.json()
        self.assertEqual(run["status"], "error")
        self.assertEqual(run["error"]["type"], "RuntimeError")
        self.assertIn("ENGINE_FAILED", run["error"]["message"])
        self.assertEqual(self.ctl_cc("incomplete", "list", "--all", "--json").json(), [])
        self.assertEqual(self.written(), [])
        self.assertEqual(len(self.created_jobs()), 2, "no job was created after the failure")

    def test_killed_while_the_second_module_is_in_flight_is_recovered(self):
        # Module 2's job is created, but the answer takes 60 s: the process is
        # killed while it waits for it, so it never learns the job's id.
        self.fake.faults({"id": "slow", "action": "pass", "method": "POST",
                          "path": "^/v2/jobs$", "skip": 1, "when": "after", "delay": 60})
        path = self.write_scenario("pipeline.yaml", PIPELINE)
        env = dict(os.environ, SCENARIOD_STATE_DIR=self.state_dir,
                   CLOUDCONVERT_API_KEY=fake_cc.API_KEY)
        proc = subprocess.Popen([self.scenarioctl, "--connections", self.connections_file,
                                 "run", path, "--json"], env=env, cwd=self.work,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        while time.time() < deadline and len(self.fake.api("GET", "/v2/jobs") or []) < 2:
            time.sleep(0.1)
        self.assertEqual(len(self.fake.api("GET", "/v2/jobs")), 2, "module 2's job exists")
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)

        listing = self.ctl_cc("incomplete", "list", "--json")
        self.assertEqual(listing.code, 0, listing.stderr)
        (record,) = listing.json()
        self.assertEqual(record["module_id"], "2")
        self.assertIn("stopped", record["error"]["message"])

        self.fake.admin("DELETE", "faults")
        retry = self.ctl_cc("incomplete", "retry", str(record["id"]), "--json")
        self.assertEqual(retry.code, 0, retry.stdout + retry.stderr)
        self.assertEqual(len(self.written()), 1)
        jobs = self.fake.api("GET", "/v2/jobs")
        self.assertEqual(len(jobs), 2, "no job was created twice: %s" % jobs)
        self.assertEqual(len(self.tags_of_module("1")), 1, "module 1 never ran again")


if __name__ == "__main__":
    fake_cc.harness.main()
