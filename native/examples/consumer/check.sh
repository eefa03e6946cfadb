#!/bin/sh
# check.sh BUILD_DIR - install libpadata from BUILD_DIR into a temporary
# prefix, check the installed layout (nothing in <prefix>/include/linux, the
# system's kernel-header directory; only padata_ symbols exported), then
# build and run consumer.c against the installed copy twice:
#   1. this directory as a CMake project: find_package(padata CONFIG) with
#      CMAKE_PREFIX_PATH=<prefix>, linking padata::padata only;
#   2. cc consumer.c $(pkg-config --cflags --libs padata) with
#      PKG_CONFIG_PATH=<the installed pkgconfig dir>.
# Exits non-zero (saying why) if any step fails. Needs cmake, cc, pkg-config
# and nm.
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

step "installed layout: nothing in include/linux, only padata_ symbols"
if [ -e "$prefix/include/linux" ]; then
	echo "check.sh: the install put files into $prefix/include/linux (the kernel's headers' place):" >&2
	find "$prefix/include/linux" >&2
	exit 1
fi
if [ ! -f "$prefix/include/padata/compat/linux/padata.h" ]; then
	echo "check.sh: no $prefix/include/padata/compat/linux/padata.h installed" >&2
	exit 1
fi
lib=$(find "$prefix" -name 'libpadata.so.*.*' | head -n 1)
if [ -z "$lib" ]; then
	echo "check.sh: no libpadata.so.X.Y installed under $prefix" >&2
	exit 1
fi
foreign=$(nm -D --defined-only "$lib" | awk '$3 !~ /^padata_[A-Za-z0-9]/ { print $3 }')
if [ -n "$foreign" ]; then
	echo "check.sh: $lib exports symbols outside the padata_ namespace:" >&2
	echo "$foreign" >&2
	exit 1
fi

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

step "pkg-config: <padata/padata.h> alone compiles too"
printf '#include <padata/padata.h>\nint main(void) { return padata_cpumask_weight(cpu_possible_mask) == 0; }\n' \
	>"$tmp/prefixed.c"
# shellcheck disable=SC2046 # word splitting of the flags is intended
cc -Wall -Werror -o "$tmp/prefixed" "$tmp/prefixed.c" $(pkg-config --cflags --libs padata)
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$tmp/prefixed"

step "consumer OK"
