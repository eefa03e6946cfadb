/* SPDX-License-Identifier: MIT */
/*
 * abi.c - sizes and offsets of the public structs, for bindings that
 * declare the layouts themselves (the Java front end checks them in a
 * test); _Static_asserts guard the layout this side promises.
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"

_Static_assert(sizeof(void *) == 8, "libpadata's bindings assume LP64");
_Static_assert(offsetof(struct padata_priv, parallel) == 32, "padata_priv layout changed");
_Static_assert(sizeof(struct padata_priv) == 48, "padata_priv layout changed");
_Static_assert(sizeof(struct work_struct) == 32, "work_struct layout changed");
_Static_assert(sizeof(struct notifier_block) == 24, "notifier_block layout changed");
_Static_assert(sizeof(struct cpumask) == NR_CPUS / 8, "cpumask layout changed");
_Static_assert(sizeof(struct padata_cpumask) == 2 * sizeof(struct cpumask),
	       "padata_cpumask layout changed");
_Static_assert(offsetof(struct padata_mt_job, max_threads) == 48 &&
		       sizeof(struct padata_mt_job) == 56,
	       "padata_mt_job layout changed");
_Static_assert(sizeof(struct padata_stats) == 48 && offsetof(struct padata_stats, reorder_depth) == 24,
	       "padata_stats layout changed");

#define SIZE(t) { "sizeof(" #t ")", sizeof(t) }
#define OFF(t, f) { "offsetof(" #t ", " #f ")", offsetof(t, f) }

static const struct {
	const char *name;
	size_t value;
} table[] = {
	SIZE(struct padata_priv),
	OFF(struct padata_priv, next),
	OFF(struct padata_priv, pd),
	OFF(struct padata_priv, seq_nr),
	OFF(struct padata_priv, cb_cpu),
	OFF(struct padata_priv, info),
	OFF(struct padata_priv, state),
	OFF(struct padata_priv, parallel),
	OFF(struct padata_priv, serial),
	SIZE(struct work_struct),
	OFF(struct work_struct, data),
	OFF(struct work_struct, entry_next),
	OFF(struct work_struct, wq),
	OFF(struct work_struct, func),
	SIZE(struct notifier_block),
	OFF(struct notifier_block, notifier_call),
	OFF(struct notifier_block, next),
	OFF(struct notifier_block, priority),
	SIZE(struct cpumask),
	OFF(struct cpumask, bits),
	SIZE(struct padata_cpumask),
	OFF(struct padata_cpumask, pcpu),
	OFF(struct padata_cpumask, cbcpu),
	SIZE(struct padata_mt_job),
	OFF(struct padata_mt_job, thread_fn),
	OFF(struct padata_mt_job, fn_arg),
	OFF(struct padata_mt_job, start),
	OFF(struct padata_mt_job, size),
	OFF(struct padata_mt_job, align),
	OFF(struct padata_mt_job, min_chunk),
	OFF(struct padata_mt_job, max_threads),
	SIZE(struct padata_stats),
	OFF(struct padata_stats, accepted),
	OFF(struct padata_stats, completed),
	OFF(struct padata_stats, busy),
	OFF(struct padata_stats, reorder_depth),
	OFF(struct padata_stats, reorder_depth_max),
	OFF(struct padata_stats, in_flight),
	OFF(struct padata_stats, limit),
	OFF(struct padata_stats, waiting_submitters),
	{ "NR_CPUS", NR_CPUS },
	{ "MAX_OBJ_NUM", MAX_OBJ_NUM },
	{ "PADATA_MAX_INFLIGHT_LIMIT", PADATA_MAX_INFLIGHT_LIMIT },
	{ "PADATA_BATCH_MAX", PADATA_BATCH_MAX },
	{ "PADATA_BATCH_CLAIMING", (size_t)(uintptr_t)PADATA_BATCH_CLAIMING },
	{ "PADATA_CPU_SERIAL", PADATA_CPU_SERIAL },
	{ "PADATA_CPU_PARALLEL", PADATA_CPU_PARALLEL },
};

long padata_abi_query(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].name, name) == 0)
			return (long)table[i].value;
	return -1;
}
