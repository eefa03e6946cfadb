/* SPDX-License-Identifier: MIT */
/*
 * padata/padata.h - ordered parallel execution (the kernel's padata, 2.6.36
 * API) in userspace. Include it as <linux/padata.h>.
 *
 * A caller submits jobs (struct padata_priv) one at a time with
 * padata_do_parallel(). Each job's parallel() runs once on a workqueue
 * worker pinned to a CPU of the instance's usable parallel mask, many jobs
 * at once. Whoever finishes the job calls padata_do_serial() once, from any
 * thread. The job's serial() then runs once on the worker pinned to the
 * cb_cpu given at submission.
 *
 * Ordering guarantee: jobs leave the reorder stage in the order
 * padata_do_parallel() accepted them (one total order per instance, fixed
 * by a sequence number taken at acceptance); serial() calls on one cb_cpu
 * therefore happen one at a time in that order. serial() calls on different
 * CPUs may overlap. Jobs accepted before a cpumask change (set, add, remove,
 * cpu_down/cpu_up) all run serial() before any job accepted after it.
 *
 * Error convention: int functions return 0 or a negative errno; padata_alloc
 * returns NULL and sets errno. No padata function holds a lock while it
 * calls parallel() or serial(), so callbacks may submit jobs; notifiers run
 * as padata_register_cpumask_notifier() says.
 *
 * Calls that wait for instances or take the hotplug lock (padata_alloc,
 * padata_free, mask changes, cpu_down/cpu_up, padata_set_max_inflight,
 * padata_test_set_seq) refuse to run on a worker of any padata workqueue
 * (in parallel(), serial() or any work item) and in a notifier: a mask
 * change or hotplug may be draining the instance whose callback is calling,
 * or running the notifier, and would wait for the call that waits for it.
 *
 * Sequence numbers are 32-bit and wrap; the reorder stage indexes a ring
 * whose size is a power of two, so wrapping is harmless.
 */
#ifndef PADATA_PADATA_H
#define PADATA_PADATA_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "export.h"
#include "cpumask.h"
#include "notifier.h"
#include "workqueue.h"
#include "cpu.h"

PADATA_BEGIN_DECLS

/* cpumask types for padata_set_cpumask(), padata_add_cpu(), notifiers. */
#define PADATA_CPU_SERIAL   0x01
#define PADATA_CPU_PARALLEL 0x02

/** MAX_OBJ_NUM - default limit of jobs in flight per instance (2.6.36). */
#define MAX_OBJ_NUM 1000
/** PADATA_MAX_INFLIGHT_LIMIT - the highest limit padata_set_max_inflight() takes. */
#define PADATA_MAX_INFLIGHT_LIMIT (1u << 20)

#ifndef container_of
/** container_of - the structure that embeds @ptr as its @member. */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

struct parallel_data;
struct padata_instance;
struct padata_shell;

/**
 * struct padata_priv - one job, embedded in the caller's request.
 * @info: free for the caller (IPsec kept its error code here).
 * @parallel: required; called once, on a parallel worker.
 * @serial: required; called once, on the worker of the job's cb_cpu.
 *
 * Zero the structure before the first submission (the private fields tell a
 * job in flight from an idle one). The job belongs to padata from an
 * accepted padata_do_parallel() until its serial() is called; from the
 * start of serial() it is the caller's again, and serial() may free it or
 * submit it anew.
 */
struct padata_priv {
	struct padata_priv *next;   /* private: queue link */
	struct parallel_data *pd;   /* private: instance while in flight */
	unsigned int seq_nr;        /* private: acceptance order (wraps) */
	int cb_cpu;                 /* private: serial CPU, set on submission */
	int info;
	unsigned int state;         /* private: idle, queued, reordering */
	void (*parallel)(struct padata_priv *padata);
	void (*serial)(struct padata_priv *padata);
};

/**
 * struct padata_cpumask - the usable masks, as handed to notifiers.
 * @pcpu: CPUs that run parallel().
 * @cbcpu: CPUs that may be named as cb_cpu.
 */
struct padata_cpumask {
	cpumask_var_t pcpu;
	cpumask_var_t cbcpu;
};

/**
 * padata_alloc - a new, stopped instance running its work on @wq.
 * @wq: workqueue whose workers run parallel() and serial(); it must outlive
 *      the instance.
 * @pcpumask: CPUs allowed to run parallel(); copied.
 * @cbcpumask: CPUs allowed as cb_cpu; copied.
 *
 * Masks may name offline or nonexistent CPUs: the usable masks are the
 * user masks ANDed with cpu_active_mask, recomputed on every hotplug.
 * Return: the instance, or NULL with errno EINVAL (@wq NULL, a mask NULL or
 * without an active CPU), EDEADLK (called on a workqueue worker or in a
 * notifier, see above) or ENOMEM.
 */
PADATA_API struct padata_instance *padata_alloc(struct workqueue_struct *wq,
						const struct cpumask *pcpumask,
						const struct cpumask *cbcpumask);

/** padata_alloc_possible - padata_alloc(@wq, cpu_possible_mask, cpu_possible_mask). */
PADATA_API struct padata_instance *padata_alloc_possible(struct workqueue_struct *wq);

/**
 * padata_free - wait until every accepted job has run serial(), stop the
 * instance and free it. Does not destroy the workqueue. Accepts NULL.
 * On a worker of any padata workqueue (a callback, of this or any other
 * instance, or a work item) or in a notifier it cannot wait safely: it
 * prints a message on stderr naming @pinst and does nothing.
 */
PADATA_API void padata_free(struct padata_instance *pinst);

/**
 * padata_start - allow submissions (to the instance and all its shells).
 * Any thread; takes a mutex that is never held while waiting. When it races a
 * padata_set_max_inflight() or padata_test_set_seq() that found the
 * instance stopped, it succeeds but submissions get -EBUSY until that call
 * has returned.
 * Return: 0; -EINVAL when @pinst is NULL or a usable mask is empty (the
 * instance stays stopped).
 */
PADATA_API int padata_start(struct padata_instance *pinst);

/**
 * padata_stop - refuse new submissions, then wait until every accepted job
 * has returned from serial(). Accepts NULL. From a workqueue worker (inside
 * a callback) it refuses new submissions but returns without waiting.
 */
PADATA_API void padata_stop(struct padata_instance *pinst);

/**
 * padata_do_parallel - submit @padata; its serial() will run on @cb_cpu.
 *
 * Any thread, callbacks included; lock-free and never blocks. Checks, in
 * this order:
 * Return: 0 when accepted;
 *   -EINVAL: @pinst or @padata NULL, a callback NULL, the instance not
 *            started or invalid, @cb_cpu not in the usable serial mask, or
 *            @padata still in flight (it is left untouched);
 *   -EBUSY: a cpumask change is in progress (until its notifiers have
 *           all returned), padata_set_max_inflight() or
 *           padata_test_set_seq() is running, or the jobs in flight reached
 *           the limit (padata_set_max_inflight()).
 * On -EINVAL and -EBUSY nothing was queued: the caller still owns the job.
 *
 * parallel() runs on a CPU of the usable parallel mask: @cb_cpu when the
 * instance has no shells, no job is in flight, @cb_cpu is in that mask, its
 * worker has lately waited long for work (a trickle of jobs), the caller
 * does not run on @cb_cpu's CPU and no other submission races (one worker
 * then runs parallel() and serial() in one wake-up); otherwise the
 * parallel CPUs in turn by sequence number. An idle worker may take jobs
 * another has not started.
 */
PADATA_API int padata_do_parallel(struct padata_instance *pinst,
				  struct padata_priv *padata, int cb_cpu);

/**
 * padata_do_parallel_many - submit @jobs[0..@n) in this order, as @n calls
 * of padata_do_parallel() would, in one call: the longest prefix of them
 * the instance takes now.
 * @pinst: the instance.
 * @jobs: the jobs; the array is only read during the call.
 * @n: how many (0 is accepted and submits nothing).
 * @cb_cpu: the serial CPU of every one of them.
 *
 * Any thread, callbacks included; lock-free and never blocks. The accepted
 * jobs take consecutive sequence numbers (no other submission falls between
 * them), so their serial() calls run in array order. The prefix ends at the
 * first job that is NULL, lacks a callback or is in flight (also a job
 * named twice: the second time), or where the in-flight limit is reached;
 * the jobs after it are the caller's as they were (those cut off by the
 * limit were claimed and handed back; counted once in the busy statistic). One
 * admission, one reference and one call for all of them is what it saves
 * over padata_do_parallel(): a binding that crosses a language boundary
 * per call (dev.padata's Java API) hands a run of jobs over at once.
 * Return: how many were accepted, 1 to @n (jobs[0..k) are padata's); 0 when
 *   @n is 0 (and @pinst and @jobs are not NULL); otherwise nothing was queued
 *   and, as padata_do_parallel() answers for jobs[0]:
 *   -EINVAL: @pinst or @jobs NULL, jobs[0] NULL, without a callback or in
 *            flight, the instance not started or invalid, @cb_cpu not in
 *            the usable serial mask;
 *   -EBUSY: a cpumask change, padata_set_max_inflight() or
 *           padata_test_set_seq() in progress, or the limit reached.
 * To wait for room, submit the next job with padata_do_parallel_wait() and
 * go on from the one after it.
 */
PADATA_API int padata_do_parallel_many(struct padata_instance *pinst,
				       struct padata_priv *const jobs[], unsigned int n,
				       int cb_cpu);

/**
 * padata_do_parallel_wait - submit @padata, sleeping while the instance is
 * busy instead of answering -EBUSY.
 * @pinst: the instance.
 * @padata: the job (as for padata_do_parallel()).
 * @cb_cpu: the CPU whose worker runs its serial().
 * @timeout_ms: how long to wait at most, in milliseconds; < 0 waits without
 *	limit; 0 is exactly padata_do_parallel() (-EBUSY included).
 *
 * Makes the checks of padata_do_parallel(), with its -EINVAL answers. Where
 * that would answer -EBUSY (the jobs in flight reached the limit, or a
 * cpumask change, padata_set_max_inflight() or padata_test_set_seq() is in
 * progress) the caller sleeps on a futex, costing no CPU, until the job is
 * accepted. Waiters are admitted in the order they began to wait (a caller
 * that finds others waiting queues behind them), and woken when room is
 * back at a low-water mark (the jobs in flight fell to half the limit or
 * below at first; the mark rises toward 7/8 of the limit when the woken
 * caller keeps finding the pipeline run dry), not once per completed job. While nobody waits this costs the
 * pipeline nothing but one load per serial batch.
 *
 * Any thread but the instance's own workers and notifiers. May be called
 * while other threads stop, change or free the instance: a waiter then
 * returns -EINVAL, and padata_free() waits until every waiter has left.
 *
 * Return: 0 when accepted (the job now belongs to padata until its
 * serial());
 *   -EINVAL: @pinst or @padata NULL, a callback NULL, @padata still in
 *            flight, the instance not started or invalid, or @cb_cpu not in
 *            the usable serial mask, whether at the call or while waiting
 *            (padata_stop(), padata_free(), a mask change that removed
 *            @cb_cpu or left no usable CPU);
 *   -EDEADLK: @timeout_ms != 0 and called on a worker of @pinst's workqueue
 *            (its parallel(), serial() or any work item there) or inside a
 *            cpumask notifier (any instance's: hotplug runs them while
 *            other instances' changes are still in progress), where waiting
 *            could wait for itself; checked after the NULL checks;
 *   -ETIMEDOUT: @timeout_ms > 0 passed without acceptance;
 *   -EBUSY: only with @timeout_ms == 0, as padata_do_parallel().
 * On every error nothing was queued: the caller still owns the job.
 */
PADATA_API int padata_do_parallel_wait(struct padata_instance *pinst,
				       struct padata_priv *padata, int cb_cpu, int timeout_ms);

/**
 * padata_do_serial - hand the finished @padata to the reorder stage.
 *
 * Any thread, exactly once per accepted job; do not touch the job after it.
 * Lock-free: the thread that completes the next job in order releases every
 * consecutive finished job it finds to the serial workers. A call on a job
 * that is not in flight (never submitted, or finished twice) is reported on
 * stderr with the job's address and otherwise ignored.
 */
PADATA_API void padata_do_serial(struct padata_priv *padata);

/**
 * padata_set_cpumasks - replace both user masks.
 *
 * Blocks until the jobs accepted before the call have run serial(); new
 * submissions get -EBUSY meanwhile. Masks without an active CPU are
 * accepted but leave the instance invalid (submissions get -EINVAL) until
 * a CPU of them comes up or valid masks are set; it then runs again if it
 * had been started.
 * Return: 0; -EINVAL for NULL arguments; -EDEADLK when called on a worker
 * of any padata workqueue (a callback or work item) or in a notifier, which
 * could wait for itself (see above).
 */
PADATA_API int padata_set_cpumasks(struct padata_instance *pinst, struct cpumask *pcpumask,
				   struct cpumask *cbcpumask);

/**
 * padata_set_cpumask - replace one user mask; as padata_set_cpumasks().
 * Return: also -EINVAL when @cpumask_type is neither PADATA_CPU_PARALLEL
 * nor PADATA_CPU_SERIAL.
 */
PADATA_API int padata_set_cpumask(struct padata_instance *pinst, int cpumask_type,
				  struct cpumask *cpumask);

/**
 * padata_add_cpu - add @cpu to the masks named by @mask (a bit-or of
 * PADATA_CPU_SERIAL and PADATA_CPU_PARALLEL); as padata_set_cpumasks().
 * Return: 0; -EINVAL for NULL @pinst, @cpu outside [0, nr_cpu_ids), or
 * @mask 0 or with other bits; -EDEADLK as for padata_set_cpumasks().
 */
PADATA_API int padata_add_cpu(struct padata_instance *pinst, int cpu, int mask);

/** padata_remove_cpu - remove @cpu from the masks named by @mask; as padata_add_cpu(). */
PADATA_API int padata_remove_cpu(struct padata_instance *pinst, int cpu, int mask);

/**
 * padata_register_cpumask_notifier - add @nblock to the instance's chain.
 *
 * After every change of the usable masks (user change or hotplug), with no
 * job in flight, each notifier is called with action = the bit-or of
 * PADATA_CPU_PARALLEL / PADATA_CPU_SERIAL for the masks that changed, and
 * data = a struct padata_cpumask * holding the new usable masks (valid
 * during the call only). Until the whole chain has returned, submissions
 * get -EBUSY (retryable), as 2.6.36 keeps its reset flag across the chain.
 * Notifiers run on the thread that made the change, without the hotplug
 * lock: a notifier may wait for a thread that allocates or frees another
 * instance (unless a cpu_down/cpu_up starts meanwhile: it holds the hotplug
 * lock while it waits for this instance's chain). What stays held is the instance's own serialization: other
 * mask changes, cpu_down/cpu_up, padata_set_max_inflight() and
 * padata_free() of this instance, and (un)registering its notifiers, wait
 * until the chain has run (during cpu_down/cpu_up, so do those of the other
 * instances that hotplug changed and has not notified yet), so a notifier
 * must not wait for a thread making those calls. From inside a
 * notifier, mask changes, cpu_down/cpu_up, padata_set_max_inflight() and
 * (un)registering get -EDEADLK, padata_alloc() NULL with errno EDEADLK,
 * padata_free() a message on stderr and no effect.
 * Return: 0; -EINVAL for NULL arguments or a NULL notifier_call; -EEXIST
 * when @nblock is already registered; -EDEADLK from inside a notifier.
 */
PADATA_API int padata_register_cpumask_notifier(struct padata_instance *pinst,
						struct notifier_block *nblock);

/**
 * padata_unregister_cpumask_notifier - remove @nblock from the chain.
 * Return: 0; -EINVAL for NULL arguments; -ENOENT when it is not registered;
 * -EDEADLK from inside a notifier.
 */
PADATA_API int padata_unregister_cpumask_notifier(struct padata_instance *pinst,
						  struct notifier_block *nblock);

/* ---- Extensions beyond the 2.6.36 API ------------------------------- */

/**
 * padata_set_max_inflight - set the limit of jobs in flight (accepted,
 * serial() not yet returned) beyond which padata_do_parallel() returns
 * -EBUSY. Default MAX_OBJ_NUM. The limit holds per shell: the instance's
 * own jobs and those of each padata_alloc_shell() shell are counted apart,
 * each against this limit.
 * Return: 0; -EINVAL for NULL @pinst or @limit outside
 * [1, PADATA_MAX_INFLIGHT_LIMIT]; -EBUSY while the instance is started;
 * -ENOMEM; -EDEADLK on a worker of any padata workqueue or in a notifier.
 */
PADATA_API int padata_set_max_inflight(struct padata_instance *pinst, unsigned int limit);

/** padata_get_max_inflight - the current limit; 0 for NULL. */
PADATA_API unsigned int padata_get_max_inflight(const struct padata_instance *pinst);

/**
 * padata_get_cpumask - copy the usable masks into @out.
 * Return: 0; -EINVAL for NULL arguments.
 */
PADATA_API int padata_get_cpumask(struct padata_instance *pinst, struct padata_cpumask *out);

/** PADATA_BATCH_MAX - the most jobs one batch callback of padata_set_batch() is handed. */
#define PADATA_BATCH_MAX 32

/**
 * PADATA_BATCH_CLAIMING - what a batch's takeable slot holds while its worker
 * claims the next job (padata_batch_claim()); never a job.
 */
#define PADATA_BATCH_CLAIMING ((struct padata_priv *)1)

/**
 * padata_set_batch - let a binding run a class of jobs' callbacks a run at a
 * time (for example one upcall into another language per drained run).
 * @pinst: the instance (its shells included).
 * @parallel: the parallel() function that marks the class's jobs, or NULL.
 * @parallel_batch: called instead of parallel() with up to PADATA_BATCH_MAX
 *	jobs of one drained queue whose ->parallel is @parallel, in queue
 *	order (@jobs, @n), and @takeable. @jobs[0] is the caller's; the others
 *	stay takeable by idle workers until claimed: before it starts @jobs[i]
 *	(i >= 1, in order) the function must call
 *	padata_batch_claim(@takeable, @jobs[i]), and when that answers 0 (an
 *	idle worker took @jobs[i] and every job after it) return without
 *	touching @jobs[i..n-1]. For each job it runs it must do what parallel()
 *	would (end it with padata_do_serial(), on this thread or later on
 *	another). NULL with @parallel NULL.
 * @serial: the serial() function that marks the class's jobs, or NULL.
 * @serial_batch: called instead of serial() with up to PADATA_BATCH_MAX
 *	consecutive released jobs of one CPU's serial queue whose ->serial is
 *	@serial, in sequence order; each job is already the caller's (as at
 *	the start of its serial()), and all of them count as in flight until
 *	the call returns. NULL with @serial NULL.
 *
 * Jobs of other classes, and every job while no pair is set, run their own
 * callbacks one by one, as the seed does: C users need not call this. The
 * batch functions run where the per-job callbacks would (same worker,
 * same rules: a batch is one callback of @pinst). A parallel batch leaves
 * its unstarted jobs takeable, as per-job callbacks do: a parallel() that
 * blocks (on a lock, a latch, another job) does not hold the rest of its
 * run, which an idle worker takes. A serial run delays the completion
 * count of its first jobs until the last returns (a submitter waiting for
 * room may wait for the whole run).
 *
 * Only while the instance is stopped with no job in flight (just after
 * padata_alloc(), or after padata_stop()); the functions must stay callable
 * until padata_free(). Never waits.
 *
 * Return: 0;
 *   -EINVAL: @pinst NULL, or a function of a pair given without the other;
 *   -EBUSY: @pinst (or a shell of it) started, or jobs still in flight
 *           (a callback of @pinst always gets this: its own job is).
 */
PADATA_API int padata_set_batch(struct padata_instance *pinst,
				void (*parallel)(struct padata_priv *),
				void (*parallel_batch)(struct padata_priv *const *jobs, unsigned int n,
						       struct padata_priv **takeable),
				void (*serial)(struct padata_priv *),
				void (*serial_batch)(struct padata_priv *const *jobs, unsigned int n));

/**
 * padata_batch_claim - in a parallel batch (padata_set_batch()), take the
 * next job of the run before starting it.
 * @takeable: the batch function's @takeable argument.
 * @job: the next job of the run: @jobs[i], after @jobs[i-1] was claimed
 *	(or, for i == 1, after the call began).
 *
 * Two atomic operations on the worker's own line while nobody steals: a
 * compare-and-swap of @takeable from @job to PADATA_BATCH_CLAIMING, and a
 * release store of @job->next (NULL or not) that leaves the jobs after @job
 * takeable. The slot never reads NULL while jobs are left in it: an idle
 * worker that sees PADATA_BATCH_CLAIMING looks again instead of going to
 * sleep, so a job after @job cannot be left behind a blocked @job while a
 * worker sleeps. Bindings may do the same two operations themselves on
 * @takeable (the Java binding does, to stay out of a downcall per job):
 * a failed CAS that read NULL means taken, one that read anything else
 * means a wrong @job; after a successful one store @job->next (release)
 * at once, with nothing in between that can block, then run @job.
 *
 * Return: 1 when @job is the caller's to run; 0 when an idle worker took it
 * and every job after it (run none of them); -EINVAL for NULL arguments or
 * a @job that is not the next takeable one (nothing taken).
 */
PADATA_API int padata_batch_claim(struct padata_priv **takeable, struct padata_priv *job);

/* ---- Shells: independent order domains (the kernel's later padata_shell) ---- */

/**
 * padata_alloc_shell - a new order domain on @pinst's workers.
 * @pinst: the instance whose workqueue, masks and state the shell shares.
 *
 * Jobs submitted to a shell (padata_do_parallel_shell()) are ordered among
 * themselves exactly as padata_do_parallel() orders an instance's jobs
 * (serial() in submission order per cb_cpu, released in submission order),
 * and never wait for jobs of another shell or of the instance's own
 * default shell (what padata_do_parallel() uses): a slow job of one shell
 * does not delay serial() of another. The shell follows the instance:
 * padata_start()/padata_stop(), mask changes and hotplug (order holds
 * across them within each shell; notifiers run once per change, not once
 * per shell), padata_set_max_inflight() and padata_free(), which frees the
 * shells still allocated. A shell allocated while the instance runs
 * accepts jobs at once.
 *
 * The in-flight limit is per shell: each shell (and the default one)
 * admits up to padata_get_max_inflight() jobs of its own before its
 * submissions get -EBUSY, so a shell whose jobs are stuck cannot starve
 * the others of admissions. Memory grows with the shells: each has a
 * reorder ring of the limit's size and per-CPU queues.
 *
 * Return: the shell, or NULL with errno EINVAL (@pinst NULL), EDEADLK
 * (called on a worker of any padata workqueue or in a notifier, as
 * padata_alloc()) or ENOMEM. The memory of a shell freed by
 * padata_free_shell() is reused by the next shell of the instance.
 */
PADATA_API struct padata_shell *padata_alloc_shell(struct padata_instance *pinst);

/**
 * padata_free_shell - refuse new jobs of @ps (padata_do_parallel_shell()
 * then answers -EINVAL), wait until every accepted job of it has returned
 * from serial(), and release it. Jobs of other shells go on meanwhile.
 * Accepts NULL. Like padata_free(), on a worker of any padata workqueue or
 * in a notifier it cannot wait safely: it prints a message on stderr and
 * does nothing; a second call on the same shell is reported likewise. Do
 * not use @ps afterwards (padata_free() of its instance frees it).
 */
PADATA_API void padata_free_shell(struct padata_shell *ps);

/**
 * padata_do_parallel_shell - padata_do_parallel() in the order domain @ps.
 *
 * Any thread, callbacks included; lock-free and never blocks. The job's
 * serial() runs on @cb_cpu after serial() of every earlier job of @ps with
 * the same @cb_cpu, and is released after every earlier job of @ps.
 * Return: as padata_do_parallel(): 0 when accepted; -EINVAL for @ps or
 * @padata NULL, a callback NULL, the instance stopped or invalid, @ps
 * freed, @cb_cpu not in the usable serial mask, or @padata in flight;
 * -EBUSY during a cpumask change (on any shell of the instance), a
 * padata_set_max_inflight() or padata_test_set_seq(), or when @ps has
 * padata_get_max_inflight() jobs in flight. Nothing is queued on an error.
 */
PADATA_API int padata_do_parallel_shell(struct padata_shell *ps, struct padata_priv *padata,
					int cb_cpu);

/**
 * padata_do_parallel_shell_many - padata_do_parallel_many() in the order
 * domain @ps: the accepted jobs are consecutive in @ps's order.
 * Return: as padata_do_parallel_many(); -EINVAL also for @ps NULL, or
 *   freed (padata_free_shell()).
 */
PADATA_API int padata_do_parallel_shell_many(struct padata_shell *ps,
					     struct padata_priv *const jobs[], unsigned int n,
					     int cb_cpu);

/**
 * padata_do_parallel_shell_wait - padata_do_parallel_wait() in the order
 * domain @ps: sleeps (on a futex, in FIFO order with the shell's other
 * waiters) while @ps is busy instead of answering -EBUSY. Waiters of
 * different shells wait apart: room in one shell wakes only its own.
 * @ps: the shell.
 * @padata: the job (as for padata_do_parallel()).
 * @cb_cpu: the CPU whose worker runs its serial().
 * @timeout_ms: as for padata_do_parallel_wait(); 0 is exactly
 *	padata_do_parallel_shell().
 *
 * Any thread but the instance's workers and notifiers. padata_free_shell()
 * and padata_free() make the shell's waiters return -EINVAL and wait until
 * they have left.
 * Return: as padata_do_parallel_wait(): 0; -EINVAL (@ps NULL, and the
 * causes of padata_do_parallel_shell(), also while waiting: stop, free of
 * the shell or the instance, a mask change that removed @cb_cpu);
 * -EDEADLK; -ETIMEDOUT; -EBUSY only with @timeout_ms == 0. On every error
 * nothing was queued.
 */
PADATA_API int padata_do_parallel_shell_wait(struct padata_shell *ps, struct padata_priv *padata,
					     int cb_cpu, int timeout_ms);

/**
 * struct padata_mt_job - one range of work for padata_do_multithreaded()
 * (the kernel's struct, same fields).
 * @thread_fn: called once per chunk with [start, end) of the chunk and
 *	@fn_arg; on a worker of the instance or on the calling thread, many
 *	chunks at once. Required.
 * @fn_arg: passed to @thread_fn unchanged.
 * @start: first index of the range.
 * @size: number of indexes; start + size must not exceed ULONG_MAX (the
 *	range [start, start + size) ends at ULONG_MAX at the latest). 0: no
 *	chunk, nothing runs.
 * @align: chunk boundaries other than @start and start + size are
 *	start + a multiple of @align; at least 1.
 * @min_chunk: the least size of a chunk (only a range smaller than it gets
 *	one smaller chunk); at least 1.
 * @max_threads: the most threads that run chunks, the caller included; at
 *	least 1.
 */
struct padata_mt_job {
	void (*thread_fn)(unsigned long start, unsigned long end, void *arg);
	void *fn_arg;
	unsigned long start;
	unsigned long size;
	unsigned long align;
	unsigned long min_chunk;
	int max_threads;
};

/**
 * padata_do_multithreaded - run @job->thread_fn over [start, start + size)
 * in chunks, on the workers of @pinst and the calling thread; return when
 * every chunk has returned.
 *
 * Chunks: the range is cut into pieces of one size c (the last one takes
 * the remainder, so it is at least c and under 2c), where c is the size
 * divided by 4 per thread (the kernel's load-balancing factor, for
 * threads that finish at different times), at least min_chunk, rounded up
 * to a multiple of align. Each chunk runs exactly once. The threads are
 * the caller and up to min(max_threads, weight of the usable parallel
 * mask, size / min_chunk) - 1 helpers, work items queued on the workers of
 * distinct CPUs of the usable parallel mask, starting after the CPU the
 * caller runs on (so it gets none when it is in the mask); every thread
 * takes chunks until none is left. A helper shares its worker with the instance's
 * parallel() and serial() calls (they wait while it runs chunks, and it
 * waits behind them), and the call returns once every helper has returned,
 * so a long callback on a helper's CPU delays the return.
 *
 * Any thread that is not a worker of a padata workqueue or in a notifier.
 * While the job runs it holds the instance as a submitter does: a mask
 * change, cpu_down/cpu_up and padata_free() of this instance wait until it
 * returns (padata_stop() does not); a call during a mask change waits
 * until the change (with its notifiers) is over, then uses the new mask.
 * Inside @thread_fn the calls that a callback may not make are refused the
 * same way (-EDEADLK, see the top of this file), on the caller's chunks
 * too (there, as in a notifier, (un)registering a notifier as well), and
 * padata_do_parallel_wait() answers -EDEADLK, as in a callback: it could
 * wait for a mask change that waits for this job. padata_do_parallel() is
 * fine. A chunk must not wait for a mask
 * change, or for another chunk.
 *
 * Checks, in this order:
 * Return: 0 when every chunk has run (at once when @job->size is 0);
 *   -EINVAL: @pinst or @job NULL, @job->thread_fn NULL, @job->align,
 *            @job->min_chunk or @job->max_threads below 1, or
 *            start + size above ULONG_MAX;
 *   -EDEADLK: called on a worker of any padata workqueue (parallel(),
 *            serial(), a work item, a chunk of another job) or in a
 *            notifier, or from a chunk of a multithreaded job;
 *   -EINVAL: the instance is not started or invalid.
 * On an error no chunk has run. @job is only read (unlike the kernel's,
 * which consumes start and size), so it may be run again as it is.
 */
PADATA_API int padata_do_multithreaded(struct padata_instance *pinst, struct padata_mt_job *job);

/**
 * struct padata_stats - what padata_get_stats() reports about an instance,
 * its shells (padata_alloc_shell(), freed ones included) counted in: the
 * counts and depths are sums over the shells, @reorder_depth_max the
 * highest of any shell, @limit each shell's.
 * @accepted: jobs accepted since padata_alloc() (completed + in flight).
 * @completed: jobs whose serial() returned.
 * @busy: -EBUSY answers: padata_do_parallel() refusals for the in-flight
 *	limit or a mask change in progress, including the tries of
 *	padata_do_parallel_wait() that had to wait.
 * @reorder_depth: finished jobs (padata_do_serial() called) held in the
 *	reorder stage now, waiting for an earlier job.
 * @reorder_depth_max: the highest reorder depth seen: observed once per
 *	release (the jobs released together, less the one that let them go,
 *	all sat finished behind another job) and at each padata_get_stats()
 *	call, so never below any @reorder_depth reported.
 * @in_flight: jobs accepted whose serial() has not returned.
 * @limit: the in-flight limit (padata_set_max_inflight()).
 * @waiting_submitters: threads sleeping in padata_do_parallel_wait().
 *
 * The counts are kept where the core writes anyway (per CPU, by the CPU's
 * own worker) and summed by the call, so they cost the job path nothing; a
 * call while jobs run gives a snapshot whose fields may be off from one
 * another by the jobs finishing meanwhile. After padata_stop() returned
 * (nothing running) they are exact: accepted == completed.
 */
struct padata_stats {
	uint64_t accepted;
	uint64_t completed;
	uint64_t busy;
	uint32_t reorder_depth;
	uint32_t reorder_depth_max;
	uint32_t in_flight;
	uint32_t limit;
	uint32_t waiting_submitters;
};

/**
 * padata_get_stats - fill @st with the statistics of @pinst.
 *
 * Any thread, callbacks and notifiers included; lock-free, never blocks.
 * Return: 0; -EINVAL when @pinst or @st is NULL.
 */
PADATA_API int padata_get_stats(struct padata_instance *pinst, struct padata_stats *st);

/**
 * padata_test_set_seq - test hook: make the next accepted job take sequence
 * number @seq (to run across the 32-bit wrap), in the instance and in each
 * of its shells.
 * Return: 0; -EINVAL for NULL; -EBUSY while started; -EDEADLK on a worker
 * of any padata workqueue or in a notifier.
 */
PADATA_API int padata_test_set_seq(struct padata_instance *pinst, unsigned int seq);

/**
 * padata_abi_query - sizes and offsets of the public structs, for bindings
 * that declare the layouts themselves (the Java front end tests them).
 * @name: "sizeof(struct padata_priv)", "offsetof(struct padata_priv, serial)",
 *        and likewise for every field of struct padata_priv, work_struct,
 *        notifier_block, cpumask, padata_cpumask, padata_mt_job and padata_stats.
 * Return: the value, or -1 for an unknown or NULL name.
 */
PADATA_API long padata_abi_query(const char *name);

PADATA_END_DECLS

#endif /* PADATA_PADATA_H */
