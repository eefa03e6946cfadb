# shellcheck shell=bash
# scripts/lib/deps.sh - the one place where the scripts find or install their
# tools. Sourced by scripts/test, scripts/bench, scripts/stress and scripts/fuzz.
#
# Each need_* function either succeeds (exporting what it found) or prints
# exactly what is missing and how to get it, then exits 2. Given "optional"
# as its first argument it instead says what is skipped and returns 1.
# As root on a system with apt-get, missing Debian packages are installed.
#
# Set by the caller (all optional):
#   DEPS_NAME    prefix of the messages (default "scripts")
#   DEPS_SAY     name of a function that prints one message line (default: to stderr)
#   DEPS_LOG     file that receives apt-get's output (default /dev/null)
#   DEPS_JDK_HINT  an alternative to add when no JDK can be had
# Read from the environment:
#   PADATA_NO_INSTALL=1   never run apt-get; only say what is missing
#   JAVA_HOME             the JDK to use, when it is new enough

# The one JDK minimum of the project (the current LTS).
PADATA_JDK_MIN=25
# Debian/Ubuntu packages that provide it, tried in this order when no JDK is found.
PADATA_JDK_PACKAGES="openjdk-25-jdk-headless temurin-25-jdk"

PADATA_ROOT=${PADATA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
_deps_apt_updated=0

_deps_say() {
	if [ -n "${DEPS_SAY:-}" ]; then
		"$DEPS_SAY" "$*"
	else
		printf '%s\n' "$*" >&2
	fi
}

_deps_missing() { # what how
	_deps_say "${DEPS_NAME:-scripts}: missing: $1"
	_deps_say "${DEPS_NAME:-scripts}: to get it: $2"
	exit 2
}

# _deps_can_apt: true when we may and can run apt-get.
_deps_can_apt() {
	[ "${PADATA_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

_deps_apt_update() {
	[ "$_deps_apt_updated" = 1 ] && return 0
	_deps_apt_updated=1
	_deps_say "${DEPS_NAME:-scripts}: apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >>"${DEPS_LOG:-/dev/null}" 2>&1 || true
}

# apt_install PKG... : install Debian packages when we are root and apt-get exists.
apt_install() {
	_deps_can_apt || return 1
	_deps_apt_update
	_deps_say "${DEPS_NAME:-scripts}: apt-get install $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"${DEPS_LOG:-/dev/null}" 2>&1
}

# apt_has PKG : true when the configured apt sources have an installation candidate for PKG.
apt_has() {
	local cand
	command -v apt-cache >/dev/null 2>&1 || return 1
	_deps_can_apt && _deps_apt_update
	cand=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n1)
	[ -n "$cand" ] && [ "$cand" != "(none)" ]
}

# need_cmd CMD PKG [WHAT] : CMD on PATH, else the Debian package PKG installed.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 && return 0
	apt_install "$2" && command -v "$1" >/dev/null 2>&1 && return 0
	_deps_missing "${3:-$1} ('$1' not on PATH)" "apt-get install $2 (as root), or install it and put it on PATH"
}

# need_build_tools : CMake, a C and a C++ compiler, make.
need_build_tools() {
	need_cmd cmake cmake "CMake 3.16 or newer"
	need_cmd cc gcc "a C compiler"
	need_cmd c++ g++ "a C++ compiler"
	need_cmd make make
}

# need_gtest : GoogleTest headers and static libraries.
need_gtest() {
	local inc lib
	for inc in /usr/include /usr/local/include; do
		[ -f "$inc/gtest/gtest.h" ] || continue
		for lib in /usr/lib/*/libgtest.a /usr/lib/libgtest.a /usr/local/lib/libgtest.a; do
			[ -f "$lib" ] && return 0
		done
	done
	apt_install libgtest-dev && return 0
	_deps_missing "GoogleTest (gtest/gtest.h and libgtest.a)" "apt-get install libgtest-dev (as root)"
}

# need_tbb [optional [what is skipped]] : oneTBB (headers, or TBB_DIR naming its CMake package).
# shellcheck disable=SC2120 # the argument is optional
need_tbb() {
	if [ -f /usr/include/oneapi/tbb.h ] || [ -f /usr/local/include/oneapi/tbb.h ] || [ -n "${TBB_DIR:-}" ]; then
		return 0
	fi
	apt_install libtbb-dev && return 0
	if [ "${1:-}" = optional ]; then
		_deps_say "${DEPS_NAME:-scripts}: oneTBB not found: ${2:-its baseline is skipped}."
		_deps_say "${DEPS_NAME:-scripts}: to get it: apt-get install libtbb-dev (as root), or set TBB_DIR to oneTBB's lib/cmake/TBB"
		return 1
	fi
	_deps_missing "oneTBB" "apt-get install libtbb-dev (as root), or set TBB_DIR to oneTBB's lib/cmake/TBB"
}

_deps_have_libfuzzer() {
	local f
	for f in /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-"$(uname -m)".a \
		/usr/lib/llvm-*/lib/clang/*/lib/*/libclang_rt.fuzzer.a; do
		[ -f "$f" ] && return 0
	done
	return 1
}

# need_clang [optional] : clang with libFuzzer and the sanitizer runtimes.
# shellcheck disable=SC2120 # the argument is optional
need_clang() {
	local major pkg=clang
	command -v clang >/dev/null 2>&1 && _deps_have_libfuzzer && return 0
	if command -v clang >/dev/null 2>&1; then
		major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
		pkg="libclang-rt-${major:-14}-dev"
	fi
	if apt_install "$pkg"; then
		if ! _deps_have_libfuzzer && command -v clang >/dev/null 2>&1; then
			major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
			apt_install "libclang-rt-${major:-14}-dev" || true
		fi
		command -v clang >/dev/null 2>&1 && _deps_have_libfuzzer && return 0
	fi
	if [ "${1:-}" = optional ]; then
		_deps_say "${DEPS_NAME:-scripts}: clang with libFuzzer not found (apt-get install clang libclang-rt-<clang version>-dev): fuzzing skipped"
		return 1
	fi
	_deps_missing "clang with libFuzzer (libclang_rt.fuzzer)" \
		"apt-get install clang libclang-rt-<clang version>-dev (as root; on Debian 12: clang libclang-rt-14-dev)"
}

# jdk_major HOME : prints the feature version of the JDK at HOME (java and javac), or nothing.
jdk_major() {
	local v
	[ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
	v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 |
		sed -n 's/^ *java\.specification\.version = //p' | head -n1)
	case $v in 1.*) v=${v#1.} ;; esac
	v=${v%%.*}
	case $v in ''|*[!0-9]*) return 0 ;; esac
	printf '%s' "$v"
}

# _deps_jdk_candidates : JAVA_HOME, every JDK under /usr/lib/jvm, the one behind
# javac on PATH; each once, in that order.
_deps_jdk_candidates() {
	local d
	{
		[ -n "${JAVA_HOME:-}" ] && printf '%s\n' "$JAVA_HOME"
		for d in /usr/lib/jvm/*/; do
			[ -d "$d" ] && printf '%s\n' "${d%/}"
		done
		if command -v javac >/dev/null 2>&1; then
			d=$(readlink -f "$(command -v javac)")
			printf '%s\n' "${d%/bin/javac}"
		fi
	} | awk '!seen[$0]++'
}

# find_jdk : prints the home of a JDK >= PADATA_JDK_MIN, or nothing: JAVA_HOME when
# it qualifies, else the newest candidate. Installs nothing.
find_jdk() {
	local d v best="" bestv=0
	while IFS= read -r d; do
		v=$(jdk_major "$d")
		if [ -z "$v" ] || [ "$v" -lt "$PADATA_JDK_MIN" ]; then
			continue
		fi
		if [ "$d" = "${JAVA_HOME:-}" ]; then
			best=$d
			break
		fi
		if [ "$v" -gt "$bestv" ]; then
			best=$d
			bestv=$v
		fi
	done < <(_deps_jdk_candidates)
	printf '%s' "$best"
}

# need_jdk [optional] : exports JAVA_HOME and JAVA of a JDK >= PADATA_JDK_MIN and puts
# it first on PATH; installs one with apt-get when none is found and a package exists.
# shellcheck disable=SC2120 # the argument is optional
need_jdk() {
	local jdk pkg d v seen="" tried=""
	jdk=$(find_jdk)
	if [ -z "$jdk" ]; then
		for pkg in $PADATA_JDK_PACKAGES; do
			if apt_has "$pkg"; then
				apt_install "$pkg" && jdk=$(find_jdk)
				[ -n "$jdk" ] && break
				tried="$tried $pkg (install failed)"
			else
				tried="$tried $pkg (no apt candidate)"
			fi
		done
	fi
	if [ -z "$jdk" ]; then
		while IFS= read -r d; do
			v=$(jdk_major "$d")
			seen="$seen $d (${v:-not a JDK}),"
		done < <(_deps_jdk_candidates)
		seen=${seen%,}
		if [ "${1:-}" = optional ]; then
			_deps_say "${DEPS_NAME:-scripts}: no JDK $PADATA_JDK_MIN or newer (found:${seen:- none}); the Java part is skipped"
			return 1
		fi
		_deps_missing "a JDK $PADATA_JDK_MIN or newer (looked at JAVA_HOME, /usr/lib/jvm/*, javac on PATH; found:${seen:- none}${tried:+; apt:$tried})" \
			"Eclipse Temurin $PADATA_JDK_MIN from https://adoptium.net/temurin/releases/ (unpack the tar.gz, e.g. under /usr/lib/jvm, and set JAVA_HOME to it), or add Adoptium's apt repository (https://adoptium.net/installation/linux/) and apt-get install temurin-$PADATA_JDK_MIN-jdk${DEPS_JDK_HINT:+; $DEPS_JDK_HINT}"
	fi
	export JAVA_HOME=$jdk
	export JAVA=$jdk/bin/java
	export PATH="$JAVA_HOME/bin:$PATH"
}

# need_maven : Apache Maven on PATH.
need_maven() {
	need_cmd mvn maven "Apache Maven 3.6.3 or newer"
}

# need_workload_deps : what the real workloads (bench/c/workload_bench) use: the OpenSSL
# (libcrypto) and zlib headers and pigz. Each is optional: what is missing is installed as
# root, otherwise named with how to get it, and its workload or contender reports SKIP/MISS.
need_workload_deps() {
	local missing=""
	[ -f /usr/include/openssl/evp.h ] || apt_install libssl-dev || true
	[ -f /usr/include/openssl/evp.h ] || missing="$missing libssl-dev (aes-gcm is skipped)"
	[ -f /usr/include/zlib.h ] || apt_install zlib1g-dev || true
	[ -f /usr/include/zlib.h ] || missing="$missing zlib1g-dev (deflate is skipped)"
	command -v pigz >/dev/null 2>&1 || apt_install pigz || true
	command -v pigz >/dev/null 2>&1 || missing="$missing pigz (the pigz contender is skipped)"
	if [ -n "$missing" ]; then
		_deps_say "${DEPS_NAME:-scripts}: not found:$missing"
		_deps_say "${DEPS_NAME:-scripts}: to get them: apt-get install libssl-dev zlib1g-dev pigz (as root), then rebuild"
	fi
	return 0
}
