/* SPDX-License-Identifier: MIT */
/*
 * padata_order_test.cc - the ordering guarantee under load: at least
 * 1,000,000 jobs (times PADATA_TEST_SCALE) with mixed cb_cpus, some
 * completed asynchronously from non-worker threads after a random delay and
 * in random order. serial() must see each (submitter, cb_cpu) stream in
 * submission order, on the worker pinned to cb_cpu, one at a time; every
 * job runs parallel() once and serial() once.
 */
#include "order_harness.h"

using namespace padata_test;

namespace {

class PadataOrder : public InstanceTest {
protected:
	PadataOrder() : InstanceTest("order") {}

	/* Runs @h to completion: @submitters threads submit their jobs in order. */
	void run(OrderHarness &h, const std::vector<int> &cb_cpus)
	{
		auto start = Clock::now();
		std::vector<std::thread> threads;
		std::atomic<int> refused{0};
		for (int s = 0; s < h.submitters(); s++) {
			threads.emplace_back([&, s] {
				Rng rng(static_cast<uint64_t>(s) + 1);
				for (uint32_t i = 0; i < h.per_submitter(); i++) {
					int cb = cb_cpus[rng.below(static_cast<uint32_t>(cb_cpus.size()))];
					int err = h.submit(pinst_, s, i, cb);
					if (err != 0) {
						if (refused.fetch_add(1) == 0)
							ADD_FAILURE() << "job " << s << "/" << i << " refused: " << err;
						return;
					}
				}
			});
		}
		for (auto &t : threads)
			t.join();
		ASSERT_EQ(refused.load(), 0);
		ASSERT_TRUE(h.wait_all_serialized(milliseconds(sanitized() ? 120000 : 60000)))
			<< h.serialized() << " of " << h.accepted() << " jobs serialized";
		double secs = std::chrono::duration<double>(Clock::now() - start).count();
		h.check_exactly_once();
		EXPECT_EQ(h.failures(), 0) << h.describe();
		EXPECT_EQ(h.accepted(), static_cast<long>(h.submitters()) * h.per_submitter());
		std::printf("  %ld jobs on %u CPUs in %.2f s (%.0f jobs/s), %ld completed asynchronously\n",
			    h.accepted(), nr_cpu_ids, secs, static_cast<double>(h.accepted()) / secs,
			    h.completer().completed());
	}

	std::vector<int> all_cpus() const { return mask_cpus(cpu_active_mask); }
};

} /* namespace */

TEST_F(PadataOrder, AMillionJobsWithMixedCbCpusStayInOrder)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	OrderHarness h(1, static_cast<uint32_t>(scaled(1000000, 20000)), 61);
	run(h, all_cpus());
}

TEST_F(PadataOrder, SeveralSubmittersKeepTheirOwnOrder)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	OrderHarness h(3, static_cast<uint32_t>(scaled(200000, 5000)), 37);
	run(h, all_cpus());
}

TEST_F(PadataOrder, ManyAsyncCompletionsWithAHighInFlightLimit)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 1u << 16), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	/* Every third job completes late, out of order, from 3 threads. */
	OrderHarness h(2, static_cast<uint32_t>(scaled(150000, 5000)), 3, 3, 50);
	run(h, all_cpus());
}

TEST_F(PadataOrder, AllJobsOnOneCbCpu)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	OrderHarness h(1, static_cast<uint32_t>(scaled(200000, 5000)), 11);
	run(h, {static_cast<int>(nr_cpu_ids) - 1});
}

TEST_F(PadataOrder, DisjointParallelAndSerialMasks)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	/* Lower half runs parallel(), upper half serial(). */
	struct cpumask p, cb;
	cpumask_clear(&p);
	cpumask_clear(&cb);
	for (unsigned int c = 0; c < nr_cpu_ids; c++)
		cpumask_set_cpu(c, c < nr_cpu_ids / 2 ? &p : &cb);
	pinst_ = padata_alloc(wq_, &p, &cb);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	OrderHarness h(2, static_cast<uint32_t>(scaled(150000, 5000)), 29);
	h.set_parallel_mask(p);
	run(h, mask_cpus(&cb));
}

TEST_F(PadataOrder, ThreeParallelCpusOfMany)
{
	if (nr_cpu_ids < 4)
		GTEST_SKIP() << "needs four CPUs (run with PADATA_NR_CPUS)";
	struct cpumask p = mask_of({0, 2, static_cast<int>(nr_cpu_ids) - 1});
	pinst_ = padata_alloc(wq_, &p, cpu_possible_mask);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	OrderHarness h(1, static_cast<uint32_t>(scaled(200000, 5000)), 13);
	h.set_parallel_mask(p);
	run(h, all_cpus());
}

namespace {
struct padata_instance *chain_target;
std::mutex chain_lock;
uint32_t chain_next; /* guarded by chain_lock */

/* Submits submitter 1's next job once; true when one was accepted. */
bool chain_one(OrderHarness *h, milliseconds limit)
{
	std::lock_guard<std::mutex> g(chain_lock);
	if (chain_next >= h->per_submitter())
		return false;
	int err = h->submit(chain_target, 1, chain_next, 0, limit);
	if (err == 0) {
		chain_next++;
		return true;
	}
	if (err != -EBUSY)
		h->fail("chained submit of %u: %d", chain_next, err);
	return false;
}
} /* namespace */

TEST_F(PadataOrder, JobsSubmittedFromSerialCallbacksStayInOrder)
{
	/*
	 * Each serial() of submitter 0 submits submitter 1's next job (to
	 * cb_cpu 0): submissions from worker threads interleave with the main
	 * thread's stream. At the in-flight limit the callback skips; the main
	 * thread submits what is left at the end.
	 */
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 4096), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	OrderHarness h(2, static_cast<uint32_t>(scaled(100000, 3000)), 17);
	chain_target = pinst_;
	chain_next = 0;
	h.on_serial = [](OJob *j) {
		if (j->submitter == 0)
			chain_one(j->h, milliseconds(0));
	};
	std::vector<int> cpus = all_cpus();
	Rng rng(5);
	for (uint32_t i = 0; i < h.per_submitter(); i++)
		ASSERT_EQ(h.submit(pinst_, 0, i, cpus[rng.below(static_cast<uint32_t>(cpus.size()))]), 0);
	ASSERT_TRUE(h.wait_all_serialized(milliseconds(60000)));
	while (chain_one(&h, hang_limit()))
		;
	ASSERT_TRUE(h.wait_all_serialized(milliseconds(60000)));
	h.check_exactly_once();
	EXPECT_EQ(h.failures(), 0) << h.describe();
	EXPECT_EQ(h.accepted(), 2L * h.per_submitter());
}
