/* SPDX-License-Identifier: MIT */
/*
 * internal.h - private helpers shared by the libpadata sources. Not installed.
 *
 * Atomics use the GCC __atomic builtins on plain fields, so the public
 * structs stay free of _Atomic (they must parse as C++ too).
 */
#ifndef PADATA_INTERNAL_H
#define PADATA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/padata.h>

#include "test_hooks.h"

#define PADATA_CACHELINE 64
#define padata__aligned __attribute__((aligned(PADATA_CACHELINE)))
#define padata__unlikely(x) __builtin_expect(!!(x), 0)

#define padata__load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define padata__store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline void padata__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* futex(2) wrappers (Linux only); the wait has no timeout. */
void padata__futex_wait(uint32_t *addr, uint32_t expected);
void padata__futex_wake(uint32_t *addr, int nr);

/* --- topology (cpumask.c) ----------------------------------------- */

/*
 * Guards cpu_active_mask writers (cpu_down/cpu_up) against instance mask
 * changes: mask changes take it for reading, hotplug for writing. The lock
 * calls return 0 or the pthread error (EDEADLK: this thread holds it
 * already; EAGAIN: too many readers), which the caller must answer; the
 * unlocks cannot fail unless the library is broken, and abort if they do.
 * Every caller refuses to run on a workqueue worker or in a notifier, the
 * only places that can already hold it.
 */
int padata__hotplug_read_lock(void);
void padata__hotplug_read_unlock(void);
int padata__hotplug_write_lock(void);
void padata__hotplug_write_unlock(void);
/*
 * A pthread lock call that cannot fail unless the library itself is
 * broken failed with @err: report @what on stderr and abort, rather than
 * run on without the exclusion it was meant to give.
 */
__attribute__((noreturn, cold)) void padata__lock_failed(const char *what, int err);
/* Writers; caller holds the write lock. */
void padata__active_set(unsigned int cpu, bool on);
/* Was @cpu in the active set at library load? */
bool padata__cpu_was_active(unsigned int cpu);
/* Relaxed-atomic bit test, for masks written while others read them. */
static inline bool padata__mask_test_atomic(int cpu, const struct cpumask *m)
{
	if (cpu < 0 || cpu >= NR_CPUS)
		return false;
	unsigned long w = padata__load_relaxed(&m->bits[cpu / PADATA_BITS_PER_LONG]);
	return (w >> (cpu % PADATA_BITS_PER_LONG)) & 1ul;
}
/* Copies @src into @dst word by word with relaxed atomic stores. */
void padata__mask_store_atomic(struct cpumask *dst, const struct cpumask *src);

/* --- workqueue (workqueue.c) -------------------------------------- */

/*
 * Per-thread context of the calling thread: the workqueue whose worker it
 * is (NULL for other threads), its virtual CPU, and the padata instance
 * whose callback or notifier it is running (for -EDEADLK answers).
 */
struct padata__tls {
	struct workqueue_struct *wq;
	int cpu;
	void *in_callback;   /* struct parallel_data * of the running callback */
	void *in_notifier;   /* struct padata_instance * of the running notifier */
};
extern __thread struct padata__tls padata__self __attribute__((tls_model("initial-exec")));

/*
 * A workqueue-wide event counter that waiters park on. Anyone who drops the
 * last reference an instance's waiter is waiting for calls
 * padata__wq_signal() *after* its drop: the queue outlives every instance on
 * it, so the signal never touches freed instance memory.
 */
void padata__wq_signal(struct workqueue_struct *wq);
/* Wait until @cond(@arg) is true; pairs with padata__wq_signal(). */
void padata__wq_wait(struct workqueue_struct *wq, bool (*cond)(void *arg), void *arg);
/*
 * A thread outside the queue's workers that may signal after the last drop
 * holds the queue meanwhile; destroy_workqueue() waits for holders.
 */
void padata__wq_hold(struct workqueue_struct *wq);
/*
 * True when @cpu's worker has lately waited long for work (the moving
 * average of its waits is above the spin window of wq_idle.h, so it parks
 * at once), or never spins: a worker serving a trickle. A hint.
 */
bool padata__wq_long_waits(const struct workqueue_struct *wq, int cpu);
/*
 * True while @cpu's worker is parked: from just before its futex wait until
 * it runs again, so also while a producer's wake-up is on its way (the
 * worker cannot take work yet). A hint.
 */
bool padata__wq_parked(const struct workqueue_struct *wq, int cpu);
/* True while @cpu's worker has items queued or running (a hint). */
bool padata__wq_busy(const struct workqueue_struct *wq, int cpu);
void padata__wq_unhold(struct workqueue_struct *wq);
/* Instance accounting, so destroy_workqueue() refuses while in use. */
void padata__wq_get(struct workqueue_struct *wq);
void padata__wq_put(struct workqueue_struct *wq);

/* --- multithreaded jobs (padata_mt.c; the function is in padata.c) --- */

/**
 * struct padata__mt_view - what padata_mt.c uses of an instance; stable
 * while it holds the reference padata__mt_ref() took (the fields change
 * only during a drain, which waits for the reference).
 * @wq: the instance's workqueue.
 * @pcpu_list: the CPUs of the usable parallel mask, @pw of them.
 * @pw: weight of the usable parallel mask (at least 1).
 */
struct padata__mt_view {
	struct workqueue_struct *wq;
	const int *pcpu_list;
	unsigned int pw;
};

/*
 * With @view: refuse (-EDEADLK) on a worker of any padata workqueue or in a
 * notifier; wait out a mask change in progress; then take a reference on
 * @pinst as padata_do_parallel() does while it submits (mask changes,
 * hotplug and padata_free() wait for it, padata_stop() does not) and fill
 * @view. Return: 0; -EINVAL when not started or invalid; -EDEADLK.
 * With @view NULL: drop that reference (0); the caller must not touch
 * @pinst afterwards.
 */
int padata__mt_ref(struct padata_instance *pinst, struct padata__mt_view *view);

#endif /* PADATA_INTERNAL_H */
