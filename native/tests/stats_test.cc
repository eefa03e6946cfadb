/* SPDX-License-Identifier: MIT */
/*
 * stats_test.cc - padata_get_stats() (SPEC section 9): its -EINVAL answers,
 * counts that agree with known job counts, -EBUSY answers counted, and the
 * reorder depth with a job held back.
 */
#include "test_util.h"

#include <climits>
#include <memory>

using namespace padata_test;

namespace {

class PadataStats : public InstanceTest {
protected:
	PadataStats() : InstanceTest("stats") {}
};

} /* namespace */

TEST_F(PadataStats, RejectsNullArguments)
{
	struct padata_stats st;
	EXPECT_EQ(padata_get_stats(nullptr, &st), -EINVAL);
	started();
	EXPECT_EQ(padata_get_stats(pinst_, nullptr), -EINVAL);
	EXPECT_EQ(padata_get_stats(nullptr, nullptr), -EINVAL);
}

TEST_F(PadataStats, AFreshInstanceCountsNothing)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct padata_stats st;
	std::memset(&st, 0xff, sizeof(st));
	ASSERT_EQ(padata_get_stats(pinst_, &st), 0);
	EXPECT_EQ(st.accepted, 0u);
	EXPECT_EQ(st.completed, 0u);
	EXPECT_EQ(st.busy, 0u);
	EXPECT_EQ(st.reorder_depth, 0u);
	EXPECT_EQ(st.reorder_depth_max, 0u);
	EXPECT_EQ(st.in_flight, 0u);
	EXPECT_EQ(st.limit, static_cast<uint32_t>(MAX_OBJ_NUM));
	EXPECT_EQ(st.waiting_submitters, 0u);
}

TEST_F(PadataStats, CountsAgreeWithTheJobsRunAcrossStopsAndTheSequenceWrap)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	const long n = scaled(3000, 100);
	uint64_t total = 0;
	for (int round = 0; round < 3; round++) {
		SCOPED_TRACE(round);
		if (round == 2) { /* across the 32-bit wrap: counts stay 64-bit and exact */
			ASSERT_EQ(padata_test_set_seq(pinst_, UINT_MAX - static_cast<unsigned>(n / 2)), 0);
		}
		ASSERT_EQ(padata_start(pinst_), 0);
		std::vector<Job> jobs(static_cast<size_t>(n));
		for (long i = 0; i < n; i++)
			ASSERT_EQ(padata_do_parallel_wait(pinst_, &jobs[static_cast<size_t>(i)].priv,
							  static_cast<int>(i % nr_cpu_ids), -1), 0);
		padata_stop(pinst_);
		total += static_cast<uint64_t>(n);
		struct padata_stats st;
		ASSERT_EQ(padata_get_stats(pinst_, &st), 0);
		EXPECT_EQ(st.accepted, total);
		EXPECT_EQ(st.completed, total);
		EXPECT_EQ(st.in_flight, 0u);
		EXPECT_EQ(st.reorder_depth, 0u);
		EXPECT_LE(st.reorder_depth_max, static_cast<uint32_t>(MAX_OBJ_NUM) * 2);
	}
}

TEST_F(PadataStats, BusyAnswersAreCounted)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 1), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	Gate gate;
	Job held, other;
	held.hold_parallel = &gate;
	ASSERT_EQ(padata_do_parallel(pinst_, &held.priv, 0), 0);
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(padata_do_parallel(pinst_, &other.priv, 0), -EBUSY);
	EXPECT_EQ(padata_do_parallel_wait(pinst_, &other.priv, 0, 1), -ETIMEDOUT);
	struct padata_stats st;
	ASSERT_EQ(padata_get_stats(pinst_, &st), 0);
	/* Three answers, and at least one try of the timed wait. */
	EXPECT_GE(st.busy, 4u);
	EXPECT_EQ(st.accepted, 1u);
	EXPECT_EQ(st.in_flight, 1u);
	EXPECT_EQ(st.completed, 0u);
	EXPECT_EQ(st.limit, 1u);
	/* -EINVAL answers are not busy ones. */
	uint64_t busy = st.busy;
	EXPECT_EQ(padata_do_parallel(pinst_, &other.priv, -1), -EINVAL);
	ASSERT_EQ(padata_get_stats(pinst_, &st), 0);
	EXPECT_EQ(st.busy, busy);
	gate.open();
	padata_stop(pinst_);
	ASSERT_EQ(padata_get_stats(pinst_, &st), 0);
	EXPECT_EQ(st.completed, 1u);
	EXPECT_EQ(st.accepted, 1u);
}

TEST_F(PadataStats, AHeldBackJobShowsInTheReorderDepth)
{
	started();
	Job first, second, third;
	first.defer = true; /* parallel() returns without padata_do_serial() */
	ASSERT_EQ(padata_do_parallel(pinst_, &first.priv, 0), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &second.priv, 0), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &third.priv, 0), 0);
	/* second and third finished; both wait for first. */
	ASSERT_TRUE(wait_until([&] {
		return first.parallel_runs.load() == 1 && second.parallel_runs.load() == 1 &&
		       third.parallel_runs.load() == 1;
	}));
	struct padata_stats st;
	ASSERT_EQ(padata_get_stats(pinst_, &st), 0);
	EXPECT_EQ(st.reorder_depth, 2u);
	EXPECT_GE(st.reorder_depth_max, 2u);
	EXPECT_EQ(st.in_flight, 3u);
	EXPECT_EQ(st.accepted, 3u);
	EXPECT_EQ(st.completed, 0u);
	EXPECT_FALSE(second.done());
	padata_do_serial(&first.priv);
	ASSERT_TRUE(wait_done({&first, &second, &third}));
	padata_stop(pinst_);
	ASSERT_EQ(padata_get_stats(pinst_, &st), 0);
	EXPECT_EQ(st.reorder_depth, 0u);
	EXPECT_GE(st.reorder_depth_max, 2u) << "the highest depth stays";
	EXPECT_EQ(st.completed, 3u);
}

TEST_F(PadataStats, CallableFromCallbacksWhileJobsRun)
{
	started();
	static std::atomic<int> rc;
	rc = INT_MIN;
	Job job;
	job.ctx = pinst_;
	job.on_parallel = [](Job *j) {
		struct padata_stats st;
		rc = padata_get_stats(static_cast<struct padata_instance *>(j->ctx), &st);
		if (rc == 0 && st.in_flight < 1)
			rc = -1000;
	};
	ASSERT_EQ(padata_do_parallel(pinst_, &job.priv, 0), 0);
	ASSERT_TRUE(wait_done({&job}));
	EXPECT_EQ(rc.load(), 0);
}
