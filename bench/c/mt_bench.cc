/* SPDX-License-Identifier: MIT */
/*
 * mt_bench.cc - multithreaded jobs: a checksum of a large array with
 * padata_do_multithreaded() against a single loop and (when oneTBB was
 * found) tbb::parallel_for, in alternating rounds of one run.
 *
 * The checksum is the wrapping sum of mix4(a[i]) (commutative, so any
 * chunking gives the same value); each contender's result is checked
 * against the single loop's every round, and a contender with a wrong
 * result prints "check":"FAIL" and no figure. padata is used as the README
 * shows: an instance on every possible CPU, min_chunk 16384, align 1,
 * max_threads = the usable parallel CPUs; oneTBB gets a task_arena of the
 * same thread count and the same grain size.
 *
 * Output: one JSON line per contender on stdout ("suite":"mt", median and
 * quartiles of the round times in ms, rounds); "BENCH ..." lines on stderr.
 * Exit 1 when a check failed, 2 on usage or setup errors.
 */
#include <linux/padata.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_util.h"

#ifdef MT_BENCH_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#endif

namespace {

inline uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 29);
}

/* Four rounds of mix per element: compute-bound rather than bound by memory
 * bandwidth, which two cores share. */
inline uint64_t mix4(uint64_t x)
{
	return mix(mix(mix(mix(x) + 1) + 2) + 3);
}

uint64_t sum_range(const uint64_t *a, unsigned long from, unsigned long to)
{
	uint64_t s = 0;
	for (unsigned long i = from; i < to; i++)
		s += mix4(a[i]);
	return s;
}

struct Ctx {
	const uint64_t *a;
	std::atomic<uint64_t> sum{0};
};

void padata_chunk(unsigned long start, unsigned long end, void *arg)
{
	Ctx *c = static_cast<Ctx *>(arg);
	c->sum.fetch_add(sum_range(c->a, start, end), std::memory_order_relaxed);
}

struct Series {
	std::string name;
	std::vector<double> ms;
	bool failed = false;
	std::string why;
};

double quantile(std::vector<double> v, double q)
{
	std::sort(v.begin(), v.end());
	double pos = q * (double)(v.size() - 1);
	size_t lo = (size_t)pos;
	size_t hi = std::min(lo + 1, v.size() - 1);
	return v[lo] + (v[hi] - v[lo]) * (pos - (double)lo);
}

#ifdef MT_BENCH_TBB
#define MT_TBB_CONTENDER ", c-mt-tbb"
#else
#define MT_TBB_CONTENDER ""
#endif

const char usage[] =
	"usage: mt_bench [--n ELEMENTS] [--seconds S] [--min-rounds R] [--min-chunk C] [--quiet]\n"
	"  c-mt-single, c-mt-padata" MT_TBB_CONTENDER ": a checksum of ELEMENTS (default 4 Mi) "
	"longs, alternating rounds for S seconds (default 3), at least R (5) each\n";

} /* namespace */

int main(int argc, char **argv)
{
	unsigned long n = 1ul << 22;
	double seconds = 3;
	int min_rounds = 5;
	unsigned long min_chunk = 16384;
	bool quiet = false;
	const bench_arg args[] = {
		BENCH_ARG_UINT("--n", n, 1, ULONG_MAX),
		BENCH_ARG_DOUBLE("--seconds", seconds, 0, 1e6),
		BENCH_ARG_UINT("--min-rounds", min_rounds, 1, INT_MAX),
		BENCH_ARG_UINT("--min-chunk", min_chunk, 1, ULONG_MAX),
		BENCH_ARG_FLAG("--quiet", quiet),
	};
	int rc = bench_parse_args(argc, argv, "mt_bench", args, sizeof(args) / sizeof(args[0]), usage);
	if (rc)
		return rc > 0 ? 0 : 2;

	std::vector<uint64_t> data(n);
	for (unsigned long i = 0; i < n; i++)
		data[i] = mix(i * 0x9e3779b97f4a7c15ull + 1);
	const uint64_t *a = data.data();

	struct workqueue_struct *wq = create_workqueue("mt_bench");
	struct padata_instance *pinst = wq ? padata_alloc_possible(wq) : nullptr;
	if (!pinst || padata_start(pinst) != 0) {
		std::fprintf(stderr, "mt_bench: cannot set up padata: %s\n", std::strerror(errno));
		return 2;
	}
	struct padata_cpumask usable;
	padata_get_cpumask(pinst, &usable);
	const int threads = (int)cpumask_weight(usable.pcpu);

#ifdef MT_BENCH_TBB
	tbb::task_arena arena(threads);
#endif
	std::vector<Series> series = { { "c-mt-single", {}, false, {} }, { "c-mt-padata", {}, false, {} } };
#ifdef MT_BENCH_TBB
	series.push_back({ "c-mt-tbb", {}, false, {} });
#endif

	const uint64_t expect = sum_range(a, 0, n);
	auto run = [&](size_t k) -> uint64_t {
		const std::string &name = series[k].name;
		if (name == "c-mt-single")
			return sum_range(a, 0, n);
		if (name == "c-mt-padata") {
			Ctx c;
			c.a = a;
			struct padata_mt_job job;
			std::memset(&job, 0, sizeof(job));
			job.thread_fn = padata_chunk;
			job.fn_arg = &c;
			job.start = 0;
			job.size = n;
			job.align = 1;
			job.min_chunk = min_chunk;
			job.max_threads = threads;
			int err = padata_do_multithreaded(pinst, &job);
			if (err) {
				series[k].why = "padata_do_multithreaded returned " + std::to_string(err);
				return expect + 1;
			}
			return c.sum.load();
		}
#ifdef MT_BENCH_TBB
		std::atomic<uint64_t> sum{0};
		arena.execute([&] {
			tbb::parallel_for(tbb::blocked_range<unsigned long>(0, n, min_chunk),
					  [&](const tbb::blocked_range<unsigned long> &r) {
						  sum.fetch_add(sum_range(a, r.begin(), r.end()),
								std::memory_order_relaxed);
					  });
		});
		return sum.load();
#else
		return expect + 1;
#endif
	};

	/* One unmeasured round each, then alternating rounds until the budget is spent. */
	using clock = std::chrono::steady_clock;
	for (size_t k = 0; k < series.size(); k++)
		(void)run(k);
	auto t_end = clock::now() + std::chrono::duration<double>(seconds);
	for (int round = 0; round < min_rounds || clock::now() < t_end; round++) {
		for (size_t j = 0; j < series.size(); j++) {
			size_t k = (j + (size_t)round) % series.size();
			auto t0 = clock::now();
			uint64_t got = run(k);
			double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
			if (got != expect) {
				if (!series[k].failed && series[k].why.empty())
					series[k].why = "checksum differs from the single loop's";
				series[k].failed = true;
			}
			series[k].ms.push_back(ms);
		}
	}

	rc = 0;
	for (const Series &s : series) {
		if (s.failed) {
			std::printf("{\"suite\":\"mt\",\"contender\":\"%s\",\"n\":%lu,\"threads\":%d,\"check\":\"FAIL\","
				    "\"why\":\"%s\"}\n", s.name.c_str(), n, threads, s.why.c_str());
			std::fprintf(stderr, "BENCH %s n=%lu check=FAIL why=\"%s\"\n", s.name.c_str(), n, s.why.c_str());
			rc = 1;
			continue;
		}
		double med = quantile(s.ms, 0.5), q1 = quantile(s.ms, 0.25), q3 = quantile(s.ms, 0.75);
		std::printf("{\"suite\":\"mt\",\"contender\":\"%s\",\"n\":%lu,\"threads\":%d,\"min_chunk\":%lu,"
			    "\"check\":\"ok\",\"rounds\":%zu,\"median_ms\":%.4f,\"p25_ms\":%.4f,\"p75_ms\":%.4f,"
			    "\"min_ms\":%.4f}\n",
			    s.name.c_str(), n, threads, min_chunk, s.ms.size(), med, q1, q3,
			    *std::min_element(s.ms.begin(), s.ms.end()));
		if (!quiet)
			std::fprintf(stderr, "BENCH %s n=%lu threads=%d median=%.3fms iqr=%.3f-%.3fms rounds=%zu check=ok\n",
				     s.name.c_str(), n, threads, med, q1, q3, s.ms.size());
	}
	std::fflush(stdout);
	padata_free(pinst);
	destroy_workqueue(wq);
	return rc;
}
