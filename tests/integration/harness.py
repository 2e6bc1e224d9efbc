# SPDX-License-Identifier: MIT
"""Shared plumbing for the integration tests: they start the real
scenarioctl (and, for CloudConvert, the fake server) as processes, with a
fresh state directory each, and look at what a user would see: exit codes,
--json documents, files on disk and the SQLite store."""

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def binary(name):
    """Path of a built program: $SCENARIOCTL / $SCENARIOD from meson, else
    the usual build folders."""
    env = os.environ.get(name.upper())
    if env:
        return env
    for build in ("build", "build-asan", "builddir"):
        path = os.path.join(SOURCE_ROOT, build, name.replace("scenariod", "daemon/scenariod")
                            if name == "scenariod" else "ctl/" + name)
        if os.path.exists(path):
            return path
    raise unittest.SkipTest("%s is not built" % name)


def free_port():
    """A loopback port free now (for a server that must know its own URL
    before it starts)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def module_outputs(execution, module_id):
    """Every output bundle of module `module_id` in an `execution --json`
    document, over all its operations."""
    bundles = []
    for op in execution["operations_list"]:
        if op["module_id"] == str(module_id):
            bundles.extend(op["output"] or [])
    return bundles


class Result:
    def __init__(self, proc):
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self):
        try:
            return json.loads(self.stdout)
        except ValueError as e:
            raise AssertionError("stdout is not one JSON document (%s):\n%s\nstderr:\n%s"
                                 % (e, self.stdout, self.stderr))


class ScenarioTestCase(unittest.TestCase):
    """A test with its own state dir and work dir, removed afterwards."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="scenariod-it-")
        self.state_dir = os.path.join(self.tmp, "state")
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.work)
        self.scenarioctl = binary("scenarioctl")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ctl(self, *args, timeout=60, env=None, cwd=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["SCENARIOD_STATE_DIR"] = self.state_dir
        proc = subprocess.run([self.scenarioctl] + list(args), capture_output=True, text=True,
                              timeout=timeout, env=full_env, cwd=cwd or self.work)
        return Result(proc)

    def write_scenario(self, name, text):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_json(self, path, expect_code=0):
        result = self.ctl("run", path, "--json")
        self.assertEqual(result.code, expect_code,
                         "exit code %d, stdout:\n%s\nstderr:\n%s"
                         % (result.code, result.stdout, result.stderr))
        return result.json()

    def store(self):
        return sqlite3.connect(os.path.join(self.state_dir, "store.db"))

    def module(self, run, module_id):
        for m in run["modules"]:
            if m["id"] == module_id:
                return m
        raise AssertionError("no module %s in %s" % (module_id, run["modules"]))


def main():
    unittest.main(verbosity=2)
