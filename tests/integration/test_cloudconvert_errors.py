# SPDX-License-Identifier: MIT
"""What CloudConvert's failures become, run by the real scenarioctl against
the fake server's fault injection: the typed errors of scenario-format.md
"Errors" with the API's message, code and field errors, a failed job
reported by its root task, retries on 429 (after Retry-After), 5xx and
dropped connections, falling back from the sync host to polling, the
module's wait limit, and connections that cannot be used."""

import datetime
import os

import fake_cc
import harness

# A module first in the flow is its trigger, whose connection errors end
# the run with a warning; these tests look at modules that are not.
START = "  - {id: start, module: builtin.set, with: {variables: {x: 1}}}\n"

CONVERT = """
flow:
""" + START + """  - id: 1
    module: cloudconvert.convert_file
    connection: %(connection)s
    with:
      input: {url: "https://example.com/in.docx"}
      output_format: pdf
      download: %(download)s
      wait: %(wait)s
"""


def convert(connection="cc", download="true", wait="3m"):
    return CONVERT % {"connection": connection, "download": download, "wait": wait}


def at(entry):
    return datetime.datetime.fromisoformat(entry["time"]).timestamp()


class FailureTestCase(fake_cc.CloudConvertTestCase):
    def fail_with(self, scenario, error_type, *parts, env=None):
        run, execution = self.run_cc(scenario, expect_code=1, env=env)
        self.assertEqual(run["status"], "error", run)
        error = self.error_of(execution, 1)
        self.assertEqual(error["type"], error_type, error)
        for part in parts:
            self.assertIn(part, error["message"])
        self.assertNotIn(fake_cc.API_KEY, error["message"])
        return error


class ErrorsTest(FailureTestCase):
    def job_posts(self):
        return [e for e in self.fake.journal("api")
                if e["method"] == "POST" and e["path"] == "/v2/jobs"]

    def test_wrong_key(self):
        self.fail_with(convert(), "InvalidAccessTokenError", "HTTP 401", "Unauthenticated.",
                       env={"CLOUDCONVERT_API_KEY": "not-the-key"})

    def test_connection_not_defined(self):
        error = self.fail_with(convert(connection="elsewhere"), "InvalidConfigurationError",
                               "'elsewhere' is not defined", self.connections_file)
        self.assertEqual(self.fake.journal(), [])
        os.unlink(self.connections_file)
        self.fail_with(convert(), "InvalidConfigurationError", "does not exist",
                       self.connections_file)

    def test_key_not_readable(self):
        error = self.fail_with(convert(), "InvalidConfigurationError",
                               "environment variable 'CLOUDCONVERT_API_KEY' is empty",
                               env={"CLOUDCONVERT_API_KEY": ""})
        self.assertIsNotNone(error)

    def test_credits_and_too_many_jobs(self):
        self.fake.faults({"method": "POST", "path": "^/v2/jobs$", "action": "credits_exceeded",
                          "times": 1})
        self.fail_with(convert(), "RuntimeError", "HTTP 402",
                       "Your account has run out of conversion minutes", "CREDITS_EXCEEDED")
        self.fake.faults({"method": "POST", "path": "^/v2/jobs$", "action": "too_many_jobs",
                          "times": 1})
        self.fail_with(convert(), "RateLimitError", "You have started too many jobs at once")

    def test_invalid_data_lists_field_errors(self):
        self.fake.faults({"method": "POST", "path": "^/v2/jobs$", "action": "invalid_data",
                          "errors": {"tasks.convert.output_format": [
                              "The output format field is required."]}})
        self.fail_with(convert(), "DataError", "HTTP 422", "The given data was invalid.",
                       "(INVALID_DATA)",
                       "tasks.convert.output_format: The output format field is required.")
        self.assertEqual(len(self.job_posts()), 1)

    def test_failed_job_is_reported_by_its_root_task(self):
        self.fake.faults({"action": "fail_task", "operation": "import/url",
                          "code": "IMPORT_FAILED", "message": "Could not download the file"})
        error = self.fail_with(convert(), "RuntimeError", "task 'import-1' (import/url)",
                               "IMPORT_FAILED: Could not download the file")
        self.assertNotIn("INPUT_TASK_FAILED", error["message"])

    def test_rate_limit_is_retried_after_retry_after(self):
        self.fake.faults({"method": "POST", "path": "^/v2/jobs$", "action": "rate_limit",
                          "retry_after": 1, "times": 1},
                         {"method": "GET", "path": "^/v2/jobs/", "action": "server_error",
                          "status": 502, "times": 2},
                         {"path": "^/sync/", "action": "drop", "times": 1})
        run, execution = self.run_cc(convert())
        self.assertEqual(run["status"], "success", run)
        posts = self.job_posts()
        self.assertEqual([p["status"] for p in posts], [429, 201])
        self.assertGreaterEqual(at(posts[1]) - at(posts[0]), 0.9)
        # The sync host dropped the wait; polling the API host took over,
        # through two 502s.
        polls = [e["status"] for e in self.fake.journal("api") if e["method"] == "GET"]
        self.assertEqual(polls[:2], [502, 502])
        self.assertEqual(polls[-1], 200)
        self.assertEqual(len(self.fake.api("GET", "/v2/jobs")), 1)

    def test_server_errors_exhaust_the_retries(self):
        self.fake.faults({"path": "^/v2/users/me$", "action": "server_error", "status": 503})
        self.fail_with("""
flow:
""" + START + """  - {id: 1, module: cloudconvert.get_my_info, connection: cc}
""", "ConnectionError", "GET /v2/users/me", "HTTP 503")
        self.assertEqual(len(self.fake.journal()), 6)

    def test_not_found(self):
        self.fail_with("""
flow:
""" + START + """  - {id: 1, module: cloudconvert.get_job, connection: cc,
     with: {job_id: 0b7e7f36-8d4e-4a63-9b2f-6a2f9d8b9c11}}
""", "DataError", "HTTP 404", "NOT_FOUND")

    def test_expired_download_url(self):
        self.fake.faults({"path": "^/storage/tasks/.+/", "method": "GET", "action": "expired"})
        self.fail_with(convert(), "DataError", "Request has expired")


class SlowJobsTest(FailureTestCase):
    """Jobs that take a while: waiting within the limit, and past it."""

    server_options = ("--processing-delay", "0.3", "--sync-timeout", "0.2")

    def test_polls_until_the_job_ends(self):
        run, execution = self.run_cc(convert(wait="30s"))
        self.assertEqual(run["status"], "success", run)
        job, = self.outputs(execution, 1)
        self.assertEqual(job["file"]["name"], "in.pdf")
        self.assertEqual(self.read_blob(job["file"]),
                         fake_cc.converted(fake_cc.fake_header("import/url",
                                                               "https://example.com/in.docx"),
                                           "pdf"))
        # The sync host answered early (its own limit), so the API host was polled.
        self.assertEqual(len(self.fake.journal("sync")), 1)
        polls = [e for e in self.fake.journal("api") if e["method"] == "GET"]
        self.assertGreaterEqual(len(polls), 1)

    def test_wait_limit(self):
        self.fake.faults({"action": "stall_task", "operation": "convert"})
        self.fail_with(convert(wait="1s"), "ModuleTimeoutError",
                       "Maximum number of repeats exceeded", "within 1s")

    def test_download_file_waits_for_its_task(self):
        job = self.fake.api("POST", "/v2/jobs", {"tasks": {
            "in": {"operation": "import/raw", "file": "abc", "filename": "a.txt"},
            "conv": {"operation": "convert", "input": "in", "output_format": "pdf"},
            "out": {"operation": "export/url", "input": "conv"}}})
        out = [t for t in job["tasks"] if t["name"] == "out"][0]
        run, execution = self.run_cc("""
flow:
  - {id: 1, module: cloudconvert.download_file, connection: cc,
     with: {task_id: %s, wait: 30s}}
""" % out["id"])
        bundle, = self.outputs(execution, 1)
        self.assertEqual(self.read_blob(bundle["file"]), fake_cc.converted(b"abc", "pdf"))
        self.assertEqual(self.fake.journal("sync")[0]["path"], "/sync/v2/tasks/" + out["id"])


RESUMABLE = """
settings: {store_incomplete: true}
flow:
""" + START + """  - id: 1
    module: cloudconvert.convert_file
    connection: cc
    with: {input: {url: "https://example.com/in.docx"}, output_format: pdf, download: true,
           wait: %s}
    on_error: {directive: break}
"""


class ResumeTest(FailureTestCase):
    """An incomplete execution resumed at a job module: the job an earlier
    attempt created is taken over when it is still good, never created
    twice, and created again when it had failed."""

    server_options = ("--processing-delay", "0.3", "--sync-timeout", "0.2")

    def retry(self, run):
        self.assertIsNotNone(run["incomplete_id"], run)
        result = self.ctl("--connections", self.connections_file, "incomplete", "retry",
                          str(run["incomplete_id"]), "--json",
                          env={"CLOUDCONVERT_API_KEY": fake_cc.API_KEY}, timeout=120)
        self.assertEqual(result.code, 0, result.stdout + result.stderr)
        return result.json()

    def test_running_job_is_taken_over(self):
        run, execution = self.run_cc(RESUMABLE % "300ms")
        self.assertEqual(self.error_of(execution, 1)["type"], "ModuleTimeoutError")
        job, = self.fake.api("GET", "/v2/jobs")
        for _ in range(100):
            if self.fake.api("GET", "/sync/v2/jobs/" + job["id"])["status"] == "finished":
                break
        resumed = self.retry(run)
        self.assertEqual(resumed["status"], "success", resumed)
        self.assertEqual(self.outputs(self.execution(resumed["execution_id"]), 1)[0]["id"],
                         job["id"])
        posts = [e for e in self.fake.journal("api") if e["method"] == "POST"]
        self.assertEqual(len(posts), 1, posts)
        lookups = [e for e in self.fake.journal("api")
                   if e["path"] == "/v2/jobs" and "filter[tag]" in e["query"]]
        self.assertEqual(len(lookups), 1, lookups)
        self.assertEqual(lookups[0]["query"]["filter[tag]"], posts[0]["body"]["tag"])
        self.assertEqual(len(self.fake.api("GET", "/v2/jobs")), 1)

    def test_failed_job_is_run_again(self):
        self.fake.faults({"action": "fail_task", "operation": "convert", "times": 1,
                          "code": "CONVERSION_FAILED"})
        run, execution = self.run_cc(RESUMABLE % "30s")
        self.assertEqual(self.error_of(execution, 1)["type"], "RuntimeError")
        self.retry(run)
        posts = [e for e in self.fake.journal("api") if e["method"] == "POST"]
        self.assertEqual(len(posts), 2, posts)
        self.assertEqual(posts[0]["body"]["tag"], posts[1]["body"]["tag"])
        jobs = self.fake.api("GET", "/v2/jobs")
        self.assertEqual(sorted(j["status"] for j in jobs), ["error", "finished"])


if __name__ == "__main__":
    harness.main()
