/* SPDX-License-Identifier: MIT */
/*
 * padata_mt.c - multithreaded jobs: one range of work cut into chunks and
 * run on the instance's workers and the calling thread (the kernel's later
 * padata_do_multithreaded()).
 *
 * Where a chunk goes, and who frees what:
 *
 *   padata_do_multithreaded()  takes a reference on the instance
 *     |                        (padata__mt_ref(): mask changes, hotplug and
 *     |                        padata_free() wait for it), computes the
 *     v                        chunk size, queues one helper work item per
 *   mt_helper_work()           extra thread on distinct parallel CPUs; each
 *     |                        helper and the caller take chunk indexes with
 *     v                        one fetch_add until none is left
 *   flush_work() per helper    the caller waits for every helper to return,
 *                              then drops the reference
 *
 * Everything lives on the caller's stack (the helper items on the heap
 * when there are more than MT_INLINE_HELPERS), and nothing outlives the
 * call: flush_work() is the last wait, and the worker's last touch of an
 * item happens before flush_work() sees it idle.
 *
 * Memory orders: the chunk counter is relaxed (only RMW atomicity matters:
 * each index is claimed once); the state the helpers read is published by
 * queue_work_on()'s push (release) and the worker's exchange (acquire);
 * the helpers' chunks happen before the return through flush_work()'s
 * acquire of the item's end-of-run fetch_sub (workqueue.c).
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The kernel's load-balancing factor: chunks per thread, "in case threads
 * finish at different times". */
#define MT_CHUNKS_PER_THREAD 4
/* Helper work items kept on the stack; more come from the heap. */
#define MT_INLINE_HELPERS 8

/**
 * struct mt_state - one call of padata_do_multithreaded(), on its stack.
 * @fn: the job's thread_fn.
 * @arg: the job's fn_arg.
 * @start: first index of the range.
 * @end: start + size (at most ULONG_MAX).
 * @chunk: size of every chunk but the last (which runs to @end).
 * @nchunks: number of chunks, at least 1.
 * @next: the next chunk index to claim; relaxed fetch_add.
 */
struct mt_state {
	void (*fn)(unsigned long start, unsigned long end, void *arg);
	void *arg;
	unsigned long start;
	unsigned long end;
	unsigned long chunk;
	unsigned long nchunks;
	unsigned long next padata__aligned;
};

/** struct mt_helper - a helper's work item and its job. */
struct mt_helper {
	struct work_struct work;
	struct mt_state *st;
};

/* Spreads the helpers of successive jobs over the parallel CPUs. Relaxed:
 * a hint, any value is correct. */
static unsigned int mt_rotor;

/*
 * Where in @view->pcpu_list the helpers start: just after the parallel CPU
 * the caller is running on (its host CPU, under a virtual topology the
 * first CPU on it), so that the caller's own CPU, which it keeps busy with
 * its chunks, gets a helper last (never, as there are fewer helpers than
 * CPUs); else (the caller runs off the mask) rotating, to spread the
 * helpers of concurrent jobs.
 */
static unsigned int mt_first_helper_slot(const struct padata__mt_view *view)
{
	int here = sched_getcpu();
	if (here >= 0) {
		for (unsigned int i = 0; i < view->pw; i++)
			if (padata_cpu_to_host((unsigned int)view->pcpu_list[i]) == here)
				return i + 1;
	}
	/* Relaxed: see mt_rotor. */
	return __atomic_fetch_add(&mt_rotor, 1, __ATOMIC_RELAXED);
}

/* Claim and run chunks until none is left. Any thread. */
static void mt_run_chunks(struct mt_state *st)
{
	for (;;) {
		/* Relaxed: each index is claimed once by RMW atomicity; the
		 * chunk's data needs no order with other claims. At most
		 * nchunks + threads increments: never wraps. */
		unsigned long i = __atomic_fetch_add(&st->next, 1, __ATOMIC_RELAXED);
		if (i >= st->nchunks)
			return;
		/* i * chunk <= size - chunk: no overflow (see mt_plan()). */
		unsigned long s = st->start + i * st->chunk;
		unsigned long e = i + 1 == st->nchunks ? st->end : s + st->chunk;
		st->fn(s, e, st->arg);
	}
}

static void mt_helper_work(struct work_struct *w)
{
	struct mt_helper *h = container_of(w, struct mt_helper, work);
	mt_run_chunks(h->st);
}

/*
 * The chunk size for @nthreads threads: size / (4 * nthreads), at least
 * min_chunk, rounded up to a multiple of align; then as many whole chunks
 * as fit (at least one), the last one taking the remainder. Returns the
 * number of chunks; every product below stays within size.
 */
static unsigned long mt_plan(const struct padata_mt_job *job, unsigned long nthreads,
			     unsigned long *chunkp)
{
	unsigned long size = job->size;
	unsigned long c = size / (nthreads * MT_CHUNKS_PER_THREAD);
	if (c < job->min_chunk)
		c = job->min_chunk;
	unsigned long rem = c % job->align;
	if (rem) {
		if (c > size || job->align - rem > size - c)
			c = size; /* rounding up passes the range: one chunk */
		else
			c += job->align - rem;
	}
	if (c >= size) {
		*chunkp = size;
		return 1;
	}
	*chunkp = c;
	return size / c;
}

int padata_do_multithreaded(struct padata_instance *pinst, struct padata_mt_job *job)
{
	if (!pinst || !job || !job->thread_fn || job->align < 1 || job->min_chunk < 1 ||
	    job->max_threads < 1 || job->size > ULONG_MAX - job->start)
		return -EINVAL;
	if (job->size == 0)
		return 0;

	struct padata__mt_view view;
	int err = padata__mt_ref(pinst, &view);
	if (err)
		return err;

	/* Threads, the caller included: no more than asked, than parallel
	 * CPUs, or than chunks of min_chunk. */
	unsigned long nthreads = (unsigned long)job->max_threads;
	if (nthreads > view.pw)
		nthreads = view.pw;
	if (nthreads > job->size / job->min_chunk)
		nthreads = job->size / job->min_chunk;
	if (nthreads < 1)
		nthreads = 1;

	struct mt_state st = {
		.fn = job->thread_fn,
		.arg = job->fn_arg,
		.start = job->start,
		.end = job->start + job->size,
		.next = 0,
	};
	st.nchunks = mt_plan(job, nthreads, &st.chunk);
	if (nthreads > st.nchunks)
		nthreads = st.nchunks;

	struct mt_helper inline_helpers[MT_INLINE_HELPERS];
	struct mt_helper *helpers = inline_helpers;
	unsigned long nhelpers = nthreads - 1;
	if (nhelpers > MT_INLINE_HELPERS) {
		helpers = malloc(nhelpers * sizeof(*helpers));
		if (!helpers) {
			/* No memory for more: run with the ones on the stack. */
			helpers = inline_helpers;
			nhelpers = MT_INLINE_HELPERS;
		}
	}
	unsigned int base = mt_first_helper_slot(&view);
	for (unsigned long i = 0; i < nhelpers; i++) {
		INIT_WORK(&helpers[i].work, mt_helper_work);
		helpers[i].st = &st;
		/* Distinct CPUs: nhelpers < pw. Release of st and the item:
		 * the push in queue_work_on(), paired with the worker's
		 * acquire exchange. A fresh item is never pending: true. */
		queue_work_on(view.pcpu_list[(base + i) % view.pw], view.wq, &helpers[i].work);
	}

	/*
	 * The caller's chunks: mark this thread as pd_in_padata_context()
	 * checks (the notifier slot; padata.c reads it only to refuse), so that
	 * a chunk's mask change, cpu_down, padata_free(), padata_alloc(),
	 * padata_do_parallel_wait() or nested padata_do_multithreaded() answers
	 * -EDEADLK (or is refused) instead of waiting for the reference this
	 * call holds, as on a worker.
	 */
	void *saved = padata__self.in_notifier;
	padata__self.in_notifier = pinst;
	mt_run_chunks(&st);
	padata__self.in_notifier = saved;

	for (unsigned long i = 0; i < nhelpers; i++)
		flush_work(&helpers[i].work);
	if (helpers != inline_helpers)
		free(helpers);
	padata__mt_ref(pinst, NULL);
	return 0;
}
