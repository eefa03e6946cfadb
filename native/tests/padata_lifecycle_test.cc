/* SPDX-License-Identifier: MIT */
/*
 * padata_lifecycle_test.cc - lifecycle and notifier defects of issue 8, one
 * test each:
 *
 *   1. padata_free() must not return while a callback that released jobs
 *      is between pushing them onto an empty serial queue and its
 *      queue_work_on() (which would re-arm a work item in freed memory);
 *   2. notifiers run while submissions still get -EBUSY, and without the
 *      hotplug lock held;
 *   3. padata_alloc()/padata_free() from a notifier are refused, never a
 *      hang or a corrupted hotplug lock;
 *   4. padata_alloc()/padata_free() from parallel() while a mask change or
 *      cpu_down() drains that instance are refused, never a deadlock;
 *   8. padata_start() racing padata_set_max_inflight() accepts no job
 *      while the ring is being replaced.
 *
 * The races are widened deterministically, with no sleep: this executable
 * links the static library with -Wl,--wrap= of queue_work_on, flush_work
 * and padata__wq_wait (the library's internal "wait for a condition"), so
 * a test can stop a thread exactly between two steps of the library and
 * let it go on when the other side has reached a known point. The wraps do
 * nothing unless a test arms them. Hangs of the old code end the process
 * through run_bounded() with a "HANG:" line naming the call.
 */
#include "test_util.h"

#include <mutex>
#include <set>

using namespace padata_test;

/* ---- the wraps -------------------------------------------------------- */

extern "C" {
bool __real_padata_queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work);
bool __real_padata_flush_work(struct work_struct *work);
void __real_padata__wq_wait(struct workqueue_struct *wq, bool (*cond)(void *), void *arg);
bool __wrap_padata_queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work);
bool __wrap_padata_flush_work(struct work_struct *work);
void __wrap_padata__wq_wait(struct workqueue_struct *wq, bool (*cond)(void *), void *arg);
}

namespace {

/* Test 1: a releaser's queue_work_on() held until padata_free() is known
 * to have either returned or blocked on something. */
thread_local bool t_hold_next_queue; /* set by the releasing callback */
std::atomic<bool> g_free_armed{false};   /* padata_free() in progress */
std::atomic<bool> g_free_blocked{false}; /* it waits for something not yet done */
std::atomic<bool> g_free_returned{false};
std::atomic<bool> g_held{false};         /* the releaser is held in the wrap */
std::atomic<bool> g_rearmed_flushed{false};
std::atomic<bool> g_release_done{false};
std::mutex g_flushed_lock;
std::set<struct work_struct *> g_flushed; /* flushed by the armed padata_free() */
const Gate *g_on_hold = nullptr;          /* opened when the releaser is held */
const std::function<bool()> *g_hold_until = nullptr;

/* Test 8: run once inside the next drain wait or flush of a library call. */
std::function<void()> g_in_wait_hook;
std::mutex g_hook_lock;

void run_hook_once()
{
	std::function<void()> f;
	{
		std::lock_guard<std::mutex> g(g_hook_lock);
		f.swap(g_in_wait_hook);
	}
	if (f)
		f();
}

} /* namespace */

bool __wrap_padata_queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work)
{
	if (!t_hold_next_queue)
		return __real_padata_queue_work_on(cpu, wq, work);
	t_hold_next_queue = false;
	g_held.store(true);
	if (g_on_hold)
		const_cast<Gate *>(g_on_hold)->open();
	if (!wait_until(*g_hold_until))
		ADD_FAILURE() << "the held releaser was never let go";
	bool flushed;
	{
		std::lock_guard<std::mutex> g(g_flushed_lock);
		flushed = g_flushed.count(work) != 0;
	}
	bool r = false;
	if (flushed)
		g_rearmed_flushed.store(true); /* the old code: do not really use freed memory */
	else
		r = __real_padata_queue_work_on(cpu, wq, work);
	g_release_done.store(true);
	return r;
}

bool __wrap_padata_flush_work(struct work_struct *work)
{
	run_hook_once();
	if (g_free_armed.load() && __atomic_load_n(&work->data, __ATOMIC_SEQ_CST) != 0)
		g_free_blocked.store(true);
	bool r = __real_padata_flush_work(work);
	if (g_free_armed.load()) {
		std::lock_guard<std::mutex> g(g_flushed_lock);
		g_flushed.insert(work);
	}
	return r;
}

void __wrap_padata__wq_wait(struct workqueue_struct *wq, bool (*cond)(void *), void *arg)
{
	run_hook_once();
	if (g_free_armed.load() && !cond(arg))
		g_free_blocked.store(true);
	__real_padata__wq_wait(wq, cond, arg);
}

namespace {

bool have_two_cpus()
{
	struct cpumask a = active_snapshot();
	return nr_cpu_ids >= 2 && cpumask_test_cpu(0, &a) && cpumask_test_cpu(1, &a);
}

class Lifecycle : public ::testing::Test {
protected:
	void SetUp() override
	{
		wq_ = create_workqueue("lifecycle");
		ASSERT_NE(wq_, nullptr);
	}
	void TearDown() override
	{
		padata_free(pinst_);
		pinst_ = nullptr;
		destroy_workqueue(wq_);
		restore_all_cpus();
	}
	struct padata_instance *alloc_started(const struct cpumask &p, const struct cpumask &cb)
	{
		struct padata_instance *pi = padata_alloc(wq_, &p, &cb);
		EXPECT_NE(pi, nullptr);
		if (pi) {
			EXPECT_EQ(padata_start(pi), 0);
		}
		return pi;
	}
	struct workqueue_struct *wq_ = nullptr;
	struct padata_instance *pinst_ = nullptr;
};

/* ---- 1. use-after-free in padata_free -------------------------------- */

/*
 * Job A runs serial() on CPU 0 and holds it there; job B's parallel() (on
 * CPU 1) then releases B onto CPU 0's serial queue, which the busy serial
 * worker has emptied, so B's releaser owes that queue a queue_work_on().
 * The wrap holds it before the call. A's serial() goes on, the serial
 * worker finds B and runs it: nothing is in flight any more. padata_free()
 * starts; the releaser is let go only once padata_free() is blocked (on
 * the releaser's reference, with the fix; on flushing the releaser's own
 * parallel item, after it already flushed CPU 0's serial item, without).
 */
TEST_F(Lifecycle, FreeWaitsForAReleaserBetweenPushAndQueueWorkOn)
{
	if (!have_two_cpus())
		GTEST_SKIP() << "needs CPUs 0 and 1 active";
	pinst_ = alloc_started(mask_of({1}), mask_of({0}));
	ASSERT_NE(pinst_, nullptr);

	g_free_blocked = false; /* --gtest_repeat */
	g_free_returned = false;
	g_held = false;
	g_rearmed_flushed = false;
	g_release_done = false;
	{
		std::lock_guard<std::mutex> g(g_flushed_lock);
		g_flushed.clear();
	}
	Gate a_serial_started, b_held;
	std::function<bool()> until = [] { return g_free_blocked.load() || g_free_returned.load(); };
	g_on_hold = &b_held;
	g_hold_until = &until;

	Job a, b;
	a.ctx = &a_serial_started;
	b.ctx = &a_serial_started;
	a.on_serial = [](Job *j) {
		static_cast<Gate *>(j->ctx)->open();
		g_on_hold->wait();
	};
	b.on_parallel = [](Job *j) {
		static_cast<Gate *>(j->ctx)->wait();
		t_hold_next_queue = true; /* B's own padata_do_serial() releases it */
	};
	ASSERT_EQ(padata_do_parallel(pinst_, &a.priv, 0), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &b.priv, 0), 0);
	ASSERT_TRUE(b_held.wait());
	ASSERT_TRUE(wait_done({&a, &b})) << "the running serial worker did not pick B up";

	run_bounded("padata_free with a releaser held before queue_work_on", [&] {
		g_free_armed.store(true);
		padata_free(pinst_);
		g_free_returned.store(true);
		g_free_armed.store(false);
	});
	pinst_ = nullptr;
	ASSERT_TRUE(wait_until([] { return g_release_done.load(); }));
	EXPECT_FALSE(g_rearmed_flushed.load())
		<< "padata_free() flushed a serial work item and returned while a releaser was "
		   "still going to queue it: queue_work_on() re-armed it in freed memory";
	g_on_hold = nullptr;
	g_hold_until = nullptr;
}

/* ---- 2. notifiers: submissions refused, no hotplug lock held ---------- */

struct BusyProbe {
	struct notifier_block nb;
	struct padata_instance *pinst;
	Job job;
	std::atomic<int> calls{0};
	std::atomic<int> rc{1};
};

int busy_probe_cb(struct notifier_block *nb, unsigned long, void *)
{
	BusyProbe *p = container_of(nb, BusyProbe, nb);
	p->calls.fetch_add(1);
	p->job.reset();
	p->rc.store(padata_do_parallel(p->pinst, &p->job.priv, 0));
	return NOTIFY_OK;
}

TEST_F(Lifecycle, SubmissionsDuringTheNotifierChainGetEbusy)
{
	if (!have_two_cpus())
		GTEST_SKIP() << "needs CPUs 0 and 1 active";
	pinst_ = alloc_started(mask_of({0, 1}), mask_of({0, 1}));
	ASSERT_NE(pinst_, nullptr);
	BusyProbe p;
	std::memset(&p.nb, 0, sizeof(p.nb));
	p.nb.notifier_call = busy_probe_cb;
	p.pinst = pinst_;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &p.nb), 0);

	struct cpumask one = mask_of({0});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &one), 0);
	ASSERT_EQ(p.calls.load(), 1);
	EXPECT_EQ(p.rc.load(), -EBUSY) << "a job was accepted while a notifier ran (mask change)";
	if (p.rc.load() == 0) {
		ASSERT_TRUE(wait_done({&p.job}));
	}

	ASSERT_EQ(cpu_down(1), 0); /* serial mask {0,1} -> {0} */
	ASSERT_EQ(p.calls.load(), 2);
	EXPECT_EQ(p.rc.load(), -EBUSY) << "a job was accepted while a notifier ran (cpu_down)";
	if (p.rc.load() == 0) {
		ASSERT_TRUE(wait_done({&p.job}));
	}
	ASSERT_EQ(cpu_up(1), 0);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &p.nb), 0);

	/* After the chain, jobs are accepted again. */
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	EXPECT_TRUE(wait_done({&j}));
}

struct WaitsForAlloc {
	struct notifier_block nb;
	struct workqueue_struct *wq;
	std::atomic<int> ok{0};
};

int waits_for_alloc_cb(struct notifier_block *nb, unsigned long, void *)
{
	WaitsForAlloc *w = container_of(nb, WaitsForAlloc, nb);
	std::thread t([w] {
		struct padata_instance *other = padata_alloc_possible(w->wq);
		if (other) {
			padata_free(other);
			w->ok.fetch_add(1);
		}
	});
	t.join();
	return NOTIFY_OK;
}

/* A notifier may wait for another thread that allocates and frees an
 * instance: the hotplug lock is not held while notifiers run. */
TEST_F(Lifecycle, NotifierMayWaitForAnotherThreadsAllocAndFree)
{
	if (!have_two_cpus())
		GTEST_SKIP() << "needs CPUs 0 and 1 active";
	pinst_ = alloc_started(mask_of({0, 1}), mask_of({0, 1}));
	ASSERT_NE(pinst_, nullptr);
	WaitsForAlloc w;
	std::memset(&w.nb, 0, sizeof(w.nb));
	w.nb.notifier_call = waits_for_alloc_cb;
	w.wq = wq_;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &w.nb), 0);
	struct cpumask one = mask_of({0});
	run_bounded("padata_set_cpumask whose notifier waits for padata_alloc on another thread",
		    [&] { EXPECT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &one), 0); });
	run_bounded("cpu_down whose notifier waits for padata_alloc on another thread",
		    [&] { EXPECT_EQ(cpu_down(1), 0); });
	EXPECT_EQ(w.ok.load(), 2);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &w.nb), 0);
}

/* ---- 3. alloc/free from a notifier ------------------------------------ */

struct LifecycleInNotifier {
	struct notifier_block nb;
	struct workqueue_struct *wq;
	struct padata_instance *victim; /* freed from the notifier (refused) */
	std::atomic<int> calls{0};
	std::atomic<bool> alloc_refused{true};
};

int lifecycle_in_notifier_cb(struct notifier_block *nb, unsigned long, void *)
{
	LifecycleInNotifier *l = container_of(nb, LifecycleInNotifier, nb);
	l->calls.fetch_add(1);
	errno = 0;
	struct padata_instance *pi = padata_alloc_possible(l->wq);
	if (pi || errno != EDEADLK)
		l->alloc_refused.store(false);
	/* pi is leaked on purpose when the old code returns one: freeing it
	 * here would hang or corrupt the hotplug lock further. */
	padata_free(l->victim);
	return NOTIFY_OK;
}

void lifecycle_in_notifier(struct workqueue_struct *wq, struct padata_instance *pinst,
			   const std::function<int()> &change, const char *what)
{
	LifecycleInNotifier l;
	std::memset(&l.nb, 0, sizeof(l.nb));
	l.nb.notifier_call = lifecycle_in_notifier_cb;
	l.wq = wq;
	l.victim = padata_alloc_possible(wq);
	ASSERT_NE(l.victim, nullptr);
	ASSERT_EQ(padata_register_cpumask_notifier(pinst, &l.nb), 0);

	::testing::internal::CaptureStderr();
	run_bounded(what, [&] { EXPECT_EQ(change(), 0); });
	std::string err = ::testing::internal::GetCapturedStderr();
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst, &l.nb), 0);

	EXPECT_EQ(l.calls.load(), 1);
	EXPECT_TRUE(l.alloc_refused.load())
		<< "padata_alloc from a notifier (" << what << ") was not refused with EDEADLK";
	char addr[32];
	std::snprintf(addr, sizeof(addr), "%p", static_cast<void *>(l.victim));
	bool refused = err.find("padata_free(") != std::string::npos &&
		       err.find(addr) != std::string::npos;
	EXPECT_TRUE(refused) << "padata_free from a notifier (" << what
			     << ") was not refused; stderr was: " << err;
	if (refused) {
		/* Still a live, working instance. */
		EXPECT_EQ(padata_start(l.victim), 0);
		Job j;
		EXPECT_EQ(submit_retry(l.victim, &j, 0), 0);
		EXPECT_TRUE(wait_done({&j}));
		padata_free(l.victim);
	}
	/* The hotplug lock still works both ways. */
	run_bounded("padata_alloc after the notifier", [&] {
		struct padata_instance *pi = padata_alloc_possible(wq);
		EXPECT_NE(pi, nullptr);
		padata_free(pi);
	});
}

TEST_F(Lifecycle, AllocAndFreeFromANotifierOfCpuDownAreRefused)
{
	if (!have_two_cpus())
		GTEST_SKIP() << "needs CPUs 0 and 1 active";
	pinst_ = alloc_started(mask_of({0, 1}), mask_of({0, 1}));
	ASSERT_NE(pinst_, nullptr);
	lifecycle_in_notifier(wq_, pinst_, [] { return cpu_down(1); }, "cpu_down");
}

TEST_F(Lifecycle, AllocAndFreeFromANotifierOfAMaskChangeAreRefused)
{
	if (!have_two_cpus())
		GTEST_SKIP() << "needs CPUs 0 and 1 active";
	pinst_ = alloc_started(mask_of({0, 1}), mask_of({0, 1}));
	ASSERT_NE(pinst_, nullptr);
	struct padata_instance *pi = pinst_;
	lifecycle_in_notifier(wq_, pinst_, [pi] {
		struct cpumask one = mask_of({0});
		return padata_set_cpumask(pi, PADATA_CPU_PARALLEL, &one);
	}, "padata_set_cpumask");
}

/* ---- 4 and 8. alloc/free from parallel() during a drain ---------------- */

/*
 * parallel() of one job waits until a change has begun to drain (the wrap
 * of the library's drain wait opens a gate), so the change waits for this
 * very callback; it then calls padata_alloc() and padata_free() of another
 * instance: both must be refused at once.
 */
struct InCallback {
	struct padata_instance *pinst;
	struct workqueue_struct *wq;
	struct padata_instance *victim;
	Gate draining;
	std::atomic<int> alloc_errno{-1};
	std::atomic<bool> alloc_returned_instance{false};
};

InCallback *g_in_cb;

void lifecycle_from_parallel(Job *)
{
	InCallback *c = g_in_cb;
	c->draining.wait();
	errno = 0;
	struct padata_instance *pi = padata_alloc_possible(c->wq);
	c->alloc_errno.store(errno);
	c->alloc_returned_instance.store(pi != nullptr); /* leaked by the old code */
	padata_free(c->victim);
}

void alloc_free_from_parallel_during(struct workqueue_struct *wq, struct padata_instance *pinst,
				     const std::function<int()> &change, const char *what)
{
	InCallback c;
	c.pinst = pinst;
	c.wq = wq;
	c.victim = padata_alloc_possible(wq);
	ASSERT_NE(c.victim, nullptr);
	g_in_cb = &c;
	Job j;
	j.on_parallel = lifecycle_from_parallel;
	{
		std::lock_guard<std::mutex> g(g_hook_lock);
		g_in_wait_hook = [] { g_in_cb->draining.open(); };
	}

	::testing::internal::CaptureStderr();
	run_bounded(what, [&] {
		ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0);
		EXPECT_EQ(change(), 0);
		EXPECT_TRUE(wait_done({&j}));
	});
	std::string err = ::testing::internal::GetCapturedStderr();
	{
		std::lock_guard<std::mutex> g(g_hook_lock);
		g_in_wait_hook = nullptr;
	}
	EXPECT_FALSE(c.alloc_returned_instance.load());
	EXPECT_EQ(c.alloc_errno.load(), EDEADLK) << "padata_alloc from parallel() during " << what;
	char addr[32];
	std::snprintf(addr, sizeof(addr), "%p", static_cast<void *>(c.victim));
	EXPECT_NE(err.find(addr), std::string::npos)
		<< "padata_free from parallel() was not reported; stderr was: " << err;
	padata_free(c.victim);
	g_in_cb = nullptr;
}

TEST_F(Lifecycle, AllocAndFreeFromParallelWhileAMaskChangeDrainsAreRefused)
{
	if (!have_two_cpus())
		GTEST_SKIP() << "needs CPUs 0 and 1 active";
	pinst_ = alloc_started(mask_of({0, 1}), mask_of({0, 1}));
	ASSERT_NE(pinst_, nullptr);
	struct padata_instance *pi = pinst_;
	alloc_free_from_parallel_during(wq_, pinst_, [pi] {
		struct cpumask one = mask_of({1});
		int rc = -1;
		std::thread t([&] { rc = padata_set_cpumask(pi, PADATA_CPU_PARALLEL, &one); });
		t.join();
		return rc;
	}, "padata_set_cpumask");
}

TEST_F(Lifecycle, AllocAndFreeFromParallelWhileCpuDownDrainsAreRefused)
{
	if (!have_two_cpus())
		GTEST_SKIP() << "needs CPUs 0 and 1 active";
	pinst_ = alloc_started(mask_of({0, 1}), mask_of({0, 1}));
	ASSERT_NE(pinst_, nullptr);
	alloc_free_from_parallel_during(wq_, pinst_, [] {
		int rc = -1;
		std::thread t([&] { rc = cpu_down(1); });
		t.join();
		return rc;
	}, "cpu_down");
}

/* ---- 8. padata_start during padata_set_max_inflight ------------------ */

/*
 * padata_start() takes no lock. Inside padata_set_max_inflight(), after it
 * checked "stopped" and while it drains and flushes before replacing the
 * ring, the hook starts the instance and submits: the job must be refused
 * (-EBUSY) until the new ring is in place, then accepted as usual.
 */
TEST_F(Lifecycle, StartDuringSetMaxInflightAcceptsNoJobUntilTheRingIsReplaced)
{
	struct cpumask all;
	cpumask_copy(&all, cpu_active_mask);
	pinst_ = padata_alloc(wq_, &all, &all);
	ASSERT_NE(pinst_, nullptr);
	int cb = cpumask_first(&all);

	Job j;
	std::atomic<int> rc{1};
	int calls = 0;
	struct padata_instance *pi = pinst_;
	{
		std::lock_guard<std::mutex> g(g_hook_lock);
		/* Runs in the call's drain wait: after its "stopped" check. */
		g_in_wait_hook = [&] {
			calls++;
			EXPECT_EQ(padata_start(pi), 0);
			rc.store(padata_do_parallel(pi, &j.priv, cb));
		};
	}
	EXPECT_EQ(padata_set_max_inflight(pinst_, 64), 0);
	{
		std::lock_guard<std::mutex> g(g_hook_lock);
		g_in_wait_hook = nullptr;
	}
	ASSERT_EQ(calls, 1);
	EXPECT_EQ(rc.load(), -EBUSY)
		<< "a job was accepted while padata_set_max_inflight() was replacing the ring";
	if (rc.load() == 0) {
		ASSERT_TRUE(wait_done({&j}));
	}
	EXPECT_EQ(padata_get_max_inflight(pinst_), 64u);

	/* Started by the hook; accepts jobs now. */
	Job k;
	k.reset();
	EXPECT_EQ(padata_do_parallel(pinst_, &k.priv, cb), 0);
	EXPECT_TRUE(wait_done({&k}));
}

} /* namespace */
