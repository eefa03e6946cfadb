#!/bin/sh
# check.sh BUILD_DIR - install libpadata from BUILD_DIR into a temporary
# prefix, then build and run consumer.c against the installed copy twice:
#   1. this directory as a CMake project: find_package(padata CONFIG) with
#      CMAKE_PREFIX_PATH=<prefix>, linking padata::padata only;
#   2. cc consumer.c $(pkg-config --cflags --libs padata) with
#      PKG_CONFIG_PATH=<the installed pkgconfig dir>.
# Exits non-zero (saying why) if any step fails. Needs cmake, cc, pkg-config.
set -eu

if [ $# -ne 1 ] || [ ! -f "$1/CMakeCache.txt" ]; then
	echo "usage: $0 BUILD_DIR   (a configured and built libpadata tree)" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/padata-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
prefix=$tmp/prefix

step() { printf '== %s\n' "$*"; }

step "install $build into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
	cat "$tmp/install.log" >&2
	exit 1
}

step "CMake consumer: find_package(padata CONFIG REQUIRED)"
cmake -S "$here" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" 2>&1 || {
	cat "$tmp/configure.log" >&2
	exit 1
}
cmake --build "$tmp/cmake-build" >"$tmp/build.log" 2>&1 || {
	cat "$tmp/build.log" >&2
	exit 1
}
# The imported target must point into the prefix, not at the build tree.
if ! grep -rq "$prefix" "$tmp/cmake-build/CMakeFiles" 2>/dev/null; then
	echo "check.sh: the consumer did not link against $prefix" >&2
	exit 1
fi
"$tmp/cmake-build/padata_consumer"

step "pkg-config consumer: cc \$(pkg-config --cflags --libs padata)"
pc=$(find "$prefix" -name padata.pc | head -n 1)
if [ -z "$pc" ]; then
	echo "check.sh: no padata.pc installed under $prefix" >&2
	exit 1
fi
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
pc_prefix=$(pkg-config --variable=prefix padata)
if [ "$pc_prefix" != "$prefix" ] && [ "$(cd "$pc_prefix" 2>/dev/null && pwd)" != "$prefix" ]; then
	echo "check.sh: padata.pc says prefix=$pc_prefix but it was installed under $prefix" >&2
	echo "check.sh: (the .pc file is not relocatable; see native/cmake/padata.pc.in)" >&2
	exit 1
fi
libdir=$(pkg-config --variable=libdir padata)
# shellcheck disable=SC2046 # word splitting of the flags is intended
cc -o "$tmp/pkgconfig-consumer" "$here/consumer.c" $(pkg-config --cflags --libs padata)
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/pkgconfig-consumer"

step "consumer OK"
