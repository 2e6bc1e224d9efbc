# SPDX-License-Identifier: MIT
"""The fake CloudConvert server (tests/fake-cloudconvert/) as the
integration tests use it: one server per test file on port 0, reset
before every test, a connections file pointing at it with the key in the
environment, and helpers to script faults, read the journal and compute
the bytes the fake's deterministic "conversions" produce."""

import hashlib
import json
import os
import subprocess
import sys
import urllib.request

import harness

SERVER = os.path.join(harness.SOURCE_ROOT, "tests", "fake-cloudconvert", "server.py")
API_KEY = "it-secret-key-4242"


class FakeCloudConvert:
    def __init__(self, *options):
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--port", "0", "--api-key", API_KEY] + list(options),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("LISTENING "):
            self.proc.kill()
            raise RuntimeError("the fake CloudConvert server did not start: %r %s"
                               % (line, self.proc.stderr.read()))
        self.base = line.split(" ", 1)[1]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + "/__admin/" + path, data=data,
                                         method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text.strip() and not path.startswith("journal") else text

    def reset(self):
        self.admin("POST", "reset")

    def faults(self, *rules):
        return self.admin("POST", "faults", list(rules))["ids"]

    def journal(self, surface=None):
        entries = [json.loads(line) for line in self.admin("GET", "journal").splitlines()
                   if line.strip()]
        return [e for e in entries if surface is None or e["surface"] == surface]

    def api(self, method, path, body=None):
        """A call straight to the fake's API (setting up state for a test)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": "Bearer " + API_KEY, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text)["data"] if text else None

    def connections(self, path, retry="{base: 20ms, cap: 500ms, attempts: 6}", name="cc"):
        with open(path, "w") as f:
            f.write("%s:\n"
                    "  app: cloudconvert\n"
                    "  api_key: {env: CLOUDCONVERT_API_KEY}\n"
                    "  base_url: %s\n"
                    "  sync_url: %s/sync\n"
                    "  retry: %s\n" % (name, self.base, self.base, retry))
        return path


def fake_header(*words):
    return ("FAKECC " + " ".join(str(w) for w in words) + "\n").encode()


def converted(data, fmt):
    """What the fake's convert task makes of `data` (its operations.py)."""
    return fake_header("convert", fmt, hashlib.sha256(data).hexdigest()) + data


def optimized(data, profile="web"):
    return fake_header("optimize", profile, hashlib.sha256(data).hexdigest()) + data


def merged(files):
    """files: [(name, bytes)] in order."""
    out = [fake_header("merge", "pdf", len(files))]
    for name, data in files:
        out.append(fake_header("file", name, len(data), hashlib.sha256(data).hexdigest()))
        out.append(data)
    return b"".join(out)


def captured(url, fmt):
    return fake_header("capture-website", fmt, hashlib.sha256(url.encode()).hexdigest()) + \
        url.encode() + b"\n"


class CloudConvertTestCase(harness.ScenarioTestCase):
    """One fake server per test class; every test starts from a reset one."""

    server_options = ("--processing-delay", "0.02", "--sync-timeout", "2")

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeCloudConvert(*cls.server_options)

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def setUp(self):
        super().setUp()
        self.fake.reset()
        self.connections_file = self.fake.connections(os.path.join(self.tmp, "connections.yaml"))

    def run_cc(self, text, expect_code=0, name="scenario.yaml", env=None):
        """Runs a scenario with the fake's connection; returns (run doc, execution doc)."""
        path = self.write_scenario(name, text)
        full_env = {"CLOUDCONVERT_API_KEY": API_KEY}
        full_env.update(env or {})
        result = self.ctl("--connections", self.connections_file, "run", path, "--json",
                          env=full_env, timeout=120)
        self.assertEqual(result.code, expect_code,
                         "exit code %d, stdout:\n%s\nstderr:\n%s"
                         % (result.code, result.stdout, result.stderr))
        self.assertNotIn(API_KEY, result.stdout + result.stderr)
        run = result.json()
        return run, self.execution(run["execution_id"])

    def execution(self, execution_id):
        result = self.ctl("--json", "execution", str(execution_id))
        self.assertEqual(result.code, 0, result.stderr)
        return result.json()

    def outputs(self, execution, module_id):
        return harness.module_outputs(execution, module_id)

    def error_of(self, execution, module_id):
        for op in execution["operations_list"]:
            if op["module_id"] == str(module_id) and op["error"]:
                return op["error"]
        raise AssertionError("module %s has no error" % module_id)

    def read_blob(self, file_value):
        path = file_value["path"]
        if not os.path.isabs(path):
            path = os.path.join(self.work, path)
        with open(path, "rb") as f:
            return f.read()

    def write_input(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assert_no_key_leaks(self):
        """The key went only into Authorization headers of API and sync requests."""
        for entry in self.fake.journal():
            if entry["surface"] == "storage":
                self.assertFalse(entry["has_authorization"], entry)
            else:
                self.assertTrue(entry["has_authorization"] or entry["path"] == "/v2/operations",
                                entry)
            self.assertNotIn(API_KEY, json.dumps(entry))
        with self.store() as db:
            for table, in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
                for row in db.execute("SELECT * FROM %s" % table):
                    self.assertNotIn(API_KEY, repr(row), table)
