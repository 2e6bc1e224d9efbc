#!/bin/sh
# The webhook examples end to end against the bundled fake CloudConvert:
# starts the fake server and scenariod with its HTTP front on loopback,
# then
#   1. POSTs a DOCX to examples/webhooks/convert-service.yaml with curl and
#      saves the PDF the scenario answers with;
#   2. lets examples/webhooks/job-events-start.yaml (an interval schedule,
#      so it runs at start) start conversions without waiting, and waits for
#      examples/webhooks/job-events-download.yaml to download each result
#      when the fake CloudConvert calls the daemon's webhook.
# Run ./scripts/demo.sh (or install-deps.sh and a build) first.
set -eu
cd "$(dirname "$0")/.."

[ -d build ] || meson setup build
ninja -C build >/dev/null

export CLOUDCONVERT_API_KEY=demo-key
export CONVERT_SERVICE_PASSWORD=demo-password
work=$(mktemp -d)
server_pid=
daemon_pid=
cleanup() {
	[ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

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
mkdir "$work/scenarios"
cp examples/webhooks/*.yaml "$work/scenarios/"
# job-events-start runs when the daemon starts (an interval schedule runs
# when it is first seen) and converts the DOCX files it has not seen yet.
rm -rf examples/data/downloads/events

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
hooks=http://127.0.0.1:$port
ctl="./build/ctl/scenarioctl --socket $work/control.sock"
./build/daemon/scenariod --state-dir "$work/state" --scenarios "$work/scenarios" \
	--connections "$work/connections.yaml" --socket "$work/control.sock" \
	--listen "127.0.0.1:$port" --public-url "$hooks" 2>"$work/scenariod.log" &
daemon_pid=$!
for _ in $(seq 1 100); do
	$ctl status >/dev/null 2>&1 && break
	sleep 0.1
done
echo "== fake CloudConvert at $base, scenariod listening at $hooks"
$ctl status

echo
echo "== curl -u convert:… -F file=@meeting-notes.docx $hooks/hooks/convert-service"
curl -sS -u "convert:$CONVERT_SERVICE_PASSWORD" \
	-F file=@examples/data/cloudconvert/docx/meeting-notes.docx \
	-D "$work/headers" -o "$work/meeting-notes.pdf" "$hooks/hooks/convert-service"
sed -n '1p;/^[Cc]ontent-/p' "$work/headers"
printf 'the answer starts with: %s\n' "$(head -n 1 "$work/meeting-notes.pdf" | cut -c1-90)"
echo "== the same without the password"
curl -sS -o /dev/null -w '%{http_code}\n' -F file=@examples/data/cloudconvert/docx/meeting-notes.docx \
	"$hooks/hooks/convert-service"

for _ in $(seq 1 100); do
	[ "$(ls examples/data/downloads/events 2>/dev/null | wc -l)" -ge 2 ] && break
	sleep 0.1
done
echo
echo "== examples/data/downloads/events (job-events-start started the jobs;"
echo "   job-events-download fetched each result on job.finished)"
ls -l examples/data/downloads/events || true
echo
$ctl status
echo
echo "== the daemon's log"
cat "$work/scenariod.log"
