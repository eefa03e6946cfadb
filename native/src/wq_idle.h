/* SPDX-License-Identifier: MIT */
/*
 * wq_idle.h - when an idle worker spins, and for how long: a pure function
 * of the worker's recent waits, so that it can be tested with synthetic
 * time sequences (native/tests/workqueue_test.cc, IdlePolicy.*). Private;
 * C and C++.
 *
 * A worker whose queue runs dry either polls it ("spins") or parks on a
 * futex. Parking costs the next producer a FUTEX_WAKE and the worker a
 * context switch (tens of µs of latency on a virtual machine); polling
 * costs a CPU for as long as it lasts. Spinning pays only when work comes
 * back within about a wake-up's cost, so the worker predicts its next wait
 * from its recent ones, like an adaptive mutex (glibc's spins up to twice
 * its average spin) or io_uring's SQ poll thread (which polls while
 * submissions keep coming):
 *
 *   - gap: how long the worker waited, from finding its queue empty to
 *     finding work in it (spinning or parked, wake-up included). A worker
 *     that finds more work right after a batch did not wait: no sample.
 *   - avg: a moving average of the gaps (each new gap weighs 1/4), every
 *     gap clamped to 2 * window first, so one long silence counts as "long"
 *     and no more: three short waits after it bring spinning back.
 *   - window = cap / 20 (50 µs with the default cap of 1 ms): the worker
 *     spins only while avg <= window, for 4 * avg (at least cap / 100,
 *     10 µs by default; at most cap); otherwise it parks at once.
 *
 * A spin that ends without work ends in a park, and the long gap that
 * follows raises avg: budgets decay by themselves when work stops coming.
 * A fresh worker starts with avg = 2 * window (parks), so an idle queue
 * costs nothing until work comes in bursts. cap is PADATA_SPIN_US (0:
 * never spin).
 *
 * So one job per ms or per 100 µs waits longer than the window and the
 * workers park after each job; a burst of jobs 5 µs apart keeps them
 * spinning, as does a saturated queue. Measured with bench/c/idle_bench on
 * the project's 2-vCPU VM under other load (2026-11-30, load average 6-9;
 * CPU in % of one core, before -> after this rule): 1 job/ms 60-76% ->
 * 3.4-5.1%; 1 job/100 µs 112-115% -> 31-40% (a plain pthreads pool: 24-30%);
 * saturated, padata_do_parallel_wait(): 3.0-3.3 M -> 5.5-6.5 M jobs/s.
 */
#ifndef PADATA_WQ_IDLE_H
#define PADATA_WQ_IDLE_H

#include <stdint.h>

#define PADATA_IDLE_WINDOW_DIV 20   /* window = cap / 20 */
#define PADATA_IDLE_FLOOR_DIV 100   /* shortest spin = cap / 100 */
#define PADATA_IDLE_SPIN_MULT 4     /* spin for 4 * avg */
#define PADATA_IDLE_WEIGHT_SHIFT 2  /* a new gap weighs 1/4 */

/* The worker's view of its recent waits; written by the worker only. */
struct padata__idle {
	int64_t avg_ns;
};

static inline int64_t padata__idle_window(int64_t cap_ns)
{
	return cap_ns > 0 ? cap_ns / PADATA_IDLE_WINDOW_DIV : 0;
}

/* A worker that has not waited yet: "long" waits, so it parks. */
static inline void padata__idle_init(struct padata__idle *s, int64_t cap_ns)
{
	s->avg_ns = 2 * padata__idle_window(cap_ns);
}

/* Record one wait of @gap_ns (from finding the queue empty to finding work). */
static inline void padata__idle_note(struct padata__idle *s, int64_t gap_ns, int64_t cap_ns)
{
	int64_t clamp = 2 * padata__idle_window(cap_ns);

	if (gap_ns > clamp)
		gap_ns = clamp;
	if (gap_ns < 0)
		gap_ns = 0;
	/* avg += (gap - avg) / 4, rounding toward gap so that avg reaches it. */
	int64_t d = gap_ns - s->avg_ns;
	int64_t step = d / (1 << PADATA_IDLE_WEIGHT_SHIFT);
	if (step == 0 && d != 0)
		step = d > 0 ? 1 : -1;
	s->avg_ns += step;
}

/*
 * How long to poll the empty queue before parking, in ns: 0 (park at once)
 * unless the recent waits average at most the window; never above @cap_ns.
 */
static inline int64_t padata__idle_budget(const struct padata__idle *s, int64_t cap_ns)
{
	if (cap_ns <= 0 || s->avg_ns > padata__idle_window(cap_ns))
		return 0;
	int64_t b = PADATA_IDLE_SPIN_MULT * s->avg_ns;
	int64_t floor = cap_ns / PADATA_IDLE_FLOOR_DIV;

	if (b < floor)
		b = floor;
	return b < cap_ns ? b : cap_ns;
}

#endif /* PADATA_WQ_IDLE_H */
