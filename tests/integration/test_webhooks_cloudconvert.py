# SPDX-License-Identifier: MIT
"""CloudConvert job and task events through the daemon's HTTP front (issue
8): deliveries are accepted or refused exactly as signed (the SDK
fixtures' vectors and our own), a refused one leaves nothing queued, a
delivery sent again runs nothing twice; with --public-url the daemon
registers its webhooks at the fake CloudConvert, keeps them across a
restart, deletes them when a scenario goes, and a New Job Event scenario
downloads the result of every job another scenario created."""

import hashlib
import os
import signal

import fake_cc
import harness
from http_front import HttpFrontTestCase, sign

FIXTURES = os.path.join(harness.SOURCE_ROOT, "..", "shared", "reference",
                        "cloudconvert-fixtures")
PHP_SECRET = "secret"
PHP_SIGNATURE = "576b653f726c85265a389532988f483b5c7d7d5f40cede5f5ddf9c3f02934f35"
DOTNET_SECRET = "9E1I8fQSLM7WsH1Y2Zp0uurYfhLqdERu"
DOTNET_SIGNATURE = "88c3103f1d64282bf963af5dd8405ef26348af25b8903e10f0c288c11f0f907b"

HAND_CONNECTIONS = """\
cc-php:
  app: cloudconvert
  api_key: {env: CLOUDCONVERT_API_KEY}
  base_url: %(base)s
  webhook_signing_secret: {env: PHP_SECRET}
cc-dotnet:
  app: cloudconvert
  api_key: {env: CLOUDCONVERT_API_KEY}
  base_url: %(base)s
  webhook_signing_secret: {env: DOTNET_SECRET}
"""

WATCH = """\
scenario: %(name)s
schedule: instant
flow:
  - id: 1
    module: cloudconvert.watch_job_events
    connection: %(connection)s
    with: {events: %(events)s}
  - {id: 2, module: builtin.set, with: {variables: {event: "{{1.event}}"}}}
"""

PRODUCER = """\
scenario: producer
flow:
  - {id: 1, module: builtin.set, with: {variables: {text: "note {{execution.id}}"}}}
  - id: 2
    module: cloudconvert.create_job
    connection: cc
    with:
      tag: "produced-{{execution.id}}"
      tasks:
        source: {operation: import/raw, file: "{{1.text}}", filename: note.txt}
        to-pdf: {operation: convert, input: source, output_format: pdf}
        export: {operation: export/url, input: to-pdf}
"""

RESULTS = """\
scenario: results
schedule: instant
flow:
  - id: 1
    module: cloudconvert.watch_job_events
    connection: cc
    with: {events: [job.finished], name: results}
  - id: 2
    module: cloudconvert.download_file
    connection: cc
    with: {task_id: '{{first(map(1.job.tasks; "id"; "operation"; "export/url"))}}'}
  - {id: 3, module: files.write, with: {dir: out, name: "{{1.job.tag}}.pdf", data: "{{2.file}}"}}
"""

TASKS = """\
scenario: tasks
schedule: instant
flow:
  - id: 1
    module: cloudconvert.watch_job_events
    connection: cc
    with: {events: [task.finished]}
  - {id: 2, module: builtin.set, with: {variables: {operation: "{{1.task.operation}}"}}}
"""


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


class CloudConvertEventsTest(HttpFrontTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = fake_cc.FakeCloudConvert("--processing-delay", "0.02",
                                            "--webhook-retry-delay", "0.05")

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        super().setUp()
        self.fake.reset()
        self.env = {"CLOUDCONVERT_API_KEY": fake_cc.API_KEY, "PHP_SECRET": PHP_SECRET,
                    "DOTNET_SECRET": DOTNET_SECRET}

    def deliver(self, path, body, signature):
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["CloudConvert-Signature"] = signature
        return self.request("POST", path, body=body, headers=headers)

    def trigger_outputs(self, d, scenario):
        bundles = []
        for run in self.executions(scenario):
            bundles.extend(self.outputs(self.execution(d, run["id"]), 1))
        return bundles

    def queued_events(self):
        with self.store() as db:
            return db.execute("SELECT count(*) FROM events").fetchone()[0]

    def test_deliveries_run_exactly_as_signed(self):
        with open(os.path.join(self.tmp, "connections.yaml"), "w") as f:
            f.write(HAND_CONNECTIONS % {"base": self.fake.base})
        self.add_scenario("finished.yaml", WATCH % {
            "name": "finished", "connection": "cc-php", "events": "[job.finished]"})
        self.add_scenario("created.yaml", WATCH % {
            "name": "created", "connection": "cc-dotnet", "events": "[job.created]"})
        d = self.listening_daemon(extra_env=self.env)

        # The SDKs' vectors, byte for byte.
        php = fixture("php__webhook_job_finished_payload.json")
        dotnet = fixture("dotnet__webhook_job_created_payload.json")
        self.assertEqual(self.deliver("/webhooks/finished/1", php, PHP_SIGNATURE).status, 200)
        self.assertEqual(self.deliver("/webhooks/created/1", dotnet, DOTNET_SIGNATURE).status,
                         200)
        # Our own: non-ASCII as UTF-8 and as \u escapes, PHP's \/ escapes,
        # an upper-case digest.
        own = ('{"event":"job.finished","job":{"id":"own-1","tag":"caf\u00e9 \\u2603 a\\/b",'
               '"status":"finished","tasks":[]}}').encode()
        self.assertEqual(self.deliver("/webhooks/finished/1", own,
                                      sign(PHP_SECRET, own).upper()).status, 200)
        self.wait_until("three runs", lambda: len(
            [r for r in self.executions() if r["status"] == "success"]) == 3)
        finished = self.trigger_outputs(d, "finished")
        self.assertEqual(sorted(b["job"]["id"] for b in finished),
                         ["c677ccf7-8876-4f48-bb96-0ab8e0d88cd7", "own-1"])
        self.assertIn("caf\u00e9 \u2603 a/b", [b["job"].get("tag") for b in finished])
        created = self.trigger_outputs(d, "created")
        self.assertEqual([b["event"] for b in created], ["job.created"])
        self.assertEqual(created[0]["job"]["id"], "4d6a6d62-f8d5-45c1-ae77-05dc4cfe36e3")

        # Refused: a changed byte, the final newline dropped, another
        # secret's digest, the other vector's signature, none, garbage.
        refused = [
            ("/webhooks/finished/1", php.replace(b"finished", b"finisheD", 1), PHP_SIGNATURE),
            ("/webhooks/finished/1", php.rstrip(b"\n"), PHP_SIGNATURE),
            ("/webhooks/finished/1", own, sign(DOTNET_SECRET, own)),
            ("/webhooks/created/1", dotnet, PHP_SIGNATURE),
            ("/webhooks/created/1", dotnet, None),
            ("/webhooks/created/1", dotnet, "not-a-digest"),
            ("/webhooks/created/1", dotnet, DOTNET_SIGNATURE[:-1]),
        ]
        for path, body, signature in refused:
            self.assertEqual(self.deliver(path, body, signature).status, 401,
                             (path, signature, body[:40]))
        self.assertEqual(self.queued_events(), 0)

        # The same event again (CloudConvert's answer was lost), and an
        # event the trigger does not take: 200, and nothing runs.
        self.assertEqual(self.deliver("/webhooks/finished/1", php, PHP_SIGNATURE).status, 200)
        failed = own.replace(b"job.finished", b"job.failed")
        self.assertEqual(self.deliver("/webhooks/finished/1", failed,
                                      sign(PHP_SECRET, failed)).status, 200)
        # Valid signature, not a delivery: 400, nothing queued.
        junk = b'{"event": "job.finished"}'
        self.assertEqual(self.deliver("/webhooks/finished/1", junk,
                                      sign(PHP_SECRET, junk)).status, 400)
        self.assertEqual(self.deliver("/webhooks/finished/9", php, PHP_SIGNATURE).status, 404)
        self.assertEqual(self.queued_events(), 0)
        self.assertEqual(len(self.executions()), 3)
        log = d.log_text()
        for secret in (PHP_SECRET + "\"", DOTNET_SECRET):
            self.assertNotIn(secret, log)

    def test_new_job_event_downloads_what_another_scenario_created(self):
        port = harness.free_port()
        self.fake.connections(os.path.join(self.tmp, "connections.yaml"))
        self.add_scenario("producer.yaml", PRODUCER)
        self.add_scenario("results.yaml", RESULTS)
        tasks = self.add_scenario("tasks.yaml", TASKS)
        args = ["--public-url", "http://127.0.0.1:%d/" % port]
        d = self.listening_daemon(extra_env=self.env, args=args, port=port)

        def registered(name):
            return d.scenario(name)["webhook"]["status"] == "registered"

        self.wait_until("the registrations", lambda: registered("results")
                        and registered("tasks"))
        hooks = {w["url"]: w for w in self.fake.admin("GET", "webhooks")["webhooks"]}
        base = "http://127.0.0.1:%d/webhooks/" % port
        self.assertEqual(sorted(hooks), [base + "results/1", base + "tasks/1"])
        self.assertEqual(hooks[base + "results/1"]["events"], ["job.finished"])
        self.assertEqual(hooks[base + "tasks/1"]["events"], ["task.finished"])
        results_id = d.scenario("results")["webhook"]["id"]
        self.assertEqual(hooks[base + "results/1"]["id"], results_id)
        # The secret is in a 0600 file, never in the store or the status.
        secret = hooks[base + "results/1"]["signing_secret"]
        self.assertNotIn(secret, d.ctl("status", "--json").stdout)
        with self.store() as db:
            for row in db.execute("SELECT * FROM webhooks"):
                self.assertNotIn(secret, repr(row))

        produced = []
        for _ in range(2):
            result = d.ctl("trigger", "producer", "--wait", "--json")
            self.assertEqual(result.code, 0, result.stderr)
            self.assertEqual(result.json()["status"], "success", result.stdout)
            produced.append(result.json()["execution_id"])
        # A run takes every event queued when it starts (one a cycle), so
        # the two jobs may be one run or two: what counts is each result.
        # (The module's tag is the prefix of the job's: "produced-1:1:2:1".)
        def result_path(execution_id):
            return os.path.join(self.work, "out", "produced-%s:%s:2:1.pdf"
                                % (execution_id, execution_id))

        self.wait_until("both results", lambda: all(
            os.path.exists(result_path(e)) for e in produced), timeout=60)
        for execution_id in produced:
            with open(result_path(execution_id), "rb") as f:
                self.assertEqual(f.read(), fake_cc.converted(
                    ("note %s" % execution_id).encode(), "pdf"))
        self.wait_until("six task events", lambda: len(self.trigger_outputs(d, "tasks")) == 6)
        operations = sorted(b["task"]["operation"] for b in self.trigger_outputs(d, "tasks"))
        self.assertEqual(operations, sorted(["import/raw", "convert", "export/url"] * 2))

        # A restart keeps the registrations: no new POST /v2/webhooks.
        def webhook_calls(method):
            return [e for e in self.fake.journal("api")
                    if e["method"] == method and e["path"].startswith("/v2/webhooks")]

        self.assertEqual(len(webhook_calls("POST")), 2)
        self.assertEqual(d.stop(), 0)
        d = self.listening_daemon(extra_env=self.env, args=args, port=port)
        self.assertTrue(registered("results"))
        self.assertEqual(d.scenario("results")["webhook"]["id"], results_id)
        self.assertEqual(len(webhook_calls("POST")), 2)
        result = d.ctl("trigger", "producer", "--wait", "--json")
        self.assertEqual(result.code, 0, result.stderr)
        self.wait_until("the third result", lambda: os.path.exists(
            result_path(result.json()["execution_id"])), timeout=60)

        # A scenario removed, or disabled, has its webhook deleted.
        os.unlink(tasks)
        d.proc.send_signal(signal.SIGHUP)
        self.wait_until("the tasks webhook deleted", lambda: [
            w["url"] for w in self.fake.admin("GET", "webhooks")["webhooks"]] == [
                base + "results/1"])
        self.assertEqual(d.ctl("disable", "results").code, 0)
        self.wait_until("the results webhook deleted", lambda: self.fake.admin(
            "GET", "webhooks")["webhooks"] == [])
        self.assertEqual(len(webhook_calls("DELETE")), 2)
        self.assertFalse(os.listdir(os.path.join(self.state_dir, "webhooks")))
        self.assertEqual(d.ctl("enable", "results").code, 0)
        self.wait_until("registered again", lambda: registered("results"))
        self.assertEqual(len(webhook_calls("POST")), 3)

    def test_a_registration_that_fails_is_shown_and_retried(self):
        port = harness.free_port()
        self.fake.connections(os.path.join(self.tmp, "connections.yaml"))
        self.add_scenario("results.yaml", RESULTS)
        rule = self.fake.faults({"method": "POST", "path": "^/v2/webhooks$", "times": 1,
                                 "action": "server_error", "status": 503})
        self.assertTrue(rule)
        d = self.listening_daemon(extra_env=self.env, port=port,
                                  args=["--public-url", "http://127.0.0.1:%d" % port])
        self.wait_until("the failure shown", lambda: d.scenario("results")["webhook"]["problem"])
        webhook = d.scenario("results")["webhook"]
        self.assertEqual(webhook["status"], "failing")
        self.assertIn("503", webhook["problem"])
        # Retried after 5 s, then registered.
        self.wait_until("registered", lambda: d.scenario("results")["webhook"]["status"]
                        == "registered", timeout=20)
        self.assertIsNone(d.scenario("results")["webhook"]["problem"])
        digest = hashlib.sha256(b"x").hexdigest()
        self.assertEqual(self.deliver("/webhooks/results/1", b"x", digest).status, 401)


if __name__ == "__main__":
    harness.main()
