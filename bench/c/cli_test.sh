#!/bin/sh
# SPDX-License-Identifier: MIT
# cli_test.sh RC TEXT PROGRAM [ARGS...] - runs PROGRAM ARGS and passes when it
# exits RC and prints TEXT (a fixed string): for RC 2 (a usage error) on
# stderr, with nothing on stdout (no JSON line); otherwise on stdout.
# Registered by bench/c/CMakeLists.txt (the bench_cli_* tests).
rc_want=$1 text=$2
shift 2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
rc=$?
if [ "$rc" != "$rc_want" ]; then
	echo "FAIL: exit $rc, expected $rc_want: $*" >&2
	cat "$err" >&2
	exit 1
fi
where=$out
if [ "$rc_want" = 2 ]; then
	where=$err
	if [ -s "$out" ]; then
		echo "FAIL: a usage error printed on stdout: $*" >&2
		cat "$out" >&2
		exit 1
	fi
fi
if ! grep -qF -- "$text" "$where"; then
	echo "FAIL: expected \"$text\" from: $*; it printed:" >&2
	cat "$where" >&2
	exit 1
fi
echo "ok: $* -> exit $rc: $(grep -F -- "$text" "$where" | head -1)"
