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
 * A parallel run leaves its unstarted jobs takeable (padata_batch_claim()):
 * a job that waits for the next one of its own run gets it run elsewhere.
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
	const Gate *wait_for = nullptr; /* parallel() waits for it first */
	Gate *opens = nullptr;          /* parallel() opens it last */
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
/* Batch-class jobs run by a parallel batch (a stolen job is handed twice, run once). */
std::atomic<long> g_parallel_ran{0};

void parallel_batch(struct padata_priv *const *jobs, unsigned int n, struct padata_priv **takeable)
{
	{
		std::lock_guard<std::mutex> l(g_mu);
		g_parallel_sizes.push_back(n);
	}
	for (unsigned int i = 0; i < n; i++) {
		if (i > 0) {
			int claimed = padata_batch_claim(takeable, jobs[i]);
			EXPECT_TRUE(claimed == 0 || claimed == 1) << claimed;
			if (claimed != 1)
				break; /* an idle worker took the rest */
		}
		BJob *j = bjob_of(jobs[i]);
		EXPECT_EQ(j->priv.parallel, &bjob_parallel);
		j->parallel_entered.store(true);
		if (j->wait_for)
			j->wait_for->wait();
		j->parallel_runs.fetch_add(1);
		g_parallel_ran.fetch_add(1);
		if (j->opens)
			j->opens->open();
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
		g_parallel_ran = 0;
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
	/* A job handed in a run may be claimed by an idle worker instead, and
	 * handed again in that worker's run: handed at least once, run once. */
	EXPECT_GE(ps_sum, batch_jobs);
	EXPECT_EQ(g_parallel_ran.load(), batch_jobs);
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

TEST_F(PadataBatch, ClaimAnswersItsErrors)
{
	struct padata_priv a, b;
	std::memset(&a, 0, sizeof(a));
	std::memset(&b, 0, sizeof(b));
	a.next = &b;
	struct padata_priv *takeable = &a;
	EXPECT_EQ(padata_batch_claim(nullptr, &a), -EINVAL);
	EXPECT_EQ(padata_batch_claim(&takeable, nullptr), -EINVAL);
	EXPECT_EQ(padata_batch_claim(&takeable, &b), -EINVAL) << "b is not the next takeable job";
	EXPECT_EQ(takeable, &a) << "a refused claim takes nothing";
	EXPECT_EQ(padata_batch_claim(&takeable, &a), 1);
	EXPECT_EQ(takeable, &b) << "the jobs after a stay takeable";
	EXPECT_EQ(padata_batch_claim(&takeable, &b), 1);
	EXPECT_EQ(takeable, nullptr) << "b was the last";
	EXPECT_EQ(padata_batch_claim(&takeable, &b), 0) << "nothing left: taken";
	EXPECT_EQ(takeable, nullptr) << "a claim of a taken slot leaves no PADATA_BATCH_CLAIMING behind";
	takeable = &a;
	EXPECT_EQ(padata_batch_claim(&takeable, PADATA_BATCH_CLAIMING), -EINVAL) << "the marker is no job";
	EXPECT_EQ(takeable, &a);
}

/*
 * Job a waits in parallel() for job b, the next job of its own run: an idle
 * worker must take b (as it would take the rest of a per-job drain). Made
 * deterministic: both parallel workers are held (x0, x1) while a and b are
 * queued on the first one's CPU, so a and b leave that queue in one
 * exchange, as one run; once a has begun (and x0's and x1's serial() are
 * done), two more jobs wake whichever worker is not running a, and it
 * takes b. With the run not takeable, a
 * waited for b until the gate's hang limit (the test failed).
 */
TEST_F(PadataBatch, AJobWaitingInAParallelRunDoesNotHoldTheRest)
{
	struct cpumask act = active_snapshot();
	std::vector<int> cpus = mask_cpus(&act);
	if (cpus.size() < 2)
		GTEST_SKIP() << "needs two parallel CPUs";
	struct cpumask pcpu = mask_of({cpus[0], cpus[1]});
	struct cpumask cbcpu = mask_of({cpus[0]});
	pinst_ = padata_alloc(wq_, &pcpu, &cbcpu);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(set(pinst_), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	const int cb = cpus[0];
	Gate go, b_ran;
	Job x0, x1, y, w0, w1;
	x0.hold_parallel = &go;
	x1.hold_parallel = &go;
	BJob a, b;
	init(a, 0);
	init(b, 1);
	a.wait_for = &b_ran;
	b.opens = &b_ran;
	/* Round robin over the two CPUs: x0, a, b on cpus[0]; x1, y on cpus[1]. */
	ASSERT_EQ(padata_do_parallel(pinst_, &x0.priv, cb), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &x1.priv, cb), 0);
	ASSERT_TRUE(wait_until([&] { return x0.parallel_entered.load() && x1.parallel_entered.load(); }));
	ASSERT_EQ(padata_do_parallel(pinst_, &a.priv, cb), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &y.priv, cb), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &b.priv, cb), 0);
	go.open();
	/* x0's and x1's serial() done: nothing else can be released before a,
	 * so the worker that runs a w job finds no serial work waiting on its
	 * CPU (it would stop draining for it) and goes on to take b. */
	ASSERT_TRUE(wait_until([&] {
		return a.parallel_entered.load() && x0.serial_runs.load() == 1 && x1.serial_runs.load() == 1;
	}));
	/* One of these lands on the worker that is not in a's run. */
	ASSERT_EQ(padata_do_parallel(pinst_, &w0.priv, cb), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &w1.priv, cb), 0);
	ASSERT_TRUE(wait_done({&x0, &x1, &y, &w0, &w1}));
	ASSERT_TRUE(wait_until([] {
		std::lock_guard<std::mutex> l(g_mu);
		return g_order.size() == 2;
	}));
	EXPECT_EQ(a.parallel_runs.load(), 1);
	EXPECT_EQ(b.parallel_runs.load(), 1);
	std::lock_guard<std::mutex> l(g_mu);
	EXPECT_EQ(g_order, (std::vector<long>{0, 1}));
	EXPECT_TRUE(std::find(g_parallel_sizes.begin(), g_parallel_sizes.end(), 2u) != g_parallel_sizes.end())
		<< "a and b left their queue as one run";
}

} // namespace
