# shellcheck shell=bash
# scripts/lib/deps.sh - find or install what the project's scripts need.
# Sourced by scripts/test and scripts/bench. Each need_* function either
# succeeds (exporting what it found) or prints exactly what is missing and
# how to get it, then exits 2.

PADATA_ROOT=${PADATA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
_apt_updated=0

_say() { printf '%s\n' "$*" >&2; }

_missing() { # what, how
	_say "scripts: missing: $1"
	_say "scripts: to get it: $2"
	exit 2
}

# apt_install PKG... : install Debian packages when we are root and apt exists.
apt_install() {
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		return 1
	fi
	if [ "$_apt_updated" = 0 ]; then
		_say "scripts: apt-get update"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
		_apt_updated=1
	fi
	_say "scripts: apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

need_cmd() { # cmd debian-package
	command -v "$1" >/dev/null 2>&1 && return 0
	apt_install "$2" && command -v "$1" >/dev/null 2>&1 && return 0
	_missing "$1" "apt-get install $2 (as root), or install it and put it on PATH"
}

need_build_tools() {
	need_cmd cmake cmake
	need_cmd cc gcc
	need_cmd c++ g++
	need_cmd make make
	need_cmd pkg-config pkg-config
}

need_gtest() {
	[ -f /usr/include/gtest/gtest.h ] && [ -n "$(ls /usr/lib/*/libgtest.a /usr/lib/libgtest.a 2>/dev/null)" ] && return 0
	apt_install libgtest-dev && return 0
	_missing "GoogleTest (headers and libgtest.a)" "apt-get install libgtest-dev (as root)"
}

# need_tbb [optional]: oneTBB for the parallel_pipeline baseline.
need_tbb() {
	[ -f /usr/include/oneapi/tbb.h ] && return 0
	apt_install libtbb-dev && return 0
	[ "${1:-}" = optional ] && { _say "scripts: oneTBB not found (apt-get install libtbb-dev): its baseline is skipped"; return 1; }
	_missing "oneTBB (for the parallel_pipeline baseline)" "apt-get install libtbb-dev (as root)"
}

# need_clang [optional]: clang with libFuzzer and the sanitizer runtimes.
need_clang() {
	if command -v clang >/dev/null 2>&1 && [ -n "$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ]; then
		return 0
	fi
	apt_install clang libclang-rt-14-dev && return 0
	[ "${1:-}" = optional ] && { _say "scripts: clang/libFuzzer not found (apt-get install clang libclang-rt-14-dev): fuzzing skipped"; return 1; }
	_missing "clang with libFuzzer" "apt-get install clang libclang-rt-14-dev (as root)"
}

_java_major() { # path-to-java -> major version
	"$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n1
}

# need_jdk: exports JAVA_HOME of a JDK >= 22 (25 preferred).
need_jdk() {
	local cand best="" best_v=0 v
	for cand in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* /opt/jdk*; do
		[ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
		v=$(_java_major "$cand/bin/java")
		case "$v" in ''|*[!0-9]*) continue ;; esac
		if [ "$v" -ge 22 ] && [ "$v" -gt "$best_v" ]; then best=$cand; best_v=$v; fi
	done
	if [ -z "$best" ]; then
		apt_install openjdk-25-jdk-headless || apt_install openjdk-23-jdk-headless || apt_install openjdk-22-jdk-headless || true
		for cand in /usr/lib/jvm/*; do
			[ -x "$cand/bin/javac" ] || continue
			v=$(_java_major "$cand/bin/java")
			case "$v" in ''|*[!0-9]*) continue ;; esac
			if [ "$v" -ge 22 ] && [ "$v" -gt "$best_v" ]; then best=$cand; best_v=$v; fi
		done
	fi
	[ -n "$best" ] || _missing "a JDK 22 or newer (found none in JAVA_HOME or /usr/lib/jvm)" \
		"install JDK 25 (e.g. Eclipse Temurin 25 from adoptium.net, or your distribution's openjdk-25-jdk) and set JAVA_HOME to it"
	export JAVA_HOME=$best
	export PATH="$JAVA_HOME/bin:$PATH"
}

need_maven() {
	need_cmd mvn maven
}
