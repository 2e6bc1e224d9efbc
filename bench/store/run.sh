#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Builds bench_store.c against the static libraries of a meson build
# directory and runs it in a fresh state folder.
#
#   bench/store/run.sh BUILD_DIR [bench] [-n OPERATIONS]
#       operations recorded per second, commit per operation, against the
#       5,000 ops/s target (exit 3 when below it)
#   bench/store/run.sh BUILD_DIR crash [ROUNDS]
#       kills a recording process with SIGKILL at random moments and checks
#       that the database opens cleanly and passes integrity_check each time
#
# Set STATE_PARENT to measure on a particular file system (default $TMPDIR).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [bench|crash] [args]}" && pwd)
mode=${2:-bench}
shift $(( $# >= 2 ? 2 : 1 ))

# Other folders may be mid-edit; fall back to the libraries already built.
if ! ninja -C "$build" store/libstore.a util/libutil.a >/dev/null 2>&1; then
	echo "warning: ninja failed, using the libraries already in $build" >&2
fi
bin="$build/bench_store"
# shellcheck disable=SC2046
cc -O2 -std=gnu17 -D_GNU_SOURCE -I"$src" -I"$build" "$here/bench_store.c" \
	"$build/store/libstore.a" "$build/util/libutil.a" \
	$(pkg-config --libs sqlite3 libcjson libcrypto yaml-0.1) -lm -o "$bin"

state=$(mktemp -d "${STATE_PARENT:-${TMPDIR:-/tmp}}/bench-store-XXXXXX")
trap 'rm -rf "$state"' EXIT

case "$mode" in
bench)
	"$bin" -d "$state" "$@"
	;;
crash)
	rounds=${1:-20}
	for ((i = 1; i <= rounds; i++)); do
		"$bin" -n 10000000 -d "$state" >/dev/null 2>&1 &
		pid=$!
		sleep "0.$(( RANDOM % 9 + 1 ))$(( RANDOM % 10 ))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		printf 'round %d: ' "$i"
		"$bin" -c -d "$state"
	done
	;;
*)
	echo "unknown mode '$mode' (bench or crash)" >&2
	exit 2
	;;
esac
