/* SPDX-License-Identifier: MIT */
/* linux/cpumask.h - the kernel's header name for <padata/cpumask.h>. */
#include <padata/cpumask.h>
