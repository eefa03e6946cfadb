/* SPDX-License-Identifier: MIT */
/*
 * padata_api_test.cc - every row of docs/contract.md section 2, one test per rejected
 * argument with the exact errno, the order in which padata_do_parallel()
 * checks its conditions, start/stop/free semantics, cpumask notifiers and
 * the extensions (max in-flight, get_cpumask, test_set_seq, abi_query).
 *
 * Ordering under load lives in padata_order_test, the kernel defects in
 * padata_defects_test, CPU hotplug in padata_hotplug_test, and jobs in the
 * wrong state and calls from inside callbacks in padata_misuse_test.
 */
#include "test_util.h"
#include "../src/test_hooks.h"

#include <climits>
#include <cstddef>
#include <memory>
#include <mutex>

using namespace padata_test;

namespace {

class PadataApi : public InstanceTest {
protected:
	PadataApi() : InstanceTest("api") {}
};

} /* namespace */

/* ---- padata_alloc / padata_alloc_possible ---------------------------------- */

TEST_F(PadataApi, AllocRejectsNullWorkqueue)
{
	errno = 0;
	EXPECT_EQ(padata_alloc(nullptr, cpu_possible_mask, cpu_possible_mask), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(padata_alloc_possible(nullptr), nullptr);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(PadataApi, AllocRejectsNullMasks)
{
	errno = 0;
	EXPECT_EQ(padata_alloc(wq_, nullptr, cpu_possible_mask), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(padata_alloc(wq_, cpu_possible_mask, nullptr), nullptr);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(PadataApi, AllocRejectsAnEmptyParallelMask)
{
	struct cpumask empty = mask_of({});
	errno = 0;
	EXPECT_EQ(padata_alloc(wq_, &empty, cpu_possible_mask), nullptr);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(PadataApi, AllocRejectsAnEmptySerialMask)
{
	struct cpumask empty = mask_of({});
	errno = 0;
	EXPECT_EQ(padata_alloc(wq_, cpu_possible_mask, &empty), nullptr);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(PadataApi, AllocRejectsMasksOfNonexistentCpusOnly)
{
	struct cpumask ghost = mask_of({NR_CPUS - 1});
	if (nr_cpu_ids < NR_CPUS - 1)
		cpumask_set_cpu(nr_cpu_ids, &ghost);
	errno = 0;
	EXPECT_EQ(padata_alloc(wq_, &ghost, cpu_possible_mask), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(padata_alloc(wq_, cpu_possible_mask, &ghost), nullptr);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(PadataApi, AllocAcceptsNonexistentCpusBesideActiveOnes)
{
	struct cpumask m = mask_of({0, NR_CPUS - 1});
	if (nr_cpu_ids < NR_CPUS - 1)
		cpumask_set_cpu(nr_cpu_ids, &m);
	pinst_ = padata_alloc(wq_, &m, &m);
	ASSERT_NE(pinst_, nullptr);
	struct cpumask want = mask_of({0});
	struct cpumask p = usable_pcpu(pinst_), cb = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&p, &want)) << mask_str(&p);
	EXPECT_TRUE(cpumask_equal(&cb, &want)) << mask_str(&cb);
	ASSERT_EQ(padata_start(pinst_), 0);
	Job j;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(j.parallel_cpu.load(), 0);
	EXPECT_EQ(j.serial_cpu.load(), 0);
}

TEST_F(PadataApi, AllocCopiesTheCallersMasks)
{
	struct cpumask p = mask_of({0}), cb = mask_of({0});
	pinst_ = padata_alloc(wq_, &p, &cb);
	ASSERT_NE(pinst_, nullptr);
	cpumask_setall(&p);
	cpumask_setall(&cb);
	struct cpumask want = mask_of({0});
	struct cpumask got = usable_pcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&got, &want));
	got = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&got, &want));
}

TEST_F(PadataApi, AllocPossibleUsesEveryActiveCpuAndStartsStopped)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct cpumask p = usable_pcpu(pinst_), cb = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&p, cpu_active_mask)) << mask_str(&p);
	EXPECT_TRUE(cpumask_equal(&cb, cpu_active_mask)) << mask_str(&cb);
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL) << "a new instance is not started";
	EXPECT_EQ(j.parallel_runs.load(), 0);
}

/* ---- padata_start / padata_stop / padata_free -------------------------------- */

TEST_F(PadataApi, StartRejectsNull)
{
	EXPECT_EQ(padata_start(nullptr), -EINVAL);
}

TEST_F(PadataApi, StartTwiceIsFineAndStopAcceptsNullAndRepeats)
{
	started();
	EXPECT_EQ(padata_start(pinst_), 0);
	padata_stop(nullptr);
	padata_stop(pinst_);
	padata_stop(pinst_);
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	ASSERT_EQ(padata_start(pinst_), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
}

TEST_F(PadataApi, StartRejectsAnInstanceWhoseUsableMaskIsEmpty)
{
	if (nr_cpu_ids >= NR_CPUS)
		GTEST_SKIP() << "no nonexistent CPU number to use";
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct cpumask ghost = mask_of({static_cast<int>(nr_cpu_ids)});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &ghost), 0);
	EXPECT_EQ(padata_start(pinst_), -EINVAL);
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, const_cast<struct cpumask *>(cpu_possible_mask)), 0);
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &ghost), 0);
	EXPECT_EQ(padata_start(pinst_), -EINVAL) << "empty usable serial mask";
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, const_cast<struct cpumask *>(cpu_possible_mask)), 0);
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL) << "valid again but never started";
	ASSERT_EQ(padata_start(pinst_), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
}

TEST_F(PadataApi, StopBlocksUntilEveryAcceptedJobHasRunSerial)
{
	started();
	Gate gate;
	Job held, tail;
	held.hold_parallel = &gate;
	ASSERT_EQ(padata_do_parallel(pinst_, &held.priv, 0), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &tail.priv, last_cpu()), 0);
	ASSERT_TRUE(wait_until([&] { return held.parallel_entered.load(); }));
	std::atomic<bool> stopped{false};
	std::thread t([&] {
		padata_stop(pinst_);
		stopped.store(true);
	});
	std::this_thread::sleep_for(milliseconds(50));
	EXPECT_FALSE(stopped.load()) << "padata_stop returned with a job in parallel()";
	EXPECT_FALSE(tail.done()) << "a later job ran serial() before an earlier one";
	gate.open();
	t.join();
	EXPECT_TRUE(held.done());
	EXPECT_TRUE(tail.done());
	EXPECT_EQ(held.serial_runs.load(), 1);
	EXPECT_EQ(tail.serial_runs.load(), 1);
}

TEST_F(PadataApi, StopWaitsForAsynchronousCompletions)
{
	started();
	Job j;
	j.defer = true;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.parallel_runs.load() == 1; }));
	std::atomic<bool> stopped{false};
	std::thread t([&] {
		padata_stop(pinst_);
		stopped.store(true);
	});
	std::this_thread::sleep_for(milliseconds(50));
	EXPECT_FALSE(stopped.load());
	padata_do_serial(&j.priv);
	t.join();
	EXPECT_EQ(j.serial_runs.load(), 1);
}

TEST_F(PadataApi, FreeAcceptsNullAndANeverStartedInstance)
{
	padata_free(nullptr);
	struct padata_instance *p = padata_alloc_possible(wq_);
	ASSERT_NE(p, nullptr);
	padata_free(p);
}

TEST_F(PadataApi, FreeWaitsForAJobInParallel)
{
	struct padata_instance *p = padata_alloc_possible(wq_);
	ASSERT_NE(p, nullptr);
	ASSERT_EQ(padata_start(p), 0);
	Gate gate;
	Job j;
	j.hold_parallel = &gate;
	ASSERT_EQ(padata_do_parallel(p, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.parallel_entered.load(); }));
	std::atomic<bool> freed{false};
	std::thread t([&] {
		padata_free(p);
		freed.store(true);
	});
	std::this_thread::sleep_for(milliseconds(50));
	EXPECT_FALSE(freed.load()) << "padata_free returned with a job in parallel()";
	gate.open();
	t.join();
	EXPECT_EQ(j.serial_runs.load(), 1);
}

TEST_F(PadataApi, FreeWaitsForAsynchronousCompletions)
{
	struct padata_instance *p = padata_alloc_possible(wq_);
	ASSERT_NE(p, nullptr);
	ASSERT_EQ(padata_start(p), 0);
	std::vector<Job> jobs(20);
	for (size_t i = 0; i < jobs.size(); i++) {
		jobs[i].defer = true;
		ASSERT_EQ(padata_do_parallel(p, &jobs[i].priv, static_cast<int>(i % nr_cpu_ids)), 0);
	}
	ASSERT_TRUE(wait_until([&] {
		for (Job &j : jobs)
			if (j.parallel_runs.load() == 0)
				return false;
		return true;
	}));
	std::atomic<bool> freed{false};
	std::thread t([&] {
		padata_free(p);
		freed.store(true);
	});
	std::this_thread::sleep_for(milliseconds(30));
	EXPECT_FALSE(freed.load());
	for (size_t i = jobs.size() - 1; i >= 1; i--)
		padata_do_serial(&jobs[i].priv);
	std::this_thread::sleep_for(milliseconds(30));
	EXPECT_FALSE(freed.load()) << "padata_free returned before the first job completed";
	for (size_t i = 1; i < jobs.size(); i++)
		EXPECT_EQ(jobs[i].serial_runs.load(), 0) << "job " << i << " overtook job 0";
	padata_do_serial(&jobs[0].priv);
	t.join();
	for (size_t i = 0; i < jobs.size(); i++)
		EXPECT_EQ(jobs[i].serial_runs.load(), 1) << i;
}

TEST_F(PadataApi, DestroyWorkqueueIsRefusedWhileAnInstanceUsesIt)
{
	started();
	testing::internal::CaptureStderr();
	destroy_workqueue(wq_); /* refused: a message on stderr */
	std::string err = testing::internal::GetCapturedStderr();
	EXPECT_FALSE(err.empty()) << "no message for a refused destroy_workqueue";
	Job j;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, last_cpu()), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(j.serial_cpu.load(), last_cpu());
	padata_free(pinst_);
	pinst_ = nullptr;
	/* TearDown destroys the queue now that nothing uses it. */
}

namespace {

/*
 * Sets the drain-wait hook for a scope: @fn runs each time a thread is about
 * to sleep in a wait (padata_stop, a mask change, padata_free...).
 */
struct WaitSleepHook {
	explicit WaitSleepHook(void (*fn)(struct workqueue_struct *))
	{
		__atomic_store_n(&padata_test_hooks.wait_sleep, fn, __ATOMIC_SEQ_CST);
	}
	~WaitSleepHook() { __atomic_store_n(&padata_test_hooks.wait_sleep, nullptr, __ATOMIC_SEQ_CST); }
};

std::atomic<int> threads_asleep{0};
thread_local bool this_thread_asleep = false;

void count_sleeping_threads(struct workqueue_struct *)
{
	if (!this_thread_asleep) {
		this_thread_asleep = true;
		threads_asleep.fetch_add(1);
	}
}

} /* namespace */

/*
 * Issue 8 #6: the control word (then "state word") counted drain waiters in 8 bits, right below
 * STARTED, so the 256th thread in padata_stop() set STARTED again and the
 * stopped instance accepted a job. A held job keeps every stopper waiting.
 */
TEST_F(PadataApi, AStoppedInstanceRefusesJobsWhile256ThreadsWaitInStop)
{
	started();
	Job held;
	held.defer = true;
	ASSERT_EQ(padata_do_parallel(pinst_, &held.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return held.parallel_runs.load() == 1; }));

	const int n = 256;
	threads_asleep = 0;
	WaitSleepHook hook(count_sleeping_threads);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	std::vector<pthread_t> stoppers;
	for (int i = 0; i < n; i++) {
		pthread_t t;
		int err = pthread_create(&t, &attr, [](void *p) -> void * {
			padata_stop(static_cast<struct padata_instance *>(p));
			return nullptr;
		}, pinst_);
		if (err) {
			ADD_FAILURE() << "pthread_create: " << std::strerror(err);
			break;
		}
		stoppers.push_back(t);
	}
	pthread_attr_destroy(&attr);
	EXPECT_TRUE(wait_until([&] { return threads_asleep.load() == static_cast<int>(stoppers.size()); }))
		<< threads_asleep.load() << " of " << stoppers.size() << " stoppers are waiting";

	Job late;
	const int err = padata_do_parallel(pinst_, &late.priv, 0);
	EXPECT_EQ(err, -EINVAL) << "a stopped instance accepted a job with " << n
				<< " threads in padata_stop()";
	padata_do_serial(&held.priv);
	for (pthread_t t : stoppers)
		pthread_join(t, nullptr);
	EXPECT_TRUE(held.done());
	if (err == 0) {
		EXPECT_TRUE(wait_done({&late}));
	}
}

namespace {

std::atomic<bool> a_drain_slept{false};

void note_drain_sleep(struct workqueue_struct *)
{
	a_drain_slept.store(true);
}

} /* namespace */

/*
 * Issue 8 #6: references of threads outside the workers (submitters,
 * foreign padata_do_serial callers) had 16 bits; the 65,536th carried into
 * the waiter field and the count read as zero, so a drain that must wait
 * for them (here padata_set_max_inflight, which replaces the ring those
 * threads write) went ahead. The references are preset with a test hook.
 */
TEST_F(PadataApi, ADrainWaitsFor65536OutsideReferences)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	const int32_t refs = 65536;
	ASSERT_EQ(padata_test_add_refs(pinst_, refs), 0);
	a_drain_slept = false;
	WaitSleepHook hook(note_drain_sleep);
	std::atomic<bool> returned{false};
	std::thread t([&] {
		EXPECT_EQ(padata_set_max_inflight(pinst_, 10), 0);
		returned.store(true);
	});
	EXPECT_TRUE(wait_until([&] { return a_drain_slept.load() || returned.load(); }));
	EXPECT_FALSE(returned.load()) << "padata_set_max_inflight() went ahead while " << refs
				      << " references were held";
	ASSERT_EQ(padata_test_add_refs(pinst_, -refs), 0);
	t.join();
	EXPECT_EQ(padata_get_max_inflight(pinst_), 10u);
	/* The instance still works. */
	ASSERT_EQ(padata_start(pinst_), 0);
	Job j;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	EXPECT_TRUE(wait_done({&j}));
}

namespace {

/* The threads and gates of the hand-off test below. */
struct HandOff {
	Gate leaver_stalled, leaver_release;
	std::atomic<bool> changer_slept{false};
};
HandOff *hand_off;
thread_local bool stall_when_leaving = false;

void stall_marked_leaver()
{
	if (stall_when_leaving) {
		hand_off->leaver_stalled.open();
		hand_off->leaver_release.wait();
	}
}

void note_changer_sleep(struct workqueue_struct *)
{
	hand_off->changer_slept.store(true);
}

} /* namespace */

/*
 * The one-bit waiter flag of the control word is handed between waiters
 * without a lock (pd_drain_wait): the last to leave clears it, and must
 * re-set it (and signal) when a waiter arrived after it left the count,
 * or a reference drop in between does not wake that waiter. A stopper is
 * stalled (test hook) between leaving the count and clearing the flag; a
 * limit change then starts waiting for an outside reference; the stopper
 * clears the flag; dropping the reference must still wake the change.
 */
TEST_F(PadataApi, ALeavingDrainWaiterHandsTheWaitingFlagToANewcomer)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	HandOff h;
	hand_off = &h;
	__atomic_store_n(&padata_test_hooks.drain_leave, &stall_marked_leaver, __ATOMIC_SEQ_CST);
	WaitSleepHook hook(note_changer_sleep);

	std::thread leaver([&] {
		stall_when_leaving = true;
		padata_stop(pinst_); /* nothing in flight: waits for nothing */
	});
	ASSERT_TRUE(h.leaver_stalled.wait());
	ASSERT_EQ(padata_test_add_refs(pinst_, 1), 0);
	std::atomic<bool> returned{false};
	std::thread changer([&] {
		EXPECT_EQ(padata_set_max_inflight(pinst_, 5), 0);
		returned.store(true);
	});
	EXPECT_TRUE(wait_until([&] { return h.changer_slept.load() || returned.load(); }));
	EXPECT_FALSE(returned.load()) << "the limit change did not wait for the reference";
	h.leaver_release.open();
	leaver.join();
	ASSERT_EQ(padata_test_add_refs(pinst_, -1), 0);
	run_bounded("a limit change after the reference it waited for was dropped",
		    [&] { changer.join(); });
	__atomic_store_n(&padata_test_hooks.drain_leave, nullptr, __ATOMIC_SEQ_CST);
	EXPECT_EQ(padata_get_max_inflight(pinst_), 5u);
}

/* ---- padata_do_parallel arguments ----------------------------------------- */

TEST_F(PadataApi, DoParallelRejectsNullInstance)
{
	Job j;
	EXPECT_EQ(padata_do_parallel(nullptr, &j.priv, 0), -EINVAL);
}

TEST_F(PadataApi, DoParallelRejectsNullJob)
{
	started();
	EXPECT_EQ(padata_do_parallel(pinst_, nullptr, 0), -EINVAL);
}

TEST_F(PadataApi, DoParallelRejectsANotStartedInstance)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	EXPECT_EQ(j.parallel_runs.load(), 0);
}

TEST_F(PadataApi, DoParallelRejectsOutOfRangeCbCpus)
{
	started();
	const int bad[] = {-1, -2, static_cast<int>(nr_cpu_ids), NR_CPUS - 1, NR_CPUS, NR_CPUS + 1,
			   INT_MAX, INT_MIN};
	for (int cb : bad) {
		Job j;
		EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, cb), -EINVAL) << "cb_cpu " << cb;
		EXPECT_EQ(j.parallel_runs.load(), 0);
		/* Not queued: the caller still owns it and may submit it properly. */
		ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
		ASSERT_TRUE(wait_done({&j}));
		EXPECT_EQ(j.parallel_runs.load(), 1);
		EXPECT_EQ(j.serial_runs.load(), 1);
	}
}

TEST_F(PadataApi, DoParallelRejectsACbCpuOutsideTheSerialMask)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	struct cpumask cb = mask_of({0});
	pinst_ = padata_alloc(wq_, cpu_possible_mask, &cb);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	Job j;
	for (int c = 1; c < static_cast<int>(nr_cpu_ids); c++)
		EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, c), -EINVAL) << c;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
}

TEST_F(PadataApi, DoParallelRejectsAJobStillInFlightAndLeavesItAlone)
{
	started();
	Gate gate;
	Job j;
	j.hold_parallel = &gate;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.parallel_entered.load(); }));
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, last_cpu()), -EINVAL);
	gate.open();
	ASSERT_TRUE(wait_done({&j}));
	std::this_thread::sleep_for(milliseconds(20));
	EXPECT_EQ(j.parallel_runs.load(), 1);
	EXPECT_EQ(j.serial_runs.load(), 1);
	EXPECT_EQ(j.serial_cpu.load(), 0);
}

TEST_F(PadataApi, AJobIsTheCallersAgainFromTheStartOfSerial)
{
	started();
	/* serial() resubmits its own job until it has run 50 times. */
	struct Loop {
		Job job;
		std::atomic<int> rounds{0};
		std::atomic<int> failures{0};
		struct padata_instance *pinst;
	} loop;
	loop.pinst = pinst_;
	loop.job.ctx = &loop;
	loop.job.on_serial = [](Job *j) {
		Loop *l = static_cast<Loop *>(j->ctx);
		if (l->rounds.fetch_add(1) + 1 >= 50)
			return;
		int cb = l->rounds.load() % static_cast<int>(nr_cpu_ids);
		if (padata_do_parallel(l->pinst, &j->priv, cb) != 0)
			l->failures.fetch_add(1);
	};
	ASSERT_EQ(padata_do_parallel(pinst_, &loop.job.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return loop.rounds.load() == 50; }));
	ASSERT_TRUE(wait_until([&] { return loop.job.serial_runs.load() == 50; }));
	EXPECT_EQ(loop.failures.load(), 0);
	EXPECT_EQ(loop.job.parallel_runs.load(), 50);
}

TEST_F(PadataApi, InfoFieldIsLeftToTheCaller)
{
	started();
	Job j;
	j.priv.info = -12345;
	std::atomic<int> seen{0};
	j.ctx = &seen;
	j.on_serial = [](Job *self) { static_cast<std::atomic<int> *>(self->ctx)->store(self->priv.info); };
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(seen.load(), -12345);
	EXPECT_EQ(j.priv.info, -12345);
}

TEST_F(PadataApi, ParallelRunsOnTheUsableParallelMaskAndSerialOnCbCpu)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	struct cpumask p = mask_of({0});
	struct cpumask cb = mask_of({last_cpu()});
	pinst_ = padata_alloc(wq_, &p, &cb);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	std::vector<Job> jobs(50);
	std::vector<Job *> ptrs;
	for (Job &j : jobs) {
		ASSERT_EQ(submit_retry(pinst_, &j, last_cpu()), 0);
		ptrs.push_back(&j);
	}
	ASSERT_TRUE(wait_done(ptrs));
	for (Job &j : jobs) {
		EXPECT_EQ(j.parallel_cpu.load(), 0);
		EXPECT_EQ(j.serial_cpu.load(), last_cpu());
	}
}

/* ---- check order of padata_do_parallel ------------------------------------ */

TEST_F(PadataApi, BadCbCpuIsReportedBeforeTheInFlightLimit)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 2), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	Gate gate;
	Job a, b, c;
	a.hold_parallel = b.hold_parallel = &gate;
	ASSERT_EQ(padata_do_parallel(pinst_, &a.priv, 0), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &b.priv, 0), 0);
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, 0), -EBUSY);
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, -1), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, INT_MAX), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, static_cast<int>(nr_cpu_ids)), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, 0), -EBUSY);

	/* Not started (a padata_stop() waiting for a and b) comes first of all. */
	std::thread stopper([&] { padata_stop(pinst_); });
	EXPECT_TRUE(wait_until([&] { return padata_do_parallel(pinst_, &c.priv, 0) == -EINVAL; }))
		<< "a stopping instance at its limit should answer -EINVAL";
	gate.open();
	stopper.join();
	EXPECT_TRUE(a.done() && b.done());
	EXPECT_EQ(c.parallel_runs.load(), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &c.priv, 0), 0);
	ASSERT_TRUE(wait_done({&c}));
}

TEST_F(PadataApi, BadCbCpuIsReportedBeforeAMaskChangeInProgress)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs to change the serial mask";
	started();
	Gate gate;
	Job held;
	held.hold_parallel = &gate;
	ASSERT_EQ(padata_do_parallel(pinst_, &held.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return held.parallel_entered.load(); }));

	std::atomic<int> change_result{1};
	std::thread changer([&] {
		struct cpumask cb = mask_of({0});
		change_result.store(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &cb));
	});
	/* Probes accepted before the change starts are fine; wait for -EBUSY. */
	std::vector<std::unique_ptr<Job>> probes;
	bool busy = wait_until([&] {
		auto probe = std::make_unique<Job>();
		int err = padata_do_parallel(pinst_, &probe->priv, 0);
		if (err == 0)
			probes.push_back(std::move(probe));
		return err == -EBUSY;
	});
	EXPECT_TRUE(busy) << "submissions during a mask change must get -EBUSY";
	Job c;
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, -1), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, INT_MIN), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, static_cast<int>(nr_cpu_ids)), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, 0), -EBUSY);
	EXPECT_EQ(change_result.load(), 1) << "the change returned before the held job drained";
	gate.open();
	changer.join();
	EXPECT_EQ(change_result.load(), 0);
	EXPECT_TRUE(held.done()) << "the change returned before the held job ran serial()";
	std::vector<Job *> accepted;
	for (auto &p : probes)
		accepted.push_back(p.get());
	EXPECT_TRUE(wait_done(accepted)) << "a probe accepted before the change was lost";
	/* The new serial mask is in force. */
	EXPECT_EQ(padata_do_parallel(pinst_, &c.priv, 1), -EINVAL);
	ASSERT_EQ(padata_do_parallel(pinst_, &c.priv, 0), 0);
	ASSERT_TRUE(wait_done({&c}));
}

/* ---- in-flight limit --------------------------------------------------- */

TEST_F(PadataApi, InFlightLimitGivesEbusyAndTheJobStaysTheCallers)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	EXPECT_EQ(padata_get_max_inflight(pinst_), static_cast<unsigned int>(MAX_OBJ_NUM));
	ASSERT_EQ(padata_set_max_inflight(pinst_, 3), 0);
	EXPECT_EQ(padata_get_max_inflight(pinst_), 3u);
	ASSERT_EQ(padata_start(pinst_), 0);
	std::vector<Job> jobs(4);
	/* All deferred: the test finishes each one itself, exactly once. */
	for (Job &j : jobs)
		j.defer = true;
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(padata_do_parallel(pinst_, &jobs[i].priv, 0), 0);
	struct padata_priv untouched = jobs[3].priv;
	EXPECT_EQ(padata_do_parallel(pinst_, &jobs[3].priv, 0), -EBUSY);
	EXPECT_EQ(jobs[3].parallel_runs.load(), 0);
	EXPECT_EQ(std::memcmp(&jobs[3].priv, &untouched, sizeof(untouched)), 0) << "a refused job was changed";
	/* Finish a job only after its parallel() has returned it to us. */
	ASSERT_TRUE(wait_until([&] {
		return jobs[0].parallel_runs.load() == 1 && jobs[1].parallel_runs.load() == 1 &&
		       jobs[2].parallel_runs.load() == 1;
	}));
	padata_do_serial(&jobs[1].priv);
	padata_do_serial(&jobs[2].priv);
	std::this_thread::sleep_for(milliseconds(10));
	EXPECT_EQ(padata_do_parallel(pinst_, &jobs[3].priv, 0), -EBUSY)
		<< "jobs 1 and 2 wait for job 0 in the reorder stage: still in flight";
	padata_do_serial(&jobs[0].priv);
	ASSERT_TRUE(wait_done({&jobs[0], &jobs[1], &jobs[2]}));
	ASSERT_EQ(submit_retry(pinst_, &jobs[3], 0), 0);
	ASSERT_TRUE(wait_until([&] { return jobs[3].parallel_runs.load() == 1; }));
	padata_do_serial(&jobs[3].priv);
	ASSERT_TRUE(wait_done({&jobs[3]}));
	for (int i = 0; i < 4; i++)
		EXPECT_EQ(jobs[i].serial_runs.load(), 1) << i;
}

TEST_F(PadataApi, AJobCountsAsInFlightUntilSerialReturns)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 1), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	Gate gate;
	Job a, b;
	a.hold_serial = &gate;
	ASSERT_EQ(padata_do_parallel(pinst_, &a.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return a.serial_entered.load(); }));
	EXPECT_EQ(padata_do_parallel(pinst_, &b.priv, 0), -EBUSY) << "a is inside serial()";
	gate.open();
	ASSERT_EQ(submit_retry(pinst_, &b, 0), 0);
	ASSERT_TRUE(wait_done({&a, &b}));
}

TEST_F(PadataApi, SetMaxInflightRejectsBadArguments)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	EXPECT_EQ(padata_set_max_inflight(nullptr, 10), -EINVAL);
	EXPECT_EQ(padata_set_max_inflight(pinst_, 0), -EINVAL);
	EXPECT_EQ(padata_set_max_inflight(pinst_, PADATA_MAX_INFLIGHT_LIMIT + 1), -EINVAL);
	EXPECT_EQ(padata_set_max_inflight(pinst_, UINT_MAX), -EINVAL);
	EXPECT_EQ(padata_get_max_inflight(pinst_), static_cast<unsigned int>(MAX_OBJ_NUM));
	EXPECT_EQ(padata_set_max_inflight(pinst_, 1), 0);
	EXPECT_EQ(padata_set_max_inflight(pinst_, PADATA_MAX_INFLIGHT_LIMIT), 0);
	EXPECT_EQ(padata_get_max_inflight(pinst_), PADATA_MAX_INFLIGHT_LIMIT);
	EXPECT_EQ(padata_get_max_inflight(nullptr), 0u);
}

TEST_F(PadataApi, SetMaxInflightIsRefusedWhileStarted)
{
	started();
	EXPECT_EQ(padata_set_max_inflight(pinst_, 10), -EBUSY);
	EXPECT_EQ(padata_get_max_inflight(pinst_), static_cast<unsigned int>(MAX_OBJ_NUM));
	padata_stop(pinst_);
	EXPECT_EQ(padata_set_max_inflight(pinst_, 10), 0);
}

TEST_F(PadataApi, SetMaxInflightFromAWorkerIsEdeadlk)
{
	started();
	struct padata_instance *other = padata_alloc_possible(wq_);
	ASSERT_NE(other, nullptr);
	std::atomic<int> result{1};
	struct Ctx {
		struct padata_instance *other;
		std::atomic<int> *result;
	} ctx{other, &result};
	Job j;
	j.ctx = &ctx;
	j.on_parallel = [](Job *self) {
		Ctx *c = static_cast<Ctx *>(self->ctx);
		c->result->store(padata_set_max_inflight(c->other, 7));
	};
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(result.load(), -EDEADLK);
	EXPECT_EQ(padata_get_max_inflight(other), static_cast<unsigned int>(MAX_OBJ_NUM));
	padata_free(other);
}

/* ---- mask changes ------------------------------------------------------ */

TEST_F(PadataApi, SetCpumasksRejectsNullArguments)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct cpumask m = mask_of({0});
	EXPECT_EQ(padata_set_cpumasks(nullptr, &m, &m), -EINVAL);
	EXPECT_EQ(padata_set_cpumasks(pinst_, nullptr, &m), -EINVAL);
	EXPECT_EQ(padata_set_cpumasks(pinst_, &m, nullptr), -EINVAL);
	struct cpumask p = usable_pcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&p, cpu_active_mask)) << "a rejected call changed the masks";
}

TEST_F(PadataApi, SetCpumaskRejectsNullArguments)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct cpumask m = mask_of({0});
	EXPECT_EQ(padata_set_cpumask(nullptr, PADATA_CPU_PARALLEL, &m), -EINVAL);
	EXPECT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, nullptr), -EINVAL);
	EXPECT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, nullptr), -EINVAL);
}

TEST_F(PadataApi, SetCpumaskRejectsUnknownMaskTypes)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct cpumask m = mask_of({0});
	const int bad[] = {0, PADATA_CPU_SERIAL | PADATA_CPU_PARALLEL, 4, -1, INT_MAX, INT_MIN};
	for (int type : bad)
		EXPECT_EQ(padata_set_cpumask(pinst_, type, &m), -EINVAL) << "type " << type;
	struct cpumask p = usable_pcpu(pinst_), cb = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&p, cpu_active_mask));
	EXPECT_TRUE(cpumask_equal(&cb, cpu_active_mask));
}

TEST_F(PadataApi, SetCpumaskReplacesOneMaskAndSetCpumasksBoth)
{
	started();
	struct cpumask p1 = mask_of({0});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p1), 0);
	struct cpumask got = usable_pcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&got, &p1));
	got = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&got, cpu_active_mask));

	struct cpumask cb1 = mask_of({last_cpu()});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &cb1), 0);
	got = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&got, &cb1));

	Job j;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, last_cpu()), 0) << "still started after the change";
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(j.parallel_cpu.load(), 0);
	EXPECT_EQ(j.serial_cpu.load(), last_cpu());

	struct cpumask all;
	cpumask_setall(&all);
	ASSERT_EQ(padata_set_cpumasks(pinst_, &all, &all), 0);
	got = usable_pcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&got, cpu_active_mask));
	got = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&got, cpu_active_mask));
}

TEST_F(PadataApi, AMaskWithoutActiveCpusLeavesTheInstanceInvalidUntilFixed)
{
	if (nr_cpu_ids >= NR_CPUS)
		GTEST_SKIP() << "no nonexistent CPU number to use";
	started();
	struct cpumask ghost = mask_of({NR_CPUS - 1});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &ghost), 0);
	struct cpumask got = usable_pcpu(pinst_);
	EXPECT_TRUE(cpumask_empty(&got));
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	struct cpumask one = mask_of({0});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &one), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0) << "a started instance runs again once valid";
	ASSERT_TRUE(wait_done({&j}));

	ASSERT_EQ(padata_set_cpumasks(pinst_, &ghost, &ghost), 0);
	j.reset();
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	ASSERT_EQ(padata_set_cpumasks(pinst_, &one, &one), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
}

TEST_F(PadataApi, AddAndRemoveCpuRejectNullInstance)
{
	EXPECT_EQ(padata_add_cpu(nullptr, 0, PADATA_CPU_PARALLEL), -EINVAL);
	EXPECT_EQ(padata_remove_cpu(nullptr, 0, PADATA_CPU_PARALLEL), -EINVAL);
}

TEST_F(PadataApi, AddAndRemoveCpuRejectOutOfRangeCpus)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	const int bad[] = {-1, static_cast<int>(nr_cpu_ids), NR_CPUS, INT_MAX, INT_MIN};
	for (int cpu : bad) {
		EXPECT_EQ(padata_add_cpu(pinst_, cpu, PADATA_CPU_PARALLEL), -EINVAL) << cpu;
		EXPECT_EQ(padata_remove_cpu(pinst_, cpu, PADATA_CPU_SERIAL), -EINVAL) << cpu;
	}
}

TEST_F(PadataApi, AddAndRemoveCpuRejectBadMaskBits)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	const int bad[] = {0, 4, 7, 8 | PADATA_CPU_SERIAL, -1, INT_MIN};
	for (int mask : bad) {
		EXPECT_EQ(padata_add_cpu(pinst_, 0, mask), -EINVAL) << mask;
		EXPECT_EQ(padata_remove_cpu(pinst_, 0, mask), -EINVAL) << mask;
	}
	struct cpumask p = usable_pcpu(pinst_);
	EXPECT_TRUE(cpumask_equal(&p, cpu_active_mask));
}

TEST_F(PadataApi, RemoveAndAddCpuChangeTheNamedMasks)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	int c = last_cpu();
	ASSERT_EQ(padata_remove_cpu(pinst_, c, PADATA_CPU_SERIAL), 0);
	struct cpumask p = usable_pcpu(pinst_), cb = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_test_cpu(c, &p));
	EXPECT_FALSE(cpumask_test_cpu(c, &cb));
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, c), -EINVAL);
	ASSERT_EQ(padata_remove_cpu(pinst_, c, PADATA_CPU_PARALLEL), 0);
	p = usable_pcpu(pinst_);
	EXPECT_FALSE(cpumask_test_cpu(c, &p));
	ASSERT_EQ(padata_add_cpu(pinst_, c, PADATA_CPU_SERIAL | PADATA_CPU_PARALLEL), 0);
	p = usable_pcpu(pinst_);
	cb = usable_cbcpu(pinst_);
	EXPECT_TRUE(cpumask_test_cpu(c, &p));
	EXPECT_TRUE(cpumask_test_cpu(c, &cb));
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, c), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(j.serial_cpu.load(), c);
	/* Removing and re-adding a CPU that is already out or in is harmless. */
	EXPECT_EQ(padata_add_cpu(pinst_, c, PADATA_CPU_SERIAL), 0);
	ASSERT_EQ(padata_remove_cpu(pinst_, c, PADATA_CPU_SERIAL | PADATA_CPU_PARALLEL), 0);
	EXPECT_EQ(padata_remove_cpu(pinst_, c, PADATA_CPU_SERIAL), 0);
}

/* ---- notifiers ---------------------------------------------------------- */

TEST_F(PadataApi, RegisterNotifierRejectsNullArguments)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	Recorder r;
	EXPECT_EQ(padata_register_cpumask_notifier(nullptr, &r.nb), -EINVAL);
	EXPECT_EQ(padata_register_cpumask_notifier(pinst_, nullptr), -EINVAL);
	r.nb.notifier_call = nullptr;
	EXPECT_EQ(padata_register_cpumask_notifier(pinst_, &r.nb), -EINVAL);
	EXPECT_EQ(padata_unregister_cpumask_notifier(nullptr, &r.nb), -EINVAL);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, nullptr), -EINVAL);
}

TEST_F(PadataApi, RegisterTwiceIsEexistAndUnregisterUnknownIsEnoent)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	Recorder r, other;
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, &r.nb), -ENOENT);
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &r.nb), 0);
	EXPECT_EQ(padata_register_cpumask_notifier(pinst_, &r.nb), -EEXIST);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, &other.nb), -ENOENT);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, &r.nb), 0);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, &r.nb), -ENOENT);
	/* Registered on another instance is not registered on this one. */
	struct padata_instance *p2 = padata_alloc_possible(wq_);
	ASSERT_NE(p2, nullptr);
	ASSERT_EQ(padata_register_cpumask_notifier(p2, &r.nb), 0);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, &r.nb), -ENOENT);
	EXPECT_EQ(padata_unregister_cpumask_notifier(p2, &r.nb), 0);
	padata_free(p2);
}

TEST_F(PadataApi, NotifiersGetTheChangedBitsAndTheNewUsableMasks)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	Recorder r;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &r.nb), 0);
	struct cpumask p1 = mask_of({0});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p1), 0);
	ASSERT_EQ(r.count(), 1u);
	Recorder::Call c = r.last();
	EXPECT_EQ(c.action, static_cast<unsigned long>(PADATA_CPU_PARALLEL));
	EXPECT_TRUE(cpumask_equal(&c.pcpu, &p1)) << mask_str(&c.pcpu);
	EXPECT_TRUE(cpumask_equal(&c.cbcpu, cpu_active_mask)) << mask_str(&c.cbcpu);
	EXPECT_TRUE(pthread_equal(c.thread, pthread_self())) << "notifiers run on the changing thread";

	struct cpumask cb1 = mask_of({last_cpu()});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &cb1), 0);
	ASSERT_EQ(r.count(), 2u);
	c = r.last();
	EXPECT_EQ(c.action, static_cast<unsigned long>(PADATA_CPU_SERIAL));
	EXPECT_TRUE(cpumask_equal(&c.pcpu, &p1));
	EXPECT_TRUE(cpumask_equal(&c.cbcpu, &cb1));

	struct cpumask all;
	cpumask_setall(&all);
	ASSERT_EQ(padata_set_cpumasks(pinst_, &all, &all), 0);
	ASSERT_EQ(r.count(), 3u);
	c = r.last();
	EXPECT_EQ(c.action, static_cast<unsigned long>(PADATA_CPU_SERIAL | PADATA_CPU_PARALLEL));
	EXPECT_TRUE(cpumask_equal(&c.pcpu, cpu_active_mask));
	EXPECT_TRUE(cpumask_equal(&c.cbcpu, cpu_active_mask));

	ASSERT_EQ(padata_remove_cpu(pinst_, 0, PADATA_CPU_SERIAL), 0);
	ASSERT_EQ(r.count(), 4u);
	c = r.last();
	EXPECT_EQ(c.action, static_cast<unsigned long>(PADATA_CPU_SERIAL));
	EXPECT_FALSE(cpumask_test_cpu(0, &c.cbcpu));
	EXPECT_TRUE(cpumask_test_cpu(0, &c.pcpu));

	ASSERT_EQ(padata_add_cpu(pinst_, 0, PADATA_CPU_SERIAL | PADATA_CPU_PARALLEL), 0);
	ASSERT_EQ(r.count(), 5u);
	c = r.last();
	EXPECT_EQ(c.action, static_cast<unsigned long>(PADATA_CPU_SERIAL)) << "only the serial mask changed";
	EXPECT_TRUE(cpumask_equal(&c.cbcpu, cpu_active_mask));
}

TEST_F(PadataApi, NotifiersAreNotCalledWhenTheUsableMasksStayTheSame)
{
	started();
	Recorder r;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &r.nb), 0);
	struct cpumask all;
	cpumask_setall(&all);
	ASSERT_EQ(padata_set_cpumasks(pinst_, &all, &all), 0);
	ASSERT_EQ(padata_add_cpu(pinst_, 0, PADATA_CPU_PARALLEL), 0);
	if (nr_cpu_ids < NR_CPUS) {
		/* Adding a nonexistent CPU changes the user mask, not the usable one. */
		struct cpumask more = all;
		cpumask_set_cpu(nr_cpu_ids, &more);
		ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &more), 0);
	}
	EXPECT_EQ(r.count(), 0u);
}

TEST_F(PadataApi, UnregisteredNotifiersAreNotCalled)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	Recorder r;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &r.nb), 0);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &r.nb), 0);
	ASSERT_EQ(padata_remove_cpu(pinst_, 0, PADATA_CPU_PARALLEL), 0);
	EXPECT_EQ(r.count(), 0u);
}

TEST_F(PadataApi, NotifiersRunByPriorityThenRegistrationOrderAndStopOnStopMask)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	std::vector<int> order;
	Recorder low(-5, 1), mid_a(0, 2), mid_b(0, 3), high(10, 4);
	for (Recorder *r : {&low, &mid_a, &mid_b, &high}) {
		r->order = &order;
		ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &r->nb), 0);
	}
	ASSERT_EQ(padata_remove_cpu(pinst_, 0, PADATA_CPU_PARALLEL), 0);
	EXPECT_EQ(order, (std::vector<int>{4, 2, 3, 1}));
	order.clear();
	mid_a.ret = NOTIFY_STOP;
	ASSERT_EQ(padata_add_cpu(pinst_, 0, PADATA_CPU_PARALLEL), 0);
	EXPECT_EQ(order, (std::vector<int>{4, 2})) << "NOTIFY_STOP ends the chain";
}

TEST_F(PadataApi, PadataCallsFromInsideANotifier)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	struct Inner {
		struct notifier_block nb;
		struct padata_instance *pinst;
		struct notifier_block spare;
		int reg = 1, unreg = 1, set = 1, add = 1, get = 1, down = 1, up = 1;
		struct cpumask got_pcpu;
		struct cpumask data_pcpu;
	} in;
	in.pinst = pinst_;
	in.spare = {Recorder::call, nullptr, 0};
	in.nb = {[](struct notifier_block *nb, unsigned long, void *data) -> int {
			 Inner *me = container_of(nb, Inner, nb);
			 struct cpumask m = mask_of({0});
			 me->reg = padata_register_cpumask_notifier(me->pinst, &me->spare);
			 me->unreg = padata_unregister_cpumask_notifier(me->pinst, &me->nb);
			 me->set = padata_set_cpumask(me->pinst, PADATA_CPU_SERIAL, &m);
			 me->add = padata_add_cpu(me->pinst, 0, PADATA_CPU_PARALLEL);
			 me->down = cpu_down(nr_cpu_ids - 1);
			 me->up = cpu_up(0);
			 struct padata_cpumask cur;
			 me->get = padata_get_cpumask(me->pinst, &cur);
			 cpumask_copy(&me->got_pcpu, cur.pcpu);
			 cpumask_copy(&me->data_pcpu, static_cast<struct padata_cpumask *>(data)->pcpu);
			 return NOTIFY_OK;
		 },
		 nullptr, 0};
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &in.nb), 0);
	int err = 1;
	run_bounded("padata_remove_cpu with a notifier calling padata functions",
		    [&] { err = padata_remove_cpu(pinst_, 0, PADATA_CPU_PARALLEL); },
		    milliseconds(10000));
	ASSERT_EQ(err, 0);
	EXPECT_EQ(in.reg, -EDEADLK);
	EXPECT_EQ(in.unreg, -EDEADLK);
	EXPECT_EQ(in.set, -EDEADLK);
	EXPECT_EQ(in.add, -EDEADLK);
	EXPECT_EQ(in.down, -EDEADLK);
	EXPECT_EQ(in.up, -EDEADLK);
	EXPECT_EQ(in.get, 0) << "reading the masks from a notifier must work (no lock held)";
	EXPECT_TRUE(cpumask_equal(&in.got_pcpu, &in.data_pcpu));
	EXPECT_FALSE(cpumask_test_cpu(0, &in.data_pcpu));
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, &in.nb), 0) << "the refused unregister left it registered";
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, &in.spare), -ENOENT);
}

/* ---- extensions ---------------------------------------------------------- */

TEST_F(PadataApi, GetCpumaskRejectsNullArguments)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct padata_cpumask m;
	EXPECT_EQ(padata_get_cpumask(nullptr, &m), -EINVAL);
	EXPECT_EQ(padata_get_cpumask(pinst_, nullptr), -EINVAL);
}

TEST_F(PadataApi, TestSetSeqRejectsNullAndAStartedInstance)
{
	EXPECT_EQ(padata_test_set_seq(nullptr, 5), -EINVAL);
	started();
	EXPECT_EQ(padata_test_set_seq(pinst_, 5), -EBUSY);
	padata_stop(pinst_);
	EXPECT_EQ(padata_test_set_seq(pinst_, 5), 0);
	EXPECT_EQ(padata_test_set_seq(pinst_, 0xFFFFFFFFu), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	std::vector<Job> jobs(8);
	std::vector<Job *> ptrs;
	for (Job &j : jobs) {
		ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
		ptrs.push_back(&j);
	}
	ASSERT_TRUE(wait_done(ptrs));
}

TEST_F(PadataApi, AbiQueryAnswersEveryPublicLayout)
{
#define EXPECT_ABI(expr, text) EXPECT_EQ(padata_abi_query(text), static_cast<long>(expr)) << text
	EXPECT_ABI(sizeof(struct padata_priv), "sizeof(struct padata_priv)");
	EXPECT_ABI(offsetof(struct padata_priv, next), "offsetof(struct padata_priv, next)");
	EXPECT_ABI(offsetof(struct padata_priv, pd), "offsetof(struct padata_priv, pd)");
	EXPECT_ABI(offsetof(struct padata_priv, seq_nr), "offsetof(struct padata_priv, seq_nr)");
	EXPECT_ABI(offsetof(struct padata_priv, cb_cpu), "offsetof(struct padata_priv, cb_cpu)");
	EXPECT_ABI(offsetof(struct padata_priv, info), "offsetof(struct padata_priv, info)");
	EXPECT_ABI(offsetof(struct padata_priv, state), "offsetof(struct padata_priv, state)");
	EXPECT_ABI(offsetof(struct padata_priv, parallel), "offsetof(struct padata_priv, parallel)");
	EXPECT_ABI(offsetof(struct padata_priv, serial), "offsetof(struct padata_priv, serial)");
	EXPECT_ABI(sizeof(struct work_struct), "sizeof(struct work_struct)");
	EXPECT_ABI(offsetof(struct work_struct, data), "offsetof(struct work_struct, data)");
	EXPECT_ABI(offsetof(struct work_struct, entry_next), "offsetof(struct work_struct, entry_next)");
	EXPECT_ABI(offsetof(struct work_struct, wq), "offsetof(struct work_struct, wq)");
	EXPECT_ABI(offsetof(struct work_struct, func), "offsetof(struct work_struct, func)");
	EXPECT_ABI(sizeof(struct notifier_block), "sizeof(struct notifier_block)");
	EXPECT_ABI(offsetof(struct notifier_block, notifier_call), "offsetof(struct notifier_block, notifier_call)");
	EXPECT_ABI(offsetof(struct notifier_block, next), "offsetof(struct notifier_block, next)");
	EXPECT_ABI(offsetof(struct notifier_block, priority), "offsetof(struct notifier_block, priority)");
	EXPECT_ABI(sizeof(struct cpumask), "sizeof(struct cpumask)");
	EXPECT_ABI(offsetof(struct cpumask, bits), "offsetof(struct cpumask, bits)");
	EXPECT_ABI(sizeof(struct padata_cpumask), "sizeof(struct padata_cpumask)");
	EXPECT_ABI(offsetof(struct padata_cpumask, pcpu), "offsetof(struct padata_cpumask, pcpu)");
	EXPECT_ABI(offsetof(struct padata_cpumask, cbcpu), "offsetof(struct padata_cpumask, cbcpu)");
	EXPECT_ABI(sizeof(struct padata_stats), "sizeof(struct padata_stats)");
	EXPECT_ABI(offsetof(struct padata_stats, accepted), "offsetof(struct padata_stats, accepted)");
	EXPECT_ABI(offsetof(struct padata_stats, completed), "offsetof(struct padata_stats, completed)");
	EXPECT_ABI(offsetof(struct padata_stats, busy), "offsetof(struct padata_stats, busy)");
	EXPECT_ABI(offsetof(struct padata_stats, reorder_depth), "offsetof(struct padata_stats, reorder_depth)");
	EXPECT_ABI(offsetof(struct padata_stats, reorder_depth_max),
		   "offsetof(struct padata_stats, reorder_depth_max)");
	EXPECT_ABI(offsetof(struct padata_stats, in_flight), "offsetof(struct padata_stats, in_flight)");
	EXPECT_ABI(offsetof(struct padata_stats, limit), "offsetof(struct padata_stats, limit)");
	EXPECT_ABI(offsetof(struct padata_stats, waiting_submitters),
		   "offsetof(struct padata_stats, waiting_submitters)");
#undef EXPECT_ABI
}

TEST_F(PadataApi, AbiQueryAnswersMinusOneForUnknownNames)
{
	EXPECT_EQ(padata_abi_query(nullptr), -1);
	EXPECT_EQ(padata_abi_query(""), -1);
	EXPECT_EQ(padata_abi_query("sizeof(struct nothing)"), -1);
	EXPECT_EQ(padata_abi_query("offsetof(struct padata_priv, nothing)"), -1);
	EXPECT_EQ(padata_abi_query("sizeof(struct padata_priv) "), -1);
	EXPECT_EQ(padata_abi_query("SIZEOF(STRUCT PADATA_PRIV)"), -1);
}
