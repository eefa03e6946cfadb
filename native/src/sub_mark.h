/* SPDX-License-Identifier: MIT */
/*
 * sub_mark.h - when a serial worker wakes the submitter that sleeps in
 * padata_do_parallel_wait(): the low-water mark, learned from what the
 * submitter found when it got to run. A pure function of its inputs, so
 * that it can be tested with synthetic values (native/tests/wait_test.cc,
 * SubmitterMark.*). Private; C and C++.
 *
 * The submitter sleeps when the jobs in flight reach the limit; a serial
 * worker wakes it once they fall to the mark (half the limit at first), so
 * that it admits a refill's worth of jobs per sleep instead of one per
 * completed job. Between that wake-up and the submitter's first new job
 * lies the scheduler's wake-up latency (measured on this project's 2-vCPU
 * VM: 10-15 µs on average, with a long tail, the woken thread often waiting
 * for a pinned worker's time slice). When the jobs left at the mark take
 * less than that to run, the pipeline runs dry during every wake-up and the
 * workers idle: aes-gcm packets of 1400 bytes (about 550 ns each) at a
 * limit of 128 found 0.3 jobs in flight on average when the submitter ran,
 * and the two workers idled a quarter of their time.
 *
 * So the submitter, each time a low-water wake-up lets it run, looks at the
 * jobs still in flight:
 *   - at most limit / 8: the pipeline (nearly) ran dry while it was being
 *     woken; wake it earlier next time: the mark rises by limit / 8. Dry
 *     even at 7/8: no mark this limit allows covers the wake-up (tiny jobs,
 *     or a small limit), and a high mark would only multiply the wake-ups;
 *     the mark goes back to half and stays there for the next
 *     PADATA_SUBMARK_HOLD wake-ups before it tries rising again.
 *   - at least mark - limit / 8: the wake-up cost next to nothing; the mark
 *     falls by limit / 8 (so fewer, larger refills: fewer wake-ups).
 *   - in between: the mark stays.
 * The mark moves between limit / 2 and 7 * limit / 8, in eighths of the
 * limit: never above 7/8, so a refill is always at least limit / 8 jobs and
 * wake-ups stay per refill, never per job. Where no mark helps, the cycle
 * (nine wake-ups at half, three at 5/8 to 7/8) refills 0.43 * limit jobs per
 * wake-up on average, against 0.5 * limit for a fixed mark at half. Measured with
 * bench/c/workload_bench (aes-gcm 1400 B, limit 128, same run): a fixed mark
 * of 6/8 cut the workers' idle time from 92 ms to 25 ms over five rounds and
 * took padata from 0.96x to 1.04x the single loop; the submitter paid about
 * 65 ns more per job for the extra wake-ups. At the default limit (1000)
 * the first mark already leaves hundreds of jobs: it stays at half.
 *
 * The state is one word: the eighths above half (0..3) in its low two bits,
 * the wake-ups left to hold at half above them; a zeroed parallel_data
 * starts at half the limit.
 */
#ifndef PADATA_SUB_MARK_H
#define PADATA_SUB_MARK_H

#include <stdint.h>

#define PADATA_SUBMARK_MAX_RAISE 3u /* 4/8 + 3/8 = 7/8 of the limit */
#define PADATA_SUBMARK_HOLD 8u      /* wake-ups at half after "dry at 7/8" */

/* The low-water mark of @state (see above) under @limit. */
static inline uint32_t padata__submark(uint32_t limit, uint32_t state)
{
	uint32_t raise = state & 3u;

	return (uint32_t)(((uint64_t)limit * (4u + raise)) / 8u);
}

/*
 * The next state after a low-water wake-up under @state whose submitter
 * found @in_flight jobs in flight when it ran, under @limit.
 */
static inline uint32_t padata__submark_next(uint32_t state, uint32_t in_flight, uint32_t limit)
{
	uint32_t raise = state & 3u, hold = state >> 2;
	uint32_t step = limit / 8u;
	uint32_t mark = padata__submark(limit, raise);

	if (hold > PADATA_SUBMARK_HOLD)
		hold = PADATA_SUBMARK_HOLD;
	if (hold > 0u) /* holding at half (raise is 0 then) */
		return (hold - 1u) << 2;
	if (in_flight <= step) {
		if (raise < PADATA_SUBMARK_MAX_RAISE)
			return raise + 1u;
		return PADATA_SUBMARK_HOLD << 2;
	}
	if ((uint64_t)in_flight + step >= mark)
		return raise > 0u ? raise - 1u : 0u;
	return raise;
}

#endif /* PADATA_SUB_MARK_H */
