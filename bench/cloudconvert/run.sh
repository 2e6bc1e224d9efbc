#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Streams a large file through CloudConvert (the fake server of the tests)
# and back, and shows that scenarioctl's resident memory does not grow with
# the file: files.read -> cloudconvert.convert_file (upload, convert,
# download) -> files.write, once with a small reference file and once with
# the large one.
#
#   bench/cloudconvert/run.sh [BUILD_DIR] [SIZE [REF_SIZE]]
#
#   BUILD_DIR  a meson build without sanitizers (e.g. --buildtype=release).
#              Without it the script sets up a release build in
#              $BENCH_BUILD_DIR (default $TMPDIR/scenariod-bench-release)
#              and keeps it for the next run.
#   SIZE       the large file (default 1GiB); REF_SIZE the reference
#              (default 64MiB). Sizes: a number of bytes with an optional
#              K, M or G (powers of 1024; "MiB" and "M" are the same).
#
# Environment: INPUT=random (default) or sparse (a hole: zeros that cost no
# disk to create); STATE_PARENT the folder for the temporary files (default
# $TMPDIR), which needs about 7 x SIZE free (the fake server needs about as
# much memory); RUN_TIMEOUT seconds per run (default 1200).
#
# Exit status: 0 when both runs succeeded, the bytes matched and the peak
# RSS stayed flat (at most 1.25 x the reference's), 1 on a failed run or a
# wrong output, 2 on bad usage or not enough disk or memory, 3 when the
# peak RSS grew with the file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tmp_parent=${STATE_PARENT:-${TMPDIR:-/tmp}}

bytes_of() {
	local text=${1%iB} n unit
	n=${text%[KkMmGg]}
	unit=${text#"$n"}
	if ! [[ $n =~ ^[0-9]+$ ]]; then
		echo "not a size: '$1'" >&2
		exit 2
	fi
	case "$unit" in
	'') echo "$n" ;;
	[Kk]) echo $((n << 10)) ;;
	[Mm]) echo $((n << 20)) ;;
	[Gg]) echo $((n << 30)) ;;
	esac
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

build=
if [[ $# -gt 0 && -d $1 ]]; then
	build=$(cd "$1" && pwd)
	shift
fi
size=$(bytes_of "${1:-1GiB}")
ref_size=$(bytes_of "${2:-64MiB}")
input_kind=${INPUT:-random}
run_timeout=${RUN_TIMEOUT:-1200}
case "$input_kind" in
random | sparse) ;;
*)
	echo "INPUT must be random or sparse" >&2
	exit 2
	;;
esac

# The input, its blob copy, the fake's upload and converted copies, the
# downloaded blob and the written output all exist at once.
need_kib=$(((size * 7) >> 10))
free_kib=$(df -Pk "$tmp_parent" | awk 'NR == 2 { print $4 }')
if ((free_kib < need_kib)); then
	echo "not enough room in $tmp_parent: $((free_kib >> 20)) GiB free," \
		"$((need_kib >> 20)) GiB needed (set STATE_PARENT)" >&2
	exit 2
fi

# The fake holds an upload in memory several times over while it parses,
# hashes and "converts" it (about 6 x SIZE at its peak).
mem_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if ((mem_kib < need_kib)); then
	echo "not enough memory for the fake server: $((mem_kib >> 20)) GiB available," \
		"about $((need_kib >> 20)) GiB needed" >&2
	exit 2
fi

# shellcheck source=../common.sh
. "$here/../common.sh"
ctl=$(bench_scenarioctl "$src" "$build") || exit 2
measure=$(dirname "$(dirname "$ctl")")/bench_measure

work=$(mktemp -d "$tmp_parent/bench-cloudconvert-XXXXXX")
fake_pid=
measure_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [[ -n $measure_pid ]]; then
		kill -TERM "$measure_pid" 2>/dev/null || true
		wait "$measure_pid" 2>/dev/null || true
	fi
	if [[ -n $fake_pid ]]; then
		kill -TERM "$fake_pid" 2>/dev/null || true
		wait "$fake_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The fake keeps file bytes on disk (--state-dir); it still reads a whole
# upload into its own memory, which is its business, not the client's.
key=bench-key-$$
python3 "$src/tests/fake-cloudconvert/server.py" --port 0 --api-key "$key" \
	--state-dir "$work/fake" --processing-delay 0.01 --sync-timeout 300 \
	>"$work/fake.out" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 100); do
	grep -q '^LISTENING ' "$work/fake.out" 2>/dev/null && break
	sleep 0.1
done
base=$(sed -n 's/^LISTENING //p' "$work/fake.out")
if [[ -z $base ]]; then
	echo "the fake CloudConvert server did not start:" >&2
	cat "$work/fake.err" >&2
	exit 1
fi
cat >"$work/connections.yaml" <<EOF
cc:
  app: cloudconvert
  api_key: {env: CLOUDCONVERT_API_KEY}
  base_url: $base
  sync_url: $base/sync
EOF

failed=0

# run_one LABEL SIZE: creates the input, runs the scenario, checks the
# output; sets the r_* variables.
run_one() {
	local label=$1 bytes=$2 dir=$work/$1
	mkdir -p "$dir/out"
	if [[ $input_kind == sparse ]]; then
		truncate -s "$bytes" "$dir/input.docx"
	else
		head -c "$bytes" /dev/urandom >"$dir/input.docx"
	fi
	cat >"$dir/scenario.yaml" <<EOF
scenario: bench-cloudconvert-$label
settings: {max_file_size: $((bytes + (1 << 20))), timeout: $(((run_timeout + 59) / 60))m}
flow:
  - id: 1
    module: files.read
    with: {path: "$dir/input.docx"}
  - id: 2
    module: cloudconvert.convert_file
    connection: cc
    with:
      input: {upload: "{{1.file}}"}
      output_format: pdf
      download: true
      wait: $(((run_timeout + 59) / 60))m
  - id: 3
    module: files.write
    with: {dir: "$dir/out", name: "{{2.file.name}}", data: "{{2.file}}"}
EOF
	# Write the new input back now, not while the run is measured.
	sync "$dir/input.docx" 2>/dev/null || sync
	# In the background, so a signal to this script is handled at once
	# (bash runs traps only between foreground commands).
	CLOUDCONVERT_API_KEY=$key "$measure" -t "$((run_timeout + 60))" -o "$dir/run.json" \
		"$ctl" --state-dir "$dir/state" --connections "$work/connections.yaml" \
		--json run "$dir/scenario.yaml" >"$dir/measure.out" &
	measure_pid=$!
	wait "$measure_pid"
	measure_pid=
	local line
	line=$(cat "$dir/measure.out")
	local kv status=
	for kv in $line; do
		case ${kv%%=*} in
		exit) status=${kv#*=} ;;
		wall_s) r_wall=${kv#*=} ;;
		user_s) r_user=${kv#*=} ;;
		sys_s) r_sys=${kv#*=} ;;
		peak_rss_kib) r_peak_kib=${kv#*=} ;;
		rss_samples_kib) r_samples=${kv#*=} ;;
		esac
	done
	r_ops='' r_out_bytes=0
	if [[ $status != 0 ]]; then
		echo "$label: scenarioctl exit $status" >&2
		cat "$dir/run.json" >&2
		failed=1
		r_ok=no
		return
	fi
	# Per-module durations from the store.
	local id
	id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["execution_id"])' \
		"$dir/run.json")
	"$ctl" --state-dir "$dir/state" --json execution "$id" >"$dir/execution.json"
	r_ops=$(python3 "$here/phases.py" "$dir/execution.json" "$base" || true)

	# The fake's convert writes "FAKECC convert pdf {sha256(input)}\n" and
	# then the input; hash both sides as streams.
	local in_sha expected got out
	out=$dir/out/input.pdf
	in_sha=$(sha256sum "$dir/input.docx" | cut -d' ' -f1)
	expected=$({ printf 'FAKECC convert pdf %s\n' "$in_sha"; cat "$dir/input.docx"; } |
		sha256sum | cut -d' ' -f1)
	got=$(sha256sum "$out" 2>/dev/null | cut -d' ' -f1 || true)
	if [[ $got == "$expected" ]]; then
		r_ok=yes
	else
		echo "$label: the output's sha256 is '$got', expected $expected" >&2
		failed=1
		r_ok=no
	fi
	r_out_bytes=$(stat -c %s "$out" 2>/dev/null || echo 0)
	# Free the disk (ours and the fake's) before the next run.
	rm -rf "$dir"
	python3 -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/__admin/reset", method="POST"),
                       timeout=60)' "$base" || true
}

report() {
	local label=$1 bytes=$2
	local mibps
	mibps=$(awk -v b="$bytes" -v s="$r_wall" 'BEGIN { printf "%.1f", b / 1048576 / s }')
	printf '%-9s %8s MiB  wall %7.2f s  %7s MiB/s  user %6.2f s  sys %6.2f s  peak RSS %6.1f MiB\n' \
		"$label" "$(mib "$bytes")" "$r_wall" "$mibps" "$r_user" "$r_sys" \
		"$(awk -v k="$r_peak_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
	printf '          output %s bytes, as the fake converts the input: %s\n' "$r_out_bytes" "$r_ok"
	[[ -n $r_ops ]] && printf '%s\n' "$r_ops" | sed 's/^/          /'
	printf '          RSS samples (KiB): %s\n' "$r_samples"
}

echo "scenarioctl: $ctl"
echo "input: $input_kind; fake server: $base"
echo

run_one reference "$ref_size"
if ((failed)); then
	exit 1
fi
ref_peak=$r_peak_kib
report reference "$ref_size"
ref_ok=$r_ok

run_one large "$size"
if ((failed)) && [[ -z $r_ops ]]; then
	exit 1
fi
report large "$size"

fake_hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$fake_pid/status" 2>/dev/null || echo 0)

echo
echo "== summary =="
awk -v size="$size" -v ref="$ref_size" -v peak="$r_peak_kib" -v refpeak="$ref_peak" \
	-v wall="$r_wall" -v cpu="$(awk -v u="$r_user" -v s="$r_sys" 'BEGIN { print u + s }')" \
	-v fake="$fake_hwm" 'BEGIN {
	printf "file size                          %10.1f MiB\n", size / 1048576
	printf "wall time                          %10.2f s\n", wall
	printf "throughput (file bytes / wall)     %10.1f MiB/s\n", size / 1048576 / wall
	printf "scenarioctl CPU (user + sys)       %10.2f s  (%.2f s per GiB)\n", cpu,
		cpu * 1073741824 / size
	printf "peak RSS of scenarioctl            %10.1f MiB\n", peak / 1024
	printf "peak RSS / file size               %10.5f\n", peak * 1024 / size
	printf "peak RSS, reference (%6.1f MiB)   %10.1f MiB\n", ref / 1048576, refpeak / 1024
	printf "peak RSS ratio large / reference   %10.3f  (flat: ~1; file sizes %.0fx)\n",
		peak / refpeak, size / ref
	printf "fake server peak RSS               %10.1f MiB  (the fake, not scenarioctl)\n",
		fake / 1024
}'
printf 'output bytes as the fake converts them: reference %s, large %s\n' "$ref_ok" "$r_ok"
if ((failed)); then
	exit 1
fi
# A client that buffered even a tenth of the file would be far past this.
if ((r_peak_kib * 4 > ref_peak * 5)); then
	echo "peak RSS grew with the file size (more than 1.25x the reference)"
	exit 3
fi
