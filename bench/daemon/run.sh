#!/bin/bash
# SPDX-License-Identifier: MIT
#
# scenariod as a long-running service: what it costs when nothing is due,
# how fast it is ready, and how late its scheduler fires when 10,000
# scenarios are due every minute. README.md beside this file says what each
# figure means and records them. The figures, each against its target:
#
#   1 idle RSS, 100 scenarios loaded, nothing due           VmRSS <= 10 MiB
#   2 exec to READY=1 with those 100 scenarios (median
#     of starts on a fresh state dir; warm starts too)      <= 50 ms
#   3 scheduler lag with 10,000 {interval: 1m} scenarios
#     whose slots are spread over the minute, >= 2 min      p99 <= 10 ms
#     (and no slot lost or run twice)
#   4 idle CPU and wakeups over >= 60 s, with and without   the housekeeping
#     the systemd watchdog                                  tick and the
#                                                           watchdog only
#
# The daemon is started as systemd would start it: NOTIFY_SOCKET names a
# datagram socket of this script's, and it is ready when it says READY=1.
# The work (bench.py, Python 3 standard library) is done in a temporary
# folder that is removed on exit, with every daemon started in it.
#
#   bench/daemon/run.sh [BUILD_DIR]
#
#   BUILD_DIR  a meson build without sanitizers; without it the script sets
#              up a release build in $BENCH_BUILD_DIR (default
#              $TMPDIR/scenariod-bench-release) and keeps it
#
# Environment:
#   QUICK=1        a smoke run (about 80 s): 15 s idle, 5 starts of each
#                  kind, 50 s of the 10,000 scenarios
#   STRACE=1       when the idle daemon wakes up more often than its
#                  housekeeping tick, strace it for 20 s to show why
#   STATE_PARENT   the file system of the state dirs (default $TMPDIR):
#                  measure on the one the daemon will use
#
# Exit status: 0 every target met, 3 a target missed (or a slot lost or run
# twice), 1 a step did not happen (no READY=1, status did not answer, a
# daemon died), 2 bad usage or no build.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp_parent=${STATE_PARENT:-${TMPDIR:-/tmp}}

build=
if [[ $# -gt 0 ]]; then
	if [[ ! -d $1 || $# -gt 1 ]]; then
		echo "usage: run.sh [BUILD_DIR]" >&2
		exit 2
	fi
	build=$(cd "$1" && pwd)
fi

# shellcheck source=../common.sh
. "$here/../common.sh"
build=$(bench_scenariod "$src" "$build") || exit 2
scenariod=$build/daemon/scenariod
scenarioctl=$build/ctl/scenarioctl

work=$(mktemp -d "$tmp_parent/bench-daemon-XXXXXX")
helper=
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	local pid
	if [[ -n $helper ]] && kill -0 "$helper" 2>/dev/null; then
		kill -TERM "$helper" 2>/dev/null || true
		wait "$helper" 2>/dev/null || true
	fi
	# Daemons the helper could not stop (it was killed itself): only those
	# it recorded, and only while they still run on this work folder.
	if [[ -f $work/pids ]]; then
		while read -r pid; do
			if grep -qF -- "$work" "/proc/$pid/cmdline" 2>/dev/null; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
		done <"$work/pids"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

args=()
if [[ ${QUICK:-0} == 1 ]]; then
	args+=(--idle-seconds 15 --starts 5 --lag-seconds 50 --reading-every 10)
fi
if [[ ${STRACE:-0} == 1 ]]; then
	args+=(--strace)
fi

echo "machine:     $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
	"$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "load:        $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
buildtype=$(python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "buildtype"))' \
	"$build/meson-info/intro-buildoptions.json" 2>/dev/null || echo '?')
echo "build:       $build ($buildtype)"
echo "scenariod:   $("$scenariod" --version 2>&1 | head -1), commit $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "libraries:   SQLite $(pkg-config --modversion sqlite3 2>/dev/null || echo '?')," \
	"libuv $(pkg-config --modversion libuv 2>/dev/null || echo '?')," \
	"libcurl $(pkg-config --modversion libcurl 2>/dev/null || echo '?')"
echo "state under: $tmp_parent ($(df -PT "$tmp_parent" | awk 'NR == 2 { print $2 }'))"
[[ ${QUICK:-0} == 1 ]] && echo "QUICK=1: a smoke run; the figures are not the recorded ones"

python3 "$here/bench.py" --scenariod "$scenariod" --scenarioctl "$scenarioctl" \
	--work "$work" "${args[@]}" &
helper=$!
status=0
wait "$helper" || status=$?
helper=
exit "$status"
