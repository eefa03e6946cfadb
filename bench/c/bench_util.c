/* SPDX-License-Identifier: MIT */
/* bench_util.c - command line, run bookkeeping and output; see bench_util.h. */
#include "bench_util.h"

#include <errno.h>
#include <inttypes.h>
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

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int parse_ws(const char *s, struct bench_opts *o)
{
	char buf[256];
	char *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	o->nr_ws = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (o->nr_ws == BENCH_MAX_WS || parse_u64(tok, &v) || v > UINT32_MAX)
			return -1;
		o->ws[o->nr_ws++] = (uint32_t)v;
	}
	return o->nr_ws ? 0 : -1;
}

int bench_parse_opts(int argc, char **argv, struct bench_opts *o, const char *prog,
		     const char *extra_usage)
{
	static const uint32_t default_ws[] = { 0, 100, 1000, 10000 };

	memset(o, 0, sizeof(*o));
	o->nr_ws = 4;
	memcpy(o->ws, default_ws, sizeof(default_ws));
	o->seconds = 1.0;
	o->min_reps = 5;
	o->warmup_reps = 2;
	o->lat_every = 16;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t n;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			printf("usage: %s [options]\n%s%s", prog, common_usage,
			       extra_usage ? extra_usage : "");
			return 1;
		} else if (strcmp(a, "--quiet") == 0) {
			o->quiet = true;
			continue;
		}
		if (v == NULL) {
			fprintf(stderr, "%s: option %s needs a value (see --help)\n", prog, a);
			return -1;
		}
		i++;
		if (strcmp(a, "--w") == 0) {
			if (parse_ws(v, o))
				goto bad_value;
		} else if (strcmp(a, "--jobs") == 0) {
			if (parse_u64(v, &o->jobs) || o->jobs == 0)
				goto bad_value;
		} else if (strcmp(a, "--seconds") == 0) {
			char *end;

			o->seconds = strtod(v, &end);
			if (*end != '\0' || !(o->seconds >= 0))
				goto bad_value;
		} else if (strcmp(a, "--min-reps") == 0) {
			if (parse_u64(v, &n) || n == 0 || n > 100000)
				goto bad_value;
			o->min_reps = (int)n;
		} else if (strcmp(a, "--warmup") == 0) {
			if (parse_u64(v, &n) || n > 100000)
				goto bad_value;
			o->warmup_reps = (int)n;
		} else if (strcmp(a, "--inflight") == 0) {
			if (parse_u64(v, &n) || n > UINT32_MAX)
				goto bad_value;
			o->inflight = (unsigned int)n;
		} else if (strcmp(a, "--tokens") == 0) {
			if (parse_u64(v, &n) || n == 0 || n > UINT32_MAX)
				goto bad_value;
			o->tokens = (unsigned int)n;
		} else if (strcmp(a, "--lat-every") == 0) {
			if (parse_u64(v, &n) || n > UINT32_MAX)
				goto bad_value;
			o->lat_every = (uint32_t)n;
		} else if (strcmp(a, "--contender") == 0) {
			o->contender = v;
		} else {
			fprintf(stderr, "%s: unknown option %s (see --help)\n", prog, a);
			return -1;
		}
		continue;
bad_value:
		fprintf(stderr, "%s: bad value '%s' for %s (see --help)\n", prog, v, a);
		return -1;
	}
	return 0;
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

void bench_emit(const char *contender, uint32_t w, uint64_t jobs, int threads,
		const struct bench_series *s, struct bench_lat *lat, const char *why,
		const char *extra_json)
{
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
	printf("%s}\n", extra_json ? extra_json : "");
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
