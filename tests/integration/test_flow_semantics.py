# SPDX-License-Identifier: MIT
"""Routers, filters, iterators and aggregators behave as Fusion documents.
Each test names the section of ../shared/reference/fusion-semantics.md it
follows."""

import harness

ROUTER = """\
flow:
  - id: 1
    module: builtin.set
    with: {variables: {items: [{n: 1}, {n: 5}, {n: 12}]}}
  - id: 2
    module: builtin.iterator
    with: {array: "{{1.items}}"}
  - id: 3
    router:
      - label: small
        when: "{{2.n < 3}}"
        flow:
          - {id: 4, module: builtin.set, with: {variables: {route: small, n: "{{2.n}}"}}}
      - label: big or one
        when: "{{2.n > 10 or 2.n = 1}}"
        flow:
          - {id: 5, module: builtin.set, with: {variables: {route: big, n: "{{2.n}}"}}}
      - label: the rest
        fallback: true
        flow:
          - {id: 6, module: builtin.set, with: {variables: {route: rest, n: "{{2.n}}"}}}
"""

FILTER = """\
flow:
  - id: 1
    module: builtin.set
    with: {variables: {numbers: [1, 2, 3, 4]}}
  - id: 2
    module: builtin.iterator
    with: {array: "{{1.numbers}}"}
  - id: 3
    module: builtin.set
    when: "{{2.value % 2 = 0}}"
    with: {variables: {even: "{{2.value}}"}}
  - id: 4
    module: builtin.set
    with: {variables: {after: "{{3.even}}"}}
"""

AGGREGATE = """\
flow:
  - id: 1
    module: builtin.set
    with: {variables: {numbers: %s}}
  - id: 2
    module: builtin.iterator
    with: {array: "{{1.numbers}}"}
  - id: 3
    module: builtin.set
    with: {variables: {double: "{{2.value * 2}}", parity: "{{if(2.value %% 2 = 0; 'even'; 'odd')}}"}}
  - id: 4
    module: builtin.array_aggregator
    with: {source: 2, value: "{{3.double}}"%s}
  - id: 5
    module: builtin.set
    with: {variables: {collected: "{{4.array}}", seen_before: "{{1.numbers}}"}}
"""


class FlowSemanticsTest(harness.ScenarioTestCase):
    def operations(self, run):
        detail = self.ctl("execution", run["execution_id"], "--json")
        self.assertEqual(detail.code, 0, detail.stderr)
        return detail.json()["operations_list"]

    def test_router_routes_in_order_with_fallback(self):
        """§1.4: routes run in order, a bundle passing several filters goes
        down each (top first), the fallback route gets bundles no other
        route took; bundles walk depth first (§1.2)."""
        run = self.run_json(self.write_scenario("router.yaml", ROUTER))
        self.assertEqual(run["status"], "success")
        ops = self.operations(run)
        walked = [(o["module_id"], o["output"][0].get("n") if o["module_id"] in "456" else None)
                  for o in ops]
        self.assertEqual(walked, [("1", None), ("2", None), ("4", 1), ("5", 1), ("6", 5),
                                  ("5", 12)])
        # §1.3: routers and filters cost no operation.
        self.assertEqual(run["operations"], 6)
        self.assertEqual(self.module(run, "6")["bundles_in"], 1)

    def test_filter_stops_the_bundle_on_its_route(self):
        """§1.5: a bundle that fails a filter stops there, with the whole
        downstream path."""
        run = self.run_json(self.write_scenario("filter.yaml", FILTER))
        self.assertEqual(self.module(run, "3")["bundles_in"], 2)
        self.assertEqual(self.module(run, "4")["bundles_in"], 2)
        ops = self.operations(run)
        self.assertEqual([o["output"][0]["after"] for o in ops if o["module_id"] == "4"], [2, 4])

    def test_iterator_and_aggregator(self):
        """§1.6: the iterator emits one bundle per element with its position;
        the aggregator collects the bundles of one operation of its source
        and emits one bundle; §1.3: it counts one operation per set."""
        run = self.run_json(self.write_scenario("agg.yaml", AGGREGATE % ("[1, 2, 3]", "")))
        self.assertEqual(run["status"], "success", run)
        ops = self.operations(run)
        iterator = [o for o in ops if o["module_id"] == "2"][0]
        self.assertEqual([(b["value"], b["index"], b["total"]) for b in iterator["output"]],
                         [(1, 1, 3), (2, 2, 3), (3, 3, 3)])
        final = [o for o in ops if o["module_id"] == "5"]
        self.assertEqual(len(final), 1)
        self.assertEqual(final[0]["output"][0]["collected"], [2, 4, 6])
        self.assertEqual(final[0]["output"][0]["seen_before"], [1, 2, 3])
        # set + iterator + 3 × set + aggregator + set
        self.assertEqual(run["operations"], 7)

    def test_aggregator_emits_an_empty_array_when_nothing_arrived(self):
        """§1.6: with stop-if-empty off the aggregator still emits its
        (empty) result."""
        run = self.run_json(self.write_scenario("empty.yaml", AGGREGATE % ("[]", "")))
        final = [o for o in self.operations(run) if o["module_id"] == "5"]
        self.assertEqual(len(final), 1)
        self.assertEqual(final[0]["output"][0]["collected"], [])

    def test_aggregator_stop_if_empty(self):
        run = self.run_json(self.write_scenario(
            "stop.yaml", AGGREGATE % ("[]", ", stop_if_empty: true")))
        self.assertEqual(self.module(run, "5")["status"], "skipped")

    def test_aggregator_group_by(self):
        """§1.6: group by gives one bundle per key {key, array}."""
        run = self.run_json(self.write_scenario(
            "group.yaml", AGGREGATE % ("[1, 2, 3, 4, 5]", ", group_by: \"{{3.parity}}\"")))
        final = [o["output"][0]["collected"] for o in self.operations(run)
                 if o["module_id"] == "5"]
        self.assertEqual(final, [[2, 6, 10], [4, 8]])


if __name__ == "__main__":
    harness.main()
