#!/bin/sh
# The house rules a compiler does not check: kernel formatting
# (.clang-format) and the banned functions of style.md §3.9.
set -eu
cd "$(dirname "$0")/.."

files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
status=0

if command -v clang-format >/dev/null 2>&1; then
	for f in $files; do
		if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
			echo "style: $f is not formatted (run: clang-format -i $f)"
			status=1
		fi
	done
else
	echo "style: clang-format is not installed (scripts/install-deps.sh installs it)"
	status=1
fi

# sprintf, strcpy, strcat, strtok, atoi, gets, system: unbounded or
# unchecked; exit() belongs to main() alone.
banned='\<(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets|system)[[:space:]]*\('
if grep -nE "$banned" $files; then
	echo "style: banned function (see style.md 3.9)"
	status=1
fi
if grep -nE '\<exit[[:space:]]*\(' $files | grep -v '/main\.c:'; then
	echo "style: exit() outside main.c"
	status=1
fi
exit $status
