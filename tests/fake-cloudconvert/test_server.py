#!/usr/bin/env python3
"""Tests of the fake CloudConvert server: run `python3 tests/fake-cloudconvert/test_server.py`.

The server runs as a subprocess on port 0, exactly as the integration
harness starts it; the tests talk HTTP to it and compare what comes back
with the SDK fixtures in fixtures/ and with the documented deterministic
conversion rules.
"""

import base64
import hashlib
import hmac
import http.client
import http.server
import io
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, HERE)

import webhooks  # noqa: E402  (the signature helper under test)
import wire  # noqa: E402

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as source:
        return source.read()


def fixture_json(name):
    return json.loads(fixture(name))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def expected_convert(data, fmt):
    """README rule: "FAKECC convert <fmt> <sha256 of input>\\n" + input bytes."""
    return ("FAKECC convert %s %s\n" % (fmt, sha256(data))).encode() + data


class FakeServer:
    """The server as a subprocess, plus a tiny HTTP client for it."""

    def __init__(self, *args):
        # stderr to a file, not a pipe: an unread pipe that fills up would block the server.
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "server.py"), "--port", "0"] + list(args),
            stdout=subprocess.PIPE, stderr=self.stderr)
        ready, _, _ = select.select([self.process.stdout], [], [], 10)
        line = self.process.stdout.readline().decode() if ready else ""
        match = re.fullmatch(r"LISTENING (http://127\.0\.0\.1:(\d+))\n", line)
        if not match:
            self.process.kill()
            self.process.wait()
            self.stderr.seek(0)
            raise RuntimeError("server did not start: %r %s" % (
                line, self.stderr.read().decode(errors="replace")))
        self.base = match.group(1)
        self.port = int(match.group(2))

    def stop(self):
        """SIGTERM; returns the exit status (must be 0)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(10)
        finally:
            self.process.stdout.close()
            self.stderr.seek(0)
            errors = self.stderr.read().decode(errors="replace")
            self.stderr.close()
        if errors:  # the server only writes to stderr when something went wrong
            sys.stderr.write("fake-cloudconvert stderr:\n" + errors)
        return code

    def request(self, method, target, body=None, headers=None, auth="test-key"):
        """(status, headers, body bytes); `target` is a path or an absolute URL."""
        parts = urllib.parse.urlsplit(target)
        path = (parts.path + ("?" + parts.query if parts.query else "")) if parts.netloc \
            else target
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = "Bearer " + auth
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def json(self, method, target, body=None, expect=None, **kwargs):
        status, headers, raw = self.request(method, target, body, **kwargs)
        if expect is not None and status != expect:
            raise AssertionError("%s %s: %d %s" % (method, target, status, raw[:500]))
        return json.loads(raw) if raw else None

    def admin(self, method, path, body=None):
        return self.request(method, "/__admin/" + path, body, auth=None)

    def add_faults(self, *rules):
        status, _, raw = self.admin("POST", "faults", list(rules))
        assert status == 201, raw
        return json.loads(raw)["ids"]

    def journal(self):
        _, _, raw = self.admin("GET", "journal")
        return [json.loads(line) for line in raw.decode().splitlines()]


def multipart(fields, boundary="----fakeccboundary"):
    """Encode [(name, value)] / [(name, (filename, bytes))] in the given order."""
    out = io.BytesIO()
    for name, value in fields:
        out.write(b"--" + boundary.encode() + b"\r\n")
        if isinstance(value, tuple):
            out.write(b'Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                      % (name.encode(), value[0].encode()))
            out.write(b"Content-Type: application/octet-stream\r\n\r\n" + value[1] + b"\r\n")
        else:
            out.write(b'Content-Disposition: form-data; name="%s"\r\n\r\n' % name.encode())
            out.write(str(value).encode() + b"\r\n")
    out.write(b"--" + boundary.encode() + b"--\r\n")
    return out.getvalue(), "multipart/form-data; boundary=" + boundary


class Receiver:
    """A local webhook endpoint recording raw deliveries; statuses and delays scripted per path."""

    def __init__(self):
        self.requests = []
        self.statuses = {}  # path -> list of statuses to answer, in turn (then 200)
        self.delays = {}  # path -> list of seconds to wait before answering, in turn
        self.pace = {}  # path -> seconds to wait before every answer (after `delays`)
        self.active = 0  # requests being handled now, and the most at once
        self.peak = 0
        self.lock = threading.Lock()
        receiver = self

        class Handle(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.active += 1
                    receiver.peak = max(receiver.peak, receiver.active)
                    delays = receiver.delays.get(self.path) or []
                    delay = delays.pop(0) if delays else receiver.pace.get(self.path, 0)
                time.sleep(delay)
                with receiver.lock:
                    receiver.active -= 1
                    receiver.requests.append((self.path, dict(self.headers), body))
                    queue = receiver.statuses.get(self.path) or []
                    status = queue.pop(0) if queue else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the fake gave up waiting (timeout test)
                    self.close_connection = True

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # bursts connect many at once
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a timed-out delivery's socket, closed under the handler

        self.server = Server(("127.0.0.1", 0), Handle)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def clear(self):
        with self.lock:
            self.requests.clear()
            self.statuses.clear()
            self.delays.clear()
            self.pace.clear()
            self.peak = 0

    def received(self, path):
        """[(headers, body)] delivered to `path`, in arrival order."""
        with self.lock:
            return [(h, b) for p, h, b in self.requests if p == path]

    def wait_for(self, predicate, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [r for r in self.requests if predicate(r)]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError("no matching webhook delivery; got %r" % [
            (p, b[:80]) for p, _, b in self.requests])

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# --- tests without a server ------------------------------------------------------


class SignatureTest(unittest.TestCase):
    """The signing helper against the published test vectors (reference §8)."""

    def test_php_fixture_vector(self):
        self.assertEqual(webhooks.sign(fixture("php__webhook_job_finished_payload.json"),
                                       "secret"),
                         "576b653f726c85265a389532988f483b5c7d7d5f40cede5f5ddf9c3f02934f35")

    def test_dotnet_fixture_vector(self):
        self.assertEqual(webhooks.sign(fixture("dotnet__webhook_job_created_payload.json"),
                                       "9E1I8fQSLM7WsH1Y2Zp0uurYfhLqdERu"),
                         "88c3103f1d64282bf963af5dd8405ef26348af25b8903e10f0c288c11f0f907b")

    def test_python_sdk_vector(self):
        self.assertEqual(webhooks.sign(b"cloudconvert", "90sffs0d8fs0f9sf0"),
                         "5c4c0691bce8a1a2af738b7073fe0627e792734813358c5f88a658819dd0a6d2")

    def test_php_style_encoding_matches_laravel_vector(self):
        """Re-encoding the payload PHP-style gives the exact bytes Laravel's test signs."""
        body = wire.php_json(json.loads(fixture("php__webhook_job_finished_payload.json")))
        self.assertEqual(len(body), 2519)
        self.assertEqual(webhooks.sign(body, "secret"),
                         "38c9a2e4db791ef8c9ca5f7300417376028fa55d5c875894137b1c312e5e3560")

    def test_dotnet_payload_is_already_php_style(self):
        raw = fixture("dotnet__webhook_job_created_payload.json")
        self.assertEqual(wire.php_json(json.loads(raw)), raw)


# --- tests against one running server ---------------------------------------------------


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.journal_path = os.path.join(cls.tmp.name, "requests.jsonl")
        cls.server = FakeServer("--processing-delay", "0.02", "--sync-timeout", "1",
                                "--webhook-retry-delay", "0.05", "--webhook-timeout", "1",
                                "--journal", cls.journal_path,
                                "--api-key", "test-key", "--api-key", "second-key",
                                "--job-webhook-secret", "job-secret")
        cls.receiver = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.close()
        code = cls.server.stop()
        cls.tmp.cleanup()
        assert code == 0, "server exit status %r after SIGTERM" % code

    def setUp(self):
        status, _, _ = self.server.admin("POST", "reset")
        self.assertEqual(status, 204)
        self.receiver.clear()

    # --- helpers ---

    def create_job(self, tasks, tag=None, **extra):
        body = dict(tasks=tasks, **extra)
        if tag is not None:
            body["tag"] = tag
        return self.server.json("POST", "/v2/jobs", body, expect=201)["data"]

    def wait_job(self, job_id):
        return self.server.json("GET", "/sync/v2/jobs/" + job_id, expect=200)["data"]

    def task(self, job, name):
        return next(t for t in job["tasks"] if t["name"] == name)

    def upload(self, task, filename, data, auth=None, fields=None):
        form = task["result"]["form"]
        parts = fields if fields is not None else list(form["parameters"].items())
        body, content_type = multipart(parts + [("file", (filename, data))])
        return self.server.request("POST", form["url"], body, {"Content-Type": content_type},
                                   auth=auth)

    def raw_job(self, name, content, tag=None, then=None):
        """import/raw -> [then] -> export/url; returns the finished job."""
        tasks = {"import-1": {"operation": "import/raw", "file": content, "filename": name}}
        last = "import-1"
        if then:
            tasks["work"] = dict(then, input=["import-1"])
            last = "work"
        tasks["export"] = {"operation": "export/url", "input": last}
        return self.wait_job(self.create_job(tasks, tag)["id"])

    def download(self, job, name="export", auth=None):
        url = self.task(job, name)["result"]["files"][0]["url"]
        return self.server.request("GET", url, auth=auth)

    def upload_job(self, tag="flow"):
        return self.create_job({
            "import-1": {"operation": "import/upload"},
            "convert": {"operation": "convert", "input": "import-1", "output_format": "pdf"},
            "export": {"operation": "export/url", "input": "convert"},
        }, tag)

    # --- fixture shapes ---

    def test_job_and_task_keys_match_fixtures(self):
        created = self.upload_job()
        upload_fixture = fixture_json("dotnet__upload_task_created.json")["data"]
        waiting = self.task(created, "import-1")
        self.assertEqual(list(waiting), list(upload_fixture))
        self.assertEqual(list(waiting["result"]["form"]["parameters"]),
                         list(upload_fixture["result"]["form"]["parameters"]))
        self.assertEqual(waiting["message"], "Waiting for file upload")
        self.assertEqual(created["status"], "waiting")

        self.assertEqual(self.upload(waiting, "in.txt", b"x")[0], 201)
        job = self.wait_job(created["id"])
        finished = fixture_json("node__job_finished.json")["data"]
        self.assertEqual(list(job), list(finished))
        by_operation = {t["operation"]: t for t in finished["tasks"]}
        for task in job["tasks"]:
            reference = by_operation["import/url" if task["operation"] == "import/upload"
                                     else task["operation"]]
            self.assertEqual(list(task), list(reference), task["operation"])
            self.assertEqual(list(task["result"]["files"][0]),
                             list(reference["result"]["files"][0]))
            for key in ("created_at", "started_at", "ended_at"):
                self.assertRegex(task[key], TIMESTAMP)
            uuid.UUID(task["id"])

    def test_user_list_and_error_keys_match_fixtures(self):
        user = self.server.json("GET", "/v2/users/me", expect=200)["data"]
        self.assertLessEqual(set(fixture_json("php__user.json")["data"]), set(user))
        self.assertEqual(list(user)[:5], list(fixture_json("php__user.json")["data"])[:5])

        self.upload_job()
        page = self.server.json("GET", "/v2/jobs", expect=200)
        reference = fixture_json("php__jobs.json")
        self.assertEqual(list(page), list(reference))
        self.assertEqual(list(page["links"]), list(reference["links"]))
        self.assertEqual(list(page["meta"]), list(reference["meta"]))
        self.assertLessEqual(set(reference["data"][0]), set(page["data"][0]))
        self.assertNotIn("tasks", page["data"][0])

        self.server.add_faults({"path": "^/v2/jobs$", "action": "credits_exceeded", "times": 1})
        status, _, raw = self.server.request("POST", "/v2/jobs", {"tasks": {}})
        self.assertEqual(status, 402)
        self.assertEqual(json.loads(raw), fixture_json("php__error402.json"))
        status, _, raw = self.server.request("POST", "/v2/jobs", {"tasks": {}})
        self.assertEqual(status, 422)
        self.assertEqual(list(json.loads(raw)), list(fixture_json("php__error400.json")))

    def test_wire_format_api_and_sync_hosts(self):
        job = self.raw_job("a.txt", "x")
        status, headers, raw = self.server.request("GET", "/v2/jobs/" + job["id"])
        self.assertEqual(status, 200)
        self.assertIn(b'"self":"http:\\/\\/127.0.0.1:', raw)
        self.assertNotIn(b" ", raw)  # compact
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(headers["X-Ratelimit-Limit"], "500")
        self.assertTrue(int(headers["X-Ratelimit-Remaining"]) < 500)

        status, headers, raw = self.server.request("GET", "/sync/v2/jobs/" + job["id"])
        self.assertEqual(status, 200)
        self.assertNotIn(b"\\/", raw)
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8")
        self.assertNotIn("X-Ratelimit-Limit", headers)
        self.assertTrue(headers["ETag"].startswith('W/"'))

    # --- the main flow ---

    def test_upload_convert_export_download(self):
        data = b"hello\x00world\n" * 100
        created = self.upload_job()
        status, headers, raw = self.upload(self.task(created, "import-1"), "report.docx", data)
        self.assertEqual(status, 201, raw)
        self.assertEqual(headers["Content-Type"], "application/xml")
        self.assertIn(b"<PostResponse>", raw)
        self.assertTrue(headers["Location"].endswith("/report.docx"))

        job = self.wait_job(created["id"])
        self.assertEqual(job["status"], "finished")
        self.assertEqual(self.task(job, "import-1")["result"]["files"],
                         [{"filename": "report.docx", "size": len(data)}])
        convert = self.task(job, "convert")
        self.assertEqual((convert["credits"], convert["engine"]), (1, "fake"))
        exported = self.task(job, "export")["result"]["files"][0]
        self.assertEqual(exported["filename"], "report.pdf")
        self.assertEqual(exported["size"], len(expected_convert(data, "pdf")))

        status, headers, body = self.download(job)
        self.assertEqual(status, 200)
        self.assertEqual(body, expected_convert(data, "pdf"))
        self.assertEqual(headers["Content-Type"], "application/pdf")
        self.assertEqual(headers["Content-Disposition"], 'attachment; filename="report.pdf"')

    def test_big_upload_unicode_name_and_client_filled_key(self):
        """libcurl sends Expect: 100-continue for big bodies; names need not be ASCII;
        S3's policy only pins the key's "{task}/" prefix, so a filled-in key works too."""
        data = bytes(range(256)) * 8192  # 2 MiB
        created = self.upload_job()
        task = self.task(created, "import-1")
        body, content_type = multipart(list(task["result"]["form"]["parameters"].items()) +
                                       [("file", ("résumé 1.txt", data))])
        status, _, raw = self.server.request("POST", task["result"]["form"]["url"], body, {
            "Content-Type": content_type, "Expect": "100-continue"}, auth=None)
        self.assertEqual(status, 201, raw)
        job = self.wait_job(created["id"])
        status, headers, downloaded = self.download(job)
        self.assertEqual((status, downloaded), (200, expected_convert(data, "pdf")))
        self.assertEqual(headers["Content-Disposition"], "attachment; filename=\"r_sum_ 1.pdf\"; "
                         "filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf")

        other = self.task(self.upload_job(), "import-1")
        fields = [(k, v.replace("${filename}", "chosen.txt")) if k == "key" else (k, v)
                  for k, v in other["result"]["form"]["parameters"].items()]
        self.assertEqual(self.upload(other, "ignored.bin", b"k", fields=fields)[0], 201)
        done = self.server.json("GET", "/sync/v2/tasks/" + other["id"])["data"]
        self.assertEqual(done["result"]["files"][0]["filename"], "chosen.txt")

    def test_download_refuses_authorization_and_bad_signatures(self):
        job = self.raw_job("a.txt", "abc")
        status, _, body = self.download(job, auth="test-key")
        self.assertEqual(status, 400)
        self.assertIn(b"must not carry an Authorization header", body)
        url = self.task(job, "export")["result"]["files"][0]["url"]
        tampered = url.replace("Expires=", "Expires=1")
        self.assertEqual(self.server.request("GET", tampered, auth=None)[0], 403)
        self.assertEqual(self.server.request("GET", url.split("?")[0], auth=None)[0], 403)

    def test_upload_rejections(self):
        task = self.task(self.upload_job(), "import-1")
        params = list(task["result"]["form"]["parameters"].items())
        status, _, body = self.upload(task, "a.txt", b"x", auth="test-key")
        self.assertEqual((status, b"Authorization" in body), (400, True))
        body, content_type = multipart([("file", ("a.txt", b"x"))] + params)
        status, _, raw = self.server.request("POST", task["result"]["form"]["url"], body,
                                             {"Content-Type": content_type}, auth=None)
        self.assertEqual(status, 400)
        self.assertIn(b"last field", raw)
        status, _, raw = self.upload(task, "a.txt", b"x", fields=params[1:])
        self.assertEqual(status, 403, raw)
        changed = [(k, v + "x" if k == "X-Amz-Date" else v) for k, v in params]
        self.assertEqual(self.upload(task, "a.txt", b"x", fields=changed)[0], 403)
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        body, content_type = multipart(params + [("file", ("a.txt", b"x"))])
        connection.request("POST", "/storage/tasks", body=iter([body]),
                           headers={"Content-Type": content_type}, encode_chunked=True)
        self.assertEqual(connection.getresponse().status, 411)
        connection.close()
        # Nothing above was accepted: the task still waits for its file.
        self.assertEqual(self.server.json("GET", "/v2/tasks/" + task["id"])["data"]["status"],
                         "waiting")

    # --- deterministic outputs ---

    def test_archive_makes_real_zip_and_tar(self):
        tasks = {
            "import-1": {"operation": "import/raw", "file": "first", "filename": "a.txt"},
            "import-2": {"operation": "import/base64", "filename": "a.txt",
                         "file": base64.b64encode(b"\x00\x01second").decode()},
            "zip": {"operation": "archive", "input": ["import-1", "import-2"],
                    "output_format": "zip"},
            "tgz": {"operation": "archive", "input": ["import-2", "import-1"],
                    "output_format": "tar.gz", "filename": "bundle.tar.gz"},
            "export": {"operation": "export/url", "input": ["zip", "tgz"]},
        }
        job = self.wait_job(self.create_job(tasks)["id"])
        self.assertEqual(job["status"], "finished", job)
        files = self.task(job, "export")["result"]["files"]
        self.assertEqual([f["filename"] for f in files], ["a.zip", "bundle.tar.gz"])
        archive = zipfile.ZipFile(io.BytesIO(self.server.request("GET", files[0]["url"],
                                                                 auth=None)[2]))
        self.assertIsNone(archive.testzip())
        self.assertEqual(archive.namelist(), ["a.txt", "a-2.txt"])
        self.assertEqual(archive.read("a-2.txt"), b"\x00\x01second")
        packed = self.server.request("GET", files[1]["url"], auth=None)[2]
        with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as tar:
            self.assertEqual(tar.getnames(), ["a.txt", "a-2.txt"])
            self.assertEqual(tar.extractfile("a-2.txt").read(), b"first")

    def test_other_operations_outputs(self):
        merge = {
            "import-1": {"operation": "import/raw", "file": "one", "filename": "x.pdf"},
            "import-2": {"operation": "import/raw", "file": "two", "filename": "y.docx"},
            "merge": {"operation": "merge", "input": ["import-2", "import-1"],
                      "output_format": "pdf"},
            "shot": {"operation": "capture-website", "url": "https://example.com/a/b",
                     "output_format": "png"},
            "url": {"operation": "import/url", "url": "https://example.com/files/r%20s.csv"},
            "optimize": {"operation": "optimize", "input": "import-1", "profile": "print",
                         "filename": "small.pdf"},
            "meta": {"operation": "metadata", "input": "import-1"},
            "export": {"operation": "export/url", "input": ["merge", "shot", "url",
                                                           "optimize"]},
        }
        job = self.wait_job(self.create_job(merge)["id"])
        self.assertEqual(job["status"], "finished", job)
        files = self.task(job, "export")["result"]["files"]
        got = {f["filename"]: self.server.request("GET", f["url"], auth=None)[2] for f in files}
        self.assertEqual(got["y.pdf"], (
            b"FAKECC merge pdf 2\n"
            b"FAKECC file y.docx 3 " + sha256(b"two").encode() + b"\ntwo"
            b"FAKECC file x.pdf 3 " + sha256(b"one").encode() + b"\none"))
        url = b"https://example.com/a/b"
        self.assertEqual(got["example.com.png"],
                         b"FAKECC capture-website png " + sha256(url).encode() + b"\n" + url +
                         b"\n")
        self.assertEqual(got["r s.csv"],
                         b"FAKECC import/url https://example.com/files/r%20s.csv\n")
        self.assertEqual(got["small.pdf"],
                         b"FAKECC optimize print " + sha256(b"one").encode() + b"\none")
        self.assertEqual(self.task(job, "meta")["result"]["metadata"]["SHA256"], sha256(b"one"))

    # --- failures inside jobs ---

    def test_input_task_failed_propagates(self):
        self.server.add_faults({"action": "fail_task", "operation": "import/raw",
                                "code": "SANDBOX_FILE_NOT_ALLOWED",
                                "message": "The file a.txt is not whitelisted for sandbox use"})
        job = self.raw_job("a.txt", "x", then={"operation": "convert", "output_format": "pdf"})
        self.assertEqual(job["status"], "error")
        root = self.task(job, "import-1")
        self.assertEqual((root["status"], root["code"]), ("error", "SANDBOX_FILE_NOT_ALLOWED"))
        for name in ("work", "export"):
            task = self.task(job, name)
            self.assertEqual((task["status"], task["code"], task["message"]),
                             ("error", "INPUT_TASK_FAILED", "Input task has failed"))
            self.assertIsNone(task["started_at"])
            self.assertRegex(task["ended_at"], TIMESTAMP)

    def test_ignore_error_keeps_job_finished(self):
        self.server.add_faults({"action": "fail_task", "task": "optional"})
        job = self.wait_job(self.create_job({
            "optional": {"operation": "import/raw", "file": "x", "filename": "x.txt",
                         "ignore_error": True},
            "import-1": {"operation": "import/raw", "file": "y", "filename": "y.txt"},
            "export": {"operation": "export/url", "input": "import-1"},
        })["id"])
        self.assertEqual((job["status"], self.task(job, "optional")["status"]),
                         ("finished", "error"))

    # --- lists ---

    def test_pagination_and_filters(self):
        ids = [self.create_job({"i": {"operation": "import/upload"}}, "page")["id"]
               for _ in range(5)]
        self.create_job({"i": {"operation": "import/upload"}}, "other")
        query = "/v2/jobs?filter%5Btag%5D=page&per_page=2"
        first = self.server.json("GET", query, expect=200)
        self.assertEqual([j["id"] for j in first["data"]], ids[::-1][:2])
        self.assertEqual(first["meta"]["current_page"], 1)
        self.assertEqual((first["meta"]["from"], first["meta"]["to"]), (1, 2))
        self.assertEqual(first["meta"]["per_page"], 2)
        self.assertIsNone(first["links"]["prev"])
        third = self.server.json("GET", self.server.json("GET", first["links"]["next"])
                                 ["links"]["next"])
        self.assertEqual([j["id"] for j in third["data"]], [ids[0]])
        self.assertEqual((third["meta"]["from"], third["meta"]["to"]), (5, 5))
        self.assertIsNone(third["links"]["next"])
        self.assertIn("page=2", third["links"]["prev"])
        waiting = self.server.json("GET", "/v2/jobs?filter[status]=waiting&include=tasks")
        self.assertEqual(len(waiting["data"]), 6)
        self.assertIn("tasks", waiting["data"][0])
        self.assertEqual(self.server.json("GET", "/v2/jobs?filter[status]=finished")["data"], [])
        tasks = self.server.json("GET", "/v2/tasks?filter[job_id]=%s&filter[operation]="
                                 "import%%2Fupload" % ids[0])["data"]
        self.assertEqual([t["job_id"] for t in tasks], [ids[0]])

    # --- auth and validation ---

    def test_auth(self):
        for auth in (None, "wrong-key"):
            status, _, raw = self.server.request("GET", "/v2/users/me", auth=auth)
            self.assertEqual((status, json.loads(raw)), (401, {"message": "Unauthenticated."}))
        self.assertEqual(self.server.request("GET", "/sync/v2/jobs/x", auth=None)[0], 401)
        self.assertEqual(self.server.request("GET", "/v2/users/me", auth="second-key")[0], 200)
        self.assertEqual(self.server.request("GET", "/v2/operations", auth=None)[0], 200)

    def test_validation_and_lookup_errors(self):
        cases = [
            ({}, "tasks"),
            ({"tasks": {"c": {"operation": "convert", "input": "nope", "output_format": "pdf"}}},
             "tasks.c.input"),
            ({"tasks": {"a": {"operation": "convert", "input": "b", "output_format": "pdf"},
                        "b": {"operation": "convert", "input": "a", "output_format": "pdf"}}},
             "tasks.a.input"),
            ({"tasks": {"u": {"operation": "import/url", "url": "not a url"}}}, "tasks.u.url"),
            ({"tasks": {"x": {"operation": "teleport"}}}, "tasks.x.operation"),
        ]
        for body, field in cases:
            status, _, raw = self.server.request("POST", "/v2/jobs", body)
            self.assertEqual(status, 422, body)
            self.assertEqual(json.loads(raw)["code"], "INVALID_DATA")
            self.assertIn(field, json.loads(raw)["errors"])
        self.assertEqual(self.server.request("GET", "/v2/jobs/not-a-uuid")[0], 500)
        self.assertEqual(self.server.request("GET", "/v2/jobs/" + str(uuid.uuid4()))[0], 404)
        self.assertEqual(self.server.request("GET", "/v2/nothing/here")[0], 404)
        status, headers, _ = self.server.request("PUT", "/v2/jobs")
        self.assertEqual((status, headers.get("Allow")), (405, "POST, GET"))

    # --- standalone tasks ---

    def test_standalone_tasks_retry_cancel_delete(self):
        imported = self.server.json("POST", "/v2/import/raw", {"file": "data", "filename": "d.md"},
                                    expect=201)["data"]
        self.assertIsNone(imported["job_id"])
        self.assertNotIn("name", imported)
        self.server.add_faults({"action": "fail_task", "operation": "convert", "times": 1,
                                "code": "CONVERSION_FAILED", "message": "boom"})
        converted = self.server.json("POST", "/v2/convert", {
            "input": imported["id"], "output_format": "html"}, expect=201)["data"]
        failed = self.server.json("GET", "/sync/v2/tasks/" + converted["id"])["data"]
        self.assertEqual((failed["status"], failed["code"], failed["message"]),
                         ("error", "CONVERSION_FAILED", "boom"))

        retried = self.server.json("POST", "/v2/tasks/%s/retry" % converted["id"],
                                   expect=201)["data"]
        self.assertEqual(retried["retry_of_task_id"], converted["id"])
        done = self.server.json("GET", "/sync/v2/tasks/" + retried["id"])["data"]
        self.assertEqual(done["status"], "finished")
        detail = self.server.json("GET", "/v2/tasks/%s?include=retries,depends_on_tasks,payload"
                                  % converted["id"])["data"]
        self.assertEqual([t["id"] for t in detail["retries"]], [retried["id"]])
        self.assertEqual(detail["depends_on_tasks"][0]["id"], imported["id"])
        self.assertEqual(detail["payload"], {"operation": "convert", "input": [imported["id"]],
                                             "output_format": "html"})

        status, _, raw = self.server.request("POST", "/v2/tasks/%s/cancel" % retried["id"])
        self.assertEqual(status, 422)
        self.assertEqual(json.loads(raw)["errors"],
                         {"status": ["Cannot change status: task already completed."]})
        waiting = self.server.json("POST", "/v2/import/upload", {}, expect=201)["data"]
        cancelled = self.server.json("POST", "/v2/tasks/%s/cancel" % waiting["id"],
                                     expect=200)["data"]
        self.assertEqual((cancelled["status"], cancelled["code"]), ("error", "CANCELLED"))
        self.assertEqual(self.server.request("DELETE", "/v2/tasks/" + imported["id"])[0], 204)
        self.assertEqual(self.server.request("GET", "/v2/tasks/" + imported["id"])[0], 404)
        listed = self.server.json("GET", "/v2/tasks?filter[operation]=convert&"
                                  "filter[status]=finished")["data"]
        self.assertEqual([t["id"] for t in listed], [retried["id"]])

    def test_delete_job_removes_downloads(self):
        job = self.raw_job("a.txt", "abc")
        self.assertEqual(self.server.request("DELETE", "/v2/jobs/" + job["id"])[0], 204)
        self.assertEqual(self.download(job)[0], 404)
        self.assertEqual(self.server.request("GET", "/v2/jobs/" + job["id"])[0], 404)

    def test_operations_catalogue(self):
        query = "/v2/operations?filter[operation]=convert&filter[input_format]=docx" \
                "&filter[output_format]=pdf"
        rows = self.server.json("GET", query, auth=None)["data"]
        self.assertEqual([r["engine"] for r in rows], ["office"])
        self.assertNotIn("options", rows[0])
        rows = self.server.json("GET", query + "&alternatives=true&include=options%2C"
                                "engine_versions", auth=None)["data"]
        self.assertEqual([r["engine"] for r in rows], ["office", "libreoffice"])
        self.assertIn("options", rows[0])
        self.assertIn("engine_versions", rows[0])

    def test_sync_create_and_redirect(self):
        tasks = {"i": {"operation": "import/raw", "file": "z", "filename": "z.txt"},
                 "c": {"operation": "convert", "input": "i", "output_format": "pdf"},
                 "e": {"operation": "export/url", "input": "c"}}
        status, headers, _ = self.server.request("POST", "/sync/v2/jobs",
                                                 {"tasks": tasks, "redirect": True})
        self.assertEqual(status, 302)
        status, _, body = self.server.request("GET", headers["Location"], auth=None)
        self.assertEqual((status, body), (200, expected_convert(b"z", "pdf")))
        job = self.server.json("POST", "/sync/v2/jobs", {"tasks": tasks}, expect=201)["data"]
        self.assertEqual(job["status"], "finished")

    # --- faults ---

    def test_fault_rate_limit(self):
        self.server.add_faults({"method": "GET", "path": "^/v2/users/me$",
                                "action": "rate_limit", "times": 2, "retry_after": 3})
        for _ in range(2):
            status, headers, raw = self.server.request("GET", "/v2/users/me")
            self.assertEqual((status, headers["Retry-After"]), (429, "3"))
            self.assertEqual(headers["X-Ratelimit-Remaining"], "0")
        self.assertEqual(self.server.request("GET", "/v2/users/me")[0], 200)

    def test_fault_402_variants_and_422(self):
        self.server.add_faults(
            {"path": "^/v2/jobs$", "method": "POST", "action": "too_many_jobs", "times": 1},
            {"path": "^/v2/jobs$", "method": "POST", "action": "invalid_data", "times": 1,
             "errors": {"tasks.c.output_format": ["The output format is invalid."]}})
        status, _, raw = self.server.request("POST", "/v2/jobs", {})
        self.assertEqual(status, 402)
        self.assertEqual(json.loads(raw)["message"], "You have started too many jobs at once")
        status, _, raw = self.server.request("POST", "/v2/jobs", {})
        self.assertEqual((status, json.loads(raw)["errors"]),
                         (422, {"tasks.c.output_format": ["The output format is invalid."]}))

    def test_fault_server_errors(self):
        for code in (500, 502, 503):
            self.server.add_faults({"path": "^/v2/users/me$", "action": "server_error",
                                    "status": code, "times": 1})
            status, headers, raw = self.server.request("GET", "/v2/users/me")
            self.assertEqual(status, code)
            if code == 500:
                self.assertEqual(json.loads(raw)["code"], "INTERNAL_ERROR")
            else:
                self.assertEqual(headers["Content-Type"], "text/html")
        self.assertEqual(self.server.request("GET", "/v2/users/me")[0], 200)

    def test_fault_respond_scripted(self):
        self.server.add_faults({"path": "^/v2/users/me$", "action": "respond", "status": 413,
                                "headers": {"X-Test": "1"}, "body": {"message": "Too large"}})
        status, headers, raw = self.server.request("GET", "/v2/users/me")
        self.assertEqual((status, headers["X-Test"], json.loads(raw)),
                         (413, "1", {"message": "Too large"}))

    def test_fault_drop_and_delay(self):
        self.server.add_faults({"path": "^/v2/users/me$", "action": "drop", "times": 1},
                               {"path": "^/v2/users/me$", "delay": 0.3, "times": 1})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.server.request("GET", "/v2/users/me")
        started = time.monotonic()
        self.assertEqual(self.server.request("GET", "/v2/users/me")[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        entries = [e for e in self.server.journal() if e["path"] == "/v2/users/me"]
        self.assertEqual([e["status"] for e in entries], [None, 200])
        self.assertEqual([e["fault"] for e in entries], ["rule-1", "rule-2"])

    def test_fault_skip_and_seeded_probability(self):
        self.server.add_faults({"id": "third", "path": "^/v2/users/me$", "skip": 2, "times": 1,
                                "action": "server_error"})
        statuses = [self.server.request("GET", "/v2/users/me")[0] for _ in range(4)]
        self.assertEqual(statuses, [200, 200, 500, 200])

        def pattern():
            self.server.admin("DELETE", "faults")
            self.server.add_faults({"path": "^/v2/users/me$", "action": "server_error",
                                    "probability": 0.34, "seed": 7})
            return [self.server.request("GET", "/v2/users/me")[0] for _ in range(30)]

        first = pattern()
        self.assertEqual(first, pattern())
        self.assertTrue(5 <= first.count(500) <= 17, first)

    def test_fault_stalled_job_and_sync_timeout(self):
        self.server.add_faults({"action": "stall_task", "operation": "convert"})
        created = self.create_job({
            "i": {"operation": "import/raw", "file": "s", "filename": "s.txt"},
            "c": {"operation": "convert", "input": "i", "output_format": "pdf"},
            "e": {"operation": "export/url", "input": "c"}})
        started = time.monotonic()
        job = self.wait_job(created["id"])
        self.assertGreaterEqual(time.monotonic() - started, 0.9)  # --sync-timeout 1
        self.assertEqual((job["status"], self.task(job, "c")["status"]),
                         ("processing", "processing"))
        self.server.json("POST", "/v2/tasks/%s/cancel" % self.task(job, "c")["id"], expect=200)
        job = self.wait_job(created["id"])
        self.assertEqual((job["status"], self.task(job, "e")["code"]),
                         ("error", "INPUT_TASK_FAILED"))

    def test_fault_expired_download_and_clock(self):
        job = self.raw_job("a.txt", "abc")
        self.server.add_faults({"method": "GET", "path": "^/storage/", "action": "expired",
                                "times": 1})
        status, headers, raw = self.download(job)
        self.assertEqual((status, headers["Content-Type"]), (403, "application/xml"))
        self.assertIn(b"Request has expired", raw)
        self.assertEqual(self.download(job)[0], 200)
        self.server.admin("POST", "clock", {"advance": 23 * 3600})
        self.assertEqual(self.download(job)[0], 200)
        self.server.admin("POST", "clock", {"advance": 2 * 3600})
        self.assertIn(b"Request has expired", self.download(job)[2])
        # 24 h after it ended, the job is gone too.
        self.assertEqual(self.server.request("GET", "/v2/jobs/" + job["id"])[0], 404)

    def test_ambiguous_failure_after_create(self):
        for action in ("server_error", "drop"):
            tag = "ambiguous-" + action
            self.server.add_faults({"method": "POST", "path": "^/v2/jobs$", "action": action,
                                    "status": 503, "when": "after", "times": 1})
            body = {"tag": tag, "tasks": {"i": {"operation": "import/upload"}}}
            if action == "drop":
                with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
                    self.server.request("POST", "/v2/jobs", body)
            else:
                self.assertEqual(self.server.request("POST", "/v2/jobs", body)[0], 503)
            found = self.server.json("GET", "/v2/jobs?filter[tag]=" + tag)["data"]
            self.assertEqual(len(found), 1, action)
        self.server.add_faults({"method": "POST", "path": "^/v2/jobs$", "action": "server_error",
                                "when": "before", "times": 1})
        body = {"tag": "before", "tasks": {"i": {"operation": "import/upload"}}}
        self.assertEqual(self.server.request("POST", "/v2/jobs", body)[0], 500)
        self.assertEqual(self.server.json("GET", "/v2/jobs?filter[tag]=before")["data"], [])

    def test_faults_endpoint_reports_and_rejects(self):
        status, _, raw = self.server.admin("POST", "faults", {"action": "explode"})
        self.assertEqual(status, 400)
        self.assertIn(b"unknown action", raw)
        self.server.add_faults({"id": "x", "path": "^/v2/users/me$", "times": 1,
                                "action": "server_error"})
        self.server.request("GET", "/v2/users/me")
        rules = json.loads(self.server.admin("GET", "faults")[2])["rules"]
        self.assertEqual((rules[0]["id"], rules[0]["triggered"], rules[0]["remaining"]),
                         ("x", 1, 0))

    # --- webhooks ---

    def test_webhook_delivery_is_signed(self):
        hook = self.server.json("POST", "/v2/webhooks", {
            "url": self.receiver.url + "/account", "events": list(webhooks.EVENTS)},
            expect=201)["data"]
        self.assertEqual(len(hook["signing_secret"]), 32)
        listed = self.server.json("GET", "/v2/users/me/webhooks?filter[url]=" +
                                  urllib.parse.quote(hook["url"], safe=""))["data"]
        self.assertEqual([h["id"] for h in listed], [hook["id"]])

        created = self.create_job({
            "i": {"operation": "import/raw", "file": "w", "filename": "w.txt"},
            "e": {"operation": "export/url", "input": "i"}},
            "hooks", webhook_url=self.receiver.url + "/job")
        self.wait_job(created["id"])
        self.receiver.wait_for(lambda r: r[0] == "/account" and b"job.finished" in r[2])
        self.receiver.wait_for(lambda r: r[0] == "/job")
        secrets = {"/account": hook["signing_secret"], "/job": "job-secret"}
        events = {}
        with self.receiver.lock:
            received = list(self.receiver.requests)
        for path, headers, body in received:
            self.assertEqual(headers["CloudConvert-Signature"],
                             hmac.new(secrets[path].encode(), body, hashlib.sha256).hexdigest())
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertIn(b"\\/", body)  # PHP-style escaping, signed as sent
            self.assertEqual(body, wire.php_json(json.loads(body)))
            events.setdefault(path, []).append(json.loads(body)["event"])
        self.assertEqual(events["/account"], ["job.created", "job.finished"])
        self.assertEqual(events["/job"], ["job.finished"])
        finished = json.loads(self.receiver.wait_for(lambda r: r[0] == "/job")[0][2])
        self.assertEqual(finished["job"]["id"], created["id"])
        self.assertEqual(finished["job"]["status"], "finished")
        self.assertEqual(self.server.request("DELETE", "/v2/webhooks/" + hook["id"])[0], 204)

    def test_webhook_retries_and_410_disables(self):
        retry = self.server.json("POST", "/v2/webhooks", {
            "url": self.receiver.url + "/flaky", "events": ["job.failed"]})["data"]
        gone = self.server.json("POST", "/v2/webhooks", {
            "url": self.receiver.url + "/gone", "events": ["job.failed"]})["data"]
        self.receiver.statuses["/flaky"] = [500, 502]
        self.receiver.statuses["/gone"] = [410]
        self.server.add_faults({"action": "fail_task", "operation": "import/raw"})
        self.raw_job("f.txt", "f")
        self.receiver.wait_for(lambda r: r[0] == "/flaky" and len(
            [x for x in self.receiver.requests if x[0] == "/flaky"]) == 3)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            deliveries = json.loads(self.server.admin("GET", "webhook-deliveries")[2])
            outcomes = {d["url"]: d for d in deliveries["deliveries"] if d["outcome"]}
            if len(outcomes) == 2:
                break
            time.sleep(0.02)
        flaky = outcomes[retry["url"]]
        self.assertEqual([a["status"] for a in flaky["attempts"]], [500, 502, 200])
        self.assertEqual((flaky["outcome"], flaky["event"]), ("delivered", "job.failed"))
        self.assertEqual(outcomes[gone["url"]]["outcome"], "gone")
        hooks = {h["id"]: h for h in self.server.json("GET", "/v2/users/me/webhooks")["data"]}
        self.assertEqual((hooks[gone["id"]]["disabled"], hooks[retry["id"]]["disabled"]),
                         (True, False))
        status, _, raw = self.server.request("POST", "/v2/webhooks", {"url": "x", "events": []})
        self.assertEqual(sorted(json.loads(raw)["errors"]), ["events", "url"])

    # --- webhooks: registration, events, delivery, admin hooks ---

    ALL_EVENTS = list(webhooks.EVENTS + webhooks.TASK_EVENTS)
    THREE_TASKS = {
        "i": {"operation": "import/raw", "file": "w", "filename": "w.txt"},
        "c": {"operation": "convert", "input": "i", "output_format": "pdf"},
        "e": {"operation": "export/url", "input": "c"},
    }

    def add_webhook(self, path, events):
        return self.server.json("POST", "/v2/webhooks", {
            "url": self.receiver.url + path, "events": events}, expect=201)["data"]

    def settle_webhooks(self):
        """Every delivery of what happened so far answered (wait for the job first)."""
        status, _, raw = self.server.admin("POST", "webhooks/wait", {"timeout": 10})
        self.assertEqual(status, 200, raw)
        return json.loads(raw)

    def deliveries_to(self, path, secret):
        """[(event, subject)] received at `path`, each checked: signed with `secret` over
        the exact bytes, PHP-style JSON, the documented headers."""
        events = []
        for headers, body in self.receiver.received(path):
            self.assertEqual(headers["CloudConvert-Signature"],
                             hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
            self.assertEqual(headers["Content-Type"], "application/json")
            self.assertEqual(headers["User-Agent"], webhooks.USER_AGENT)
            self.assertEqual(body, wire.php_json(json.loads(body)))
            parsed = json.loads(body)
            self.assertEqual(len(parsed), 2)
            subject = parsed["task"] if parsed["event"].startswith("task.") else parsed["job"]
            events.append((parsed["event"], subject))
        return events

    def webhook_entries(self, **match):
        _, _, raw = self.server.admin("GET", "journal?surface=webhook")
        entries = [json.loads(line) for line in raw.decode().splitlines()]
        return [e for e in entries if all(e[k] == v for k, v in match.items())]

    def test_webhook_registration_object_list_and_delete(self):
        status, headers, raw = self.server.request("POST", "/v2/webhooks", {
            "url": self.receiver.url + "/a", "events": self.ALL_EVENTS})
        self.assertEqual((status, headers["Content-Type"]), (201, "application/json"))
        self.assertIn(b"http:\\/\\/127.0.0.1", raw)  # the API host's PHP-style escaping
        hook = json.loads(raw)["data"]
        self.assertEqual(list(hook), ["id", "url", "events", "disabled", "failing",
                                      "signing_secret", "created_at", "updated_at", "links"])
        uuid.UUID(hook["id"])
        self.assertEqual((hook["url"], hook["events"], hook["disabled"], hook["failing"]),
                         (self.receiver.url + "/a", self.ALL_EVENTS, False, False))
        self.assertRegex(hook["signing_secret"], r"^[A-Za-z0-9]{32}$")
        self.assertRegex(hook["created_at"], TIMESTAMP)
        self.assertEqual(hook["links"], {"self": self.server.base + "/v2/webhooks/" + hook["id"]})
        other = self.add_webhook("/b", ["job.finished"])
        self.assertNotEqual(other["signing_secret"], hook["signing_secret"])

        page = self.server.json("GET", "/v2/users/me/webhooks?per_page=1", expect=200)
        self.assertEqual([h["id"] for h in page["data"]], [other["id"]])  # newest first
        self.assertEqual(page["data"][0], other)  # signing_secret included
        second = self.server.json("GET", page["links"]["next"], expect=200)
        self.assertEqual(([h["id"] for h in second["data"]], second["links"]["next"]),
                         ([hook["id"]], None))
        for query in ("filter[url]=" + hook["url"],
                      "filter%5Burl%5D=" + urllib.parse.quote(hook["url"], safe="")):
            listed = self.server.json("GET", "/v2/users/me/webhooks?" + query)["data"]
            self.assertEqual([h["id"] for h in listed], [hook["id"]], query)

        self.assertEqual(self.server.request("DELETE", "/v2/webhooks/" + hook["id"])[0], 204)
        status, _, raw = self.server.request("DELETE", "/v2/webhooks/" + hook["id"])
        self.assertEqual((status, json.loads(raw)["code"]), (404, "NOT_FOUND"))
        self.assertEqual(self.server.request("DELETE", "/v2/webhooks/nope")[0], 500)
        listed = self.server.json("GET", "/v2/users/me/webhooks")["data"]
        self.assertEqual([h["id"] for h in listed], [other["id"]])

    def test_webhook_registration_validation(self):
        url = self.receiver.url + "/v"
        cases = [
            ({}, {"url": ["The url field is required."],
                  "events": ["The events field is required."]}),
            ({"url": "ftp://example.com/x", "events": ["job.finished"]},
             {"url": ["The url format is invalid."]}),
            ({"url": url, "events": []}, {"events": ["The events field is required."]}),
            ({"url": url, "events": "job.finished"}, {"events": ["The events must be an array."]}),
            ({"url": url, "events": ["job.finished", "job.updated", "task.finished"]},
             {"events.1": ["The selected events.1 is invalid."]}),
        ]
        for body, errors in cases:
            status, _, raw = self.server.request("POST", "/v2/webhooks", body)
            self.assertEqual((status, json.loads(raw)), (422, {
                "message": "The given data was invalid.", "code": "INVALID_DATA",
                "errors": errors}), body)
        self.assertEqual(self.server.json("GET", "/v2/users/me/webhooks")["data"], [])

    def test_webhook_task_events_in_job_order(self):
        every = self.add_webhook("/every", self.ALL_EVENTS)
        jobs_only = self.add_webhook("/jobs", list(webhooks.EVENTS))
        created = self.create_job(self.THREE_TASKS, "ordered")
        job = self.wait_job(created["id"])
        self.settle_webhooks()

        heard = self.deliveries_to("/every", every["signing_secret"])
        self.assertEqual([(e, s.get("name"), s["status"]) for e, s in heard], [
            ("job.created", None, "waiting"),
            ("task.created", "i", "waiting"), ("task.created", "c", "waiting"),
            ("task.created", "e", "waiting"),
            ("task.finished", "i", "finished"), ("task.finished", "c", "finished"),
            ("task.finished", "e", "finished"),
            ("job.finished", None, "finished")])
        self.assertEqual(heard[0][1], created)
        self.assertEqual(heard[-1][1], job)
        for event, subject in heard[1:4]:
            self.assertEqual(subject, self.task(created, subject["name"]))
        for event, subject in heard[4:7]:  # the task as GET /v2/tasks/{id} shows it
            self.assertEqual(subject, self.server.json(
                "GET", "/v2/tasks/" + subject["id"], expect=200)["data"])
        self.assertEqual([e for e, _ in self.deliveries_to("/jobs", jobs_only["signing_secret"])],
                         ["job.created", "job.finished"])

    def test_webhook_failed_job_and_standalone_task_events(self):
        hook = self.add_webhook("/t", self.ALL_EVENTS)
        self.server.add_faults({"action": "fail_task", "operation": "convert",
                                "code": "CONVERSION_FAILED", "message": "boom"})
        self.wait_job(self.create_job(self.THREE_TASKS)["id"])
        standalone = self.server.json("POST", "/v2/import/raw", {
            "file": "s", "filename": "s.txt"}, expect=201)["data"]
        self.server.json("GET", "/sync/v2/tasks/" + standalone["id"], expect=200)
        self.settle_webhooks()
        heard = self.deliveries_to("/t", hook["signing_secret"])
        self.assertEqual([(e, s.get("name"), s.get("code")) for e, s in heard], [
            ("job.created", None, None),
            ("task.created", "i", None), ("task.created", "c", None), ("task.created", "e", None),
            ("task.finished", "i", None), ("task.failed", "c", "CONVERSION_FAILED"),
            ("task.failed", "e", "INPUT_TASK_FAILED"), ("job.failed", None, None),
            ("task.created", None, None), ("task.finished", None, None)])
        self.assertEqual(heard[-1][1]["id"], standalone["id"])
        self.assertIsNone(heard[-1][1]["job_id"])
        entries = self.webhook_entries(task_id=standalone["id"])
        self.assertEqual([(e["event"], e["job_id"]) for e in entries],
                         [("task.created", None), ("task.finished", None)])

    def test_webhook_journal_records_each_attempt(self):
        hook = self.add_webhook("/flaky", ["job.finished"])
        self.receiver.statuses["/flaky"] = [503]
        job = self.raw_job("j.txt", "j")
        self.settle_webhooks()
        (_, first), (headers, body) = self.receiver.received("/flaky")
        self.assertEqual(first, body)  # a retry sends the very same bytes
        entries = self.webhook_entries()
        self.assertEqual([(e["attempt"], e["status"], e["error"], e["outcome"]) for e in entries],
                         [(1, 503, None, "retry"), (2, 200, None, "delivered")])
        for entry in entries:
            self.assertEqual((entry["surface"], entry["method"], entry["url"], entry["path"]),
                             ("webhook", "POST", hook["url"], "/flaky"))
            self.assertEqual((entry["webhook_id"], entry["event"], entry["job_id"],
                              entry["task_id"], entry["kind"], entry["burst"]),
                             (hook["id"], "job.finished", job["id"], None, "event", None))
            self.assertEqual(entry["delivery"], entries[0]["delivery"])
            self.assertEqual(entry["signature"], headers["CloudConvert-Signature"])
            self.assertEqual(entry["headers"]["CloudConvert-Signature"], entry["signature"])
            self.assertEqual((entry["body_size"], entry["body_sha256"]), (len(body), sha256(body)))
            self.assertEqual(entry["body"], json.loads(body))
            self.assertFalse(entry["has_authorization"])
            self.assertRegex(entry["time"], r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
        # The same lines, in order with the requests, in the plain journal and the file.
        journal = self.server.journal()
        self.assertEqual([e for e in journal if e["surface"] == "webhook"], entries)
        self.assertEqual(journal[0]["path"], "/v2/webhooks")
        with open(self.journal_path, encoding="utf-8") as source:
            self.assertEqual([json.loads(line) for line in source], journal)
        deliveries = json.loads(self.server.admin("GET", "webhook-deliveries")[2])["deliveries"]
        self.assertEqual([(d["seq"], d["outcome"], [a["status"] for a in d["attempts"]])
                          for d in deliveries], [(entries[0]["delivery"], "delivered", [503, 200])])

    def test_webhook_retries_refused_and_timed_out(self):
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        dead_url = "http://127.0.0.1:%d/dead" % closed.getsockname()[1]
        closed.close()  # nothing listens there: connection refused
        dead = self.server.json("POST", "/v2/webhooks", {
            "url": dead_url, "events": ["job.finished"]}, expect=201)["data"]
        slow = self.add_webhook("/slow", ["job.finished"])
        self.receiver.delays["/slow"] = [1.5]  # longer than --webhook-timeout 1
        self.raw_job("r.txt", "r")
        self.settle_webhooks()
        refused = self.webhook_entries(webhook_id=dead["id"])
        self.assertEqual([(e["attempt"], e["status"], e["outcome"]) for e in refused],
                         [(1, None, "retry"), (2, None, "retry"), (3, None, "retry"),
                          (4, None, "failed")])  # 1 + --webhook-retries 3
        self.assertTrue(all("ConnectionRefusedError" in e["error"] for e in refused), refused)
        timed_out = self.webhook_entries(webhook_id=slow["id"])
        self.assertEqual([(e["status"], e["outcome"]) for e in timed_out],
                         [(None, "retry"), (200, "delivered")])
        self.assertIn("timed out", timed_out[0]["error"])
        hooks = {h["id"]: h for h in self.server.json("GET", "/v2/users/me/webhooks")["data"]}
        self.assertEqual((hooks[dead["id"]]["failing"], hooks[dead["id"]]["disabled"]),
                         (True, False))
        self.assertFalse(hooks[slow["id"]]["failing"])

    def test_webhook_pause_resume_and_gone_skips_queued(self):
        kept = self.add_webhook("/kept", ["job.created", "job.finished"])
        gone = self.add_webhook("/gone", ["job.created", "job.finished"])
        self.receiver.statuses["/gone"] = [410]
        state = json.loads(self.server.admin("POST", "webhooks/pause")[2])
        self.assertEqual((state["paused"], state["in_flight"]), (True, 0))
        job = self.raw_job("p.txt", "p")  # finished while deliveries are held back
        time.sleep(0.1)
        self.assertEqual(self.receiver.received("/kept"), [])
        state = json.loads(self.server.admin("GET", "webhooks")[2])
        self.assertEqual((state["paused"], state["pending"]), (True, 4))
        self.assertEqual(self.server.admin("POST", "webhooks/wait", {"timeout": 0.1})[0], 408)
        self.assertEqual(json.loads(self.server.admin("POST", "webhooks/resume")[2])["paused"],
                         False)
        self.settle_webhooks()
        self.assertEqual([(e, s["id"]) for e, s in self.deliveries_to(
            "/kept", kept["signing_secret"])], [("job.created", job["id"]),
                                                ("job.finished", job["id"])])
        # 410 Gone disables the webhook: its queued job.finished is never sent.
        self.assertEqual(len(self.receiver.received("/gone")), 1)
        deliveries = json.loads(self.server.admin("GET", "webhook-deliveries")[2])["deliveries"]
        self.assertEqual([(d["event"], d["outcome"], len(d["attempts"])) for d in deliveries
                          if d["webhook_id"] == gone["id"]],
                         [("job.created", "gone", 1), ("job.finished", "skipped", 0)])
        hooks = {h["id"]: h for h in self.server.json("GET", "/v2/users/me/webhooks")["data"]}
        self.assertTrue(hooks[gone["id"]]["disabled"])
        status, _, raw = self.server.admin("POST", "webhooks/redeliver", {
            "webhook_id": gone["id"], "event": "job.finished", "job_id": job["id"]})
        self.assertEqual(status, 409, raw)

    def test_webhook_redeliver_and_replay(self):
        hook = self.add_webhook("/again", ["job.finished"])
        job = self.raw_job("a.txt", "a")
        self.settle_webhooks()
        first = self.webhook_entries()[0]

        def redeliver(body, expect=202):
            status, _, raw = self.server.admin("POST", "webhooks/redeliver", body)
            self.assertEqual(status, expect, raw)
            return json.loads(raw)

        export = self.task(job, "export")
        redeliver({"webhook_id": hook["id"], "event": "job.created", "job_id": job["id"]})
        answer = redeliver({"webhook_id": hook["id"], "event": "task.finished",
                            "task_id": export["id"]})["delivery"]
        self.assertEqual((answer["kind"], answer["event"], answer["task_id"], answer["job_id"]),
                         ("redelivery", "task.finished", export["id"], job["id"]))
        redeliver({"delivery": first["delivery"]})
        self.settle_webhooks()
        heard = self.deliveries_to("/again", hook["signing_secret"])
        self.assertEqual([e for e, _ in heard],
                         ["job.finished", "job.created", "task.finished", "job.finished"])
        self.assertEqual(heard[1][1], self.server.json("GET", "/v2/jobs/" + job["id"])["data"])
        self.assertEqual(heard[2][1], export)
        received = self.receiver.received("/again")
        self.assertEqual(received[3], received[0])  # the replay: same bytes, same signature
        self.assertEqual([e["kind"] for e in self.webhook_entries()],
                         ["event", "redelivery", "redelivery", "redelivery"])

        missing = str(uuid.uuid4())
        redeliver({"webhook_id": missing, "event": "job.finished", "job_id": job["id"]}, 404)
        redeliver({"webhook_id": hook["id"], "event": "job.finished", "job_id": missing}, 404)
        redeliver({"webhook_id": hook["id"], "event": "task.failed", "task_id": missing}, 404)
        redeliver({"webhook_id": hook["id"], "event": "task.finished", "job_id": job["id"]}, 400)
        redeliver({"webhook_id": hook["id"], "event": "job.updated", "job_id": job["id"]}, 400)
        redeliver({"delivery": 999999}, 404)

    def test_webhook_burst_reports_statuses_within_concurrency(self):
        hook = self.add_webhook("/burst", ["job.finished"])
        self.receiver.statuses["/burst"] = [500, 503]
        self.receiver.pace["/burst"] = 0.005
        status, _, raw = self.server.admin("POST", "webhooks/burst", {
            "webhook_id": hook["id"], "count": 150, "concurrency": 6})
        self.assertEqual(status, 200, raw)
        report = json.loads(raw)
        self.assertEqual({k: v for k, v in report.items() if k not in ("duration_ms", "job_ids")},
                         {"burst": report["burst"], "webhook_id": hook["id"], "count": 150,
                          "concurrency": 6,
                          "done": True, "sent": 150, "statuses": {"200": 150},
                          "outcomes": {"delivered": 150}, "attempts": 152,
                          "attempt_statuses": {"200": 150, "500": 1, "503": 1}})
        self.assertEqual(len(set(report["job_ids"])), 150)
        self.assertTrue(1 < self.receiver.peak <= 6, self.receiver.peak)
        heard = self.deliveries_to("/burst", hook["signing_secret"])  # checks every signature
        finished = {s["id"] for e, s in heard if s["status"] == "finished"}
        self.assertEqual(finished, set(report["job_ids"]))
        self.assertEqual({e for e, _ in heard}, {"job.finished"})
        self.assertEqual([t["operation"] for t in heard[0][1]["tasks"]],
                         ["import/raw", "export/url"])
        self.assertEqual(len(self.webhook_entries(burst=report["burst"])), 152)
        # The jobs exist only in their deliveries.
        self.assertEqual(self.server.request("GET", "/v2/jobs/" + report["job_ids"][0])[0], 404)

        status, _, raw = self.server.admin("POST", "webhooks/burst", {
            "webhook_id": hook["id"], "count": 1, "concurrency": 65})
        self.assertEqual(status, 400, raw)
        status, _, raw = self.server.admin("POST", "webhooks/burst", {
            "webhook_id": str(uuid.uuid4()), "count": 1})
        self.assertEqual(status, 404, raw)

    def test_webhook_burst_in_background(self):
        hook = self.add_webhook("/background", ["job.finished"])
        self.receiver.pace["/background"] = 0.01
        status, _, raw = self.server.admin("POST", "webhooks/burst", {
            "webhook_id": hook["id"], "count": 40, "concurrency": 2, "wait": False})
        self.assertEqual(status, 202, raw)
        started = json.loads(raw)
        self.assertFalse(started["done"])
        deadline = time.monotonic() + 10
        while True:
            status, _, raw = self.server.admin("GET", "webhooks/bursts/%d" % started["burst"])
            report = json.loads(raw)
            if report["done"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual((status, report["done"], report["sent"], report["statuses"]),
                         (200, True, 40, {"200": 40}))
        self.assertEqual(len(self.receiver.received("/background")), 40)
        self.assertEqual(self.server.admin("GET", "webhooks/bursts/99")[0], 404)

    # --- journal ---

    def test_journal_records_what_the_client_sent(self):
        created = self.upload_job(tag="journal")
        self.server.request("GET", "/v2/jobs?filter%5Bstatus%5D=waiting&include=tasks")
        self.upload(self.task(created, "import-1"), "j.bin", b"\x01\x02\x03")
        entries = self.server.journal()
        self.assertEqual([e["path"] for e in entries], ["/v2/jobs", "/v2/jobs", "/storage/tasks"])
        create, listing, upload = entries
        self.assertEqual((create["method"], create["status"], create["surface"]),
                         ("POST", 201, "api"))
        self.assertEqual(create["body"]["tag"], "journal")
        self.assertEqual(create["headers"]["Authorization"], "Bearer <redacted>")
        self.assertTrue(create["has_authorization"])
        self.assertEqual(listing["query"], {"filter[status]": "waiting", "include": "tasks"})
        self.assertFalse(upload["has_authorization"])
        self.assertEqual(upload["multipart"]["fields"],
                         list(self.task(created, "import-1")["result"]["form"]["parameters"]) +
                         ["file"])
        self.assertEqual(upload["multipart"]["files"][0]["sha256"], sha256(b"\x01\x02\x03"))
        self.assertEqual(upload["multipart"]["files"][0]["size"], 3)
        self.assertRegex(upload["time"], r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
        with open(self.journal_path, encoding="utf-8") as source:
            on_disk = [json.loads(line) for line in source]
        self.assertEqual(on_disk, entries)
        self.assertNotIn("test-key", json.dumps(on_disk))


class StartupOptionsTest(unittest.TestCase):
    """--faults, --state-dir and --credits given at start."""

    def test_faults_file_state_dir_and_credits(self):
        with tempfile.TemporaryDirectory() as tmp:
            faults = os.path.join(tmp, "faults.json")
            with open(faults, "w") as out:
                json.dump({"rules": [{"method": "GET", "path": "^/v2/users/me$",
                                      "action": "rate_limit", "times": 1}]}, out)
            server = FakeServer("--faults", faults, "--state-dir", os.path.join(tmp, "state"),
                                "--credits", "1", "--processing-delay", "0")
            try:
                self.assertEqual(server.request("GET", "/v2/users/me")[0], 429)
                self.assertEqual(server.json("GET", "/v2/users/me")["data"]["credits"], 1)
                created = server.json("POST", "/v2/jobs", {"tasks": {
                    "i": {"operation": "import/raw", "file": "q", "filename": "q.txt"},
                    "c": {"operation": "convert", "input": "i", "output_format": "pdf"}}},
                    expect=201)["data"]
                job = server.json("GET", "/sync/v2/jobs/" + created["id"])["data"]
                self.assertEqual(job["status"], "finished")
                stored = os.listdir(os.path.join(tmp, "state", "files"))
                self.assertEqual(len(stored), 2)  # one folder per task with files
                status, _, raw = server.request("POST", "/v2/jobs", {"tasks": {
                    "i": {"operation": "import/upload"}}})
                self.assertEqual((status, json.loads(raw)["code"]), (402, "CREDITS_EXCEEDED"))
            finally:
                self.assertEqual(server.stop(), 0)

    def test_no_task_events_option(self):
        """--no-task-events: only the reference's job events may be registered."""
        server = FakeServer("--no-task-events")
        try:
            status, _, raw = server.request("POST", "/v2/webhooks", {
                "url": "http://127.0.0.1:9/x", "events": ["job.finished", "task.finished"]})
            self.assertEqual((status, json.loads(raw)["errors"]),
                             (422, {"events.1": ["The selected events.1 is invalid."]}))
            status, _, _ = server.request("POST", "/v2/webhooks", {
                "url": "http://127.0.0.1:9/x", "events": list(webhooks.EVENTS)})
            self.assertEqual(status, 201)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_enforced_rate_limit(self):
        server = FakeServer("--rate-limit", "3", "--enforce-rate-limit")
        try:
            answers = []
            for _ in range(4):
                status, headers, _ = server.request("GET", "/v2/users/me")
                answers.append((status, headers["X-Ratelimit-Remaining"]))
            self.assertEqual(answers, [(200, "2"), (200, "1"), (200, "0"), (429, "0")])
            self.assertGreater(int(server.request("GET", "/v2/users/me")[1]["Retry-After"]), 0)
            self.assertEqual(server.request("GET", "/v2/users/me", auth="other")[0], 401)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=1)
