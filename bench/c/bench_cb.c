/* SPDX-License-Identifier: MIT */
/* bench_cb.c - native callbacks and serial-stage bookkeeping; see bench_cb.h. */
#include "bench_cb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload.h"

_Static_assert(offsetof(struct bench_job, priv) == 0, "container_of of a bench_job is a cast");
_Static_assert(sizeof(struct bench_lane) == 64, "one lane per cache line");

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_work_export(uint64_t seed, uint32_t w)
{
	return workload(seed, w);
}

void *bench_cb_do_serial_address(void)
{
	return (void *)padata_do_serial;
}

void bench_cb_parallel(struct padata_priv *padata)
{
	struct bench_job *job = container_of(padata, struct bench_job, priv);

	job->digest = workload(job->seed, job->w);
	padata_do_serial(padata);
}

void bench_cb_serial(struct padata_priv *padata)
{
	struct bench_job *job = container_of(padata, struct bench_job, priv);
	struct bench_sink *sink = job->sink;
	struct bench_lane *lane = &sink->lanes[job->lane];
	int bad = 0;

	if (job->t_submit_ns) {
		uint64_t slot = job->index / sink->lat_every;

		if (slot < sink->lat_cap)
			sink->lat_ns[slot] = bench_now_ns() - job->t_submit_ns;
	}
	if (job->index != lane->next) {
		lane->order_errors++;
		bad = 1;
	}
	if (padata_current_cpu() != lane->cpu) {
		lane->cpu_errors++;
		bad = 1;
	}
	if (bad && lane->first_bad == UINT64_MAX)
		lane->first_bad = job->index;
	lane->next = job->index + sink->nr_lanes;
	lane->sum += job->digest;
	lane->xor_ ^= job->digest;
	/* Pairs with the acquire load in bench_sink_done(). */
	__atomic_store_n(&lane->done, lane->done + 1, __ATOMIC_RELEASE);
	/*
	 * Pairs with the submitter's acquire load of busy before it reuses the
	 * job; the job is the submitter's from here on, so read nothing after.
	 */
	__atomic_store_n(&job->busy, 0, __ATOMIC_RELEASE);
}

struct bench_sink *bench_sink_create(uint32_t nr_lanes, const int32_t *cpus, uint64_t nr_jobs,
				     uint32_t lat_every)
{
	struct bench_sink *sink;

	if (nr_lanes == 0 || nr_lanes > BENCH_MAX_LANES || cpus == NULL) {
		errno = EINVAL;
		return NULL;
	}
	sink = aligned_alloc(64, sizeof(*sink));
	if (sink == NULL)
		return NULL;
	memset(sink, 0, sizeof(*sink));
	sink->nr_lanes = nr_lanes;
	sink->lat_every = lat_every;
	if (lat_every) {
		sink->lat_cap = nr_jobs / lat_every + 1;
		sink->lat_ns = calloc(sink->lat_cap, sizeof(uint64_t));
		if (sink->lat_ns == NULL)
			goto err_free_sink;
	}
	for (uint32_t i = 0; i < nr_lanes; i++)
		sink->lanes[i].cpu = cpus[i];
	bench_sink_reset(sink);
	return sink;

err_free_sink:
	free(sink);
	errno = ENOMEM;
	return NULL;
}

void bench_sink_destroy(struct bench_sink *sink)
{
	if (sink == NULL)
		return;
	free(sink->lat_ns);
	free(sink);
}

void bench_sink_reset(struct bench_sink *sink)
{
	for (uint32_t i = 0; i < sink->nr_lanes; i++) {
		struct bench_lane *lane = &sink->lanes[i];

		lane->next = i;
		lane->sum = 0;
		lane->xor_ = 0;
		lane->order_errors = 0;
		lane->cpu_errors = 0;
		lane->first_bad = UINT64_MAX;
		__atomic_store_n(&lane->done, 0, __ATOMIC_RELEASE);
	}
	if (sink->lat_ns)
		memset(sink->lat_ns, 0, sink->lat_cap * sizeof(uint64_t));
}

uint64_t bench_sink_done(const struct bench_sink *sink)
{
	uint64_t done = 0;

	for (uint32_t i = 0; i < sink->nr_lanes; i++)
		done += __atomic_load_n(&sink->lanes[i].done, __ATOMIC_ACQUIRE);
	return done;
}

int bench_sink_check(const struct bench_sink *sink, uint64_t nr_jobs, uint64_t ref_sum,
		     uint64_t ref_xor, char *why, int why_len)
{
	uint64_t sum = 0, xor_ = 0, done = bench_sink_done(sink);
	char scratch[1];

	if (why == NULL || why_len <= 0) {
		why = scratch;
		why_len = sizeof(scratch);
	}
	for (uint32_t i = 0; i < sink->nr_lanes; i++) {
		const struct bench_lane *lane = &sink->lanes[i];

		if (lane->order_errors || lane->cpu_errors) {
			snprintf(why, (size_t)why_len,
				 "lane %u (cb_cpu %d): %llu jobs out of order, %llu on a wrong CPU, "
				 "first bad job %llu", i, lane->cpu,
				 (unsigned long long)lane->order_errors,
				 (unsigned long long)lane->cpu_errors,
				 (unsigned long long)lane->first_bad);
			return -1;
		}
		sum += lane->sum;
		xor_ ^= lane->xor_;
	}
	if (done != nr_jobs) {
		snprintf(why, (size_t)why_len, "%llu jobs serialized, expected %llu",
			 (unsigned long long)done, (unsigned long long)nr_jobs);
		return -1;
	}
	if (sum != ref_sum || xor_ != ref_xor) {
		snprintf(why, (size_t)why_len,
			 "digests sum %016llx xor %016llx, reference sum %016llx xor %016llx",
			 (unsigned long long)sum, (unsigned long long)xor_,
			 (unsigned long long)ref_sum, (unsigned long long)ref_xor);
		return -1;
	}
	why[0] = '\0';
	return 0;
}

struct bench_job *bench_jobs_create(uint64_t count)
{
	struct bench_job *jobs;

	if (count == 0 || count > SIZE_MAX / sizeof(*jobs)) {
		errno = EINVAL;
		return NULL;
	}
	jobs = calloc((size_t)count, sizeof(*jobs));
	if (jobs == NULL)
		return NULL;
	for (uint64_t i = 0; i < count; i++) {
		jobs[i].priv.parallel = bench_cb_parallel;
		jobs[i].priv.serial = bench_cb_serial;
	}
	return jobs;
}

void bench_jobs_destroy(struct bench_job *jobs)
{
	free(jobs);
}

#define ABI(type, member) { "offsetof(struct " #type ", " #member ")", offsetof(struct type, member) }

static const struct {
	const char *name;
	size_t value;
} bench_abi[] = {
	{ "sizeof(struct bench_job)", sizeof(struct bench_job) },
	{ "sizeof(struct bench_sink)", sizeof(struct bench_sink) },
	{ "sizeof(struct bench_lane)", sizeof(struct bench_lane) },
	ABI(bench_job, priv),
	ABI(bench_job, sink),
	ABI(bench_job, index),
	ABI(bench_job, seed),
	ABI(bench_job, digest),
	ABI(bench_job, t_submit_ns),
	ABI(bench_job, w),
	ABI(bench_job, lane),
	ABI(bench_job, busy),
	ABI(bench_sink, nr_lanes),
	ABI(bench_sink, lat_every),
	ABI(bench_sink, lat_ns),
	ABI(bench_sink, lat_cap),
	ABI(bench_sink, lanes),
	ABI(bench_lane, cpu),
	ABI(bench_lane, next),
	ABI(bench_lane, sum),
	ABI(bench_lane, xor_),
	ABI(bench_lane, order_errors),
	ABI(bench_lane, cpu_errors),
	ABI(bench_lane, first_bad),
	ABI(bench_lane, done),
	{ "BENCH_MAX_LANES", BENCH_MAX_LANES },
};

long bench_cb_abi_query(const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(bench_abi) / sizeof(bench_abi[0]); i++)
		if (strcmp(bench_abi[i].name, name) == 0)
			return (long)bench_abi[i].value;
	return -1;
}
