#!/bin/sh
# Installs what is needed, builds scenariod with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs every test: unit (cmocka),
# integration (the real binaries against real files, SQLite, HTTP on
# loopback and the fake CloudConvert server) and style checks.
# Ends with a line "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build-asan}

./scripts/install-deps.sh

if [ -d "$build" ]; then
	meson setup --reconfigure "$build" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
else
	meson setup "$build" -Db_sanitize=address,undefined -Db_lundef=false
fi
ninja -C "$build"

# Leaks fail a test (LeakSanitizer runs at every exit), and so does any
# undefined behaviour.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"

status=0
meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?

python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
with open(sys.argv[1]) as log:
    for line in log:
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
print("%d passed, %d failed" % (passed, failed) + (", %d skipped" % skipped if skipped else ""))
PY
exit $status
