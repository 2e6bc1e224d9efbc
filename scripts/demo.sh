#!/bin/sh
# The main job, end to end on a fresh machine: installs what is needed,
# builds scenariod, starts the bundled fake CloudConvert API v2 server on
# loopback, and runs examples/cloudconvert-docx-to-pdf.yaml: the DOCX files
# of examples/data/cloudconvert/docx are uploaded, converted to PDF, waited
# for, downloaded and written to examples/data/downloads/pdf. Then it shows
# the PDFs and the execution read back from the SQLite store.
set -eu
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
[ -d build ] || meson setup build
ninja -C build

export SCENARIOD_STATE_DIR="$PWD/.state"
export CLOUDCONVERT_API_KEY=demo-key
ctl=./build/ctl/scenarioctl
work=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The fake server picks a free port and says which; the connections file
# points the example's connection at it.
python3 tests/fake-cloudconvert/server.py --port 0 --api-key "$CLOUDCONVERT_API_KEY" \
	>"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
	grep -q '^LISTENING ' "$work/server.out" 2>/dev/null && break
	sleep 0.1
done
base=$(sed -n 's/^LISTENING //p' "$work/server.out")
[ -n "$base" ] || { cat "$work/server.err" >&2; echo "the fake server did not start" >&2; exit 70; }
cat >"$work/connections.yaml" <<YAML
cloudconvert-main:
  app: cloudconvert
  api_key: {env: CLOUDCONVERT_API_KEY}
  base_url: $base
  sync_url: $base/sync
YAML
echo "== fake CloudConvert API v2 at $base"

echo
echo "== scenarioctl validate examples/cloudconvert-docx-to-pdf.yaml"
$ctl --connections "$work/connections.yaml" validate examples/cloudconvert-docx-to-pdf.yaml

echo
echo "== scenarioctl run examples/cloudconvert-docx-to-pdf.yaml"
status=0
$ctl --connections "$work/connections.yaml" run examples/cloudconvert-docx-to-pdf.yaml || status=$?

echo
echo "== examples/data/downloads/pdf"
if [ -d examples/data/downloads/pdf ]; then
	ls -l examples/data/downloads/pdf
	for f in examples/data/downloads/pdf/*.pdf; do
		printf '%s starts with: %s\n' "$f" "$(head -n 1 "$f" | cut -c1-90)"
	done
else
	echo "(nothing new: files.watch remembers the DOCX files it already handed out;"
	echo " remove .state/ to start over)"
fi

id=$($ctl executions --limit 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo
echo "== scenarioctl execution $id (read back from $SCENARIOD_STATE_DIR/store.db)"
$ctl execution "$id"
exit $status
