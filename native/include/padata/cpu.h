/* SPDX-License-Identifier: MIT */
/*
 * padata/cpu.h - simulated CPU hotplug for this process.
 *
 * Reached through <linux/padata.h> (or <linux/cpu.h>).
 *
 * Taking a CPU down removes it from cpu_active_mask; every padata instance
 * then recomputes its usable masks as a real hotplug would: it refuses new
 * jobs with -EBUSY while it drains the jobs already accepted (async
 * completions included), switches to the new masks, and calls its cpumask
 * notifiers. Workers of a down CPU stay alive; padata stops using them.
 *
 * cpu_down and cpu_up are macros for the exported padata_cpu_down and
 * padata_cpu_up (see padata/cpumask.h on names).
 */
#ifndef PADATA_CPU_H
#define PADATA_CPU_H

#include "export.h"

PADATA_BEGIN_DECLS

/**
 * cpu_down - take @cpu out of cpu_active_mask. Blocks until every instance
 * has drained and switched masks.
 * Return: 0 (also when it was already down); -EINVAL when @cpu >= nr_cpu_ids
 * or was never active in this process; -EBUSY when it is the last active
 * CPU; -EDEADLK from a workqueue worker or a padata callback or notifier.
 */
PADATA_API int padata_cpu_down(unsigned int cpu);
#define cpu_down padata_cpu_down

/**
 * cpu_up - put @cpu back into cpu_active_mask; same draining as cpu_down().
 * Return: 0 (also when it was already up); -EINVAL when @cpu >= nr_cpu_ids
 * or was never active in this process; -EDEADLK as for cpu_down().
 */
PADATA_API int padata_cpu_up(unsigned int cpu);
#define cpu_up padata_cpu_up

PADATA_END_DECLS

#endif /* PADATA_CPU_H */
