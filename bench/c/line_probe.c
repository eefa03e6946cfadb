/* SPDX-License-Identifier: MIT */
/*
 * line_probe.c - how long one cache line takes to go from one CPU to
 * another and back, right now: two threads pinned to the first two CPUs
 * the process may run on hand one line back and forth (each waits for the
 * other's store, then stores), and the round trip is the time per pass.
 *
 * Why the benchmark wants it: on a virtual machine the host decides where
 * the two virtual CPUs run, and moves them. On the project's 2-vCPU VM the
 * round trip measured 55-80 ns most of the time and 330-360 ns for minutes
 * at a stretch (2026-12-01), with every ordered pipeline's figures moving
 * with it (c-padata at w = 0: 11-16 M jobs/s against 4.4 M). scripts/bench
 * runs this before and after each step and puts the figures in the report,
 * so a result can be read against the machine it ran on.
 *
 * Output: one JSON object on stdout: median, min and max over the samples
 * in ns per round trip, and the two CPUs; "skip" when the process may run
 * on one CPU only. Exit 0; 2 on a usage error.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"usage: line_probe [--samples N] [--trips N]\n"
	"  --samples N   timed samples, the median is reported (default 5, 1..100)\n"
	"  --trips N     round trips per sample (default 20000, 100..10000000)\n"
	"  --help        this text\n"
	"Prints one JSON line: the cache-line round trip between the first two CPUs of the\n"
	"process's affinity mask, in ns.\n";

static _Alignas(64) atomic_long ball;
static long trips;
static int samples;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

/* The other end: answers every odd value with the next even one. */
static void *other(void *arg)
{
	long total = (long)samples * trips;

	/* Unpinned if that fails: it must answer either way (the figure is then a floor). */
	(void)pin(*(int *)arg);
	for (long i = 0; i < total; i++) {
		/* Acquire/release: the hand-off itself is what is timed; no data rides on it. */
		while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1)
			;
		atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static long number(const char *opt, const char *v, long lo, long hi)
{
	char *end;
	long n;

	if (v == NULL) {
		fprintf(stderr, "line_probe: option %s needs a value\n%s", opt, usage);
		exit(2);
	}
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "line_probe: bad value '%s' for %s: a whole number from %ld to %ld\n", v,
			opt, lo, hi);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	cpu_set_t mine;
	int cpu[2], found = 0;
	double ns[100];
	pthread_t t;

	samples = 5;
	trips = 20000;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--samples") == 0) {
			samples = (int)number(argv[i], argv[i + 1], 1, 100);
			i++;
		} else if (strcmp(argv[i], "--trips") == 0) {
			trips = number(argv[i], argv[i + 1], 100, 10000000);
			i++;
		} else {
			fprintf(stderr, "line_probe: unknown option %s\n%s", argv[i], usage);
			return 2;
		}
	}
	if (sched_getaffinity(0, sizeof(mine), &mine) == 0) {
		for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
			if (CPU_ISSET(c, &mine))
				cpu[found++] = c;
	}
	if (found < 2) {
		printf("{\"probe\":\"line_round_trip\",\"skip\":\"the process may run on one CPU only\"}\n");
		return 0;
	}
	if (pin(cpu[0]) || pthread_create(&t, NULL, other, &cpu[1])) {
		printf("{\"probe\":\"line_round_trip\",\"skip\":\"could not pin two threads\"}\n");
		return 0;
	}
	for (int s = 0; s < samples; s++) {
		double t0 = now_ns();

		for (long i = (long)s * trips; i < (long)(s + 1) * trips; i++) {
			atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
			while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2)
				;
		}
		ns[s] = (now_ns() - t0) / (double)trips;
	}
	pthread_join(t, NULL);
	qsort(ns, (size_t)samples, sizeof(ns[0]), cmp);
	printf("{\"probe\":\"line_round_trip\",\"cpus\":[%d,%d],\"ns_median\":%.1f,\"ns_min\":%.1f,"
	       "\"ns_max\":%.1f,\"samples\":%d,\"trips\":%ld}\n",
	       cpu[0], cpu[1], ns[samples / 2], ns[0], ns[samples - 1], samples, trips);
	return 0;
}
