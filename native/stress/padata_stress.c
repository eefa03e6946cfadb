/* SPDX-License-Identifier: MIT */
/*
 * padata_stress.c - randomized fault-injection driver for libpadata.
 *
 * Everything at once, for a given time or job count:
 *   - several submitting threads, random cb_cpu (out-of-range ones included);
 *   - parallel() that finishes at once, after a spin, after a sleep, or
 *     asynchronously from a pool of foreign (non-worker) threads;
 *   - serial() that submits its own job anew;
 *   - a fault thread that every few milliseconds changes a cpumask, adds or
 *     removes a CPU, takes a CPU down or up, cycles padata_stop/padata_start,
 *     sets an invalid (empty) mask for a moment, or passes bad arguments;
 *   - a watchdog that declares a hang when nothing progresses for a while.
 *
 * Checks: every accepted job runs parallel() once and serial() once, on the
 * worker of its cb_cpu, never two serial() at once on one cb_cpu, and in
 * FIFO order per (stream, cb_cpu). A stream is one submitting thread (a
 * submitter, one worker's serial() callbacks, or the fault thread's probes):
 * its acceptances happen in its program order, so that order is observable.
 * Also: padata_stop() returns only after every accepted job ran serial();
 * notifiers fire when the usable masks change and carry the new masks; an
 * instance whose masks become valid again resumes; documented error codes.
 *
 * Output: one summary line on stdout; diagnostics on stderr.
 * Exit: 0 pass, 1 check failed, 2 usage, 3 hang, 77 check skipped
 * (--rss-* under AddressSanitizer, whose quarantine grows the RSS by design).
 */
#include <linux/padata.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#if defined(__SANITIZE_ADDRESS__)
#define STRESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRESS_ASAN 1
#endif
#endif

#define EXIT_CHECK 1
#define EXIT_USAGE 2
#define EXIT_HANG 3
#define EXIT_SKIP 77

/* ---- options ---------------------------------------------------------- */

static struct {
	double seconds;           /* 0: no time limit */
	uint64_t jobs;            /* 0: no job limit (submitter jobs) */
	uint64_t seed;
	unsigned int threads;     /* submitting threads */
	unsigned int async_threads;
	double fault_interval_ms; /* mean time between faults */
	bool faults;
	double watchdog_s;
	double rss_warmup_s;      /* 0: no memory check */
	double rss_slack_mib;
	unsigned int max_inflight; /* 0: library default */
	unsigned int resubmit_pct;
} opt = {
	.seconds = 0,
	.jobs = 0,
	.seed = 1,
	.threads = 3,
	.async_threads = 2,
	.fault_interval_ms = 2.0,
	.faults = true,
	.watchdog_s = 10.0,
	.rss_warmup_s = 0,
	.rss_slack_mib = 4.0,
	.max_inflight = 0,
	.resubmit_pct = 10,
};

/* ---- small helpers ---------------------------------------------------- */

#define ld(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define st(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define inc(p) __atomic_fetch_add((p), 1, __ATOMIC_RELAXED)

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static unsigned int rng_below(uint64_t *s, unsigned int n)
{
	return (unsigned int)(((rng_next(s) >> 32) * n) >> 32);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void spin_ns(long ns)
{
	double end = now_s() + (double)ns * 1e-9;

	while (now_s() < end)
		;
}

/* ---- counters ----------------------------------------------------------- */

enum fault_kind {
	F_MASK,      /* padata_set_cpumask() with a random mask */
	F_MASKS,     /* padata_set_cpumasks() with two random masks */
	F_ADD,       /* padata_add_cpu() */
	F_REMOVE,    /* padata_remove_cpu() */
	F_DOWN,      /* cpu_down() */
	F_UP,        /* cpu_up() */
	F_STOPSTART, /* padata_stop(), a pause, padata_start() */
	F_INVALID,   /* an empty mask for a moment (instance invalid), then a valid one */
	F_BADARG,    /* rejected arguments: the documented errno, nothing changes */
	F_NR
};

static const char *const fault_names[F_NR] = {
	"mask", "masks", "add", "remove", "down", "up", "stopstart", "invalid", "badarg",
};
static const unsigned int fault_weights[F_NR] = { 18, 8, 14, 14, 12, 12, 10, 4, 8 };

enum job_mode { M_NOW, M_SPIN, M_SLEEP, M_ASYNC, M_NR };
static const char *const mode_names[M_NR] = { "now", "spin", "sleep", "async" };

static struct {
	uint64_t accepted;      /* padata_do_parallel() == 0, every stream */
	uint64_t resubmitted;   /* of which from inside serial() */
	uint64_t busy;          /* -EBUSY */
	uint64_t inval;         /* -EINVAL (stopped, invalid, cb_cpu not usable) */
	uint64_t parallel_calls;
	uint64_t serial_calls;  /* serial() on a job in the right state */
	uint64_t serial_done;   /* serial() returned (last statement); progress */
	uint64_t modes[M_NR];
	uint64_t faults[F_NR];
	uint64_t faults_done;   /* progress */
	uint64_t notifier_calls;
	uint64_t repeated;      /* parallel() or serial() twice for one submission */
	uint64_t reordered;     /* serial() out of FIFO order in its (stream, cb_cpu) */
	uint64_t errors;        /* anything else that broke a documented rule */
} cnt;

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int reports;

/* Prints the first few violations; counts all of them in *counter. */
static void violation(uint64_t *counter, const char *fmt, ...)
{
	va_list ap;

	inc(counter);
	pthread_mutex_lock(&report_lock);
	if (reports++ < 25) {
		fputs("padata_stress: violation: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&report_lock);
}

/* ---- jobs ----------------------------------------------------------------- */

enum job_state { J_IDLE, J_SUBMITTED, J_PARALLEL, J_DONE, J_SERIAL };

struct stress_job {
	struct padata_priv priv;
	struct stress_job *free_next;
	struct stress_job *all_next;
	unsigned int stream;
	int cb_cpu;
	uint64_t seq;       /* position in its (stream, cb_cpu) FIFO */
	uint32_t mode;
	uint32_t delay_ns;
	uint32_t work;
	uint32_t state;     /* enum job_state, atomic */
	uint32_t gen;       /* settled_gen when it was submitted, for reports */
	uint64_t key;
	uint64_t payload;   /* written by parallel(), checked by serial() */
	uint64_t check;
};

static struct workqueue_struct *wq;
static struct padata_instance *pinst;
static unsigned int ncpu;        /* nr_cpu_ids */
static unsigned int nstreams;    /* submitters + one per worker CPU + the fault thread */
static unsigned int fault_stream;
static uint64_t *next_seq;       /* [stream][cpu]: written by the stream's own thread */
static uint64_t *expect_seq;     /* [stream][cpu]: written by the cb_cpu's worker */
static uint32_t *serial_busy;    /* [cpu]: a serial() is running on it */
static int stopping;             /* submitters and serial() stop submitting */

/*
 * The usable masks as the fault thread last saw them settle, published with
 * a sequence count (odd while a change is under way). Jobs accepted before a
 * change have all run serial() when the change returns, and no job is
 * accepted for a CPU outside the usable masks, so while the count is even no
 * parallel() may run on a CPU outside settled_p, and no serial() for a
 * cb_cpu outside settled_s.
 */
static uint32_t settled_gen = 1;
static struct cpumask settled_p, settled_s;

static bool settled_test(int cpu, const struct cpumask *m, bool *known)
{
	/* Pairs with the release increments in settle_end(). */
	uint32_t g1 = __atomic_load_n(&settled_gen, __ATOMIC_ACQUIRE);
	bool in = false;

	/* An acquire load, not a fence (ThreadSanitizer does not model fences):
	 * the second read of the count cannot move above it. */
	if (!(g1 & 1) && cpu >= 0 && cpu < NR_CPUS)
		in = (__atomic_load_n(&m->bits[cpu / PADATA_BITS_PER_LONG], __ATOMIC_ACQUIRE) >>
		      (cpu % PADATA_BITS_PER_LONG)) & 1ul;
	*known = !(g1 & 1) && __atomic_load_n(&settled_gen, __ATOMIC_RELAXED) == g1;
	return in;
}

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stress_job *pool_head;
static struct stress_job *all_jobs;
static uint64_t jobs_allocated;

static struct stress_job *job_get(void)
{
	struct stress_job *job;

	pthread_mutex_lock(&pool_lock);
	job = pool_head;
	if (job) {
		pool_head = job->free_next;
	} else {
		job = calloc(1, sizeof(*job));
		if (!job) {
			pthread_mutex_unlock(&pool_lock);
			fprintf(stderr, "padata_stress: out of memory\n");
			exit(EXIT_CHECK);
		}
		job->all_next = all_jobs;
		all_jobs = job;
		jobs_allocated++;
	}
	pthread_mutex_unlock(&pool_lock);
	return job;
}

static void job_put(struct stress_job *job)
{
	pthread_mutex_lock(&pool_lock);
	job->free_next = pool_head;
	pool_head = job;
	pthread_mutex_unlock(&pool_lock);
}

/* ---- asynchronous completion: foreign threads call padata_do_serial() ---- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct stress_job **items;
	size_t n, cap;
	bool quit;
} bag = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void job_finish(struct stress_job *job)
{
	/* Pairs with the acquire CAS in stress_serial(). */
	__atomic_store_n(&job->state, J_DONE, __ATOMIC_RELEASE);
	padata_do_serial(&job->priv);
}

static void bag_push(struct stress_job *job)
{
	pthread_mutex_lock(&bag.lock);
	if (bag.n == bag.cap) {
		size_t cap = bag.cap ? 2 * bag.cap : 256;
		struct stress_job **items = realloc(bag.items, cap * sizeof(*items));

		if (!items) {
			pthread_mutex_unlock(&bag.lock);
			fprintf(stderr, "padata_stress: out of memory\n");
			exit(EXIT_CHECK);
		}
		bag.items = items;
		bag.cap = cap;
	}
	bag.items[bag.n++] = job;
	pthread_cond_signal(&bag.cond);
	pthread_mutex_unlock(&bag.lock);
}

/* Completes jobs in random order (not the order parallel() queued them). */
static void *async_thread(void *arg)
{
	uint64_t rng = opt.seed ^ (0xa5a5ull + (uintptr_t)arg);

	for (;;) {
		struct stress_job *job;
		size_t i;

		pthread_mutex_lock(&bag.lock);
		while (bag.n == 0 && !bag.quit)
			pthread_cond_wait(&bag.cond, &bag.lock);
		if (bag.n == 0) {
			pthread_mutex_unlock(&bag.lock);
			return NULL;
		}
		i = rng_below(&rng, (unsigned int)bag.n);
		job = bag.items[i];
		bag.items[i] = bag.items[--bag.n];
		pthread_mutex_unlock(&bag.lock);
		if (job->delay_ns)
			spin_ns(job->delay_ns);
		job_finish(job);
	}
}

/* ---- callbacks ------------------------------------------------------------ */

static void stress_parallel(struct padata_priv *priv)
{
	struct stress_job *job = container_of(priv, struct stress_job, priv);
	uint32_t expect = J_SUBMITTED;

	if (!__atomic_compare_exchange_n(&job->state, &expect, J_PARALLEL, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		violation(&cnt.repeated, "parallel() on job %p in state %u (stream %u seq %" PRIu64 ")",
			  (void *)job, expect, job->stream, job->seq);
		return;
	}
	{
		int cpu = padata_current_cpu();
		bool known, in = settled_test(cpu, &settled_p, &known);

		if (cpu < 0)
			violation(&cnt.errors, "parallel() of job %p not on a workqueue worker", (void *)job);
		else if (known && !in)
			violation(&cnt.errors, "parallel() ran on CPU %d, outside the settled usable parallel mask", cpu);
	}
	inc(&cnt.parallel_calls);
	job->payload = workload(job->key, job->work);
	job->check = ~job->payload;

	switch (job->mode) {
	case M_NOW:
		job_finish(job);
		break;
	case M_SPIN:
		spin_ns(job->delay_ns);
		job_finish(job);
		break;
	case M_SLEEP:
		sleep_ns(job->delay_ns);
		job_finish(job);
		break;
	default:
		bag_push(job);
		break;
	}
}

/* Picks a cb_cpu: mostly a possible CPU, sometimes an int no mask holds. */
static int pick_cb_cpu(uint64_t *rng)
{
	static const int wild[] = { -1, INT_MIN, INT_MAX, NR_CPUS, -NR_CPUS };

	if (rng_below(rng, 64) == 0) {
		unsigned int i = rng_below(rng, sizeof(wild) / sizeof(wild[0]) + 1);

		return i < sizeof(wild) / sizeof(wild[0]) ? wild[i] : (int)ncpu;
	}
	return (int)rng_below(rng, ncpu);
}

static void stress_serial(struct padata_priv *priv);

/* Fills in @job for its next submission in @stream; it is ours (idle). */
static void job_prepare(struct stress_job *job, unsigned int stream, int cb_cpu, uint64_t *rng)
{
	unsigned int r = rng_below(rng, 100);

	job->stream = stream;
	job->cb_cpu = cb_cpu;
	job->seq = (cb_cpu >= 0 && (unsigned int)cb_cpu < ncpu) ? next_seq[stream * ncpu + cb_cpu] : 0;
	job->mode = r < 55 ? M_NOW : r < 75 ? M_SPIN : r < 82 ? M_SLEEP : M_ASYNC;
	job->delay_ns = job->mode == M_NOW ? 0 : rng_below(rng, job->mode == M_SLEEP ? 100000 : 30000);
	job->work = rng_below(rng, 1000);
	job->key = rng_next(rng);
	job->gen = __atomic_load_n(&settled_gen, __ATOMIC_ACQUIRE);
	job->priv.parallel = stress_parallel;
	job->priv.serial = stress_serial;
	__atomic_store_n(&job->state, J_SUBMITTED, __ATOMIC_RELAXED);
}

/*
 * Submits @job in @stream. Returns the padata_do_parallel() result and does
 * the bookkeeping; on failure the job goes back to the pool.
 */
static int job_submit(struct stress_job *job, unsigned int stream, int cb, uint64_t *rng)
{
	bool in_range = cb >= 0 && (unsigned int)cb < ncpu;
	enum job_mode mode;
	int rc;

	job_prepare(job, stream, cb, rng);
	mode = (enum job_mode)job->mode;
	rc = padata_do_parallel(pinst, &job->priv, cb);
	/* From here on an accepted job is padata's: touch only locals. */
	if (rc == 0) {
		if (!in_range)
			violation(&cnt.errors, "padata_do_parallel accepted cb_cpu %d (nr_cpu_ids %u)", cb, ncpu);
		else
			next_seq[stream * ncpu + cb]++;
		inc(&cnt.accepted);
		inc(&cnt.modes[mode]);
		return 0;
	}
	if (rc == -EBUSY) {
		inc(&cnt.busy);
	} else if (rc == -EINVAL) {
		inc(&cnt.inval);
	} else {
		violation(&cnt.errors, "padata_do_parallel(cb_cpu %d) returned %d", cb, rc);
	}
	if (__atomic_load_n(&job->state, __ATOMIC_RELAXED) != J_SUBMITTED)
		violation(&cnt.errors, "rejected job %p (rc %d) was run anyway", (void *)job, rc);
	__atomic_store_n(&job->state, J_IDLE, __ATOMIC_RELAXED);
	job_put(job);
	return rc;
}

static void stress_serial(struct padata_priv *priv)
{
	struct stress_job *job = container_of(priv, struct stress_job, priv);
	uint32_t expect = J_DONE;
	int cpu = padata_current_cpu();
	int cb;
	size_t idx;
	uint64_t want;

	if (!__atomic_compare_exchange_n(&job->state, &expect, J_SERIAL, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		violation(&cnt.repeated, "serial() on job %p in state %u (stream %u seq %" PRIu64 ")",
			  (void *)job, expect, job->stream, job->seq);
		return; /* not ours to touch any more */
	}
	cb = job->cb_cpu;
	if (cpu != cb)
		violation(&cnt.errors, "serial() of a job for cb_cpu %d ran on worker %d", cb, cpu);
	if (cb < 0 || (unsigned int)cb >= ncpu) {
		violation(&cnt.errors, "serial() of a job with cb_cpu %d", cb);
		return;
	}
	{
		bool known, in = settled_test(cb, &settled_s, &known);

		if (known && !in)
			violation(&cnt.errors, "serial() for cb_cpu %d ran while it was outside the settled usable"
				  " serial mask (mask generation %u at submission, %u now; stream %u)", cb, job->gen,
				  __atomic_load_n(&settled_gen, __ATOMIC_RELAXED), job->stream);
	}
	if (__atomic_exchange_n(&serial_busy[cb], 1, __ATOMIC_ACQUIRE) != 0)
		violation(&cnt.errors, "two serial() at once on cb_cpu %d", cb);
	if (job->check != ~job->payload)
		violation(&cnt.errors, "serial() of job %p does not see parallel()'s result", (void *)job);

	idx = (size_t)job->stream * ncpu + (size_t)cb;
	want = ld(&expect_seq[idx]);
	if (job->seq != want)
		violation(&cnt.reordered, "stream %u cb_cpu %d: serial() of #%" PRIu64 ", expected #%" PRIu64,
			  job->stream, cb, job->seq, want);
	st(&expect_seq[idx], job->seq + 1);
	inc(&cnt.serial_calls);

	if (cpu >= 0 && rng_below(&job->key, 100) < opt.resubmit_pct && !ld(&stopping)) {
		/* Submit it anew from here; this worker's own stream keeps it FIFO. */
		if (job_submit(job, opt.threads + (unsigned int)cpu, pick_cb_cpu(&job->key),
			       &job->key) == 0)
			inc(&cnt.resubmitted);
	} else {
		__atomic_store_n(&job->state, J_IDLE, __ATOMIC_RELAXED);
		job_put(job);
	}
	/* Pairs with the acquire exchange above, next serial() on this cb_cpu. */
	__atomic_store_n(&serial_busy[cb], 0, __ATOMIC_RELEASE);
	/* Last: padata_stop()'s drain check reads it after the stop. */
	__atomic_fetch_add(&cnt.serial_done, 1, __ATOMIC_RELEASE);
}

/* ---- submitters ----------------------------------------------------------- */

static uint64_t *submitted; /* [thread]: accepted submissions, for --jobs */

static void *submit_thread(void *arg)
{
	unsigned int me = (unsigned int)(uintptr_t)arg;
	uint64_t rng = opt.seed * 1000003u + me;
	uint64_t quota = opt.jobs ? (opt.jobs + opt.threads - 1 - me) / opt.threads : UINT64_MAX;
	unsigned int fails = 0;

	while (!ld(&stopping) && ld(&submitted[me]) < quota) {
		if (job_submit(job_get(), me, pick_cb_cpu(&rng), &rng) == 0) {
			st(&submitted[me], ld(&submitted[me]) + 1);
			fails = 0;
		} else if (++fails < 16) {
			sched_yield();
		} else {
			sleep_ns(20000);
		}
	}
	return NULL;
}

/* ---- faults --------------------------------------------------------------- */

static struct cpumask all_cpus;          /* cpu_possible_mask */
static struct cpumask last_notified_p, last_notified_s;
static unsigned long notified_action;    /* or of the actions since last reset */
static pthread_t changer;                /* the thread making mask changes now */
static const char *volatile fault_now = "none"; /* for hang reports */

static int stress_notifier(struct notifier_block *nb, unsigned long action, void *data)
{
	struct padata_cpumask *m = data;

	(void)nb;
	inc(&cnt.notifier_calls);
	if (!m) {
		violation(&cnt.errors, "notifier called with NULL data");
		return NOTIFY_OK;
	}
	if (action & ~(unsigned long)(PADATA_CPU_PARALLEL | PADATA_CPU_SERIAL))
		violation(&cnt.errors, "notifier action %#lx has unknown bits", action);
	if (!pthread_equal(pthread_self(), changer))
		violation(&cnt.errors, "notifier ran on a thread that made no change");
	cpumask_copy(&last_notified_p, m->pcpu);
	cpumask_copy(&last_notified_s, m->cbcpu);
	notified_action |= action;
	return NOTIFY_OK;
}

static struct notifier_block notifier = { .notifier_call = stress_notifier };

static void random_mask(uint64_t *rng, struct cpumask *m)
{
	unsigned int r = rng_below(rng, 8);

	if (r == 0) {
		cpumask_copy(m, &all_cpus);
		return;
	}
	cpumask_clear(m);
	for (unsigned int c = 0; c < ncpu; c++)
		if (rng_below(rng, r + 1) == 0 || rng_below(rng, 2) == 0)
			cpumask_set_cpu(c, m);
	cpumask_set_cpu(rng_below(rng, ncpu), m);
}

static void expect_rc(const char *what, int rc, int want)
{
	if (rc != want)
		violation(&cnt.errors, "%s returned %d, expected %d", what, rc, want);
}

static bool usable_valid(const struct padata_cpumask *m)
{
	return !cpumask_empty(m->pcpu) && !cpumask_empty(m->cbcpu);
}

static void restore_masks(void)
{
	struct cpumask p, s;

	cpumask_copy(&p, &all_cpus);
	cpumask_copy(&s, &all_cpus);
	fault_now = "restore masks";
	expect_rc("padata_set_cpumasks(all, all)", padata_set_cpumasks(pinst, &p, &s), 0);
}

static bool started = true; /* the fault thread's view of padata_start/stop */

/*
 * Submits one probe job from the fault thread: an instance that is started
 * and valid must accept it (or say -EBUSY when the in-flight limit is hit).
 */
static void probe(uint64_t *rng)
{
	struct padata_cpumask m;
	int rc = -EBUSY;

	if (padata_get_cpumask(pinst, &m) != 0 || !usable_valid(&m) || !started)
		return;
	for (int tries = 0; tries < 1000 && rc == -EBUSY; tries++) {
		unsigned int k = rng_below(rng, cpumask_weight(m.cbcpu));
		int cb = (int)cpumask_first(m.cbcpu);

		while (k--)
			cb = (int)cpumask_next(cb, m.cbcpu);
		rc = job_submit(job_get(), fault_stream, cb, rng);
		if (rc == -EBUSY)
			sleep_ns(10000);
	}
	/* -EBUSY throughout only means the submitters kept the limit full. */
	if (rc != 0 && rc != -EBUSY)
		violation(&cnt.errors, "a started instance with usable masks refused a job: %d", rc);
}

static void mask_pick(uint64_t *rng, const struct cpumask *m, int *cpu)
{
	unsigned int k = rng_below(rng, cpumask_weight(m));

	*cpu = (int)cpumask_first(m);
	while (k--)
		*cpu = (int)cpumask_next(*cpu, m);
}

static void fault_badarg(uint64_t *rng)
{
	static const int bad_types[] = { 0, PADATA_CPU_PARALLEL | PADATA_CPU_SERIAL, 4, -1 };
	static const int bad_cpus[] = { -1, INT_MIN, INT_MAX, NR_CPUS };
	static const int bad_bits[] = { 0, 4, 7, -1 };
	static struct notifier_block stranger = { .notifier_call = stress_notifier };
	struct cpumask m;
	int cpu = (int)rng_below(rng, ncpu);

	cpumask_copy(&m, &all_cpus);
	switch (rng_below(rng, 9)) {
	case 0:
		expect_rc("padata_set_cpumask(bad type)",
			  padata_set_cpumask(pinst, bad_types[rng_below(rng, 4)], &m), -EINVAL);
		break;
	case 1:
		expect_rc("padata_add_cpu(bad cpu)",
			  padata_add_cpu(pinst, rng_below(rng, 5) ? bad_cpus[rng_below(rng, 4)] : (int)ncpu,
					 PADATA_CPU_PARALLEL), -EINVAL);
		break;
	case 2:
		expect_rc("padata_remove_cpu(bad mask bits)",
			  padata_remove_cpu(pinst, cpu, bad_bits[rng_below(rng, 4)]), -EINVAL);
		break;
	case 3:
		expect_rc("padata_add_cpu(bad mask bits)",
			  padata_add_cpu(pinst, cpu, bad_bits[rng_below(rng, 4)]), -EINVAL);
		break;
	case 4:
		expect_rc("cpu_down(>= nr_cpu_ids)", cpu_down(ncpu + rng_below(rng, 3)), -EINVAL);
		break;
	case 5:
		expect_rc("cpu_up(UINT_MAX)", cpu_up(UINT_MAX), -EINVAL);
		break;
	case 6:
		expect_rc("padata_set_cpumasks(NULL, mask)", padata_set_cpumasks(pinst, NULL, &m), -EINVAL);
		break;
	case 7:
		expect_rc("padata_register_cpumask_notifier(twice)",
			  padata_register_cpumask_notifier(pinst, &notifier), -EEXIST);
		break;
	default:
		expect_rc("padata_unregister_cpumask_notifier(unknown)",
			  padata_unregister_cpumask_notifier(pinst, &stranger), -ENOENT);
		break;
	}
}

static void fault_stopstart(uint64_t *rng)
{
	uint64_t accepted, done;
	struct padata_cpumask m;
	int rc;

	fault_now = "padata_stop";
	padata_stop(pinst);
	started = false;
	/*
	 * Every job accepted before the stop has returned from serial(); an
	 * acceptance counted here happened before the stop, and its
	 * serial_done increment happened before padata_stop() returned.
	 */
	accepted = ld(&cnt.accepted);
	done = __atomic_load_n(&cnt.serial_done, __ATOMIC_ACQUIRE);
	if (done < accepted)
		violation(&cnt.errors, "padata_stop returned with %" PRIu64 " of %" PRIu64
			  " accepted jobs still before serial()", accepted - done, accepted);
	sleep_ns(rng_below(rng, 1000000));
	fault_now = "padata_start";
	rc = padata_start(pinst);
	if (rc == -EINVAL) {
		/* Allowed only when hotplug or a mask left a usable mask empty. */
		padata_get_cpumask(pinst, &m);
		if (usable_valid(&m))
			violation(&cnt.errors, "padata_start refused an instance with usable masks");
		restore_masks();
		rc = padata_start(pinst);
	}
	expect_rc("padata_start", rc, 0);
	started = rc == 0;
}

static void do_fault(enum fault_kind kind, uint64_t *rng)
{
	struct cpumask p, s, active, down;
	int cpu, bits;

	switch (kind) {
	case F_MASK:
		random_mask(rng, &p);
		bits = rng_below(rng, 2) ? PADATA_CPU_PARALLEL : PADATA_CPU_SERIAL;
		fault_now = "padata_set_cpumask";
		expect_rc("padata_set_cpumask", padata_set_cpumask(pinst, bits, &p), 0);
		break;
	case F_MASKS:
		random_mask(rng, &p);
		random_mask(rng, &s);
		fault_now = "padata_set_cpumasks";
		expect_rc("padata_set_cpumasks", padata_set_cpumasks(pinst, &p, &s), 0);
		break;
	case F_ADD:
	case F_REMOVE:
		cpu = (int)rng_below(rng, ncpu);
		bits = 1 + (int)rng_below(rng, 3);
		fault_now = kind == F_ADD ? "padata_add_cpu" : "padata_remove_cpu";
		expect_rc(fault_now, kind == F_ADD ? padata_add_cpu(pinst, cpu, bits)
						   : padata_remove_cpu(pinst, cpu, bits), 0);
		break;
	case F_DOWN:
		padata_cpu_active_snapshot(&active);
		mask_pick(rng, &active, &cpu);
		fault_now = "cpu_down";
		expect_rc("cpu_down", cpu_down((unsigned int)cpu), cpumask_weight(&active) > 1 ? 0 : -EBUSY);
		break;
	case F_UP:
		padata_cpu_active_snapshot(&active);
		cpumask_andnot(&down, &all_cpus, &active);
		if (cpumask_empty(&down))
			cpu = (int)rng_below(rng, ncpu); /* already up: 0 as well */
		else
			mask_pick(rng, &down, &cpu);
		fault_now = "cpu_up";
		expect_rc("cpu_up", cpu_up((unsigned int)cpu), 0);
		break;
	case F_STOPSTART:
		fault_stopstart(rng);
		break;
	case F_INVALID:
		cpumask_clear(&p);
		bits = rng_below(rng, 2) ? PADATA_CPU_PARALLEL : PADATA_CPU_SERIAL;
		fault_now = "padata_set_cpumask(empty)";
		expect_rc("padata_set_cpumask(empty)", padata_set_cpumask(pinst, bits, &p), 0);
		sleep_ns(500000 + rng_below(rng, 1500000));
		restore_masks();
		break;
	default:
		fault_now = "bad arguments";
		fault_badarg(rng);
		break;
	}
}

static int stop_faults;

/* Opens a change window: settled masks unknown until settle_end(). */
static void settle_begin(void)
{
	__atomic_fetch_add(&settled_gen, 1, __ATOMIC_SEQ_CST);
}

/* Publishes the usable masks after a change returned; closes the window. */
static void settle_end(const struct padata_cpumask *m)
{
	for (int w = 0; w < PADATA_CPUMASK_LONGS; w++) {
		st(&settled_p.bits[w], m->pcpu->bits[w]);
		st(&settled_s.bits[w], m->cbcpu->bits[w]);
	}
	/* Pairs with the acquire load in settled_test(). */
	__atomic_fetch_add(&settled_gen, 1, __ATOMIC_RELEASE);
}

static void *fault_thread(void *arg)
{
	uint64_t rng = opt.seed ^ 0xfa017ull;
	unsigned int total = 0;

	(void)arg;
	changer = pthread_self();
	for (unsigned int k = 0; k < F_NR; k++)
		total += fault_weights[k];
	while (!ld(&stop_faults)) {
		struct padata_cpumask before, after;
		unsigned int r = rng_below(&rng, total);
		enum fault_kind kind = F_MASK;
		uint64_t calls;

		sleep_ns((long)(opt.fault_interval_ms * 1e6 * (0.25 + 1.5 * rng_below(&rng, 1000) / 1000.0)));
		while (r >= fault_weights[kind])
			r -= fault_weights[kind++];

		padata_get_cpumask(pinst, &before);
		calls = ld(&cnt.notifier_calls);
		notified_action = 0;
		settle_begin();
		do_fault(kind, &rng);
		inc(&cnt.faults[kind]);
		padata_get_cpumask(pinst, &after);

		if (kind == F_BADARG && (!cpumask_equal(before.pcpu, after.pcpu) ||
					 !cpumask_equal(before.cbcpu, after.cbcpu)))
			violation(&cnt.errors, "a rejected call changed the usable masks");
		if (!cpumask_equal(before.pcpu, after.pcpu) || !cpumask_equal(before.cbcpu, after.cbcpu)) {
			if (ld(&cnt.notifier_calls) == calls) {
				violation(&cnt.errors, "usable masks changed (%s) without a notifier call",
					  fault_names[kind]);
			} else if (!cpumask_equal(&last_notified_p, after.pcpu) ||
				   !cpumask_equal(&last_notified_s, after.cbcpu)) {
				violation(&cnt.errors, "the last notifier call (%s) did not carry the new masks",
					  fault_names[kind]);
			} else if (kind != F_INVALID &&
				   ((!cpumask_equal(before.pcpu, after.pcpu) &&
				     !(notified_action & PADATA_CPU_PARALLEL)) ||
				    (!cpumask_equal(before.cbcpu, after.cbcpu) &&
				     !(notified_action & PADATA_CPU_SERIAL)))) {
				violation(&cnt.errors, "notifier action %#lx misses a changed mask (%s)",
					  notified_action, fault_names[kind]);
			}
		}
		if (!usable_valid(&after)) {
			/* Hotplug or a random mask emptied a usable mask: a short invalid spell. */
			inc(&cnt.faults[F_INVALID]);
			sleep_ns(500000 + rng_below(&rng, 1000000));
			restore_masks();
			padata_get_cpumask(pinst, &after);
		}
		settle_end(&after);
		fault_now = "probe";
		probe(&rng);
		fault_now = "sleep";
		inc(&cnt.faults_done);
	}
	return NULL;
}

/* ---- watchdog, memory ----------------------------------------------------- */

static int finished;
static uint64_t phase_step;
static const char *volatile phase = "run";
static double t_start;
static long rss_warm = -1, rss_end = -1;

static void print_summary(int hangs);

/* The library's statistics after the final stop, printed in the summary. */
static struct padata_stats final_stats;
static bool have_stats;

/*
 * After the final padata_stop() nothing runs: padata_get_stats() must agree
 * exactly with our own counts (every padata_do_parallel() of this driver
 * goes through job_submit(), which counts each answer).
 */
static void check_stats(void)
{
	int rc = padata_get_stats(pinst, &final_stats);

	expect_rc("padata_get_stats", rc, 0);
	if (rc)
		return;
	have_stats = true;
	if (final_stats.accepted != ld(&cnt.accepted) || final_stats.completed != ld(&cnt.serial_done) ||
	    final_stats.busy != ld(&cnt.busy) || final_stats.in_flight != 0 || final_stats.reorder_depth != 0)
		violation(&cnt.errors,
			  "padata_get_stats disagrees: accepted %" PRIu64 " (ours %" PRIu64 "), completed %" PRIu64
			  " (ours %" PRIu64 "), busy %" PRIu64 " (ours %" PRIu64 "), in_flight %u, reorder_depth %u",
			  final_stats.accepted, ld(&cnt.accepted), final_stats.completed, ld(&cnt.serial_done),
			  final_stats.busy, ld(&cnt.busy), final_stats.in_flight, final_stats.reorder_depth);
}

static void *watchdog_thread(void *arg)
{
	uint64_t last = UINT64_MAX;
	double since = now_s();

	(void)arg;
	while (!ld(&finished)) {
		uint64_t p = ld(&cnt.serial_done) + ld(&cnt.faults_done) + ld(&phase_step);
		double t;

		sleep_ns(100000000L);
		t = now_s();
		if (p != last) {
			last = p;
			since = t;
			continue;
		}
		if (t - since < opt.watchdog_s)
			continue;
		fprintf(stderr, "padata_stress: HANG: no progress for %.1f s in phase '%s'; fault thread in '%s'; "
			"accepted %" PRIu64 ", serial() returned %" PRIu64 ", async queue %zu\n",
			t - since, phase, fault_now, ld(&cnt.accepted), ld(&cnt.serial_done), bag.n);
		print_summary(1);
		fflush(stdout);
		fflush(stderr);
		_exit(EXIT_HANG);
	}
	return NULL;
}

/* Resident set size in bytes, from /proc/self/statm. */
static long rss_bytes(void)
{
	long pages = -1, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* ---- summary, options, main ----------------------------------------------- */

static uint64_t lost;

static void print_summary(int hangs)
{
	uint64_t faults = 0;
	bool ok = !hangs && !lost && !ld(&cnt.repeated) && !ld(&cnt.reordered) && !ld(&cnt.errors);

	for (unsigned int k = 0; k < F_NR; k++)
		faults += ld(&cnt.faults[k]);
	printf("padata_stress: %s cpus=%u topology=%s seconds=%.1f seed=%" PRIu64 " threads=%u"
	       " jobs=%" PRIu64 " resubmitted=%" PRIu64 " rejected=busy:%" PRIu64 ",einval:%" PRIu64
	       " completion=", ok ? "PASS" : "FAIL", ncpu, padata_topology_is_virtual() ? "virtual" : "real",
	       now_s() - t_start, opt.seed, opt.threads, ld(&cnt.accepted), ld(&cnt.resubmitted),
	       ld(&cnt.busy), ld(&cnt.inval));
	for (unsigned int m = 0; m < M_NR; m++)
		printf("%s%s:%" PRIu64, m ? "," : "", mode_names[m], ld(&cnt.modes[m]));
	printf(" faults=%" PRIu64 "(", faults);
	for (unsigned int k = 0; k < F_NR; k++)
		printf("%s%s:%" PRIu64, k ? "," : "", fault_names[k], ld(&cnt.faults[k]));
	printf(") notifier=%" PRIu64 " lost=%" PRIu64 " repeated=%" PRIu64 " reordered=%" PRIu64
	       " hangs=%d errors=%" PRIu64, ld(&cnt.notifier_calls), lost, ld(&cnt.repeated),
	       ld(&cnt.reordered), hangs, ld(&cnt.errors));
	if (have_stats)
		printf(" stats=accepted:%" PRIu64 ",completed:%" PRIu64 ",busy:%" PRIu64 ",reorder_depth_max:%u",
		       final_stats.accepted, final_stats.completed, final_stats.busy,
		       final_stats.reorder_depth_max);
	if (rss_warm >= 0 && rss_end >= 0)
		printf(" rss_mib=%.1f->%.1f", rss_warm / 1048576.0, rss_end / 1048576.0);
	printf("\n");
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: padata_stress [options]\n"
		"  --seconds S          run for S seconds (default 5 when --jobs is not given)\n"
		"  --jobs N             stop after N accepted submissions from the submitters\n"
		"  --seed X             random seed (default 1)\n"
		"  --threads T          submitting threads (default 3)\n"
		"  --async-threads A    foreign threads completing async jobs (default 2)\n"
		"  --fault-interval MS  mean time between faults (default 2)\n"
		"  --no-faults          no mask changes, hotplug or stop/start\n"
		"  --resubmit-pct P     chance that serial() submits its job anew (default 10)\n"
		"  --max-inflight N     padata_set_max_inflight() before start\n"
		"  --watchdog S         report a hang after S seconds without progress (default 10)\n"
		"  --rss-warmup S       memory check: RSS at the end within --rss-slack-mib of\n"
		"                       the RSS after S seconds\n"
		"  --rss-slack-mib M    allowed growth (default 4)\n"
		"Environment: PADATA_NR_CPUS=N presents N virtual CPUs.\n");
}

static bool parse_double(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (!*s || *end || v < 0)
		return false;
	*out = v;
	return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "seed", required_argument, NULL, 'S' },
		{ "threads", required_argument, NULL, 't' },
		{ "async-threads", required_argument, NULL, 'a' },
		{ "fault-interval", required_argument, NULL, 'f' },
		{ "no-faults", no_argument, NULL, 'n' },
		{ "resubmit-pct", required_argument, NULL, 'r' },
		{ "max-inflight", required_argument, NULL, 'm' },
		{ "watchdog", required_argument, NULL, 'w' },
		{ "rss-warmup", required_argument, NULL, 'R' },
		{ "rss-slack-mib", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t u;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 's': ok = parse_double(optarg, &opt.seconds); break;
		case 'j': ok = parse_u64(optarg, &opt.jobs); break;
		case 'S': ok = parse_u64(optarg, &opt.seed); break;
		case 't': ok = parse_u64(optarg, &u) && u >= 1 && u <= 64; opt.threads = (unsigned int)u; break;
		case 'a': ok = parse_u64(optarg, &u) && u >= 1 && u <= 64; opt.async_threads = (unsigned int)u; break;
		case 'f': ok = parse_double(optarg, &opt.fault_interval_ms); break;
		case 'n': opt.faults = false; break;
		case 'r': ok = parse_u64(optarg, &u) && u <= 100; opt.resubmit_pct = (unsigned int)u; break;
		case 'm': ok = parse_u64(optarg, &u) && u >= 1 && u <= PADATA_MAX_INFLIGHT_LIMIT;
			  opt.max_inflight = (unsigned int)u; break;
		case 'w': ok = parse_double(optarg, &opt.watchdog_s) && opt.watchdog_s > 0; break;
		case 'R': ok = parse_double(optarg, &opt.rss_warmup_s); break;
		case 'M': ok = parse_double(optarg, &opt.rss_slack_mib); break;
		case 'h': usage(stdout); exit(0);
		default: ok = false; break;
		}
		if (!ok) {
			if (optarg)
				fprintf(stderr, "padata_stress: bad value '%s' for %s\n", optarg, argv[optind - 1]);
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "padata_stress: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		exit(EXIT_USAGE);
	}
	if (opt.seconds == 0 && opt.jobs == 0)
		opt.seconds = 5;
	if (opt.rss_warmup_s > 0 && (opt.seconds == 0 || opt.rss_warmup_s >= opt.seconds)) {
		fprintf(stderr, "padata_stress: --rss-warmup needs --seconds longer than the warm-up\n");
		exit(EXIT_USAGE);
	}
}

static void start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int rc = pthread_create(t, NULL, fn, arg);

	if (rc) {
		fprintf(stderr, "padata_stress: pthread_create: %s\n", strerror(rc));
		exit(EXIT_CHECK);
	}
}

static void next_phase(const char *name)
{
	phase = name;
	inc(&phase_step);
}

/* After the final drain: per-stream FIFO counts, job states, leftovers. */
static void final_checks(void)
{
	uint64_t accepted = ld(&cnt.accepted), calls = ld(&cnt.serial_calls);
	uint64_t missing = 0;

	for (size_t i = 0; i < (size_t)nstreams * ncpu; i++)
		if (next_seq[i] > expect_seq[i])
			missing += next_seq[i] - expect_seq[i];
	if (ld(&cnt.parallel_calls) < accepted)
		violation(&cnt.errors, "%" PRIu64 " accepted jobs never ran parallel()",
			  accepted - ld(&cnt.parallel_calls));
	lost = accepted > calls ? accepted - calls : 0;
	if (missing > lost)
		lost = missing;
	if (lost)
		violation(&cnt.errors, "%" PRIu64 " accepted jobs never ran serial()", lost);
	pthread_mutex_lock(&bag.lock);
	if (bag.n)
		violation(&cnt.errors, "%zu async jobs never completed", bag.n);
	pthread_mutex_unlock(&bag.lock);
	for (struct stress_job *j = all_jobs; j; j = j->all_next)
		if (__atomic_load_n(&j->state, __ATOMIC_ACQUIRE) != J_IDLE)
			violation(&cnt.errors, "job %p left in state %u after padata_stop", (void *)j, j->state);
}

int main(int argc, char **argv)
{
	pthread_t *subs, *asyncs, faulter, watchdog;
	struct cpumask active, down;
	int rc;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	t_start = now_s();
	ncpu = nr_cpu_ids;
	nstreams = opt.threads + ncpu + 1;
	fault_stream = opt.threads + ncpu;
	next_seq = calloc((size_t)nstreams * ncpu, sizeof(*next_seq));
	expect_seq = calloc((size_t)nstreams * ncpu, sizeof(*expect_seq));
	serial_busy = calloc(ncpu, sizeof(*serial_busy));
	submitted = calloc(opt.threads, sizeof(*submitted));
	subs = calloc(opt.threads, sizeof(*subs));
	asyncs = calloc(opt.async_threads, sizeof(*asyncs));
	if (!next_seq || !expect_seq || !serial_busy || !submitted || !subs || !asyncs) {
		fprintf(stderr, "padata_stress: out of memory\n");
		return EXIT_CHECK;
	}
	cpumask_copy(&all_cpus, cpu_possible_mask);
	changer = pthread_self();

	wq = create_workqueue("stress");
	if (!wq) {
		fprintf(stderr, "padata_stress: create_workqueue: %s\n", strerror(errno));
		return EXIT_CHECK;
	}
	pinst = padata_alloc_possible(wq);
	if (!pinst) {
		fprintf(stderr, "padata_stress: padata_alloc_possible: %s\n", strerror(errno));
		return EXIT_CHECK;
	}
	if (opt.max_inflight)
		expect_rc("padata_set_max_inflight", padata_set_max_inflight(pinst, opt.max_inflight), 0);
	expect_rc("padata_register_cpumask_notifier", padata_register_cpumask_notifier(pinst, &notifier), 0);
	expect_rc("padata_start", padata_start(pinst), 0);
	{
		struct padata_cpumask m;

		padata_get_cpumask(pinst, &m);
		settle_end(&m);
	}

	start_thread(&watchdog, watchdog_thread, NULL);
	for (unsigned int i = 0; i < opt.async_threads; i++)
		start_thread(&asyncs[i], async_thread, (void *)(uintptr_t)i);
	for (unsigned int i = 0; i < opt.threads; i++)
		start_thread(&subs[i], submit_thread, (void *)(uintptr_t)i);
	if (opt.faults)
		start_thread(&faulter, fault_thread, NULL);

	for (;;) {
		double t = now_s() - t_start;
		uint64_t n = 0;

		for (unsigned int i = 0; i < opt.threads; i++)
			n += ld(&submitted[i]);
		if ((opt.seconds > 0 && t >= opt.seconds) || (opt.jobs && n >= opt.jobs))
			break;
		if (opt.rss_warmup_s > 0 && rss_warm < 0 && t >= opt.rss_warmup_s)
			rss_warm = rss_bytes();
		sleep_ns(5000000L);
	}
	if (opt.rss_warmup_s > 0)
		rss_end = rss_bytes();

	next_phase("join submitters");
	st(&stopping, 1);
	for (unsigned int i = 0; i < opt.threads; i++)
		pthread_join(subs[i], NULL);
	next_phase("join fault thread");
	st(&stop_faults, 1);
	if (opt.faults)
		pthread_join(faulter, NULL);

	next_phase("restore");
	settle_begin();
	changer = pthread_self();
	padata_cpu_active_snapshot(&active);
	cpumask_andnot(&down, &all_cpus, &active);
	for (unsigned int c = cpumask_first(&down); c < NR_CPUS; c = cpumask_next((int)c, &down))
		expect_rc("cpu_up", cpu_up(c), 0);
	restore_masks();
	expect_rc("padata_start", padata_start(pinst), 0);

	next_phase("final padata_stop");
	padata_stop(pinst);
	next_phase("checks");
	final_checks();
	check_stats();

	next_phase("join async threads");
	pthread_mutex_lock(&bag.lock);
	bag.quit = true;
	pthread_cond_broadcast(&bag.cond);
	pthread_mutex_unlock(&bag.lock);
	for (unsigned int i = 0; i < opt.async_threads; i++)
		pthread_join(asyncs[i], NULL);

	next_phase("padata_free");
	expect_rc("padata_unregister_cpumask_notifier", padata_unregister_cpumask_notifier(pinst, &notifier), 0);
	padata_free(pinst);
	destroy_workqueue(wq);
	st(&finished, 1);
	pthread_join(watchdog, NULL);

	print_summary(0);
	rc = (lost || ld(&cnt.repeated) || ld(&cnt.reordered) || ld(&cnt.errors)) ? EXIT_CHECK : 0;
	if (rc == 0 && opt.rss_warmup_s > 0) {
#ifdef STRESS_ASAN
		printf("padata_stress: memory check skipped under AddressSanitizer (its quarantine grows the RSS)\n");
		rc = EXIT_SKIP;
#else
		if (rss_warm < 0 || rss_end < 0) {
			fprintf(stderr, "padata_stress: cannot read /proc/self/statm\n");
			rc = EXIT_CHECK;
		} else if ((double)(rss_end - rss_warm) > opt.rss_slack_mib * 1048576.0) {
			fprintf(stderr, "padata_stress: memory grew by %.1f MiB after the warm-up (limit %.1f MiB)\n",
				(rss_end - rss_warm) / 1048576.0, opt.rss_slack_mib);
			rc = EXIT_CHECK;
		}
#endif
	}
	while (all_jobs) {
		struct stress_job *j = all_jobs;

		all_jobs = j->all_next;
		free(j);
	}
	free(bag.items);
	free(next_seq);
	free(expect_seq);
	free(serial_busy);
	free(submitted);
	free(subs);
	free(asyncs);
	return rc;
}
