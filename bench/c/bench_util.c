/* SPDX-License-Identifier: MIT */
/* bench_util.c - command line, run bookkeeping and output; see bench_util.h. */
#define _GNU_SOURCE
#include "bench_util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char common_usage[] =
	"  --w LIST         work sizes in bytes per job, comma separated (default 0,100,1000,10000)\n"
	"  --jobs N         jobs per run (default: about 0.1 s of single-threaded work,\n"
	"                   2000..100000, the same batches as the Java benchmarks)\n"
	"  --seconds S      measured time per work size (default 1.0)\n"
	"  --min-reps R     measured runs per work size, at least (default 5)\n"
	"  --warmup R       unmeasured runs first (default 2)\n"
	"  --lat-every K    record the latency of every K-th job (default 16, 0: off)\n"
	"  --quiet          no progress line\n"
	"  --help           this text\n";

double bench_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t bench_jobs_for(uint32_t w)
{
	uint64_t n = 20000000u / ((uint64_t)w + 200u);

	if (n < 2000)
		n = 2000;
	if (n > 100000)
		n = 100000;
	return n;
}

int bench_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9') /* strtoull would take blanks, a sign */
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The largest value an unsigned integer of @size bytes holds, capped by @max. */
static uint64_t uint_max(size_t size, double max)
{
	uint64_t room = size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;

	return max >= (double)room ? room : (uint64_t)max;
}

static void store_uint(void *dst, size_t size, uint64_t v)
{
	switch (size) {
	case 1: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
	case 2: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(dst, &x, 4); break; }
	default: memcpy(dst, &v, 8); break;
	}
}

/* One comma-separated list item of @a; @index counts the items of this value. */
static int parse_item(const struct bench_arg *a, const char *item, int index)
{
	uint64_t v;

	if (a->type == BENCH_ARG_NAMES) {
		for (int k = 0; k < a->max_count; k++) {
			if (strcmp(item, a->names[k]) == 0) {
				((bool *)a->dst)[k] = true;
				return 0;
			}
		}
		return -1;
	}
	if (index == a->max_count ||
	    bench_parse_uint(item, (uint64_t)a->min, uint_max(a->size, a->max), &v))
		return -1;
	store_uint((char *)a->dst + (size_t)index * a->size, a->size, v);
	*a->count = index + 1;
	return 0;
}

/* Prints what @a takes, after "bad value ... for NAME: ". */
static void print_expected(const struct bench_arg *a)
{
	switch (a->type) {
	case BENCH_ARG_UINT:
		fprintf(stderr, "a whole number from %.0f to %" PRIu64, a->min,
			uint_max(a->size, a->max));
		break;
	case BENCH_ARG_DOUBLE:
		fprintf(stderr, "a number from %g to %g", a->min, a->max);
		break;
	case BENCH_ARG_UINT_LIST:
		fprintf(stderr, "1 to %d whole numbers from %.0f to %" PRIu64 ", comma separated",
			a->max_count, a->min, uint_max(a->size, a->max));
		break;
	case BENCH_ARG_NAMES:
		fputs("comma separated names out of ", stderr);
		for (int k = 0; k < a->max_count; k++)
			fprintf(stderr, "%s%s", k ? "," : "", a->names[k]);
		break;
	default:
		break;
	}
}

/* Stores value @v of option @a. Return: 0, or -1 when @v is not what @a takes. */
static int parse_value(const struct bench_arg *a, const char *v)
{
	char buf[512], *end;
	uint64_t n;
	double x;
	int nr = 0;

	switch (a->type) {
	case BENCH_ARG_UINT:
		if (bench_parse_uint(v, (uint64_t)a->min, uint_max(a->size, a->max), &n))
			return -1;
		store_uint(a->dst, a->size, n);
		return 0;
	case BENCH_ARG_DOUBLE:
		x = strtod(v, &end);
		if (end == v || *end != '\0' || !(x >= a->min && x <= a->max))
			return -1;
		*(double *)a->dst = x;
		return 0;
	case BENCH_ARG_STR:
		*(const char **)a->dst = v;
		return 0;
	case BENCH_ARG_UINT_LIST:
	case BENCH_ARG_NAMES:
		if (strlen(v) >= sizeof(buf))
			return -1;
		strcpy(buf, v);
		if (a->type == BENCH_ARG_NAMES)
			memset(a->dst, 0, (size_t)a->max_count * sizeof(bool));
		/* Every item, empty ones too (",," and a trailing comma are errors). */
		for (char *item = buf, *next; item; item = next, nr++) {
			next = strchr(item, ',');
			if (next)
				*next++ = '\0';
			if (parse_item(a, item, nr))
				return -1;
		}
		return 0;
	default:
		return -1;
	}
}

int bench_parse_args(int argc, char **argv, const char *prog, const struct bench_arg *args,
		     int nr_args, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];
		const struct bench_arg *a = NULL;

		if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0) {
			fputs(usage, stdout);
			return 1;
		}
		for (int k = 0; k < nr_args && a == NULL; k++)
			if (strcmp(opt, args[k].name) == 0)
				a = &args[k];
		if (a == NULL) {
			fprintf(stderr, "%s: unknown option %s (see --help)\n", prog, opt);
			return -1;
		}
		if (a->type == BENCH_ARG_FLAG) {
			*(bool *)a->dst = true;
			continue;
		}
		if (i + 1 == argc) {
			fprintf(stderr, "%s: option %s needs a value (see --help)\n", prog, opt);
			return -1;
		}
		if (parse_value(a, argv[++i])) {
			fprintf(stderr, "%s: bad value '%s' for %s: ", prog, argv[i], opt);
			print_expected(a);
			fputs(" (see --help)\n", stderr);
			return -1;
		}
	}
	return 0;
}

int bench_parse_opts(int argc, char **argv, struct bench_opts *o, const char *prog,
		     const char *extra_usage, const struct bench_arg *extra, int nr_extra)
{
	static const uint32_t default_ws[] = { 0, 100, 1000, 10000 };
	const struct bench_arg common[] = {
		BENCH_ARG_UINT_LIST("--w", o->ws, o->nr_ws, 0, UINT32_MAX),
		BENCH_ARG_UINT("--jobs", o->jobs, 1, UINT64_MAX),
		BENCH_ARG_DOUBLE("--seconds", o->seconds, 0, 1e6),
		BENCH_ARG_UINT("--min-reps", o->min_reps, 1, 100000),
		BENCH_ARG_UINT("--warmup", o->warmup_reps, 0, 100000),
		BENCH_ARG_UINT("--inflight", o->inflight, 0, UINT32_MAX),
		BENCH_ARG_UINT("--tokens", o->tokens, 1, UINT32_MAX),
		BENCH_ARG_UINT("--lat-every", o->lat_every, 0, UINT32_MAX),
		BENCH_ARG_STR("--contender", o->contender),
		BENCH_ARG_FLAG("--quiet", o->quiet),
	};
	enum { NR_COMMON = sizeof(common) / sizeof(common[0]) };
	struct bench_arg all[NR_COMMON + 8];
	char usage[4096];

	if (nr_extra < 0 || nr_extra > 8) {
		fprintf(stderr, "%s: bench_parse_opts takes up to 8 extra options\n", prog);
		return -1;
	}
	memset(o, 0, sizeof(*o));
	o->nr_ws = 4;
	memcpy(o->ws, default_ws, sizeof(default_ws));
	o->seconds = 1.0;
	o->min_reps = 5;
	o->warmup_reps = 2;
	o->lat_every = 16;

	memcpy(all, common, sizeof(common));
	if (nr_extra)
		memcpy(all + NR_COMMON, extra, (size_t)nr_extra * sizeof(*extra));
	snprintf(usage, sizeof(usage), "usage: %s [options]\n%s%s", prog, common_usage,
		 extra_usage ? extra_usage : "");
	return bench_parse_args(argc, argv, prog, all, NR_COMMON + nr_extra, usage);
}

void bench_series_add(struct bench_series *s, double jobs_per_s, double seconds)
{
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 16;
		double *r = realloc(s->rates, (size_t)cap * sizeof(*r));

		if (r == NULL) {
			fprintf(stderr, "bench: out of memory\n");
			exit(2);
		}
		s->rates = r;
		s->cap = cap;
	}
	s->rates[s->n++] = jobs_per_s;
	s->seconds += seconds;
}

void bench_series_free(struct bench_series *s)
{
	free(s->rates);
	memset(s, 0, sizeof(*s));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_series_quantile(const struct bench_series *s, double q)
{
	double *sorted, pos, r;
	int lo;

	if (s->n == 0)
		return 0;
	sorted = malloc((size_t)s->n * sizeof(*sorted));
	if (sorted == NULL)
		return 0;
	memcpy(sorted, s->rates, (size_t)s->n * sizeof(*sorted));
	qsort(sorted, (size_t)s->n, sizeof(*sorted), cmp_double);
	pos = q * (s->n - 1);
	lo = (int)pos;
	r = lo + 1 < s->n ? sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
	free(sorted);
	return r;
}

void bench_lat_add(struct bench_lat *l, const uint64_t *ns, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (ns[i] == 0)
			continue; /* not sampled (or the job never ran: the check reports it) */
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 4096;
			uint64_t *p = realloc(l->ns, cap * sizeof(*p));

			if (p == NULL) {
				fprintf(stderr, "bench: out of memory\n");
				exit(2);
			}
			l->ns = p;
			l->cap = cap;
		}
		l->ns[l->n++] = ns[i];
	}
}

void bench_lat_free(struct bench_lat *l)
{
	free(l->ns);
	memset(l, 0, sizeof(*l));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t bench_lat_percentile(struct bench_lat *l, double p)
{
	size_t rank;

	if (l->n == 0)
		return 0;
	qsort(l->ns, l->n, sizeof(*l->ns), cmp_u64);
	rank = (size_t)(p / 100.0 * (double)l->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > l->n)
		rank = l->n;
	return l->ns[rank - 1];
}

static bool progress_shown;

/* Erases a progress line before a summary line is printed over it. */
static const char *clear_line(void)
{
	if (!progress_shown)
		return "";
	progress_shown = false;
	return "\r\033[K";
}

/* ---- the line round trip ------------------------------------------------- */

/* The line handed back and forth; LINE_GIVE_UP tells the far end to stop early. */
static _Alignas(64) atomic_long line_ball;
#define LINE_GIVE_UP (-1L)
#define LINE_WARMUP 256            /* untimed round trips first: the far end's start-up */
#define LINE_MAX_TRIPS 10000000L   /* per sample; keeps 2 * i + 2 far from overflow */
#define LINE_MAX_SAMPLE_S 0.05     /* a sample longer than this: the ends do not run at once */

static void *line_other(void *arg)
{
	const long total = *(const long *)arg;

	for (long i = 0; i < total; i++) {
		long v;

		/* Acquire: pairs with the near end's release store of 2i+1 (nothing else is
		 * published through the line; relaxed would be as correct, the hand-off itself
		 * is what is timed). */
		while ((v = atomic_load_explicit(&line_ball, memory_order_acquire)) != 2 * i + 1)
			if (v == LINE_GIVE_UP)
				return NULL;
		/* Release: pairs with the near end's acquire load of 2i+2. */
		atomic_store_explicit(&line_ball, 2 * i + 2, memory_order_release);
	}
	return NULL;
}

int bench_line_rt(int samples, long trips, struct bench_line *out)
{
	cpu_set_t mine, one;
	double ns[100];
	int found = 0, rc = 0;
	long total;
	pthread_attr_t attr;
	pthread_t t;
	double t0 = 0;

	out->ns = out->min = out->max = NAN;
	out->cpu[0] = out->cpu[1] = -1;
	if (samples < 1 || samples > 100 || trips < 1 || trips > LINE_MAX_TRIPS)
		return -1;
	if (pthread_getaffinity_np(pthread_self(), sizeof(mine), &mine) != 0)
		return -1;
	for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
		if (CPU_ISSET(c, &mine))
			out->cpu[found++] = c;
	if (found < 2)
		return -1;
	/* Both ends pinned, or no figure: two ends on one CPU wait a time slice per hand-off. */
	CPU_ZERO(&one);
	CPU_SET(out->cpu[0], &one);
	if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0)
		return -1;
	CPU_ZERO(&one);
	CPU_SET(out->cpu[1], &one);
	total = LINE_WARMUP + (long)samples * trips;
	/* Relaxed: the far end is not running yet; pthread_create() orders this store before
	 * its first load, and the previous call's far end was joined. */
	atomic_store_explicit(&line_ball, 0, memory_order_relaxed);
	if (pthread_attr_init(&attr) != 0) {
		rc = -1;
		goto restore;
	}
	if (pthread_attr_setaffinity_np(&attr, sizeof(one), &one) != 0 ||
	    pthread_create(&t, &attr, line_other, &total) != 0) {
		pthread_attr_destroy(&attr);
		rc = -1;
		goto restore;
	}
	pthread_attr_destroy(&attr);
	for (long i = -LINE_WARMUP; i < (long)samples * trips && rc == 0; i++) {
		long k = i + LINE_WARMUP; /* the far end's count */
		int s = i < 0 ? -1 : (int)(i / trips);

		if (i >= 0 && i % trips == 0)
			t0 = bench_seconds();
		/* Release: pairs with the far end's acquire load (see line_other()). */
		atomic_store_explicit(&line_ball, 2 * k + 1, memory_order_release);
		/* Acquire: pairs with the far end's release store of 2k+2. */
		while (atomic_load_explicit(&line_ball, memory_order_acquire) != 2 * k + 2)
			;
		if (s >= 0 && (i + 1) % trips == 0)
			ns[s] = (bench_seconds() - t0) * 1e9 / (double)trips;
		else if (s >= 0 && (i & 1023) == 1023 && bench_seconds() - t0 > LINE_MAX_SAMPLE_S) {
			/* Release: nothing to publish; the far end stops at its next load. */
			atomic_store_explicit(&line_ball, LINE_GIVE_UP, memory_order_release);
			rc = -1;
		}
	}
	pthread_join(t, NULL);
restore:
	if (pthread_setaffinity_np(pthread_self(), sizeof(mine), &mine) != 0)
		fprintf(stderr, "bench: could not restore this thread's CPU mask after the line probe\n");
	if (rc)
		return -1;
	qsort(ns, (size_t)samples, sizeof(ns[0]), cmp_double);
	out->ns = ns[samples / 2];
	out->min = ns[0];
	out->max = ns[samples - 1];
	return 0;
}

double bench_line_now(void)
{
	struct bench_line l;

	bench_line_rt(3, 10000, &l); /* NAN on failure */
	return l.ns;
}

/* bench_line_begin()'s figure, for the next bench_emit(); NAN when none. */
static double line_before = NAN;

void bench_line_begin(void)
{
	line_before = bench_line_now();
}

/*
 * ",\"line_rt_ns_before\":..,\"line_rt_ns_after\":.." after a bench_line_begin()
 * whose probe and this one both measured; else "".
 */
static void line_fields(char *buf, size_t len)
{
	double before = line_before, after;

	buf[0] = '\0';
	line_before = NAN;
	if (isnan(before) || isnan(after = bench_line_now()))
		return;
	snprintf(buf, len, ",\"line_rt_ns_before\":%.1f,\"line_rt_ns_after\":%.1f", before, after);
}

void bench_emit(const char *contender, uint32_t w, uint64_t jobs, int threads,
		const struct bench_series *s, struct bench_lat *lat, const char *why,
		const char *extra_json)
{
	char line[96];

	line_fields(line, sizeof(line));
	if (why) {
		printf("{\"suite\":\"c\",\"contender\":\"%s\",\"w\":%" PRIu32 ",\"jobs\":%" PRIu64
		       ",\"threads\":%d,\"check\":\"FAIL\",\"why\":\"", contender, w, jobs, threads);
		for (const char *c = why; *c; c++)
			putchar(*c == '"' || *c == '\\' ? '\'' : *c);
		printf("\"}\n");
		fprintf(stderr, "%sBENCH %s w=%" PRIu32 " check=FAIL why=\"%s\"\n", clear_line(),
			contender, w, why);
		fflush(stdout);
		return;
	}

	double med = bench_series_quantile(s, 0.5);

	printf("{\"suite\":\"c\",\"contender\":\"%s\",\"w\":%" PRIu32 ",\"jobs\":%" PRIu64
	       ",\"threads\":%d,\"check\":\"ok\",\"runs\":%d,\"seconds\":%.3f"
	       ",\"jobs_per_s\":%.1f,\"jobs_per_s_min\":%.1f,\"jobs_per_s_max\":%.1f"
	       ",\"jobs_per_s_q1\":%.1f,\"jobs_per_s_q3\":%.1f",
	       contender, w, jobs, threads, s->n, s->seconds, med,
	       bench_series_quantile(s, 0), bench_series_quantile(s, 1),
	       bench_series_quantile(s, 0.25), bench_series_quantile(s, 0.75));
	if (lat && lat->n) {
		uint64_t p50 = bench_lat_percentile(lat, 50), p99 = bench_lat_percentile(lat, 99);
		uint64_t p999 = bench_lat_percentile(lat, 99.9);

		printf(",\"lat_samples\":%zu,\"lat_p50_ns\":%" PRIu64 ",\"lat_p99_ns\":%" PRIu64
		       ",\"lat_p999_ns\":%" PRIu64, lat->n, p50, p99, p999);
	}
	printf("%s%s}\n", line, extra_json ? extra_json : "");
	fflush(stdout);
	fprintf(stderr, "%sBENCH %s w=%" PRIu32 " jobs/s=%.0f runs=%d check=ok\n", clear_line(),
		contender, w, med, s->n);
}

void bench_progress(const struct bench_opts *o, const char *contender, uint32_t w, int run,
		    double elapsed)
{
	const char *force = getenv("BENCH_PROGRESS");

	if (o->quiet || !(isatty(STDERR_FILENO) || (force && strcmp(force, "1") == 0)))
		return;
	progress_shown = true;
	fprintf(stderr, "\r  %-12s w=%-6" PRIu32 " run %-4d %5.1f s   ", contender, w, run, elapsed);
	fflush(stderr);
}
