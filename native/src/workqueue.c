/* SPDX-License-Identifier: MIT */
/*
 * workqueue.c - per-CPU workers fed by lock-free queues.
 *
 * Each CPU's queue is an intrusive Treiber stack of work items: producers
 * push with a CAS (any thread, lock-free), the single consumer (the CPU's
 * worker) takes the whole stack with one exchange and reverses it, so each
 * wake-up drains everything queued so far, in FIFO order.
 *
 * work_struct.data: bit 0 = pending, bits 1.. = number of running
 * instances (2 per run). Queueing sets the pending bit; the worker turns
 * "pending" into "running" with a single fetch_add(1) (1 -> 2) so the item
 * can be queued again while it runs.
 *
 * Idling: a worker whose queue runs dry polls it ("spins") only when its
 * recent waits say work comes back soon, else it parks at once (wq_idle.h
 * has the rule: spin while the moving average of its recent waits is at
 * most PADATA_SPIN_US / 20, for 4 times that average, never longer than
 * PADATA_SPIN_US, default 1000 µs). A trickle of jobs (one per 100 µs or
 * slower) thus costs a wake-up per job and no polling; a burst or a
 * saturated queue keeps the workers polling. Only the worker reads and
 * writes its wait statistics; it publishes one bit of them, "my waits are
 * long" (long_waits, relaxed, once per wait), which padata.c reads as a
 * hint when it picks a parallel CPU (padata__wq_long_waits()).
 *
 * Parking: the worker stores sleeping = 1 and re-checks its queue before
 * futex_wait(); a producer pushes, then reads sleeping (both seq_cst: a
 * Dekker pair), and wakes the worker if it parked. Neither side can miss
 * the other. Spinning only delays the park: the protocol is the same
 * whatever the rule decides.
 *
 * Memory orders follow the C11 model, not x86: every acquire, release,
 * acq_rel or seq_cst operation names the operation it pairs with; a
 * relaxed one says why nothing needs to pair. "Dekker" marks a
 * store-buffering pair (each side writes, then reads what the other
 * writes): both sides must be seq_cst, acquire/release is not enough.
 *
 * Naming: the public calls are padata_*, helpers shared with padata.c
 * padata__wq_*, and every static function here is wq_* (wq_park,
 * wq_run_list, ...), so a stack trace names its module.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "wq_idle.h"

#define WORK_PENDING 1ul
#define WORK_RUNNING 2ul

struct wq_cpu {
	/* producer side: pushed by any thread */
	struct work_struct *head padata__aligned;
	uint32_t sleeping;              /* 1 while the worker is (about to be) parked */
	uint64_t queued;                /* items pushed, for flush_workqueue() */
	/* consumer side: written by the worker only */
	uint64_t completed padata__aligned; /* items run to completion */
	struct padata__idle idle;       /* recent waits, for the spin rule (wq_idle.h) */
	uint8_t long_waits;             /* the spin rule says "park at once": padata__wq_long_waits() */
	struct workqueue_struct *wq;
	/* 1 from just before the worker's futex wait until it runs again: padata__wq_parked().
	 * Written by the worker only, twice per park; on a line of its own, which submitters
	 * read per job under load while the line above changes per item. */
	uint8_t parked padata__aligned;
	pthread_t thread;
	int cpu;
	bool pinned;
	bool started;
} padata__aligned;

struct workqueue_struct {
	struct wq_cpu *cpus;
	unsigned int nr;
	bool spin;                      /* spin before parking (not when oversubscribed) */
	char name[32];
	uint32_t stopping;
	int users;                      /* padata instances using the queue */
	uint32_t ev_seq padata__aligned;
	uint32_t ev_waiters;
	uint32_t holders;               /* see padata__wq_hold() */
};

struct padata_test_hooks padata_test_hooks;

__thread struct padata__tls padata__self __attribute__((tls_model("initial-exec"))) = { NULL, -1, NULL, NULL };
static __thread struct work_struct *current_work __attribute__((tls_model("initial-exec")));
/*
 * The longest an idle worker polls its queue before it parks, in ns: the
 * cap of the spin rule in wq_idle.h, which spins only while recent waits
 * were short (at most cap / 20). A parked worker costs the next producer a
 * futex wake-up and a context switch, more than a small job; polling
 * yields the CPU every few dozen checks, so a thread sharing the core (the
 * submitter, often) keeps running. Tunable with PADATA_SPIN_US (0 parks at
 * once; a larger cap widens the window); never used when the topology has
 * more virtual CPUs than real ones.
 */
static long spin_ns = 1000L * 1000;

__attribute__((constructor)) static void wq_spin_ctor(void)
{
	const char *e = getenv("PADATA_SPIN_US");
	if (e && *e) {
		char *end;
		long us = strtol(e, &end, 10);
		if (*end || us < 0 || us > 1000000)
			fprintf(stderr, "libpadata: ignoring PADATA_SPIN_US='%s': want 0..1000000\n", e);
		else
			spin_ns = us * 1000;
	}
}

static inline long wq_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Poll for work until @deadline (ns); true when some arrived. */
static bool wq_spin_for_work(struct wq_cpu *wc, long deadline)
{
	for (;;) {
		for (int i = 0; i < 64; i++) {
			/* Relaxed: a hint; the worker takes the queue with an acquire exchange. */
			if (__atomic_load_n(&wc->head, __ATOMIC_RELAXED))
				return true;
			padata__cpu_relax();
		}
		/* Relaxed: only ends the spin; wq_worker_main() decides with acquire. */
		if (__atomic_load_n(&wc->wq->stopping, __ATOMIC_RELAXED) || wq_now_ns() > deadline)
			return false;
		sched_yield();
	}
}

/* ---- futex ------------------------------------------------------------ */

void padata__futex_wait(uint32_t *addr, uint32_t expected)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

void padata__futex_wake(uint32_t *addr, int nr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, nr, NULL, NULL, 0);
}

/* ---- events ----------------------------------------------------------- */

/*
 * The signaller has just made a waiter's condition true with a seq_cst
 * write (a completion count, a reference drop...); the waiter registers in
 * ev_waiters (seq_cst), then reads ev_seq and its condition (seq_cst).
 * Dekker: either the waiter's condition read sees the write, or this load
 * sees the waiter and the ev_seq bump below makes its futex_wait return.
 */
void padata__wq_signal(struct workqueue_struct *wq)
{
	/* Dekker with the fetch_add of ev_waiters in padata__wq_wait(). */
	if (__atomic_load_n(&wq->ev_waiters, __ATOMIC_SEQ_CST)) {
		/* Release: pairs with the load of ev_seq in padata__wq_wait(), so a
		 * waiter that reads the new value also sees the condition.
		 * seq_cst keeps it after the load above in the single order. */
		__atomic_fetch_add(&wq->ev_seq, 1, __ATOMIC_SEQ_CST);
		padata__futex_wake(&wq->ev_seq, INT_MAX);
	}
}

void padata__wq_wait(struct workqueue_struct *wq, bool (*cond)(void *arg), void *arg)
{
	/* Dekker with the ev_waiters load in padata__wq_signal(). */
	__atomic_fetch_add(&wq->ev_waiters, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		/* Acquire (seq_cst, for the Dekker): pairs with the ev_seq bump in
		 * padata__wq_signal(). */
		uint32_t seq = __atomic_load_n(&wq->ev_seq, __ATOMIC_SEQ_CST);
		if (cond(arg))
			break;
		void (*hook)(struct workqueue_struct *) =
			__atomic_load_n(&padata_test_hooks.wait_sleep, __ATOMIC_RELAXED);
		if (padata__unlikely(hook != NULL))
			hook(wq);
		padata__futex_wait(&wq->ev_seq, seq);
	}
	/* Relaxed: a signaller that still sees us only wakes nobody. */
	__atomic_fetch_sub(&wq->ev_waiters, 1, __ATOMIC_RELAXED);
}

bool padata__wq_long_waits(const struct workqueue_struct *wq, int cpu)
{
	/* A worker that never spins parks after every item: always "long". */
	if (!wq->spin || spin_ns <= 0)
		return true;
	/* Relaxed: a hint (padata.c's choice of a parallel CPU is correct
	 * whatever it reads); only the worker writes it. */
	return __atomic_load_n(&wq->cpus[cpu].long_waits, __ATOMIC_RELAXED) != 0;
}

bool padata__wq_busy(const struct workqueue_struct *wq, int cpu)
{
	/* Relaxed: a hint (padata.c prefers an idle worker to wake with it,
	 * and is correct whatever it reads). */
	const struct wq_cpu *wc = &wq->cpus[cpu];
	return __atomic_load_n(&wc->queued, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&wc->completed, __ATOMIC_RELAXED);
}

bool padata__wq_parked(const struct workqueue_struct *wq, int cpu)
{
	/* Relaxed: a hint (as above); only the worker writes it. */
	return __atomic_load_n(&wq->cpus[cpu].parked, __ATOMIC_RELAXED) != 0;
}

void padata__wq_hold(struct workqueue_struct *wq)
{
	/*
	 * Relaxed: the caller's next step is the drop a waiter waits for, a
	 * release RMW of the instance's control word; the waiter (padata_free)
	 * reads it with acquire, so this increment happens before its return
	 * and hence before the holders load in destroy_workqueue(), which
	 * therefore cannot miss it.
	 */
	__atomic_fetch_add(&wq->holders, 1, __ATOMIC_RELAXED);
}

void padata__wq_unhold(struct workqueue_struct *wq)
{
	/* Last touch of @wq by this thread. Release: pairs with the acquire
	 * load of holders in destroy_workqueue() before it frees @wq. */
	__atomic_fetch_sub(&wq->holders, 1, __ATOMIC_RELEASE);
}

/* Relaxed: a misuse check only; the caller orders padata_free() before
 * destroy_workqueue(). */
void padata__wq_get(struct workqueue_struct *wq)
{
	__atomic_fetch_add(&wq->users, 1, __ATOMIC_RELAXED);
}

void padata__wq_put(struct workqueue_struct *wq)
{
	__atomic_fetch_sub(&wq->users, 1, __ATOMIC_RELAXED);
}

/* ---- worker ----------------------------------------------------------- */

static struct work_struct *wq_reverse_list(struct work_struct *w)
{
	struct work_struct *prev = NULL;
	while (w) {
		struct work_struct *next = w->entry_next;
		w->entry_next = prev;
		prev = w;
		w = next;
	}
	return prev;
}

/* Park until woken (or at once when work or a stop request is pending). */
static void wq_park(struct wq_cpu *wc)
{
	/* Dekker with queue_work_on() (push, then read sleeping) and with
	 * wq_stop_workers() (store stopping, then store sleeping = 0): store
	 * sleeping, then re-read head and stopping. */
	__atomic_store_n(&wc->sleeping, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&wc->head, __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&wc->wq->stopping, __ATOMIC_SEQ_CST)) {
		/* Relaxed: our own flag; producers only ever clear it too. */
		__atomic_store_n(&wc->sleeping, 0, __ATOMIC_RELAXED);
		return;
	}
	/* Relaxed: a hint for padata__wq_parked(). */
	__atomic_store_n(&wc->parked, 1, __ATOMIC_RELAXED);
	void (*hook)(int) = __atomic_load_n(&padata_test_hooks.park, __ATOMIC_RELAXED);
	if (padata__unlikely(hook != NULL))
		hook(wc->cpu);
	padata__futex_wait(&wc->sleeping, 1);
	/* Relaxed: a hint for padata__wq_parked(), as above. */
	__atomic_store_n(&wc->parked, 0, __ATOMIC_RELAXED);
	/* Relaxed: the caller re-reads head with acquire (wq_worker_main). */
	__atomic_store_n(&wc->sleeping, 0, __ATOMIC_RELAXED);
}

static void wq_run_list(struct wq_cpu *wc, struct work_struct *list)
{
	while (list) {
		struct work_struct *w = list;
		/* Read the link before the item can be queued again. */
		list = w->entry_next;
		/* pending -> running. Release: pairs with the acquire fetch_or in
		 * queue_work_on(): a re-queuer rewrites entry_next only after our
		 * read of it above. (The item's contents came with the acquire
		 * exchange of head; no acquire is needed here.) */
		__atomic_fetch_add(&w->data, WORK_RUNNING - WORK_PENDING, __ATOMIC_RELEASE);
		current_work = w;
		w->func(w);
		current_work = NULL;
		/* Last touch of @w: flush_work() may free it once it reads 0.
		 * Release: pairs with the load in wq_work_idle() (and with the
		 * acquire fetch_or of a later queue_work_on()); seq_cst: Dekker
		 * with padata__wq_wait()'s registration, via the signal below. */
		__atomic_fetch_sub(&w->data, WORK_RUNNING, __ATOMIC_SEQ_CST);
		/* Release: pairs with the loads of completed in wq_all_flushed() and
		 * wq_cpu_flushed(); seq_cst: the same Dekker. Only this worker
		 * writes completed. */
		__atomic_store_n(&wc->completed, wc->completed + 1, __ATOMIC_SEQ_CST);
		padata__wq_signal(wc->wq);
	}
}

static void *wq_worker_main(void *arg)
{
	struct wq_cpu *wc = arg;
	struct workqueue_struct *wq = wc->wq;
	char tname[16];
	int host = padata_cpu_to_host((unsigned int)wc->cpu);

	padata__self.wq = wq;
	padata__self.cpu = wc->cpu;
	/* Thread names hold 15 bytes: keep the CPU number, cut the name. */
	char cpu_s[12];
	int cl = snprintf(cpu_s, sizeof(cpu_s), "/%d", wc->cpu);
	snprintf(tname, sizeof(tname), "%.*s%s", (int)(sizeof(tname) - 1) - cl, wq->name, cpu_s);
	pthread_setname_np(pthread_self(), tname);
	if (host >= 0 && host < CPU_SETSIZE) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(host, &set);
		/* A CPU taken away by cpusets is survivable: run unpinned. */
		wc->pinned = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
	}

	/* When the queue was found empty (0: not waiting), and whether this
	 * wait has had its spin; both the worker's own. */
	long idle_since = 0;
	bool spun = false;
	padata__idle_init(&wc->idle, spin_ns);
	for (;;) {
		/* Acquire: pairs with the push CAS in queue_work_on(). */
		struct work_struct *list = __atomic_exchange_n(&wc->head, NULL, __ATOMIC_ACQUIRE);
		if (list) {
			if (idle_since) {
				padata__idle_note(&wc->idle, wq_now_ns() - idle_since, spin_ns);
				/* Relaxed: a hint for padata__wq_long_waits(); once per
				 * wait, not per item. */
				__atomic_store_n(&wc->long_waits,
						 padata__idle_budget(&wc->idle, spin_ns) == 0,
						 __ATOMIC_RELAXED);
				idle_since = 0;
				spun = false;
			}
			wq_run_list(wc, wq_reverse_list(list));
			continue;
		}
		if (wq->spin) {
			if (!idle_since)
				idle_since = wq_now_ns();
			/* One spin per wait: after a spurious wake-up, park again. */
			long budget = spun ? 0 : (long)padata__idle_budget(&wc->idle, spin_ns);
			spun = true;
			if (budget > 0 && wq_spin_for_work(wc, idle_since + budget))
				continue;
		}
		/* Acquire: pairs with the store in wq_stop_workers(), so every push
		 * made before destroy_workqueue() is seen by the head load
		 * (relaxed: a non-NULL head is taken by the exchange above). */
		if (__atomic_load_n(&wq->stopping, __ATOMIC_ACQUIRE) &&
		    !__atomic_load_n(&wc->head, __ATOMIC_RELAXED))
			break;
		wq_park(wc);
	}
	return NULL;
}

/* ---- public API ------------------------------------------------------- */

static void wq_stop_workers(struct workqueue_struct *wq)
{
	/* Release: pairs with the acquire load in wq_worker_main(); seq_cst:
	 * Dekker with wq_park() (with the store of sleeping below). */
	__atomic_store_n(&wq->stopping, 1, __ATOMIC_SEQ_CST);
	for (unsigned int c = 0; c < wq->nr; c++) {
		struct wq_cpu *wc = &wq->cpus[c];
		if (!wc->started)
			continue;
		/* seq_cst: the other half of the Dekker with wq_park(). */
		__atomic_store_n(&wc->sleeping, 0, __ATOMIC_SEQ_CST);
		padata__futex_wake(&wc->sleeping, 1);
	}
	for (unsigned int c = 0; c < wq->nr; c++)
		if (wq->cpus[c].started)
			pthread_join(wq->cpus[c].thread, NULL);
}

struct workqueue_struct *padata_alloc_workqueue(const char *name, unsigned int flags, int max_active)
{
	struct workqueue_struct *wq;
	sigset_t all, old;
	int err = ENOMEM;
	int rc = 0;

	(void)flags;
	if (!name || max_active < 0) {
		err = EINVAL;
		goto err_out;
	}
	wq = calloc(1, sizeof(*wq));
	if (!wq)
		goto err_out;
	wq->nr = nr_cpu_ids;
	wq->spin = !padata_topology_is_virtual() || nr_cpu_ids <= padata_nr_host_cpus();
	snprintf(wq->name, sizeof(wq->name), "%s", name);
	if (posix_memalign((void **)&wq->cpus, PADATA_CACHELINE, sizeof(*wq->cpus) * wq->nr))
		goto err_free_wq;
	memset(wq->cpus, 0, sizeof(*wq->cpus) * wq->nr);

	/* Workers never take the application's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned int c = 0; c < wq->nr; c++) {
		struct wq_cpu *wc = &wq->cpus[c];
		wc->wq = wq;
		wc->cpu = (int)c;
		wc->long_waits = 1;     /* as padata__idle_init(): a fresh worker parks */
		rc = pthread_create(&wc->thread, NULL, wq_worker_main, wc);
		if (rc)
			break;
		wc->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		/* EAGAIN whatever pthread_create() said (EAGAIN, EPERM, or ENOMEM
		 * in some C libraries): the header promises one errno for "a worker
		 * thread could not be created". */
		err = EAGAIN;
		goto err_stop_workers;
	}
	return wq;

err_stop_workers:
	wq_stop_workers(wq);   /* joins the workers started so far */
	free(wq->cpus);
err_free_wq:
	free(wq);
err_out:
	errno = err;        /* last: the unwinding above may clobber errno */
	return NULL;
}

struct workqueue_struct *padata_create_workqueue(const char *name)
{
	return alloc_workqueue(name, 0, 0);
}

void padata_destroy_workqueue(struct workqueue_struct *wq)
{
	if (!wq)
		return;
	if (padata__self.wq == wq) {
		fprintf(stderr, "libpadata: destroy_workqueue(%p) called from its own worker; ignored\n",
			(void *)wq);
		return;
	}
	int users = __atomic_load_n(&wq->users, __ATOMIC_RELAXED); /* see padata__wq_get() */
	if (users) {
		fprintf(stderr,
			"libpadata: destroy_workqueue(%p) refused: %d padata instance(s) still use it; "
			"padata_free() them first\n", (void *)wq, users);
		return;
	}
	wq_stop_workers(wq);
	/* A thread that dropped an instance's last reference may still be
	 * signalling; it is done within a few instructions. Acquire: pairs
	 * with the release in padata__wq_unhold(). */
	while (__atomic_load_n(&wq->holders, __ATOMIC_ACQUIRE))
		sched_yield();
	free(wq->cpus);
	free(wq);
}

static int wq_current_cpu(unsigned int nr)
{
	if (padata__self.wq)
		return padata__self.cpu;
	int c = sched_getcpu();
	return c < 0 ? 0 : (int)((unsigned int)c % nr);
}

bool padata_queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work)
{
	if (!wq || !work || !work->func) {
		errno = EINVAL;
		return false;
	}
	if (cpu == WORK_CPU_UNBOUND)
		cpu = wq_current_cpu(wq->nr);
	if (cpu < 0 || (unsigned int)cpu >= wq->nr) {
		errno = EINVAL;
		return false;
	}
	/* One queueing per run. Acquire: pairs with the release fetch_add
	 * (pending -> running) and fetch_sub (end of run) in wq_run_list(): the
	 * worker is done reading entry_next before we rewrite it. (What we
	 * write is published by the push below; no release is needed here.) */
	if (__atomic_fetch_or(&work->data, WORK_PENDING, __ATOMIC_ACQUIRE) & WORK_PENDING)
		return false;
	/* Release: pairs with the acquire load in flush_work(). */
	__atomic_store_n(&work->wq, wq, __ATOMIC_RELEASE);

	struct wq_cpu *wc = &wq->cpus[cpu];
	/*
	 * Count before publishing, so every item a worker can run was counted
	 * first: flush_workqueue() then never mistakes the run of an item it
	 * did not count for one it did (see there). Relaxed: the push below
	 * releases it.
	 */
	__atomic_fetch_add(&wc->queued, 1, __ATOMIC_RELAXED);
	void (*hook)(struct work_struct *) =
		__atomic_load_n(&padata_test_hooks.queue_between, __ATOMIC_RELAXED);
	if (padata__unlikely(hook != NULL))
		hook(work);
	/* Release: pairs with the acquire exchange in wq_worker_main(); seq_cst:
	 * Dekker with wq_park() (this push, then the read of sleeping below).
	 * Relaxed loads of head: only to link the item. */
	struct work_struct *head = __atomic_load_n(&wc->head, __ATOMIC_RELAXED);
	do {
		work->entry_next = head;
	} while (!__atomic_compare_exchange_n(&wc->head, &head, work, true, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	/* Dekker with wq_park(): the push above, then this read of sleeping.
	 * The exchange only picks one waker (relaxed: the futex re-checks
	 * the word itself). */
	if (__atomic_load_n(&wc->sleeping, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&wc->sleeping, 0, __ATOMIC_RELAXED))
		padata__futex_wake(&wc->sleeping, 1);
	return true;
}

bool padata_queue_work(struct workqueue_struct *wq, struct work_struct *work)
{
	return queue_work_on(WORK_CPU_UNBOUND, wq, work);
}

static bool wq_work_idle(void *arg)
{
	struct work_struct *w = arg;
	/* Acquire: pairs with the end-of-run fetch_sub in wq_run_list(); seq_cst:
	 * Dekker with it (padata__wq_wait registration). */
	return __atomic_load_n(&w->data, __ATOMIC_SEQ_CST) == 0;
}

bool padata_flush_work(struct work_struct *work)
{
	if (!work || work == current_work)
		return false;
	/* Acquire: pairs with the release store in queue_work_on(). */
	struct workqueue_struct *wq = __atomic_load_n(&work->wq, __ATOMIC_ACQUIRE);
	if (!wq || wq_work_idle(work))
		return false;
	padata__wq_wait(wq, wq_work_idle, work);
	return true;
}

struct flush_target {
	struct workqueue_struct *wq;
	uint64_t *want;
};

static bool wq_all_flushed(void *arg)
{
	struct flush_target *t = arg;
	/* Acquire: pairs with the store of completed in wq_run_list(), so the items'
	 * effects happen before flush_workqueue() returns; seq_cst: Dekker
	 * with it (padata__wq_wait registration). */
	for (unsigned int c = 0; c < t->wq->nr; c++)
		if (__atomic_load_n(&t->wq->cpus[c].completed, __ATOMIC_SEQ_CST) < t->want[c])
			return false;
	return true;
}

struct flush_cpu_target {
	struct wq_cpu *wc;
	uint64_t want;
};

static bool wq_cpu_flushed(void *arg)
{
	struct flush_cpu_target *t = arg;
	/* As in wq_all_flushed(): acquire pairs with the store of completed in
	 * wq_run_list(); seq_cst for the Dekker with padata__wq_wait(). */
	return __atomic_load_n(&t->wc->completed, __ATOMIC_SEQ_CST) >= t->want;
}

/*
 * Waits until, on every CPU, completed has reached the queued total read at the
 * call. That covers every item P whose queue_work_on() returned before the
 * call: a worker runs its CPU's items in push order, and every item pushed
 * before P was counted before its push (sequenced before that seq_cst CAS,
 * a release that P's push CAS reads through the RMW chain on head, an
 * acquire), so its count happens before our read, as P's does. The items
 * run before P are thus among those counted, and completed stays below the
 * snapshot until P has run. (Counting after the push let an uncounted item
 * ahead of P stand in for P.) Items queued concurrently with the call may
 * or may not be waited for.
 */
void padata_flush_workqueue(struct workqueue_struct *wq)
{
	if (!wq || padata__self.wq == wq)
		return;
	uint64_t *want = malloc(sizeof(*want) * wq->nr);
	if (!want) {
		/*
		 * No memory for the snapshot: take it and wait for it one CPU at a
		 * time. A later CPU's snapshot is taken later, so this may also
		 * wait for items queued during the flush, but each snapshot is
		 * finite and every wait ends (waiting for a queue to run dry would
		 * not, beside an item that re-queues itself).
		 */
		for (unsigned int c = 0; c < wq->nr; c++) {
			struct flush_cpu_target one = {
				/* Relaxed, as the snapshot below. */
				&wq->cpus[c], __atomic_load_n(&wq->cpus[c].queued, __ATOMIC_RELAXED)
			};
			padata__wq_wait(wq, wq_cpu_flushed, &one);
		}
		return;
	}
	/* Relaxed: the counts that matter happen before this call (above). */
	for (unsigned int c = 0; c < wq->nr; c++)
		want[c] = __atomic_load_n(&wq->cpus[c].queued, __ATOMIC_RELAXED);
	struct flush_target t = { wq, want };
	padata__wq_wait(wq, wq_all_flushed, &t);
	free(want);
}

int padata_current_cpu(void)
{
	return padata__self.wq ? padata__self.cpu : -1;
}
