/* SPDX-License-Identifier: MIT */
/*
 * misuse_test.cc - every wrong use of the API has a defined answer: a
 * documented errno, or a message on stderr and no effect. Never a crash, a
 * hang, a lost or a duplicated job.
 *
 * Jobs here can be "held": their parallel() keeps them and returns, and the
 * test finishes them later with padata_do_serial() from its own thread, so
 * it decides exactly which jobs are in flight at each step.
 */
#include "stress_util.h"

#include <climits>
#include <cstring>
#include <mutex>
#include <vector>

using namespace padata_stress;
using testing::internal::CaptureStderr;
using testing::internal::GetCapturedStderr;

namespace {

struct TJob;
typedef void (*hook_fn)(TJob *job);

/* A job; standard layout so container_of() recovers it. */
struct TJob {
	struct padata_priv priv;
	int id;
	bool hold;                   /* parallel() keeps it; the test finishes it */
	hook_fn in_parallel;         /* runs inside parallel(), before finishing */
	hook_fn in_serial;           /* runs inside serial() */
	std::atomic<int> parallel_calls;
	std::atomic<int> serial_calls;
	std::atomic<bool> parallel_returned;
	std::atomic<bool> hook_done;
	int rc[16];                  /* results recorded by hooks */
};

/* Everything the callbacks report, for the current test. */
struct Log {
	std::mutex lock;
	std::vector<int> serial_order;
	std::vector<TJob *> held;
	struct padata_instance *pinst = nullptr;
	struct workqueue_struct *wq = nullptr;
};
Log g;

void t_parallel(struct padata_priv *p)
{
	TJob *j = container_of(p, TJob, priv);
	j->parallel_calls.fetch_add(1);
	if (j->in_parallel) {
		j->in_parallel(j);
		j->hook_done.store(true);
	}
	if (j->hold) {
		std::lock_guard<std::mutex> l(g.lock);
		g.held.push_back(j);
		/* Under g.lock: release() cannot finish the job before this. */
		j->parallel_returned.store(true);
	} else {
		/* The last touch of the job: after padata_do_serial() serial() may
		 * already have run and the test may have let the job go out of scope. */
		j->parallel_returned.store(true);
		padata_do_serial(p);
	}
}

void t_serial(struct padata_priv *p)
{
	TJob *j = container_of(p, TJob, priv);
	{
		std::lock_guard<std::mutex> l(g.lock);
		g.serial_order.push_back(j->id);
	}
	if (j->in_serial) {
		j->in_serial(j);
		j->hook_done.store(true);
	}
	j->serial_calls.fetch_add(1);
}

void init_job(TJob *j, int id, bool hold = false)
{
	std::memset(static_cast<void *>(j), 0, sizeof(*j));
	j->priv.parallel = t_parallel;
	j->priv.serial = t_serial;
	j->id = id;
	j->hold = hold;
}

bool is_held(TJob *j)
{
	std::lock_guard<std::mutex> l(g.lock);
	return std::find(g.held.begin(), g.held.end(), j) != g.held.end() && j->parallel_returned.load();
}

/* Finishes a held job from the test thread (a foreign thread). */
void release(TJob *j)
{
	{
		std::lock_guard<std::mutex> l(g.lock);
		auto it = std::find(g.held.begin(), g.held.end(), j);
		ASSERT_NE(it, g.held.end()) << "job " << j->id << " is not held";
		g.held.erase(it);
	}
	padata_do_serial(&j->priv);
}

void release_all()
{
	std::vector<TJob *> held;
	{
		std::lock_guard<std::mutex> l(g.lock);
		held.swap(g.held);
	}
	for (TJob *j : held)
		padata_do_serial(&j->priv);
}

std::vector<int> serial_order()
{
	std::lock_guard<std::mutex> l(g.lock);
	return g.serial_order;
}

/* Bytes of the padata_priv, to show a refused call left it untouched. */
std::vector<unsigned char> bytes_of(const TJob &j)
{
	const unsigned char *b = reinterpret_cast<const unsigned char *>(&j.priv);
	return std::vector<unsigned char>(b, b + sizeof(j.priv));
}

/* Lets any wrongly duplicated callback show up before counts are checked. */
void settle()
{
	std::this_thread::sleep_for(milliseconds(30));
}

class Misuse : public ::testing::Test {
protected:
	static void SetUpTestSuite()
	{
		g.wq = create_workqueue("misuse");
		ASSERT_NE(g.wq, nullptr);
	}
	static void TearDownTestSuite()
	{
		destroy_workqueue(g.wq);
		g.wq = nullptr;
	}
	void SetUp() override
	{
		restore_all_cpus();
		{
			std::lock_guard<std::mutex> l(g.lock);
			g.serial_order.clear();
			g.held.clear();
		}
		pinst = padata_alloc_possible(g.wq);
		ASSERT_NE(pinst, nullptr);
		g.pinst = pinst;
		ASSERT_EQ(padata_start(pinst), 0);
	}
	void TearDown() override
	{
		release_all();
		padata_free(pinst);
		g.pinst = nullptr;
		restore_all_cpus();
	}

	/* Submits @j and waits until its parallel() has returned. */
	void submit_and_wait(TJob *j, int cb_cpu = 0)
	{
		ASSERT_EQ(padata_do_parallel(pinst, &j->priv, cb_cpu), 0);
		ASSERT_TRUE(wait_until([j] { return j->parallel_returned.load(); })) << "job " << j->id;
	}

	struct padata_instance *pinst = nullptr;
};

/* ---- a job still in flight -------------------------------------------------- */

TEST_F(Misuse, SubmittingAJobWhoseParallelIsNotFinishedIsRefusedAndLeavesItIntact)
{
	TJob a;
	init_job(&a, 1, true);
	submit_and_wait(&a);
	ASSERT_TRUE(is_held(&a));

	auto before = bytes_of(a);
	EXPECT_EQ(padata_do_parallel(pinst, &a.priv, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst, &a.priv, static_cast<int>(nr_cpu_ids - 1)), -EINVAL);
	EXPECT_EQ(bytes_of(a), before) << "a refused submission changed the job";

	release(&a);
	ASSERT_TRUE(wait_until([&] { return a.serial_calls.load() == 1; }));
	settle();
	EXPECT_EQ(a.parallel_calls.load(), 1);
	EXPECT_EQ(a.serial_calls.load(), 1);

	/* From serial() on it is the caller's again: it can be submitted anew. */
	a.hold = false;
	a.parallel_returned.store(false);
	ASSERT_EQ(padata_do_parallel(pinst, &a.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return a.serial_calls.load() == 2; }));
	settle();
	EXPECT_EQ(a.parallel_calls.load(), 2);
	EXPECT_EQ(a.serial_calls.load(), 2);
}

TEST_F(Misuse, SubmittingAFinishedJobWaitingForItsTurnIsRefused)
{
	TJob a, b;
	init_job(&a, 1, true);
	init_job(&b, 2, false); /* finishes at once, then waits behind a */
	submit_and_wait(&a);
	submit_and_wait(&b);
	settle();
	ASSERT_EQ(b.serial_calls.load(), 0) << "b ran serial() before the earlier job a";

	auto before = bytes_of(b);
	EXPECT_EQ(padata_do_parallel(pinst, &b.priv, 0), -EINVAL);
	EXPECT_EQ(bytes_of(b), before);

	release(&a);
	ASSERT_TRUE(wait_until([&] { return b.serial_calls.load() == 1; }));
	settle();
	EXPECT_EQ(serial_order(), (std::vector<int>{1, 2}));
	EXPECT_EQ(a.serial_calls.load(), 1);
	EXPECT_EQ(b.serial_calls.load(), 1);
	EXPECT_EQ(b.parallel_calls.load(), 1);
}

/* ---- padata_do_serial() on a job that is not in flight ---------------------- */

TEST_F(Misuse, DoSerialTwiceOnAJobWaitingForItsTurnIsReportedAndIgnored)
{
	TJob a, b;
	init_job(&a, 1, true);
	init_job(&b, 2, true);
	submit_and_wait(&a);
	submit_and_wait(&b);

	release(&b); /* b waits behind a in the reorder stage */
	CaptureStderr();
	padata_do_serial(&b.priv);
	std::string err = GetCapturedStderr();
	EXPECT_NE(err.find(addr_hex(&b)), std::string::npos) << "stderr was: " << err;

	release(&a);
	ASSERT_TRUE(wait_until([&] { return b.serial_calls.load() >= 1; }));
	settle();
	EXPECT_EQ(serial_order(), (std::vector<int>{1, 2}));
	EXPECT_EQ(b.serial_calls.load(), 1);
}

TEST_F(Misuse, DoSerialAfterSerialRanIsReportedAndIgnored)
{
	TJob a, c;
	init_job(&a, 1, true);
	submit_and_wait(&a);
	release(&a);
	ASSERT_TRUE(wait_until([&] { return a.serial_calls.load() == 1; }));

	CaptureStderr();
	padata_do_serial(&a.priv);
	std::string err = GetCapturedStderr();
	EXPECT_NE(err.find(addr_hex(&a)), std::string::npos) << "stderr was: " << err;
	settle();
	EXPECT_EQ(a.serial_calls.load(), 1);

	/* The instance is unharmed: the next job runs, once. */
	init_job(&c, 3);
	ASSERT_EQ(padata_do_parallel(pinst, &c.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return c.serial_calls.load() == 1; }));
	settle();
	EXPECT_EQ(serial_order(), (std::vector<int>{1, 3}));
}

TEST_F(Misuse, DoSerialOnAJobNeverSubmittedIsReportedAndIgnored)
{
	TJob never;
	init_job(&never, 9);
	CaptureStderr();
	padata_do_serial(&never.priv);
	std::string err = GetCapturedStderr();
	EXPECT_NE(err.find(addr_hex(&never)), std::string::npos) << "stderr was: " << err;

	struct padata_priv bare;
	std::memset(&bare, 0, sizeof(bare));
	CaptureStderr();
	padata_do_serial(&bare);
	err = GetCapturedStderr();
	EXPECT_NE(err.find(addr_hex(&bare)), std::string::npos) << "stderr was: " << err;

	settle();
	EXPECT_EQ(never.parallel_calls.load(), 0);
	EXPECT_EQ(never.serial_calls.load(), 0);
	EXPECT_TRUE(serial_order().empty());
}

/* ---- rejected arguments: the caller keeps the job ------------------------- */

TEST_F(Misuse, NullCallbacksAreRefusedWithEinval)
{
	TJob j;
	init_job(&j, 1);
	j.priv.parallel = nullptr;
	auto before = bytes_of(j);
	EXPECT_EQ(padata_do_parallel(pinst, &j.priv, 0), -EINVAL);
	EXPECT_EQ(bytes_of(j), before);

	init_job(&j, 1);
	j.priv.serial = nullptr;
	before = bytes_of(j);
	EXPECT_EQ(padata_do_parallel(pinst, &j.priv, 0), -EINVAL);
	EXPECT_EQ(bytes_of(j), before);

	init_job(&j, 1);
	j.priv.parallel = nullptr;
	j.priv.serial = nullptr;
	EXPECT_EQ(padata_do_parallel(pinst, &j.priv, 0), -EINVAL);

	init_job(&j, 1);
	EXPECT_EQ(padata_do_parallel(nullptr, &j.priv, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst, nullptr, 0), -EINVAL);
	settle();
	EXPECT_EQ(j.parallel_calls.load(), 0);
	EXPECT_TRUE(serial_order().empty());
}

TEST_F(Misuse, CbCpuOutsideTheUsableSerialMaskIsRefusedWithEinval)
{
	TJob j;
	init_job(&j, 1);
	for (int cb : {-1, INT_MIN, INT_MAX, static_cast<int>(nr_cpu_ids), NR_CPUS, NR_CPUS + 1})
		EXPECT_EQ(padata_do_parallel(pinst, &j.priv, cb), -EINVAL) << "cb_cpu " << cb;

	if (nr_cpu_ids >= 2) {
		int last = static_cast<int>(nr_cpu_ids - 1);
		ASSERT_EQ(padata_remove_cpu(pinst, last, PADATA_CPU_SERIAL), 0);
		EXPECT_EQ(padata_do_parallel(pinst, &j.priv, last), -EINVAL) << "cb_cpu removed from the mask";
		ASSERT_EQ(padata_add_cpu(pinst, last, PADATA_CPU_SERIAL), 0);
		ASSERT_EQ(cpu_down(static_cast<unsigned int>(last)), 0);
		EXPECT_EQ(padata_do_parallel(pinst, &j.priv, last), -EINVAL) << "cb_cpu taken down";
		ASSERT_EQ(cpu_up(static_cast<unsigned int>(last)), 0);
		ASSERT_EQ(padata_do_parallel(pinst, &j.priv, last), 0) << "cb_cpu back up";
		ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; }));
	}
	settle();
	EXPECT_EQ(j.parallel_calls.load(), nr_cpu_ids >= 2 ? 1 : 0);
}

TEST_F(Misuse, SubmittingToAStoppedOrNeverStartedInstanceIsRefused)
{
	TJob j;
	init_job(&j, 1);
	padata_stop(pinst);
	EXPECT_EQ(padata_do_parallel(pinst, &j.priv, 0), -EINVAL);
	ASSERT_EQ(padata_start(pinst), 0);
	EXPECT_EQ(padata_start(pinst), 0) << "starting twice";
	ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; }));

	struct padata_instance *fresh = padata_alloc_possible(g.wq);
	ASSERT_NE(fresh, nullptr);
	EXPECT_EQ(padata_do_parallel(fresh, &j.priv, 0), -EINVAL);
	padata_free(fresh);
}

TEST_F(Misuse, TheInflightLimitAnswersEbusyAndTheCallerKeepsTheJob)
{
	TJob a, b, c;
	EXPECT_EQ(padata_set_max_inflight(pinst, 2), -EBUSY) << "while started";
	EXPECT_EQ(padata_test_set_seq(pinst, 7), -EBUSY) << "while started";
	padata_stop(pinst);
	EXPECT_EQ(padata_set_max_inflight(pinst, 0), -EINVAL);
	EXPECT_EQ(padata_set_max_inflight(pinst, PADATA_MAX_INFLIGHT_LIMIT + 1), -EINVAL);
	EXPECT_EQ(padata_set_max_inflight(nullptr, 2), -EINVAL);
	ASSERT_EQ(padata_set_max_inflight(pinst, 2), 0);
	EXPECT_EQ(padata_get_max_inflight(pinst), 2u);
	EXPECT_EQ(padata_get_max_inflight(nullptr), 0u);
	ASSERT_EQ(padata_start(pinst), 0);

	init_job(&a, 1, true);
	init_job(&b, 2, true);
	init_job(&c, 3);
	submit_and_wait(&a);
	submit_and_wait(&b);
	auto before = bytes_of(c);
	EXPECT_EQ(padata_do_parallel(pinst, &c.priv, 0), -EBUSY);
	EXPECT_EQ(bytes_of(c), before);
	release(&a);
	release(&b);
	ASSERT_TRUE(wait_until([&] { return b.serial_calls.load() == 1; }));
	/* serial() returned: the slots are free again. */
	ASSERT_TRUE(wait_until([&] { return padata_do_parallel(pinst, &c.priv, 0) == 0; }));
	ASSERT_TRUE(wait_until([&] { return c.serial_calls.load() == 1; }));
	settle();
	EXPECT_EQ(serial_order(), (std::vector<int>{1, 2, 3}));
}

TEST_F(Misuse, NotifiersRegisteredTwiceUnknownOrNullAreRefused)
{
	struct notifier_block nb = {};
	nb.notifier_call = [](struct notifier_block *, unsigned long, void *) { return NOTIFY_OK; };
	struct notifier_block no_call = {};

	EXPECT_EQ(padata_register_cpumask_notifier(pinst, &nb), 0);
	EXPECT_EQ(padata_register_cpumask_notifier(pinst, &nb), -EEXIST);
	EXPECT_EQ(padata_register_cpumask_notifier(pinst, &no_call), -EINVAL);
	EXPECT_EQ(padata_register_cpumask_notifier(pinst, nullptr), -EINVAL);
	EXPECT_EQ(padata_register_cpumask_notifier(nullptr, &nb), -EINVAL);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst, &nb), 0);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst, &nb), -ENOENT);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst, nullptr), -EINVAL);
	EXPECT_EQ(padata_unregister_cpumask_notifier(nullptr, &nb), -EINVAL);
}

TEST_F(Misuse, BadMaskArgumentsAreRefusedAndChangeNothing)
{
	struct padata_cpumask before_m, after_m;
	ASSERT_EQ(padata_get_cpumask(pinst, &before_m), 0);
	struct cpumask m = mask_of({0});
	for (int type : {0, PADATA_CPU_PARALLEL | PADATA_CPU_SERIAL, 4, -1})
		EXPECT_EQ(padata_set_cpumask(pinst, type, &m), -EINVAL) << "type " << type;
	EXPECT_EQ(padata_set_cpumask(pinst, PADATA_CPU_PARALLEL, nullptr), -EINVAL);
	EXPECT_EQ(padata_set_cpumasks(pinst, nullptr, &m), -EINVAL);
	EXPECT_EQ(padata_set_cpumasks(pinst, &m, nullptr), -EINVAL);
	EXPECT_EQ(padata_set_cpumasks(nullptr, &m, &m), -EINVAL);
	for (int cpu : {-1, INT_MIN, INT_MAX, static_cast<int>(nr_cpu_ids), NR_CPUS}) {
		EXPECT_EQ(padata_add_cpu(pinst, cpu, PADATA_CPU_PARALLEL), -EINVAL) << "cpu " << cpu;
		EXPECT_EQ(padata_remove_cpu(pinst, cpu, PADATA_CPU_SERIAL), -EINVAL) << "cpu " << cpu;
	}
	for (int bits : {0, 4, 7, -1}) {
		EXPECT_EQ(padata_add_cpu(pinst, 0, bits), -EINVAL) << "mask " << bits;
		EXPECT_EQ(padata_remove_cpu(pinst, 0, bits), -EINVAL) << "mask " << bits;
	}
	EXPECT_EQ(padata_add_cpu(nullptr, 0, PADATA_CPU_PARALLEL), -EINVAL);
	EXPECT_EQ(cpu_down(nr_cpu_ids), -EINVAL);
	EXPECT_EQ(cpu_up(UINT_MAX), -EINVAL);
	ASSERT_EQ(padata_get_cpumask(pinst, &after_m), 0);
	EXPECT_TRUE(cpumask_equal(before_m.pcpu, after_m.pcpu)) << mask_str(after_m.pcpu);
	EXPECT_TRUE(cpumask_equal(before_m.cbcpu, after_m.cbcpu)) << mask_str(after_m.cbcpu);
}

TEST_F(Misuse, TakingTheLastActiveCpuDownIsRefusedWithEbusy)
{
	for (unsigned int c = 1; c < nr_cpu_ids; c++)
		ASSERT_EQ(cpu_down(c), 0) << "cpu " << c;
	EXPECT_EQ(cpu_down(0), -EBUSY);
	struct cpumask active;
	padata_cpu_active_snapshot(&active);
	EXPECT_TRUE(cpumask_test_cpu(0, &active));

	TJob j;
	init_job(&j, 1);
	ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0) << "one CPU left still works";
	ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; }));
}

TEST_F(Misuse, NullArgumentsOfTeardownCallsAreNoOps)
{
	padata_free(nullptr);
	padata_stop(nullptr);
	destroy_workqueue(nullptr);
	free_cpumask_var(nullptr);
	EXPECT_EQ(padata_start(nullptr), -EINVAL);
	struct padata_cpumask m;
	EXPECT_EQ(padata_get_cpumask(nullptr, &m), -EINVAL);
	EXPECT_EQ(padata_get_cpumask(pinst, nullptr), -EINVAL);
	EXPECT_EQ(padata_test_set_seq(nullptr, 1), -EINVAL);
}

TEST_F(Misuse, AllocWithoutAQueueOrAnActiveCpuFailsWithEinval)
{
	struct cpumask all, none;
	cpumask_setall(&all);
	cpumask_clear(&none);
	errno = 0;
	EXPECT_EQ(padata_alloc(nullptr, &all, &all), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(padata_alloc(g.wq, &none, &all), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(padata_alloc(g.wq, &all, &none), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(padata_alloc(g.wq, nullptr, &all), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(padata_alloc_possible(nullptr), nullptr);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(Misuse, DestroyingAWorkqueueThatAnInstanceUsesIsRefused)
{
	CaptureStderr();
	destroy_workqueue(g.wq);
	std::string err = GetCapturedStderr();
	EXPECT_FALSE(err.empty()) << "no message for a refused destroy_workqueue";

	TJob j;
	init_job(&j, 1);
	ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0) << "the queue must still work";
	ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; }));
}

/* ---- control calls from inside callbacks ---------------------------------- */

/* Every mask change a callback might try; each must answer -EDEADLK. */
void try_mask_changes(TJob *j)
{
	struct cpumask all;
	cpumask_copy(&all, cpu_possible_mask);
	struct cpumask one = mask_of({0});
	j->rc[0] = padata_set_cpumask(g.pinst, PADATA_CPU_PARALLEL, &one);
	j->rc[1] = padata_set_cpumask(g.pinst, PADATA_CPU_SERIAL, &all);
	j->rc[2] = padata_set_cpumasks(g.pinst, &one, &one);
	j->rc[3] = padata_add_cpu(g.pinst, 0, PADATA_CPU_PARALLEL);
	j->rc[4] = padata_remove_cpu(g.pinst, 0, PADATA_CPU_SERIAL | PADATA_CPU_PARALLEL);
	j->rc[5] = cpu_down(nr_cpu_ids - 1);
	j->rc[6] = cpu_up(0);
	j->rc[7] = padata_set_max_inflight(g.pinst, 5);
}

void expect_all_edeadlk(const TJob &j, const char *where)
{
	static const char *const what[] = {
		"padata_set_cpumask(PARALLEL)", "padata_set_cpumask(SERIAL)", "padata_set_cpumasks",
		"padata_add_cpu", "padata_remove_cpu", "cpu_down", "cpu_up",
	};
	for (int i = 0; i < 7; i++)
		EXPECT_EQ(j.rc[i], -EDEADLK) << what[i] << " from " << where;
	/* Documented as -EBUSY while started and -EDEADLK from a worker; either refuses. */
	EXPECT_TRUE(j.rc[7] == -EDEADLK || j.rc[7] == -EBUSY)
		<< "padata_set_max_inflight from " << where << ": " << j.rc[7];
}

TEST_F(Misuse, MaskChangesAndHotplugFromInsideParallelAnswerEdeadlk)
{
	struct padata_cpumask before_m, after_m;
	ASSERT_EQ(padata_get_cpumask(pinst, &before_m), 0);
	TJob j;
	init_job(&j, 1);
	j.in_parallel = try_mask_changes;
	ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; })) << "a callback deadlocked";
	expect_all_edeadlk(j, "parallel()");
	ASSERT_EQ(padata_get_cpumask(pinst, &after_m), 0);
	EXPECT_TRUE(cpumask_equal(before_m.pcpu, after_m.pcpu));
	EXPECT_TRUE(cpumask_equal(before_m.cbcpu, after_m.cbcpu));
	EXPECT_EQ(padata_get_max_inflight(pinst), static_cast<unsigned int>(MAX_OBJ_NUM));
}

TEST_F(Misuse, MaskChangesAndHotplugFromInsideSerialAnswerEdeadlk)
{
	TJob j;
	init_job(&j, 1);
	j.in_serial = try_mask_changes;
	ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; })) << "a callback deadlocked";
	expect_all_edeadlk(j, "serial()");
	struct cpumask active;
	padata_cpu_active_snapshot(&active);
	EXPECT_TRUE(cpumask_equal(&active, cpu_possible_mask)) << mask_str(&active);
}

void stop_inside(TJob *j)
{
	padata_stop(g.pinst);
	TJob probe;
	init_job(&probe, 99);
	j->rc[0] = padata_do_parallel(g.pinst, &probe.priv, 0);
}

TEST_F(Misuse, StopFromInsideACallbackRefusesNewJobsWithoutWaiting)
{
	for (int where = 0; where < 2; where++) {
		SCOPED_TRACE(where == 0 ? "from parallel()" : "from serial()");
		TJob j, later;
		init_job(&j, 1);
		(where == 0 ? j.in_parallel : j.in_serial) = stop_inside;
		ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0);
		ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; })) << "padata_stop waited for itself";
		EXPECT_EQ(j.rc[0], -EINVAL) << "a submission right after the stop";
		init_job(&later, 2);
		EXPECT_EQ(padata_do_parallel(pinst, &later.priv, 0), -EINVAL) << "the instance should be stopped";
		ASSERT_EQ(padata_start(pinst), 0);
		ASSERT_EQ(padata_do_parallel(pinst, &later.priv, 0), 0);
		ASSERT_TRUE(wait_until([&] { return later.serial_calls.load() == 1; }));
	}
}

void free_inside(TJob *j)
{
	(void)j;
	padata_free(g.pinst);
}

TEST_F(Misuse, FreeFromInsideACallbackIsReportedAndIgnored)
{
	for (int where = 0; where < 2; where++) {
		SCOPED_TRACE(where == 0 ? "from parallel()" : "from serial()");
		TJob j, later;
		init_job(&j, 1);
		(where == 0 ? j.in_parallel : j.in_serial) = free_inside;
		CaptureStderr();
		ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0);
		bool done = wait_until([&] { return j.serial_calls.load() == 1; });
		std::string err = GetCapturedStderr();
		ASSERT_TRUE(done) << "padata_free waited for itself";
		EXPECT_FALSE(err.empty()) << "padata_free from a callback printed nothing";

		/* Nothing was freed: the instance keeps working. */
		init_job(&later, 2);
		ASSERT_EQ(padata_do_parallel(pinst, &later.priv, 0), 0);
		ASSERT_TRUE(wait_until([&] { return later.serial_calls.load() == 1; }));
	}
}

void destroy_wq_inside(TJob *j)
{
	(void)j;
	destroy_workqueue(g.wq);
}

TEST_F(Misuse, DestroyWorkqueueFromItsOwnWorkerIsRefused)
{
	TJob j, later;
	init_job(&j, 1);
	j.in_parallel = destroy_wq_inside;
	CaptureStderr();
	ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0);
	bool done = wait_until([&] { return j.serial_calls.load() == 1; });
	std::string err = GetCapturedStderr();
	ASSERT_TRUE(done);
	EXPECT_FALSE(err.empty());
	init_job(&later, 2);
	ASSERT_EQ(padata_do_parallel(pinst, &later.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return later.serial_calls.load() == 1; }));
}

void submit_inside(TJob *j)
{
	/* A callback may submit: no padata lock is held around it. */
	static TJob child;
	init_job(&child, 100 + j->id);
	j->rc[0] = padata_do_parallel(g.pinst, &child.priv, 0);
}

/* ---- notifiers calling back into padata ----------------------------------- */

struct NotifierProbe {
	struct notifier_block nb;
	std::atomic<int> calls;
	int rc[6];
};

int misbehaving_notifier(struct notifier_block *nb, unsigned long, void *)
{
	NotifierProbe *p = container_of(nb, NotifierProbe, nb);
	struct cpumask all;
	cpumask_copy(&all, cpu_possible_mask);
	struct notifier_block other = {};
	other.notifier_call = misbehaving_notifier;
	p->rc[0] = padata_set_cpumask(g.pinst, PADATA_CPU_PARALLEL, &all);
	p->rc[1] = padata_add_cpu(g.pinst, 0, PADATA_CPU_SERIAL);
	p->rc[2] = padata_register_cpumask_notifier(g.pinst, &other);
	p->rc[3] = padata_unregister_cpumask_notifier(g.pinst, nb);
	p->rc[4] = cpu_down(0);
	p->rc[5] = cpu_up(0);
	p->calls.fetch_add(1);
	return NOTIFY_OK;
}

TEST_F(Misuse, ControlCallsFromInsideANotifierAnswerEdeadlk)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs 2 CPUs to change a mask";
	NotifierProbe p;
	std::memset(static_cast<void *>(&p), 0, sizeof(p));
	p.nb.notifier_call = misbehaving_notifier;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst, &p.nb), 0);
	ASSERT_EQ(padata_remove_cpu(pinst, static_cast<int>(nr_cpu_ids - 1), PADATA_CPU_PARALLEL), 0);
	ASSERT_GE(p.calls.load(), 1) << "no notifier call for a changed usable mask";
	static const char *const what[] = {
		"padata_set_cpumask", "padata_add_cpu", "padata_register_cpumask_notifier",
		"padata_unregister_cpumask_notifier", "cpu_down", "cpu_up",
	};
	for (int i = 0; i < 6; i++)
		EXPECT_EQ(p.rc[i], -EDEADLK) << what[i] << " from a notifier";
	/* Still registered (its own unregister was refused): one more call. */
	int calls = p.calls.load();
	ASSERT_EQ(padata_add_cpu(pinst, static_cast<int>(nr_cpu_ids - 1), PADATA_CPU_PARALLEL), 0);
	EXPECT_EQ(p.calls.load(), calls + 1);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst, &p.nb), 0);
}

TEST_F(Misuse, CallbacksMaySubmitJobsBecauseNoLockIsHeld)
{
	TJob j;
	init_job(&j, 1);
	j.in_serial = submit_inside;
	ASSERT_EQ(padata_do_parallel(pinst, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; }));
	EXPECT_EQ(j.rc[0], 0);
	ASSERT_TRUE(wait_until([&] { return serial_order().size() == 2; })) << "the child job never ran";
	EXPECT_EQ(serial_order(), (std::vector<int>{1, 101}));
}

} /* namespace */
