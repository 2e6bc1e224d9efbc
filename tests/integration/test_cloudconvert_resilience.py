# SPDX-License-Identifier: MIT
"""The CloudConvert client under a hostile API: 429s, 5xx answers and
dropped connections on a third of the API and sync calls, and job
creations that take effect although the client sees them fail (the
"after" faults, node#60). Twenty runs of a convert-and-download scenario
must all succeed, with the right bytes, and create exactly one job each."""

import collections
import os

import fake_cc
import harness

SCENARIO = """
flow:
  - id: 1
    module: files.read
    with: {path: in.docx}
  - id: 2
    module: cloudconvert.convert_file
    connection: cc
    with: {input: {upload: "{{1.file}}"}, output_format: pdf, download: true, wait: 1m}
  - id: 3
    module: files.write
    with: {dir: out, name: "run-{{execution.id}}.pdf", data: "{{2.file}}"}
"""

RUNS = 20
API = "^/(sync/)?v2/"


def rules():
    """A third of the API calls fail, a ninth each way; job creations also
    fail after taking effect, by a dropped connection or a 500."""
    return [
        {"id": "create-drop-after", "method": "POST", "path": "^/v2/jobs$", "when": "after",
         "action": "drop", "probability": 0.2, "seed": 11},
        {"id": "create-500-after", "method": "POST", "path": "^/v2/jobs$", "when": "after",
         "action": "server_error", "status": 500, "probability": 0.2, "seed": 12},
        {"id": "rate-limit", "path": API, "action": "rate_limit", "retry_after": 0,
         "probability": 1 / 9, "seed": 1},
        {"id": "server-error", "path": API, "action": "server_error", "status": 503,
         "probability": 1 / 8, "seed": 2},
        {"id": "drop", "path": API, "action": "drop", "probability": 1 / 7, "seed": 3},
    ]


class ResilienceTest(fake_cc.CloudConvertTestCase):
    def test_twenty_runs_under_faults(self):
        data = os.urandom(64 * 1024)
        self.write_input("in.docx", data)
        self.fake.connections(self.connections_file,
                              retry="{base: 10ms, cap: 200ms, attempts: 10}")
        self.fake.faults(*rules())
        path = self.write_scenario("convert.yaml", SCENARIO)
        env = {"CLOUDCONVERT_API_KEY": fake_cc.API_KEY}
        executions = []
        for _ in range(RUNS):
            result = self.ctl("--connections", self.connections_file, "run", path, "--json",
                              env=env, timeout=120)
            self.assertEqual(result.code, 0, "stdout:\n%s\nstderr:\n%s"
                             % (result.stdout, result.stderr))
            run = result.json()
            self.assertEqual(run["status"], "success", run)
            executions.append(run["execution_id"])

        expected = fake_cc.converted(data, "pdf")
        for execution_id in executions:
            with open(os.path.join(self.work, "out", "run-%s.pdf" % execution_id), "rb") as f:
                self.assertEqual(f.read(), expected)

        # Exactly one job per run, whatever the client saw of its creation.
        self.fake.admin("DELETE", "faults")
        jobs = self.fake.api("GET", "/v2/jobs?per_page=100")
        per_run = collections.Counter(job["tag"].split(":")[2] for job in jobs)
        self.assertEqual(per_run, collections.Counter({e: 1 for e in executions}))

        # The faults really happened, the ambiguous ones included, and every
        # ambiguous creation was looked up by its tag before anything else.
        journal = self.fake.journal()
        faults = collections.Counter(e["fault"] for e in journal if e["fault"])
        for rule in ("create-drop-after", "create-500-after", "rate-limit", "server-error",
                     "drop"):
            self.assertGreater(faults[rule], 0, faults)
        lookups = [e for e in journal if e["path"] == "/v2/jobs" and e["method"] == "GET"]
        self.assertGreaterEqual(len(lookups),
                                faults["create-drop-after"] + faults["create-500-after"])
        for entry in journal:
            if entry["surface"] == "storage":
                self.assertFalse(entry["has_authorization"], entry)


if __name__ == "__main__":
    harness.main()
