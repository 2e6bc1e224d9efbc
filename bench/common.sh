# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# Sourced by the bench scripts that run scenarioctl: finds or sets up a
# release build, builds scenarioctl in it, and compiles bench/measure.c
# next to it.
#
#   bench_scenarioctl SRC [BUILD_DIR]   prints BUILD_DIR/ctl/scenarioctl;
#                                       measure is BUILD_DIR/bench_measure
#
# Without BUILD_DIR the build lives in $BENCH_BUILD_DIR (default
# $TMPDIR/scenariod-bench-release) and is kept for the next run.

bench_scenarioctl() {
	local src=$1 build=${2:-}

	if [[ -z $build ]]; then
		build=${BENCH_BUILD_DIR:-${TMPDIR:-/tmp}/scenariod-bench-release}
		if [[ ! -f $build/build.ninja ]]; then
			# werror off: -O3 raises maybe-uninitialized warnings that
			# the default debugoptimized build does not, and a benchmark
			# should not fail on them.
			meson setup "$build" "$src" --buildtype=release -Dwerror=false >/dev/null ||
				return 1
		fi
	fi
	# Other folders may be mid-edit; fall back to the binary already built.
	if ! ninja -C "$build" ctl/scenarioctl >/dev/null 2>&1; then
		echo "warning: ninja failed, using the scenarioctl already in $build" >&2
	fi
	if [[ ! -x $build/ctl/scenarioctl ]]; then
		echo "no $build/ctl/scenarioctl" >&2
		return 1
	fi
	if grep -q -- "-fsanitize" "$build/build.ninja" 2>/dev/null; then
		echo "warning: $build is a sanitizer build; its figures mean little" >&2
	fi
	cc -O2 -std=gnu17 "$src/bench/measure.c" -o "$build/bench_measure" || return 1
	echo "$build/ctl/scenarioctl"
}

# bench_scenariod SRC [BUILD_DIR]: as bench_scenarioctl, and also builds
# daemon/scenariod in the same build dir. Prints BUILD_DIR (scenariod is
# BUILD_DIR/daemon/scenariod, scenarioctl BUILD_DIR/ctl/scenarioctl).
bench_scenariod() {
	local src=$1 build=${2:-} ctl

	ctl=$(bench_scenarioctl "$src" "$build") || return 1
	build=$(dirname "$(dirname "$ctl")")
	if ! ninja -C "$build" daemon/scenariod >/dev/null 2>&1; then
		echo "warning: ninja failed, using the scenariod already in $build" >&2
	fi
	if [[ ! -x $build/daemon/scenariod ]]; then
		echo "no $build/daemon/scenariod" >&2
		return 1
	fi
	echo "$build"
}
