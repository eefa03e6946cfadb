/* SPDX-License-Identifier: MIT */
/*
 * line_probe.c - how long one cache line takes to go from one CPU to
 * another and back, right now: two threads pinned to the first two CPUs
 * the process may run on hand one line back and forth (each waits for the
 * other's store, then stores), and the round trip is the time per pass.
 *
 * Why the benchmark wants it: on a virtual machine the host decides where
 * the two virtual CPUs run, and moves them. On the project's 2-vCPU VM the
 * round trip measured 53-83 ns most of the time and 327-360 ns for minutes
 * at a stretch (2026-12-01), with every ordered pipeline's figures moving
 * with it (c-padata at w = 0: 11-16 M jobs/s against 4.4 M). scripts/bench
 * runs this at the start, after the C benches, the real workloads and JMH,
 * and at the end, and puts the figures in the report's header,
 * so a result can be read against the machine it ran on.
 *
 * The probe itself is bench_line_rt() (bench_util.c), which padata_bench,
 * tbb_bench and workload_bench also run around each measurement.
 *
 * Output: one JSON object on stdout: median, min and max over the samples
 * in ns per round trip, and the two CPUs; "skip" when the process may run
 * on one CPU only. Exit 0; 2 on a usage error.
 */
#include "bench_util.h"

#include <stdio.h>

static const char usage[] =
	"usage: line_probe [--samples N] [--trips N]\n"
	"  --samples N   timed samples, the median is reported (default 5, 1..100)\n"
	"  --trips N     round trips per sample (default 20000, 100..10000000)\n"
	"  --help        this text\n"
	"Prints one JSON line: the cache-line round trip between the first two CPUs of the\n"
	"process's affinity mask, in ns.\n";

int main(int argc, char **argv)
{
	struct bench_line l;
	int samples = 5;
	long trips = 20000;
	const struct bench_arg args[] = {
		BENCH_ARG_UINT("--samples", samples, 1, 100),
		BENCH_ARG_UINT("--trips", trips, 100, 10000000),
	};
	int rc = bench_parse_args(argc, argv, "line_probe", args, 2, usage);

	if (rc)
		return rc > 0 ? 0 : 2;
	if (bench_line_rt(samples, trips, &l)) {
		printf("{\"probe\":\"line_round_trip\",\"skip\":\"%s\"}\n",
		       l.cpu[1] < 0 ? "the process may run on one CPU only"
				    : "no figure: an end could not be pinned or started, or a sample took over 50 ms");
		return 0;
	}
	printf("{\"probe\":\"line_round_trip\",\"cpus\":[%d,%d],\"ns_median\":%.1f,\"ns_min\":%.1f,"
	       "\"ns_max\":%.1f,\"samples\":%d,\"trips\":%ld}\n",
	       l.cpu[0], l.cpu[1], l.ns, l.min, l.max, samples, trips);
	return 0;
}
