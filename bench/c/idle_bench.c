/* SPDX-License-Identifier: MIT */
/*
 * idle_bench.c - what a light load costs: jobs submitted at a fixed rate
 * (one per 1 ms, one per 100 µs, ...) or as fast as possible, through
 * padata (the public API as the README shows it: padata_do_parallel_wait()
 * with no timeout, sleeping at the in-flight limit; one cb_cpu) and through a plain thread pool (pthreads,
 * one mutex + condvar queue, results handed back in submission order by
 * whichever worker completes the oldest job).
 *
 * Per (contender, rate) it reports the process CPU time per wall second
 * (getrusage(RUSAGE_SELF), user + system, as % of one core: 100 = one core
 * busy) over the measured submission window, and the latency from the
 * submit call to the start of the in-order result stage (serial() for
 * padata), p50 / p99 / p99.9, CLOCK_MONOTONIC. Every job's result reaches
 * the in-order stage exactly once, in submission order, and the folded
 * results must equal a single loop's; otherwise the pair gets
 * "check":"FAIL" and no figure.
 *
 * Rates are open-loop: job k is submitted at t0 + k * period (absolute
 * clock_nanosleep), late jobs at once. Period 0 is saturation: submit as
 * fast as the contender takes jobs (then the latency is mostly queueing:
 * about the jobs in flight divided by the throughput).
 *
 * Output: one JSON object per (contender, period) on stdout, a summary line
 * on stderr. Exit 0; 1 when a check failed; 2 on a usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/padata.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_RATES 8
#define INFLIGHT 1000u          /* padata's default in-flight limit; the pool uses the same */
#define RING (4 * INFLIGHT)     /* job structs; a slot is reused only once its result is out */

struct job {
	struct padata_priv padata;   /* c-padata */
	struct job *next;            /* c-pool queue */
	uint64_t seq;
	uint64_t t_submit_ns;
	uint64_t value;
	bool measured;
	bool done;                   /* c-pool: result ready, under the pool's mutex */
};

/* The in-order result stage, shared by both contenders; one thread at a time. */
struct sink {
	uint64_t next;               /* next sequence number expected */
	uint64_t digest;
	bool bad_order;
	uint64_t out;                /* results delivered (release-stored, read by the submitter) */
	uint64_t sample_every;
	struct bench_lat lat;
	uint64_t lat_buf[256];
	size_t lat_n;
};

struct run {
	struct job *ring;
	struct sink sink;
	uint64_t submitted;
	double cpu_pct, wall, jobs_per_s, vcsw_per_job;
	uint64_t jobs_measured;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Voluntary context switches of the process (every thread): parks and waits. */
static long vcsw(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_nvcsw;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The job's work: a few rounds of a 64-bit mix (tens of ns). */
static uint64_t work(uint64_t seq)
{
	uint64_t x = seq + 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 8; i++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ull;
		x ^= x >> 29;
	}
	return x;
}

static uint64_t fold(uint64_t d, uint64_t v)
{
	return (d ^ v) * 0x100000001b3ull;
}

static void sink_flush_lat(struct sink *s)
{
	if (s->lat_n)
		bench_lat_add(&s->lat, s->lat_buf, s->lat_n);
	s->lat_n = 0;
}

/* The in-order stage: check order, fold the result, time the job. */
static void sink_take(struct sink *s, struct job *j)
{
	uint64_t t = now_ns();
	if (j->seq != s->next)
		s->bad_order = true;
	s->next = j->seq + 1;
	s->digest = fold(s->digest, j->value);
	if (j->measured && j->seq % s->sample_every == 0) {
		s->lat_buf[s->lat_n++] = t - j->t_submit_ns;
		if (s->lat_n == sizeof(s->lat_buf) / sizeof(s->lat_buf[0]))
			sink_flush_lat(s);
	}
	/* Release: pairs with the acquire load in slot_wait(): the job struct
	 * is no longer read once the submitter sees it delivered. */
	__atomic_store_n(&s->out, s->out + 1, __ATOMIC_RELEASE);
}

/* Wait until the job that last used @seq's slot has been delivered (a
 * safety net: with at most INFLIGHT jobs in flight it never waits). */
static void slot_wait(struct sink *s, uint64_t seq)
{
	/* Acquire: pairs with the release store of out in sink_take(). */
	while (seq >= RING && __atomic_load_n(&s->out, __ATOMIC_ACQUIRE) <= seq - RING)
		sched_yield();
}

static void drain_wait(struct sink *s, uint64_t n)
{
	/* Acquire: pairs with the release store of out in sink_take(). */
	while (__atomic_load_n(&s->out, __ATOMIC_ACQUIRE) < n)
		usleep(100);
}

/* ---- c-padata ------------------------------------------------------------------------ */

static struct sink *padata_sink;

static void pd_serial(struct padata_priv *p)
{
	sink_take(padata_sink, container_of(p, struct job, padata));
}

static void pd_parallel(struct padata_priv *p)
{
	struct job *j = container_of(p, struct job, padata);
	j->value = work(j->seq);
	padata_do_serial(p);
}

struct padata_ctx {
	struct workqueue_struct *wq;
	struct padata_instance *pinst;
	int cb_cpu;
};

static int pd_setup(struct padata_ctx *c)
{
	struct padata_cpumask m;
	c->wq = create_workqueue("idlebench");
	if (!c->wq)
		return -1;
	c->pinst = padata_alloc_possible(c->wq);
	if (!c->pinst) {
		destroy_workqueue(c->wq);
		return -1;
	}
	if (padata_get_cpumask(c->pinst, &m) || padata_start(c->pinst)) {
		padata_free(c->pinst);
		destroy_workqueue(c->wq);
		return -1;
	}
	c->cb_cpu = cpumask_first(m.cbcpu);
	return 0;
}

static int pd_submit(void *ctx, struct job *j)
{
	struct padata_ctx *c = ctx;
	j->padata = (struct padata_priv){ .parallel = pd_parallel, .serial = pd_serial };
	/* As the README: at the in-flight limit, sleep until room is back. */
	return padata_do_parallel_wait(c->pinst, &j->padata, c->cb_cpu, -1);
}

static void pd_teardown(struct padata_ctx *c)
{
	padata_free(c->pinst);
	destroy_workqueue(c->wq);
}

/* ---- c-pool: a plain thread pool ----------------------------------------------------- */

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;     /* queue not empty, or stopping */
	pthread_cond_t room_cv;     /* in-flight below the limit */
	struct job *head, *tail;
	struct job **slots;         /* ring of submitted jobs, by seq % RING */
	uint64_t next_out;          /* oldest job whose result is not yet delivered */
	uint64_t inflight;
	bool stopping;
	int nthreads;
	pthread_t *threads;
	struct sink *sink;
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (!p->head)
			break;
		struct job *j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		j->value = work(j->seq);
		pthread_mutex_lock(&p->mu);
		j->done = true;
		/* Hand results back in order: whoever completes the oldest job delivers
		 * every consecutive finished one (the mutex serialises the sink). */
		bool freed = false;
		for (;;) {
			struct job *o = p->slots[p->next_out % RING];
			if (!o || o->seq != p->next_out || !o->done)
				break;
			sink_take(p->sink, o);
			p->slots[p->next_out % RING] = NULL;
			p->next_out++;
			p->inflight--;
			freed = true;
		}
		if (freed)
			pthread_cond_signal(&p->room_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int pool_setup(struct pool *p, struct sink *s)
{
	memset(p, 0, sizeof(*p));
	p->sink = s;
	p->nthreads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (p->nthreads < 1)
		p->nthreads = 1;
	p->slots = calloc(RING, sizeof(*p->slots));
	p->threads = calloc((size_t)p->nthreads, sizeof(*p->threads));
	if (!p->slots || !p->threads)
		return -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->room_cv, NULL);
	for (int i = 0; i < p->nthreads; i++)
		if (pthread_create(&p->threads[i], NULL, pool_worker, p))
			return -1;
	return 0;
}

static int pool_submit(void *ctx, struct job *j)
{
	struct pool *p = ctx;
	pthread_mutex_lock(&p->mu);
	while (p->inflight >= INFLIGHT)
		pthread_cond_wait(&p->room_cv, &p->mu);
	p->inflight++;
	j->done = false;
	j->next = NULL;
	p->slots[j->seq % RING] = j;
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static void pool_teardown(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nthreads; i++)
		if (p->threads[i])
			pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->room_cv);
	free(p->slots);
	free(p->threads);
}

/* ---- driver ---------------------------------------------------------------------------- */

/*
 * Submit jobs at one per @period_ns (0: as fast as taken) for @warm_s unmeasured, then
 * @secs measured seconds; wait for every result. Return 0, or -1 with @why.
 */
static int drive(struct run *r, int (*submit)(void *, struct job *), void *ctx,
		 uint64_t period_ns, double warm_s, double secs, char *why, size_t why_len)
{
	uint64_t t0 = now_ns(), t_meas = t0 + (uint64_t)(warm_s * 1e9);
	uint64_t t_end = t_meas + (uint64_t)(secs * 1e9), next = t0;
	uint64_t first_measured = UINT64_MAX;
	double cpu0 = 0, w0 = 0;
	long cs0 = 0;
	bool measuring = false;

	for (uint64_t seq = 0;; seq++) {
		if (period_ns) {
			struct timespec ts = { (time_t)(next / 1000000000u), (long)(next % 1000000000u) };
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
			next += period_ns;
		}
		uint64_t t = now_ns();
		if (!measuring && t >= t_meas) {
			measuring = true;
			first_measured = seq;
			cpu0 = cpu_seconds();
			cs0 = vcsw();
			w0 = (double)t / 1e9;
		}
		if (t >= t_end) {
			r->cpu_pct = (cpu_seconds() - cpu0) / ((double)t / 1e9 - w0) * 100.0;
			r->wall = (double)t / 1e9 - w0;
			r->jobs_measured = seq - first_measured;
			r->jobs_per_s = (double)r->jobs_measured / r->wall;
			r->vcsw_per_job = r->jobs_measured ? (double)(vcsw() - cs0) / (double)r->jobs_measured : 0;
			r->submitted = seq;
			break;
		}
		slot_wait(&r->sink, seq);
		struct job *j = &r->ring[seq % RING];
		j->seq = seq;
		j->measured = measuring;
		j->t_submit_ns = now_ns();
		int rc = submit(ctx, j);
		if (rc) {
			snprintf(why, why_len, "submit(job %" PRIu64 "): %s", seq, strerror(-rc));
			r->submitted = seq;
			return -1;
		}
	}
	drain_wait(&r->sink, r->submitted);
	return 0;
}

struct acc {
	double cpu[64], rate[64], cs[64];
	int n;
	struct bench_lat lat;
	uint64_t jobs;
	char why[200];
	bool failed;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run_one(const char *contender, uint64_t period_us, double warm_s, double secs,
		   struct acc *a)
{
	struct run r;
	char why[200] = "";
	int rc = -1;

	memset(&r, 0, sizeof(r));
	r.ring = calloc(RING, sizeof(*r.ring));
	if (!r.ring)
		return -2;
	/* Saturated runs time every 64th job; rate runs every job. */
	r.sink.sample_every = period_us ? 1 : 64;
	uint64_t period_ns = period_us * 1000;
	if (!strcmp(contender, "c-padata")) {
		struct padata_ctx c;
		if (pd_setup(&c)) {
			fprintf(stderr, "idle_bench: padata setup: %s\n", strerror(errno));
			free(r.ring);
			return -2;
		}
		padata_sink = &r.sink;
		rc = drive(&r, pd_submit, &c, period_ns, warm_s, secs, why, sizeof(why));
		pd_teardown(&c);
	} else {
		struct pool p;
		if (pool_setup(&p, &r.sink)) {
			fprintf(stderr, "idle_bench: pool setup failed\n");
			free(r.ring);
			return -2;
		}
		rc = drive(&r, pool_submit, &p, period_ns, warm_s, secs, why, sizeof(why));
		pool_teardown(&p);
	}
	sink_flush_lat(&r.sink);
	if (rc == 0) {
		uint64_t ref = 0;
		for (uint64_t i = 0; i < r.submitted; i++)
			ref = fold(ref, work(i));
		if (r.sink.bad_order || r.sink.next != r.submitted)
			snprintf(why, sizeof(why), "results out of order or missing (%" PRIu64 " of %" PRIu64 ")",
				 r.sink.next, r.submitted);
		else if (r.sink.digest != ref)
			snprintf(why, sizeof(why), "digest %016" PRIx64 " != single loop's %016" PRIx64,
				 r.sink.digest, ref);
	}
	if (why[0]) {
		a->failed = true;
		snprintf(a->why, sizeof(a->why), "%s", why);
	} else if (a->n < 64) {
		a->cpu[a->n] = r.cpu_pct;
		a->rate[a->n] = r.jobs_per_s;
		a->cs[a->n] = r.vcsw_per_job;
		a->n++;
		a->jobs += r.jobs_measured;
		if (r.sink.lat.n)
			bench_lat_add(&a->lat, r.sink.lat.ns, r.sink.lat.n);
	}
	bench_lat_free(&r.sink.lat);
	free(r.ring);
	return 0;
}

static const char usage[] =
	"usage: idle_bench [--periods LIST] [--seconds S] [--sat-seconds S] [--warmup S]\n"
	"                  [--rounds R] [--contenders LIST] [--quiet]\n"
	"  --periods LIST     µs between submissions, 0 = saturated (default 1000,100,0)\n"
	"  --seconds S        measured seconds per rate run (default 2)\n"
	"  --sat-seconds S    measured seconds per saturated run (default 0.5)\n"
	"  --warmup S         unmeasured seconds before each run (default 0.2)\n"
	"  --rounds R         rounds; each runs every (contender, period), the contenders'\n"
	"                     order alternating (default 1); figures are medians of rounds\n"
	"  --contenders LIST  c-padata,c-pool (default both)\n";

int main(int argc, char **argv)
{
	static const char *const cont_names[2] = { "c-padata", "c-pool" };
	uint64_t periods[MAX_RATES] = { 1000, 100, 0 };
	int nr_periods = 3, rounds = 1;
	double secs = 2, sat_secs = 0.5, warm = 0.2;
	bool want[2] = { true, true };
	const char *cont[2];
	int nr_cont = 0;
	bool quiet = false;
	const struct bench_arg args[] = {
		BENCH_ARG_UINT_LIST("--periods", periods, nr_periods, 0, UINT64_MAX),
		BENCH_ARG_DOUBLE("--seconds", secs, 0, 3600),
		BENCH_ARG_DOUBLE("--sat-seconds", sat_secs, 0, 3600),
		BENCH_ARG_DOUBLE("--warmup", warm, 0, 3600),
		BENCH_ARG_UINT("--rounds", rounds, 1, 64),
		BENCH_ARG_NAMES("--contenders", want, cont_names, 2),
		BENCH_ARG_FLAG("--quiet", quiet),
	};
	int rc = bench_parse_args(argc, argv, "idle_bench", args, sizeof(args) / sizeof(args[0]), usage);

	if (rc)
		return rc > 0 ? 0 : 2;
	for (int k = 0; k < 2; k++)  /* c-padata first, whatever the order given */
		if (want[k])
			cont[nr_cont++] = cont_names[k];

	static struct acc accs[2][MAX_RATES];
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < nr_cont; k++) {
			int c = r % 2 ? nr_cont - 1 - k : k;   /* alternate the order */
			for (int p = 0; p < nr_periods; p++) {
				if (!quiet)
					fprintf(stderr, "\r\033[K[idle %s period=%" PRIu64 "us round %d/%d]",
						cont[c], periods[p], r + 1, rounds);
				if (run_one(cont[c], periods[p], warm, periods[p] ? secs : sat_secs,
					    &accs[c][p]) == -2)
					return 2;
			}
		}
	}
	if (!quiet)
		fprintf(stderr, "\r\033[K");

	const char *spin = getenv("PADATA_SPIN_US");
	int failed = 0;
	for (int c = 0; c < nr_cont; c++) {
		for (int p = 0; p < nr_periods; p++) {
			struct acc *a = &accs[c][p];
			char label[48];
			if (periods[p])
				snprintf(label, sizeof(label), "1 job / %" PRIu64 " µs", periods[p]);
			else
				snprintf(label, sizeof(label), "saturated");
			printf("{\"bench\":\"idle\",\"contender\":\"%s\",\"period_us\":%" PRIu64 ",\"rate\":\"%s\","
			       "\"rounds\":%d,\"seconds\":%.2f,\"threads\":%ld,\"spin_us\":\"%s\",",
			       cont[c], periods[p], label, rounds, periods[p] ? secs : sat_secs,
			       sysconf(_SC_NPROCESSORS_ONLN), spin ? spin : "default");
			if (a->failed || a->n == 0) {
				failed = 1;
				printf("\"check\":\"FAIL\",\"why\":\"%s\"}\n", a->failed ? a->why : "no run");
				fprintf(stderr, "IDLE %s period=%" PRIu64 "us FAIL: %s\n", cont[c], periods[p],
					a->failed ? a->why : "no run");
				continue;
			}
			double cmin = a->cpu[0], cmax = a->cpu[0];
			for (int i = 1; i < a->n; i++) {
				cmin = a->cpu[i] < cmin ? a->cpu[i] : cmin;
				cmax = a->cpu[i] > cmax ? a->cpu[i] : cmax;
			}
			double cpu = median(a->cpu, a->n), rate = median(a->rate, a->n), cs = median(a->cs, a->n);
			uint64_t p50 = bench_lat_percentile(&a->lat, 50), p99 = bench_lat_percentile(&a->lat, 99),
				 p999 = bench_lat_percentile(&a->lat, 99.9);
			printf("\"jobs\":%" PRIu64 ",\"jobs_per_s\":%.1f,\"cpu_pct\":%.1f,\"cpu_pct_min\":%.1f,"
			       "\"cpu_pct_max\":%.1f,\"vcsw_per_job\":%.3f,\"lat_samples\":%zu,\"lat_p50_ns\":%" PRIu64
			       ",\"lat_p99_ns\":%" PRIu64 ",\"lat_p999_ns\":%" PRIu64 ",\"check\":\"ok\"}\n",
			       a->jobs, rate, cpu, cmin, cmax, cs, a->lat.n, p50, p99, p999);
			fprintf(stderr, "IDLE %-8s %-18s cpu %6.1f%% (%.1f..%.1f) %10.0f jobs/s %6.3f cs/job  lat p50 %7.1f µs"
				"  p99 %7.1f µs  p99.9 %7.1f µs\n", cont[c], label, cpu, cmin, cmax, rate, cs,
				p50 / 1e3, p99 / 1e3, p999 / 1e3);
			bench_lat_free(&a->lat);
		}
	}
	fflush(stdout);
	return failed;
}
