# SPDX-License-Identifier: MIT
"""The daemon's HTTP front as the webhook tests use it: a daemon listening
on a loopback port, plain HTTP requests to it (http.client, so a test sees
every status and header as a caller would), and a parser of the Prometheus
text exposition format for /metrics."""

import hashlib
import hmac
import http.client
import json
import re
import socket

import daemon_harness
import harness


def sign(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Reply:
    def __init__(self, response, body):
        self.status = response.status
        self.headers = {k.lower(): v for k, v in response.getheaders()}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def text(self):
        return self.body.decode()


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value}; raises on a line that is
    not valid exposition format, on a sample without a TYPE, or on a TYPE
    given twice."""
    samples, types = {}, {}
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if name in types:
                raise ValueError("TYPE of %s given twice" % name)
            if kind not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError("bad TYPE line %r" % line)
            types[name] = kind
            continue
        if line.startswith("#"):
            raise ValueError("stray comment %r" % line)
        m = SAMPLE.match(line)
        if not m:
            raise ValueError("not a sample: %r" % line)
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        labels, rest = {}, labels_text
        while rest:
            lm = LABEL.match(rest)
            if not lm:
                raise ValueError("bad labels in %r" % line)
            labels[lm.group(1)] = lm.group(2)
            rest = rest[lm.end():]
        family = re.sub(r'_(bucket|sum|count|total)$', '', name)
        if name not in types and family not in types and name[:-6] not in types:
            raise ValueError("sample %s has no TYPE" % name)
        key = (name, frozenset(labels.items()))
        if key in samples:
            raise ValueError("sample %r given twice" % (key,))
        samples[key] = float(value)
    if not text.endswith("\n"):
        raise ValueError("the exposition does not end with a newline")
    return samples


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


class HttpFrontTestCase(daemon_harness.DaemonTestCase):
    """A daemon with --listen on a known loopback port."""

    def listening_daemon(self, extra_env=None, args=(), port=None):
        self.port = port or harness.free_port()
        d = self.daemon(extra_env=extra_env,
                        args=["--listen", "127.0.0.1:%d" % self.port] + list(args))
        self.assertEqual(d.status()["daemon"]["listen_port"], self.port)
        return d

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                headers = dict({"Content-Type": "application/json"}, **(headers or {}))
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Reply(response, response.read())
        finally:
            conn.close()

    def announce(self, method, path, length, headers=None, timeout=30):
        """Sends only the request line and headers of a request with a body
        of `length` bytes, and returns the status the server answers before
        any of the body (a client that waits, as with Expect: 100-continue)."""
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1",
                 "Content-Length: %d" % length]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        return int(data.split(b" ", 2)[1])

    def metrics(self):
        reply = self.request("GET", "/metrics")
        self.assertEqual(reply.status, 200)
        self.assertTrue(reply.headers["content-type"].startswith("text/plain; version=0.0.4"),
                        reply.headers)
        return parse_metrics(reply.text())

    def execution(self, d, execution_id):
        result = d.ctl("--json", "execution", str(execution_id))
        self.assertEqual(result.code, 0, result.stderr)
        return result.json()

    def outputs(self, execution, module_id):
        return harness.module_outputs(execution, module_id)
