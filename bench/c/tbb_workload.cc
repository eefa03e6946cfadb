// SPDX-License-Identifier: MIT
//
// tbb_workload.cc - contender "tbb" of workload_bench: oneTBB parallel_pipeline
// (serial_in_order source -> parallel kernel -> serial_in_order sink) with as
// many threads as CPUs, the calling thread one of them, running the very same
// per-item kernels as the C contenders (workload_kern.h).
//
// Output buffers: the source hands item i the slot i % tokens. At most `tokens`
// items are alive and the sink retires them in order, so when the source makes
// item i, item i - tokens has left the sink and its slot is free.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/version.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "bench_util.h"
#include "tbb_pipeline.h"
#include "workload_kern.h"

namespace {

std::unique_ptr<tbb::global_control> control;
char version[32];

struct item {
	uint64_t index;
	uint8_t *out;
	uint64_t hash;
	size_t out_len;
	uint32_t crc;
	int err;
};

// Both workloads' pipeline: items 0..n-1, item i writing into the slot
// bufs + (i % tokens) * slot; work(item &) -> error code runs in parallel and
// fills the item; sink(const item &) takes the items that succeeded, in
// order. An item reaching the sink out of order counts in *order_errors, a
// failed one in *errors (the caller reports either as a failed check).
template <typename Work, typename Sink>
void run_pipeline(uint64_t n, unsigned tokens, uint8_t *bufs, size_t slot, Work work, Sink sink,
		  uint64_t *order_errors, uint64_t *errors)
{
	uint64_t next = 0;

	bench_tbb_pipeline<item>(
		n, tokens,
		[bufs, slot, tokens](uint64_t i) { return item{ i, bufs + (i % tokens) * slot, 0, 0, 0, 0 }; },
		[work](item it) -> item {
			it.err = work(it);
			return it;
		},
		[&](item it) {
			if (it.index != next)
				(*order_errors)++;
			next = it.index + 1;
			if (it.err)
				(*errors)++;
			else
				sink(it);
		});
}

} // namespace

extern "C" void wb_tbb_init(unsigned threads)
{
	control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
							threads);
	std::snprintf(version, sizeof(version), "%d.%d", TBB_VERSION_MAJOR, TBB_VERSION_MINOR);
}

extern "C" const char *wb_tbb_version(void)
{
	return version;
}

extern "C" double wb_tbb_aes(const struct wk_aes *a, bool full, unsigned tokens, struct wk_digest *d,
			     uint64_t *order_errors, uint64_t *errors)
{
	size_t slot = a->size + WK_GCM_TAG;
	std::vector<uint8_t> bufs(slot * tokens);
	double t0 = bench_seconds();

	*d = wk_digest{};
	run_pipeline(
		a->n, tokens, bufs.data(), slot,
		[a, full](item &it) { return wk_aes_seal(a, it.index, it.out, full, &it.hash); },
		[d](const item &it) { wk_digest_add(d, it.hash); }, order_errors, errors);
	return bench_seconds() - t0;
}

extern "C" double wb_tbb_deflate(const struct wk_deflate *d, unsigned tokens, struct wk_gz *g,
				 uint64_t *order_errors, uint64_t *errors)
{
	std::vector<uint8_t> bufs(d->bound * tokens);
	double t0 = bench_seconds();

	wk_gz_begin(g);
	run_pipeline(
		d->nblocks, tokens, bufs.data(), d->bound,
		[d](item &it) { return wk_deflate_block(d, it.index, it.out, &it.out_len, &it.crc); },
		[d, g](const item &it) {
			wk_gz_add(g, it.out, it.out_len, it.crc, wk_block_len(d, it.index));
		},
		order_errors, errors);
	wk_gz_end(g);
	return bench_seconds() - t0;
}
