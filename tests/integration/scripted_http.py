# SPDX-License-Identifier: MIT
"""A loopback HTTP server whose answers a test scripts per path, and which
remembers every request: the stand-in for "some service" in the error
handling tests (the CloudConvert ones use the fake CloudConvert server)."""

import http.server
import json
import threading
import time


class ScriptedServer:
    def __init__(self, port=0):
        self.lock = threading.Lock()
        self.rules = {}      # path -> list of (status, body, delay); last one repeats
        self.requests = []   # (method, path)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server._answer(self)

            do_POST = do_GET

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.base = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def script(self, path, *answers):
        """Each answer is (status, body), (status, body, delay_s) or
        (status, body, delay_s, headers); the last one repeats for every
        later request."""
        with self.lock:
            self.rules[path] = [tuple(a) + (0, {})[len(a) - 2:] for a in answers]

    def count(self, path):
        with self.lock:
            return sum(1 for _, p in self.requests if p == path)

    def _answer(self, handler):
        path = handler.path.split("?")[0]
        with self.lock:
            self.requests.append((handler.command, path))
            answers = self.rules.get(path)
            if answers:
                status, body, delay, headers = \
                    answers[0] if len(answers) == 1 else answers.pop(0)
            else:
                status, body, delay, headers = 200, {"path": path}, 0, {}
        if delay:
            time.sleep(delay)
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
