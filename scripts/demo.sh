#!/bin/sh
# The main job, end to end on a fresh machine: installs what is needed,
# builds scenariod, and runs the example scenario that watches
# examples/data/inbox and writes renamed copies to examples/data/outbox,
# then shows the written files and the execution stored in SQLite.
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
[ -d build ] || meson setup build
ninja -C build

export SCENARIOD_STATE_DIR="$PWD/.state"
ctl=./build/ctl/scenarioctl

echo
echo "== scenarioctl validate examples/files-rename.yaml"
$ctl validate examples/files-rename.yaml

echo
echo "== scenarioctl run examples/files-rename.yaml"
status=0
$ctl run examples/files-rename.yaml || status=$?

echo
echo "== examples/data/outbox"
ls -l examples/data/outbox 2>/dev/null || echo "(empty: the inbox had nothing new since the last run)"

id=$($ctl executions --limit 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo
echo "== scenarioctl execution $id (read back from $SCENARIOD_STATE_DIR/store.db)"
$ctl execution "$id"
exit $status
