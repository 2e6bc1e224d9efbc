# SPDX-License-Identifier: MIT
"""scenarioctl validate: every problem reported as FILE:LINE:COL, exit 65."""

import re

import harness

BROKEN = """\
scenario: broken
flow:
  - id: 1
    module: builtin.set
    with:
      variables: {a: 1}
    colour: blue
  - id: 2
    module: builtin.log
    with:
      message: "{{upper(1.a}}"
  - id: 3
    module: cloudconvert.convrt_file
  - id: 4
    module: files.write
    with:
      dir: /tmp
      data: "x"
"""


class ValidateTest(harness.ScenarioTestCase):
    def test_reports_each_problem_at_its_position_and_exits_65(self):
        path = self.write_scenario("broken.yaml", BROKEN)
        result = self.ctl("validate", path)
        self.assertEqual(result.code, 65, result.stdout + result.stderr)
        lines = [l for l in result.stdout.splitlines() if ": error: " in l]
        positions = {}
        for line in lines:
            m = re.match(r"^(.*):(\d+):(\d+): error: (.*)$", line)
            self.assertIsNotNone(m, line)
            self.assertEqual(m.group(1), path)
            positions[(int(m.group(2)), int(m.group(3)))] = m.group(4)
        self.assertEqual(len(lines), 4, result.stdout)
        # unknown key 'colour' at line 7, column 5
        self.assertIn("unknown key 'colour'", positions.get((7, 5), ""), positions)
        # the mapping error points inside the string: the missing ')' at the '}}'
        bad = [(p, msg) for p, msg in positions.items() if p[0] == 11]
        self.assertEqual(len(bad), 1, positions)
        self.assertGreater(bad[0][0][1], 16, "column must point inside the string")
        # unknown module with a suggestion is reported on the module line
        unknown = positions.get((13, 13), "")
        self.assertIn("unknown module 'cloudconvert.convrt_file'", unknown, positions)
        # files.write without its required 'name'
        missing = [msg for p, msg in positions.items() if "missing required field 'name'" in msg]
        self.assertEqual(len(missing), 1, positions)

    def test_valid_file_exits_0(self):
        path = self.write_scenario("ok.yaml", "flow:\n  - id: 1\n    module: builtin.log\n"
                                               "    with: {message: hello}\n")
        result = self.ctl("validate", path)
        self.assertEqual(result.code, 0, result.stdout + result.stderr)
        self.assertIn("valid", result.stdout)

    def test_run_refuses_an_invalid_scenario_with_65(self):
        path = self.write_scenario("broken.yaml", BROKEN)
        result = self.ctl("run", path, "--json")
        self.assertEqual(result.code, 65)
        self.assertIn("error:", result.stderr)

    def test_usage_errors_exit_64(self):
        self.assertEqual(self.ctl("validate").code, 64)
        self.assertEqual(self.ctl("no-such-command").code, 64)
        self.assertEqual(self.ctl("execution", "abc").code, 64)


if __name__ == "__main__":
    harness.main()
