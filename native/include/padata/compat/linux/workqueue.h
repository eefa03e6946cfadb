/* SPDX-License-Identifier: MIT */
/* linux/workqueue.h - the kernel's header name for <padata/workqueue.h>. */
#include <padata/workqueue.h>
