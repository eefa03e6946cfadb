/* SPDX-License-Identifier: MIT */
/*
 * padata/workqueue.h - a per-CPU workqueue with the kernel's names.
 *
 * Reached through <linux/padata.h> (or <linux/workqueue.h>).
 *
 * A workqueue owns one pthread per possible CPU (nr_cpu_ids of them), pinned
 * to that CPU (padata_cpu_to_host()) and named "<name>/<cpu>". Each worker is
 * fed by its own lock-free multi-producer queue, runs the work items queued
 * on its CPU one at a time in FIFO order, and parks on a futex when idle.
 * A work item is queued at most once at a time: queueing a pending item is a
 * no-op that returns false. An item may be re-queued from its own function;
 * re-queued on another CPU while it runs, the two runs may overlap (as in
 * kernels before 3.7): queue an item on one CPU if it must not run twice
 * at once. Thread names keep the "/<cpu>" suffix and cut the name.
 *
 * Flags and max_active exist for source compatibility: every CPU has exactly
 * one worker, so at most one item per CPU runs at a time.
 *
 * Each function's kernel name (alloc_workqueue, queue_work_on, ...) is a
 * macro for the exported padata_ symbol (see padata/cpumask.h on names).
 * queue_work_on() keeps the kernel's int cpu: it is a CPU the call only
 * reads, and WORK_CPU_UNBOUND or a negative value get defined answers.
 */
#ifndef PADATA_WORKQUEUE_H
#define PADATA_WORKQUEUE_H

#include <stdbool.h>
#include <string.h>
#include "cpumask.h"
#include "export.h"

PADATA_BEGIN_DECLS

struct workqueue_struct;
struct work_struct;

/** work_func_t - a work item's function; runs on the queue's worker thread. */
typedef void (*work_func_t)(struct work_struct *work);

/**
 * struct work_struct - one unit of deferred work, embedded by its owner.
 * @func: called on a worker thread of the queue it was queued on.
 *
 * The other fields are private. Initialize with INIT_WORK() before first
 * use; do not free or re-initialize the item while it is pending or running
 * (flush_work() waits for both to end).
 */
struct work_struct {
	unsigned long data;             /* private: pending bit, running count */
	struct work_struct *entry_next; /* private: queue link */
	struct workqueue_struct *wq;    /* private: queue it was last put on */
	work_func_t func;
};

/** INIT_WORK - zero @_work and set its function. */
#define INIT_WORK(_work, _func)                                  \
	do {                                                     \
		memset((_work), 0, sizeof(struct work_struct));  \
		(_work)->func = (_func);                         \
	} while (0)

/* Accepted and ignored, see the top of this file. */
#define WQ_UNBOUND       (1u << 1)
#define WQ_FREEZABLE     (1u << 2)
#define WQ_MEM_RECLAIM   (1u << 3)
#define WQ_HIGHPRI       (1u << 4)
#define WQ_CPU_INTENSIVE (1u << 5)

/** WORK_CPU_UNBOUND - queue_work_on() cpu meaning "the caller's CPU". */
#define WORK_CPU_UNBOUND NR_CPUS

/**
 * alloc_workqueue - create a workqueue and start its workers.
 * @name: copied; workers are named "<name>/<cpu>" (cut to 15 bytes).
 * @flags: WQ_* flags, ignored.
 * @max_active: 0 for the default, or a positive number; ignored otherwise.
 *
 * Call from any thread that is not one of a workqueue's workers.
 * Return: the queue, or NULL with errno EINVAL (NULL @name, negative
 * @max_active), ENOMEM (no memory for the queue), or EAGAIN (a worker
 * thread could not be created, whatever pthread_create() answered; the
 * workers already started are stopped and joined).
 */
PADATA_API struct workqueue_struct *padata_alloc_workqueue(const char *name, unsigned int flags,
							   int max_active);
#define alloc_workqueue padata_alloc_workqueue

/** create_workqueue - alloc_workqueue(@name, 0, 0). */
PADATA_API struct workqueue_struct *padata_create_workqueue(const char *name);
#define create_workqueue padata_create_workqueue

/**
 * destroy_workqueue - run what is still queued, stop and join the workers,
 * free the queue. Accepts NULL. Refused (a message on stderr, nothing freed)
 * while a padata instance still uses the queue, or when called from one of
 * the queue's own workers.
 */
PADATA_API void padata_destroy_workqueue(struct workqueue_struct *wq);
#define destroy_workqueue padata_destroy_workqueue

/**
 * queue_work_on - queue @work on the worker of @cpu. Any thread; lock-free.
 * @cpu: a CPU below nr_cpu_ids, or WORK_CPU_UNBOUND for the caller's CPU.
 *
 * Return: true when queued; false when it was already pending, or (errno
 * EINVAL) when @wq, @work or @work->func is NULL or @cpu is out of range.
 */
PADATA_API bool padata_queue_work_on(int cpu, struct workqueue_struct *wq,
				 struct work_struct *work);
#define queue_work_on padata_queue_work_on

/** queue_work - queue_work_on(WORK_CPU_UNBOUND, @wq, @work). */
PADATA_API bool padata_queue_work(struct workqueue_struct *wq, struct work_struct *work);
#define queue_work padata_queue_work

/**
 * flush_work - wait until @work is neither pending nor running.
 * Must not be called from @work's own function (returns false at once).
 * Return: true when it had to wait; false otherwise (or for NULL).
 */
PADATA_API bool padata_flush_work(struct work_struct *work);
#define flush_work padata_flush_work

/**
 * flush_workqueue - wait until every item queued on @wq before the call has
 * run. From one of @wq's own workers it returns at once. Accepts NULL.
 * Cannot fail: without memory it waits for one CPU's queue at a time.
 */
PADATA_API void padata_flush_workqueue(struct workqueue_struct *wq);
#define flush_workqueue padata_flush_workqueue

/** padata_current_cpu - virtual CPU of the calling worker thread, or -1 when
 * the caller is not a workqueue worker. */
PADATA_API int padata_current_cpu(void);

PADATA_END_DECLS

#endif /* PADATA_WORKQUEUE_H */
