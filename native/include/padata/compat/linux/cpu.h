/* SPDX-License-Identifier: MIT */
/* linux/cpu.h - the kernel's header name for <padata/cpu.h>. */
#include <padata/cpu.h>
