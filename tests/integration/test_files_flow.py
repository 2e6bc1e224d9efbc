# SPDX-License-Identifier: MIT
"""A files-only scenario end to end: files.watch → builtin.set → files.write,
run by the real scenarioctl, checked on disk and in the SQLite store."""

import json
import os
import shutil
import time

import harness

SCENARIO = """\
scenario: copy-inbox
flow:
  - id: 1
    module: files.watch
    with: {dir: inbox, pattern: "*.txt", limit: 10, start: all}
  - id: 2
    module: builtin.set
    with:
      variables:
        name: "{{upper(replace(1.file.name; '.txt'; ''))}}.out"
  - id: 3
    module: files.write
    with: {dir: outbox, name: "{{2.name}}", data: "{{1.file}}"}
"""


class FilesFlowTest(harness.ScenarioTestCase):
    def setUp(self):
        super().setUp()
        os.makedirs(os.path.join(self.work, "inbox"))
        for i, name in enumerate(["a.txt", "b.txt", "skip.csv"]):
            path = os.path.join(self.work, "inbox", name)
            with open(path, "w") as f:
                f.write("content of %s\n" % name)
            os.utime(path, (1700000000 + i, 1700000000 + i))
        self.path = self.write_scenario("copy.yaml", SCENARIO)

    def test_files_are_written_and_every_operation_is_stored(self):
        run = self.run_json(self.path)
        self.assertEqual(run["status"], "success")
        self.assertEqual(run["scenario"], "copy-inbox")
        # 1 trigger + 2 bundles × (set + write)
        self.assertEqual(run["operations"], 5)
        self.assertEqual(self.module(run, "1")["bundles_out"], 2)
        self.assertEqual(self.module(run, "3")["bundles_in"], 2)
        with open(os.path.join(self.work, "outbox", "A.out")) as f:
            self.assertEqual(f.read(), "content of a.txt\n")
        with open(os.path.join(self.work, "outbox", "B.out")) as f:
            self.assertEqual(f.read(), "content of b.txt\n")
        self.assertFalse(os.path.exists(os.path.join(self.work, "outbox", "SKIP.out")))

        detail = self.ctl("execution", run["execution_id"], "--json")
        self.assertEqual(detail.code, 0, detail.stderr)
        ops = detail.json()["operations_list"]
        self.assertEqual([o["module_id"] for o in ops], ["1", "2", "3", "2", "3"])
        self.assertEqual(ops[1]["output"], [{"name": "A.out"}])
        self.assertEqual(ops[2]["input"]["name"], "A.out")
        self.assertEqual(ops[2]["input"]["data"]["name"], "a.txt")
        self.assertEqual(ops[2]["output"][0]["file"]["name"], "A.out")

        # The human view shows the same operations, read from the store file.
        human = self.ctl("execution", run["execution_id"])
        self.assertEqual(human.code, 0)
        self.assertIn("files.write", human.stdout)
        self.assertIn("A.out", human.stdout)

        # The store is a real SQLite file with the rows.
        with self.store() as db:
            (status,) = db.execute("SELECT status FROM executions WHERE id = ?",
                                   (int(run["execution_id"]),)).fetchone()
            self.assertEqual(status, "success")

    def test_second_run_sees_only_new_files(self):
        self.run_json(self.path)
        again = self.run_json(self.path)
        self.assertEqual(again["operations"], 1)  # the trigger alone
        self.assertEqual(self.module(again, "1")["bundles_out"], 0)
        self.assertEqual(self.module(again, "3")["status"], "skipped")
        new = os.path.join(self.work, "inbox", "c.txt")
        with open(new, "w") as f:
            f.write("new\n")
        # files.watch lets a file settle for 2 s before it counts (a writer may
        # still be at it); date this one a little in the past.
        past = time.time() - 10
        os.utime(new, (past, past))
        third = self.run_json(self.path)
        self.assertEqual(self.module(third, "1")["bundles_out"], 1)
        self.assertTrue(os.path.exists(os.path.join(self.work, "outbox", "C.out")))

    def test_executions_lists_newest_first(self):
        first = self.run_json(self.path)
        second = self.run_json(self.path)
        listing = self.ctl("executions", "--json")
        self.assertEqual(listing.code, 0, listing.stderr)
        ids = [str(e["id"]) for e in listing.json()]
        self.assertEqual(ids[:2], [second["execution_id"], first["execution_id"]])
        table = self.ctl("executions")
        self.assertIn("copy-inbox", table.stdout)

    def test_example_scenario_from_the_repository_runs(self):
        shutil.copytree(os.path.join(harness.SOURCE_ROOT, "examples"),
                        os.path.join(self.work, "examples"))
        run = self.run_json(os.path.join(self.work, "examples", "files-rename.yaml"))
        self.assertEqual(run["status"], "success", run)
        written = os.listdir(os.path.join(self.work, "examples", "data", "outbox"))
        self.assertEqual(len(written), 2, written)
        self.assertTrue(any(n.startswith("REPORT-Q3-") for n in written), written)


    def test_http_download_example_from_the_repository_runs(self):
        """examples/http-download.yaml as its comment says to run it, with the
        web folder served on a free port instead of 8765."""
        import functools
        import http.server
        import threading
        shutil.copytree(os.path.join(harness.SOURCE_ROOT, "examples"),
                        os.path.join(self.work, "examples"))
        web = os.path.join(self.work, "examples", "data", "web")
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=web)
        handler.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            path = os.path.join(self.work, "examples", "http-download.yaml")
            with open(path) as f:
                text = f.read().replace("127.0.0.1:8765",
                                        "127.0.0.1:%d" % server.server_address[1])
            with open(path, "w") as f:
                f.write(text)
            run = self.run_json(path)
        finally:
            server.shutdown()
            server.server_close()
        self.assertEqual(run["status"], "success", run)
        out = os.path.join(self.work, "examples", "data", "downloads", "http")
        self.assertEqual(sorted(os.listdir(out)), ["notes.txt", "report-q3.txt"])
        with open(os.path.join(out, "notes.txt")) as f, open(os.path.join(web, "notes.txt")) as g:
            self.assertEqual(f.read(), g.read())


if __name__ == "__main__":
    harness.main()
