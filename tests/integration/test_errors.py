# SPDX-License-Identifier: MIT
"""Error handler routes, the five directives, the default handling and
incomplete executions, with the real scenarioctl against a scripted HTTP
service. The semantics are scenario-format.md "Errors" and "Incomplete
executions" (fusion-semantics.md §3-§4)."""

import os
import signal
import subprocess
import time

import harness
from scripted_http import ScriptedServer

SCENARIO = """\
scenario: items
settings: {store_incomplete: %(store_incomplete)s%(settings)s}
flow:
  - id: 1
    module: builtin.set
    with: {variables: {items: [1, 2, 3]}}
  - id: 2
    module: builtin.iterator
    with: {array: "{{1.items}}"}
  - id: 3
    module: http.request
    with: {url: "%(base)s/item/{{2.value}}"%(timeout)s}
%(on_error)s
  - id: 4
    module: files.write
    with: {dir: out, name: "item-{{2.value}}.txt", data: "{{3.body.name}}"}
"""


class ErrorHandlingTest(harness.ScenarioTestCase):
    def setUp(self):
        super().setUp()
        self.server = ScriptedServer()
        self.server.script("/item/1", (200, {"name": "one"}))
        self.server.script("/item/2", (500, {"message": "backend down"}))
        self.server.script("/item/3", (200, {"name": "three"}))

    def tearDown(self):
        self.server.close()
        super().tearDown()

    def scenario(self, on_error="", store_incomplete="false", settings="", timeout=""):
        text = SCENARIO % {"base": self.server.base, "on_error": on_error,
                           "store_incomplete": store_incomplete, "settings": settings,
                           "timeout": timeout}
        return self.write_scenario("items.yaml", text)

    def written(self):
        out = os.path.join(self.work, "out")
        if not os.path.isdir(out):
            return {}
        result = {}
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name)) as f:
                result[name] = f.read()
        return result

    def incomplete(self, *args):
        result = self.ctl("incomplete", *args)
        return result

    # -- directives --------------------------------------------------------

    def test_no_handler_rolls_back(self):
        run = self.run_json(self.scenario(), expect_code=1)
        self.assertEqual(run["status"], "error")
        self.assertEqual(run["error"]["type"], "ConnectionError")
        self.assertEqual(self.written(), {"item-1.txt": "one"})
        self.assertEqual(self.server.count("/item/3"), 0, "the run stops at the error")
        self.assertEqual(self.incomplete("list", "--json").json(), [])

    def test_rollback_directive(self):
        run = self.run_json(self.scenario("    on_error: {directive: rollback}"), expect_code=1)
        self.assertEqual(run["status"], "error")
        self.assertEqual(self.server.count("/item/3"), 0)

    def test_commit_directive(self):
        run = self.run_json(self.scenario("    on_error: {directive: commit}"))
        self.assertEqual(run["status"], "success")
        self.assertEqual(self.written(), {"item-1.txt": "one"})
        self.assertEqual(self.server.count("/item/3"), 0, "commit stops the run now")

    def test_ignore_directive(self):
        run = self.run_json(self.scenario("    on_error: {directive: ignore}"))
        self.assertEqual(run["status"], "success")
        self.assertEqual(self.module(run, "3")["status"], "warning")
        self.assertEqual(self.written(), {"item-1.txt": "one", "item-3.txt": "three"})

    def test_resume_directive_substitutes_the_output(self):
        on_error = ("    on_error:\n      directive: resume\n"
                    "      output: {body: {name: \"fallback for {{2.value}}\"}}")
        run = self.run_json(self.scenario(on_error))
        self.assertEqual(run["status"], "success")
        self.assertEqual(self.written(), {"item-1.txt": "one", "item-2.txt": "fallback for 2",
                                          "item-3.txt": "three"})

    def test_handler_flow_without_directive_acts_as_ignore(self):
        on_error = ("    on_error:\n      flow:\n        - id: 30\n"
                    "          module: builtin.set\n"
                    "          with: {variables: {seen: \"{{error.type}} on {{2.value}}\"}}")
        run = self.run_json(self.scenario(on_error))
        self.assertEqual(run["status"], "success")
        self.assertEqual(self.written(), {"item-1.txt": "one", "item-3.txt": "three"})
        ops = self.ctl("execution", run["execution_id"], "--json").json()["operations_list"]
        handler = [o for o in ops if o["module_id"] == "30"]
        self.assertEqual(handler[0]["output"], [{"seen": "ConnectionError on 2"}])
        # fusion-semantics.md §1.3: error handler modules cost no operation.
        self.assertEqual(run["operations"], 1 + 1 + 2 + 2)

    def test_errors_filter_passes_other_types_to_default_handling(self):
        run = self.run_json(self.scenario(
            "    on_error: {directive: ignore, errors: [DataError]}"), expect_code=1)
        self.assertEqual(run["status"], "error")

    def test_break_stores_an_incomplete_execution_and_goes_on(self):
        run = self.run_json(self.scenario("    on_error: {directive: break}",
                                          store_incomplete="true"))
        self.assertEqual(run["status"], "warning")
        self.assertIsNotNone(run["incomplete_id"])
        self.assertEqual(self.written(), {"item-1.txt": "one", "item-3.txt": "three"})
        (record,) = self.incomplete("list", "--json").json()
        self.assertEqual(record["status"], "unresolved")
        self.assertEqual(record["module_id"], "3")
        self.server.script("/item/2", (200, {"name": "two"}))
        retry = self.ctl("incomplete", "retry", str(record["id"]), "--json")
        self.assertEqual(retry.code, 0, retry.stdout + retry.stderr)
        self.assertEqual(self.written()["item-2.txt"], "two")
        self.assertEqual(self.server.count("/item/1"), 1, "modules before never run again")
        self.assertEqual(self.server.count("/item/3"), 1)

    def test_break_with_retry_plans_automatic_attempts(self):
        on_error = "    on_error: {directive: break, retry: {attempts: 3, interval: 1m}}"
        self.run_json(self.scenario(on_error, store_incomplete="true"))
        (record,) = self.incomplete("list", "--json").json()
        self.assertEqual(record["status"], "pending")
        self.assertEqual(record["max_attempts"], 3)
        self.assertIsNotNone(record["next_attempt_at"])

    # -- default handling --------------------------------------------------

    def test_auto_retry_class_is_stored_pending_and_retried_to_success(self):
        run = self.run_json(self.scenario(store_incomplete="true"), expect_code=3)
        self.assertEqual(run["status"], "incomplete")
        self.assertEqual(self.written(), {"item-1.txt": "one", "item-3.txt": "three"})
        (record,) = self.incomplete("list", "--json").json()
        self.assertEqual(record["status"], "pending")
        self.assertEqual(record["error"]["type"], "ConnectionError")
        self.assertIsNotNone(record["next_attempt_at"])
        self.assertEqual(str(record["id"]), run["incomplete_id"])

        # Still failing: one more attempt on record, still open.
        failed = self.ctl("incomplete", "retry", str(record["id"]), "--json")
        self.assertEqual(failed.code, 3, failed.stdout + failed.stderr)
        (record,) = self.incomplete("list", "--json").json()
        self.assertEqual(record["attempts"], 1)

        self.server.script("/item/2", (200, {"name": "two"}))
        retry = self.ctl("incomplete", "retry", str(record["id"]), "--json")
        self.assertEqual(retry.code, 0, retry.stdout + retry.stderr)
        doc = retry.json()
        self.assertEqual(doc["status"], "success")
        self.assertEqual(self.written()["item-2.txt"], "two")
        self.assertEqual(self.incomplete("list", "--json").json(), [])
        (resolved,) = self.incomplete("list", "--all", "--json").json()
        self.assertEqual(resolved["status"], "resolved")
        self.assertEqual(str(resolved["resolved_by"]), doc["execution_id"])
        ops = self.ctl("execution", doc["execution_id"], "--json").json()
        self.assertEqual([o["module_id"] for o in ops["operations_list"]], ["3", "4"])
        self.assertEqual(self.server.count("/item/1"), 1)

    def test_manual_class_waits_for_a_person(self):
        self.server.script("/item/2", (404, {"message": "no such item"}))
        run = self.run_json(self.scenario(store_incomplete="true"), expect_code=3)
        (record,) = self.incomplete("list", "--json").json()
        self.assertEqual(record["error"]["type"], "DataError")
        self.assertEqual(record["status"], "unresolved")
        self.assertIsNone(record["next_attempt_at"])
        show = self.incomplete("show", str(record["id"]))
        self.assertEqual(show.code, 0)
        self.assertIn("failed module: 3", show.stdout)
        resolve = self.incomplete("resolve", str(record["id"]))
        self.assertEqual(resolve.code, 0, resolve.stderr)
        self.assertEqual(self.incomplete("list", "--json").json(), [])
        self.assertEqual(run["status"], "incomplete")

    def test_delete_and_retry_all_of_a_scenario(self):
        self.server.script("/item/1", (500, {}))
        self.run_json(self.scenario(store_incomplete="true"), expect_code=3)
        records = self.incomplete("list", "--json").json()
        self.assertEqual(len(records), 2)
        self.server.script("/item/1", (200, {"name": "one"}))
        self.server.script("/item/2", (200, {"name": "two"}))
        retry = self.ctl("incomplete", "retry", "--scenario", "items", "--all", "--json")
        self.assertEqual(retry.code, 0, retry.stdout + retry.stderr)
        self.assertEqual(len(retry.json()), 2)
        self.assertEqual(sorted(self.written()), ["item-1.txt", "item-2.txt", "item-3.txt"])
        self.run_json(self.scenario(store_incomplete="true"))  # all succeed now
        self.server.script("/item/3", (500, {}))
        self.run_json(self.scenario(store_incomplete="true"), expect_code=3)
        delete = self.ctl("incomplete", "delete", "--scenario", "items", "--all")
        self.assertEqual(delete.code, 0, delete.stderr)
        self.assertEqual(self.incomplete("list", "--json").json(), [])

    def test_sequential_holds_new_runs_while_records_are_open(self):
        path = self.scenario(store_incomplete="true", settings=", sequential: true")
        self.run_json(path, expect_code=3)
        held = self.ctl("run", path, "--json")
        self.assertEqual(held.code, 75, held.stdout + held.stderr)
        self.assertIn("sequential", held.stderr)
        self.assertEqual(self.server.count("/item/1"), 1, "a held run starts nothing")
        (record,) = self.incomplete("list", "--json").json()
        self.assertEqual(self.incomplete("resolve", str(record["id"])).code, 0)
        self.run_json(path, expect_code=3)

    # -- editing, crashes, deactivation --------------------------------------

    def test_edit_then_retry_with_current(self):
        self.server.script("/item/2", (404, {}))
        path = self.scenario(store_incomplete="true")
        self.run_json(path, expect_code=3)
        (record,) = self.incomplete("list", "--json").json()
        # The fix: module 3 reads a path that exists.
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("/item/{{2.value}}", "/fixed/{{2.value}}"))
        self.server.script("/fixed/2", (200, {"name": "two, fixed"}))
        snapshot = self.ctl("incomplete", "retry", str(record["id"]), "--json")
        self.assertEqual(snapshot.code, 3, "the stored snapshot still has the bad URL")
        current = self.ctl("incomplete", "retry", str(record["id"]), "--current", "--json")
        self.assertEqual(current.code, 0, current.stdout + current.stderr)
        self.assertEqual(self.written()["item-2.txt"], "two, fixed")

    def test_retry_refused_when_the_module_was_removed(self):
        path = self.scenario(store_incomplete="true")
        self.run_json(path, expect_code=3)
        (record,) = self.incomplete("list", "--json").json()
        with open(path, "w") as f:
            f.write("scenario: items\nflow:\n  - id: 1\n    module: builtin.set\n"
                    "    with: {variables: {x: 1}}\n")
        result = self.ctl("incomplete", "retry", str(record["id"]), "--current")
        self.assertNotEqual(result.code, 0)
        self.assertIn("module '3'", result.stderr)
        (still,) = self.incomplete("list", "--json").json()
        self.assertEqual(still["status"], "pending", "a refused retry leaves the record as it was")

    def test_sigkill_while_a_module_is_in_flight_is_recovered(self):
        self.server.script("/item/2", (200, {"name": "two"}, 30))
        path = self.scenario(store_incomplete="true", timeout=", timeout: 60s")
        env = dict(os.environ, SCENARIOD_STATE_DIR=self.state_dir)
        proc = subprocess.Popen([self.scenarioctl, "run", path, "--json"], env=env,
                                cwd=self.work, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while self.server.count("/item/2") == 0 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.server.count("/item/2"), 1)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)

        listing = self.incomplete("list", "--json")
        self.assertEqual(listing.code, 0, listing.stderr)
        (record,) = listing.json()
        self.assertEqual(record["module_id"], "3")
        self.assertIn("stopped", record["error"]["message"])
        executions = self.ctl("executions", "--json").json()
        self.assertEqual(executions[0]["status"], "incomplete")

        self.server.script("/item/2", (200, {"name": "two"}))
        retry = self.ctl("incomplete", "retry", str(record["id"]), "--json")
        self.assertEqual(retry.code, 0, retry.stdout + retry.stderr)
        # Item 3 had not been reached when the process died: it went with the
        # record and is processed by the retry; item 1 is never redone.
        self.assertEqual(self.written(), {"item-1.txt": "one", "item-2.txt": "two",
                                          "item-3.txt": "three"})
        self.assertEqual(self.server.count("/item/1"), 1)
        self.assertEqual(self.server.count("/item/3"), 1)

    def test_consecutive_errors_deactivate_and_enable_turns_back_on(self):
        path = self.scenario(settings=", max_consecutive_errors: 2")
        # ConnectionError runs do not count.
        for _ in range(3):
            self.run_json(path, expect_code=1)
        state = {s["name"]: s for s in self.ctl("scenarios", "--json").json()}
        self.assertTrue(state["items"]["enabled"])
        # InvalidAccessTokenError does.
        self.server.script("/item/2", (401, {"message": "bad token"}))
        self.run_json(path, expect_code=1)
        self.run_json(path, expect_code=1)
        state = {s["name"]: s for s in self.ctl("scenarios", "--json").json()}
        self.assertFalse(state["items"]["enabled"])
        self.assertIn("consecutive", self.ctl("scenarios").stdout)
        self.assertEqual(self.ctl("enable", "items").code, 0)
        state = {s["name"]: s for s in self.ctl("scenarios", "--json").json()}
        self.assertTrue(state["items"]["enabled"])
        self.assertEqual(state["items"]["consecutive_errors"], 0)


if __name__ == "__main__":
    harness.main()
