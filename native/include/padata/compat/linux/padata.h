/* SPDX-License-Identifier: MIT */
/*
 * linux/padata.h - the seed's include line. Everything a program written
 * against the kernel's padata documentation uses: padata, cpumask,
 * workqueue, notifier and simulated CPU hotplug.
 *
 * The linux/ headers live in <includedir>/padata/compat/linux/, never in
 * <includedir>/linux/ (the system's kernel headers, which they would
 * shadow). `pkg-config --cflags padata` and the CMake target padata::padata
 * put <includedir>/padata/compat on the include path, so that
 * #include <linux/padata.h> finds this file; code that does not want the
 * kernel names on its include path uses #include <padata/padata.h>.
 */
#include <padata/padata.h>
