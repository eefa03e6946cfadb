/* SPDX-License-Identifier: MIT */
/* linux/notifier.h - the kernel's header name for <padata/notifier.h>. */
#include <padata/notifier.h>
