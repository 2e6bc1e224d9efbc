# SPDX-License-Identifier: MIT
"""Custom webhooks through the daemon's HTTP front (issue 8): a request to
/hooks/<scenario> runs the scenario and its caller gets what
webhooks.respond says; a request that fails the trigger's `verify` gets
401 and runs nothing; a form's files arrive as file values; a caller waits
at most `response_wait` (then 202 with the execution id); a body over
`max_body` gets 413; /healthz and /metrics answer and /metrics counts."""

import base64
import hashlib
import os
import socket
import time
import uuid

import harness
from http_front import HttpFrontTestCase, metric, sign

SECRET = "hook-secret-\u00e9-1234"

ECHO = """\
scenario: echo
schedule: instant
flow:
  - id: 1
    module: webhooks.custom
    with:
      verify: {hmac: {header: x-signature, secret: {env: HOOK_SECRET}}}
  - id: 2
    module: webhooks.respond
    with:
      status: 201
      headers: {X-Echo: "{{1.query.name}}", Content-Type: application/vnd.echo+json}
      body: {got: "{{1.body.value}}", method: "{{1.method}}"}
"""

GUARDED = """\
scenario: guarded
schedule: instant
flow:
  - id: 1
    module: webhooks.custom
    with:
      verify:
        basic: {user: robot, password: {env: HOOK_PASSWORD}}
        ip_allow: [127.0.0.0/8, "::1"]
  - {id: 2, module: builtin.set, with: {variables: {seen: "{{1.headers}}"}}}
"""

FENCED = """\
scenario: fenced
schedule: instant
flow:
  - id: 1
    module: webhooks.custom
    with: {verify: {ip_allow: [10.0.0.0/8]}}
  - {id: 2, module: builtin.log, with: {message: "should not run"}}
"""

UPLOAD = """\
scenario: upload
schedule: instant
flow:
  - {id: 1, module: webhooks.custom, with: {max_body: 64MiB}}
  - id: 2
    module: files.write
    with: {dir: out, name: "{{1.files[1].name}}", data: "{{1.files[1]}}"}
  - id: 3
    module: webhooks.respond
    with: {body: {title: "{{1.body.title}}", size: "{{1.files[1].size}}"}}
"""

MIRROR = """\
scenario: mirror
schedule: instant
flow:
  - {id: 1, module: webhooks.custom, with: {max_body: 8MiB}}
  - id: 2
    module: webhooks.respond
    with: {headers: {Content-Type: application/octet-stream}, body: "{{1.body}}"}
"""

SLOW = """\
scenario: slow
schedule: instant
flow:
  - {id: 1, module: webhooks.custom, with: {response_wait: 1s, max_body: 1KiB}}
  - {id: 2, module: builtin.sleep, with: {duration: 3s}}
  - {id: 3, module: files.write, with: {dir: out, name: slow.txt, data: "{{1.body.n}}"}}
  - {id: 4, module: webhooks.respond, with: {body: late}}
"""


class CustomWebhookTest(HttpFrontTestCase):
    def start(self, **scenarios):
        for name, text in scenarios.items():
            self.add_scenario(name + ".yaml", text)
        return self.listening_daemon(extra_env={"HOOK_SECRET": SECRET,
                                                "HOOK_PASSWORD": "pa:ss w\u00f6rd"})

    def test_a_caller_gets_what_respond_says(self):
        d = self.start(echo=ECHO)
        body = ('{"value": "caf\u00e9 \\u2603", "pad": "%s"}' % ("x" * 3000)).encode()
        reply = self.request("POST", "/hooks/echo?name=Ada+L%C3%B6v", body=body, headers={
            "Content-Type": "application/json", "X-Signature": "sha256=" + sign(SECRET, body)})
        self.assertEqual(reply.status, 201, reply.body)
        self.assertEqual(reply.headers["x-echo"], "Ada L\u00f6v".encode().decode("latin-1"))
        self.assertEqual(reply.headers["content-type"], "application/vnd.echo+json")
        self.assertEqual(reply.json(), {"got": "caf\u00e9 \u2603", "method": "POST"})

        # The run is an ordinary execution of the scenario, started by its trigger.
        runs = self.executions("echo")
        self.assertEqual(len(runs), 1)
        self.assertEqual(runs[0]["status"], "success")
        bundle = self.outputs(self.execution(d, runs[0]["id"]), 1)[0]
        self.assertEqual(bundle["method"], "POST")
        self.assertEqual(bundle["query"], {"name": "Ada L\u00f6v"})
        self.assertEqual(bundle["body"]["value"], "caf\u00e9 \u2603")
        self.assertEqual(self.scenario_events(d, "echo"), 0)

        # A bare hex digest is accepted too; the same bytes with one byte
        # changed, a digest of another secret, or none at all are not.
        reply = self.request("POST", "/hooks/echo", body=body, headers={
            "Content-Type": "application/json", "X-Signature": sign(SECRET, body)})
        self.assertEqual(reply.status, 201, reply.body)
        changed = body.replace(b"caf", b"cag")
        for headers in ({"X-Signature": sign(SECRET, body)},
                        {"X-Signature": sign(SECRET + "x", changed)},
                        {"X-Signature": "sha256=" + "0" * 64},
                        {}):
            reply = self.request("POST", "/hooks/echo", body=changed,
                                 headers=dict(headers, **{"Content-Type": "application/json"}))
            self.assertEqual(reply.status, 401, headers)
        self.assertEqual(len(self.executions("echo")), 2)
        self.assertEqual(self.scenario_events(d, "echo"), 0)
        self.assertNotIn(SECRET, d.log_text())

        # Unknown scenarios and paths are 404; /hooks takes no HEAD or OPTIONS.
        self.assertEqual(self.request("POST", "/hooks/nope", body=b"{}").status, 404)
        self.assertEqual(self.request("GET", "/elsewhere").status, 404)
        self.assertEqual(self.request("OPTIONS", "/hooks/echo").status, 405)

    def test_verify_refuses_before_anything_runs(self):
        d = self.start(guarded=GUARDED, fenced=FENCED)

        def basic(user, password):
            return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

        for auth in (None, basic("robot", "pa:ss w\u00f6r"), basic("robo", "pa:ss w\u00f6rd"),
                     "Bearer pa:ss"):
            headers = {"Authorization": auth} if auth else {}
            reply = self.request("POST", "/hooks/guarded", body={"a": 1}, headers=headers)
            self.assertEqual(reply.status, 401, auth)
        self.assertEqual(self.executions("guarded"), [])

        # Right credentials: no webhooks.respond in the flow, so 200
        # "Accepted" once the run is done with the request; the Authorization
        # header never reaches the bundle or the store.
        reply = self.request("PUT", "/hooks/guarded?x=1",
                             body={"a": 1}, headers={"Authorization": basic(
                                 "robot", "pa:ss w\u00f6rd"), "X-Trace": "t-1"})
        self.assertEqual((reply.status, reply.text()), (200, "Accepted"))
        runs = self.executions("guarded")
        self.assertEqual([r["status"] for r in runs], ["success"])
        bundle = self.outputs(self.execution(d, runs[0]["id"]), 1)[0]
        self.assertEqual(bundle["method"], "PUT")
        self.assertEqual(bundle["headers"]["x-trace"], "t-1")
        self.assertNotIn("authorization", bundle["headers"])
        with self.store() as db:
            for table, in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                for row in db.execute("SELECT * FROM %s" % table):
                    self.assertNotIn("cm9ib3Q6", repr(row), table)

        # An address outside ip_allow is refused whatever it sends.
        reply = self.request("POST", "/hooks/fenced", body={"a": 1})
        self.assertEqual(reply.status, 401)
        self.assertEqual(self.executions("fenced"), [])

    def test_form_files_arrive_as_file_values(self):
        self.start(upload=UPLOAD)
        data = os.urandom(3 * 1024 * 1024 + 17)
        boundary = "----scenariod" + uuid.uuid4().hex
        body = b"".join([
            b"--%s\r\n" % boundary.encode(),
            b'Content-Disposition: form-data; name="title"\r\n\r\n',
            "Quarterly r\u00e9sum\u00e9".encode(), b"\r\n",
            b"--%s\r\n" % boundary.encode(),
            b'Content-Disposition: form-data; name="doc"; filename="report.bin"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n",
            data, b"\r\n",
            b"--%s--\r\n" % boundary.encode()])
        reply = self.request("POST", "/hooks/upload", body=body, headers={
            "Content-Type": "multipart/form-data; boundary=" + boundary})
        self.assertEqual(reply.status, 200, reply.body)
        self.assertEqual(reply.json(), {"title": "Quarterly r\u00e9sum\u00e9",
                                        "size": len(data)})
        with open(os.path.join(self.work, "out", "report.bin"), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(),
                             hashlib.sha256(data).hexdigest())

    def test_respond_streams_a_file_back(self):
        self.start(mirror=MIRROR)
        data = os.urandom(5 * 1024 * 1024)
        reply = self.request("POST", "/hooks/mirror", body=data,
                             headers={"Content-Type": "application/pdf"})
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.headers["content-type"], "application/octet-stream")
        self.assertEqual(len(reply.body), len(data))
        self.assertTrue(reply.body == data)

        # Over max_body: 413 before the body is read, and nothing runs.
        status = self.announce("POST", "/hooks/mirror", 8 * 1024 * 1024 + 1,
                               headers={"Content-Type": "application/pdf"})
        self.assertEqual(status, 413)
        self.assertEqual(len(self.executions("mirror")), 1)

    def test_a_caller_waits_at_most_response_wait(self):
        d = self.start(slow=SLOW)
        before = self.metrics()
        started = time.time()
        reply = self.request("POST", "/hooks/slow", body={"n": "seven"})
        waited = time.time() - started
        self.assertEqual(reply.status, 202, reply.body)
        execution_id = reply.json()["execution_id"]
        self.assertLess(waited, 2.9)
        # The run goes on without its caller and succeeds.
        self.wait_until("the slow run", lambda: self.execution(d, execution_id)["status"]
                        == "success")
        with open(os.path.join(self.work, "out", "slow.txt")) as f:
            self.assertEqual(f.read(), "seven")

        reply = self.request("POST", "/hooks/slow", body=b"{" * 2000,
                             headers={"Content-Type": "application/json"})
        self.assertEqual(reply.status, 413)

        # /healthz answers; /metrics is valid exposition format and counted
        # what happened.
        health = self.request("GET", "/healthz")
        self.assertEqual(health.status, 200)
        after = self.metrics()
        self.assertEqual(metric(after, "scenariod_runs_total", scenario="slow",
                                status="success")
                         - metric(before, "scenariod_runs_total", scenario="slow",
                                  status="success"), 1)
        self.assertGreaterEqual(metric(after, "scenariod_http_requests_total", **{"class": "2xx"})
                                - metric(before, "scenariod_http_requests_total",
                                         **{"class": "2xx"}), 2)
        self.assertEqual(metric(after, "scenariod_http_requests_total", **{"class": "4xx"})
                         - metric(before, "scenariod_http_requests_total", **{"class": "4xx"}),
                         1)

    def test_a_listen_address_it_cannot_use_stops_it_with_a_reason(self):
        self.add_scenario("echo.yaml", ECHO)
        d = self.daemon(args=["--listen", "127.0.0.1:99999"], start=False)
        d.start(wait_ready=False)
        self.assertEqual(d.proc.wait(timeout=20), 64)
        self.assertIn("invalid listen address '127.0.0.1:99999'", d.log_text())
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            d = self.daemon(args=["--listen", "127.0.0.1:%d" % taken.getsockname()[1]],
                            start=False)
            d.start(wait_ready=False)
            self.assertEqual(d.proc.wait(timeout=20), 73)
            self.assertIn("Address already in use", d.log_text())

    def scenario_events(self, d, name):
        return d.scenario(name).get("events_queued", 0)


if __name__ == "__main__":
    harness.main()
