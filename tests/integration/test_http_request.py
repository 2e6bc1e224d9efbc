# SPDX-License-Identifier: MIT
"""http.request against a real HTTP server on loopback: JSON bodies are
parsed into bundles, downloads become files, failures are typed errors."""

import hashlib
import http.server
import json
import os
import threading

import harness

PAYLOAD = os.urandom(300 * 1024)


class Handler(http.server.BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        Handler.seen.append((self.command, self.path, dict(self.headers)))
        if self.path.startswith("/catalog"):
            body = json.dumps({"files": [{"name": "one.bin"}, {"name": "two.bin"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/files/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)
        else:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()


SCENARIO = """\
flow:
  - id: 1
    module: http.request
    with:
      url: "%(base)s/catalog"
      query: {kind: "binary files"}
      headers: {X-Demo: "yes"}
  - id: 2
    module: builtin.iterator
    with: {array: "{{1.body.files}}"}
  - id: 3
    module: http.request
    with: {url: "%(base)s/files/{{2.name}}", download: true}
  - id: 4
    module: files.write
    with: {dir: out, name: "{{2.name}}", data: "{{3.file}}"}
"""


class HttpRequestTest(harness.ScenarioTestCase):
    def setUp(self):
        super().setUp()
        Handler.seen = []
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        super().tearDown()

    def test_json_then_downloads_written_to_disk(self):
        run = self.run_json(self.write_scenario("http.yaml", SCENARIO % {"base": self.base}))
        self.assertEqual(run["status"], "success", run)
        for name in ("one.bin", "two.bin"):
            with open(os.path.join(self.work, "out", name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(),
                                 hashlib.sha256(PAYLOAD).hexdigest())
        method, path, headers = Handler.seen[0]
        self.assertEqual(path, "/catalog?kind=binary%20files")
        self.assertEqual(headers.get("X-Demo"), "yes")
        ops = self.ctl("execution", run["execution_id"], "--json").json()["operations_list"]
        download = [o for o in ops if o["module_id"] == "3"][0]
        self.assertEqual(download["output"][0]["file"]["size"], len(PAYLOAD))
        self.assertGreaterEqual(run["bytes"], 2 * len(PAYLOAD))

    def test_server_error_is_a_typed_error_and_exit_1(self):
        path = self.write_scenario("fail.yaml",
                                   "flow:\n  - id: 1\n    module: builtin.set\n"
                                   "    with: {variables: {a: 1}}\n"
                                   "  - id: 2\n    module: http.request\n"
                                   "    with: {url: \"%s/broken\"}\n" % self.base)
        run = self.run_json(path, expect_code=1)
        self.assertEqual(run["status"], "error")
        self.assertEqual(run["error"]["type"], "ConnectionError")
        self.assertIn("503", self.module(run, "2")["error"]["message"])

    def test_connection_error_on_the_trigger_is_a_warning(self):
        """scenario-format.md "Errors", default handling 1: the next run tries
        again, so the run ends with a warning, not an error."""
        path = self.write_scenario("trigger.yaml",
                                   "flow:\n  - id: 1\n    module: http.request\n"
                                   "    with: {url: \"%s/broken\"}\n" % self.base)
        run = self.run_json(path, expect_code=0)
        self.assertEqual(run["status"], "warning")
        self.assertEqual(run["error"]["type"], "ConnectionError")


if __name__ == "__main__":
    harness.main()
