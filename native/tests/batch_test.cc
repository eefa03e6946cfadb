/* SPDX-License-Identifier: MIT */
/*
 * batch_test.cc - padata_set_batch(): its -EINVAL / -EBUSY answers, and that
 * jobs of the batch class reach their batch functions (at most
 * PADATA_BATCH_MAX at a time) in order, mixed with jobs of per-job
 * callbacks, through the instance and its shells, with the completion count
 * covering a serial batch until it returns.
 *
 * Runs of more than one job are made deterministic by holding the first
 * job's parallel() until the others have finished theirs (a gate, no sleep):
 * the releaser then hands the whole run to the serial queue in one push.
 */
#include "test_util.h"

#include <mutex>

using namespace padata_test;

namespace {

/* A job of the batch class: its own parallel()/serial() mark it. */
struct BJob {
	struct padata_priv priv;
	long id = 0;
	std::atomic<bool> parallel_entered{false};
	std::atomic<int> parallel_runs{0};
};

BJob *bjob_of(struct padata_priv *p)
{
	return container_of(p, BJob, priv);
}

/* Never called while the batch functions are set (the batches take them). */
std::atomic<long> g_per_job_calls{0};

void bjob_parallel(struct padata_priv *p)
{
	g_per_job_calls.fetch_add(1);
	padata_do_serial(p);
}

void bjob_serial(struct padata_priv *)
{
	g_per_job_calls.fetch_add(1);
}

/* What the batch functions saw; serial() of one cb_cpu runs on one worker. */
std::mutex g_mu;
std::vector<long> g_order;            /* ids, in serial order; Job ids are negative */
std::vector<unsigned int> g_parallel_sizes;
std::vector<unsigned int> g_serial_sizes;
std::atomic<const Gate *> g_hold_serial_batch{nullptr};
std::atomic<bool> g_serial_batch_entered{false};
/* Batch-class jobs whose padata_do_serial() returned. */
std::atomic<long> g_parallel_done{0};

void parallel_batch(struct padata_priv *const *jobs, unsigned int n)
{
	{
		std::lock_guard<std::mutex> l(g_mu);
		g_parallel_sizes.push_back(n);
	}
	for (unsigned int i = 0; i < n; i++) {
		BJob *j = bjob_of(jobs[i]);
		EXPECT_EQ(j->priv.parallel, &bjob_parallel);
		j->parallel_entered.store(true);
		j->parallel_runs.fetch_add(1);
		padata_do_serial(jobs[i]);
		/* Not on the job, which the test may free once its serial() ran. */
		g_parallel_done.fetch_add(1);
	}
}

void serial_batch(struct padata_priv *const *jobs, unsigned int n)
{
	g_serial_batch_entered.store(true);
	if (const Gate *g = g_hold_serial_batch.load())
		g->wait();
	std::lock_guard<std::mutex> l(g_mu);
	g_serial_sizes.push_back(n);
	for (unsigned int i = 0; i < n; i++) {
		EXPECT_EQ(jobs[i]->serial, &bjob_serial);
		g_order.push_back(bjob_of(jobs[i])->id);
	}
}

void PadataBatch_init(BJob &j, long id)
{
	std::memset(&j.priv, 0, sizeof(j.priv));
	j.priv.parallel = bjob_parallel;
	j.priv.serial = bjob_serial;
	j.id = id;
}

void plain_serial(Job *j)
{
	std::lock_guard<std::mutex> l(g_mu);
	g_order.push_back(-1 - j->id);
}

class PadataBatch : public InstanceTest {
protected:
	PadataBatch() : InstanceTest("batch") {}
	void SetUp() override
	{
		InstanceTest::SetUp();
		g_per_job_calls = 0;
		g_order.clear();
		g_parallel_sizes.clear();
		g_serial_sizes.clear();
		g_hold_serial_batch = nullptr;
		g_serial_batch_entered = false;
		g_parallel_done = 0;
	}
	void TearDown() override
	{
		g_hold_serial_batch = nullptr;
		InstanceTest::TearDown();
	}
	static void init(BJob &j, long id) { PadataBatch_init(j, id); }
	/*
	 * An instance whose serial CPU (*cb) runs no parallel() (the last active
	 * CPU serial, the others parallel), so that holding a serial batch holds
	 * no parallel work; *hold is false with one active CPU (no hold then).
	 */
	struct padata_instance *alloc_split(int *cb, bool *hold)
	{
		struct cpumask act = active_snapshot();
		std::vector<int> cpus = mask_cpus(&act);
		*cb = cpus.back();
		*hold = cpus.size() > 1;
		struct cpumask pcpu = act;
		if (*hold)
			cpumask_clear_cpu(static_cast<unsigned int>(*cb), &pcpu);
		struct cpumask cbcpu = mask_of({*cb});
		return padata_alloc(wq_, &pcpu, &cbcpu);
	}
	int set(struct padata_instance *pinst)
	{
		return padata_set_batch(pinst, bjob_parallel, parallel_batch, bjob_serial, serial_batch);
	}
	void run_split(long n, bool mixed, bool with_shell);
};

TEST_F(PadataBatch, AnswersItsErrors)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	EXPECT_EQ(padata_set_batch(nullptr, bjob_parallel, parallel_batch, bjob_serial, serial_batch), -EINVAL);
	EXPECT_EQ(padata_set_batch(pinst_, bjob_parallel, nullptr, nullptr, nullptr), -EINVAL);
	EXPECT_EQ(padata_set_batch(pinst_, nullptr, parallel_batch, nullptr, nullptr), -EINVAL);
	EXPECT_EQ(padata_set_batch(pinst_, nullptr, nullptr, bjob_serial, nullptr), -EINVAL);
	EXPECT_EQ(padata_set_batch(pinst_, nullptr, nullptr, nullptr, serial_batch), -EINVAL);
	EXPECT_EQ(set(pinst_), 0);
	EXPECT_EQ(padata_set_batch(pinst_, nullptr, nullptr, nullptr, nullptr), 0) << "clearing is allowed";
	EXPECT_EQ(padata_set_batch(pinst_, nullptr, nullptr, bjob_serial, serial_batch), 0) << "one pair alone";
	ASSERT_EQ(padata_start(pinst_), 0);
	EXPECT_EQ(set(pinst_), -EBUSY) << "started";
	padata_stop(pinst_);
	EXPECT_EQ(set(pinst_), 0) << "stopped and drained";
	/* A shell started with the instance makes it busy as well. */
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	EXPECT_EQ(set(pinst_), -EBUSY);
	padata_stop(pinst_);
	EXPECT_EQ(set(pinst_), 0);
}

TEST_F(PadataBatch, AStartedInstanceWithAJobInFlightIsBusyEvenFromItsCallback)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	static struct padata_instance *s_pinst;
	static std::atomic<int> answer;
	s_pinst = pinst_;
	answer = 1;
	Job j;
	j.on_serial = [](Job *) {
		answer = padata_set_batch(s_pinst, bjob_parallel, parallel_batch, bjob_serial, serial_batch);
	};
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(answer.load(), -EBUSY);
}

/*
 * Runs jobs 0..n-1 (every third one of per-job callbacks when @mixed) with
 * the first serial batch held until the jobs of the first window have all
 * finished parallel() and been released: they then reach the serial queue
 * while its worker is held, and its next drain is a run of many. Checks the
 * order and the batch sizes.
 */
void run_and_check(struct padata_instance *pinst, struct padata_shell *ps, long n, bool mixed, int cb,
		   bool hold)
{
	std::vector<std::unique_ptr<BJob>> bjobs;
	std::vector<std::unique_ptr<Job>> plain;
	std::vector<long> expect;
	Gate first;
	long batch_jobs = 0;
	if (hold)
		g_hold_serial_batch = &first;
	for (long i = 0; i < n; i++) {
		int rc;
		if (mixed && i % 3 == 2) {
			plain.emplace_back(new Job);
			plain.back()->id = (int)i;
			plain.back()->on_serial = plain_serial;
			expect.push_back(-1 - i);
			rc = ps ? padata_do_parallel_shell_wait(ps, &plain.back()->priv, cb, -1)
				: padata_do_parallel_wait(pinst, &plain.back()->priv, cb, -1);
		} else {
			bjobs.emplace_back(new BJob);
			PadataBatch_init(*bjobs.back(), i);
			expect.push_back(i);
			batch_jobs++;
			rc = ps ? padata_do_parallel_shell_wait(ps, &bjobs.back()->priv, cb, -1)
				: padata_do_parallel_wait(pinst, &bjobs.back()->priv, cb, -1);
		}
		ASSERT_EQ(rc, 0) << "job " << i;
		if (hold && i == std::min<long>(n - 1, 40)) {
			ASSERT_TRUE(wait_until([&] {
				if (g_parallel_done.load() < batch_jobs)
					return false;
				for (auto &p : plain)
					if (p->parallel_runs.load() == 0)
						return false;
				struct padata_stats st;
				if (padata_get_stats(pinst, &st) != 0)
					return false;
				return g_serial_batch_entered.load() && st.reorder_depth == 0;
			}));
			first.open();
		}
	}
	ASSERT_TRUE(wait_until([&] {
		std::lock_guard<std::mutex> l(g_mu);
		return g_order.size() == expect.size();
	}));
	g_hold_serial_batch = nullptr; /* @first is ours */
	std::lock_guard<std::mutex> l(g_mu);
	EXPECT_EQ(g_order, expect);
	long ps_sum = 0, ss_sum = 0;
	unsigned int ss_max = 0;
	for (unsigned int s : g_parallel_sizes) {
		EXPECT_GE(s, 1u);
		EXPECT_LE(s, (unsigned)PADATA_BATCH_MAX);
		ps_sum += s;
	}
	for (unsigned int s : g_serial_sizes) {
		EXPECT_GE(s, 1u);
		EXPECT_LE(s, (unsigned)PADATA_BATCH_MAX);
		ss_sum += s;
		ss_max = std::max(ss_max, s);
	}
	EXPECT_EQ(ps_sum, batch_jobs);
	EXPECT_EQ(ss_sum, batch_jobs);
	if (hold) {
		EXPECT_GT(ss_max, 1u) << "the held run reached serial() as one batch";
	}
	EXPECT_EQ(g_per_job_calls.load(), 0);
	for (auto &p : plain)
		EXPECT_EQ(p->serial_runs.load(), 1);
}

/* alloc_split() (with a shell when asked), the batch functions set, started; then run_and_check(). */
void PadataBatch::run_split(long n, bool mixed, bool with_shell)
{
	int cb;
	bool hold;
	pinst_ = alloc_split(&cb, &hold);
	ASSERT_NE(pinst_, nullptr);
	struct padata_shell *ps = nullptr;
	if (with_shell) {
		ps = padata_alloc_shell(pinst_);
		ASSERT_NE(ps, nullptr);
	}
	ASSERT_EQ(set(pinst_), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	run_and_check(pinst_, ps, n, mixed, cb, hold);
}

TEST_F(PadataBatch, BatchesKeepOrderAndTakeEveryJobOfTheirClass)
{
	run_split(scaled(20000, 200), false, false);
}

TEST_F(PadataBatch, MixedWithPerJobCallbacksTheOrderHolds)
{
	run_split(scaled(20000, 200), true, false);
}

TEST_F(PadataBatch, ShellsUseTheInstancesBatchFunctions)
{
	run_split(scaled(5000, 200), true, true);
}

TEST_F(PadataBatch, ClearedFunctionsGiveThePerJobCallbacksBack)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(set(pinst_), 0);
	ASSERT_EQ(padata_set_batch(pinst_, nullptr, nullptr, nullptr, nullptr), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	std::vector<std::unique_ptr<BJob>> jobs;
	for (int i = 0; i < 100; i++) {
		jobs.emplace_back(new BJob);
		PadataBatch_init(*jobs.back(), i);
		ASSERT_EQ(padata_do_parallel_wait(pinst_, &jobs.back()->priv, 0, -1), 0);
	}
	ASSERT_TRUE(wait_until([] { return g_per_job_calls.load() == 200; }));
	std::lock_guard<std::mutex> l(g_mu);
	EXPECT_TRUE(g_parallel_sizes.empty());
	EXPECT_TRUE(g_serial_sizes.empty());
}

TEST_F(PadataBatch, ASerialBatchCountsAsInFlightUntilItReturns)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 1), 0);
	ASSERT_EQ(set(pinst_), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	Gate hold;
	g_hold_serial_batch = &hold;
	BJob a, c;
	init(a, 0);
	init(c, 1);
	ASSERT_EQ(padata_do_parallel(pinst_, &a.priv, 0), 0);
	ASSERT_TRUE(wait_until([] { return g_serial_batch_entered.load(); }));
	/* a's serial batch has begun (a is the caller's again), yet a still
	 * counts until the batch returns: the limit of 1 is reached. */
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, 0), -EBUSY);
	hold.open();
	EXPECT_EQ(padata_do_parallel_wait(pinst_, &c.priv, 0, -1), 0);
	ASSERT_TRUE(wait_until([] {
		std::lock_guard<std::mutex> l(g_mu);
		return g_order.size() == 2;
	}));
	std::lock_guard<std::mutex> l(g_mu);
	EXPECT_EQ(g_order, (std::vector<long>{0, 1}));
}

} // namespace
