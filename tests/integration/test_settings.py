# SPDX-License-Identifier: MIT
"""Scenario settings whose effect depends on outcomes (scenario-format.md
"Settings"): timeout, max_file_size, confidential and commit_trigger_last."""

import os
import time

import harness
from scripted_http import ScriptedServer


class SettingsTest(harness.ScenarioTestCase):
    def test_timeout_stops_after_the_current_operation_with_a_warning(self):
        path = self.write_scenario("slow.yaml", """\
settings: {timeout: 1500ms}
flow:
  - {id: 1, module: builtin.set, with: {variables: {items: [1, 2, 3]}}}
  - {id: 2, module: builtin.iterator, with: {array: "{{1.items}}"}}
  - {id: 3, module: builtin.sleep, with: {duration: 1s}}
""")
        run = self.run_json(path)
        self.assertEqual(run["status"], "warning")
        self.assertEqual(run["error"]["type"], "ExecutionInterrupted")
        self.assertEqual(self.module(run, "3")["bundles_in"], 2,
                         "the third bundle is not processed")

    def test_max_file_size(self):
        with open(os.path.join(self.work, "big.bin"), "wb") as f:
            f.write(b"x" * 4096)
        path = self.write_scenario("big.yaml", """\
settings: {max_file_size: 1KiB}
flow:
  - {id: 1, module: builtin.set, with: {variables: {name: big.bin}}}
  - {id: 2, module: files.read, with: {path: "{{1.name}}"}}
""")
        run = self.run_json(path, expect_code=1)
        self.assertEqual(run["error"]["type"], "MaxFileSizeExceededError")

    def test_confidential_keeps_no_bundles(self):
        path = self.write_scenario("secret.yaml", """\
settings: {confidential: true}
flow:
  - {id: 1, module: builtin.set, with: {variables: {card: "{{upper('secret-card-value')}}"}}}
  - {id: 2, module: builtin.log, with: {message: "card {{1.card}}"}}
""")
        run = self.run_json(path)
        self.assertEqual(run["status"], "success")
        detail = self.ctl("execution", run["execution_id"], "--json").json()
        for op in detail["operations_list"]:
            self.assertIsNone(op["input"])
            self.assertIsNone(op["output"])
        # What the run computed is nowhere in the store's files.
        for name in os.listdir(self.state_dir):
            path = os.path.join(self.state_dir, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    self.assertNotIn(b"SECRET-CARD-VALUE", f.read(), name)

    def test_commit_trigger_last_keeps_the_cursor_after_a_failure(self):
        server = ScriptedServer()
        try:
            server.script("/up", (500, {}))
            os.makedirs(os.path.join(self.work, "inbox"))
            new = os.path.join(self.work, "inbox", "a.txt")
            with open(new, "w") as f:
                f.write("a\n")
            past = time.time() - 10
            os.utime(new, (past, past))
            path = self.write_scenario("watch.yaml", """\
flow:
  - {id: 1, module: files.watch, with: {dir: inbox}}
  - {id: 2, module: http.request, with: {url: "%s/up", method: POST, body: "{{1.file.name}}"}}
""" % server.base)
            self.run_json(path, expect_code=1)
            server.script("/up", (200, {}))
            again = self.run_json(path)
            self.assertEqual(self.module(again, "1")["bundles_out"], 1,
                             "the file comes again: the failed run did not advance the cursor")
            third = self.run_json(path)
            self.assertEqual(self.module(third, "1")["bundles_out"], 0)
        finally:
            server.close()


if __name__ == "__main__":
    harness.main()
