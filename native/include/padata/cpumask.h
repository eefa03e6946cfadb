/* SPDX-License-Identifier: MIT */
/*
 * padata/cpumask.h - CPU masks with the kernel's names, for userspace.
 *
 * Reached through <linux/padata.h> (or <linux/cpumask.h>).
 *
 * A struct cpumask is a plain bitmap of NR_CPUS bits; cpumask_var_t is an
 * array-of-one typedef (the kernel's !CONFIG_CPUMASK_OFFSTACK shape), so a
 * cpumask_var_t passes as a pointer and alloc_cpumask_var() never fails.
 *
 * All mask operations work on the whole NR_CPUS-bit storage; nr_cpu_ids is
 * the number of CPUs that exist in this process (the system's, or the
 * PADATA_NR_CPUS test topology). Every function accepts out-of-range CPU
 * numbers without touching memory outside the mask: setters ignore them and
 * cpumask_test_cpu() answers false. NULL masks are treated as empty by
 * readers and ignored by writers.
 *
 * Names: the library exports only padata_-prefixed symbols, so that the
 * kernel's names cannot collide with another library that borrowed them.
 * Each kernel name (cpumask_set_cpu, nr_cpu_ids, ...) is an object-like
 * macro for its padata_ symbol: calls, &function and assignments read as in
 * the kernel, and a debugger or binding sees padata_cpumask_set_cpu.
 *
 * CPU-number types, one per kind of argument:
 *  - a CPU a function *writes* (cpumask_set_cpu, cpumask_clear_cpu) is
 *    unsigned int, as the kernel's cpumask_set_cpu: a bit number is never
 *    negative, and one comparison with NR_CPUS rejects every bad value
 *    (a negative int converts to a huge unsigned, and is ignored);
 *  - a CPU a function *reads* or starts a search from (cpumask_test_cpu,
 *    cpumask_next) is int, as in the kernel: callers pass the results of
 *    int arithmetic and the -1 that starts an iteration, and every int gets
 *    a defined answer (false, or the next CPU).
 * The kernel's own cpumask_clear_cpu takes int; here it takes unsigned int
 * like its partner cpumask_set_cpu, so setting and clearing one CPU never
 * needs two different casts. Results (cpumask_first, cpumask_next) are
 * unsigned int, NR_CPUS meaning "none".
 *
 * Thread safety: a mask is plain memory; callers synchronize their own
 * masks. cpu_possible_mask and cpu_online_mask never change after load;
 * cpu_active_mask changes only under cpu_down()/cpu_up().
 */
#ifndef PADATA_CPUMASK_H
#define PADATA_CPUMASK_H

#include <stdbool.h>
#include <stddef.h>
#include "export.h"

PADATA_BEGIN_DECLS

/** NR_CPUS - capacity of a struct cpumask, in CPUs. */
#define NR_CPUS 1024

#define PADATA_BITS_PER_LONG (8 * (int)sizeof(unsigned long))
#define PADATA_CPUMASK_LONGS ((NR_CPUS + PADATA_BITS_PER_LONG - 1) / PADATA_BITS_PER_LONG)

/** struct cpumask - a set of CPU numbers in [0, NR_CPUS). */
struct cpumask {
	unsigned long bits[PADATA_CPUMASK_LONGS];
};

typedef struct cpumask cpumask_var_t[1];

/* Allocation flags exist for source compatibility; they change nothing. */
typedef unsigned int gfp_t;
#define GFP_KERNEL 0x0u
#define GFP_ATOMIC 0x1u

/**
 * nr_cpu_ids - number of CPU ids in this process: one more than the highest
 * possible CPU. Fixed at library load.
 */
extern PADATA_API unsigned int padata_nr_cpu_ids;
#define nr_cpu_ids padata_nr_cpu_ids

extern PADATA_API const struct cpumask *const padata_cpu_possible_mask;
extern PADATA_API const struct cpumask *const padata_cpu_online_mask;
extern PADATA_API const struct cpumask *const padata_cpu_active_mask;
/** cpu_possible_mask - CPUs that exist (system, or PADATA_NR_CPUS). */
#define cpu_possible_mask padata_cpu_possible_mask
/** cpu_online_mask - CPUs the system reports online at load. */
#define cpu_online_mask padata_cpu_online_mask
/**
 * cpu_active_mask - online CPUs in this process's affinity at load, less
 * those taken down with cpu_down(). Read it only while no cpu_down() or
 * cpu_up() runs, or copy it with padata_cpu_active_snapshot().
 */
#define cpu_active_mask padata_cpu_active_mask

/** alloc_cpumask_var - no-op for array-of-one masks; always true. */
PADATA_API bool padata_alloc_cpumask_var(cpumask_var_t *mask, gfp_t flags);
/** zalloc_cpumask_var - as alloc_cpumask_var(), and clears the mask. */
PADATA_API bool padata_zalloc_cpumask_var(cpumask_var_t *mask, gfp_t flags);
/** free_cpumask_var - no-op; accepts NULL. */
PADATA_API void padata_free_cpumask_var(struct cpumask *mask);

/** cpumask_clear - removes every CPU (the whole NR_CPUS storage). */
PADATA_API void padata_cpumask_clear(struct cpumask *dstp);
/** cpumask_setall - sets CPUs 0 .. nr_cpu_ids-1 (not the whole storage). */
PADATA_API void padata_cpumask_setall(struct cpumask *dstp);
/** cpumask_set_cpu - adds @cpu; a cpu >= NR_CPUS is ignored. */
PADATA_API void padata_cpumask_set_cpu(unsigned int cpu, struct cpumask *dstp);
/** cpumask_clear_cpu - removes @cpu; a cpu >= NR_CPUS is ignored. */
PADATA_API void padata_cpumask_clear_cpu(unsigned int cpu, struct cpumask *dstp);
/** cpumask_test_cpu - true when @cpu is in the mask; false for any out-of-range int. */
PADATA_API bool padata_cpumask_test_cpu(int cpu, const struct cpumask *cpumask);
/** cpumask_weight - number of CPUs in the mask. */
PADATA_API unsigned int padata_cpumask_weight(const struct cpumask *srcp);
/** cpumask_empty - true when the mask holds no CPU. */
PADATA_API bool padata_cpumask_empty(const struct cpumask *srcp);
/** cpumask_equal - true when both masks hold the same CPUs. */
PADATA_API bool padata_cpumask_equal(const struct cpumask *src1p, const struct cpumask *src2p);
/** cpumask_copy - *dstp = *srcp (the two may overlap). */
PADATA_API void padata_cpumask_copy(struct cpumask *dstp, const struct cpumask *srcp);
/** cpumask_and - *dstp = *src1p & *src2p; true when the result is not empty. */
PADATA_API bool padata_cpumask_and(struct cpumask *dstp, const struct cpumask *src1p,
				   const struct cpumask *src2p);
/** cpumask_or - *dstp = *src1p | *src2p. */
PADATA_API void padata_cpumask_or(struct cpumask *dstp, const struct cpumask *src1p,
				  const struct cpumask *src2p);
/** cpumask_andnot - *dstp = *src1p & ~*src2p; true when the result is not empty. */
PADATA_API bool padata_cpumask_andnot(struct cpumask *dstp, const struct cpumask *src1p,
				      const struct cpumask *src2p);
/** cpumask_first - lowest CPU in the mask, or NR_CPUS when it is empty. */
PADATA_API unsigned int padata_cpumask_first(const struct cpumask *srcp);
/** cpumask_next - lowest CPU above @n (n may be -1), or NR_CPUS when none. */
PADATA_API unsigned int padata_cpumask_next(int n, const struct cpumask *srcp);

#define alloc_cpumask_var  padata_alloc_cpumask_var
#define zalloc_cpumask_var padata_zalloc_cpumask_var
#define free_cpumask_var   padata_free_cpumask_var
#define cpumask_clear      padata_cpumask_clear
#define cpumask_setall     padata_cpumask_setall
#define cpumask_set_cpu    padata_cpumask_set_cpu
#define cpumask_clear_cpu  padata_cpumask_clear_cpu
#define cpumask_test_cpu   padata_cpumask_test_cpu
#define cpumask_weight     padata_cpumask_weight
#define cpumask_empty      padata_cpumask_empty
#define cpumask_equal      padata_cpumask_equal
#define cpumask_copy       padata_cpumask_copy
#define cpumask_and        padata_cpumask_and
#define cpumask_or         padata_cpumask_or
#define cpumask_andnot     padata_cpumask_andnot
#define cpumask_first      padata_cpumask_first
#define cpumask_next       padata_cpumask_next

/** for_each_cpu - iterate @cpu (an int or unsigned) over the CPUs in @mask. */
#define for_each_cpu(cpu, mask)                                    \
	for ((cpu) = cpumask_first(mask); (unsigned int)(cpu) < NR_CPUS; \
	     (cpu) = cpumask_next((int)(cpu), (mask)))

/**
 * cpulist_parse - parse a CPU list such as "0-3,6" or "" into @dstp.
 *
 * Whitespace around items is allowed, a trailing newline too. On error @dstp
 * is left unchanged.
 *
 * Return: 0; -EINVAL for NULL arguments or bad syntax (including a range
 * whose end is below its start); -ERANGE for a CPU >= NR_CPUS.
 */
PADATA_API int padata_cpulist_parse(const char *buf, struct cpumask *dstp);
#define cpulist_parse padata_cpulist_parse

/**
 * cpulist_scnprintf - print @srcp as a CPU list ("0-3,6") into @buf.
 *
 * Always NUL-terminates when @len > 0; output that does not fit is cut.
 * Return: the number of characters written, not counting the NUL; 0 when
 * @buf is NULL, @len <= 0 or @srcp is NULL.
 */
PADATA_API int padata_cpulist_scnprintf(char *buf, int len, const struct cpumask *srcp);
#define cpulist_scnprintf padata_cpulist_scnprintf

/**
 * padata_cpu_active_snapshot - copy cpu_active_mask consistently with
 * concurrent cpu_down()/cpu_up(). Safe from any thread; @dst NULL is ignored.
 */
PADATA_API void padata_cpu_active_snapshot(struct cpumask *dst);

/**
 * padata_cpu_to_host - the real CPU that virtual @cpu's workers are pinned
 * to: @cpu itself on the real topology, or the (cpu mod n)-th CPU of the
 * process's affinity under PADATA_NR_CPUS. -EINVAL when @cpu >= nr_cpu_ids.
 */
PADATA_API int padata_cpu_to_host(unsigned int cpu);

/** padata_nr_host_cpus - number of real CPUs in the process's affinity at load. */
PADATA_API unsigned int padata_nr_host_cpus(void);

/** padata_topology_is_virtual - true when PADATA_NR_CPUS set the topology. */
PADATA_API bool padata_topology_is_virtual(void);

PADATA_END_DECLS

#endif /* PADATA_CPUMASK_H */
