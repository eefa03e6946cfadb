/* SPDX-License-Identifier: MIT */
/*
 * bench_cb.h - native parallel()/serial() callbacks of the benchmark, shared
 * by the C contender (padata_bench) and the Java contender "native
 * callbacks", which loads them from libpadata_bench_cb.so and submits
 * struct bench_job blocks through the Java API without any upcall.
 *
 * Who touches what:
 *  - the submitter owns a job while job->busy is 0: it fills index, seed,
 *    w, lane and t_submit_ns, sets busy to 1 and submits it. Nobody waits
 *    on busy: the waiting for room is the library's (the Java contender
 *    takes its jobs in turn from a ring of one more than the in-flight
 *    limit per lane, so the one it takes has always finished, and busy
 *    checks that;
 *    the C one takes them from a free list its serial() refills);
 *  - parallel() (a padata worker) computes digest and calls
 *    padata_do_serial();
 *  - serial() (the worker of the lane's CPU) checks the order, folds the
 *    digest into its lane, records the latency sample and finally clears
 *    busy with a release store, handing the job back to the submitter.
 * Every lane is written only by the serial worker of its CPU, so lanes need
 * no atomics except the done counter read by other threads.
 *
 * Java declares these layouts itself; bench_cb_abi_query() gives it the
 * sizes and offsets to check them against (as padata_abi_query() does for
 * the core).
 */
#ifndef BENCH_CB_H
#define BENCH_CB_H

#include <stdint.h>
#include <linux/padata.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define BENCH_CB_API __attribute__((visibility("default")))
#else
#define BENCH_CB_API
#endif

/** BENCH_MAX_LANES - most serial CPUs a sink folds for. */
#define BENCH_MAX_LANES 64

/**
 * struct bench_lane - what the serial worker of one cb_cpu has seen.
 * @cpu: the cb_cpu of the lane; serial() of its jobs must run there.
 * @next: index this lane expects next (lane number + k * nr_lanes).
 * @sum, @xor_: folded digests.
 * @order_errors: jobs that arrived out of order.
 * @cpu_errors: jobs whose serial() ran on another CPU than @cpu.
 * @first_bad: index of the first wrong job, or UINT64_MAX.
 * @done: jobs serialized; release-stored after the fold.
 */
struct bench_lane {
	int32_t cpu;
	uint32_t pad0;
	uint64_t next;
	uint64_t sum;
	uint64_t xor_;
	uint64_t order_errors;
	uint64_t cpu_errors;
	uint64_t first_bad;
	uint64_t done;
} __attribute__((aligned(64)));

/**
 * struct bench_sink - the serial stage of one run.
 * @nr_lanes: lanes in use; job i goes to lane i % nr_lanes.
 * @lat_every: sample the latency of job i when i % lat_every == 0 (0: off).
 * @lat_ns: lat_ns[i / lat_every] = ns from acceptance to the start of serial().
 * @lat_cap: entries in @lat_ns.
 */
struct bench_sink {
	uint32_t nr_lanes;
	uint32_t lat_every;
	uint64_t *lat_ns;
	uint64_t lat_cap;
	uint64_t pad0[5];
	struct bench_lane lanes[BENCH_MAX_LANES];
};

/**
 * struct bench_job - one job; @priv first so that container_of is a cast.
 * @busy: 0 idle; 1 from submission until serial() has folded the job.
 * @t_submit_ns: CLOCK_MONOTONIC ns at acceptance for sampled jobs, else 0.
 */
struct bench_job {
	struct padata_priv priv;
	struct bench_sink *sink;
	uint64_t index;
	uint64_t seed;
	uint64_t digest;
	uint64_t t_submit_ns;
	uint32_t w;
	uint32_t lane;
	uint32_t busy;
	uint32_t pad0;
};

/** bench_cb_parallel - parallel(): digest = workload(seed, w), then padata_do_serial(). */
BENCH_CB_API void bench_cb_parallel(struct padata_priv *padata);

/** bench_cb_serial - serial(): check order and CPU, fold, sample latency, clear busy. */
BENCH_CB_API void bench_cb_serial(struct padata_priv *padata);

/**
 * bench_sink_create - a zeroed sink for @nr_lanes lanes on CPUs @cpus, with
 * room for the latency samples of @nr_jobs jobs. Any thread.
 * Return: the sink, or NULL (errno EINVAL for bad counts, ENOMEM).
 */
BENCH_CB_API struct bench_sink *bench_sink_create(uint32_t nr_lanes, const int32_t *cpus,
						  uint64_t nr_jobs, uint32_t lat_every);

/** bench_sink_destroy - free @sink; accepts NULL. No job may be in flight. */
BENCH_CB_API void bench_sink_destroy(struct bench_sink *sink);

/** bench_sink_reset - prepare @sink for a new run; no job may be in flight. */
BENCH_CB_API void bench_sink_reset(struct bench_sink *sink);

/**
 * bench_sink_done - jobs serialized so far (acquire loads of every lane's
 * counter: the folds of those jobs are visible afterwards). Any thread.
 */
BENCH_CB_API uint64_t bench_sink_done(const struct bench_sink *sink);

/**
 * bench_sink_check - after a run of @nr_jobs jobs has drained: 0 when every
 * lane saw its jobs in order on its CPU, the count is @nr_jobs and the
 * folded sum and xor equal @ref_sum and @ref_xor; else -1 with a one-line
 * reason in @why (when not NULL, @why_len bytes).
 */
BENCH_CB_API int bench_sink_check(const struct bench_sink *sink, uint64_t nr_jobs,
				  uint64_t ref_sum, uint64_t ref_xor, char *why, int why_len);

/** bench_jobs_create - @count zeroed jobs with the callbacks set; NULL on ENOMEM. */
BENCH_CB_API struct bench_job *bench_jobs_create(uint64_t count);

/** bench_jobs_destroy - free jobs from bench_jobs_create(); accepts NULL. */
BENCH_CB_API void bench_jobs_destroy(struct bench_job *jobs);

/** bench_now_ns - CLOCK_MONOTONIC in ns. */
BENCH_CB_API uint64_t bench_now_ns(void);

/** bench_work_export - workload() for Java's cross-check (native/testsupport/workload.h). */
BENCH_CB_API uint64_t bench_work_export(uint64_t seed, uint32_t w);

/**
 * bench_cb_do_serial_address - the padata_do_serial() this library calls. Java compares it
 * with the one of the libpadata it loaded: two copies of libpadata in one process would not
 * share their workers' state.
 */
BENCH_CB_API void *bench_cb_do_serial_address(void);

/**
 * bench_cb_abi_query - "sizeof(struct bench_job)", "offsetof(struct
 * bench_job, seed)" and likewise for every field of bench_job, bench_sink
 * and bench_lane; -1 for an unknown or NULL name.
 */
BENCH_CB_API long bench_cb_abi_query(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* BENCH_CB_H */
