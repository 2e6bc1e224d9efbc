#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The `systemd` test suite: systemd's own tools judge what meson installs.
#
#   check-unit.sh verify   UNIT BINDIR SCENARIOD SCENARIOCTL
#   check-unit.sh security UNIT BINDIR SCENARIOD SCENARIOCTL MAX_EXPOSURE
#   check-unit.sh files    SYSUSERS_CONF TMPFILES_CONF
#
# UNIT is the unit as configured for installation; BINDIR is where it expects
# the binaries, SCENARIOD and SCENARIOCTL the ones just built. verify and
# security work on a copy that points at the built binaries, because verify
# fails on an ExecStart= that does not exist yet. None of this needs a running
# systemd (PID 1 may be anything). Exit 0 passes, 1 fails, 77 skips: only
# when a tool is missing or proves unable to work here, and the reason is
# printed.
set -u

skip()
{
	echo "SKIP: $*"
	exit 77
}

fail()
{
	echo "FAIL: $*"
	exit 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scenariod-unit.XXXXXX") || fail "cannot create a temporary folder"
trap 'rm -rf "$tmp"' EXIT

# Writes the unit to $1/scenariod.service with the built binaries in place
# of the installed ones; fails when either Exec line was not found.
copy_unit()
{
	dest=$1
	esc=$(printf '%s' "$bindir" | sed 's/[].[^$*\\|]/\\&/g')

	[ -x "$scenariod" ] || fail "'$scenariod' has not been built"
	[ -x "$scenarioctl" ] || fail "'$scenarioctl' has not been built"
	mkdir -p "$dest"
	sed -e "s|^ExecStart=$esc/scenariod\$|ExecStart=$scenariod|" \
	    -e "s|^ExecReload=$esc/scenarioctl |ExecReload=$scenarioctl |" \
	    "$unit" >"$dest/scenariod.service" || fail "cannot copy '$unit'"
	grep -qxF "ExecStart=$scenariod" "$dest/scenariod.service" ||
		fail "no 'ExecStart=$bindir/scenariod' line in '$unit'"
	grep -qF "ExecReload=$scenarioctl " "$dest/scenariod.service" ||
		fail "no 'ExecReload=$bindir/scenarioctl ...' line in '$unit'"
}

# systemd-analyze verify prints warnings on stderr and still exits 0 for
# most of them, so the test reads what it says.
analyze_verify()
{
	systemd-analyze verify --man=no --generators=no "$1" 2>&1
}

check_verify()
{
	command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze is not installed"

	# Can it work here at all? A trivial unit must pass silently...
	mkdir -p "$tmp/probe"
	printf '[Service]\nExecStart=/bin/true\n' >"$tmp/probe/scenariod-probe.service"
	if ! out=$(analyze_verify "$tmp/probe/scenariod-probe.service"); then
		skip "systemd-analyze verify fails on a trivial unit here: $out"
	fi
	# ...and a broken copy of ours must draw a warning naming it, or an
	# empty answer below would prove nothing.
	copy_unit "$tmp/bad"
	printf '\n[Service]\nScenariodNoSuchSetting=yes\n' >>"$tmp/bad/scenariod.service"
	out=$(analyze_verify "$tmp/bad/scenariod.service")
	printf '%s\n' "$out" | grep -q 'scenariod\.service.*ScenariodNoSuchSetting' ||
		skip "systemd-analyze verify does not report a bad setting here: $out"

	copy_unit "$tmp/unit"
	out=$(analyze_verify "$tmp/unit/scenariod.service")
	rc=$?
	[ -n "$out" ] && printf '%s\n' "$out"
	[ $rc -eq 0 ] || fail "systemd-analyze verify exited $rc"
	# Lines about other units (the host's own) are not ours to fix.
	if printf '%s\n' "$out" | grep -q 'scenariod'; then
		fail "systemd-analyze verify warned about the unit"
	fi
	echo "systemd-analyze verify: no warnings for scenariod.service ($(systemd-analyze --version | head -n 1))"
}

exposure_of()
{
	printf '%s\n' "$1" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p'
}

check_security()
{
	command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze is not installed"

	mkdir -p "$tmp/probe"
	printf '[Service]\nExecStart=/bin/true\n' >"$tmp/probe/scenariod-probe.service"
	out=$(systemd-analyze security --offline=true "$tmp/probe/scenariod-probe.service" 2>&1)
	[ -n "$(exposure_of "$out")" ] ||
		skip "systemd-analyze security --offline=true cannot assess a unit here: $out"

	copy_unit "$tmp/unit"
	out=$(systemd-analyze security --offline=true "$tmp/unit/scenariod.service" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	level=$(exposure_of "$out")
	[ $rc -eq 0 ] || fail "systemd-analyze security exited $rc"
	[ -n "$level" ] || fail "no overall exposure level in the output"
	if awk -v a="$level" -v b="$max" 'BEGIN { exit !(a + 0 > b + 0) }'; then
		fail "overall exposure $level is above $max: a change weakened the sandbox"
	fi
	if awk -v a="$level" -v b="$max" 'BEGIN { exit !(a + 0 < b + 0) }'; then
		echo "note: exposure $level is below $max; lower the limit in systemd/meson.build"
	fi
	echo "overall exposure $level (limit $max)"
}

# Applies the sysusers.d and tmpfiles.d files to an empty root and checks
# the user, the group and the folders they should make.
check_files()
{
	command -v systemd-sysusers >/dev/null 2>&1 || skip "systemd-sysusers is not installed"
	root="$tmp/root"
	mkdir -p "$root/etc"

	out=$(systemd-sysusers --root="$root" "$sysusers" 2>&1) ||
		fail "systemd-sysusers: $out"
	printf '%s\n' "$out"
	uid=$(awk -F: '$1 == "scenariod" { print $3 }' "$root/etc/passwd")
	gid=$(awk -F: '$1 == "scenariod" { print $3 }' "$root/etc/group")
	[ -n "$uid" ] || fail "no user scenariod"
	[ -n "$gid" ] || fail "no group scenariod"
	awk -F: -v g="$gid" '$1 == "scenariod" && $4 == g { ok = 1 } END { exit !ok }' \
		"$root/etc/passwd" || fail "scenariod's primary group is not scenariod"
	[ "$uid" -lt 1000 ] || fail "scenariod is not a system user (uid $uid)"

	# tmpfiles has to chown, which only root may do.
	if [ "$(id -u)" -ne 0 ]; then
		echo "note: tmpfiles.d not applied (chown needs root); sysusers.d checked"
		return 0
	fi
	command -v systemd-tmpfiles >/dev/null 2>&1 || skip "systemd-tmpfiles is not installed"
	out=$(systemd-tmpfiles --root="$root" --create "$tmpfiles" 2>&1) ||
		fail "systemd-tmpfiles: $out"
	[ -z "$out" ] || { printf '%s\n' "$out"; fail "systemd-tmpfiles warned"; }
	for want in "etc/scenariod 750 0 $gid" "etc/scenariod/scenarios 750 0 $gid" \
		    "etc/scenariod/credentials 700 0 0"; do
		set -- $want
		got=$(stat -c '%a %u %g' "$root/$1") || fail "/$1 was not created"
		[ "$got" = "$2 $3 $4" ] || fail "/$1 is '$got' (mode uid gid), want '$2 $3 $4'"
		echo "/$1: $got"
	done
}

absolute()
{
	case $1 in
	/*) printf '%s' "$1" ;;
	*) printf '%s/%s' "$PWD" "$1" ;;
	esac
}

mode=${1:-}
case $mode in
verify | security)
	[ $# -ge 5 ] || fail "usage: $0 $mode UNIT BINDIR SCENARIOD SCENARIOCTL ..."
	unit=$(absolute "$2") bindir=$3 scenariod=$(absolute "$4") scenarioctl=$(absolute "$5")
	if [ "$mode" = verify ]; then
		check_verify
	else
		[ $# -ge 6 ] || fail "usage: $0 security UNIT BINDIR SCENARIOD SCENARIOCTL MAX_EXPOSURE"
		max=$6
		check_security
	fi
	;;
files)
	[ $# -ge 3 ] || fail "usage: $0 files SYSUSERS_CONF TMPFILES_CONF"
	# Relative names would be looked up in sysusers.d/tmpfiles.d instead.
	sysusers=$(absolute "$2") tmpfiles=$(absolute "$3")
	check_files
	;;
*)
	fail "usage: $0 verify|security|files ..."
	;;
esac
exit 0
