/* SPDX-License-Identifier: MIT */
/*
 * shell_test.cc - shells (docs/contract.md section 7): independent
 * order domains on one instance's workers.
 *
 * - the API: argument errors, a stopped instance, calls from callbacks,
 *   reuse of a freed shell, the per-shell in-flight limit;
 * - order within each shell with several shells (and the default one)
 *   submitting concurrently, across mask changes, add/remove_cpu and
 *   hotplug, with one notifier call per change (not per shell);
 * - independence: a held job of one shell (released by the test only after
 *   the other shells' later jobs were all serialized: a latch, no timing)
 *   does not delay them;
 * - lifetime: padata_free_shell() waits for the shell's jobs, padata_free()
 *   frees the remaining shells (ASan's leak check) and waits for them.
 */
#include "order_harness.h"

#include <climits>

using namespace padata_test;

namespace {

class PadataShell : public InstanceTest {
protected:
	PadataShell() : InstanceTest("shell") {}

	std::vector<int> all_cpus() const { return mask_cpus(cpu_active_mask); }
};

/* Submits @j to @ps, retrying while -EBUSY; returns the last answer. */
int submit_shell(struct padata_shell *ps, Job &j, int cb_cpu)
{
	int err;
	auto end = Clock::now() + hang_limit();
	while ((err = padata_do_parallel_shell(ps, &j.priv, cb_cpu)) == -EBUSY && Clock::now() < end)
		std::this_thread::yield();
	return err;
}

} /* namespace */

/* ---- API ------------------------------------------------------------- */

TEST_F(PadataShell, NullArgumentsAreRejected)
{
	errno = 0;
	EXPECT_EQ(padata_alloc_shell(nullptr), nullptr);
	EXPECT_EQ(errno, EINVAL);
	padata_free_shell(nullptr); /* accepted, no effect */

	started();
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	Job j;
	EXPECT_EQ(padata_do_parallel_shell(nullptr, &j.priv, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel_shell(ps, nullptr, 0), -EINVAL);
	j.priv.serial = nullptr;
	EXPECT_EQ(padata_do_parallel_shell(ps, &j.priv, 0), -EINVAL);
	j.reset();
	EXPECT_EQ(padata_do_parallel_shell(ps, &j.priv, -1), -EINVAL);
	EXPECT_EQ(padata_do_parallel_shell(ps, &j.priv, INT_MAX), -EINVAL);
	EXPECT_EQ(padata_do_parallel_shell(ps, &j.priv, static_cast<int>(nr_cpu_ids)), -EINVAL);
	EXPECT_EQ(j.parallel_runs.load(), 0);
	padata_free_shell(ps);
}

TEST_F(PadataShell, AShellFollowsTheInstancesStartAndStop)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	Job j;
	EXPECT_EQ(padata_do_parallel_shell(ps, &j.priv, 0), -EINVAL) << "instance not started";
	ASSERT_EQ(padata_start(pinst_), 0);
	ASSERT_EQ(padata_do_parallel_shell(ps, &j.priv, 0), 0);
	padata_stop(pinst_); /* waits for the shell's job too */
	EXPECT_EQ(j.serial_runs.load(), 1);
	j.reset();
	EXPECT_EQ(padata_do_parallel_shell(ps, &j.priv, 0), -EINVAL) << "instance stopped";
	/* A shell allocated while the instance runs accepts at once. */
	ASSERT_EQ(padata_start(pinst_), 0);
	struct padata_shell *ps2 = padata_alloc_shell(pinst_);
	ASSERT_NE(ps2, nullptr);
	j.reset();
	ASSERT_EQ(padata_do_parallel_shell(ps2, &j.priv, 0), 0);
	padata_free_shell(ps2);
	EXPECT_EQ(j.serial_runs.load(), 1);
	padata_free_shell(ps);
}

TEST_F(PadataShell, AFreedShellRefusesJobsAndItsMemoryServesTheNextShell)
{
	started();
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	padata_free_shell(ps);
	Job j;
	EXPECT_EQ(padata_do_parallel_shell(ps, &j.priv, 0), -EINVAL);
	testing::internal::CaptureStderr();
	padata_free_shell(ps); /* twice: reported, ignored */
	std::string err = testing::internal::GetCapturedStderr();
	EXPECT_NE(err.find("already freed"), std::string::npos) << err;
	struct padata_shell *again = padata_alloc_shell(pinst_);
	EXPECT_EQ(again, ps);
	ASSERT_EQ(padata_do_parallel_shell(again, &j.priv, 0), 0);
	padata_free_shell(again);
	EXPECT_EQ(j.serial_runs.load(), 1);
}

namespace {
struct CallbackProbe {
	struct padata_instance *pinst;
	struct padata_shell *ps;
	struct padata_shell *alloc_result = reinterpret_cast<struct padata_shell *>(1);
	int alloc_errno = 0;
	int resubmit = 1;
	Job inner;
};
} /* namespace */

TEST_F(PadataShell, CallsFromACallbackAnswerAsTheInstanceCallsDo)
{
	started();
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	CallbackProbe probe;
	probe.pinst = pinst_;
	probe.ps = ps;
	Job j;
	j.ctx = &probe;
	j.on_serial = [](Job *job) {
		auto *p = static_cast<CallbackProbe *>(job->ctx);
		errno = 0;
		p->alloc_result = padata_alloc_shell(p->pinst);
		p->alloc_errno = errno;
		padata_free_shell(p->ps); /* would wait for itself: ignored */
		p->resubmit = padata_do_parallel_shell(p->ps, &p->inner.priv, 0);
	};
	testing::internal::CaptureStderr();
	ASSERT_EQ(padata_do_parallel_shell(ps, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.done() && probe.inner.done(); }));
	std::string err = testing::internal::GetCapturedStderr();
	EXPECT_EQ(probe.alloc_result, nullptr);
	EXPECT_EQ(probe.alloc_errno, EDEADLK);
	EXPECT_EQ(probe.resubmit, 0) << "submitting from a callback is allowed";
	EXPECT_NE(err.find("padata_free_shell"), std::string::npos) << err;
	/* The ignored free left the shell working. */
	Job k;
	EXPECT_EQ(padata_do_parallel_shell(ps, &k.priv, 0), 0);
	padata_free_shell(ps);
	EXPECT_TRUE(k.done());
}

TEST_F(PadataShell, TheInFlightLimitHoldsPerShell)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct padata_shell *a = padata_alloc_shell(pinst_);
	ASSERT_NE(a, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 2), 0); /* applies to the shell too */
	struct padata_shell *b = padata_alloc_shell(pinst_); /* inherits it */
	ASSERT_NE(b, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	Job held[2], more[3];
	for (Job &h : held)
		h.defer = true; /* in flight until the test finishes it */
	ASSERT_EQ(padata_do_parallel_shell(a, &held[0].priv, 0), 0);
	ASSERT_EQ(padata_do_parallel_shell(a, &held[1].priv, 0), 0);
	EXPECT_EQ(padata_do_parallel_shell(a, &more[0].priv, 0), -EBUSY);
	/* Shell b and the default shell have their own counts. */
	EXPECT_EQ(padata_do_parallel_shell(b, &more[1].priv, 0), 0);
	EXPECT_EQ(padata_do_parallel(pinst_, &more[2].priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return more[1].done() && more[2].done(); }));
	ASSERT_TRUE(wait_until([&] { return held[0].parallel_runs.load() && held[1].parallel_runs.load(); }));
	padata_do_serial(&held[0].priv);
	padata_do_serial(&held[1].priv);
	padata_free_shell(a);
	padata_free_shell(b);
	EXPECT_TRUE(held[0].done() && held[1].done());
}

/* ---- independence ---------------------------------------------------- */

/*
 * Shell a's first job is held (parallel() returns, the test finishes it
 * later, as a slow I/O completion would). Its later jobs must wait for it;
 * shell b's and the default shell's later jobs must not: the held job is
 * finished only after all of them were serialized, so a dependency would
 * hang the test (bounded: wait_until fails it).
 */
TEST_F(PadataShell, AHeldJobOfOneShellDoesNotDelayAnotherShell)
{
	started();
	struct padata_shell *a = padata_alloc_shell(pinst_);
	struct padata_shell *b = padata_alloc_shell(pinst_);
	ASSERT_TRUE(a && b);
	std::vector<int> cpus = all_cpus();
	const int n = 64;
	Job slow;
	slow.defer = true;
	ASSERT_EQ(padata_do_parallel_shell(a, &slow.priv, cpus[0]), 0);
	std::unique_ptr<Job[]> a_later(new Job[n]), b_jobs(new Job[n]), d_jobs(new Job[n]);
	for (int i = 0; i < n; i++) {
		int cb = cpus[static_cast<size_t>(i) % cpus.size()];
		ASSERT_EQ(submit_shell(a, a_later[i], cb), 0);
		ASSERT_EQ(submit_shell(b, b_jobs[i], cb), 0);
		ASSERT_EQ(padata_do_parallel(pinst_, &d_jobs[i].priv, cb), 0);
	}
	bool others_done = wait_until([&] {
		for (int i = 0; i < n; i++)
			if (!b_jobs[i].done() || !d_jobs[i].done())
				return false;
		return true;
	});
	EXPECT_TRUE(others_done) << "another shell's held job delayed shell b or the default shell";
	/* Shell a's later jobs ran parallel() but wait for the held one. */
	ASSERT_TRUE(wait_until([&] {
		for (int i = 0; i < n; i++)
			if (!a_later[i].parallel_runs.load())
				return false;
		return slow.parallel_runs.load() == 1;
	}));
	for (int i = 0; i < n; i++)
		EXPECT_FALSE(a_later[i].serial_entered.load()) << "shell a's job " << i << " overtook";
	padata_do_serial(&slow.priv); /* the latch */
	padata_free_shell(a);
	padata_free_shell(b);
	EXPECT_TRUE(slow.done());
	for (int i = 0; i < n; i++)
		EXPECT_TRUE(a_later[i].done());
}

/* ---- order ----------------------------------------------------------- */

namespace {
/*
 * Submitter s < shells submits to shell s, submitter @shells to the default
 * shell; the harness checks each submitter's (cb_cpu) stream in order.
 * @between runs on the main thread while they submit, until they are done.
 */
void run_shells(struct padata_instance *pinst, OrderHarness &h, int shells,
		const std::function<void(int round)> &between = nullptr)
{
	std::vector<struct padata_shell *> ps;
	for (int s = 0; s < shells; s++) {
		ps.push_back(padata_alloc_shell(pinst));
		ASSERT_NE(ps.back(), nullptr);
	}
	std::vector<int> cpus = mask_cpus(cpu_active_mask);
	std::atomic<int> refused{0}, running{h.submitters()};
	std::vector<std::thread> threads;
	for (int s = 0; s < h.submitters(); s++) {
		threads.emplace_back([&, s] {
			Rng rng(static_cast<uint64_t>(s) + 11);
			long retries = 0;
			for (uint32_t i = 0; i < h.per_submitter(); i++) {
				for (;;) {
					int cb = cpus[rng.below(static_cast<uint32_t>(cpus.size()))];
					int err = s < shells ? h.submit(ps[static_cast<size_t>(s)], s, i, cb)
							     : h.submit(pinst, s, i, cb);
					if (err == 0)
						break;
					/* -EINVAL: cb left the usable serial mask (hotplug);
					 * the instance itself stays valid, so pick again. */
					if (err != -EINVAL || ++retries > 1000000) {
						if (refused.fetch_add(1) == 0)
							ADD_FAILURE() << "job " << s << "/" << i << " refused: " << err;
						running.fetch_sub(1);
						return;
					}
				}
			}
			running.fetch_sub(1);
		});
	}
	for (int round = 0; between && running.load() > 0; round++)
		between(round);
	for (auto &t : threads)
		t.join();
	ASSERT_EQ(refused.load(), 0);
	ASSERT_TRUE(h.wait_all_serialized(milliseconds(sanitized() ? 120000 : 60000)))
		<< h.serialized() << " of " << h.accepted() << " jobs serialized";
	for (struct padata_shell *p : ps)
		padata_free_shell(p);
	h.check_exactly_once();
	EXPECT_EQ(h.failures(), 0) << h.describe();
	EXPECT_EQ(h.accepted(), static_cast<long>(h.submitters()) * h.per_submitter());
}
} /* namespace */

TEST_F(PadataShell, SeveralShellsSubmittingConcurrentlyEachStayInOrder)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 256), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	OrderHarness h(4, static_cast<uint32_t>(scaled(50000, 2000)), 7);
	run_shells(pinst_, h, 3);
}

TEST_F(PadataShell, EachShellStaysInOrderAcrossTheSequenceWrap)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	/* Allocated before the seq is set: the hook moves every shell. */
	struct padata_shell *early = padata_alloc_shell(pinst_);
	ASSERT_NE(early, nullptr);
	padata_free_shell(early); /* reused by run_shells() */
	ASSERT_EQ(padata_test_set_seq(pinst_, UINT_MAX - 1000), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	OrderHarness h(3, static_cast<uint32_t>(scaled(20000, 3000)), 5);
	run_shells(pinst_, h, 2);
}

TEST_F(PadataShell, EachShellStaysInOrderAcrossMaskChangesAndHotplug)
{
	std::vector<int> cpus = all_cpus();
	if (cpus.size() < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	Recorder rec;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &rec.nb), 0);
	const int last = cpus.back();
	long changes = 0;
	OrderHarness h(4, static_cast<uint32_t>(scaled(30000, 2000)), 9);
	run_shells(pinst_, h, 3, [&](int round) {
		int err = 0;
		switch (round % 4) {
		case 0:
			err = padata_remove_cpu(pinst_, last, PADATA_CPU_PARALLEL);
			break;
		case 1:
			err = padata_add_cpu(pinst_, last, PADATA_CPU_PARALLEL);
			break;
		case 2: {
			struct cpumask p = mask_of({cpus[0]});
			err = padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p);
			break;
		}
		case 3:
			err = padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL,
						 const_cast<struct cpumask *>(cpu_possible_mask));
			break;
		}
		EXPECT_EQ(err, 0);
		changes++; /* each of them alters the usable parallel mask */
		if (round % 2 == 0) {
			/* Hotplug too: a CPU other than the first, down and up (two
			 * more changes; jobs for it as cb_cpu pick another). */
			int victim = cpus[1 + static_cast<size_t>(round / 2) % (cpus.size() - 1)];
			if (cpu_down(static_cast<unsigned int>(victim)) == 0) {
				changes++;
				EXPECT_EQ(cpu_up(static_cast<unsigned int>(victim)), 0);
				changes++;
			}
		}
		std::this_thread::yield();
	});
	padata_unregister_cpumask_notifier(pinst_, &rec.nb);
	std::lock_guard<std::mutex> g(rec.lock);
	EXPECT_EQ(static_cast<long>(rec.calls.size()), changes)
		<< "notifiers run once per change, not once per shell";
}

/* ---- lifetime -------------------------------------------------------- */

TEST_F(PadataShell, FreeShellWaitsForTheShellsJobsOnly)
{
	started();
	struct padata_shell *a = padata_alloc_shell(pinst_);
	struct padata_shell *b = padata_alloc_shell(pinst_);
	ASSERT_TRUE(a && b);
	Job held, other;
	held.defer = true;
	other.defer = true; /* shell b's: in flight throughout */
	ASSERT_EQ(padata_do_parallel_shell(a, &held.priv, 0), 0);
	ASSERT_EQ(padata_do_parallel_shell(b, &other.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return held.parallel_runs.load() == 1 && other.parallel_runs.load() == 1; }));
	std::atomic<bool> returned{false};
	std::atomic<int> serial_at_return{-1};
	std::thread freer([&] {
		padata_free_shell(a);
		serial_at_return.store(held.serial_runs.load());
		returned.store(true);
	});
	/* Not a timing claim: if it returned, it must not have returned early. */
	std::this_thread::sleep_for(milliseconds(20));
	EXPECT_FALSE(returned.load()) << "padata_free_shell returned with its job in flight";
	padata_do_serial(&held.priv);
	freer.join();
	EXPECT_EQ(serial_at_return.load(), 1) << "padata_free_shell returned before serial()";
	EXPECT_FALSE(other.serial_entered.load()) << "shell b's job is not waited for";
	padata_do_serial(&other.priv);
	padata_free_shell(b);
	EXPECT_TRUE(other.done());
}

TEST_F(PadataShell, PadataFreeWaitsForAndFreesTheRemainingShells)
{
	for (int round = 0; round < 20; round++) {
		struct padata_instance *pinst = padata_alloc_possible(wq_);
		ASSERT_NE(pinst, nullptr);
		ASSERT_EQ(padata_start(pinst), 0);
		std::unique_ptr<Job[]> jobs(new Job[4 * 8]);
		for (int s = 0; s < 4; s++) {
			struct padata_shell *ps = padata_alloc_shell(pinst);
			ASSERT_NE(ps, nullptr);
			if (s == 3)
				padata_free_shell(ps); /* a freed one among them */
			for (int i = 0; i < 8; i++)
				(void)padata_do_parallel_shell(ps, &jobs[s * 8 + i].priv, 0);
		}
		padata_free(pinst); /* no leak under ASan, no job left behind */
		for (int i = 0; i < 3 * 8; i++)
			EXPECT_TRUE(jobs[i].done()) << "job " << i;
		for (int i = 3 * 8; i < 4 * 8; i++)
			EXPECT_EQ(jobs[i].parallel_runs.load(), 0) << "a freed shell took job " << i;
	}
}

/* ---- padata_do_parallel_shell_wait ----------------------------------- */

TEST_F(PadataShell, ShellWaitAnswersTheDocumentedErrors)
{
	Job j;
	EXPECT_EQ(padata_do_parallel_shell_wait(nullptr, &j.priv, 0, -1), -EINVAL);
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	EXPECT_EQ(padata_do_parallel_shell_wait(ps, &j.priv, 0, -1), -EINVAL) << "not started";
	ASSERT_EQ(padata_start(pinst_), 0);
	EXPECT_EQ(padata_do_parallel_shell_wait(ps, nullptr, 0, -1), -EINVAL);
	EXPECT_EQ(padata_do_parallel_shell_wait(ps, &j.priv, -1, -1), -EINVAL);
	/* From a callback: -EDEADLK (a non-zero timeout would wait for itself). */
	struct Probe {
		struct padata_shell *ps;
		Job inner;
		int rc = 1;
	} probe;
	probe.ps = ps;
	Job outer;
	outer.ctx = &probe;
	outer.on_serial = [](Job *job) {
		auto *p = static_cast<Probe *>(job->ctx);
		p->rc = padata_do_parallel_shell_wait(p->ps, &p->inner.priv, 0, 10);
	};
	ASSERT_EQ(padata_do_parallel_shell_wait(ps, &outer.priv, 0, -1), 0);
	ASSERT_TRUE(wait_until([&] { return outer.done(); }));
	EXPECT_EQ(probe.rc, -EDEADLK);
	padata_free_shell(ps);
}

TEST_F(PadataShell, ShellWaitSleepsUntilItsShellHasRoomOthersGoOn)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 2), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	struct padata_shell *a = padata_alloc_shell(pinst_), *b = padata_alloc_shell(pinst_);
	ASSERT_TRUE(a && b);
	Job held[2], waiter, other, late;
	for (Job &h : held) {
		h.defer = true;
		ASSERT_EQ(padata_do_parallel_shell(a, &h.priv, 0), 0);
	}
	EXPECT_EQ(padata_do_parallel_shell_wait(a, &late.priv, 0, 0), -EBUSY) << "0: as padata_do_parallel_shell";
	EXPECT_EQ(padata_do_parallel_shell_wait(a, &late.priv, 0, 20), -ETIMEDOUT);
	std::atomic<int> rc{1};
	std::thread t([&] { rc.store(padata_do_parallel_shell_wait(a, &waiter.priv, 0, -1)); });
	/* Shell b is not full: its waits return at once, whatever a's waiter does. */
	EXPECT_EQ(padata_do_parallel_shell_wait(b, &other.priv, 0, -1), 0);
	ASSERT_TRUE(wait_until([&] { return other.done(); }));
	EXPECT_EQ(rc.load(), 1) << "the waiter of the full shell returned";
	ASSERT_TRUE(wait_until([&] { return held[0].parallel_runs.load() && held[1].parallel_runs.load(); }));
	padata_do_serial(&held[0].priv);
	padata_do_serial(&held[1].priv);
	t.join();
	EXPECT_EQ(rc.load(), 0);
	padata_free_shell(a);
	padata_free_shell(b);
	EXPECT_TRUE(waiter.done());
}

TEST_F(PadataShell, FreeShellSendsItsWaitersAwayWithEinval)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 1), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	struct padata_shell *a = padata_alloc_shell(pinst_);
	ASSERT_NE(a, nullptr);
	Job held, waiter;
	held.defer = true;
	ASSERT_EQ(padata_do_parallel_shell(a, &held.priv, 0), 0);
	std::atomic<int> rc{1};
	std::thread t([&] { rc.store(padata_do_parallel_shell_wait(a, &waiter.priv, 0, -1)); });
	ASSERT_TRUE(wait_until([&] {
		struct padata_stats st;
		return padata_get_stats(pinst_, &st) == 0 && st.waiting_submitters == 1;
	}));
	std::thread freer([&] { padata_free_shell(a); }); /* waits for the held job */
	ASSERT_TRUE(wait_until([&] { return rc.load() != 1; })) << "the waiter was not sent away";
	EXPECT_EQ(rc.load(), -EINVAL);
	ASSERT_TRUE(wait_until([&] { return held.parallel_runs.load() == 1; }));
	padata_do_serial(&held.priv);
	freer.join();
	t.join();
	EXPECT_TRUE(held.done());
	EXPECT_EQ(waiter.parallel_runs.load(), 0);
}
