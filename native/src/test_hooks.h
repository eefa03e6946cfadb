/* SPDX-License-Identifier: MIT */
/*
 * test_hooks.h - seams that let native/tests widen race windows
 * deterministically. Private: reached only by the library's sources
 * (through internal.h) and by native/tests; not installed, not API.
 *
 * The symbols are exported (padata_test_ prefix, like padata_test_set_seq)
 * so the suites can reach them in libpadata.so. Every hook is NULL in normal use: the library pays one
 * relaxed load and a predicted branch where it checks one. A suite that
 * sets a hook clears it again before it returns.
 */
#ifndef PADATA_TEST_HOOKS_H
#define PADATA_TEST_HOOKS_H

#include <stdint.h>
#include <linux/padata.h>

PADATA_BEGIN_DECLS

struct padata_test_hooks {
	/*
	 * queue_work_on(): called by the queueing thread after the first and
	 * before the second of its two flush-accounting steps (counting the
	 * item in the per-CPU "queued" total and publishing it on the per-CPU
	 * queue), for every item it queues. Stalling here stalls a queuer
	 * half-way.
	 */
	void (*queue_between)(struct work_struct *work);
	/*
	 * padata__wq_wait() (flush_work, flush_workqueue and every padata
	 * drain): called by the waiting thread each time its condition was
	 * false and it is about to sleep.
	 */
	void (*wait_sleep)(struct workqueue_struct *wq);
	/*
	 * padata.c's pd_drain_wait(): called by the last waiter to leave, after it
	 * has left the waiter count and before it clears the control word's
	 * waiting flag.
	 */
	void (*drain_leave)(void);
	/*
	 * padata_do_parallel_wait(): called by a waiting submitter each time
	 * it is about to sleep (its checks said "wait").
	 */
	void (*submit_sleep)(void);
	/*
	 * Called by a serial worker once per wake-up of a waiting submitter
	 * because room came back (the low-water mark, decided per serial
	 * batch), with the jobs it saw in flight and the mark; not for the
	 * wake-ups of stop, free and mask changes.
	 */
	void (*submit_wake)(uint32_t in_flight, uint32_t mark);
	/*
	 * padata_do_parallel_wait(): called by the first waiting submitter
	 * when it runs again after a wake-up (before it looks at the jobs in
	 * flight to move the low-water mark, sub_mark.h). Stalling here is a
	 * slow wake-up.
	 */
	void (*submit_woken)(void);
	/*
	 * padata_do_parallel() and its variants: called by the submitting
	 * thread for each accepted job with its sequence number and the
	 * parallel CPU picked for it, before the job is queued there.
	 */
	void (*pick)(uint32_t seq, int cpu);
	/*
	 * The workqueue: called by a worker with nothing to do once it has
	 * marked itself parked and is about to sleep; from here until it runs
	 * again padata_do_parallel() sees it parked (no runs sent its way).
	 */
	void (*park)(int cpu);
	/*
	 * padata.c's pd_parallel_work(): called by a worker when the parallel
	 * work item of its CPU starts, before the worker counts as busy and
	 * takes its queue. Stalling here holds jobs in the queue while their
	 * submitters see the worker idle.
	 */
	void (*parallel_enter)(int cpu);
};

/* Set and cleared by tests with __atomic stores; read relaxed. */
PADATA_API extern struct padata_test_hooks padata_test_hooks;

/*
 * Adds @delta (may be negative) to the count of references held on
 * @pinst by threads outside its workers, as if @delta more (or fewer)
 * threads were inside padata_do_parallel() or a foreign
 * padata_do_serial(). A test removes what it added before padata_free().
 * Return: 0, or -EINVAL for NULL.
 */
PADATA_API int padata_test_add_refs(struct padata_instance *pinst, int32_t delta);

/*
 * The topology's sysfs reader, on a file the test made: parses the CPU
 * list in @path into @m (left alone on failure).
 * Return: 0; the negative errno of fopen() (-ENOENT: no such file);
 * -EINVAL for NULL, a malformed or an empty list; -ERANGE for a CPU
 * >= NR_CPUS.
 */
PADATA_API int padata_test_read_cpulist_file(const char *path, struct cpumask *m);

/*
 * What the library does at load with /sys/devices/system/cpu, on @dir:
 * @possible from @dir/possible (else sysconf(_SC_NPROCESSORS_CONF) CPUs,
 * clamped to 1..NR_CPUS), @online from @dir/online (else @possible),
 * limited to @possible. Touches no global state.
 * Return: 0, or -EINVAL for NULL.
 */
PADATA_API int padata_test_read_sysfs_topology(const char *dir, struct cpumask *possible,
					       struct cpumask *online);

PADATA_END_DECLS

#endif /* PADATA_TEST_HOOKS_H */
