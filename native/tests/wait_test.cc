/* SPDX-License-Identifier: MIT */
/*
 * wait_test.cc - padata_do_parallel_wait() (docs/contract.md, SPEC section 6):
 * its -EINVAL / -EDEADLK / -ETIMEDOUT answers, timeout 0 as
 * padata_do_parallel(), waking when room comes back, stop / free / mask
 * changes while waiting, FIFO admission of many waiters, and the number of
 * wake-ups (fewer than completed jobs: per refill, not per job).
 *
 * "The waiter is asleep" is observed through the submit_sleep test hook
 * (called right before each sleep), never through a sleep of the test.
 */
#include "test_util.h"
#include "../src/test_hooks.h"
#include "../src/sub_mark.h"

#include <climits>
#include <memory>
#include <mutex>

using namespace padata_test;

namespace {

/* Sleeps of waiting submitters; per test thread: has it slept yet? */
std::atomic<int> g_sleeps{0};
std::atomic<int> g_wakes{0};
constexpr int kMaxThreads = 16;
std::atomic<bool> g_slept[kMaxThreads];
thread_local int t_index = -1;

void on_sleep()
{
	g_sleeps.fetch_add(1);
	if (t_index >= 0)
		g_slept[t_index].store(true);
}

void on_wake(uint32_t, uint32_t)
{
	g_wakes.fetch_add(1);
}

class PadataWait : public InstanceTest {
protected:
	PadataWait() : InstanceTest("wait") {}
	void SetUp() override
	{
		InstanceTest::SetUp();
		g_sleeps = 0;
		g_wakes = 0;
		for (auto &s : g_slept)
			s = false;
		__atomic_store_n(&padata_test_hooks.submit_sleep, &on_sleep, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.submit_wake, &on_wake, __ATOMIC_SEQ_CST);
	}
	void TearDown() override
	{
		__atomic_store_n(&padata_test_hooks.submit_sleep, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.submit_wake, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.submit_woken, nullptr, __ATOMIC_SEQ_CST);
		InstanceTest::TearDown();
	}
	/* Started, with @limit jobs in flight at most. */
	struct padata_instance *started_with_limit(unsigned int limit)
	{
		pinst_ = padata_alloc_possible(wq_);
		EXPECT_NE(pinst_, nullptr);
		EXPECT_EQ(padata_set_max_inflight(pinst_, limit), 0);
		EXPECT_EQ(padata_start(pinst_), 0);
		return pinst_;
	}
	/* Fills the limit with jobs held in parallel() until @gate opens. */
	void fill(std::vector<std::unique_ptr<Job>> &held, unsigned int n, const Gate &gate)
	{
		for (unsigned int i = 0; i < n; i++) {
			held.emplace_back(new Job);
			held.back()->hold_parallel = &gate;
			ASSERT_EQ(padata_do_parallel(pinst_, &held.back()->priv, 0), 0);
		}
	}
};

/* A waiter on its own thread; result is INT_MIN until it returned. */
struct Waiter {
	std::atomic<int> result{INT_MIN};
	std::thread thread;
	Waiter(struct padata_instance *pinst, Job *job, int cb_cpu, int timeout_ms, int index = 0)
	{
		thread = std::thread([=] {
			t_index = index;
			result.store(padata_do_parallel_wait(pinst, &job->priv, cb_cpu, timeout_ms));
		});
	}
	bool returned() const { return result.load() != INT_MIN; }
	~Waiter()
	{
		if (thread.joinable())
			thread.join();
	}
};

} /* namespace */

TEST_F(PadataWait, RejectsWhatDoParallelRejects)
{
	Job job;
	for (int timeout : {-1, 0, 100}) {
		SCOPED_TRACE(timeout);
		EXPECT_EQ(padata_do_parallel_wait(nullptr, &job.priv, 0, timeout), -EINVAL);
	}
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	for (int timeout : {-1, 0, 100}) {
		SCOPED_TRACE(timeout);
		EXPECT_EQ(padata_do_parallel_wait(pinst_, nullptr, 0, timeout), -EINVAL);
		/* Not started. */
		EXPECT_EQ(padata_do_parallel_wait(pinst_, &job.priv, 0, timeout), -EINVAL);
	}
	ASSERT_EQ(padata_start(pinst_), 0);
	Job no_cb;
	no_cb.priv.serial = nullptr;
	for (int timeout : {-1, 0, 100}) {
		SCOPED_TRACE(timeout);
		EXPECT_EQ(padata_do_parallel_wait(pinst_, &no_cb.priv, 0, timeout), -EINVAL);
		for (int cpu : {-1, INT_MIN, INT_MAX, static_cast<int>(nr_cpu_ids), NR_CPUS})
			EXPECT_EQ(padata_do_parallel_wait(pinst_, &job.priv, cpu, timeout), -EINVAL);
	}
	EXPECT_EQ(job.parallel_runs.load(), 0);
	EXPECT_EQ(g_sleeps.load(), 0);
}

TEST_F(PadataWait, TimeoutZeroIsExactlyDoParallel)
{
	started_with_limit(1);
	Gate gate;
	std::vector<std::unique_ptr<Job>> held;
	fill(held, 1, gate);
	Job job;
	EXPECT_EQ(padata_do_parallel_wait(pinst_, &job.priv, 0, 0), -EBUSY);
	EXPECT_EQ(padata_do_parallel(pinst_, &job.priv, 0), -EBUSY);
	EXPECT_EQ(g_sleeps.load(), 0) << "timeout 0 must not sleep";
	gate.open();
	ASSERT_TRUE(wait_done({held[0].get()}));
	/* Room: accepted at once. */
	ASSERT_TRUE(wait_until([&] { return padata_do_parallel_wait(pinst_, &job.priv, 0, 0) == 0; }));
	ASSERT_TRUE(wait_done({&job}));
	/* Still in flight -> -EINVAL, as padata_do_parallel. */
	Gate g2;
	Job held2;
	held2.hold_parallel = &g2;
	ASSERT_EQ(padata_do_parallel_wait(pinst_, &held2.priv, 0, 0), 0);
	EXPECT_EQ(padata_do_parallel_wait(pinst_, &held2.priv, 0, 0), -EINVAL);
	g2.open();
	ASSERT_TRUE(wait_done({&held2}));
}

TEST_F(PadataWait, AcceptedOnceRoomComesBack)
{
	started_with_limit(2);
	Gate gate;
	std::vector<std::unique_ptr<Job>> held;
	fill(held, 2, gate);
	Job job;
	Waiter w(pinst_, &job, 0, -1);
	ASSERT_TRUE(wait_until([&] { return g_sleeps.load() > 0; }));
	EXPECT_FALSE(w.returned()) << "no room yet, the waiter must still wait";
	gate.open();
	ASSERT_TRUE(wait_until([&] { return w.returned(); }));
	EXPECT_EQ(w.result.load(), 0);
	ASSERT_TRUE(wait_done({held[0].get(), held[1].get(), &job}));
	EXPECT_EQ(job.parallel_runs.load(), 1);
	EXPECT_EQ(job.serial_runs.load(), 1);
}

TEST_F(PadataWait, TimesOutWithinBoundsAndLeavesTheJobToTheCaller)
{
	started_with_limit(1);
	Gate gate;
	std::vector<std::unique_ptr<Job>> held;
	fill(held, 1, gate);
	Job job;
	for (int timeout : {1, 50}) {
		SCOPED_TRACE(timeout);
		auto t0 = Clock::now();
		EXPECT_EQ(padata_do_parallel_wait(pinst_, &job.priv, 0, timeout), -ETIMEDOUT);
		auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
		EXPECT_GE(ms, timeout);
		EXPECT_LT(ms, 10000) << "a timed wait must end near its deadline";
	}
	EXPECT_GT(g_sleeps.load(), 0);
	EXPECT_EQ(job.parallel_runs.load(), 0);
	gate.open();
	/* The caller still owns it: submit it for real. */
	EXPECT_EQ(padata_do_parallel_wait(pinst_, &job.priv, 0, 10000), 0);
	ASSERT_TRUE(wait_done({held[0].get(), &job}));
}

TEST_F(PadataWait, StopWhileWaitingAnswersEinvalBeforeTheDrain)
{
	started_with_limit(1);
	Gate gate;
	std::vector<std::unique_ptr<Job>> held;
	fill(held, 1, gate);
	Job first, second;
	Waiter w1(pinst_, &first, 0, -1, 0);
	ASSERT_TRUE(wait_until([&] { return g_slept[0].load(); }));
	Waiter w2(pinst_, &second, 0, -1, 1); /* queued behind w1 */
	ASSERT_TRUE(wait_until([&] { return g_slept[1].load(); }));
	std::thread stopper([&] { padata_stop(pinst_); });
	/* The held job keeps the stop from returning; the waiters answer now. */
	ASSERT_TRUE(wait_until([&] { return w1.returned() && w2.returned(); }));
	EXPECT_EQ(w1.result.load(), -EINVAL);
	EXPECT_EQ(w2.result.load(), -EINVAL);
	EXPECT_FALSE(held[0]->done());
	gate.open();
	stopper.join();
	EXPECT_EQ(first.parallel_runs.load() + second.parallel_runs.load(), 0);
}

TEST_F(PadataWait, FreeWhileWaitingWaitsForTheWaiterToLeave)
{
	started_with_limit(1);
	Gate gate;
	std::vector<std::unique_ptr<Job>> held;
	fill(held, 1, gate);
	Job job;
	Waiter w(pinst_, &job, 0, -1);
	ASSERT_TRUE(wait_until([&] { return g_sleeps.load() > 0; }));
	struct padata_instance *p = pinst_;
	pinst_ = nullptr;
	std::thread freer([&] { padata_free(p); });
	ASSERT_TRUE(wait_until([&] { return w.returned(); }));
	EXPECT_EQ(w.result.load(), -EINVAL);
	gate.open();
	freer.join();
	EXPECT_EQ(job.parallel_runs.load(), 0);
}

TEST_F(PadataWait, CbCpuRemovedFromTheSerialMaskWhileWaitingAnswersEinval)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	started_with_limit(1);
	const int cb = last_cpu();
	Gate gate;
	std::vector<std::unique_ptr<Job>> held;
	fill(held, 1, gate);
	Job job;
	Waiter w(pinst_, &job, cb, -1);
	ASSERT_TRUE(wait_until([&] { return g_sleeps.load() > 0; }));

	/* Start the change; once it waits for its drain (CHANGING set), let the
	 * held job finish, which also wakes the waiter into -EBUSY. */
	static std::atomic<int> drain_sleeps;
	drain_sleeps = 0;
	__atomic_store_n(&padata_test_hooks.wait_sleep,
			 +[](struct workqueue_struct *) { drain_sleeps.fetch_add(1); }, __ATOMIC_SEQ_CST);
	struct cpumask cb_mask;
	cpumask_copy(&cb_mask, cpu_possible_mask);
	cpumask_clear_cpu(static_cast<unsigned int>(cb), &cb_mask);
	std::atomic<int> change{1};
	std::thread changer([&] { change = padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &cb_mask); });
	ASSERT_TRUE(wait_until([&] { return drain_sleeps.load() > 0; }));
	__atomic_store_n(&padata_test_hooks.wait_sleep, nullptr, __ATOMIC_SEQ_CST);
	gate.open();
	changer.join();
	EXPECT_EQ(change.load(), 0);
	ASSERT_TRUE(wait_until([&] { return w.returned(); }));
	EXPECT_EQ(w.result.load(), -EINVAL);
	EXPECT_EQ(job.parallel_runs.load(), 0);
}

namespace {
struct BlockingNotifier {
	struct notifier_block nb;
	std::atomic<bool> entered{false};
	Gate release;
	BlockingNotifier()
	{
		nb.notifier_call = call;
		nb.next = nullptr;
		nb.priority = 0;
	}
	static int call(struct notifier_block *nb, unsigned long, void *)
	{
		BlockingNotifier *b = container_of(nb, BlockingNotifier, nb);
		b->entered = true;
		b->release.wait();
		return NOTIFY_OK;
	}
};
} /* namespace */

TEST_F(PadataWait, AMaskChangeInProgressIsWaitedForThenTheJobIsAccepted)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	BlockingNotifier bn;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &bn.nb), 0);
	struct cpumask pmask;
	cpumask_copy(&pmask, cpu_possible_mask);
	cpumask_clear_cpu(static_cast<unsigned int>(last_cpu()), &pmask);
	std::atomic<int> change{1};
	std::thread changer([&] { change = padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &pmask); });
	ASSERT_TRUE(wait_until([&] { return bn.entered.load(); }));
	Job job;
	EXPECT_EQ(padata_do_parallel(pinst_, &job.priv, 0), -EBUSY);
	Waiter w(pinst_, &job, 0, -1);
	ASSERT_TRUE(wait_until([&] { return g_sleeps.load() > 0; }));
	EXPECT_FALSE(w.returned());
	bn.release.open();
	changer.join();
	EXPECT_EQ(change.load(), 0);
	ASSERT_TRUE(wait_until([&] { return w.returned(); }));
	EXPECT_EQ(w.result.load(), 0);
	ASSERT_TRUE(wait_done({&job}));
	EXPECT_NE(job.parallel_cpu.load(), last_cpu());
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &bn.nb), 0);
}

namespace {
struct DeadlockCtx {
	struct padata_instance *pinst;
	Job inner_wait, inner_zero, inner_serial;
	std::atomic<int> from_parallel{INT_MIN};
	std::atomic<int> from_parallel_zero{INT_MIN};
	std::atomic<int> from_serial{INT_MIN};
	std::atomic<int> from_notifier{INT_MIN};
	struct notifier_block nb;
	static int notify(struct notifier_block *nb, unsigned long, void *)
	{
		DeadlockCtx *c = container_of(nb, DeadlockCtx, nb);
		Job j;
		c->from_notifier.store(padata_do_parallel_wait(c->pinst, &j.priv, 0, -1));
		return NOTIFY_OK;
	}
};
} /* namespace */

TEST_F(PadataWait, FromParallelSerialOrANotifierItIsEdeadlk)
{
	started();
	auto ctx = std::make_unique<DeadlockCtx>();
	ctx->pinst = pinst_;
	Job outer;
	outer.ctx = ctx.get();
	outer.on_parallel = [](Job *j) {
		auto *c = static_cast<DeadlockCtx *>(j->ctx);
		c->from_parallel.store(padata_do_parallel_wait(c->pinst, &c->inner_wait.priv, 0, -1));
		/* Timeout 0 is padata_do_parallel: fine from a callback. */
		c->from_parallel_zero.store(padata_do_parallel_wait(c->pinst, &c->inner_zero.priv, 0, 0));
	};
	outer.on_serial = [](Job *j) {
		auto *c = static_cast<DeadlockCtx *>(j->ctx);
		c->from_serial.store(padata_do_parallel_wait(c->pinst, &c->inner_serial.priv, 0, 100));
	};
	ASSERT_EQ(padata_do_parallel(pinst_, &outer.priv, 0), 0);
	ASSERT_TRUE(wait_done({&outer}));
	EXPECT_EQ(ctx->from_parallel.load(), -EDEADLK);
	EXPECT_EQ(ctx->from_parallel_zero.load(), 0);
	EXPECT_EQ(ctx->from_serial.load(), -EDEADLK);
	ASSERT_TRUE(wait_done({&ctx->inner_zero}));
	EXPECT_EQ(ctx->inner_wait.parallel_runs.load() + ctx->inner_serial.parallel_runs.load(), 0);

	if (nr_cpu_ids < 2)
		return;
	ctx->nb.notifier_call = DeadlockCtx::notify;
	ctx->nb.next = nullptr;
	ctx->nb.priority = 0;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &ctx->nb), 0);
	ASSERT_EQ(padata_remove_cpu(pinst_, last_cpu(), PADATA_CPU_PARALLEL), 0);
	EXPECT_EQ(ctx->from_notifier.load(), -EDEADLK);
	ASSERT_EQ(padata_add_cpu(pinst_, last_cpu(), PADATA_CPU_PARALLEL), 0);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &ctx->nb), 0);
}

TEST_F(PadataWait, ManyWaitersAreAllAdmittedInTheOrderTheyCame)
{
	started_with_limit(1);
	Gate gate;
	std::vector<std::unique_ptr<Job>> held;
	fill(held, 1, gate);
	constexpr int kWaiters = 8;
	static std::mutex order_lock;
	static std::vector<int> order;
	order.clear();
	Job jobs[kWaiters];
	std::vector<std::unique_ptr<Waiter>> waiters;
	for (int i = 0; i < kWaiters; i++) {
		jobs[i].id = i;
		jobs[i].on_serial = [](Job *j) {
			std::lock_guard<std::mutex> g(order_lock);
			order.push_back(j->id);
		};
		waiters.emplace_back(new Waiter(pinst_, &jobs[i], 0, -1, i));
		/* Queued (asleep) before the next one comes. */
		ASSERT_TRUE(wait_until([&] { return g_slept[i].load(); }));
	}
	for (auto &w : waiters)
		EXPECT_FALSE(w->returned());
	gate.open();
	for (auto &w : waiters) {
		ASSERT_TRUE(wait_until([&] { return w->returned(); }));
		EXPECT_EQ(w->result.load(), 0);
	}
	std::vector<Job *> all;
	for (auto &j : jobs)
		all.push_back(&j);
	ASSERT_TRUE(wait_done(all));
	std::lock_guard<std::mutex> g(order_lock);
	ASSERT_EQ(order.size(), static_cast<size_t>(kWaiters));
	for (int i = 0; i < kWaiters; i++)
		EXPECT_EQ(order[i], i) << "waiters must be admitted first come, first served";
}

namespace {
struct Light {
	struct padata_priv priv;
	static std::atomic<long> completed;
	static std::atomic<bool> hold_first;
	static void par(struct padata_priv *p)
	{
		/* The first job to run waits until the submitter has slept once, so
		 * that the test always measures refills: a submitter slowed down
		 * (a sanitizer, a busy machine) had found room every time (once in
		 * a TSan run of the whole suite). The limit bounds the wait. */
		if (hold_first.load() && hold_first.exchange(false)) {
			EXPECT_TRUE(wait_until([] { return g_sleeps.load() > 0; }));
		}
		/* A little work, so the submitter outruns the workers. */
		volatile unsigned x = 0;
		for (int i = 0; i < 300; i++)
			x = x + i;
		padata_do_serial(p);
	}
	static void ser(struct padata_priv *) { completed.fetch_add(1); }
};
std::atomic<long> Light::completed{0};
std::atomic<bool> Light::hold_first{false};
} /* namespace */

TEST_F(PadataWait, WakeUpsArePerRefillNotPerCompletedJob)
{
	constexpr unsigned int kLimit = 32;
	started_with_limit(kLimit);
	const long n = scaled(20000, 2000);
	std::vector<Light> jobs(static_cast<size_t>(n));
	Light::completed = 0;
	Light::hold_first = true;
	run_bounded("a submitter using padata_do_parallel_wait", [&] {
		for (long i = 0; i < n; i++) {
			Light &j = jobs[static_cast<size_t>(i)];
			std::memset(&j.priv, 0, sizeof(j.priv));
			j.priv.parallel = Light::par;
			j.priv.serial = Light::ser;
			ASSERT_EQ(padata_do_parallel_wait(pinst_, &j.priv, static_cast<int>(i % 2 ? 0 : last_cpu()), -1), 0);
		}
	});
	ASSERT_TRUE(wait_until([&] { return Light::completed.load() == n; }));
	long wakes = g_wakes.load(), sleeps = g_sleeps.load();
	std::printf("jobs %ld, submitter sleeps %ld, low-water wake-ups %ld\n", n, sleeps, wakes);
	EXPECT_GT(sleeps, 0) << "the submitter never waited: the test proves nothing";
	/* Each low-water wake-up finds at most 7/8 of the limit in flight, so the
	 * submitter admits at least limit/8 jobs before it sleeps again (at most
	 * two wake-ups per refill: one per try of the waiting thread); where the
	 * pipeline runs dry during every wake-up, the mark mostly holds at half
	 * (sub_mark.h), 0.43 * limit jobs per refill on average. */
	EXPECT_LE(wakes, 2 * (n / (kLimit / 8 - 1)) + 2);
	EXPECT_LT(wakes * 4, n) << "wake-ups must be far fewer than completed jobs";
}

namespace {
/* A job of the concurrency test: per (submitter, cb_cpu) FIFO checked in serial(). */
struct Tracked {
	struct padata_priv priv;
	int submitter = 0;
	uint64_t index = 0;
	std::atomic<int> serial_runs{0};
};
struct Lanes {
	std::mutex lock;
	std::vector<uint64_t> next; /* [submitter * NR_CPUS + cb] */
	std::atomic<long> errors{0};
	std::atomic<long> done{0};
};
Lanes *g_lanes;
} /* namespace */

TEST_F(PadataWait, ConcurrentWaitersSurviveStopStartMaskChangesAndTimeouts)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	started_with_limit(4);
	constexpr int kSubmitters = 3;
	const long per = scaled(3000, 200);
	Lanes lanes;
	lanes.next.assign(kSubmitters * NR_CPUS, 0);
	g_lanes = &lanes;
	std::vector<std::vector<Tracked>> jobs(kSubmitters);
	for (auto &v : jobs)
		v = std::vector<Tracked>(static_cast<size_t>(per));
	std::atomic<int> finished{0};
	std::atomic<long> accepted{0}, timeouts{0}, refused{0};
	const int cb_a = 0, cb_b = last_cpu();

	run_bounded("waiting submitters with stop/start and mask changes", [&] {
		std::vector<std::thread> subs;
		/* Per (submitter, cb) the next index to hand out. */
		for (int s = 0; s < kSubmitters; s++) {
			subs.emplace_back([&, s] {
				Rng rng(static_cast<uint64_t>(s) + 1);
				std::vector<uint64_t> idx(NR_CPUS, 0);
				for (long i = 0; i < per; i++) {
					Tracked &j = jobs[s][static_cast<size_t>(i)];
					for (;;) {
						int cb = rng.below(2) ? cb_a : cb_b;
						std::memset(&j.priv, 0, sizeof(j.priv));
						j.priv.parallel = [](struct padata_priv *p) { padata_do_serial(p); };
						j.priv.serial = [](struct padata_priv *p) {
							Tracked *t = container_of(p, Tracked, priv);
							int c = padata_current_cpu();
							std::lock_guard<std::mutex> g(g_lanes->lock);
							uint64_t &n = g_lanes->next[t->submitter * NR_CPUS + c];
							if (t->index != n)
								g_lanes->errors++;
							n = t->index + 1;
							t->serial_runs++;
							g_lanes->done++;
						};
						j.submitter = s;
						j.index = idx[cb];
						int timeout = rng.below(4) == 0 ? 1 : -1;
						int rc = padata_do_parallel_wait(pinst_, &j.priv, cb, timeout);
						if (rc == 0) {
							idx[cb]++;
							accepted++;
							break;
						}
						if (rc == -ETIMEDOUT)
							timeouts++;
						else if (rc == -EINVAL)
							refused++; /* stopped or cb_cpu removed: try again */
						else
							ADD_FAILURE() << "unexpected " << rc;
						std::this_thread::yield();
					}
				}
				finished++;
			});
		}
		/* Faults until the submitters are done. */
		Rng rng(99);
		struct cpumask all_but_b;
		cpumask_copy(&all_but_b, cpu_possible_mask);
		cpumask_clear_cpu(static_cast<unsigned int>(cb_b), &all_but_b);
		while (finished.load() < kSubmitters) {
			switch (rng.below(3)) {
			case 0:
				padata_stop(pinst_);
				std::this_thread::yield();
				EXPECT_EQ(padata_start(pinst_), 0);
				break;
			case 1:
				EXPECT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &all_but_b), 0);
				std::this_thread::yield();
				EXPECT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL,
							     const_cast<struct cpumask *>(cpu_possible_mask)), 0);
				break;
			default:
				EXPECT_EQ(padata_remove_cpu(pinst_, 0, PADATA_CPU_PARALLEL), 0);
				EXPECT_EQ(padata_add_cpu(pinst_, 0, PADATA_CPU_PARALLEL), 0);
				break;
			}
			std::this_thread::sleep_for(std::chrono::microseconds(200));
		}
		for (auto &t : subs)
			t.join();
		padata_stop(pinst_);
	});
	EXPECT_EQ(accepted.load(), kSubmitters * per);
	EXPECT_EQ(lanes.done.load(), kSubmitters * per);
	EXPECT_EQ(lanes.errors.load(), 0) << "serial() out of order within a (submitter, cb_cpu) lane";
	for (auto &v : jobs)
		for (auto &j : v)
			ASSERT_EQ(j.serial_runs.load(), 1);
	struct padata_stats st;
	ASSERT_EQ(padata_get_stats(pinst_, &st), 0);
	EXPECT_EQ(st.accepted, static_cast<uint64_t>(kSubmitters * per));
	EXPECT_EQ(st.completed, st.accepted);
	EXPECT_EQ(st.waiting_submitters, 0u);
	std::printf("accepted %ld, timeouts %ld, -EINVAL while stopped/cb removed %ld\n", accepted.load(),
		    timeouts.load(), refused.load());
}

/* ---- the low-water mark (sub_mark.h) ------------------------------------ */

TEST(SubmitterMark, StartsAtHalfTheLimitAndNeverPassesSevenEighths)
{
	EXPECT_EQ(padata__submark(1000, 0), 500u);
	EXPECT_EQ(padata__submark(128, 0), 64u);
	EXPECT_EQ(padata__submark(128, 3), 112u);
	EXPECT_EQ(padata__submark(128, PADATA_SUBMARK_HOLD << 2), 64u) << "holding is at half";
	for (uint32_t limit : { 1u, 2u, 3u, 7u, 8u, 64u, 1000u, 0xffffffffu })
		for (uint32_t state = 0; state < 64; state++)
			EXPECT_LT(padata__submark(limit, state), limit) << "limit " << limit;
}

TEST(SubmitterMark, APipelineFoundDryRaisesItOneEighthAtATimeUpToSevenEighths)
{
	uint32_t state = 0;
	for (int i = 0; i < 3; i++) {
		state = padata__submark_next(state, 0, 128);
		EXPECT_EQ(state, static_cast<uint32_t>(i + 1));
	}
	EXPECT_EQ(padata__submark(128, state), 112u);
	EXPECT_EQ(padata__submark_next(0, 16, 128), 1u) << "limit/8 left counts as dry";
}

TEST(SubmitterMark, DryEvenAtSevenEighthsHoldsAtHalfForEightWakeUpsThenTriesAgain)
{
	uint32_t state = padata__submark_next(3, 0, 128);
	EXPECT_EQ(padata__submark(128, state), 64u);
	for (uint32_t i = 0; i < PADATA_SUBMARK_HOLD; i++) {
		state = padata__submark_next(state, 0, 128);
		EXPECT_EQ(padata__submark(128, state), 64u) << "wake-up " << i << " of the hold";
	}
	state = padata__submark_next(state, 0, 128);
	EXPECT_EQ(padata__submark(128, state), 80u) << "after the hold it rises again";
}

TEST(SubmitterMark, AWakeUpThatCostNothingLowersItBackToHalf)
{
	/* At 7/8 of 128 (112): 96 or more still in flight when the submitter ran. */
	EXPECT_EQ(padata__submark_next(3, 96, 128), 2u);
	EXPECT_EQ(padata__submark_next(3, 95, 128), 3u);
	EXPECT_EQ(padata__submark_next(1, 80, 128), 0u);
	EXPECT_EQ(padata__submark_next(0, 64, 128), 0u);
	/* In between: it stays (no see-saw between two marks). */
	EXPECT_EQ(padata__submark_next(2, 64, 128), 2u);
	EXPECT_EQ(padata__submark_next(1, 17, 128), 1u);
}

TEST(SubmitterMark, TheDefaultLimitWithTimeToSpareStaysAtHalf)
{
	/* The aes-gcm measurement at limit 1000: 461 in flight at the wake-up,
	 * 445 when the submitter ran. */
	EXPECT_EQ(padata__submark_next(0, 445, 1000), 0u);
}

namespace {
/*
 * The mark test's job i completes (padata_do_serial(), from whichever of its
 * parallel() and the allowing thread comes second: parallel() never blocks a
 * worker, whose CPU's serial work would wait behind it) only once
 * i < g_allowed. While the submitter sleeps, jobs complete one at a time: its
 * sleep hook allows the oldest job in flight, and each serial() allows the
 * next one. So the serial
 * worker wakes the submitter exactly at the mark, and once the wake-up has
 * stopped the chain at most one more job completes before the submitter
 * looks (phase 2: in flight at the mark when it runs). In phase 1 the
 * submitter's wake-up is slow: its woken hook lets every job run and waits
 * until none is in flight, as if the scheduler had kept it waiting.
 */
std::atomic<long> g_allowed{0};
std::atomic<long> g_submitting{0}; /* the index being submitted */
struct Gated;
std::vector<Gated> *g_jobs;
std::atomic<bool> g_asleep{false};
std::atomic<int> g_phase{1};
std::atomic<struct padata_instance *> g_mark_pinst{nullptr};
std::mutex g_marks_lock;
std::vector<uint32_t> g_marks;

void allow_up_to(long n);

struct Gated {
	struct padata_priv priv;
	long index;
	std::atomic<int> state{0}; /* 1: parallel() ran; 2: allowed */
	static std::atomic<long> completed;
	static void par(struct padata_priv *p)
	{
		Gated *g = container_of(p, Gated, priv);
		if (g->state.fetch_or(1) == 2)
			padata_do_serial(p);
	}
	static void ser(struct padata_priv *p)
	{
		long i = container_of(p, Gated, priv)->index;
		completed.fetch_add(1);
		if (g_asleep.load())
			allow_up_to(i + 2);
	}
};
std::atomic<long> Gated::completed{0};

void allow_up_to(long n)
{
	if (n > static_cast<long>(g_jobs->size()))
		n = static_cast<long>(g_jobs->size());
	long a = g_allowed.load();
	while (a < n) {
		if (g_allowed.compare_exchange_weak(a, n)) {
			for (long j = a; j < n; j++) {
				Gated &g = (*g_jobs)[static_cast<size_t>(j)];
				if (g.state.fetch_or(2) == 1)
					padata_do_serial(&g.priv);
			}
			return;
		}
	}
}

void mark_sleep()
{
	g_sleeps.fetch_add(1);
	g_asleep.store(true);
	allow_up_to(Gated::completed.load() + 1);
}

void mark_wake(uint32_t in_flight, uint32_t mark)
{
	EXPECT_LE(in_flight, mark);
	g_asleep.store(false); /* the chain stops */
	std::lock_guard<std::mutex> l(g_marks_lock);
	g_marks.push_back(mark);
	if (g_marks.size() == 14) /* see the test */
		g_phase.store(2);
}

void mark_woken()
{
	if (g_phase.load() != 1)
		return;
	allow_up_to(g_submitting.load()); /* every job accepted so far */
	bool dry = wait_until([] {
		struct padata_stats st;
		return padata_get_stats(g_mark_pinst.load(), &st) == 0 && st.in_flight == 0;
	});
	EXPECT_TRUE(dry);
}
} /* namespace */

TEST_F(PadataWait, TheLowWaterMarkRisesWhenWakeUpsComeTooLateAndFallsWhenTheyCostNothing)
{
	const unsigned int limit = 64;
	started_with_limit(limit);
	g_mark_pinst = pinst_;
	g_allowed = 0;
	g_asleep = false;
	g_phase = 1;
	g_marks.clear();
	Gated::completed = 0;
	__atomic_store_n(&padata_test_hooks.submit_sleep, &mark_sleep, __ATOMIC_SEQ_CST);
	__atomic_store_n(&padata_test_hooks.submit_wake, &mark_wake, __ATOMIC_SEQ_CST);
	__atomic_store_n(&padata_test_hooks.submit_woken, &mark_woken, __ATOMIC_SEQ_CST);
	const long n = 24L * limit;
	std::vector<Gated> jobs(static_cast<size_t>(n));
	g_jobs = &jobs;
	run_bounded("a submitter using padata_do_parallel_wait", [&] {
		for (long i = 0; i < n; i++) {
			g_submitting = i;
			Gated &j = jobs[static_cast<size_t>(i)];
			std::memset(&j.priv, 0, sizeof(j.priv));
			j.priv.parallel = Gated::par;
			j.priv.serial = Gated::ser;
			j.index = i;
			ASSERT_EQ(padata_do_parallel_wait(pinst_, &j.priv, 0, -1), 0);
		}
	});
	allow_up_to(LONG_MAX);
	ASSERT_TRUE(wait_until([&] { return Gated::completed.load() == n; }));
	__atomic_store_n(&padata_test_hooks.submit_woken, nullptr, __ATOMIC_SEQ_CST);
	/* Phase 1 (wake-ups 1-13, the pipeline dry every time): up by an eighth
	 * to 7/8, dry there too, so nine wake-ups at half (the hold), then up
	 * again; phase 2 (from the 14th, nothing left to finish): back down. */
	const uint32_t half = limit / 2, step = limit / 8;
	std::vector<uint32_t> want = { half, half + step, half + 2 * step, half + 3 * step };
	want.insert(want.end(), PADATA_SUBMARK_HOLD + 1, half);
	want.insert(want.end(), { half + step, half, half });
	std::lock_guard<std::mutex> l(g_marks_lock);
	ASSERT_GE(g_marks.size(), want.size()) << "too few low-water wake-ups";
	std::vector<uint32_t> got(g_marks.begin(), g_marks.begin() + static_cast<long>(want.size()));
	EXPECT_EQ(got, want);
}
