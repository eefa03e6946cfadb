/* SPDX-License-Identifier: MIT */
/*
 * linux/padata.h - the seed's include line. Everything a program written
 * against the kernel's padata documentation uses: padata, cpumask,
 * workqueue, notifier and simulated CPU hotplug.
 */
#include <padata/padata.h>
