#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Executor and store throughput: how many operations per second
# `scenarioctl run` gets through when every operation is committed to
# SQLite with its mapped input and its output, against a target of 2,000
# operations per second. The scenario:
#
#   1 builtin.set               a literal array of N objects (written into
#                               the YAML by this script)
#   2 builtin.iterator          one bundle per item
#   3 builtin.set               three mappings per item (text, arithmetic,
#                               interpolation)
#   4 builtin.array_aggregator  collects module 3's totals
#
# which is N + 3 operations. The rate is taken over the execution's own
# duration (started_at to finished_at in the store: every module run and
# every commit, but not the process start or the loading of the YAML); the
# whole process's wall time is shown next to it. A second, ten times
# smaller run shows whether the cost per operation grows with the size of
# the execution.
#
#   bench/engine/run.sh [BUILD_DIR] [N [RUNS]]
#
#   BUILD_DIR  a meson build without sanitizers; without it the script sets
#              up a release build in $BENCH_BUILD_DIR (default
#              $TMPDIR/scenariod-bench-release) and keeps it
#   N          items (default 10000; at least 1000; at most 20000: the
#              loader accepts at most 200,000 YAML nodes per document, and
#              an item is 9)
#   RUNS       runs of each size; the run with the median execution time
#              is reported (default 3)
#
# STATE_PARENT chooses the file system of the store (default $TMPDIR):
# measure on the one the daemon will use.
#
# Exit status: 0 at or above the target, 3 below it, 1 when a run failed
# or its result was wrong, 2 on bad usage.
set -euo pipefail

target=2000

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp_parent=${STATE_PARENT:-${TMPDIR:-/tmp}}

build=
if [[ $# -gt 0 && -d $1 ]]; then
	build=$(cd "$1" && pwd)
	shift
fi
n=${1:-10000}
runs=${2:-3}
if ! [[ $n =~ ^[0-9]+$ && $runs =~ ^[0-9]+$ ]] || ((n < 1000 || n > 20000 || runs < 1)); then
	echo "usage: run.sh [BUILD_DIR] [N (1000..20000) [RUNS]]" >&2
	exit 2
fi

# shellcheck source=../common.sh
. "$here/../common.sh"
ctl=$(bench_scenarioctl "$src" "$build") || exit 2
measure=$(dirname "$(dirname "$ctl")")/bench_measure

work=$(mktemp -d "$tmp_parent/bench-engine-XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# write_scenario N FILE: the items are small records, as an API search
# would return them.
write_scenario() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
items = [{"id": i, "name": "item-%d" % i, "price": i % 97 + 0.5, "qty": i % 7 + 1}
         for i in range(1, n + 1)]
with open(path, "w") as f:
    f.write("""scenario: bench-engine
flow:
  - id: 1
    module: builtin.set
    with:
      variables:
        items: %s
  - id: 2
    module: builtin.iterator
    with: {array: "{{1.items}}"}
  - id: 3
    module: builtin.set
    with:
      variables:
        name: "{{upper(2.name)}}"
        total: "{{2.price * 2.qty}}"
        label: "{{2.index}}/{{2.total}} {{2.name}}"
  - id: 4
    module: builtin.array_aggregator
    with: {source: 2, value: "{{3.total}}"}
""" % json.dumps(items, separators=(",", ":")))
EOF
}

# What module 4 must hold, and the checks on the execution document.
verify() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path) as f:
    doc = json.load(f)
ops = doc["operations_list"]
want = [(i % 97 + 0.5) * (i % 7 + 1) for i in range(1, n + 1)]
agg = [op for op in ops if op["module_id"] == "4"]
problems = []
if len(ops) != n + 3:
    problems.append("%d operations recorded, expected %d" % (len(ops), n + 3))
if any(op["status"] != "success" for op in ops):
    problems.append("an operation did not succeed")
if len(agg) != 1 or agg[0]["output"][0]["array"] != want:
    problems.append("the aggregated array is not the N totals in order")
third = [op for op in ops if op["module_id"] == "3"]
if third and third[-1]["output"][0]["label"] != "%d/%d item-%d" % (n, n, n):
    problems.append("the last label is %r" % third[-1]["output"][0]["label"])
print("; ".join(problems) or "ok")
EOF
}

# run_one N LABEL: one run in a fresh state folder; appends
# "wall_s exec_s peak_kib store_bytes" to $work/LABEL.
run_one() {
	local count=$1 label=$2 dir
	dir=$(mktemp -d "$work/run-XXXXXX")
	write_scenario "$count" "$dir/scenario.yaml"
	local line kv status='' wall='' peak=''
	line=$("$measure" -t 600 -o "$dir/run.json" \
		"$ctl" --state-dir "$dir/state" --json run "$dir/scenario.yaml")
	for kv in $line; do
		case ${kv%%=*} in
		exit) status=${kv#*=} ;;
		wall_s) wall=${kv#*=} ;;
		peak_rss_kib) peak=${kv#*=} ;;
		esac
	done
	if [[ $status != 0 ]]; then
		echo "$label: scenarioctl exit $status" >&2
		head -c 2000 "$dir/run.json" >&2
		exit 1
	fi
	local id exec_ms ops
	read -r id exec_ms ops < <(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["execution_id"], d["duration_ms"], d["operations"])' "$dir/run.json")
	if ((ops != count + 3)); then
		echo "$label: $ops operations counted, expected $((count + 3))" >&2
		exit 1
	fi
	"$ctl" --state-dir "$dir/state" --json execution "$id" >"$dir/execution.json"
	local check
	check=$(verify "$count" "$dir/execution.json")
	if [[ $check != ok ]]; then
		echo "$label: $check" >&2
		exit 1
	fi
	local store_bytes
	store_bytes=$(du -sb "$dir/state" | cut -f1)
	echo "$wall $exec_ms $peak $store_bytes" >>"$work/$label"
	rm -rf "$dir"
}

# summarize LABEL N: the run with the median execution time.
summarize() {
	sort -n -k2,2 "$work/$1" | awk -v n="$2" -v label="$1" '
	{ wall[NR] = $1; exec[NR] = $2; peak[NR] = $3; bytes[NR] = $4 }
	END {
		m = int((NR + 1) / 2)
		printf "%-5s %5d items %5d ops  execution %5.2f s (%.2f-%.2f, %d runs)  wall %5.2f s  peak RSS %5.1f MiB  store %5.1f MiB\n",
			label, n, n + 3, exec[m] / 1000, exec[1] / 1000, exec[NR] / 1000, NR,
			wall[m], peak[m] / 1024, bytes[m] / 1048576
	}'
}

echo "scenarioctl: $ctl"
echo "store under: $tmp_parent ($(df -PT "$tmp_parent" | awk 'NR == 2 { print $2 }'))"
echo
small=$((n / 10))
for ((i = 0; i < runs; i++)); do
	run_one "$small" small
	run_one "$n" large
done
summarize small "$small"
summarize large "$n"

median() { sort -n -k2,2 "$work/$1" | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }
read -r _ s_exec s_peak _ <<<"$(median small)"
read -r l_wall l_exec l_peak l_bytes <<<"$(median large)"

echo
echo "== summary =="
awk -v n="$n" -v small="$small" -v target="$target" -v wall="$l_wall" -v exec_ms="$l_exec" \
	-v peak="$l_peak" -v bytes="$l_bytes" -v s_exec="$s_exec" -v s_peak="$s_peak" 'BEGIN {
	ops = n + 3; s_ops = small + 3
	rate = ops / (exec_ms / 1000); wall_rate = ops / wall
	printf "operations                          %10d  (%d items)\n", ops, n
	printf "operations/s (execution)            %10.0f\n", rate
	printf "ms per operation (execution)        %10.3f\n", exec_ms / ops
	printf "ratio to target (%d ops/s)        %10.2fx\n", target, rate / target
	printf "operations/s (wall, whole process)  %10.0f  (%.2fx target)\n", wall_rate,
		wall_rate / target
	printf "peak RSS                            %10.1f MiB  (%.2f KiB per item over the small run)\n",
		peak / 1024, (peak - s_peak) / (n - small)
	printf "store on disk                       %10.1f MiB  (%.0f bytes per operation)\n",
		bytes / 1048576, bytes / ops
	printf "ms/op at %d items / at %d items  %8.3f  (linear: ~1)\n", n, small,
		(exec_ms / ops) / (s_exec / s_ops)
	if ((exec_ms / ops) / (s_exec / s_ops) > 1.3)
		print "the cost of an operation grows with the number of items (see README.md)"
	exit !(rate >= target) * 3
}'
