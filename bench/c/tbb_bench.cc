// SPDX-License-Identifier: MIT
//
// tbb_bench.cc - contender "tbb": oneTBB parallel_pipeline
// (serial_in_order source -> parallel work -> serial_in_order sink) with as
// many threads as CPUs (tbb::global_control max_allowed_parallelism; the
// calling thread is one of them). The sink checks that it sees the jobs in
// submission order and folds their digests; a run counts only when the
// order held, the count is right and the digests equal the single-threaded
// reference.
//
// Tokens in flight: --tokens, default 16 per thread (measured best on the
// reference box among 2..64 per thread; see the README's benchmark section).
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/version.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "bench_util.h"
#include "tbb_pipeline.h"
#include "workload.h"

namespace {

const char extra_usage[] =
	"  --contender C    tbb (the only one; accepted for symmetry)\n"
	"  --tokens T       max_number_of_live_tokens (default 16 per thread)\n"
	"  --threads N      max_allowed_parallelism (default: CPUs available)\n"
	"\n"
	"Prints one JSON line per w on stdout; exits 1 when a check failed.\n";

struct item {
	uint64_t index;
	uint64_t digest;
};

struct sink_state {
	uint64_t next = 0;
	uint64_t sum = 0;
	uint64_t xor_ = 0;
	uint64_t errors = 0;
	uint64_t first_bad = UINT64_MAX;
};

// One run of n jobs; returns seconds, or -1 with why filled.
double run_once(uint64_t n, uint32_t w, unsigned tokens, const workload_digest &ref, char *why,
		size_t why_len)
{
	sink_state st;
	double t0 = bench_seconds();

	bench_tbb_pipeline<item>(
		n, tokens, [](uint64_t i) { return item{ i, 0 }; },
		[w](item it) -> item {
			it.digest = workload(workload_seed(it.index), w);
			return it;
		},
		[&st](item it) {
			if (it.index != st.next) {
				st.errors++;
				if (st.first_bad == UINT64_MAX)
					st.first_bad = it.index;
			}
			st.next = it.index + 1;
			st.sum += it.digest;
			st.xor_ ^= it.digest;
		});
	double dt = bench_seconds() - t0;

	if (st.errors) {
		snprintf(why, why_len, "%" PRIu64 " jobs out of order, first %" PRIu64, st.errors,
			 st.first_bad);
		return -1;
	}
	if (st.next != n) {
		snprintf(why, why_len, "%" PRIu64 " jobs reached the sink, expected %" PRIu64, st.next,
			 n);
		return -1;
	}
	if (st.sum != ref.sum || st.xor_ != ref.xor_) {
		snprintf(why, why_len,
			 "digests sum %016" PRIx64 " xor %016" PRIx64 ", reference sum %016" PRIx64
			 " xor %016" PRIx64, st.sum, st.xor_, ref.sum, ref.xor_);
		return -1;
	}
	return dt;
}

} // namespace

int main(int argc, char **argv)
{
	// CPUs in this process's affinity, as padata's cpu_active_mask.
	unsigned threads = static_cast<unsigned>(tbb::info::default_concurrency());
	const bench_arg ours[] = { BENCH_ARG_UINT("--threads", threads, 1, 4096) };
	bench_opts o;
	int rc = bench_parse_opts(argc, argv, &o, "tbb_bench", extra_usage, ours, 1);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (o.contender && std::strcmp(o.contender, "tbb") && std::strcmp(o.contender, "all")) {
		std::fprintf(stderr, "tbb_bench: unknown contender '%s' (tbb)\n", o.contender);
		return 2;
	}
	if (threads == 0)
		threads = 1;
	unsigned tokens = o.tokens ? o.tokens : 16 * threads;
	tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
	int failed = 0;

	for (int k = 0; k < o.nr_ws; k++) {
		uint32_t w = o.ws[k];
		uint64_t n = o.jobs ? o.jobs : bench_jobs_for(w);
		workload_digest ref = workload_reference(n, w);
		bench_series s{};
		char why[256] = "";
		char extra[128];
		bench_line_begin(); // and bench_emit() again: where the host ran the CPUs
		double start = bench_seconds();
		bool bad = false;

		for (int run = 0;; run++) {
			double dt = run_once(n, w, tokens, ref, why, sizeof(why));

			bench_progress(&o, "tbb", w, run + 1, bench_seconds() - start);
			if (dt < 0) {
				bad = true;
				break;
			}
			if (run < o.warmup_reps)
				continue;
			bench_series_add(&s, static_cast<double>(n) / dt, dt);
			if (s.n >= o.min_reps && s.seconds >= o.seconds)
				break;
		}
		std::snprintf(extra, sizeof(extra), ",\"tokens\":%u,\"tbb_version\":\"%d.%d\"", tokens,
			      TBB_VERSION_MAJOR, TBB_VERSION_MINOR);
		bench_emit("tbb", w, n, static_cast<int>(threads), &s, nullptr, bad ? why : nullptr,
			   extra);
		failed |= bad;
		bench_series_free(&s);
	}
	return failed ? 1 : 0;
}
