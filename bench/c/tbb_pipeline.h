// SPDX-License-Identifier: MIT
//
// tbb_pipeline.h - the oneTBB pipeline both tbb contenders run (tbb_bench.cc,
// tbb_workload.cc): a serial_in_order source making items 0..n-1, one
// parallel stage, a serial_in_order sink, at most `tokens` items alive.
#ifndef BENCH_TBB_PIPELINE_H
#define BENCH_TBB_PIPELINE_H

#include <oneapi/tbb/parallel_pipeline.h>

#include <cstdint>

// bench_tbb_pipeline - make(i) -> Item for i = 0..n-1 in order (one at a time),
// work(Item) -> Item in parallel, then sink(Item) one at a time in the source's
// order; returns when the sink took all n. The callables are copied into the
// filters, as make_filter() does with lambdas written in place.
template <typename Item, typename Make, typename Work, typename Sink>
void bench_tbb_pipeline(uint64_t n, unsigned tokens, Make make, Work work, Sink sink)
{
	uint64_t produced = 0;

	tbb::parallel_pipeline(
		tokens,
		tbb::make_filter<void, Item>(tbb::filter_mode::serial_in_order,
					     [&](tbb::flow_control &fc) -> Item {
						     if (produced == n) {
							     fc.stop();
							     return Item{};
						     }
						     return make(produced++);
					     }) &
			tbb::make_filter<Item, Item>(tbb::filter_mode::parallel, work) &
			tbb::make_filter<Item, void>(tbb::filter_mode::serial_in_order, sink));
}

#endif // BENCH_TBB_PIPELINE_H
