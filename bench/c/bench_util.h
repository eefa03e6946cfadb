/* SPDX-License-Identifier: MIT */
/*
 * bench_util.h - what the C and C++ benchmark drivers share: the command
 * line (one parser for every driver's options), the number of jobs per run, repetition bookkeeping, latency
 * percentiles and the JSON result line.
 *
 * Output contract (read by bench/jmh's Report): every measured (contender,
 * w) pair prints one JSON object on one stdout line; a pair whose check
 * failed prints "check":"FAIL" and a "why", and no figure. A greppable
 * summary line "BENCH <contender> w=<w> ..." goes to stderr. The driver
 * exits 1 when any check failed, 2 on usage or setup errors.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_MAX_WS 16

/** struct bench_opts - the command line common to the drivers. */
struct bench_opts {
	uint32_t ws[BENCH_MAX_WS];  /* --w 0,100,1000,10000 */
	int nr_ws;
	uint64_t jobs;              /* --jobs N per run; 0: bench_jobs_for(w) */
	double seconds;             /* --seconds S measured per w (at least --min-reps runs) */
	int min_reps;               /* --min-reps R */
	int warmup_reps;            /* --warmup R unmeasured runs first */
	unsigned int inflight;      /* --inflight L (padata_set_max_inflight); 0: default */
	unsigned int tokens;        /* --tokens T (TBB live tokens); 0: default */
	uint32_t lat_every;         /* --lat-every K: latency of every K-th job; 0: off */
	const char *contender;      /* --contender NAME (driver specific) */
	bool quiet;                 /* --quiet: no progress on stderr */
};

/* ---- the command-line parser every driver uses ------------------------- */

/** enum bench_arg_type - what an option's value is and where it goes. */
enum bench_arg_type {
	BENCH_ARG_FLAG,      /* no value: *(bool *)dst = true */
	BENCH_ARG_UINT,      /* whole number in [min, max] into an integer of size bytes */
	BENCH_ARG_DOUBLE,    /* number in [min, max] into a double */
	BENCH_ARG_STR,       /* the value itself into a const char * */
	BENCH_ARG_UINT_LIST, /* comma-separated whole numbers in [min, max] into an array of
			      * max_count integers of size bytes; the number in *count */
	BENCH_ARG_NAMES,     /* comma-separated names out of names[max_count]: dst is a bool
			      * array of max_count, set true for each name given, false else */
};

/**
 * struct bench_arg - one option of a driver: build it with the BENCH_ARG_*()
 * macros below, which fill the size from the variable. A list option given
 * twice keeps only its last list. An integer destination may be signed when
 * min >= 0 and max fits it.
 */
struct bench_arg {
	const char *name;         /* "--seconds" */
	enum bench_arg_type type;
	void *dst;
	size_t size;              /* UINT, UINT_LIST: bytes of one integer at dst */
	double min, max;          /* UINT, UINT_LIST, DOUBLE: the accepted range */
	const char *const *names; /* NAMES: the accepted names */
	int *count;               /* UINT_LIST: numbers stored */
	int max_count;            /* UINT_LIST: room at dst; NAMES: entries of names */
};

#define BENCH_ARG_FLAG(name, var) { name, BENCH_ARG_FLAG, &(var), sizeof(var), 0, 0, NULL, NULL, 0 }
#define BENCH_ARG_UINT(name, var, lo, hi) \
	{ name, BENCH_ARG_UINT, &(var), sizeof(var), (double)(lo), (double)(hi), NULL, NULL, 0 }
#define BENCH_ARG_DOUBLE(name, var, lo, hi) \
	{ name, BENCH_ARG_DOUBLE, &(var), sizeof(var), (double)(lo), (double)(hi), NULL, NULL, 0 }
#define BENCH_ARG_STR(name, var) { name, BENCH_ARG_STR, &(var), sizeof(var), 0, 0, NULL, NULL, 0 }
#define BENCH_ARG_UINT_LIST(name, array, nr, lo, hi) \
	{ name, BENCH_ARG_UINT_LIST, (array), sizeof((array)[0]), (double)(lo), (double)(hi), NULL, \
	  &(nr), (int)(sizeof(array) / sizeof((array)[0])) }
#define BENCH_ARG_NAMES(name, bools, names_, nr_names) \
	{ name, BENCH_ARG_NAMES, (bools), sizeof((bools)[0]), 0, 0, names_, NULL, nr_names }

/**
 * bench_parse_args - parse argv[1..argc) against @args[@nr_args]. -h and
 * --help print @usage on stdout. Each error is printed on stderr as
 * "<prog>: <what> (see --help)": an unknown option, an option without its
 * value, a value that is not a number, out of its range, a list item that
 * is not a number or name it takes, an empty item or too many of them.
 * Return: 0 to run, 1 when --help was printed, -1 on a usage error (printed;
 * the drivers then exit 2).
 */
int bench_parse_args(int argc, char **argv, const char *prog, const struct bench_arg *args,
		     int nr_args, const char *usage);

/**
 * bench_parse_uint - @s as a decimal whole number in [@min, @max] (no sign,
 * no blanks). Return: 0, or -1 when it is not one.
 */
int bench_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/**
 * bench_parse_opts - parse argv into @o (defaults first), with a driver's
 * own options @extra[@nr_extra] (NULL, 0: none) beside the common ones.
 * @extra_usage is printed after the common options by --help.
 * Return: as bench_parse_args().
 */
int bench_parse_opts(int argc, char **argv, struct bench_opts *o, const char *prog,
		     const char *extra_usage, const struct bench_arg *extra, int nr_extra);

/**
 * bench_jobs_for - jobs in one run at work size @w: about 0.1 s of
 * single-threaded work, between 2000 and 100000 jobs. The same formula is
 * Work.jobsFor() in Java, so every language runs the same batches.
 */
uint64_t bench_jobs_for(uint32_t w);

/** struct bench_series - the throughput of each measured run of one (contender, w). */
struct bench_series {
	double *rates;  /* jobs/s per run */
	int n, cap;
	double seconds; /* measured wall time, summed */
};

void bench_series_add(struct bench_series *s, double jobs_per_s, double seconds);
void bench_series_free(struct bench_series *s);
/** bench_series_quantile - @q in [0, 1] of the runs' throughput (0.5: median). */
double bench_series_quantile(const struct bench_series *s, double q);

/** struct bench_lat - pooled latency samples (ns). */
struct bench_lat {
	uint64_t *ns;
	size_t n, cap;
};

void bench_lat_add(struct bench_lat *l, const uint64_t *ns, size_t count);
void bench_lat_free(struct bench_lat *l);
/** bench_lat_percentile - nearest-rank @p-th percentile (sorts in place); 0 when empty. */
uint64_t bench_lat_percentile(struct bench_lat *l, double p);

/**
 * bench_emit - print the result line of one (contender, w): the JSON object
 * on stdout and the summary on stderr. @why NULL means the check passed;
 * otherwise no figure is printed. @lat may be NULL. @extra_json is appended
 * inside the object (starting with a comma) or NULL.
 */
void bench_emit(const char *contender, uint32_t w, uint64_t jobs, int threads,
		const struct bench_series *s, struct bench_lat *lat, const char *why,
		const char *extra_json);

/** bench_progress - "\r[contender w=...] run i" on stderr unless quiet. */
void bench_progress(const struct bench_opts *o, const char *contender, uint32_t w, int run,
		    double elapsed);

/** bench_seconds - CLOCK_MONOTONIC seconds. */
double bench_seconds(void);

/**
 * struct bench_line - a cache line's round trip between two CPUs (bench_line_rt()).
 * @ns: the median of the samples, ns per round trip; NAN when it could not be measured
 * @min, @max: the fastest and slowest sample
 * @cpu: the two CPUs (the first two of the calling thread's affinity mask)
 */
struct bench_line {
	double ns, min, max;
	int cpu[2];
};

/**
 * bench_line_rt - hand one cache line back and forth between the calling thread and
 * a second one, pinned to the first two CPUs the caller may run on, @samples times
 * @trips round trips (after a few hundred untimed ones); the caller's CPU mask is
 * restored. On a virtual machine the host decides how far apart those CPUs are, and
 * moves them; every ordered pipeline's figures move with this (README, "Where the
 * host runs the two CPUs").
 * Return: 0; -1 (the figures NAN) when @samples is not 1..100 or @trips not
 * 1..10,000,000, the caller may run on one CPU only, either end could not be pinned
 * or the second one started, or a sample took over 50 ms (the two ends were not
 * running at the same time: other work on a CPU).
 */
int bench_line_rt(int samples, long trips, struct bench_line *out);

/**
 * bench_line_now - bench_line_rt() as the benches run it around a measurement (three
 * samples of 10,000 round trips, a few ms): the median in ns, or NAN when it could not
 * be measured.
 */
double bench_line_now(void);

/**
 * bench_line_begin - time the line round trip now (bench_line_now()); the next
 * bench_emit() times it again and reports both ("line_rt_ns_before",
 * "line_rt_ns_after"), so that a figure says where the host ran the CPUs while
 * it was measured.
 */
void bench_line_begin(void);

#ifdef __cplusplus
}
#endif

#endif /* BENCH_UTIL_H */
