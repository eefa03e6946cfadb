/* SPDX-License-Identifier: MIT */
/*
 * workload_bench.c - real workloads through padata, against a single loop,
 * oneTBB, the unordered limit and (deflate) pigz and gzip, in alternating
 * rounds of one run.
 *
 * Workloads (the per-item work is workload_kern.c, the same for everyone):
 *  - aes-gcm: seal packets of 1400 and 8000 bytes with AES-128-GCM, in order.
 *  - deflate: compress an input file in 128 KiB blocks into ONE gzip stream.
 *
 * Contenders:
 *  c-single     the plain loop on one thread (the reference).
 *  c-padata     the public API the way the README shows it: jobs from a plain
 *               pool (serial() puts a job back), submitted with
 *               padata_do_parallel_wait(pinst, job, cb_cpu, -1), which sleeps
 *               while the in-flight limit is reached. A round ends with
 *               padata_stop(), which waits for the last serial(). The limit
 *               is the library's default (1000) for aes-gcm, as the README's
 *               usage leaves it, and 16 per CPU for deflate (128 KiB blocks:
 *               padata_set_max_inflight(), public, like oneTBB's tokens);
 *               --inflight sets another.
 *  tbb          oneTBB parallel_pipeline serial_in_order -> parallel ->
 *               serial_in_order (tbb_workload.cc), when oneTBB was found.
 *  c-unordered  the same work on as many threads as CPUs with no ordering at
 *               all (items handed out by an atomic counter): what the hardware
 *               allows, the limit the ordered contenders are measured against.
 *  pigz, gzip   (deflate) `pigz -p <cpus> -<level>` and `gzip -<level>` on the
 *               same input file, stdout read through a pipe.
 *
 * Checks (a contender whose check fails reports no figure, exit 1):
 *  - aes-gcm: serial() sees the packets of each lane in order; the digest of
 *    per-packet hashes equals the single loop's. The first (unmeasured) round
 *    hashes every ciphertext and tag byte; the measured rounds hash the tag and
 *    the ciphertext's first and last 8 bytes (a serial stage must stay cheap).
 *  - deflate: the single loop's stream inflates (zlib) to the input and, when
 *    gzip is on PATH, `gzip -dc` reads it back byte-identical (once); every
 *    ordered contender's stream equals it byte for byte in every round; the
 *    unordered limit's per-block lengths and edge bytes equal it; pigz's and
 *    gzip's outputs inflate to the input in the first round.
 *
 * Output: one JSON line per (workload, size, contender) on stdout
 * ("suite":"workload"); a workload that cannot run (OpenSSL or zlib missing at
 * build time, no input) prints "check":"SKIP" lines with the reason.
 * Exit: 0; 1 when a check failed; 2 on usage or setup errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/padata.h>

#include "bench_util.h"
#include "workload_kern.h"

#ifdef WB_HAVE_TBB
/* tbb_workload.cc */
void wb_tbb_init(unsigned threads);
const char *wb_tbb_version(void);
double wb_tbb_aes(const struct wk_aes *a, bool full, unsigned tokens, struct wk_digest *d,
		  uint64_t *order_errors, uint64_t *errors);
double wb_tbb_deflate(const struct wk_deflate *d, unsigned tokens, struct wk_gz *g,
		      uint64_t *order_errors, uint64_t *errors);
#endif

static const char usage[] =
	"usage: workload_bench [options]\n"
	"  --workload LIST     aes-gcm,deflate (default both)\n"
	"  --sizes LIST        aes-gcm packet sizes in bytes (default 1400,8000)\n"
	"  --aes-mb M          MB sealed per contender and round (default 96)\n"
	"  --rounds R          measured rounds of aes-gcm (default 7); one check round first\n"
	"  --input FILE        deflate input (deflate is SKIP without it)\n"
	"  --deflate-rounds R  measured rounds of deflate (default 3)\n"
	"  --level L           zlib/pigz/gzip level (default 6)\n"
	"  --contenders LIST   c-single,c-padata,tbb,c-unordered,pigz,gzip (default all)\n"
	"  --inflight L        padata_set_max_inflight (default: the library's default\n"
	"                      for aes-gcm, 16 per CPU for deflate)\n"
	"  --lanes N           aes-gcm serial CPUs (cb_cpu round robin; default all usable)\n"
	"  --tokens T          oneTBB live tokens (default 16 per thread)\n"
	"  --quiet             no progress on stderr\n";

enum { C_SINGLE, C_PADATA, C_TBB, C_UNORDERED, C_PIGZ, C_GZIP, NR_CONT };
static const char *const cont_names[NR_CONT] = { "c-single", "c-padata", "tbb", "c-unordered",
						 "pigz", "gzip" };

struct opts {
	bool aes, deflate;
	size_t sizes[8];
	int nr_sizes;
	double aes_mb;
	int rounds, deflate_rounds, level;
	const char *input;
	bool want[NR_CONT];
	unsigned inflight, lanes, tokens;
	bool quiet;
};

static unsigned nr_threads; /* CPUs in the affinity mask */

/* ---- results ------------------------------------------------------------ */

struct cont {
	int id;
	bool on;
	bool bad;
	char why[320];
	struct bench_series s;
	struct bench_series cpu;  /* per round: process CPU ns per item */
	struct bench_series csw;  /* per round: context switches (all threads) per item */
	char extra[256];
};

/*
 * What a round cost beyond its wall time: the CPU time of every thread of the
 * process (the padata workers, oneTBB's and the unordered threads included)
 * and the context switches, voluntary and not. With N CPUs a contender at the
 * hardware's limit spends N CPU-seconds per wall second; the CPU per item over
 * the single loop's is what the ordering costs, and where a contender is below
 * N cores busy, its threads waited.
 */
struct cpu_mark {
	double wall, cpu;
	long csw;
};

static struct cpu_mark cpu_mark(void)
{
	struct cpu_mark m;
	struct timespec ts;
	struct rusage ru;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	m.cpu = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	getrusage(RUSAGE_SELF, &ru);
	m.csw = ru.ru_nvcsw + ru.ru_nivcsw;
	m.wall = bench_seconds();
	return m;
}

/* Adds round @m0..now of @items items to @c's CPU series. */
static void cpu_add(struct cont *c, const struct cpu_mark *m0, uint64_t items)
{
	struct cpu_mark m1 = cpu_mark();

	bench_series_add(&c->cpu, (m1.cpu - m0->cpu) * 1e9 / (double)items, m1.wall - m0->wall);
	bench_series_add(&c->csw, (double)(m1.csw - m0->csw) / (double)items, m1.wall - m0->wall);
}

/* Erases the progress line (a terminal only) before a result line. */
static const char *clear_line(void)
{
	return isatty(STDERR_FILENO) ? "\r\033[K" : "";
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++)
		putchar(*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 ? '\'' : *s);
	putchar('"');
}

/*
 * The cache-line round trip between the two CPUs before [0] and after [1] the
 * rounds of the current case (bench_line_now(); NAN: none): where the host ran
 * them while it was measured.
 */
static double case_line[2] = { NAN, NAN };

static void case_line_time(int which)
{
	case_line[which] = bench_line_now();
	if (which == 0)
		case_line[1] = NAN;
}

static void emit(const char *workload, size_t size, const struct cont *c, int threads,
		 uint64_t items, uint64_t bytes, const char *skip)
{
	const char *name = cont_names[c->id];

	printf("{\"suite\":\"workload\",\"workload\":\"%s\",\"size\":%zu,\"contender\":\"%s\""
	       ",\"threads\":%d,\"items\":%" PRIu64 ",\"bytes\":%" PRIu64,
	       workload, size, name, threads, items, bytes);
	if (skip || c->bad || c->s.n == 0) {
		const char *why = skip ? skip : c->bad ? c->why : "no measured round";

		printf(",\"check\":\"%s\",\"why\":", skip ? "SKIP" : "FAIL");
		json_str(why);
		printf("}\n");
		fprintf(stderr, "%sWORKLOAD %s %zu %s check=%s why=\"%s\"\n", clear_line(), workload, size, name,
			skip ? "SKIP" : "FAIL", why);
	} else {
		double med = bench_series_quantile(&c->s, 0.5);

		char cpu[160] = "", cpu_txt[96] = "", line[96] = "";

		if (c->cpu.n) {
			double ns = bench_series_quantile(&c->cpu, 0.5);
			double cores = ns * med * 1e-9;

			snprintf(cpu, sizeof(cpu),
				 ",\"cpu_ns_per_item\":%.1f,\"cores_busy\":%.2f,\"csw_per_item\":%.4f", ns,
				 cores, bench_series_quantile(&c->csw, 0.5));
			snprintf(cpu_txt, sizeof(cpu_txt), ", %.0f CPU ns/item, %.2f cores", ns, cores);
		}
		if (!isnan(case_line[0]) && !isnan(case_line[1]))
			snprintf(line, sizeof(line), ",\"line_rt_ns_before\":%.1f,\"line_rt_ns_after\":%.1f",
				 case_line[0], case_line[1]);
		printf(",\"check\":\"ok\",\"rounds\":%d,\"seconds\":%.3f,\"items_per_s\":%.1f"
		       ",\"items_per_s_min\":%.1f,\"items_per_s_max\":%.1f,\"items_per_s_q1\":%.1f"
		       ",\"items_per_s_q3\":%.1f,\"mb_per_s\":%.1f%s%s%s}\n",
		       c->s.n, c->s.seconds, med, bench_series_quantile(&c->s, 0),
		       bench_series_quantile(&c->s, 1), bench_series_quantile(&c->s, 0.25),
		       bench_series_quantile(&c->s, 0.75), med * (double)bytes / (double)items / 1e6,
		       cpu, line, c->extra);
		fprintf(stderr, "%sWORKLOAD %s %zu %-11s %9.1f MB/s (min %.1f max %.1f, %d rounds%s)\n",
			clear_line(), workload, size, name, med * (double)bytes / (double)items / 1e6,
			bench_series_quantile(&c->s, 0) * (double)bytes / (double)items / 1e6,
			bench_series_quantile(&c->s, 1) * (double)bytes / (double)items / 1e6, c->s.n,
			cpu_txt);
	}
	fflush(stdout);
}

static void fail(struct cont *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct cont *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad)
		return;
	c->bad = true;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

#ifdef WB_HAVE_TBB
/* Fails @c when a tbb round saw @order_errors items out of order or @errors failed ones. */
static void fail_tbb_counts(struct cont *c, uint64_t order_errors, const char *items,
			    uint64_t errors, const char *lib)
{
	if (order_errors)
		fail(c, "%" PRIu64 " %s out of order", order_errors, items);
	if (errors)
		fail(c, "%" PRIu64 " %s errors", errors, lib);
}
#endif

static void progress(const struct opts *o, const char *workload, size_t size, int round, int rounds,
		     int id)
{
	if (o->quiet || !isatty(STDERR_FILENO))
		return;
	fprintf(stderr, "\r\033[K  %s %zu round %d/%d %s", workload, size, round, rounds,
		cont_names[id]);
	fflush(stderr);
}

/* ---- the padata instance and the plain job pool -------------------------- */

/*
 * A job of either workload. The pool is what a user writes: an array of
 * jobs, a free list that serial() pushes a finished job onto (lock-free,
 * many producers) and the submitter takes from (it grabs the whole list at
 * once when its private list is empty). The pool holds one job more than the
 * in-flight limit: padata counts a job in flight until its serial() has
 * returned, and serial() frees the job before that, so with every job the
 * submitter holds already accepted, the pool cannot run dry; waiting for room
 * is padata_do_parallel_wait()'s business alone.
 */
struct pjob {
	struct padata_priv priv;
	struct pjob *next;
	struct prun *run;
	uint64_t index;
	uint64_t hash;
	size_t out_len;
	uint32_t crc;
	uint32_t lane;
	int err;
	uint8_t out[];
};

struct plane {
	uint64_t next;
	struct wk_digest d;
	uint64_t order_errors;
	uint64_t first_bad;
	uint64_t errors; /* items the kernel failed */
	uint64_t cpu_errors; /* serial() not on the lane's cb_cpu */
} __attribute__((aligned(64)));

struct prun {
	struct workqueue_struct *wq;
	struct padata_instance *pinst;
	int32_t cpus[64];
	unsigned nr_cpus;

	/* the current round */
	const struct wk_aes *aes;
	const struct wk_deflate *def;
	struct wk_gz *gz;
	bool full;
	unsigned nr_lanes;
	struct plane lanes[64]; /* each written only by its cb_cpu's serial() */

	unsigned default_limit; /* padata_get_max_inflight() of a fresh instance */

	/* the pool */
	uint8_t *jobs;
	size_t job_size;
	size_t nr_jobs;
	/*
	 * Each on a line of its own: serial() on the cb_cpus pushes onto free_head and the
	 * submitter takes from mine once per job; on one line (with the fields above,
	 * which the workers read) they moved it between the CPUs as often.
	 */
	_Alignas(64) _Atomic(struct pjob *) free_head;
	_Alignas(64) struct pjob *mine;

	/* padata_get_stats() over the rounds of the current case */
	uint64_t accepted, busy;
	uint32_t reorder_max;
};

static struct pjob *pool_get(struct prun *r)
{
	struct pjob *j = r->mine;

	/*
	 * Pairs with the release CAS in pool_put(): the job's last serial() is done with it.
	 * Every change of free_head is a read-modify-write, so the release CASes of all the
	 * jobs in the list form one release sequence that this exchange reads the end of.
	 */
	if (j == NULL)
		j = atomic_exchange_explicit(&r->free_head, NULL, memory_order_acquire);
	if (j)
		r->mine = j->next;
	return j;
}

static void pool_put(struct prun *r, struct pjob *j)
{
	struct pjob *old = atomic_load_explicit(&r->free_head, memory_order_relaxed);

	/* Pairs with the acquire exchange in pool_get(). */
	do {
		j->next = old;
	} while (!atomic_compare_exchange_weak_explicit(&r->free_head, &old, j, memory_order_release,
							 memory_order_relaxed));
}

static void p_parallel(struct padata_priv *p)
{
	struct pjob *j = container_of(p, struct pjob, priv);
	struct prun *r = j->run;

	if (r->aes)
		j->err = wk_aes_seal(r->aes, j->index, j->out, r->full, &j->hash);
	else
		j->err = wk_deflate_block(r->def, j->index, j->out, &j->out_len, &j->crc);
	padata_do_serial(p);
}

static void p_serial(struct padata_priv *p)
{
	struct pjob *j = container_of(p, struct pjob, priv);
	struct prun *r = j->run;
	struct plane *l = &r->lanes[j->lane];

	if (j->index != l->next) {
		if (l->order_errors++ == 0)
			l->first_bad = j->index;
	}
	l->next = j->index + r->nr_lanes;
	if (padata_current_cpu() != r->cpus[j->lane])
		l->cpu_errors++;
	if (j->err)
		l->errors++;
	else if (r->aes)
		wk_digest_add(&l->d, j->hash);
	else
		wk_gz_add(r->gz, j->out, j->out_len, j->crc, wk_block_len(r->def, j->index));
	pool_put(r, j);
}

static int prun_setup(struct prun *r)
{
	struct padata_cpumask usable;
	unsigned cpu;

	memset(r, 0, sizeof(*r));
	r->wq = alloc_workqueue("wbench", 0, 0);
	if (r->wq == NULL)
		return -1;
	r->pinst = padata_alloc_possible(r->wq);
	if (r->pinst == NULL) {
		destroy_workqueue(r->wq);
		return -1;
	}
	r->default_limit = padata_get_max_inflight(r->pinst);
	if (padata_get_cpumask(r->pinst, &usable) == 0) {
		for_each_cpu(cpu, usable.cbcpu) {
			if (r->nr_cpus == 64)
				break;
			r->cpus[r->nr_cpus++] = (int32_t)cpu;
		}
	}
	return r->nr_cpus ? 0 : -1;
}

/* A pool of limit + 1 jobs with @out bytes each. */
static int prun_pool(struct prun *r, unsigned limit, size_t out)
{
	int rc = padata_set_max_inflight(r->pinst, limit);

	if (rc) {
		errno = -rc;
		return -1;
	}
	free(r->jobs);
	r->job_size = (sizeof(struct pjob) + out + 63) & ~(size_t)63;
	r->nr_jobs = (size_t)limit + 1;
	r->jobs = aligned_alloc(64, r->job_size * r->nr_jobs);
	if (r->jobs == NULL)
		return -1;
	memset(r->jobs, 0, r->job_size * r->nr_jobs);
	atomic_store_explicit(&r->free_head, NULL, memory_order_relaxed);
	r->mine = NULL;
	r->accepted = r->busy = 0;
	r->reorder_max = 0;
	for (size_t i = r->nr_jobs; i-- > 0;) {
		struct pjob *j = (struct pjob *)(r->jobs + i * r->job_size);

		j->priv.parallel = p_parallel;
		j->priv.serial = p_serial;
		j->run = r;
		j->next = r->mine;
		r->mine = j;
	}
	return 0;
}

static void prun_teardown(struct prun *r)
{
	if (r->pinst)
		padata_free(r->pinst);
	if (r->wq)
		destroy_workqueue(r->wq);
	free(r->jobs);
}

/*
 * One round of @n items through padata. Return: seconds, or -1 with the
 * reason in @c (the instance is stopped either way).
 */
static double prun_round(struct prun *r, uint64_t n, struct cont *c)
{
	struct padata_stats st0, st1;
	double t0, dt;
	int rc;

	for (unsigned k = 0; k < r->nr_lanes; k++) {
		memset(&r->lanes[k], 0, sizeof(r->lanes[k]));
		r->lanes[k].next = k;
	}
	padata_get_stats(r->pinst, &st0);
	rc = padata_start(r->pinst);
	if (rc) {
		fail(c, "padata_start: %s", strerror(-rc));
		return -1;
	}
	t0 = bench_seconds();
	for (uint64_t i = 0; i < n; i++) {
		struct pjob *j = pool_get(r);
		uint32_t lane = (uint32_t)(i % r->nr_lanes);

		if (j == NULL) {
			padata_stop(r->pinst);
			fail(c, "the job pool ran dry at job %" PRIu64 ": more than %u jobs in flight",
			     i, padata_get_max_inflight(r->pinst));
			return -1;
		}
		j->index = i;
		j->lane = lane;
		j->err = 0;
		/* The README's usage: sleeps while the in-flight limit is reached. */
		rc = padata_do_parallel_wait(r->pinst, &j->priv, r->cpus[lane], -1);
		if (rc) {
			padata_stop(r->pinst);
			fail(c, "padata_do_parallel_wait(job %" PRIu64 ", cb_cpu %d): %s", i,
			     r->cpus[lane], strerror(-rc));
			return -1;
		}
	}
	padata_stop(r->pinst); /* waits for the last serial() */
	dt = bench_seconds() - t0;
	padata_get_stats(r->pinst, &st1); /* exact after padata_stop() */
	r->accepted += st1.accepted - st0.accepted;
	r->busy += st1.busy - st0.busy;
	if (st1.reorder_depth_max > r->reorder_max)
		r->reorder_max = st1.reorder_depth_max;
	for (unsigned k = 0; k < r->nr_lanes; k++) {
		if (r->lanes[k].order_errors) {
			fail(c, "lane %u: %" PRIu64 " jobs out of order, first %" PRIu64, k,
			     r->lanes[k].order_errors, r->lanes[k].first_bad);
			return -1;
		}
	}
	for (unsigned k = 0; k < r->nr_lanes; k++) {
		if (r->lanes[k].cpu_errors) {
			fail(c, "lane %u: %" PRIu64 " serial() calls not on cb_cpu %d", k,
			     r->lanes[k].cpu_errors, r->cpus[k]);
			return -1;
		}
		if (r->lanes[k].errors) {
			fail(c, "%" PRIu64 " items failed in the kernel (EVP or zlib error)",
			     r->lanes[k].errors);
			return -1;
		}
	}
	return dt;
}

/* ---- the unordered limit -------------------------------------------------- */

struct uctx {
	const struct wk_aes *aes;
	const struct wk_deflate *def;
	bool full;
	uint64_t n;
	uint64_t chunk;
	atomic_uint_fast64_t next;
	atomic_uint_fast64_t errors;
	pthread_mutex_t lock;
	struct wk_digest d;     /* aes: folded under the lock at the end */
	uint64_t *block_check;  /* deflate: per block */
};

static uint64_t block_edge_hash(uint64_t i, const uint8_t *out, size_t len)
{
	uint8_t e[24] = { 0 };

	memcpy(e, &len, 8);
	memcpy(e + 8, out, len < 8 ? len : 8);
	memcpy(e + 16, out + (len < 8 ? 0 : len - 8), len < 8 ? len : 8);
	return wk_hash_words(i, e, sizeof(e));
}

static void *u_worker(void *arg)
{
	struct uctx *u = arg;
	size_t cap = u->aes ? u->aes->size + WK_GCM_TAG : u->def->bound;
	uint8_t *out = malloc(cap);
	struct wk_digest d = { 0 };
	uint64_t errs = 0;

	if (out == NULL) {
		atomic_fetch_add(&u->errors, 1);
		return NULL;
	}
	for (;;) {
		uint64_t i0 = atomic_fetch_add_explicit(&u->next, u->chunk, memory_order_relaxed);

		if (i0 >= u->n)
			break;
		for (uint64_t i = i0; i < i0 + u->chunk && i < u->n; i++) {
			if (u->aes) {
				uint64_t h;

				if (wk_aes_seal(u->aes, i, out, u->full, &h))
					errs++;
				else
					wk_digest_add(&d, h);
			} else {
				size_t len;
				uint32_t crc;

				if (wk_deflate_block(u->def, i, out, &len, &crc))
					errs++;
				else
					u->block_check[i] = block_edge_hash(i, out, len) ^ crc;
			}
		}
	}
	free(out);
	pthread_mutex_lock(&u->lock);
	u->d.sum += d.sum;
	u->d.xor_ ^= d.xor_;
	u->d.count += d.count;
	pthread_mutex_unlock(&u->lock);
	atomic_fetch_add(&u->errors, errs);
	return NULL;
}

/* Runs @u on nr_threads threads (this one included). Return: seconds, -1 on error. */
static double u_round(struct uctx *u, struct cont *c)
{
	pthread_t t[64];
	unsigned started = 0;
	double t0;

	atomic_store(&u->next, 0);
	atomic_store(&u->errors, 0);
	memset(&u->d, 0, sizeof(u->d));
	t0 = bench_seconds();
	for (unsigned k = 1; k < nr_threads && k < 64; k++) {
		if (pthread_create(&t[started], NULL, u_worker, u) == 0)
			started++;
	}
	u_worker(u);
	for (unsigned k = 0; k < started; k++)
		pthread_join(t[k], NULL);
	t0 = bench_seconds() - t0;
	if (atomic_load(&u->errors)) {
		fail(c, "%" PRIu64 " items failed in the kernel", (uint64_t)atomic_load(&u->errors));
		return -1;
	}
	return t0;
}

/* ---- aes-gcm ------------------------------------------------------------- */

static double aes_single(const struct wk_aes *a, bool full, uint8_t *out, struct wk_digest *d,
			 uint64_t *errors)
{
	double t0 = bench_seconds();

	memset(d, 0, sizeof(*d));
	*errors = 0;
	for (uint64_t i = 0; i < a->n; i++) {
		uint64_t h;

		if (wk_aes_seal(a, i, out, full, &h))
			(*errors)++;
		else
			wk_digest_add(d, h);
	}
	return bench_seconds() - t0;
}

static bool digest_eq(const struct wk_digest *x, const struct wk_digest *y)
{
	return x->sum == y->sum && x->xor_ == y->xor_ && x->count == y->count;
}

static void check_digest(struct cont *c, const struct wk_digest *got, const struct wk_digest *ref,
			 bool full)
{
	if (!digest_eq(got, ref))
		fail(c, "%s digest: %" PRIu64 " packets, sum %016" PRIx64 " xor %016" PRIx64
		     "; single loop: %" PRIu64 " packets, sum %016" PRIx64 " xor %016" PRIx64,
		     full ? "full" : "tag+edge", got->count, got->sum, got->xor_, ref->count, ref->sum,
		     ref->xor_);
}

static int run_aes(const struct opts *o, struct prun *pr, size_t size, bool *failed)
{
	struct cont cs[NR_CONT];
	struct wk_aes a;
	struct wk_digest ref[2]; /* [0] tag+edge, [1] full */
	char why[256];
	uint64_t n = (uint64_t)(o->aes_mb * 1e6 / (double)size), errs;
	uint8_t *out;
	unsigned limit;
#ifdef WB_HAVE_TBB
	unsigned tokens = o->tokens ? o->tokens : 16 * nr_threads;
#endif

	if (n < 100)
		n = 100;
	memset(cs, 0, sizeof(cs));
	for (int k = 0; k < NR_CONT; k++) {
		cs[k].id = k;
		cs[k].on = o->want[k] && k != C_PIGZ && k != C_GZIP;
	}
#ifndef WB_HAVE_TBB
	cs[C_TBB].on = false;
#endif
	if (wk_aes_setup(&a, size, n, why, sizeof(why))) {
		for (int k = 0; k < NR_CONT; k++)
			if (cs[k].on || (k == C_TBB && o->want[k]))
				emit("aes-gcm", size, &cs[k], 0, n, n * size, why);
		return 0;
	}
	out = malloc(size + WK_GCM_TAG);
	if (out == NULL)
		return -1;
	/* The references, unmeasured. */
	for (int f = 0; f < 2; f++) {
		aes_single(&a, f, out, &ref[f], &errs);
		if (errs) {
			fprintf(stderr, "workload_bench: aes-gcm: %" PRIu64 " EVP errors in the single loop\n",
				errs);
			free(out);
			wk_aes_teardown(&a);
			return -1;
		}
	}

	/*
	 * The library's default limit, as the README's usage leaves it. The limit sizes
	 * the pool, and so the output buffers the packets cycle through (1.4 MB at 1000
	 * and 1400 B: the ciphertext writes miss L2 more often than at a small limit),
	 * but a small limit leaves too little work queued to cover the waiting
	 * submitter's wake-up: at 64 per CPU the pipeline ran dry during nearly every
	 * wake-up (0.3 jobs left on average when the submitter ran; the workers idled a
	 * quarter of their time), and c-padata measured 1.00x the single loop at 1400 B
	 * against 1.10-1.56x at 1000 (same runs). --inflight tries others.
	 */
	limit = o->inflight ? o->inflight : pr->default_limit;
	if (cs[C_PADATA].on && prun_pool(pr, limit, size + WK_GCM_TAG)) {
		fail(&cs[C_PADATA], "job pool of %u jobs (padata_set_max_inflight): %s", limit + 1,
		     strerror(errno));
	}
	pr->nr_lanes = o->lanes && o->lanes < pr->nr_cpus ? o->lanes : pr->nr_cpus;

	struct uctx u = { .aes = &a, .n = n, .chunk = 64 };

	pthread_mutex_init(&u.lock, NULL);
	case_line_time(0);
	for (int round = 0; round <= o->rounds; round++) {
		bool full = round == 0; /* the check round hashes every byte */
		struct wk_digest *want = &ref[full];

		for (int k = 0; k < NR_CONT; k++) {
			int id = (k + round) % NR_CONT;
			struct cont *c = &cs[id];
			struct wk_digest d = { 0 };
			struct cpu_mark m0;
			double dt = -1;

			if (!c->on || c->bad)
				continue;
			progress(o, "aes-gcm", size, round, o->rounds, id);
			m0 = cpu_mark();
			switch (id) {
			case C_SINGLE:
				dt = aes_single(&a, full, out, &d, &errs);
				if (errs)
					fail(c, "%" PRIu64 " EVP errors", errs);
				break;
			case C_PADATA:
				pr->aes = &a;
				pr->def = NULL;
				pr->full = full;
				dt = prun_round(pr, n, c);
				for (unsigned l = 0; l < pr->nr_lanes; l++) {
					d.sum += pr->lanes[l].d.sum;
					d.xor_ ^= pr->lanes[l].d.xor_;
					d.count += pr->lanes[l].d.count;
				}
				break;
			case C_TBB:
#ifdef WB_HAVE_TBB
			{
				uint64_t oe = 0, e = 0;

				dt = wb_tbb_aes(&a, full, tokens, &d, &oe, &e);
				fail_tbb_counts(c, oe, "packets", e, "EVP");
			}
#endif
				break;
			case C_UNORDERED:
				u.full = full;
				dt = u_round(&u, c);
				d = u.d;
				break;
			}
			if (c->bad)
				continue;
			if (round > 0)
				cpu_add(c, &m0, n);
			check_digest(c, &d, want, full);
			if (!c->bad && round > 0)
				bench_series_add(&c->s, (double)n / dt, dt);
		}
	}
	pthread_mutex_destroy(&u.lock);
	case_line_time(1);
	snprintf(cs[C_PADATA].extra, sizeof(cs[C_PADATA].extra),
		 ",\"inflight\":%u,\"lanes\":%u,\"pool\":%zu,\"call\":\"padata_do_parallel_wait\""
		 ",\"waits_per_job\":%.5f,\"reorder_depth_max\":%u", limit, pr->nr_lanes, pr->nr_jobs,
		 pr->accepted ? (double)pr->busy / (double)pr->accepted : 0.0, pr->reorder_max);
#ifdef WB_HAVE_TBB
	snprintf(cs[C_TBB].extra, sizeof(cs[C_TBB].extra), ",\"tokens\":%u,\"tbb_version\":\"%s\"",
		 tokens, wb_tbb_version());
#else
	if (o->want[C_TBB])
		emit("aes-gcm", size, &cs[C_TBB], (int)nr_threads, n, n * size,
		     "oneTBB was not found when bench/c was built (apt-get install libtbb-dev)");
#endif
	for (int k = 0; k < NR_CONT; k++) {
		if (!cs[k].on)
			continue;
		emit("aes-gcm", size, &cs[k], k == C_SINGLE ? 1 : (int)nr_threads, n, n * size, NULL);
		*failed |= cs[k].bad || cs[k].s.n == 0;
		bench_series_free(&cs[k].s);
		bench_series_free(&cs[k].cpu);
		bench_series_free(&cs[k].csw);
	}
	free(out);
	wk_aes_teardown(&a);
	return 0;
}

/* ---- deflate ------------------------------------------------------------- */

/* The single loop; with @checks (unmeasured reference pass) also each block's check as c-unordered makes it. */
static double deflate_single(const struct wk_deflate *d, uint8_t *out, struct wk_gz *g,
			     uint64_t *errors, uint64_t *checks)
{
	double t0 = bench_seconds();

	*errors = 0;
	wk_gz_begin(g);
	for (uint64_t i = 0; i < d->nblocks; i++) {
		size_t len;
		uint32_t crc;

		if (wk_deflate_block(d, i, out, &len, &crc)) {
			(*errors)++;
			continue;
		}
		wk_gz_add(g, out, len, crc, wk_block_len(d, i));
		if (checks)
			checks[i] = block_edge_hash(i, out, len) ^ crc;
	}
	wk_gz_end(g);
	return bench_seconds() - t0;
}

/*
 * Runs `argv` with stdin from @input and stdout into *@buf (grown as needed).
 * Return: seconds from spawn to exit, or -1 with @c failed.
 */
static double run_external(char *const argv[], const char *input, uint8_t **buf, size_t *cap,
			   size_t *len, struct cont *c)
{
	int fds[2], in, status;
	pid_t pid;
	double t0 = bench_seconds();

	in = open(input, O_RDONLY | O_CLOEXEC);
	if (in < 0 || pipe2(fds, O_CLOEXEC)) {
		fail(c, "%s: %s", input, strerror(errno));
		if (in >= 0)
			close(in);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(in, 0);
		dup2(fds[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in);
	close(fds[1]);
	*len = 0;
	for (;;) {
		ssize_t got;

		if (*len == *cap) {
			size_t ncap = *cap ? 2 * *cap : (size_t)16 << 20;
			uint8_t *nb = realloc(*buf, ncap);

			if (nb == NULL)
				break;
			*buf = nb;
			*cap = ncap;
		}
		got = read(fds[0], *buf + *len, *cap - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		*len += (size_t)got;
	}
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fail(c, "%s exited abnormally (status %d)", argv[0], pid < 0 ? -1 : status);
		return -1;
	}
	return bench_seconds() - t0;
}

static bool on_path(const char *cmd)
{
	char line[512];

	snprintf(line, sizeof(line), "command -v %s >/dev/null 2>&1", cmd);
	return system(line) == 0;
}

/* `gzip -dc` of @gz must give @input back byte for byte. 0 ok, 1 differs, -1 could not check. */
static int gzip_reads_back(const struct wk_gz *gz, const char *input, char *why, size_t why_len)
{
	char path[] = "/tmp/workload_bench.XXXXXX";
	char cmd[1024];
	int fd = mkstemp(path), rc;
	size_t at = 0;

	if (fd < 0)
		return -1;
	while (at < gz->len) {
		ssize_t w = write(fd, gz->buf + at, gz->len - at);

		if (w <= 0)
			break;
		at += (size_t)w;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "gzip -dc '%s' | cmp -s - '%s'", path, input);
	rc = at == gz->len ? system(cmd) : -1;
	unlink(path);
	if (rc == 0)
		return 0;
	snprintf(why, why_len, "gzip -dc of the stream does not give the input back");
	return rc < 0 ? -1 : 1;
}

static int run_deflate(const struct opts *o, struct prun *pr, bool *failed)
{
	struct cont cs[NR_CONT];
	struct wk_deflate d;
	struct wk_gz ref = { 0 }, g = { 0 };
	char why[320] = "";
	uint8_t *in = NULL, *out = NULL, *ext = NULL;
	size_t in_len = 0, ext_cap = 0, ext_len = 0;
	uint64_t errs, *ref_checks = NULL;
	unsigned limit = o->inflight ? o->inflight : 16 * nr_threads;
#ifdef WB_HAVE_TBB
	unsigned tokens = o->tokens ? o->tokens : 16 * nr_threads;
#endif
	const char *skip = NULL;
	char pigz_p[16], level_arg[8];
	int rc = 0;

	memset(cs, 0, sizeof(cs));
	for (int k = 0; k < NR_CONT; k++) {
		cs[k].id = k;
		cs[k].on = o->want[k];
	}
	if (o->input == NULL) {
		skip = "no --input file (scripts/bench makes one under build/)";
	} else {
		FILE *f = fopen(o->input, "rb");
		struct stat st;

		if (f == NULL || fstat(fileno(f), &st) || st.st_size <= 0) {
			snprintf(why, sizeof(why), "cannot read the input %s: %s", o->input,
				 f ? "empty" : strerror(errno));
			skip = why;
		} else {
			in_len = (size_t)st.st_size;
			in = malloc(in_len);
			if (in == NULL || fread(in, 1, in_len, f) != in_len) {
				snprintf(why, sizeof(why), "cannot read %zu bytes of %s", in_len, o->input);
				skip = why;
			}
		}
		if (f)
			fclose(f);
	}
	if (skip == NULL && wk_deflate_setup(&d, in, in_len, o->level, why, sizeof(why)))
		skip = why;
	if (skip) {
		for (int k = 0; k < NR_CONT; k++)
			if (cs[k].on)
				emit("deflate", WK_BLOCK, &cs[k], 0, 0, in_len, skip);
		free(in);
		return 0;
	}
#ifndef WB_HAVE_TBB
	if (cs[C_TBB].on)
		emit("deflate", WK_BLOCK, &cs[C_TBB], (int)nr_threads, d.nblocks, in_len,
		     "oneTBB was not found when bench/c was built (apt-get install libtbb-dev)");
	cs[C_TBB].on = false;
#endif
	snprintf(pigz_p, sizeof(pigz_p), "%u", nr_threads);
	snprintf(level_arg, sizeof(level_arg), "-%d", o->level);
	char *pigz_argv[] = { "pigz", "-p", pigz_p, level_arg, "-c", NULL };
	char *gzip_argv[] = { "gzip", level_arg, "-c", NULL };

	if (cs[C_PIGZ].on && !on_path("pigz")) {
		emit("deflate", WK_BLOCK, &cs[C_PIGZ], (int)nr_threads, d.nblocks, in_len,
		     "pigz is not on PATH (apt-get install pigz; scripts/bench installs it as root)");
		cs[C_PIGZ].on = false;
	}
	if (cs[C_GZIP].on && !on_path("gzip")) {
		emit("deflate", WK_BLOCK, &cs[C_GZIP], 1, d.nblocks, in_len, "gzip is not on PATH");
		cs[C_GZIP].on = false;
	}

	out = malloc(d.bound);
	ref_checks = calloc(d.nblocks, sizeof(*ref_checks));
	if (out == NULL || ref_checks == NULL || wk_gz_init(&ref, &d) || wk_gz_init(&g, &d)) {
		rc = -1;
		goto out;
	}
	/* The reference stream (unmeasured), checked by zlib and by gzip -d. */
	deflate_single(&d, out, &ref, &errs, ref_checks);
	if (errs || wk_gunzip_equals(ref.buf, ref.len, in, in_len, why, sizeof(why))) {
		fprintf(stderr, "workload_bench: deflate: the single loop's stream is wrong: %s\n",
			errs ? "zlib errors" : why);
		rc = -1;
		goto out;
	}
	if (on_path("gzip")) {
		int g_rc = gzip_reads_back(&ref, o->input, why, sizeof(why));

		if (g_rc > 0) {
			fprintf(stderr, "workload_bench: deflate: %s\n", why);
			rc = -1;
			goto out;
		}
		if (g_rc < 0)
			fprintf(stderr, "workload_bench: deflate: could not run gzip -dc on the stream\n");
	}

	if (cs[C_PADATA].on && prun_pool(pr, limit, d.bound))
		fail(&cs[C_PADATA], "job pool of %u jobs (padata_set_max_inflight): %s", limit + 1,
		     strerror(errno));

	struct uctx u = { .def = &d, .n = d.nblocks, .chunk = 1 };

	u.block_check = calloc(d.nblocks, sizeof(*u.block_check));
	if (u.block_check == NULL) {
		rc = -1;
		goto out;
	}
	pthread_mutex_init(&u.lock, NULL);
	case_line_time(0);
	for (int round = 0; round <= o->deflate_rounds; round++) {
		for (int k = 0; k < NR_CONT; k++) {
			int id = (k + round) % NR_CONT;
			struct cont *c = &cs[id];
			struct cpu_mark m0;
			double dt = -1;
			bool stream = true;

			if (!c->on || c->bad)
				continue;
			progress(o, "deflate", WK_BLOCK, round, o->deflate_rounds, id);
			m0 = cpu_mark();
			switch (id) {
			case C_SINGLE:
				dt = deflate_single(&d, out, &g, &errs, NULL);
				if (errs)
					fail(c, "%" PRIu64 " zlib errors", errs);
				break;
			case C_PADATA:
				pr->aes = NULL;
				pr->def = &d;
				pr->gz = &g;
				pr->nr_lanes = 1; /* one stream: one serial CPU */
				wk_gz_begin(&g);
				dt = prun_round(pr, d.nblocks, c);
				wk_gz_end(&g);
				break;
			case C_TBB:
#ifdef WB_HAVE_TBB
			{
				uint64_t oe = 0, e = 0;

				dt = wb_tbb_deflate(&d, tokens, &g, &oe, &e);
				fail_tbb_counts(c, oe, "blocks", e, "zlib");
			}
#endif
				break;
			case C_UNORDERED:
				stream = false;
				memset(u.block_check, 0, d.nblocks * sizeof(*u.block_check));
				dt = u_round(&u, c);
				if (!c->bad && memcmp(u.block_check, ref_checks,
						      d.nblocks * sizeof(*ref_checks)) != 0)
					fail(c, "per-block lengths or edge bytes differ from the single loop's");
				break;
			case C_PIGZ:
			case C_GZIP:
				stream = false;
				dt = run_external(id == C_PIGZ ? pigz_argv : gzip_argv, o->input, &ext,
						  &ext_cap, &ext_len, c);
				if (!c->bad && round == 0 &&
				    wk_gunzip_equals(ext, ext_len, in, in_len, why, sizeof(why)))
					fail(c, "its output: %s", why);
				if (!c->bad)
					snprintf(c->extra, sizeof(c->extra), ",\"compressed_bytes\":%zu",
						 ext_len);
				break;
			}
			/* pigz and gzip are other processes: their CPU is not this one's. */
			if (round > 0 && id != C_PIGZ && id != C_GZIP)
				cpu_add(c, &m0, d.nblocks);
			if (c->bad)
				continue;
			if (stream) {
				if (g.len != ref.len || memcmp(g.buf, ref.buf, ref.len) != 0) {
					fail(c, "its gzip stream (%zu bytes) differs from the single loop's (%zu bytes)",
					     g.len, ref.len);
					continue;
				}
				snprintf(c->extra, sizeof(c->extra), ",\"compressed_bytes\":%zu", ref.len);
			}
			if (round > 0)
				bench_series_add(&c->s, (double)d.nblocks / dt, dt);
		}
	}
	pthread_mutex_destroy(&u.lock);
	free(u.block_check);
	case_line_time(1);
	{
		size_t at = strlen(cs[C_PADATA].extra);

		snprintf(cs[C_PADATA].extra + at, sizeof(cs[C_PADATA].extra) - at,
			 ",\"inflight\":%u,\"lanes\":1,\"pool\":%zu,\"call\":\"padata_do_parallel_wait\""
			 ",\"waits_per_job\":%.5f,\"reorder_depth_max\":%u", limit, pr->nr_jobs,
			 pr->accepted ? (double)pr->busy / (double)pr->accepted : 0.0, pr->reorder_max);
	}
#ifdef WB_HAVE_TBB
	{
		size_t at = strlen(cs[C_TBB].extra);

		snprintf(cs[C_TBB].extra + at, sizeof(cs[C_TBB].extra) - at,
			 ",\"tokens\":%u,\"tbb_version\":\"%s\"", tokens, wb_tbb_version());
	}
#endif
	for (int k = 0; k < NR_CONT; k++) {
		size_t at = strlen(cs[k].extra);

		snprintf(cs[k].extra + at, sizeof(cs[k].extra) - at, ",\"level\":%d", o->level);
		if (!cs[k].on)
			continue;
		emit("deflate", WK_BLOCK, &cs[k], k == C_SINGLE || k == C_GZIP ? 1 : (int)nr_threads,
		     d.nblocks, in_len, NULL);
		*failed |= cs[k].bad || cs[k].s.n == 0;
		bench_series_free(&cs[k].s);
		bench_series_free(&cs[k].cpu);
		bench_series_free(&cs[k].csw);
	}
out:
	free(ext);
	free(out);
	free(ref_checks);
	wk_gz_free(&ref);
	wk_gz_free(&g);
	free(in);
	return rc;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const char *const workload_names[2] = { "aes-gcm", "deflate" };
	struct opts o = { .sizes = { 1400, 8000 }, .nr_sizes = 2, .aes_mb = 96, .rounds = 7,
			  .deflate_rounds = 3, .level = 6 };
	bool workloads[2] = { true, true }, failed = false;
	const struct bench_arg args[] = {
		BENCH_ARG_NAMES("--workload", workloads, workload_names, 2),
		BENCH_ARG_UINT_LIST("--sizes", o.sizes, o.nr_sizes, 16, 1u << 20),
		BENCH_ARG_DOUBLE("--aes-mb", o.aes_mb, 0.01, 1e6),
		BENCH_ARG_UINT("--rounds", o.rounds, 1, 1000),
		BENCH_ARG_STR("--input", o.input),
		BENCH_ARG_UINT("--deflate-rounds", o.deflate_rounds, 1, 1000),
		BENCH_ARG_UINT("--level", o.level, 1, 9),
		BENCH_ARG_NAMES("--contenders", o.want, cont_names, NR_CONT),
		BENCH_ARG_UINT("--inflight", o.inflight, 1, PADATA_MAX_INFLIGHT_LIMIT),
		BENCH_ARG_UINT("--lanes", o.lanes, 1, 64),
		BENCH_ARG_UINT("--tokens", o.tokens, 1, 1 << 20),
		BENCH_ARG_FLAG("--quiet", o.quiet),
	};
	struct prun pr;
	cpu_set_t set;
	int rc;

	for (int k = 0; k < NR_CONT; k++)
		o.want[k] = true; /* all unless --contenders names some */
	rc = bench_parse_args(argc, argv, "workload_bench", args, sizeof(args) / sizeof(args[0]),
			      usage);
	if (rc)
		return rc > 0 ? 0 : 2;
	o.aes = workloads[0];
	o.deflate = workloads[1];
	o.want[C_SINGLE] = true; /* the reference */
	CPU_ZERO(&set);
	nr_threads = sched_getaffinity(0, sizeof(set), &set) == 0 ? (unsigned)CPU_COUNT(&set) : 1;
	if (nr_threads == 0)
		nr_threads = 1;
#ifdef WB_HAVE_TBB
	wb_tbb_init(nr_threads);
#endif
	if (prun_setup(&pr)) {
		fprintf(stderr, "workload_bench: padata setup failed: %s\n", strerror(errno));
		return 2;
	}
	for (int k = 0; o.aes && k < o.nr_sizes && rc == 0; k++)
		rc = run_aes(&o, &pr, o.sizes[k], &failed);
	if (o.deflate && rc == 0)
		rc = run_deflate(&o, &pr, &failed);
	prun_teardown(&pr);
	wk_free_thread_state();
	if (rc)
		return 2;
	return failed ? 1 : 0;
}
