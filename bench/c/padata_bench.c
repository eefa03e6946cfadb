/* SPDX-License-Identifier: MIT */
/*
 * padata_bench.c - contenders "c-padata" (the C API with native callbacks)
 * and "c-single" (the single-threaded loop) of the cross-language harness.
 *
 * c-padata: one instance on a workqueue with one worker per CPU, parallel
 * and serial masks = every possible CPU, used the way the README tells users
 * to: the main thread takes a job from a plain job pool, fills it and submits
 * it with padata_do_parallel_wait(pinst, job, cb_cpu, -1) (cb_cpu = the
 * (i mod n)-th usable serial CPU), which sleeps while the in-flight limit is
 * reached. serial() (bench_cb_serial(), then the pool's put) hands the job
 * back to the pool. A run ends with padata_stop(), which waits for the last
 * serial(). Each run is checked (per-lane order, serial() on its cb_cpu,
 * count, digests) before its figure counts.
 *
 * The pool holds one job more than the in-flight limit: the core counts a job
 * in flight until its serial() has returned and serial() puts the job back
 * before that, so with every job the submitter took already accepted the pool
 * cannot run dry (if it ever did, the run fails and says so). Waiting for
 * room is the library's business alone: the pool has no back-pressure of its
 * own, no futex, no spinning.
 *
 * c-single: the same jobs folded in a plain loop on the calling thread.
 *
 * Latency (c-padata): for every --lat-every-th job, from the
 * padata_do_parallel_wait() call that accepted it (a wait for room included)
 * to the start of its serial().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/padata.h>

#include "bench_cb.h"
#include "bench_util.h"
#include "workload.h"

static const char extra_usage[] =
	"  --contender C    c-padata, c-single or all (default all)\n"
	"  --inflight L     padata_set_max_inflight(L) (default %u, the core's MAX_OBJ_NUM)\n"
	"\n"
	"Prints one JSON line per (contender, w) on stdout; exits 1 when a check failed.\n";

/*
 * The core's default (MAX_OBJ_NUM). Larger limits were not a clear win on the 2-core
 * reference box (see bench/README.md); --inflight or BENCH_INFLIGHT tries others.
 */
#define DEFAULT_INFLIGHT MAX_OBJ_NUM

/*
 * A job of the pool: the bench's job (first, so container_of stays a cast) and the free-list
 * link, on cache lines of its own, as the README tells users (and workload_bench's jobs are):
 * jobs submitted one after the other run on different CPUs at once.
 */
struct pool_job {
	_Alignas(64) struct bench_job job;
	struct pool_job *next;
};

struct padata_run {
	struct workqueue_struct *wq;
	struct padata_instance *pinst;
	struct bench_sink *sink;
	struct pool_job *pool;
	uint64_t pool_size;
	/*
	 * The free list's shared head and the submitter's private part, each on a line of
	 * its own: serial() on the cb_cpus and the submitter write them once per job, and
	 * on one line (with the fields the workers read) they moved it between the CPUs
	 * as often.
	 */
	_Alignas(64) _Atomic(struct pool_job *) free_head; /* pushed by serial(), emptied by the submitter */
	_Alignas(64) struct pool_job *mine;                /* the submitter's private part of the free list */
	_Alignas(64) int32_t cpus[BENCH_MAX_LANES];
	uint32_t nr_lanes;
	uint64_t accepted, busy; /* padata_get_stats() deltas over the runs of one w */
};

/* One run at a time: serial() finds its pool here. */
static struct padata_run *current_run;

static struct pool_job *pool_get(struct padata_run *r)
{
	struct pool_job *j = r->mine;

	/*
	 * Pairs with the release CAS in pool_put(): serial() is done with the job. Every
	 * change of free_head is a read-modify-write, so the release CASes of all the jobs
	 * in the list form one release sequence, whose end this exchange reads.
	 */
	if (j == NULL)
		j = atomic_exchange_explicit(&r->free_head, NULL, memory_order_acquire);
	if (j)
		r->mine = j->next;
	return j;
}

static void pool_serial(struct padata_priv *padata)
{
	struct pool_job *j = (struct pool_job *)container_of(padata, struct bench_job, priv);
	struct padata_run *r = current_run;
	struct pool_job *old;

	bench_cb_serial(padata);
	old = atomic_load_explicit(&r->free_head, memory_order_relaxed);
	/* Pairs with the acquire exchange in pool_get(). */
	do {
		j->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&r->free_head, &old, j, memory_order_release,
							 memory_order_relaxed));
}

static int padata_run_setup(struct padata_run *r, const struct bench_opts *o, uint64_t max_jobs)
{
	struct padata_cpumask usable;
	unsigned int limit = o->inflight ? o->inflight : DEFAULT_INFLIGHT;
	unsigned int cpu;
	int rc;

	memset(r, 0, sizeof(*r));
	r->wq = alloc_workqueue("pbench", 0, 0);
	if (r->wq == NULL) {
		fprintf(stderr, "padata_bench: alloc_workqueue: %s\n", strerror(errno));
		return -1;
	}
	r->pinst = padata_alloc_possible(r->wq);
	if (r->pinst == NULL) {
		fprintf(stderr, "padata_bench: padata_alloc_possible: %s\n", strerror(errno));
		goto err_destroy_wq;
	}
	rc = padata_set_max_inflight(r->pinst, limit);
	if (rc) {
		fprintf(stderr, "padata_bench: padata_set_max_inflight(%u): %s\n", limit, strerror(-rc));
		goto err_free_pinst;
	}
	rc = padata_get_cpumask(r->pinst, &usable);
	if (rc) {
		fprintf(stderr, "padata_bench: padata_get_cpumask: %s\n", strerror(-rc));
		goto err_free_pinst;
	}
	for_each_cpu(cpu, usable.cbcpu) {
		if (r->nr_lanes == BENCH_MAX_LANES)
			break;
		r->cpus[r->nr_lanes++] = (int32_t)cpu;
	}
	r->sink = bench_sink_create(r->nr_lanes, r->cpus, max_jobs, o->lat_every);
	if (r->sink == NULL) {
		fprintf(stderr, "padata_bench: bench_sink_create: %s\n", strerror(errno));
		goto err_free_pinst;
	}
	if (limit < 2) {
		fprintf(stderr, "padata_bench: --inflight must be at least 2, not %u\n", limit);
		goto err_destroy_sink;
	}
	r->pool_size = (uint64_t)limit + 1;
	/* aligned_alloc: calloc's 16-byte alignment would put every job across a line boundary. */
	r->pool = aligned_alloc(_Alignof(struct pool_job), r->pool_size * sizeof(*r->pool));
	if (r->pool == NULL) {
		fprintf(stderr, "padata_bench: job pool: %s\n", strerror(errno));
		goto err_destroy_sink;
	}
	memset(r->pool, 0, r->pool_size * sizeof(*r->pool));
	for (uint64_t i = 0; i < r->pool_size; i++) {
		r->pool[i].job.priv.parallel = bench_cb_parallel;
		r->pool[i].job.priv.serial = pool_serial;
	}
	return 0;

err_destroy_sink:
	bench_sink_destroy(r->sink);
err_free_pinst:
	padata_free(r->pinst);
err_destroy_wq:
	destroy_workqueue(r->wq);
	return -1;
}

static void padata_run_teardown(struct padata_run *r)
{
	padata_free(r->pinst);
	destroy_workqueue(r->wq);
	free(r->pool);
	bench_sink_destroy(r->sink);
}

/*
 * One run of @n jobs. Return: elapsed seconds, or a negative value with
 * @why filled when submission or the check failed.
 */
static double padata_run_once(struct padata_run *r, uint64_t n, uint32_t w,
			      const struct workload_digest *ref, char *why, size_t why_len)
{
	uint32_t lat_every = r->sink->lat_every;
	struct padata_stats st0, st1;
	double t0, t1;
	int rc;

	bench_sink_reset(r->sink);
	/* A fresh free list holding the whole pool. */
	atomic_store_explicit(&r->free_head, NULL, memory_order_relaxed);
	r->mine = NULL;
	for (uint64_t k = r->pool_size; k-- > 0;) {
		r->pool[k].next = r->mine;
		r->mine = &r->pool[k];
	}
	current_run = r;
	padata_get_stats(r->pinst, &st0);
	rc = padata_start(r->pinst);
	if (rc) {
		snprintf(why, why_len, "padata_start: %s", strerror(-rc));
		return -1;
	}
	t0 = bench_seconds();
	for (uint64_t i = 0; i < n; i++) {
		struct pool_job *pj = pool_get(r);
		struct bench_job *job;
		uint32_t lane = (uint32_t)(i % r->nr_lanes);

		if (pj == NULL) {
			padata_stop(r->pinst);
			snprintf(why, why_len, "the job pool ran dry at job %" PRIu64
				 ": more than %u jobs in flight", i, padata_get_max_inflight(r->pinst));
			return -1;
		}
		job = &pj->job;
		job->sink = r->sink;
		job->index = i;
		job->seed = workload_seed(i);
		job->w = w;
		job->lane = lane;
		job->busy = 1;
		job->t_submit_ns = lat_every && i % lat_every == 0 ? bench_now_ns() : 0;
		/* The README's usage: sleeps while the in-flight limit is reached. */
		rc = padata_do_parallel_wait(r->pinst, &job->priv, r->cpus[lane], -1);
		if (rc) {
			padata_stop(r->pinst);
			snprintf(why, why_len, "padata_do_parallel_wait(job %" PRIu64 ", cb_cpu %d): %s",
				 i, r->cpus[lane], strerror(-rc));
			return -1;
		}
	}
	padata_stop(r->pinst);
	t1 = bench_seconds();
	padata_get_stats(r->pinst, &st1); /* exact after padata_stop() */
	r->accepted += st1.accepted - st0.accepted;
	r->busy += st1.busy - st0.busy;
	if (bench_sink_check(r->sink, n, ref->sum, ref->xor_, why, (int)why_len))
		return -1;
	return t1 - t0;
}

static int run_padata(const struct bench_opts *o, int threads)
{
	struct padata_run r;
	uint64_t max_jobs = 0;
	int failed = 0;

	for (int k = 0; k < o->nr_ws; k++) {
		uint64_t n = o->jobs ? o->jobs : bench_jobs_for(o->ws[k]);

		if (n > max_jobs)
			max_jobs = n;
	}
	if (padata_run_setup(&r, o, max_jobs))
		return 2;

	for (int k = 0; k < o->nr_ws; k++) {
		uint32_t w = o->ws[k];
		uint64_t n = o->jobs ? o->jobs : bench_jobs_for(w);
		struct workload_digest ref = workload_reference(n, w);
		struct bench_series s = { 0 };
		struct bench_lat lat = { 0 };
		char why[256] = "";
		char extra[256];
		double start;
		bool bad = false;

		bench_line_begin(); /* and bench_emit() again: where the host ran the CPUs */
		start = bench_seconds();
		r.accepted = r.busy = 0;
		for (int run = 0; !bad; run++) {
			double dt = padata_run_once(&r, n, w, &ref, why, sizeof(why));
			bool warm = run < o->warmup_reps;

			bench_progress(o, "c-padata", w, run + 1, bench_seconds() - start);
			if (dt < 0) {
				bad = true;
				break;
			}
			if (warm)
				continue;
			bench_series_add(&s, (double)n / dt, dt);
			if (r.sink->lat_ns)
				bench_lat_add(&lat, r.sink->lat_ns, r.sink->lat_cap);
			if (s.n >= o->min_reps && s.seconds >= o->seconds)
				break;
		}
		snprintf(extra, sizeof(extra),
			 ",\"inflight\":%u,\"lanes\":%u,\"pool\":%" PRIu64
			 ",\"call\":\"padata_do_parallel_wait\",\"waits_per_job\":%.5f",
			 padata_get_max_inflight(r.pinst), r.nr_lanes, r.pool_size,
			 r.accepted ? (double)r.busy / (double)r.accepted : 0.0);
		bench_emit("c-padata", w, n, threads, &s, &lat, bad ? why : NULL, extra);
		failed |= bad;
		bench_series_free(&s);
		bench_lat_free(&lat);
	}
	padata_run_teardown(&r);
	return failed;
}

static int run_single(const struct bench_opts *o)
{
	int failed = 0;

	for (int k = 0; k < o->nr_ws; k++) {
		uint32_t w = o->ws[k];
		uint64_t n = o->jobs ? o->jobs : bench_jobs_for(w);
		struct workload_digest ref = workload_reference(n, w);
		struct bench_series s = { 0 };
		char why[256] = "";
		double start = bench_seconds();
		bool bad = false;

		for (int run = 0;; run++) {
			uint64_t sum = 0, xor_ = 0;
			double t0 = bench_seconds(), dt;

			for (uint64_t i = 0; i < n; i++) {
				uint64_t h = workload(workload_seed(i), w);

				sum += h;
				xor_ ^= h;
			}
			dt = bench_seconds() - t0;
			bench_progress(o, "c-single", w, run + 1, bench_seconds() - start);
			if (sum != ref.sum || xor_ != ref.xor_) {
				snprintf(why, sizeof(why), "digests sum %016" PRIx64 " xor %016" PRIx64
					 ", reference sum %016" PRIx64 " xor %016" PRIx64,
					 sum, xor_, ref.sum, ref.xor_);
				bad = true;
				break;
			}
			if (run < o->warmup_reps)
				continue;
			bench_series_add(&s, (double)n / dt, dt);
			if (s.n >= o->min_reps && s.seconds >= o->seconds)
				break;
		}
		bench_emit("c-single", w, n, 1, &s, NULL, bad ? why : NULL, NULL);
		failed |= bad;
		bench_series_free(&s);
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	char usage[512];
	int rc, failed = 0;
	bool all;

	snprintf(usage, sizeof(usage), extra_usage, (unsigned int)DEFAULT_INFLIGHT);
	rc = bench_parse_opts(argc, argv, &o, "padata_bench", usage, NULL, 0);
	if (rc)
		return rc > 0 ? 0 : 2;
	all = o.contender == NULL || strcmp(o.contender, "all") == 0;
	if (!all && strcmp(o.contender, "c-padata") && strcmp(o.contender, "c-single")) {
		fprintf(stderr, "padata_bench: unknown contender '%s' (c-padata, c-single, all)\n",
			o.contender);
		return 2;
	}
	if (all || strcmp(o.contender, "c-single") == 0)
		failed |= run_single(&o);
	if (all || strcmp(o.contender, "c-padata") == 0) {
		rc = run_padata(&o, (int)nr_cpu_ids);
		if (rc == 2)
			return 2;
		failed |= rc;
	}
	return failed ? 1 : 0;
}
