#!/bin/sh
# Installs everything scenariod's build, demo and tests need on Debian 12.
# Idempotent: packages already present are left alone. Must run as root
# (or through sudo when it is available).
set -eu

packages="
build-essential
pkg-config
meson
ninja-build
python3
libuv1-dev
libcurl4-openssl-dev
libyaml-dev
libcjson-dev
libsqlite3-dev
libmicrohttpd-dev
libssl-dev
libsystemd-dev
libcmocka-dev
sqlite3
valgrind
clang-format
ca-certificates
tzdata
git
curl
"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=""
elif command -v sudo >/dev/null 2>&1; then
	as_root="sudo"
else
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi

echo "install-deps: installing$missing"
$as_root apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -q --no-install-recommends $missing
