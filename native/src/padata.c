/* SPDX-License-Identifier: MIT */
/*
 * padata.c - ordered parallel execution.
 *
 * Where a job goes, and who frees it:
 *
 *   padata_do_parallel()      takes a sequence number, pushes the job on the
 *     |                       lock-free queue of parallel CPU pcpu[seq % n]
 *     |                       (cb_cpu's when idle, its run's under load,
 *     |                       see pd_pick_cpu())
 *     v                       and queues that queue's work item
 *   pd_parallel_work()        on the CPU's worker: drains the whole queue per
 *     |                       wake-up (taking a stalled CPU's queue when its
 *     v                       own is empty) and calls parallel() per job
 *   padata_do_serial()        any thread: stores the job in the reorder ring
 *     |                       at seq & mask, then tries to become the
 *     v                       releaser (one token, never waited for)
 *   pd_reorder()              the releaser moves every consecutive finished
 *     |                       job to the serial queue of its cb_cpu, one
 *     v                       push per CPU per run
 *   pd_serial_work()          on cb_cpu's worker: serial() per job in order,
 *                             then drops the in-flight count
 *
 * Padata never frees a job; the caller owns it again from serial() on.
 * The instance (struct padata_instance, with its struct parallel_data) is
 * freed by padata_free() once the in-flight count and the reference count
 * of foreign padata_do_serial() callers (and of a callback releasing onto
 * an empty serial queue, until its queue_work_on()) are both zero and
 * every work item of the instance has returned (flush_work), so no thread
 * can touch it afterwards. Wake-ups of waiters go through the workqueue's
 * event counter, which outlives the instance.
 *
 * Shells (padata_alloc_shell()): each shell is a struct parallel_data of
 * its own - control word, sequence numbers, in-flight limit, reorder ring,
 * per-CPU queues and work items, waiting submitters - on the instance's
 * workqueue and usable masks; the instance's own pd is the default shell.
 * Everything above works per pd, so a job waits only for its own shell.
 * What belongs to the instance (start/stop, mask changes and hotplug,
 * set_max_inflight, test_set_seq, padata_free, stats) walks every pd with
 * pd_for_each(); see struct padata_shell for the list's rules.
 *
 * The control word packs what a submission must check into one atomic:
 * bits 0-31 the next sequence number (= jobs accepted, mod 2^32), bits
 * 32-59 references of threads that are not the instance's workers (a
 * submitter until it has queued the drain, a foreign padata_do_serial),
 * bit 60 WAITING (some thread waits for a drain; the waiters themselves
 * are counted in pd->waiters), and the STARTED / INVALID / CHANGING flags
 * in bits 61-63. Neither count may carry into a flag: the references are
 * bounded (see CTL_REFS), the waiters have a single bit. A submission
 * checks the flags and the in-flight limit and takes its sequence number
 * in one CAS. Jobs completed are counted per serial CPU (each by its own
 * worker, no shared write per job); jobs in flight = accepted - completed,
 * which the submitter reads from a cached sum and refreshes only near the
 * limit. A mask change sets
 * CHANGING and waits for in flight and references to reach zero, so no
 * submission can see a half-changed instance and every job accepted
 * before the change is serialized before any job accepted after it.
 *
 * Memory orders follow the C11 model, not x86 (see workqueue.c): each
 * non-relaxed operation names its partner, each relaxed one says why it
 * needs none. Two facts carry most of the reasoning:
 * - Every write of the control word after padata_alloc() is an RMW, so a
 *   release RMW of it heads a release sequence that runs to the end, and
 *   an acquire read of any later value synchronizes with it. Fields
 *   changed only while stopped or drained (masks, ring, limit,
 *   completed_base) are published by the release RMW that ends the change
 *   (the CAS in pd_finish_change(), the fetch_and in pd_while_stopped(),
 *   the CAS of padata_start()) and are seen by every submitter, which
 *   reads the control word with acquire only.
 * - A ring slot is written again (for seq + ring size) only by a job
 *   accepted after job seq's serial() returned; that acceptance reads the
 *   completion counts with acquire (directly, or through completed_cache,
 *   release/acquire), so the releaser's clear of the slot happens before
 *   the new store and cannot overwrite it.
 *
 * Words: a job's "state" is padata_priv.state (JOB_*); the instance's packed
 * atomic is the "control word" (pd->ctl, CTL_*). "Completed" counts jobs
 * whose serial() returned (per CPU: squeue.serialized); a "drained"
 * predicate says that every accepted job completed.
 *
 * Naming: the public calls are padata_*, helpers shared with the other
 * sources padata__*, and every static function here is pd_* (pd_reorder,
 * pd_steal, ...), so a stack trace names its module.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "sub_mark.h"

#define CTL_SEQ       0x00000000ffffffffull
#define CTL_REF_ONE   0x0000000100000000ull
/*
 * 28 bits of references. Each is held by a thread inside one call
 * (padata_do_parallel, a foreign padata_do_serial) and a thread holds at
 * most one per nested call of those, a handful at most; a process has
 * fewer than 2^22 threads (Linux's PID_MAX_LIMIT), so the count stays far
 * below 2^28 and never carries into CTL_WAITING. (16 bits carried at
 * 65,536 threads.)
 */
#define CTL_REFS      0x0fffffff00000000ull
#define CTL_WAITING   (1ull << 60)
#define CTL_STARTED   (1ull << 61)
#define CTL_INVALID   (1ull << 62)
#define CTL_CHANGING  (1ull << 63)

_Static_assert((CTL_SEQ & CTL_REFS) == 0 && CTL_REFS + CTL_REF_ONE == CTL_WAITING,
	       "the reference field sits between the sequence number and the flags");
_Static_assert((CTL_REFS >> 32) >= (1ull << 22) * 16,
	       "room for 16 references per thread at Linux's PID_MAX_LIMIT");

/**
 * enum job_state - where a job is, in padata_priv.state (a public field,
 * marked private in padata.h; its values are known only to this file).
 * @JOB_IDLE: the caller's; padata_do_parallel() may take it.
 * @JOB_QUEUED: accepted; parallel() has run or will run.
 * @JOB_REORDERING: padata_do_serial() was called; in the reorder ring or a
 *	serial queue until serial() runs (which first sets JOB_IDLE again).
 */
enum job_state { JOB_IDLE = 0, JOB_QUEUED = 1, JOB_REORDERING = 2 };

/* Ring entry of a sequence number whose submission was cancelled. */
#define RING_SKIP ((struct padata_priv *)1)

/* The submitter refreshes its cached completion count at least this often
 * (in sequence numbers), so the cached difference can never wrap. */
#define COMPLETED_CACHE_REFRESH 0xfffffu

/*
 * Under load, runs of PD_RUN consecutive sequence numbers share a parallel
 * CPU (pd_pick_cpu()): one ring line's worth of slots (pd_ring_new()).
 */
#define PD_RUN_SHIFT 3
#define PD_RUN (1u << PD_RUN_SHIFT)
_Static_assert(PD_RUN * sizeof(void *) == PADATA_CACHELINE, "a run fills one ring line");

/* Jobs the releaser collects before it hands them to serial queues. */
#define REORDER_BATCH 512

/**
 * struct pqueue - the parallel queue of one CPU.
 * @head: Treiber stack of submitted jobs (newest first); pushed by
 *	submitters with a CAS, taken whole by an exchange (own worker or a
 *	stealer).
 * @work: the work item that drains it (pd_parallel_work()), queued by
 *	whoever makes @head non-empty.
 * @pd: the instance's parallel data.
 * @cpu: the CPU whose queue this is.
 * @taken: the rest of the batch the worker is running, in FIFO order,
 *	while it runs one parallel(): takeable by an idle worker
 *	(pd_steal()); PD_CLAIMING while the worker claims its next job; on
 *	its own cache line, written per job.
 */
struct pqueue {
	struct padata_priv *head padata__aligned;
	struct work_struct work;
	struct parallel_data *pd;
	int cpu;
	struct padata_priv *taken padata__aligned;
} padata__aligned;

/*
 * pqueue.taken while its worker claims the next job of its batch: that job
 * is the worker's, the rest follows at once (a store, no callback in
 * between). Not a job (jobs are pointer-aligned); PADATA_BATCH_CLAIMING in
 * the public header, for bindings that claim by themselves.
 */
#define PD_CLAIMING PADATA_BATCH_CLAIMING

/**
 * struct squeue - the serial queue of one CPU.
 * @head: Treiber stack of released jobs (newest first); pushed by the
 *	releaser (pd_chains_flush()), taken whole by this CPU's worker.
 * @work: the work item that runs serial() (pd_serial_work()).
 * @pd: the instance's parallel data.
 * @cpu: the CPU whose queue this is.
 * @serialized: serial() calls returned on this CPU; written only by this
 *	CPU's worker, on its own cache line, summed mod 2^32 by
 *	pd_completed_total() and in full by padata_get_stats() (64 bits: the
 *	statistic costs the job path nothing, a 64-bit store is one store).
 * @busy: -EBUSY answers given to submitters running on this CPU (by
 *	sched_getcpu(), modulo nr_cpu_ids), for padata_get_stats(): counted
 *	on a line of the submitter's own CPU, so a submitter retrying at the
 *	limit writes no line shared with other CPUs.
 */
struct squeue {
	struct padata_priv *head padata__aligned;
	struct work_struct work;
	struct parallel_data *pd;
	int cpu;
	uint64_t serialized padata__aligned;
	uint64_t busy;
} padata__aligned;

/**
 * struct pd_sub_waiter - a thread in padata_do_parallel_wait()'s queue, on
 * its stack; linked under parallel_data.sub_lock.
 * @next: the next younger waiter.
 * @word: its futex word: bit 0 (SUBW_TURN) set when it became the first
 *	(oldest) waiter; += SUBW_EVENT per broadcast (stop, mask change...).
 */
struct pd_sub_waiter {
	struct pd_sub_waiter *next;
	uint32_t word;
};
#define SUBW_TURN  1u
#define SUBW_EVENT 2u

/**
 * struct parallel_data - the running state of an instance, grouped by who
 * writes it (one cache line per group).
 * @ctl: the control word (see the top of the file): next sequence number,
 *	references, CTL_WAITING and the CTL_STARTED / CTL_INVALID /
 *	CTL_CHANGING flags; one CAS per submission.
 * @completed_cache: a recent pd_completed_total(), never ahead of it;
 *	lets a submitter check the in-flight limit without summing.
 * @limit: the in-flight limit (padata_set_max_inflight()).
 * @pinst: the instance this is embedded in.
 * @wq: the workqueue running the instance's work items.
 * @nr: nr_cpu_ids at allocation; the length of the per-CPU arrays.
 * @pw: weight of the usable parallel mask.
 * @pw_magic: 2^64 / @pw rounded up, for pd_pick_cpu()'s seq % @pw.
 * @pcpu_list: the CPUs of the usable parallel mask, @pw of them.
 * @p_usable: the same CPUs as a mask, for pd_pick_cpu()'s test of cb_cpu;
 *	read by submitters after pd_admit() only, like @pcpu_list.
 * @cb_usable: the usable serial mask, written with relaxed atomic words
 *	while drained, read by submitters without a lock.
 * @ring: the reorder ring, indexed by seq & @ring_mask; a job's slot holds
 *	it (or RING_SKIP) from padata_do_serial() until the releaser takes it.
 * @ring_mask: ring size - 1 (a power of two, at least @limit).
 * @pq: per-CPU parallel queues, @nr of them.
 * @sq: per-CPU serial queues, @nr of them.
 * @idle: per CPU, 1 from when its worker leaves pd_parallel_work() until
 *	it enters again or somebody claims it to steal, else 0 (see "No job
 *	waits behind a busy worker"); @nr bytes on lines of their own,
 *	written when a worker enters or leaves (some thousands of times a
 *	second at saturation, not per job) and read by submitters per job,
 *	so the lines stay shared. The pointer is read-mostly.
 * @skipped: cancelled sequence numbers, counted as completed by the
 *	releaser.
 * @completed_base: offset of the completion count, moved by
 *	padata_test_set_seq().
 * @waiters: threads in pd_drain_wait() (stop, free, mask and limit
 *	changes); @ctl keeps one CTL_WAITING bit for all of them.
 * @stat_depth_max: the highest reorder depth seen (padata_get_stats());
 *	read once per release run, written only when it grows.
 * @reorder_busy: the releaser token (1 while a thread runs pd_reorder()).
 * @reorder_next: the next sequence number to release; written by the
 *	token holder, read by padata_do_serial() to defer a release.
 * @chain_top: scratch of the token holder: per-CPU chains of released
 *	jobs (newest first), pushed onto the serial queues together.
 * @chain_bottom: the oldest job of each chain.
 * @touched: the CPUs with a non-empty chain, @ntouched of them.
 * @ntouched: see @touched.
 * @sub_event: futex word of the first waiting submitter; bumped when room
 *	came back (pd_sub_room()) and by pd_sub_broadcast().
 * @sub_sleep: 1 while the first waiting submitter is (about to be) asleep
 *	on @sub_event; the serial workers read it once per batch.
 * @sub_waiters: threads inside pd_sub_wait() (padata_free() waits for 0).
 * @sub_lock: spin lock of the waiting submitters' FIFO @sub_first.
 * @sub_first: the waiting submitters, oldest first (on their stacks).
 * @sub_mark: the low-water mark's state (sub_mark.h); written by the first
 *	waiting submitter after a low-water wake-up, read by the serial
 *	workers that find @sub_sleep set.
 *
 * The fields from @pinst to @sq are read-mostly: rewritten only while
 * drained (CTL_CHANGING set, or stopped in pd_while_stopped()).
 */
struct parallel_data {
	/* Submission side: one line, one CAS per job (plus the reference drop). */
	uint64_t ctl padata__aligned;
	uint32_t completed_cache;
	unsigned int limit;

	/* Read-mostly. */
	struct padata_instance *pinst padata__aligned;
	struct workqueue_struct *wq;
	unsigned int nr;
	unsigned int pw;
	uint64_t pw_magic;
	int *pcpu_list;
	struct cpumask p_usable;
	struct cpumask cb_usable;
	struct padata_priv **ring;
	uint32_t ring_mask;
	struct pqueue *pq;
	struct squeue *sq;
	uint8_t *idle;

	/* Completion offsets and waiters. */
	uint32_t skipped padata__aligned;
	uint32_t completed_base;
	uint32_t waiters;
	uint32_t stat_depth_max;

	/* Reorder side. */
	uint32_t reorder_busy padata__aligned;
	uint32_t reorder_next padata__aligned;
	struct padata_priv **chain_top;
	struct padata_priv **chain_bottom;
	int *touched;
	int ntouched;

	/* Waiting submitters (padata_do_parallel_wait()); see pd_sub_wait(). */
	uint32_t sub_event padata__aligned;
	uint32_t sub_sleep;
	uint32_t sub_waiters;
	uint32_t sub_lock;
	uint32_t sub_mark;
	struct pd_sub_waiter *sub_first;
};

/**
 * struct padata_instance - what padata_alloc() returns (opaque to users).
 * @pd: the running state; its address never changes.
 * @lock: serializes mask changes (through their notifier chain),
 *	pd_while_stopped() and padata_free().
 * @user_pcpu: the parallel mask the user asked for.
 * @user_cbcpu: the serial mask the user asked for.
 * @nb_lock: guards @chain; held while the chain runs (pd_notify()).
 * @mask_lock: guards @usable, for padata_get_cpumask() readers.
 * @usable: the user masks and cpu_active_mask, as last applied.
 * @chain: the cpumask notifiers, by descending priority.
 * @next_inst: next in the list of instances (for hotplug), under the
 *	hotplug write lock.
 * @change_valid: the new usable masks are not empty; under @lock, from
 *	pd_update_usable() to pd_finish_change().
 * @hp_changed: pd_hotplug(): the masks that changed, under @lock.
 * @hp_next: pd_hotplug(): the next instance whose masks changed.
 * @shells: the shells of padata_alloc_shell() (see struct padata_shell),
 *	newest first. Only ever prepended to (release store, under @lock and
 *	@shells_lock) and freed by padata_free(), so any thread may walk it
 *	(acquire load of the head) while the instance lives.
 * @shells_lock: makes padata_start(), padata_stop() and the revival of a
 *	shell atomic against each other: held while the STARTED flag is set
 *	or cleared on every shell, never while waiting.
 * @batch: padata_set_batch()'s functions; written under @shells_lock
 *	while stopped and drained, read by the workers once per drained run
 *	(relaxed: the job that reaches a worker was accepted after a start
 *	that follows the write, through acquire/release pairs of the control
 *	word and the queues).
 */
struct padata_instance {
	struct parallel_data pd;
	pthread_mutex_t lock;
	struct cpumask user_pcpu, user_cbcpu;
	pthread_mutex_t nb_lock;
	pthread_mutex_t mask_lock;
	struct padata_cpumask usable;
	struct notifier_block *chain;
	struct padata_instance *next_inst;
	bool change_valid;
	unsigned long hp_changed;
	struct padata_instance *hp_next;
	struct padata_shell *shells;
	pthread_mutex_t shells_lock;
	struct {
		void (*parallel)(struct padata_priv *);
		void (*parallel_batch)(struct padata_priv *const *, unsigned int, struct padata_priv **);
		void (*serial)(struct padata_priv *);
		void (*serial_batch)(struct padata_priv *const *, unsigned int);
	} batch padata__aligned;
};

/**
 * struct padata_shell - an order domain of its own (padata_alloc_shell()):
 * a second struct parallel_data (control word, limit, reorder ring, per-CPU
 * queues and work items) on the instance's workqueue and usable masks.
 * Every instance-wide operation (start/stop, mask changes, hotplug, the
 * in-flight limit, test_set_seq, padata_free) applies to the instance's
 * own pd and to each shell's; see pd_for_each().
 * @pd: the shell's running state; jobs record it in padata_priv.pd.
 * @next: the next shell of the instance (never unlinked before padata_free).
 * @live: false once padata_free_shell() has drained it; such a shell is
 *	kept stopped and reused by the next padata_alloc_shell(). Written
 *	under the instance's lock and shells_lock.
 */
struct padata_shell {
	struct parallel_data pd;
	struct padata_shell *next;
	bool live;
};

/* The shells of @pinst; see padata_instance.shells. */
static inline struct padata_shell *pd_first_shell(struct padata_instance *pinst)
{
	/* Acquire: pairs with the release store in padata_alloc_shell(): the
	 * shell's initialisation happens before our walk reads it. */
	return __atomic_load_n(&pinst->shells, __ATOMIC_ACQUIRE);
}

/* Every parallel_data of @pinst: its own (the default shell), then each shell's. */
#define pd_for_each(pd_, pinst_, ps_)                                           \
	for ((ps_) = NULL, (pd_) = &(pinst_)->pd; (pd_);                        \
	     (ps_) = (ps_) ? (ps_)->next : pd_first_shell(pinst_),               \
	     (pd_) = (ps_) ? &(ps_)->pd : NULL)

/* Instances, for hotplug. Guarded by the hotplug lock (write side). */
static struct padata_instance *instances;

/* Per-thread: the parallel worker batch in progress, for deferred release. */
static __thread struct parallel_data *tls_parallel_pd __attribute__((tls_model("initial-exec")));
static __thread bool tls_release_deferred __attribute__((tls_model("initial-exec")));

static void pd_reorder(struct parallel_data *pd);

static inline bool pd_in_worker_of(const struct parallel_data *pd)
{
	return padata__self.wq == pd->wq;
}

/*
 * On a worker of any padata workqueue (a callback, or a work item of the
 * user's) or in a notifier: calls that take the hotplug lock would wait for
 * a mask change or hotplug that may itself be waiting for this thread (it
 * drains the instance whose callback we are in, or holds the lock while it
 * runs our notifier), so they refuse.
 */
static inline bool pd_in_padata_context(void)
{
	return padata__self.wq || padata__self.in_notifier;
}

/* The instance's mutexes are of the default type: lock and unlock fail only
 * when the library is broken (a destroyed or corrupted mutex). */
static void pd_mutex_lock(pthread_mutex_t *m)
{
	int err = pthread_mutex_lock(m);
	if (err)
		padata__lock_failed("pthread_mutex_lock", err);
}

static void pd_mutex_unlock(pthread_mutex_t *m)
{
	int err = pthread_mutex_unlock(m);
	if (err)
		padata__lock_failed("pthread_mutex_unlock", err);
}

static void pd_mutex_destroy(pthread_mutex_t *m)
{
	int err = pthread_mutex_destroy(m);
	if (err)
		padata__lock_failed("pthread_mutex_destroy", err);
}

/* ---- waiting for the counts ------------------------------------------- */

/* Jobs whose serial() returned (or that were cancelled), mod 2^32. */
static uint32_t pd_completed_total(const struct parallel_data *pd)
{
	/* Acquire: pairs with the release stores of sq->serialized in pd_serial_work(),
	 * of skipped in pd_reorder() and of completed_base in pd_apply_seq(); seq_cst:
	 * Dekker with those writers' padata__wq_signal() for waiters (for serialized:
	 * through the seq_cst fence pd_serial_work() puts before its signal). */
	uint32_t t = __atomic_load_n(&pd->completed_base, __ATOMIC_SEQ_CST) +
		     __atomic_load_n(&pd->skipped, __ATOMIC_SEQ_CST);
	for (unsigned int c = 0; c < pd->nr; c++)
		t += (uint32_t)__atomic_load_n(&pd->sq[c].serialized, __ATOMIC_SEQ_CST);
	return t;
}

/*
 * Completions first, then the control word: completions only grow and never
 * pass the sequence number, so "all accepted by the second read were
 * completed by the first" is a true drain. Read the other way round, a job
 * accepted earlier could complete in between and a reference taken in
 * between (a foreign padata_do_serial still releasing) would be missed.
 */
static bool pd_jobs_drained(void *arg)
{
	struct parallel_data *pd = arg;
	uint32_t completed = pd_completed_total(pd);
	/* Acquire: pairs with the release RMWs of the control word (drops:
	 * everything the dropper did happens before the drain); seq_cst:
	 * Dekker with pd_ctl_drop()'s signal, via padata__wq_wait(). */
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_SEQ_CST);
	return (uint32_t)s == completed;
}

static bool pd_fully_drained(void *arg)
{
	struct parallel_data *pd = arg;
	uint32_t completed = pd_completed_total(pd);
	/* As in pd_jobs_drained(). */
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_SEQ_CST);
	return !(s & CTL_REFS) && (uint32_t)s == completed;
}

/*
 * Wait for @drained(@pd) as a registered waiter: reference drops that see
 * CTL_WAITING in the control word wake waiters through the workqueue
 * (pd_ctl_drop). Any thread may wait (padata_stop has no lock), so the
 * waiters are counted in pd->waiters and the control word keeps one bit: a
 * count there overflowed into the flags (256 stoppers set CTL_STARTED).
 *
 * Every waiter sets the bit on entry; the last to leave clears it. A clear
 * can land after a newcomer's set (leaver: sub, ...; newcomer: add, set;
 * leaver: clear), so the leaver re-reads the count after its clear and,
 * when a waiter is registered, sets the bit again and signals: a drop that
 * came between the clear and the new set did not signal, and the signal
 * (or, if the newcomer has not yet joined the workqueue's waiters, its own
 * later check, which follows the new set) makes the newcomer see it. All
 * seq_cst, one total order: a newcomer whose add precedes the leaver's
 * re-read is seen by it; one whose add follows it sets the bit after the
 * clear. Against a drop, the set and the drop's CAS are RMWs of the control
 * word: either the drop comes first and the waiter's check after the set
 * sees it, or the drop sees the bit and signals.
 */
static void pd_drain_wait(struct parallel_data *pd, bool (*drained)(void *))
{
	/* Pairs with the last leaver's re-read of waiters below (one total
	 * order of the seq_cst operations on waiters and ctl). */
	__atomic_fetch_add(&pd->waiters, 1, __ATOMIC_SEQ_CST);
	/* Pairs with the CAS or fetch_sub of pd_ctl_drop() by RMW atomicity,
	 * and with a leaver's clear below by the total order. */
	__atomic_fetch_or(&pd->ctl, CTL_WAITING, __ATOMIC_SEQ_CST);
	padata__wq_wait(pd->wq, drained, pd);
	/* Pairs with a newcomer's fetch_add above. */
	if (__atomic_sub_fetch(&pd->waiters, 1, __ATOMIC_SEQ_CST) == 0) {
		void (*hook)(void) = __atomic_load_n(&padata_test_hooks.drain_leave, __ATOMIC_RELAXED);
		if (padata__unlikely(hook != NULL))
			hook();
		/* The clear, then the re-read of waiters: the Dekker pair with a
		 * newcomer's fetch_add of waiters, then its set of CTL_WAITING. */
		__atomic_fetch_and(&pd->ctl, ~CTL_WAITING, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&pd->waiters, __ATOMIC_SEQ_CST)) {
			__atomic_fetch_or(&pd->ctl, CTL_WAITING, __ATOMIC_SEQ_CST);
			padata__wq_signal(pd->wq);
		}
	}
}

/*
 * Drop @delta (references) from a thread that is not running one of @pd's
 * work items. With nobody waiting, the drop is a plain CAS and the thread
 * touches nothing afterwards. With a waiter, the drop may let padata_free()
 * return and the caller destroy the queue, so the thread holds the queue
 * (padata__wq_hold, which destroy_workqueue() waits for) across the drop
 * and the wake-up. @wq is read before the drop.
 */
static inline void pd_ctl_drop(struct parallel_data *pd, uint64_t delta,
			       struct workqueue_struct *wq)
{
	/* Relaxed: only a guess for the CAS, which re-reads. */
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_RELAXED);
	for (;;) {
		if (s & CTL_WAITING) {
			padata__wq_hold(wq);
			/* Release: pairs with the drain checks' acquire loads (our use
			 * of the instance happens before it changes or is freed);
			 * seq_cst: Dekker with padata__wq_wait() via the signal. */
			__atomic_fetch_sub(&pd->ctl, delta, __ATOMIC_SEQ_CST);
			padata__wq_signal(wq);
			padata__wq_unhold(wq);
			return;
		}
		/* Fails if pd_drain_wait() set CTL_WAITING meanwhile (RMW atomicity:
		 * either the drop precedes the set and the waiter's check sees
		 * it, or we see the bit). Release: pairs with the drain checks'
		 * acquire loads, as above. Failure relaxed: we retry. */
		if (__atomic_compare_exchange_n(&pd->ctl, &s, s - delta, true, __ATOMIC_SEQ_CST,
						__ATOMIC_RELAXED))
			return;
	}
}

/* Wait until every work item of @pd has returned. Not from its workers. */
static void pd_flush_all_work(struct parallel_data *pd)
{
	for (unsigned int c = 0; c < pd->nr; c++) {
		flush_work(&pd->pq[c].work);
		flush_work(&pd->sq[c].work);
	}
}

/* ---- parallel side ---------------------------------------------------- */

static struct padata_priv *pd_reverse_jobs(struct padata_priv *j)
{
	struct padata_priv *prev = NULL;
	while (j) {
		struct padata_priv *next = j->next;
		j->next = prev;
		prev = j;
		j = next;
	}
	return prev;
}

/*
 * No job waits behind a busy worker while another idles.
 *
 * A worker inside a long parallel() (blocked on I/O, a lock, a latch) looks
 * at its queue only when that returns. Jobs pushed to its queue meanwhile,
 * and the rest of the batch it runs (pqueue.taken), would wait for it while
 * another parallel CPU's worker sleeps: a worker steals only when its work
 * item runs, and nothing queued that item. (A Java test whose element 0
 * blocked until four later ones had started timed out so once, with runs of
 * 8 under load sending more jobs to busy queues.) So:
 * - a worker leaving pd_parallel_work() stores idle = 1, then looks once
 *   more at every queue it could take from (its own head; head and taken
 *   of each other parallel CPU); when it finds jobs it takes its flag back
 *   and goes on (pd_leave());
 * - a submitter that pushed a job to the queue of a worker inside
 *   pd_parallel_work() (idle == 0), and a worker that offers a fresh rest
 *   of its batch (taken: NULL -> jobs, pd_offer()), claim one idle worker
 *   by exchanging its flag 1 -> 0 and queue its parallel work item, which
 *   steals (pd_wake_idle()); preferably one with nothing else queued or
 *   running, whose item runs at once.
 * No lost wake-up, by a Dekker pair (all four accesses seq_cst, one total
 * order S): the leaver stores idle, then loads head and taken; the push CAS
 * of head (or the offer's store of taken) comes before the load of idle.
 * Either that load sees 1 and a worker is claimed, or the leaver's loads
 * come after the push (or offer) in S and see the job, or a later value of
 * the slot: a queue or an offer is only emptied by a worker that then runs
 * or offers what it took.
 * taken never reads NULL while jobs are left in it: a worker claims the
 * next job of its batch with a CAS to PD_CLAIMING and offers the rest at
 * once, so only the first offer of a batch is a NULL -> jobs change; a
 * leaver that sees PD_CLAIMING looks again (yielding) instead of going,
 * and stealers pass it by (pd_steal() takes with a CAS, never over it).
 * The submitter learns that a worker is inside pd_parallel_work() in time:
 * the worker's idle = 0 comes before its acq_rel exchange of its head, and
 * a push CAS that follows that exchange in head's modification order
 * synchronizes with it. Reading 1 means the worker left or is leaving
 * (or has not started this item yet): then either its last look sees the
 * job, or the push found head empty and queued the worker's item itself,
 * or whoever made head non-empty did.
 * Cost while every worker is busy: a submitter reads the target's flag
 * and, the target being busy, the others' (lines written only when a
 * worker enters or leaves); a worker pays a seq_cst store and the same
 * reads per batch, not per job. A claimed worker that finds nothing to
 * take leaves again. Measured (2026-12-01, 2-CPU VM, bench/c/padata_bench
 * FNV, alternating processes, CPUs close): the submitter's side costs
 * nothing seen; the worker's wake-ups (about 1 per 1,600 jobs at w = 0,
 * often a futex wake of a parked worker on the offering worker's path,
 * then a steal) cost 8% at w = 0 (15.5 -> 14.3 M jobs/s) and nothing seen
 * at w = 100, 1000 and on AES-GCM; the rest of this change (claims by CAS,
 * steals by CAS) measured +11% at w = 100 and +6% at w = 1000. A cheaper
 * way to the same guarantee would look at the offers when a worker parks
 * (the workqueue would need the instances that use it), so a spinning
 * worker is never woken to steal.
 * Not covered: a worker busy with something else (a long serial(), a job of
 * another instance or shell on the same workqueue) runs its queued
 * parallel item when that returns; a claim lands on such a worker only
 * when no parallel worker has nothing else to do.
 * (A review found the first version claiming a worker whose item was
 * already queued for its own queue: it ran its own job, which blocked, and
 * the job it was claimed for waited while a third worker slept;
 * placement_test's AWakeUpGoesToAWorkerWithNothingElseToDo.)
 */

/*
 * Claim one idle parallel worker other than @busy's to steal; see above.
 * First choice, a worker with nothing queued or running on its workqueue
 * (padata__wq_busy()): one busy elsewhere (a serial(), another instance's
 * or shell's job, the caller itself inside a callback) or about to drain
 * its own queue would take the job only after that. Failing one, any idle
 * one: the job then runs when that worker gets to it, not never. A claim
 * whose queue_work_on() finds the item already queued (it is about to
 * drain its own queue) does not count: look on.
 */
static void pd_wake_idle(struct parallel_data *pd, int busy)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < pd->pw; i++) {
			int v = pd->pcpu_list[i];
			/* Seq_cst: the Dekker load (see above). */
			if (v == busy || !__atomic_load_n(&pd->idle[v], __ATOMIC_SEQ_CST))
				continue;
			if (pass == 0 && padata__wq_busy(pd->wq, v))
				continue;
			/* Relaxed: it only picks the one thread that queues the
			 * item; queue_work_on() orders what the item's run needs. */
			if (__atomic_exchange_n(&pd->idle[v], 0, __ATOMIC_RELAXED) &&
			    queue_work_on(v, pd->wq, &pd->pq[v].work))
				return;
		}
	}
}

/*
 * Jobs @self could take, seen by its last look before it leaves: 1 when a
 * queue or an offer holds jobs, 2 when only a worker's PD_CLAIMING (jobs may
 * follow at once), 0 when nothing. Seq_cst loads: the Dekker pair above.
 */
static int pd_stealable(const struct parallel_data *pd, int self)
{
	int found = 0;
	if (__atomic_load_n(&pd->pq[self].head, __ATOMIC_SEQ_CST))
		return 1;
	for (unsigned int i = 0; i < pd->pw; i++) {
		int v = pd->pcpu_list[i];
		if (v == self)
			continue;
		struct padata_priv *t = __atomic_load_n(&pd->pq[v].taken, __ATOMIC_SEQ_CST);
		if ((t && t != PD_CLAIMING) || __atomic_load_n(&pd->pq[v].head, __ATOMIC_SEQ_CST))
			return 1;
		if (t)
			found = 2;
	}
	return found;
}

/*
 * Mark @pq's worker idle before it leaves pd_parallel_work(), then look
 * once more (see above). Returns true when it found jobs and took its flag
 * back: go on draining. False: leave (nothing found, or a claimer has
 * queued this CPU's item already, which will take what is there).
 */
static bool pd_leave(struct pqueue *pq)
{
	for (;;) {
		/* Seq_cst: the Dekker store (see above). */
		__atomic_store_n(&pq->pd->idle[pq->cpu], 1, __ATOMIC_SEQ_CST);
		int found = pd_stealable(pq->pd, pq->cpu);
		/* Relaxed: 0 means a claimer queued our item; either way the
		 * exchange decides alone. */
		if (!found || !__atomic_exchange_n(&pq->pd->idle[pq->cpu], 0, __ATOMIC_RELAXED))
			return false;
		if (found == 1)
			return true;
		/* A worker between its claim and its offer: a few instructions,
		 * unless it was preempted there. */
		sched_yield();
	}
}

/*
 * Take jobs that another parallel CPU's worker has not started: first the
 * rest of the batch it is running (a worker preempted by another process
 * must not hold those back), then its queue. Every take is an atomic RMW,
 * so each job ends up with exactly one worker. Returns a FIFO list.
 */
static struct padata_priv *pd_steal(struct parallel_data *pd, int self)
{
	for (unsigned int i = 0; i < pd->pw; i++) {
		int v = pd->pcpu_list[i];
		struct pqueue *vq = &pd->pq[v];
		if (v == self)
			continue;
		/* Relaxed peeks: hints; the RMWs decide. A CAS, not an exchange,
		 * for taken: PD_CLAIMING stays, and a failure re-reads the slot
		 * (the owner moved on by a job, or took the rest). Acquire: pairs
		 * with pd_offer()'s stores. */
		struct padata_priv *t = __atomic_load_n(&vq->taken, __ATOMIC_RELAXED);
		while (t && t != PD_CLAIMING) {
			if (__atomic_compare_exchange_n(&vq->taken, &t, NULL, false, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				return t;
		}
		if (__atomic_load_n(&vq->head, __ATOMIC_RELAXED)) {
			/* Acquire: pairs with the push CAS in padata_do_parallel(). */
			struct padata_priv *list = __atomic_exchange_n(&vq->head, NULL, __ATOMIC_ACQUIRE);
			if (list)
				return pd_reverse_jobs(list);
		}
	}
	return NULL;
}

/*
 * Offer @rest (the jobs after the one this worker starts next; NULL: none)
 * to idle workers. @fresh: taken holds NULL (a new list), else this
 * worker's PD_CLAIMING.
 */
static inline void pd_offer(struct pqueue *pq, struct padata_priv *rest, bool fresh)
{
	if (!fresh) {
		/* PD_CLAIMING -> rest or NULL. Release: pairs with the acquire CAS
		 * in pd_steal(). */
		__atomic_store_n(&pq->taken, rest, __ATOMIC_RELEASE);
		return;
	}
	if (!rest)
		return;
	/* NULL -> jobs. Seq_cst: the Dekker store (see above); it also
	 * releases, for pd_steal(). */
	__atomic_store_n(&pq->taken, rest, __ATOMIC_SEQ_CST);
	pd_wake_idle(pq->pd, pq->cpu);
}

/*
 * Claim @next, the first job of this worker's offer, once the job before it
 * returned: true leaves taken at PD_CLAIMING (offer next->next at once);
 * false when an idle worker took @next and the rest (taken is NULL).
 * Relaxed: a non-NULL value of taken is this worker's own store (stealers
 * only write NULL), so there is nothing to acquire.
 */
static inline bool pd_claim(struct pqueue *pq, struct padata_priv *next)
{
	return __atomic_compare_exchange_n(&pq->taken, &next, PD_CLAIMING, false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}

/*
 * Hand the run of up to PADATA_BATCH_MAX jobs at the head of @list whose
 * parallel() is @match to @batch (padata_set_batch()), every job after the
 * first takeable until @batch claims it (padata_batch_claim()), as
 * pd_run_batch() leaves them between per-job calls. @fresh as pd_offer().
 * Returns what is left of the list, claimed (taken is PD_CLAIMING), or
 * NULL (taken is NULL: nothing left, or an idle worker took it).
 */
static struct padata_priv *pd_run_parallel_batch(struct pqueue *pq, struct padata_priv *list,
						 void (*match)(struct padata_priv *),
						 void (*batch)(struct padata_priv *const *, unsigned int,
							       struct padata_priv **),
						 bool fresh)
{
	struct padata_priv *run[PADATA_BATCH_MAX];
	unsigned int n = 0;

	/* Every job of the list is still ours: nothing is takeable yet. */
	do {
		run[n++] = list;
		list = list->next;
	} while (list && n < PADATA_BATCH_MAX && list->parallel == match);
	struct padata_priv *rest = run[0]->next;
	pd_offer(pq, rest, fresh);
	batch(run, n, &pq->taken);
	if (!rest)
		return NULL;
	/* What the batch left takeable after its last claim: the jobs after
	 * the run, or NULL when they (or part of the run) were taken. Relaxed,
	 * as in pd_claim(). */
	struct padata_priv *left = __atomic_load_n(&pq->taken, __ATOMIC_RELAXED);
	if (padata__unlikely(left == PD_CLAIMING)) {
		/* The function returned between a claim's two steps: the claimed
		 * job and the ones after it can never run, and idle workers would
		 * wait for the rest for ever. A binding bug; no way on. */
		fprintf(stderr, "libpadata: a parallel batch function returned inside "
				"padata_batch_claim() (PADATA_BATCH_CLAIMING left behind); aborting\n");
		abort();
	}
	return left && pd_claim(pq, left) ? left : NULL;
}

int padata_batch_claim(struct padata_priv **takeable, struct padata_priv *job)
{
	if (!takeable || !job || job == PD_CLAIMING)
		return -EINVAL;
	/* Relaxed: a non-NULL value is the calling worker's own store (stealers
	 * only write NULL), so there is nothing to acquire; the CAS makes the
	 * take exclusive against pd_steal()'s and never leaves NULL behind
	 * while jobs remain (see "No job waits behind a busy worker"). */
	struct padata_priv *v = job;
	if (!__atomic_compare_exchange_n(takeable, &v, PD_CLAIMING, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return v ? -EINVAL : 0; /* -EINVAL: not the next one, left untouched */
	/* @job is ours and not started: its link is stable. Release: pairs
	 * with the acquire CAS in pd_steal(). */
	__atomic_store_n(takeable, job->next, __ATOMIC_RELEASE);
	return 1;
}

/* Run a FIFO list of jobs, leaving the not yet started ones takeable. */
static void pd_run_batch(struct pqueue *pq, struct padata_priv *list)
{
	struct padata_instance *pinst = pq->pd->pinst;
	/* Relaxed: see padata_instance.batch. */
	void (*match)(struct padata_priv *) = __atomic_load_n(&pinst->batch.parallel, __ATOMIC_RELAXED);
	void (*batch)(struct padata_priv *const *, unsigned int, struct padata_priv **) =
		__atomic_load_n(&pinst->batch.parallel_batch, __ATOMIC_RELAXED);
	bool fresh = true; /* taken is NULL; after a claim, PD_CLAIMING */

	while (list) {
		struct padata_priv *job = list;
		if (match && job->parallel == match) {
			list = pd_run_parallel_batch(pq, list, match, batch, fresh);
			fresh = false;
			continue;
		}
		/* parallel() may finish the job: read the link first. */
		struct padata_priv *rest = job->next;
		pd_offer(pq, rest, fresh);
		job->parallel(job);
		/* NULL when an idle worker took the rest meanwhile. */
		list = rest && pd_claim(pq, rest) ? rest : NULL;
		fresh = false;
	}
}

static void pd_parallel_work(struct work_struct *w)
{
	struct pqueue *pq = container_of(w, struct pqueue, work);
	struct parallel_data *pd = pq->pd;
	void *saved = padata__self.in_callback;

	void (*enter)(int) = __atomic_load_n(&padata_test_hooks.parallel_enter, __ATOMIC_RELAXED);
	if (padata__unlikely(enter != NULL))
		enter(pq->cpu);
	padata__self.in_callback = pd;
	tls_parallel_pd = pd;
	/* Relaxed: published to submitters by the release of the exchange
	 * below (see "No job waits behind a busy worker"). */
	__atomic_store_n(&pd->idle[pq->cpu], 0, __ATOMIC_RELAXED);
	for (;;) {
		/* Acq_rel: acquire pairs with the push CAS in padata_do_parallel();
		 * release publishes idle = 0 to later pushes. */
		struct padata_priv *list = __atomic_exchange_n(&pq->head, NULL, __ATOMIC_ACQ_REL);
		bool own = list != NULL;
		if (own)
			list = pd_reverse_jobs(list);
		else
			list = pd_steal(pd, pq->cpu);
		if (!list) {
			if (pd_leave(pq))
				continue;
			break;
		}
		pd_run_batch(pq, list);
		if (tls_release_deferred) {
			tls_release_deferred = false;
			pd_reorder(pd);
		}
		/*
		 * Serial work of this CPU waits behind this item: let it run. Jobs
		 * pushed since our exchange made the queue non-empty and so queued
		 * this item again. Draining on instead starves that serial work
		 * while submitters keep the queue full, and the pipeline then
		 * stalls on completions. Leaving, this worker looks as when it has
		 * nothing left, and comes back after the serial work if it found
		 * jobs to take.
		 */
		/* Relaxed: a scheduling hint; pd_serial_work() takes the queue. */
		if (own && __atomic_load_n(&pd->sq[pq->cpu].head, __ATOMIC_RELAXED)) {
			if (pd_leave(pq))
				queue_work_on(pq->cpu, pd->wq, &pq->work);
			break;
		}
	}
	tls_parallel_pd = NULL;
	padata__self.in_callback = saved;
}

/*
 * True when the calling thread runs on the real CPU of @cb_cpu's worker and
 * is not that worker: a submitter that goes on submitting there keeps the
 * worker from running. A hint (the thread may move at any time).
 */
static bool pd_caller_shares_cpu_of(const struct parallel_data *pd, int cb_cpu)
{
	if (padata__self.wq == pd->wq)
		return padata__self.cpu != cb_cpu &&
		       padata_cpu_to_host((unsigned int)padata__self.cpu) ==
			       padata_cpu_to_host((unsigned int)cb_cpu);
	int here = sched_getcpu();
	return here >= 0 && here == padata_cpu_to_host((unsigned int)cb_cpu);
}

/*
 * The parallel CPU of job @seq, whose serial CPU is @cb_cpu, and a first
 * guess of its queue's head for the push. Caller holds a reference
 * (pd_admit()), so the masks are stable.
 *
 * Turns: round robin over the usable parallel mask, pcpu[seq % pw] (and
 * idle workers steal from busy ones, pd_steal()).
 *
 * Under load, runs: when the queue of the job's turn is not empty, the job
 * goes to the CPU of its run of PD_RUN (8) consecutive sequence numbers,
 * pcpu[(seq / 8) % pw], if that CPU's queue is not empty either, neither
 * worker is parked (or woken and not yet running: padata__wq_parked()) and
 * the instance has no shells. A run's jobs fill one ring line (the ring is
 * line-aligned), so the line is written by one CPU, not by every CPU in
 * turn, and they finish in order on one worker, so their releases and
 * serial hand-offs come in runs. Measured on the 2-CPU VM, alternating
 * processes (2026-12-01, bench/c/padata_bench, FNV): 12.2 -> 16.0 M jobs/s
 * at w = 0, 7.5 -> 7.8 M at w = 100, unchanged at w = 1000 and 10000.
 * Why each condition:
 * - both queues busy: a job whose turn's worker has nothing queued takes
 *   its turn (that worker would idle otherwise), and so does one whose
 *   run's worker has nothing queued (it may be idling, or about to steal).
 * - no parked worker: a burst into parked workers must spread over them,
 *   as turns do; their queues fill before they are running, so "not empty"
 *   alone sent runs of a burst to one CPU (bursts of 8 jobs of 100 us:
 *   780-870 us to the last serial() against 485 us with turns; with the
 *   check, as with turns).
 * - no shells: as the idle choice below, a run would queue one order
 *   domain's jobs behind another's long parallel().
 *
 * Idle: when the instance has no shells, no job is in flight (every
 * earlier one has returned from serial()), @cb_cpu is in the parallel
 * mask, @cb_cpu's worker has lately waited long for work (it parks at
 * once: wq_idle.h) and the caller does not run on @cb_cpu's real CPU,
 * @cb_cpu itself. Its worker then runs parallel(), finds the job next in order in
 * padata_do_serial(), releases it onto its own serial queue (no futex
 * wake-up: that worker is running) and runs serial() in the same wake-up.
 * Round robin would wake a second worker for every job it sends elsewhere,
 * and that worker would wake cb_cpu's for serial(): at one job per 100 us
 * on two CPUs that was 2.4-2.5 context switches per job, now 1.9-2.0
 * (bench/c/idle_bench, the pthreads pool's figure).
 *
 * Why each condition (measured with saturated idle_bench, unpinned
 * submitter, on the 2-CPU VM):
 * - nothing in flight, not only "all released": a job sent to a cb_cpu
 *   worker that still has a serial backlog waits behind it, and every
 *   later job waits for it in the ring.
 * - long waits of cb_cpu's worker, and the caller not on its CPU: with
 *   neither, the choice fired for about 1 job in 2,000 at saturation (the
 *   pipeline drains for an instant, almost always while the submitter
 *   runs on cb_cpu's CPU), and each such job waited for that worker to
 *   get its CPU back from the submitter while everything behind it waited
 *   in the ring: 6 M -> 2-3.5 M jobs/s. Each check alone still let such
 *   runs through (3,500 fires in a second with long waits only: the
 *   starved worker's waits grow long too); with both, none seen. Cost: a
 *   trickle's submitter that wakes on cb_cpu's CPU gets round robin, so
 *   one job per 100 us measured 1.9-2.2 context switches per job, not
 *   1.9-2.0 (main: 2.3-2.5).
 * - no shells: a long parallel() on cb_cpu's worker holds back the
 *   serial() calls of every shell with that cb_cpu (section 7 of
 *   docs/contract.md: shells are independent in order, not in CPUs), and
 *   at idle every shell's first job would go there, where round robin
 *   sends it there only one time in pw. Within one order domain nothing
 *   is lost: no later job can be serialized before the long one anyway.
 *   (A freed shell stays on the list for reuse, so the rule stays off.)
 * A job submitted while another is in flight takes its turn or its run, so
 * a burst or a saturated pipeline spreads as before.
 *
 * The checks go from cheap to dear: cb_cpu already picked, the head of the
 * queue we push to anyway (a line this thread is about to write), the
 * masks, reorder_next (one line of the releaser's), the completion counts
 * (one line per CPU), the worker's wait flag, sched_getcpu(); the shell
 * list is a read-mostly line. At saturation the queue is often
 * non-empty or reorder_next behind, so the dear ones are rarely reached.
 *
 * Relaxed loads (and pd_completed_total()'s and pd_first_shell()'s
 * stronger ones, whose pairing this choice does not need) are hints here:
 * any answer picks a CPU of the usable parallel mask, and order never
 * depends on where parallel() ran (the ring orders the jobs); the push CAS
 * re-reads the head. A thread that saw the completion of job seq - 1 (in
 * padata_get_stats(), which acquires the same counts) reads the counts and
 * reorder_next at their new values or later (write-read coherence), so
 * the choice is deterministic for it when the workers never spin
 * (PADATA_SPIN_US=0: long waits always) and it runs pinned off cb_cpu's
 * real CPU (native/tests/placement_test.cc).
 */
static inline uint32_t pd_turn(const struct parallel_data *pd, uint32_t x)
{
	/* x % pw without a division (a 32-bit div is ~25 cycles per job):
	 * Lemire's fastmod, exact for 32-bit operands with the 64-bit
	 * pw_magic = 2^64 / pw rounded up (0 for pw == 1: index 0). */
	uint64_t low = pd->pw_magic * x;
	return (uint32_t)(((unsigned __int128)low * pd->pw) >> 64);
}

static inline int pd_pick_cpu(const struct parallel_data *pd, uint32_t seq, int cb_cpu,
			      struct padata_priv **headp)
{
	int cpu = pd->pcpu_list[pd_turn(pd, seq)];
	struct padata_priv *head = __atomic_load_n(&pd->pq[cpu].head, __ATOMIC_RELAXED);

	if (head) {
		/* Busy: the run's CPU, when it and the turn's are both behind. */
		int run = pd->pcpu_list[pd_turn(pd, seq >> PD_RUN_SHIFT)];
		if (run != cpu) {
			struct padata_priv *rh = __atomic_load_n(&pd->pq[run].head, __ATOMIC_RELAXED);
			if (rh && !padata__wq_parked(pd->wq, run) && !padata__wq_parked(pd->wq, cpu) &&
			    !pd_first_shell(pd->pinst)) {
				cpu = run;
				head = rh;
			}
		}
		*headp = head;
		return cpu;
	}

	if (cpu != cb_cpu && cpumask_test_cpu(cb_cpu, &pd->p_usable) &&
	    !pd_first_shell(pd->pinst) &&
	    seq == __atomic_load_n(&pd->reorder_next, __ATOMIC_RELAXED) &&
	    seq == pd_completed_total(pd) && padata__wq_long_waits(pd->wq, cb_cpu) &&
	    !pd_caller_shares_cpu_of(pd, cb_cpu)) {
		cpu = cb_cpu;
		head = __atomic_load_n(&pd->pq[cpu].head, __ATOMIC_RELAXED);
	}
	*headp = head;
	return cpu;
}

/* An -EBUSY answer, for padata_get_stats(); off the accepting path. */
static void pd_count_busy(struct parallel_data *pd)
{
	int c = sched_getcpu();
	if (c < 0)
		c = 0;
	/* Relaxed: a statistic; several threads may share the CPU. */
	__atomic_fetch_add(&pd->sq[(unsigned int)c % pd->nr].busy, 1, __ATOMIC_RELAXED);
}

/*
 * pd_admit_many - take up to *@nump (at least 1) consecutive sequence
 * numbers and one reference in one CAS, having checked the flags and the
 * in-flight limit against the same value of the control word: as many as
 * the limit leaves room for, at least one. pd_admit() takes one. Any
 * thread; the caller owns the jobs (JOB_QUEUED) and puts them back to
 * JOB_IDLE when this fails, and those beyond *@nump when it succeeds.
 *
 * The reference covers the caller until it has queued the drain: the job
 * may be taken, finished and serialized by other threads before that, and
 * the instance must not change or go away meanwhile. Pairs with the
 * fetch_or(CHANGING) + drain wait of a mask change.
 *
 * Every value of the control word this loop acts on is read with acquire
 * (the load, the reload, the CAS's failure order): limit, ring size and
 * completed_base may have been changed by a stop, a set_max_inflight or a
 * test_set_seq and a start since the caller's first load, and are only ours
 * to read after the acquire of the control word that follows that start
 * (see the top of the file). A relaxed failure order let the loop check a
 * new control word against a stale limit and overrun a smaller ring on
 * weakly ordered CPUs.
 *
 * Return: 0 with *@seqp (the first number) and *@nump (how many) set and
 * a reference held (drop it with
 * pd_ctl_drop()); -EINVAL when the instance is not started or has no
 * usable CPUs; -EBUSY during a mask change or pd_while_stopped(), or when
 * @limit jobs are in flight.
 */
static inline int pd_admit_many(struct parallel_data *pd, uint32_t *seqp, uint32_t *nump)
{
	uint32_t want = *nump;
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_ACQUIRE);
	for (;;) {
		uint32_t seq = (uint32_t)s;
		if ((s & (CTL_STARTED | CTL_INVALID)) != CTL_STARTED)
			return -EINVAL;
		if (s & CTL_CHANGING) {
			pd_count_busy(pd);
			return -EBUSY;
		}
		/* Relaxed: written while stopped, published by the control
		 * word (acquired above). */
		uint32_t limit = __atomic_load_n(&pd->limit, __ATOMIC_RELAXED);
		/* Acquire: pairs with the release store below by another
		 * submitter, which read the completions with acquire: the
		 * serial() calls it counts (and the ring clears before them)
		 * happen before the job we accept on its strength. */
		uint32_t cached = __atomic_load_n(&pd->completed_cache, __ATOMIC_ACQUIRE);
		uint32_t completed = cached;
		/* Refresh when the cached count leaves less room than wanted, or
		 * the numbers taken reach a multiple of the refresh period. */
		uint32_t low = seq & COMPLETED_CACHE_REFRESH;
		if ((uint32_t)(seq - completed) >= limit || limit - (uint32_t)(seq - completed) < want ||
		    !low || low + (want - 1) > COMPLETED_CACHE_REFRESH) {
			completed = pd_completed_total(pd);
			/* Release: pairs with the acquire load above. Only when it
			 * moved: submitters retrying -EBUSY at the limit then only
			 * read this line (it stays shared in their caches) instead
			 * of each rewriting it with the same value. */
			if (completed != cached)
				__atomic_store_n(&pd->completed_cache, completed, __ATOMIC_RELEASE);
			if ((int32_t)(seq - completed) < 0) {
				/* Our copy of the control word is older than the
				 * completions (other submitters moved on): read it
				 * again. Acquire, as above (seq_cst not needed). */
				s = __atomic_load_n(&pd->ctl, __ATOMIC_ACQUIRE);
				continue;
			}
			if ((uint32_t)(seq - completed) >= limit) {
				pd_count_busy(pd);
				return -EBUSY;
			}
		}
		uint32_t room = limit - (uint32_t)(seq - completed);
		uint32_t got = want < room ? want : room;
		uint64_t ns = (s & ~CTL_SEQ) + CTL_REF_ONE + (uint32_t)(seq + got);
		/* Acquire (success and failure): as the loads above. Release: our
		 * reads of the instance before the later drop are already ordered
		 * by that drop; the flags and seq here act by RMW atomicity against
		 * a mask change's fetch_or(CHANGING). seq_cst is more than needed. */
		if (__atomic_compare_exchange_n(&pd->ctl, &s, ns, true, __ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE)) {
			*seqp = seq;
			*nump = got;
			return 0;
		}
	}
}

static inline int pd_admit(struct parallel_data *pd, uint32_t *seqp)
{
	uint32_t one = 1;
	return pd_admit_many(pd, seqp, &one);
}

static inline void pd_place(struct parallel_data *pd, struct padata_priv *padata, uint32_t seq,
			    int cb_cpu);

/*
 * The checks a submission makes before it claims a job: the instance
 * started and valid, @cb_cpu in the usable serial mask. Acquire: pairs with
 * the release RMWs of the control word (padata_start, the end of a mask
 * change): the masks read next are that change's.
 */
static inline bool pd_accepting(struct parallel_data *pd, int cb_cpu)
{
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_ACQUIRE);
	return (s & (CTL_STARTED | CTL_INVALID)) == CTL_STARTED &&
	       padata__mask_test_atomic(cb_cpu, &pd->cb_usable);
}

/* Hands jobs[0..n) back to their submitter. Release: pairs with the acquire
 * CAS that claimed each (the library's reads of it happen before its reuse). */
static inline void pd_unclaim(struct padata_priv *const jobs[], uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		__atomic_store_n(&jobs[i]->state, JOB_IDLE, __ATOMIC_RELEASE);
}

/*
 * Cancels the admitted submission of jobs[0..n), sequence numbers @seq
 * onwards, whose cb_cpu left the usable mask before the admission: the
 * jobs go back to their submitter, their numbers become RING_SKIP (stored as
 * padata_do_serial() stores a finished job) for the reorder stage to pass,
 * and the admission's reference is dropped.
 */
static void pd_cancel(struct parallel_data *pd, struct padata_priv *const jobs[], uint32_t seq,
		      uint32_t n)
{
	pd_unclaim(jobs, n);
	for (uint32_t i = 0; i < n; i++)
		__atomic_store_n(&pd->ring[(seq + i) & pd->ring_mask], RING_SKIP, __ATOMIC_SEQ_CST);
	pd_reorder(pd);
	pd_ctl_drop(pd, CTL_REF_ONE, pd->wq);
}

/* padata_do_parallel() on @pd: the instance's own or a shell's. */
static int pd_do_parallel(struct parallel_data *pd, struct padata_priv *padata, int cb_cpu)
{
	unsigned int expect = JOB_IDLE;

	if (!padata || !padata->parallel || !padata->serial)
		return -EINVAL;
	if (!pd_accepting(pd, cb_cpu))
		return -EINVAL;
	/* Acquire: pairs with the release stores of JOB_IDLE (pd_serial_work, and
	 * the refusals below): the library's last reads of the job happen
	 * before we reuse it. Nothing to release: the fields written below are
	 * published by the push CAS. Failure relaxed: we only report it. */
	if (!__atomic_compare_exchange_n(&padata->state, &expect, JOB_QUEUED, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EINVAL; /* still in flight: leave it alone */

	uint32_t seq;
	int err = pd_admit(pd, &seq);
	if (padata__unlikely(err)) {
		pd_unclaim(&padata, 1);
		return err;
	}

	/* The reference is held: masks, ring and queues are stable now.
	 * A whole mask change may have run since the first cb_cpu check; the
	 * sequence number is taken, so cancel it in the ring. */
	if (padata__unlikely(!padata__mask_test_atomic(cb_cpu, &pd->cb_usable))) {
		pd_cancel(pd, &padata, seq, 1);
		return -EINVAL;
	}

	pd_place(pd, padata, seq, cb_cpu);
	pd_ctl_drop(pd, CTL_REF_ONE, pd->wq);
	return 0;
}

/*
 * pd_place - queue the admitted @padata (sequence number @seq) on the
 * parallel CPU of its turn. The caller holds a reference (pd_admit()) and
 * drops it afterwards.
 */
static inline void pd_place(struct parallel_data *pd, struct padata_priv *padata, uint32_t seq,
			    int cb_cpu)
{
	padata->pd = pd;
	padata->seq_nr = seq;
	padata->cb_cpu = cb_cpu;

	struct padata_priv *head;
	int cpu = pd_pick_cpu(pd, seq, cb_cpu, &head);
	struct pqueue *pq = &pd->pq[cpu];
	void (*pick)(uint32_t, int) = __atomic_load_n(&padata_test_hooks.pick, __ATOMIC_RELAXED);
	if (padata__unlikely(pick != NULL))
		pick(seq, cpu);
	/* Seq_cst: release pairs with the acquire exchanges in
	 * pd_parallel_work() and pd_steal(); acquire with the release of
	 * pd_parallel_work()'s exchange, for the idle load below; seq_cst, the
	 * Dekker store against pd_leave() (see "No job waits behind a busy
	 * worker"). Relaxed loads of head (here and in pd_pick_cpu()): only
	 * to link the job. */
	do {
		padata->next = head;
	} while (!__atomic_compare_exchange_n(&pq->head, &head, padata, true, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	/* Whoever makes the queue non-empty makes sure a drain is coming. */
	struct workqueue_struct *wq = pd->wq;
	if (!head)
		queue_work_on(cpu, wq, &pq->work);
	/* The target's worker is inside pd_parallel_work(), maybe blocked in a
	 * parallel(), and the job still waits in its queue: make sure an idle
	 * worker will take it if it stays so. (A queue found empty again was
	 * taken by a worker that runs the job or offers it, pd_offer().)
	 * Relaxed: idle is ordered by the CAS above (see there); head is read
	 * after our own push (coherence), a hint that only saves wake-ups. */
	if (!__atomic_load_n(&pd->idle[cpu], __ATOMIC_RELAXED) &&
	    __atomic_load_n(&pq->head, __ATOMIC_RELAXED))
		pd_wake_idle(pd, cpu);
}

int padata_do_parallel(struct padata_instance *pinst, struct padata_priv *padata, int cb_cpu)
{
	return pinst ? pd_do_parallel(&pinst->pd, padata, cb_cpu) : -EINVAL;
}

/*
 * padata_do_parallel_many() on @pd: claims the longest prefix of jobs that
 * are well formed and idle (the state CAS of pd_do_parallel(), job by job),
 * admits as many of them as the limit allows with one CAS of the control
 * word, hands the rest back, and queues the admitted ones in order under
 * the one reference. What n calls of pd_do_parallel() would do, minus
 * n - 1 admissions and reference drops and n - 1 calls.
 */
static int pd_do_parallel_many(struct parallel_data *pd, struct padata_priv *const jobs[],
			       unsigned int n, int cb_cpu)
{
	if (!jobs)
		return -EINVAL;
	if (n == 0)
		return 0;
	if (!pd_accepting(pd, cb_cpu))
		return -EINVAL;
	/* No more than the largest limit can be admitted: claim no more. */
	if (n > PADATA_MAX_INFLIGHT_LIMIT)
		n = PADATA_MAX_INFLIGHT_LIMIT;
	uint32_t claimed = 0;
	for (; claimed < n; claimed++) {
		struct padata_priv *j = jobs[claimed];
		unsigned int expect = JOB_IDLE;
		if (!j || !j->parallel || !j->serial)
			break;
		/* Acquire, failure relaxed: as in pd_do_parallel(). A job named
		 * twice fails here the second time (it is JOB_QUEUED). */
		if (!__atomic_compare_exchange_n(&j->state, &expect, JOB_QUEUED, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
	}
	if (claimed == 0)
		return -EINVAL;

	uint32_t seq, got = claimed;
	int err = pd_admit_many(pd, &seq, &got);
	if (padata__unlikely(err)) {
		pd_unclaim(jobs, claimed);
		return err;
	}
	if (got < claimed) {
		pd_unclaim(jobs + got, claimed - got);
		pd_count_busy(pd); /* as padata_do_parallel() would answer jobs[got] */
	}

	/* As in pd_do_parallel(): the masks may have changed before the
	 * admission; cancel every number taken. */
	if (padata__unlikely(!padata__mask_test_atomic(cb_cpu, &pd->cb_usable))) {
		pd_cancel(pd, jobs, seq, got);
		return -EINVAL;
	}

	for (uint32_t i = 0; i < got; i++)
		pd_place(pd, jobs[i], seq + i, cb_cpu);
	pd_ctl_drop(pd, CTL_REF_ONE, pd->wq);
	return (int)got;
}

int padata_do_parallel_many(struct padata_instance *pinst, struct padata_priv *const jobs[],
			    unsigned int n, int cb_cpu)
{
	return pinst ? pd_do_parallel_many(&pinst->pd, jobs, n, cb_cpu) : -EINVAL;
}

/* ---- waiting submitters ---------------------------------------------- */

/*
 * padata_do_parallel_wait() queues its callers in a FIFO (oldest first, on
 * their stacks, under a spin lock held for a few instructions). Only the
 * first tries to submit; the others sleep on their own futex word until
 * they become first (SUBW_TURN, handed on by the leaving first) or a
 * broadcast (stop, free, the end of a mask change) makes them re-check the
 * instance and their cb_cpu. So waiters are admitted in the order they
 * came, and one wake-up moves one thread.
 *
 * The first sleeps on pd->sub_event with pd->sub_sleep = 1. A serial worker
 * reads sub_sleep once per batch (the no-waiter cost: one load of a line
 * nobody writes then); when it is set and the jobs in flight fell to the
 * low-water mark or below, the worker takes the flag with an exchange, so
 * one sleep gets at most one such wake-up, and wakes the first. It then
 * admits (and its successors after it) the jobs up to the limit before
 * anybody sleeps again: wake-ups are per refill, not per job. The mark
 * starts at half the limit; when the first finds the pipeline (nearly)
 * run dry by the time it runs, it rises toward 7/8 of the limit, and it
 * falls back when wake-ups cost nothing (sub_mark.h, pd_sub_learn()).
 *
 * No lost wake-up, by two Dekker pairs (all four accesses seq_cst, one
 * total order S):
 * - room: the worker stores sq->serialized, then (after a seq_cst fence,
 *   once per batch) loads sub_sleep; the first
 *   stores sub_sleep = 1, then reads the completion counts (in pd_admit()'s
 *   pd_completed_total(), or pd_sub_room() below). Either the worker sees
 *   the flag, or the first sees the completion and the room it made.
 * - state: a broadcaster changes the control word, bumps sub_event, then
 *   loads sub_waiters; a waiter adds itself to sub_waiters, then reads its
 *   futex word and the control word. Either the broadcaster sees the waiter
 *   and wakes it, or the waiter's read of sub_event (or its lock of the
 *   queue, for the others) sees the bump and hence the new control word.
 * futex_wait() compares the word it was given, so a bump between a read
 * and the sleep makes the sleep return at once.
 */

static int pd_futex_wait_until(uint32_t *addr, uint32_t expected, const struct timespec *deadline)
{
	/* An absolute CLOCK_MONOTONIC deadline (NULL: none); FUTEX_WAIT_BITSET
	 * takes one, so a wake-up that was not ours costs no re-computation. */
	return (int)syscall(SYS_futex, addr, FUTEX_WAIT_BITSET_PRIVATE, expected, deadline, NULL,
			    FUTEX_BITSET_MATCH_ANY);
}

static bool pd_deadline_passed(const struct timespec *deadline)
{
	struct timespec now;
	if (!deadline)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void pd_sub_lock(struct parallel_data *pd)
{
	/* Acquire: pairs with the release store of pd_sub_unlock(). */
	while (__atomic_exchange_n(&pd->sub_lock, 1, __ATOMIC_ACQUIRE)) {
		/* Relaxed: a hint; the exchange decides. The holder runs a few
		 * instructions (and a futex wake): yield, it may share our CPU. */
		while (__atomic_load_n(&pd->sub_lock, __ATOMIC_RELAXED))
			sched_yield();
	}
}

static void pd_sub_unlock(struct parallel_data *pd)
{
	/* Release: pairs with the acquire exchange of pd_sub_lock(). */
	__atomic_store_n(&pd->sub_lock, 0, __ATOMIC_RELEASE);
}

/*
 * After a change of the control word (stop, free, the end of a mask change
 * or of pd_while_stopped()): make every waiting submitter re-check. Rare,
 * never on the job path.
 */
static void pd_sub_broadcast(struct parallel_data *pd)
{
	/* Release: pairs with the first's seq_cst load of sub_event (a waiter
	 * that reads the bump sees the control word change before it); seq_cst:
	 * the "state" Dekker with the fetch_add of sub_waiters. */
	__atomic_fetch_add(&pd->sub_event, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&pd->sub_waiters, __ATOMIC_SEQ_CST))
		return;
	padata__futex_wake(&pd->sub_event, INT_MAX);
	pd_sub_lock(pd);
	for (struct pd_sub_waiter *w = pd->sub_first; w; w = w->next) {
		/* Release: pairs with the waiter's acquire load of its word (it
		 * then sees the control word change). The waiter leaves the queue
		 * only under the lock, so its word is alive here. */
		__atomic_fetch_add(&w->word, SUBW_EVENT, __ATOMIC_RELEASE);
		padata__futex_wake(&w->word, 1);
	}
	pd_sub_unlock(pd);
}

/*
 * Called by a serial worker after a batch (and by the releaser after a
 * cancelled sequence number) that found sub_sleep set: wake the first
 * waiting submitter when the jobs in flight are at or below the low-water
 * mark. Not during a mask change (nothing is admitted then; its end
 * broadcasts).
 */
static void pd_sub_room(struct parallel_data *pd)
{
	/* Completions first, then the control word, as pd_jobs_drained(): the
	 * difference can only over-state what is in flight (jobs accepted in
	 * between), and their completions check again. */
	uint32_t completed = pd_completed_total(pd);
	/* seq_cst: as pd_jobs_drained(). */
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_SEQ_CST);
	/* Relaxed: written while stopped, published by the control word. */
	uint32_t limit = __atomic_load_n(&pd->limit, __ATOMIC_RELAXED);
	/* Relaxed: a policy hint; any mark below the limit is correct, since the
	 * batch that completes the last job in flight sees 0 <= mark. */
	uint32_t mark = padata__submark(limit, __atomic_load_n(&pd->sub_mark, __ATOMIC_RELAXED));
	uint32_t in_flight = (uint32_t)s - completed;
	if ((s & CTL_CHANGING) || in_flight > mark)
		return;
	/* seq_cst: the "room" Dekker's read side took a plain load; the
	 * exchange picks one waker per sleep. */
	if (!__atomic_exchange_n(&pd->sub_sleep, 0, __ATOMIC_SEQ_CST))
		return;
	void (*hook)(uint32_t, uint32_t) =
		__atomic_load_n(&padata_test_hooks.submit_wake, __ATOMIC_RELAXED);
	if (padata__unlikely(hook != NULL))
		hook(in_flight, mark);
	/* Release: pairs with the first's load of sub_event, so that it sees
	 * the completions (seq_cst, as in pd_sub_broadcast()). */
	__atomic_fetch_add(&pd->sub_event, 1, __ATOMIC_SEQ_CST);
	padata__futex_wake(&pd->sub_event, INT_MAX);
}

/*
 * The first waiting submitter, woken (most likely by pd_sub_room()), now
 * runs: move the low-water mark by what it finds in flight (sub_mark.h).
 * A broadcast's wake-up also gets here; one step of a hint, rare.
 */
static void pd_sub_learn(struct parallel_data *pd)
{
	void (*hook)(void) = __atomic_load_n(&padata_test_hooks.submit_woken, __ATOMIC_RELAXED);
	if (padata__unlikely(hook != NULL))
		hook();
	/* Relaxed: the mark is a hint (see pd_sub_room()); the admission that
	 * follows reads the counts with the orderings it needs. Completions
	 * first, as pd_sub_room(): the difference can only over-state. */
	uint32_t completed = pd_completed_total(pd);
	uint32_t seq = (uint32_t)__atomic_load_n(&pd->ctl, __ATOMIC_RELAXED);
	uint32_t limit = __atomic_load_n(&pd->limit, __ATOMIC_RELAXED);
	uint32_t state = __atomic_load_n(&pd->sub_mark, __ATOMIC_RELAXED);
	uint32_t next = padata__submark_next(state, seq - completed, limit);
	/* Only the first writes it, and only when it moves: the serial workers
	 * keep reading a line nobody writes. */
	if (next != state)
		__atomic_store_n(&pd->sub_mark, next, __ATOMIC_RELAXED);
}

/* The -EINVAL checks of padata_do_parallel() that can change while waiting. */
static int pd_sub_check(struct parallel_data *pd, int cb_cpu)
{
	/* seq_cst: the read side of the "state" Dekker (after our fetch_add of
	 * sub_waiters); acquire: the masks read next are those the control
	 * word's last release RMW published. */
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_SEQ_CST);
	if ((s & (CTL_STARTED | CTL_INVALID)) != CTL_STARTED)
		return -EINVAL;
	if (!padata__mask_test_atomic(cb_cpu, &pd->cb_usable))
		return -EINVAL;
	return 0;
}

static bool pd_sub_none(void *arg)
{
	struct parallel_data *pd = arg;
	/* Acquire: pairs with the leaver's fetch_sub, its last touch of @pd;
	 * seq_cst: Dekker with its padata__wq_signal(). */
	return __atomic_load_n(&pd->sub_waiters, __ATOMIC_SEQ_CST) == 0;
}

static void pd_sub_sleep_hook(void)
{
	void (*hook)(void) = __atomic_load_n(&padata_test_hooks.submit_sleep, __ATOMIC_RELAXED);
	if (padata__unlikely(hook != NULL))
		hook();
}

static int pd_sub_wait(struct parallel_data *pd, struct padata_priv *padata, int cb_cpu,
		       const struct timespec *deadline)
{
	struct workqueue_struct *wq = pd->wq;
	struct pd_sub_waiter me = { NULL, 0 };
	bool first;
	int err;

	/* seq_cst: the write side of the "state" Dekker (see above). */
	__atomic_fetch_add(&pd->sub_waiters, 1, __ATOMIC_SEQ_CST);
	pd_sub_lock(pd);
	struct pd_sub_waiter **pp = &pd->sub_first;
	while (*pp)
		pp = &(*pp)->next;
	*pp = &me;
	first = pd->sub_first == &me;
	pd_sub_unlock(pd);

	for (;;) {
		if (!first) {
			/* Acquire: pairs with the release RMWs of the leaving first
			 * and of pd_sub_broadcast(). */
			uint32_t w = __atomic_load_n(&me.word, __ATOMIC_ACQUIRE);
			if (w & SUBW_TURN) {
				first = true;
				continue;
			}
			err = pd_sub_check(pd, cb_cpu);
			if (err)
				break;
			if (pd_deadline_passed(deadline)) {
				err = -ETIMEDOUT;
				break;
			}
			pd_sub_sleep_hook();
			pd_futex_wait_until(&me.word, w, deadline);
			continue;
		}
		/* seq_cst (acquire): pairs with the bumps of pd_sub_room() and
		 * pd_sub_broadcast(). */
		uint32_t ev = __atomic_load_n(&pd->sub_event, __ATOMIC_SEQ_CST);
		/* seq_cst: the write side of the "room" Dekker; our completion
		 * reads follow in padata_do_parallel() (pd_admit()). */
		__atomic_store_n(&pd->sub_sleep, 1, __ATOMIC_SEQ_CST);
		err = pd_sub_check(pd, cb_cpu);
		if (err)
			break;
		err = pd_do_parallel(pd, padata, cb_cpu);
		if (err != -EBUSY)
			break;
		if (pd_deadline_passed(deadline)) {
			err = -ETIMEDOUT;
			break;
		}
		pd_sub_sleep_hook();
		pd_futex_wait_until(&pd->sub_event, ev, deadline);
		/* Relaxed: only decides whether to learn from this wake-up. */
		if (__atomic_load_n(&pd->sub_event, __ATOMIC_RELAXED) != ev)
			pd_sub_learn(pd);
	}

	/* Relaxed: a hint for the serial workers; the next first sets it
	 * again, after our hand-off below (release/acquire on its word). */
	if (first)
		__atomic_store_n(&pd->sub_sleep, 0, __ATOMIC_RELAXED);
	/* padata_free() may wait for us: keep the queue its signal goes to. */
	padata__wq_hold(wq);
	pd_sub_lock(pd);
	bool was_first = pd->sub_first == &me;
	for (pp = &pd->sub_first; *pp != &me; pp = &(*pp)->next)
		;
	*pp = me.next;
	if (was_first && pd->sub_first) {
		/* Release: pairs with the new first's acquire load of its word. */
		__atomic_fetch_or(&pd->sub_first->word, SUBW_TURN, __ATOMIC_RELEASE);
		padata__futex_wake(&pd->sub_first->word, 1);
	}
	pd_sub_unlock(pd);
	/* Last touch of @pd. Release (seq_cst): pairs with pd_sub_none(). */
	__atomic_fetch_sub(&pd->sub_waiters, 1, __ATOMIC_SEQ_CST);
	padata__wq_signal(wq);
	padata__wq_unhold(wq);
	return err;
}

/* padata_do_parallel_wait() on @pd: the instance's own or a shell's. */
static int pd_do_parallel_wait(struct parallel_data *pd, struct padata_priv *padata, int cb_cpu,
			       int timeout_ms)
{
	struct timespec deadline;

	if (timeout_ms == 0)
		return pd_do_parallel(pd, padata, cb_cpu);
	if (!padata || !padata->parallel || !padata->serial)
		return -EINVAL;
	/*
	 * A callback (or any work item of the instance's workqueue) would wait
	 * for jobs its own worker must run; a notifier runs while a mask change
	 * (of this instance, or in a hotplug one still pending for it) holds
	 * CHANGING set.
	 */
	if (pd_in_worker_of(pd) || padata__self.in_notifier)
		return -EDEADLK;
	if (timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	/* Relaxed: a hint. With nobody queued, try at once; otherwise queue
	 * behind the waiters (FIFO), after the checks that answer at once. */
	if (!__atomic_load_n(&pd->sub_waiters, __ATOMIC_RELAXED)) {
		int err = pd_do_parallel(pd, padata, cb_cpu);
		if (err != -EBUSY)
			return err;
	} else {
		int err = pd_sub_check(pd, cb_cpu);
		if (err)
			return err;
		/* Relaxed: as padata_do_parallel()'s CAS would report a job in
		 * flight; its CAS decides when we submit. */
		if (__atomic_load_n(&padata->state, __ATOMIC_RELAXED) != JOB_IDLE)
			return -EINVAL;
	}
	return pd_sub_wait(pd, padata, cb_cpu, timeout_ms > 0 ? &deadline : NULL);
}

int padata_do_parallel_wait(struct padata_instance *pinst, struct padata_priv *padata, int cb_cpu,
			    int timeout_ms)
{
	return pinst ? pd_do_parallel_wait(&pinst->pd, padata, cb_cpu, timeout_ms) : -EINVAL;
}

/* ---- reorder ---------------------------------------------------------- */

/*
 * Push the collected chains onto their serial queues. A push that makes a
 * queue non-empty owes it a queue_work_on(); from then until that call the
 * releaser must keep the instance alive, since the serial worker may
 * already be running and finish the pushed jobs, the last ones in flight.
 * A thread outside the instance's callbacks holds a reference already. A
 * worker running a callback of @pd holds none: pd_flush_all_work() waits for
 * its own work item, but may have flushed the serial item before, which
 * the late queue_work_on() would then re-arm in freed memory. So it takes
 * one, before the first push onto an empty queue (then no drain can have
 * completed: the jobs not yet pushed are still in flight) and drops it
 * after the last queue_work_on(). A push onto a non-empty queue needs
 * none: nothing touches the queue after it.
 */
static void pd_chains_flush(struct parallel_data *pd)
{
	bool need_ref = padata__self.in_callback == pd, ref = false;
	struct workqueue_struct *wq = pd->wq;

	for (int i = 0; i < pd->ntouched; i++) {
		int c = pd->touched[i];
		struct squeue *sq = &pd->sq[c];
		struct padata_priv *top = pd->chain_top[c], *bottom = pd->chain_bottom[c];
		/* Release: pairs with the acquire exchange in pd_serial_work(). */
		struct padata_priv *head = __atomic_load_n(&sq->head, __ATOMIC_RELAXED);
		pd->chain_top[c] = NULL;
		do {
			if (!head && need_ref && !ref) {
				/* Pairs with the seq_cst loads of pd_fully_drained(). */
				__atomic_fetch_add(&pd->ctl, CTL_REF_ONE, __ATOMIC_SEQ_CST);
				ref = true;
			}
			bottom->next = head;
		} while (!__atomic_compare_exchange_n(&sq->head, &head, top, true, __ATOMIC_RELEASE,
						      __ATOMIC_RELAXED));
		if (!head)
			queue_work_on(c, wq, &sq->work);
	}
	pd->ntouched = 0;
	/* Our work item is still running: padata_free() flushes it before it
	 * frees, so the caller may touch @pd after the drop. */
	if (ref)
		pd_ctl_drop(pd, CTL_REF_ONE, wq);
}

/*
 * The reorder stage held @depth finished jobs at once: keep the highest
 * such count. Called once per release run (and by padata_get_stats()), a
 * read and a compare; a write only when it grows.
 */
static inline void pd_stat_depth(struct parallel_data *pd, uint32_t depth)
{
	/* Relaxed: a statistic; the CAS keeps the maximum. */
	uint32_t max = __atomic_load_n(&pd->stat_depth_max, __ATOMIC_RELAXED);
	while (padata__unlikely(depth > max)) {
		if (__atomic_compare_exchange_n(&pd->stat_depth_max, &max, depth, true,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			break;
	}
}

/*
 * Release every consecutive finished job. Lock-free: whoever wins the token
 * releases; a loser leaves, and the winner re-checks the ring after giving
 * the token back, so a job stored while the token was held is never
 * stranded (the lost wake-up of old kernels) and nothing waits on a timer.
 */
static void pd_reorder(struct parallel_data *pd)
{
	for (;;) {
		uint32_t zero = 0;
		/* Dekker pair: our slot store (seq_cst) then this load; the holder's
		 * seq_cst token release then its slot re-check below. The CAS's
		 * acquire pairs with that token release: the previous holder's
		 * scratch and reorder_next are ours. Failure relaxed: we leave. */
		if (__atomic_load_n(&pd->reorder_busy, __ATOMIC_SEQ_CST) ||
		    !__atomic_compare_exchange_n(&pd->reorder_busy, &zero, 1, false, __ATOMIC_SEQ_CST,
						 __ATOMIC_RELAXED))
			return;

		/* Relaxed: token holders write it, ordered by the token CAS. */
		uint32_t next = __atomic_load_n(&pd->reorder_next, __ATOMIC_RELAXED);
		unsigned int n = 0;
		for (;;) {
			struct padata_priv **slot = &pd->ring[next & pd->ring_mask];
			/* Acquire: pairs with the ring stores in padata_do_serial()
			 * and padata_do_parallel() (RING_SKIP). */
			struct padata_priv *job = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
			if (!job)
				break;
			/* Relaxed: the slot's next store happens after this one (see
			 * the top of the file: it needs this job's completion, which
			 * our release push to a serial queue, or the skipped count,
			 * carries). */
			__atomic_store_n(slot, NULL, __ATOMIC_RELAXED);
			next++;
			if (padata__unlikely(job == RING_SKIP)) {
				/* A cancelled submission: count it as completed. Release:
				 * pairs with pd_completed_total()'s acquire loads; seq_cst:
				 * Dekker with waiters via the signal. */
				__atomic_fetch_add(&pd->skipped, 1, __ATOMIC_SEQ_CST);
				/* seq_cst: as in pd_serial_work(). */
				if (__atomic_load_n(&pd->sub_sleep, __ATOMIC_SEQ_CST))
					pd_sub_room(pd);
				padata__wq_signal(pd->wq);
				continue;
			}
			int c = job->cb_cpu;
			if (!pd->chain_top[c]) {
				pd->touched[pd->ntouched++] = c;
				pd->chain_bottom[c] = job;
				job->next = NULL;
			} else {
				job->next = pd->chain_top[c];
			}
			pd->chain_top[c] = job;
			if (++n == REORDER_BATCH) {
				/* Relaxed: an early hint for padata_do_serial()'s
				 * deferral; the seq_cst store below settles it. */
				__atomic_store_n(&pd->reorder_next, next, __ATOMIC_RELAXED);
				pd_chains_flush(pd);
				n = 0;
			}
		}
		/* seq_cst: Dekker with padata_do_serial()'s deferral (it stores
		 * its slot, then loads reorder_next; we store reorder_next, then
		 * re-check the slot below). Were it relaxed, both could read the
		 * old values (store buffering on ARM/POWER): the job's worker would
		 * defer it and we would not see it, delaying it to the end of that
		 * worker's batch. */
		__atomic_store_n(&pd->reorder_next, next, __ATOMIC_SEQ_CST);
		/* Statistics: all but the first of the jobs released together
		 * (since the last flush, at most REORDER_BATCH) sat finished
		 * behind another; once per run, not per job. */
		if (n > 1)
			pd_stat_depth(pd, n - 1);
		pd_chains_flush(pd);
		/* Release: pairs with the next holder's token CAS; seq_cst: Dekker
		 * with pd_reorder()'s entry (slot store, then busy load). */
		__atomic_store_n(&pd->reorder_busy, 0, __ATOMIC_SEQ_CST);
		/* seq_cst: the re-check of both Dekker pairs above. */
		if (!__atomic_load_n(&pd->ring[next & pd->ring_mask], __ATOMIC_SEQ_CST))
			return;
	}
}

void padata_do_serial(struct padata_priv *padata)
{
	unsigned int expect = JOB_QUEUED;

	if (!padata) {
		fprintf(stderr, "libpadata: padata_do_serial(NULL) ignored\n");
		return;
	}
	/*
	 * Relaxed: the CAS only decides that the job is finished once. The
	 * job's fields reach this thread through parallel() (the same thread,
	 * or the caller's hand-off to another, which the contract requires),
	 * and JOB_REORDERING is read by nobody but a second, erroneous call.
	 */
	if (!__atomic_compare_exchange_n(&padata->state, &expect, JOB_REORDERING, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		fprintf(stderr,
			"libpadata: padata_do_serial(%p): job is not in flight (%s); ignored\n",
			(void *)padata,
			expect == JOB_REORDERING ? "padata_do_serial() already called" : "never submitted");
		return;
	}
	struct parallel_data *pd = padata->pd;
	struct workqueue_struct *wq = pd->wq;
	uint32_t seq = padata->seq_nr;
	/* Work items of this instance are flushed before it is freed; any
	 * other thread holds a reference until it is done with it. */
	bool covered = padata__self.in_callback == pd;

	/* The reference must be seen by any drain that sees this job
	 * completed: the ring store below (release) carries it to the
	 * releaser and on to serial() and the completion count a drain
	 * acquires; the job is still in flight until then. seq_cst is more
	 * than needed. */
	if (!covered)
		__atomic_fetch_add(&pd->ctl, CTL_REF_ONE, __ATOMIC_SEQ_CST);
	/* Release: pairs with the acquire slot load in pd_reorder(); seq_cst:
	 * Dekker with the token release + re-check there, and with the store
	 * of reorder_next + re-check (the load below). */
	__atomic_store_n(&pd->ring[seq & pd->ring_mask], padata, __ATOMIC_SEQ_CST);
	/* seq_cst: the deferral Dekker with pd_reorder()'s final store of
	 * reorder_next (a relaxed load could read an old value while the
	 * releaser misses our slot, delaying the job to the batch end). */
	if (covered && tls_parallel_pd == pd &&
	    seq != __atomic_load_n(&pd->reorder_next, __ATOMIC_SEQ_CST)) {
		/* Not the next in line: release once per batch, in pd_parallel_work(). */
		tls_release_deferred = true;
		return;
	}
	pd_reorder(pd);
	if (!covered)
		pd_ctl_drop(pd, CTL_REF_ONE, wq);
}

/* ---- serial side ------------------------------------------------------ */

/*
 * Hand the run of up to PADATA_BATCH_MAX jobs at the head of @list whose
 * serial() is @match to @batch (padata_set_batch()); returns the rest.
 */
static struct padata_priv *pd_serial_batch(struct squeue *sq, struct padata_priv *list,
					   void (*match)(struct padata_priv *),
					   void (*batch)(struct padata_priv *const *, unsigned int))
{
	struct padata_priv *run[PADATA_BATCH_MAX];
	unsigned int n = 0;

	/* Every link is read before any job is the caller's again. */
	do {
		run[n++] = list;
		list = list->next;
	} while (list && n < PADATA_BATCH_MAX && list->serial == match);
	/* As in pd_serial_work(), for the whole run: from here each job is the
	 * caller's. Release: pairs with the acquire CAS in padata_do_parallel(). */
	for (unsigned int i = 0; i < n; i++)
		__atomic_store_n(&run[i]->state, JOB_IDLE, __ATOMIC_RELEASE);
	batch(run, n);
	/* As in pd_serial_work(): in flight until the batch returned. */
	__atomic_store_n(&sq->serialized, sq->serialized + n, __ATOMIC_RELEASE);
	return list;
}

static void pd_serial_work(struct work_struct *w)
{
	struct squeue *sq = container_of(w, struct squeue, work);
	struct parallel_data *pd = sq->pd;
	void *saved = padata__self.in_callback;
	/* Relaxed: see padata_instance.batch. */
	void (*match)(struct padata_priv *) = __atomic_load_n(&pd->pinst->batch.serial, __ATOMIC_RELAXED);
	void (*batch)(struct padata_priv *const *, unsigned int) =
		__atomic_load_n(&pd->pinst->batch.serial_batch, __ATOMIC_RELAXED);

	padata__self.in_callback = pd;
	for (;;) {
		/* Acquire: pairs with the release push CAS in pd_chains_flush(). */
		struct padata_priv *list = __atomic_exchange_n(&sq->head, NULL, __ATOMIC_ACQUIRE);
		if (!list)
			break;
		list = pd_reverse_jobs(list);
		while (list) {
			struct padata_priv *job = list;
			void (*fn)(struct padata_priv *) = job->serial;
			if (match && fn == match) {
				list = pd_serial_batch(sq, list, match, batch);
				continue;
			}
			list = job->next;
			/* From here the job is the caller's: serial() may free or resubmit it.
			 * Release: pairs with the acquire CAS in padata_do_parallel(). */
			__atomic_store_n(&job->state, JOB_IDLE, __ATOMIC_RELEASE);
			fn(job);
			/* In flight means "serial() not yet returned": count per job,
			 * on this CPU's own line. Release: pairs with the acquire
			 * loads in pd_completed_total() (serial() and the ring clear
			 * happen before a submission counted on it). Not seq_cst:
			 * the Dekker pairs with waiters need a full barrier between
			 * this store and the waiter checks below, which run once per
			 * batch, so the fence there serves the whole batch (on x86 a
			 * seq_cst store is a locked xchg per job). */
			__atomic_store_n(&sq->serialized, sq->serialized + 1, __ATOMIC_RELEASE);
		}
		/*
		 * Dekker with every waiter that registers (seq_cst RMW) and then
		 * reads the completion counts (seq_cst loads): padata__wq_wait()'s
		 * ev_waiters, pd_sub_wait()'s sub_sleep. By C11's fence rules,
		 * a waiter's load of serialized that follows this fence in the
		 * single total order sees our stores, and a registration that
		 * precedes it is seen by our seq_cst loads after it.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		/* A waiting submitter: checked once per batch; the read side of
		 * the "room" Dekker with pd_sub_wait(), after the fence above. */
		if (padata__unlikely(__atomic_load_n(&pd->sub_sleep, __ATOMIC_SEQ_CST)))
			pd_sub_room(pd);
		/* Whatever a waiter waits for completes at the end of some batch:
		 * one wake-up per batch, not one per job of a draining pipeline. */
		padata__wq_signal(pd->wq);
	}
	padata__self.in_callback = saved;
}

/* ---- masks ------------------------------------------------------------ */

static bool pd_mask_has_active(const struct cpumask *m)
{
	struct cpumask active, tmp;
	padata_cpu_active_snapshot(&active);
	return cpumask_and(&tmp, m, &active);
}

static void pd_notify(struct padata_instance *pinst, unsigned long changed)
{
	struct padata_cpumask now;
	padata_get_cpumask(pinst, &now);
	pd_mutex_lock(&pinst->nb_lock);
	void *saved = padata__self.in_notifier;
	padata__self.in_notifier = pinst;
	for (struct notifier_block *nb = pinst->chain; nb; nb = nb->next) {
		int ret = nb->notifier_call(nb, changed, &now);
		if (ret & NOTIFY_STOP_MASK)
			break;
	}
	padata__self.in_notifier = saved;
	pd_mutex_unlock(&pinst->nb_lock);
}

/*
 * Recompute the usable masks from the user masks and cpu_active_mask;
 * drain and switch when they change. Caller holds pinst->lock and the
 * hotplug lock (either side) and is not a worker of the queue. Returns the
 * changed masks; when any did, CHANGING stays set (submissions get -EBUSY)
 * and the caller must call pd_finish_change() with pinst->lock still held,
 * after dropping the hotplug lock.
 */
static unsigned long pd_update_usable(struct padata_instance *pinst)
{
	struct parallel_data *pd;
	struct padata_shell *ps;
	struct cpumask active, np, ncb;
	unsigned long changed = 0;

	padata_cpu_active_snapshot(&active);
	cpumask_and(&np, &pinst->user_pcpu, &active);
	cpumask_and(&ncb, &pinst->user_cbcpu, &active);
	if (!cpumask_equal(&np, pinst->usable.pcpu))
		changed |= PADATA_CPU_PARALLEL;
	if (!cpumask_equal(&ncb, pinst->usable.cbcpu))
		changed |= PADATA_CPU_SERIAL;
	if (!changed)
		return 0;

	/* Refuse new jobs, then wait for every accepted one (async ones too).
	 * Pairs with the CAS of pd_admit() by RMW atomicity (it fails or
	 * precedes this); seq_cst, though relaxed would do: the drain check after it
	 * reads the control word with acquire.
	 * Every shell first, then every drain: the shells change together, and
	 * each shell's order holds across the change as the instance's does.
	 * The list is stable: shells are added under pinst->lock. */
	pd_for_each(pd, pinst, ps)
		__atomic_fetch_or(&pd->ctl, CTL_CHANGING, __ATOMIC_SEQ_CST);
	pd_for_each(pd, pinst, ps) {
		pd_drain_wait(pd, pd_fully_drained);
		pd_flush_all_work(pd);
	}

	unsigned int pw = 0, c;
	for_each_cpu(c, &np)
		pinst->pd.pcpu_list[pw++] = (int)c;
	pd_for_each(pd, pinst, ps) {
		if (pd != &pinst->pd)
			memcpy(pd->pcpu_list, pinst->pd.pcpu_list, sizeof(*pd->pcpu_list) * pw);
		pd->pw = pw;
		pd->pw_magic = pw ? UINT64_MAX / pw + 1 : 0;
		cpumask_copy(&pd->p_usable, &np);
		padata__mask_store_atomic(&pd->cb_usable, &ncb);
	}
	pd_mutex_lock(&pinst->mask_lock);
	cpumask_copy(pinst->usable.pcpu, &np);
	cpumask_copy(pinst->usable.cbcpu, &ncb);
	pd_mutex_unlock(&pinst->mask_lock);

	/* An instance without usable CPUs is invalid: no division by pw == 0,
	 * no job queued. It runs again (if started) once CPUs come back. */
	pinst->change_valid = pw > 0 && !cpumask_empty(&ncb);
	return changed;
}

/*
 * Second half of a change that pd_update_usable() reported: run the notifier
 * chain while submissions still get -EBUSY (as 2.6.36 keeps its reset flag
 * across the chain), then accept jobs again. Caller holds pinst->lock,
 * which keeps other changes and padata_free() of this instance out until
 * the chain has run, and no hotplug lock: a notifier may wait for a thread
 * that allocates or frees another instance.
 */
static void pd_finish_change(struct padata_instance *pinst, unsigned long changed)
{
	struct parallel_data *pd;
	struct padata_shell *ps;

	if (!changed)
		return;
	pd_notify(pinst, changed);
	/* Each shell's CAS is the release that publishes the new masks to its
	 * submitters: pairs with the acquire reads of the control word in
	 * pd_do_parallel() and pd_admit(). Relaxed load and failure order: a
	 * guess the CAS re-checks. */
	pd_for_each(pd, pinst, ps) {
		uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_RELAXED), ns;
		do {
			ns = (s & ~(CTL_CHANGING | CTL_INVALID)) |
			     (pinst->change_valid ? 0 : CTL_INVALID);
		} while (!__atomic_compare_exchange_n(&pd->ctl, &s, ns, true, __ATOMIC_SEQ_CST,
						      __ATOMIC_RELAXED));
		/* Waiting submitters: admitted now, or cb_cpu / the instance invalid. */
		pd_sub_broadcast(pd);
	}
}

/* Common entry of the mask-changing calls. */
static int pd_begin_change(struct padata_instance *pinst)
{
	if (pd_in_worker_of(&pinst->pd) || pd_in_padata_context())
		return -EDEADLK;
	int err = padata__hotplug_read_lock();
	if (err)
		return -err;
	pd_mutex_lock(&pinst->lock);
	return 0;
}

static void pd_end_change(struct padata_instance *pinst)
{
	unsigned long changed = pd_update_usable(pinst);
	padata__hotplug_read_unlock();
	pd_finish_change(pinst, changed);
	pd_mutex_unlock(&pinst->lock);
}

int padata_set_cpumasks(struct padata_instance *pinst, struct cpumask *pcpumask,
			struct cpumask *cbcpumask)
{
	if (!pinst || !pcpumask || !cbcpumask)
		return -EINVAL;
	int err = pd_begin_change(pinst);
	if (err)
		return err;
	cpumask_copy(&pinst->user_pcpu, pcpumask);
	cpumask_copy(&pinst->user_cbcpu, cbcpumask);
	pd_end_change(pinst);
	return 0;
}

int padata_set_cpumask(struct padata_instance *pinst, int cpumask_type, struct cpumask *cpumask)
{
	if (!pinst || !cpumask ||
	    (cpumask_type != PADATA_CPU_PARALLEL && cpumask_type != PADATA_CPU_SERIAL))
		return -EINVAL;
	int err = pd_begin_change(pinst);
	if (err)
		return err;
	cpumask_copy(cpumask_type == PADATA_CPU_PARALLEL ? &pinst->user_pcpu : &pinst->user_cbcpu,
		     cpumask);
	pd_end_change(pinst);
	return 0;
}

static int pd_change_cpu(struct padata_instance *pinst, int cpu, int mask, bool add)
{
	if (!pinst || cpu < 0 || (unsigned int)cpu >= nr_cpu_ids || mask == 0 ||
	    (mask & ~(PADATA_CPU_SERIAL | PADATA_CPU_PARALLEL)))
		return -EINVAL;
	int err = pd_begin_change(pinst);
	if (err)
		return err;
	if (mask & PADATA_CPU_PARALLEL) {
		if (add)
			cpumask_set_cpu(cpu, &pinst->user_pcpu);
		else
			cpumask_clear_cpu(cpu, &pinst->user_pcpu);
	}
	if (mask & PADATA_CPU_SERIAL) {
		if (add)
			cpumask_set_cpu(cpu, &pinst->user_cbcpu);
		else
			cpumask_clear_cpu(cpu, &pinst->user_cbcpu);
	}
	pd_end_change(pinst);
	return 0;
}

int padata_add_cpu(struct padata_instance *pinst, int cpu, int mask)
{
	return pd_change_cpu(pinst, cpu, mask, true);
}

int padata_remove_cpu(struct padata_instance *pinst, int cpu, int mask)
{
	return pd_change_cpu(pinst, cpu, mask, false);
}

static int pd_hotplug(unsigned int cpu, bool up)
{
	if (pd_in_padata_context())
		return -EDEADLK;
	if (cpu >= nr_cpu_ids || !padata__cpu_was_active(cpu))
		return -EINVAL;
	int err = padata__hotplug_write_lock();
	if (err)
		return -err;
	struct cpumask active;
	padata_cpu_active_snapshot(&active);
	if (cpumask_test_cpu((int)cpu, &active) == up) {
		padata__hotplug_write_unlock();
		return 0;
	}
	if (!up && cpumask_weight(&active) == 1) {
		padata__hotplug_write_unlock();
		return -EBUSY;
	}
	padata__active_set(cpu, up);
	/* Instances whose masks changed stay locked until their notifiers have
	 * run, after the hotplug lock is dropped (see pd_finish_change()). Only
	 * this thread, holding the write lock, takes more than one instance
	 * lock; a later hotplug waits for each of them in list order. */
	struct padata_instance *changed = NULL, **tail = &changed;
	for (struct padata_instance *p = instances; p; p = p->next_inst) {
		pd_mutex_lock(&p->lock);
		p->hp_changed = pd_update_usable(p);
		if (!p->hp_changed) {
			pd_mutex_unlock(&p->lock);
			continue;
		}
		p->hp_next = NULL;
		*tail = p;
		tail = &p->hp_next;
	}
	padata__hotplug_write_unlock();
	while (changed) {
		struct padata_instance *p = changed;
		changed = p->hp_next;
		pd_finish_change(p, p->hp_changed);
		pd_mutex_unlock(&p->lock);
	}
	return 0;
}

int padata_cpu_down(unsigned int cpu)
{
	return pd_hotplug(cpu, false);
}

int padata_cpu_up(unsigned int cpu)
{
	return pd_hotplug(cpu, true);
}

/* ---- lifecycle -------------------------------------------------------- */

static unsigned int pd_ring_size_for(unsigned int limit)
{
	unsigned int n = 1;
	while (n < limit)
		n <<= 1;
	return n;
}

/*
 * A zeroed ring of @size slots on whole cache lines of its own: a run of
 * PD_RUN consecutive sequence numbers fills one line (pd_pick_cpu()).
 */
static struct padata_priv **pd_ring_new(unsigned int size)
{
	size_t bytes = ((size_t)size * sizeof(struct padata_priv *) + PADATA_CACHELINE - 1) &
		       ~(size_t)(PADATA_CACHELINE - 1);
	void *r;

	if (posix_memalign(&r, PADATA_CACHELINE, bytes))
		return NULL;
	memset(r, 0, bytes);
	return r;
}

static void pd_free(struct parallel_data *pd)
{
	free(pd->pq);
	free(pd->sq);
	free(pd->idle);
	free(pd->ring);
	free(pd->pcpu_list);
	free(pd->chain_top);
	free(pd->chain_bottom);
	free(pd->touched);
}

/*
 * Allocate the arrays of a zeroed @pd for @nr CPUs and an in-flight limit
 * of @limit. On failure (-ENOMEM) pd_free() frees what was allocated.
 */
static int pd_setup(struct parallel_data *pd, struct padata_instance *pinst,
		    struct workqueue_struct *wq, unsigned int nr, unsigned int limit)
{
	pd->pinst = pinst;
	pd->wq = wq;
	pd->nr = nr;
	pd->limit = limit;
	pd->ring_mask = pd_ring_size_for(limit) - 1;
	if (posix_memalign((void **)&pd->pq, PADATA_CACHELINE, sizeof(*pd->pq) * nr)) {
		pd->pq = NULL;
		return -ENOMEM;
	}
	if (posix_memalign((void **)&pd->sq, PADATA_CACHELINE, sizeof(*pd->sq) * nr)) {
		pd->sq = NULL;
		return -ENOMEM;
	}
	size_t idle_bytes = (nr + PADATA_CACHELINE - 1) / PADATA_CACHELINE * PADATA_CACHELINE;
	if (posix_memalign((void **)&pd->idle, PADATA_CACHELINE, idle_bytes)) {
		pd->idle = NULL;
		return -ENOMEM;
	}
	memset(pd->idle, 1, idle_bytes); /* no worker inside pd_parallel_work() yet */
	memset(pd->pq, 0, sizeof(*pd->pq) * nr);
	memset(pd->sq, 0, sizeof(*pd->sq) * nr);
	pd->ring = pd_ring_new(pd->ring_mask + 1);
	pd->pcpu_list = calloc(nr, sizeof(*pd->pcpu_list));
	pd->chain_top = calloc(nr, sizeof(*pd->chain_top));
	pd->chain_bottom = calloc(nr, sizeof(*pd->chain_bottom));
	pd->touched = calloc(nr, sizeof(*pd->touched));
	if (!pd->ring || !pd->pcpu_list || !pd->chain_top || !pd->chain_bottom || !pd->touched)
		return -ENOMEM;
	for (unsigned int c = 0; c < nr; c++) {
		INIT_WORK(&pd->pq[c].work, pd_parallel_work);
		pd->pq[c].pd = pd;
		pd->pq[c].cpu = (int)c;
		INIT_WORK(&pd->sq[c].work, pd_serial_work);
		pd->sq[c].pd = pd;
		pd->sq[c].cpu = (int)c;
	}
	return 0;
}

struct padata_instance *padata_alloc(struct workqueue_struct *wq, const struct cpumask *pcpumask,
				     const struct cpumask *cbcpumask)
{
	struct padata_instance *pinst;
	struct parallel_data *pd;
	unsigned int nr = nr_cpu_ids;

	if (!wq || !pcpumask || !cbcpumask || !pd_mask_has_active(pcpumask) ||
	    !pd_mask_has_active(cbcpumask)) {
		errno = EINVAL;
		return NULL;
	}
	if (pd_in_padata_context()) {
		errno = EDEADLK;
		return NULL;
	}
	int err = ENOMEM;
	if (posix_memalign((void **)&pinst, PADATA_CACHELINE, sizeof(*pinst)))
		goto err_out;
	/* Zeroed first: pd_free() frees the arrays allocated so far, NULL the rest. */
	memset(pinst, 0, sizeof(*pinst));
	pd = &pinst->pd;
	if (pd_setup(pd, pinst, wq, nr, MAX_OBJ_NUM))
		goto err_free_instance;
	/* A failed init leaves err at ENOMEM (glibc's cannot fail with
	 * default attributes; others may answer ENOMEM or EAGAIN). */
	if (pthread_mutex_init(&pinst->lock, NULL))
		goto err_free_instance;
	if (pthread_mutex_init(&pinst->nb_lock, NULL))
		goto err_destroy_lock;
	if (pthread_mutex_init(&pinst->mask_lock, NULL))
		goto err_destroy_nb_lock;
	if (pthread_mutex_init(&pinst->shells_lock, NULL))
		goto err_destroy_mask_lock;
	cpumask_copy(&pinst->user_pcpu, pcpumask);
	cpumask_copy(&pinst->user_cbcpu, cbcpumask);

	err = padata__hotplug_write_lock();
	if (err)
		goto err_destroy_shells_lock;
	/* Start from "no usable CPU", so the first update computes them all.
	 * No notifier is registered yet: pd_finish_change() only clears CHANGING. */
	pd->ctl = CTL_INVALID;
	pd_finish_change(pinst, pd_update_usable(pinst));
	if (__atomic_load_n(&pd->ctl, __ATOMIC_RELAXED) & CTL_INVALID) {
		err = EINVAL; /* a CPU went down since the check above */
		goto err_unlock_hotplug;
	}
	pinst->next_inst = instances;
	instances = pinst;
	padata__wq_get(wq);
	padata__hotplug_write_unlock();
	return pinst;

err_unlock_hotplug:
	padata__hotplug_write_unlock();
err_destroy_shells_lock:
	pd_mutex_destroy(&pinst->shells_lock);
err_destroy_mask_lock:
	pd_mutex_destroy(&pinst->mask_lock);
err_destroy_nb_lock:
	pd_mutex_destroy(&pinst->nb_lock);
err_destroy_lock:
	pd_mutex_destroy(&pinst->lock);
err_free_instance:
	pd_free(pd);
	free(pinst);
err_out:
	errno = err; /* last: the unwinding above may clobber errno */
	return NULL;
}

struct padata_instance *padata_alloc_possible(struct workqueue_struct *wq)
{
	return padata_alloc(wq, cpu_possible_mask, cpu_possible_mask);
}

/*
 * Set (@on) or clear CTL_STARTED on every live shell of @pinst (not its own
 * pd). Caller holds pinst->shells_lock, so a start and a stop cannot leave
 * the shells in different states. The RMWs release what was set up while
 * stopped and pair with pd_admit()'s CAS by RMW atomicity, as the
 * instance's own in padata_start() / padata_stop().
 */
static void pd_shells_set_started(struct padata_instance *pinst, bool on)
{
	for (struct padata_shell *ps = pd_first_shell(pinst); ps; ps = ps->next) {
		if (!ps->live)
			continue;
		if (on)
			__atomic_fetch_or(&ps->pd.ctl, CTL_STARTED, __ATOMIC_SEQ_CST);
		else
			__atomic_fetch_and(&ps->pd.ctl, ~CTL_STARTED, __ATOMIC_SEQ_CST);
	}
}

int padata_start(struct padata_instance *pinst)
{
	if (!pinst)
		return -EINVAL;
	struct parallel_data *pd = &pinst->pd;
	pd_mutex_lock(&pinst->shells_lock);
	/* The CAS releases what was set up while stopped (limit, ring,
	 * sequence): pairs with the acquire reads of the control word in
	 * pd_admit(). Relaxed guesses: the CAS re-checks. */
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_RELAXED);
	do {
		if (s & CTL_INVALID) {
			pd_mutex_unlock(&pinst->shells_lock);
			return -EINVAL;
		}
	} while (!__atomic_compare_exchange_n(&pd->ctl, &s, s | CTL_STARTED, true, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	pd_shells_set_started(pinst, true);
	pd_mutex_unlock(&pinst->shells_lock);
	return 0;
}

void padata_stop(struct padata_instance *pinst)
{
	if (!pinst)
		return;
	struct parallel_data *pd = &pinst->pd;
	struct padata_shell *ps;
	pd_mutex_lock(&pinst->shells_lock);
	/* Pairs with the CAS of pd_admit() by RMW atomicity (a submission
	 * precedes it and is drained, or sees the flag clear); the drain
	 * check reads the control word with acquire (seq_cst more than
	 * needed). */
	__atomic_fetch_and(&pd->ctl, ~CTL_STARTED, __ATOMIC_SEQ_CST);
	pd_shells_set_started(pinst, false);
	pd_mutex_unlock(&pinst->shells_lock);
	/* Waiting submitters answer -EINVAL now, not after the drain. */
	pd_for_each(pd, pinst, ps)
		pd_sub_broadcast(pd);
	pd = &pinst->pd;
	if (pd_in_worker_of(pd))
		return; /* waiting here would wait for ourselves */
	/* Shells are never unlinked before padata_free(): the walk is safe
	 * without the lock. */
	pd_for_each(pd, pinst, ps)
		pd_drain_wait(pd, pd_jobs_drained);
}

void padata_free(struct padata_instance *pinst)
{
	if (!pinst)
		return;
	struct parallel_data *pd = &pinst->pd;
	if (pd_in_worker_of(pd) || pd_in_padata_context()) {
		/* Its own callbacks would wait for themselves; any other worker or
		 * notifier could wait for a hotplug or mask change that waits for
		 * it (see pd_in_padata_context()). */
		fprintf(stderr,
			"libpadata: padata_free(%p) from inside a workqueue worker (a callback) "
			"or a notifier could wait for itself; ignored\n", (void *)pinst);
		return;
	}
	int err = padata__hotplug_write_lock();
	if (err) {
		fprintf(stderr, "libpadata: padata_free(%p): hotplug lock: %s; ignored\n",
			(void *)pinst, strerror(err));
		return;
	}
	for (struct padata_instance **pp = &instances; *pp; pp = &(*pp)->next_inst) {
		if (*pp == pinst) {
			*pp = pinst->next_inst;
			break;
		}
	}
	padata__hotplug_write_unlock();

	pd_mutex_lock(&pinst->lock);
	/* As in padata_stop(), for the instance and every shell. */
	struct padata_shell *ps;
	pd_mutex_lock(&pinst->shells_lock);
	__atomic_fetch_and(&pd->ctl, ~CTL_STARTED, __ATOMIC_SEQ_CST);
	pd_shells_set_started(pinst, false);
	pd_mutex_unlock(&pinst->shells_lock);
	struct parallel_data *each;
	pd_for_each(each, pinst, ps)
		pd_sub_broadcast(each);
	pd_for_each(each, pinst, ps) {
		pd_drain_wait(each, pd_fully_drained);
		/* Waiting submitters leave with -EINVAL; their last touch is the
		 * count, followed by a signal through the (surviving) queue. */
		padata__wq_wait(each->wq, pd_sub_none, each);
		pd_flush_all_work(each);
	}
	pd_mutex_unlock(&pinst->lock);

	padata__wq_put(pd->wq);
	pd_mutex_destroy(&pinst->lock);
	pd_mutex_destroy(&pinst->nb_lock);
	pd_mutex_destroy(&pinst->mask_lock);
	pd_mutex_destroy(&pinst->shells_lock);
	for (ps = pinst->shells; ps;) {
		struct padata_shell *next = ps->next;
		pd_free(&ps->pd);
		free(ps);
		ps = next;
	}
	pd_free(pd);
	free(pinst);
}

/* ---- shells ----------------------------------------------------------- */

/*
 * A shell is a parallel_data of its own (see struct padata_shell): its jobs
 * take its sequence numbers and pass through its reorder ring, so they wait
 * only for each other. The instance's calls reach every shell through
 * pd_for_each(); a shell's flags follow the instance's (STARTED under
 * shells_lock, INVALID and CHANGING under the instance's lock).
 */
struct padata_shell *padata_alloc_shell(struct padata_instance *pinst)
{
	struct padata_shell *ps;

	if (!pinst) {
		errno = EINVAL;
		return NULL;
	}
	if (pd_in_padata_context()) {
		/* pinst->lock may be held by a mask change draining this callback. */
		errno = EDEADLK;
		return NULL;
	}
	pd_mutex_lock(&pinst->lock);
	/* Under pinst->lock no mask change, limit change or padata_free() of
	 * another shell runs: masks, limit and the shells' liveness are fixed. */
	for (ps = pd_first_shell(pinst); ps && ps->live; ps = ps->next)
		;
	bool fresh = ps == NULL;
	if (fresh) {
		struct parallel_data *def = &pinst->pd;
		if (posix_memalign((void **)&ps, PADATA_CACHELINE, sizeof(*ps))) {
			pd_mutex_unlock(&pinst->lock);
			errno = ENOMEM;
			return NULL;
		}
		memset(ps, 0, sizeof(*ps));
		if (pd_setup(&ps->pd, pinst, def->wq, def->nr,
			     __atomic_load_n(&def->limit, __ATOMIC_RELAXED))) {
			pd_mutex_unlock(&pinst->lock);
			pd_free(&ps->pd);
			free(ps);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(ps->pd.pcpu_list, def->pcpu_list, sizeof(*def->pcpu_list) * def->pw);
		ps->pd.pw = def->pw;
		ps->pd.pw_magic = def->pw_magic;
		cpumask_copy(&ps->pd.p_usable, &def->p_usable);
		padata__mask_store_atomic(&ps->pd.cb_usable, &def->cb_usable);
	}
	pd_mutex_lock(&pinst->shells_lock);
	/* STARTED is stable under shells_lock, INVALID under pinst->lock, and
	 * CHANGING is clear on every shell under pinst->lock. */
	uint64_t flags = __atomic_load_n(&pinst->pd.ctl, __ATOMIC_RELAXED) &
			 (CTL_STARTED | CTL_INVALID);
	if (fresh) {
		/* Relaxed: published by the release store of the list head. */
		__atomic_store_n(&ps->pd.ctl, flags, __ATOMIC_RELAXED);
		ps->live = true;
		ps->next = pinst->shells;
		/* Release: pairs with the acquire load in pd_first_shell(). */
		__atomic_store_n(&pinst->shells, ps, __ATOMIC_RELEASE);
	} else {
		/* A drained, stopped shell: only its flags change. Seq_cst, as
		 * padata_start()'s CAS: releases the shell's state to the
		 * submitters that acquire its control word. */
		uint64_t s = __atomic_load_n(&ps->pd.ctl, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&ps->pd.ctl, &s,
						    (s & ~(CTL_STARTED | CTL_INVALID)) | flags, true,
						    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
			;
		ps->live = true;
	}
	pd_mutex_unlock(&pinst->shells_lock);
	pd_mutex_unlock(&pinst->lock);
	return ps;
}

void padata_free_shell(struct padata_shell *ps)
{
	if (!ps)
		return;
	struct padata_instance *pinst = ps->pd.pinst;
	if (pd_in_worker_of(&ps->pd) || pd_in_padata_context()) {
		/* As padata_free(). */
		fprintf(stderr,
			"libpadata: padata_free_shell(%p) from inside a workqueue worker (a callback) "
			"or a notifier could wait for itself; ignored\n", (void *)ps);
		return;
	}
	pd_mutex_lock(&pinst->lock);
	if (!ps->live) {
		pd_mutex_unlock(&pinst->lock);
		fprintf(stderr, "libpadata: padata_free_shell(%p): shell already freed; ignored\n",
			(void *)ps);
		return;
	}
	pd_mutex_lock(&pinst->shells_lock);
	ps->live = false;
	/* As in padata_stop(): later submissions to the shell get -EINVAL. */
	__atomic_fetch_and(&ps->pd.ctl, ~CTL_STARTED, __ATOMIC_SEQ_CST);
	pd_mutex_unlock(&pinst->shells_lock);
	/* As in padata_free(): its waiting submitters leave with -EINVAL. */
	pd_sub_broadcast(&ps->pd);
	pd_drain_wait(&ps->pd, pd_fully_drained);
	padata__wq_wait(ps->pd.wq, pd_sub_none, &ps->pd);
	pd_flush_all_work(&ps->pd);
	pd_mutex_unlock(&pinst->lock);
}

int padata_do_parallel_shell(struct padata_shell *ps, struct padata_priv *padata, int cb_cpu)
{
	return ps ? pd_do_parallel(&ps->pd, padata, cb_cpu) : -EINVAL;
}

int padata_do_parallel_shell_many(struct padata_shell *ps, struct padata_priv *const jobs[],
				  unsigned int n, int cb_cpu)
{
	return ps ? pd_do_parallel_many(&ps->pd, jobs, n, cb_cpu) : -EINVAL;
}

int padata_do_parallel_shell_wait(struct padata_shell *ps, struct padata_priv *padata, int cb_cpu,
				  int timeout_ms)
{
	return ps ? pd_do_parallel_wait(&ps->pd, padata, cb_cpu, timeout_ms) : -EINVAL;
}

/* ---- notifiers -------------------------------------------------------- */

int padata_register_cpumask_notifier(struct padata_instance *pinst, struct notifier_block *nblock)
{
	if (!pinst || !nblock || !nblock->notifier_call)
		return -EINVAL;
	if (padata__self.in_notifier)
		return -EDEADLK;
	pd_mutex_lock(&pinst->nb_lock);
	struct notifier_block **pp = &pinst->chain;
	for (struct notifier_block *nb = pinst->chain; nb; nb = nb->next) {
		if (nb == nblock) {
			pd_mutex_unlock(&pinst->nb_lock);
			return -EEXIST;
		}
	}
	while (*pp && (*pp)->priority >= nblock->priority)
		pp = &(*pp)->next;
	nblock->next = *pp;
	*pp = nblock;
	pd_mutex_unlock(&pinst->nb_lock);
	return 0;
}

int padata_unregister_cpumask_notifier(struct padata_instance *pinst,
				       struct notifier_block *nblock)
{
	if (!pinst || !nblock)
		return -EINVAL;
	if (padata__self.in_notifier)
		return -EDEADLK;
	pd_mutex_lock(&pinst->nb_lock);
	for (struct notifier_block **pp = &pinst->chain; *pp; pp = &(*pp)->next) {
		if (*pp == nblock) {
			*pp = nblock->next;
			nblock->next = NULL;
			pd_mutex_unlock(&pinst->nb_lock);
			return 0;
		}
	}
	pd_mutex_unlock(&pinst->nb_lock);
	return -ENOENT;
}

/* ---- extensions ------------------------------------------------------- */

/*
 * Run @fn on a stopped, drained instance. padata_start() takes no lock, so
 * "stopped" is checked and CHANGING set in one CAS: a padata_start() after
 * it succeeds, but submissions get -EBUSY until @fn has run, and none can
 * reach the ring or the queues @fn rewrites. Other workers and notifiers
 * are refused like mask changes: pd_hotplug() may hold pinst->lock while it
 * drains the instance whose callback would wait for it here.
 */
static int pd_while_stopped(struct padata_instance *pinst,
			    int (*prep)(struct padata_instance *, void *),
			    void (*fn)(struct parallel_data *, void *), void *arg)
{
	struct parallel_data *pd = &pinst->pd;
	struct padata_shell *ps;
	if (pd_in_worker_of(pd) || pd_in_padata_context())
		return -EDEADLK;
	pd_mutex_lock(&pinst->lock);
	/* Under pinst->lock the shells are fixed: @prep may size by them. */
	int err = prep ? prep(pinst, arg) : 0;
	if (err) {
		pd_mutex_unlock(&pinst->lock);
		return err;
	}
	/* shells_lock: padata_start() sets STARTED on the shells only with it
	 * held, so "the instance is stopped" holds for every shell while we
	 * set CHANGING on them. */
	pd_mutex_lock(&pinst->shells_lock);
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_RELAXED);
	do {
		if (s & CTL_STARTED) {
			pd_mutex_unlock(&pinst->shells_lock);
			pd_mutex_unlock(&pinst->lock);
			return -EBUSY;
		}
		/* Pairs with the CAS of padata_start() and with the control word
		 * CAS in pd_admit(), as the fetch_or of a mask change does. */
	} while (!__atomic_compare_exchange_n(&pd->ctl, &s, s | CTL_CHANGING, true,
					      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	for (ps = pd_first_shell(pinst); ps; ps = ps->next)
		/* As the fetch_or of a mask change. */
		__atomic_fetch_or(&ps->pd.ctl, CTL_CHANGING, __ATOMIC_SEQ_CST);
	pd_mutex_unlock(&pinst->shells_lock);
	pd_for_each(pd, pinst, ps) {
		pd_drain_wait(pd, pd_fully_drained);
		pd_flush_all_work(pd);
		fn(pd, arg);
	}
	/* Release: publishes what @fn rewrote; pairs with the acquire reads
	 * of the control word in pd_admit(). */
	pd_for_each(pd, pinst, ps) {
		__atomic_fetch_and(&pd->ctl, ~CTL_CHANGING, __ATOMIC_SEQ_CST);
		/* A padata_start() during @fn: its waiters may go on. */
		pd_sub_broadcast(pd);
	}
	pd_mutex_unlock(&pinst->lock);
	return 0;
}

/**
 * struct ring_change - the argument of pd_apply_ring().
 * @rings: the new, zeroed reorder rings (pd_ring_size_for(@limit) slots),
 *	one per parallel_data of the instance (its own, then each shell's),
 *	chained through their slot 0 until pd_apply_ring() takes them (so the
 *	change allocates nothing but the rings: one allocation per shell).
 * @limit: the new in-flight limit (of each shell: see padata.h).
 */
struct ring_change {
	struct padata_priv **rings;
	unsigned int limit;
};

static void pd_ring_change_free(struct ring_change *rc)
{
	while (rc->rings) {
		struct padata_priv **r = rc->rings;
		rc->rings = (struct padata_priv **)(void *)r[0];
		free(r);
	}
}

static int pd_ring_alloc(struct padata_instance *pinst, void *arg)
{
	struct ring_change *rc = arg;
	unsigned int n = 1;
	for (struct padata_shell *ps = pd_first_shell(pinst); ps; ps = ps->next)
		n++;
	while (n--) {
		struct padata_priv **r = pd_ring_new(pd_ring_size_for(rc->limit));
		if (!r) {
			pd_ring_change_free(rc);
			return -ENOMEM;
		}
		r[0] = (struct padata_priv *)(void *)rc->rings;
		rc->rings = r;
	}
	return 0;
}

static void pd_apply_ring(struct parallel_data *pd, void *arg)
{
	struct ring_change *rc = arg;
	struct padata_priv **r = rc->rings;
	rc->rings = (struct padata_priv **)(void *)r[0];
	r[0] = NULL;
	free(pd->ring);
	pd->ring = r;
	pd->ring_mask = pd_ring_size_for(rc->limit) - 1;
	__atomic_store_n(&pd->limit, rc->limit, __ATOMIC_RELAXED);
}

int padata_set_max_inflight(struct padata_instance *pinst, unsigned int limit)
{
	if (!pinst || limit < 1 || limit > PADATA_MAX_INFLIGHT_LIMIT)
		return -EINVAL;
	struct ring_change rc = { NULL, limit };
	int err = pd_while_stopped(pinst, pd_ring_alloc, pd_apply_ring, &rc);
	pd_ring_change_free(&rc); /* what was not applied (an error) */
	return err;
}

unsigned int padata_get_max_inflight(const struct padata_instance *pinst)
{
	return pinst ? __atomic_load_n(&pinst->pd.limit, __ATOMIC_RELAXED) : 0;
}

int padata_set_batch(struct padata_instance *pinst, void (*parallel)(struct padata_priv *),
		     void (*parallel_batch)(struct padata_priv *const *, unsigned int, struct padata_priv **),
		     void (*serial)(struct padata_priv *),
		     void (*serial_batch)(struct padata_priv *const *, unsigned int))
{
	struct parallel_data *pd;
	struct padata_shell *ps;
	int err = 0;

	if (!pinst || !parallel != !parallel_batch || !serial != !serial_batch)
		return -EINVAL;
	/* Under shells_lock: padata_start() cannot set STARTED meanwhile. */
	pd_mutex_lock(&pinst->shells_lock);
	pd_for_each(pd, pinst, ps) {
		/* Relaxed: the lock orders us against start; a job in flight
		 * shows in the counts, which pd_jobs_drained() reads itself. */
		if ((__atomic_load_n(&pd->ctl, __ATOMIC_RELAXED) & CTL_STARTED) || !pd_jobs_drained(pd))
			err = -EBUSY;
	}
	if (!err) {
		/* Relaxed: see padata_instance.batch. */
		__atomic_store_n(&pinst->batch.parallel, parallel, __ATOMIC_RELAXED);
		__atomic_store_n(&pinst->batch.parallel_batch, parallel_batch, __ATOMIC_RELAXED);
		__atomic_store_n(&pinst->batch.serial, serial, __ATOMIC_RELAXED);
		__atomic_store_n(&pinst->batch.serial_batch, serial_batch, __ATOMIC_RELAXED);
	}
	pd_mutex_unlock(&pinst->shells_lock);
	return err;
}

int padata_get_cpumask(struct padata_instance *pinst, struct padata_cpumask *out)
{
	if (!pinst || !out)
		return -EINVAL;
	pd_mutex_lock(&pinst->mask_lock);
	cpumask_copy(out->pcpu, pinst->usable.pcpu);
	cpumask_copy(out->cbcpu, pinst->usable.cbcpu);
	pd_mutex_unlock(&pinst->mask_lock);
	return 0;
}

/* padata_get_stats() of one parallel_data: the instance's own or a shell's. */
static void pd_get_stats(struct parallel_data *pd, struct padata_stats *st)
{
	uint64_t completed = 0;

	memset(st, 0, sizeof(*st));
	/* Relaxed: statistics; a snapshot, exact when nothing runs (a drain,
	 * padata_stop() for instance, orders the workers' stores before us). */
	for (unsigned int c = 0; c < pd->nr; c++)
		completed += __atomic_load_n(&pd->sq[c].serialized, __ATOMIC_RELAXED);
	/* In flight as the core counts it: completions (with cancelled
	 * numbers) first, then the control word, as pd_jobs_drained(). */
	uint32_t done = pd_completed_total(pd);
	/* Acquire: the ring and its size read below are those published by
	 * the control word's last release RMW (see the top of the file). */
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_ACQUIRE);
	uint32_t in_flight = (uint32_t)s - done;
	if ((int32_t)in_flight < 0)
		in_flight = 0; /* completions counted after our read of them */
	st->completed = completed;
	st->accepted = completed + in_flight;
	st->in_flight = in_flight;
	for (unsigned int c = 0; c < pd->nr; c++)
		st->busy += __atomic_load_n(&pd->sq[c].busy, __ATOMIC_RELAXED);
	st->reorder_depth_max = __atomic_load_n(&pd->stat_depth_max, __ATOMIC_RELAXED);
	st->limit = __atomic_load_n(&pd->limit, __ATOMIC_RELAXED);
	st->waiting_submitters = __atomic_load_n(&pd->sub_waiters, __ATOMIC_RELAXED);

	/*
	 * The current depth: finished jobs in the ring behind the next to
	 * release. The ring may be replaced while stopped (pd_while_stopped),
	 * so scan it holding a reference, as a submitter does; during a change
	 * (everything is draining) report 0.
	 */
	while (!(s & CTL_CHANGING)) {
		/* Acquire on success and failure, as pd_admit(). */
		if (!__atomic_compare_exchange_n(&pd->ctl, &s, s + CTL_REF_ONE, true, __ATOMIC_SEQ_CST,
						 __ATOMIC_ACQUIRE))
			continue;
		/* Relaxed: statistics; the slots are pointers, read atomically. */
		uint32_t next = __atomic_load_n(&pd->reorder_next, __ATOMIC_RELAXED);
		uint32_t end = (uint32_t)s, depth = 0;
		if (end - next > pd->ring_mask + 1)
			end = next + pd->ring_mask + 1;
		for (uint32_t q = next; q != end; q++) {
			struct padata_priv *j = __atomic_load_n(&pd->ring[q & pd->ring_mask], __ATOMIC_RELAXED);
			depth += j != NULL && j != RING_SKIP;
		}
		st->reorder_depth = depth;
		pd_stat_depth(pd, depth);
		pd_ctl_drop(pd, CTL_REF_ONE, pd->wq);
		break;
	}
	if (st->reorder_depth_max < st->reorder_depth)
		st->reorder_depth_max = st->reorder_depth;
}

/*
 * The instance's figures include its shells': counts and depths are summed
 * (the depths are of separate reorder rings), the highest depth is the
 * highest of any shell, and the limit is each shell's. A freed shell keeps
 * its counts (its memory stays with the instance and is reused), so the
 * sums never go back.
 */
int padata_get_stats(struct padata_instance *pinst, struct padata_stats *st)
{
	if (!pinst || !st)
		return -EINVAL;
	pd_get_stats(&pinst->pd, st);
	for (struct padata_shell *ps = pd_first_shell(pinst); ps; ps = ps->next) {
		struct padata_stats one;
		pd_get_stats(&ps->pd, &one);
		st->accepted += one.accepted;
		st->completed += one.completed;
		st->busy += one.busy;
		st->reorder_depth += one.reorder_depth;
		st->in_flight += one.in_flight;
		st->waiting_submitters += one.waiting_submitters;
		if (st->reorder_depth_max < one.reorder_depth_max)
			st->reorder_depth_max = one.reorder_depth_max;
	}
	return 0;
}

static void pd_apply_seq(struct parallel_data *pd, void *arg)
{
	unsigned int seq = *(unsigned int *)arg;
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_RELAXED);
	/* Drained: completed == accepted; move both to @seq. Stopped and
	 * drained, so the plain-looking orders suffice: the control word CAS below
	 * and padata_start()'s release them to submitters. (completed_base's
	 * seq_cst pairs with pd_completed_total() like the other counts.) */
	__atomic_store_n(&pd->completed_base, pd->completed_base + (seq - (uint32_t)s), __ATOMIC_SEQ_CST);
	__atomic_store_n(&pd->completed_cache, seq, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&pd->ctl, &s, (s & ~CTL_SEQ) | seq, true,
					    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		;
	__atomic_store_n(&pd->reorder_next, seq, __ATOMIC_RELAXED);
}

int padata_test_set_seq(struct padata_instance *pinst, unsigned int seq)
{
	if (!pinst)
		return -EINVAL;
	return pd_while_stopped(pinst, NULL, pd_apply_seq, &seq);
}

int padata_test_add_refs(struct padata_instance *pinst, int32_t delta)
{
	if (!pinst)
		return -EINVAL;
	struct parallel_data *pd = &pinst->pd;
	/* As a submitter's reference: pairs with the seq_cst (acquire) loads
	 * of the drain predicates, which must see it. */
	if (delta >= 0)
		__atomic_fetch_add(&pd->ctl, (uint64_t)delta * CTL_REF_ONE, __ATOMIC_SEQ_CST);
	else
		pd_ctl_drop(pd, (uint64_t)-(int64_t)delta * CTL_REF_ONE, pd->wq);
	return 0;
}

/* ---- multithreaded jobs (padata_mt.c) --------------------------------- */

/*
 * padata_mt.c's only way into an instance (see internal.h). The reference
 * is a submitter's (pd_admit() without a sequence number): drains for mask
 * changes, hotplug and padata_free() wait for it (pd_fully_drained()),
 * padata_stop() does not (pd_jobs_drained()).
 */
int padata__mt_ref(struct padata_instance *pinst, struct padata__mt_view *view)
{
	struct parallel_data *pd = &pinst->pd;

	if (!view) {
		pd_ctl_drop(pd, CTL_REF_ONE, pd->wq);
		return 0;
	}
	if (pd_in_worker_of(pd) || pd_in_padata_context())
		return -EDEADLK;
	/* Acquire: as in pd_admit(); the masks read below are published by the
	 * release RMW of the control word that ended the last change. */
	uint64_t s = __atomic_load_n(&pd->ctl, __ATOMIC_ACQUIRE);
	for (;;) {
		if ((s & (CTL_STARTED | CTL_INVALID)) != CTL_STARTED)
			return -EINVAL;
		if (s & CTL_CHANGING) {
			/* Set and cleared under pinst->lock (pd_update_usable() to
			 * pd_finish_change(), pd_while_stopped()): having had the
			 * lock, the change we saw is over. Not a worker or notifier
			 * (checked above), so the lock holder waits for nothing of
			 * ours. */
			pd_mutex_lock(&pinst->lock);
			pd_mutex_unlock(&pinst->lock);
			/* Acquire, as above. */
			s = __atomic_load_n(&pd->ctl, __ATOMIC_ACQUIRE);
			continue;
		}
		/* As the CAS of pd_admit(): against a change's fetch_or(CHANGING)
		 * by RMW atomicity; acquire (success and failure) as the load. */
		if (__atomic_compare_exchange_n(&pd->ctl, &s, s + CTL_REF_ONE, true, __ATOMIC_SEQ_CST,
						__ATOMIC_ACQUIRE))
			break;
	}
	view->wq = pd->wq;
	view->pcpu_list = pd->pcpu_list;
	view->pw = pd->pw;
	return 0;
}
