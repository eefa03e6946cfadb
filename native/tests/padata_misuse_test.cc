/* SPDX-License-Identifier: MIT */
/*
 * padata_misuse_test.cc - every wrong use of the API has a defined answer:
 * a documented errno, or a message on stderr and no effect. Never a crash, a
 * hang, a lost or a duplicated job.
 *
 * Here: jobs submitted or finished in the wrong state, NULL callbacks, and
 * control calls from inside callbacks. The rejected arguments of each call
 * are in padata_api_test (also a refused destroy_workqueue() and control
 * calls from a notifier), cpu_down()/cpu_up() misuse in padata_hotplug_test,
 * destroy_workqueue() from its own worker in workqueue_test.
 *
 * Jobs here can be "held": their parallel() keeps them and returns, and the
 * test finishes them later with padata_do_serial() from its own thread, so
 * it decides exactly which jobs are in flight at each step.
 */
#include "test_util.h"

#include <cstring>
#include <mutex>
#include <vector>

using namespace padata_test;
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
	struct padata_instance *pinst = nullptr; /* the fixture's, for the hooks */
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

/* A started instance on every CPU (pinst_, also g.pinst for the hooks). */
class Misuse : public InstanceTest {
protected:
	Misuse() : InstanceTest("misuse") {}

	void SetUp() override
	{
		InstanceTest::SetUp();
		{
			std::lock_guard<std::mutex> l(g.lock);
			g.serial_order.clear();
			g.held.clear();
		}
		ASSERT_NE(started(), nullptr);
		g.pinst = pinst_;
	}
	void TearDown() override
	{
		release_all(); /* before padata_free(), which waits for held jobs */
		g.pinst = nullptr;
		InstanceTest::TearDown();
	}

	/* Submits @j and waits until its parallel() has returned. */
	void submit_and_wait(TJob *j, int cb_cpu = 0)
	{
		ASSERT_EQ(padata_do_parallel(pinst_, &j->priv, cb_cpu), 0);
		ASSERT_TRUE(wait_until([j] { return j->parallel_returned.load(); })) << "job " << j->id;
	}
};

/* ---- a job still in flight -------------------------------------------------- */

TEST_F(Misuse, SubmittingAJobWhoseParallelIsNotFinishedIsRefusedAndLeavesItIntact)
{
	TJob a;
	init_job(&a, 1, true);
	submit_and_wait(&a);
	ASSERT_TRUE(is_held(&a));

	auto before = bytes_of(a);
	EXPECT_EQ(padata_do_parallel(pinst_, &a.priv, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel(pinst_, &a.priv, static_cast<int>(nr_cpu_ids - 1)), -EINVAL);
	EXPECT_EQ(bytes_of(a), before) << "a refused submission changed the job";

	release(&a);
	ASSERT_TRUE(wait_until([&] { return a.serial_calls.load() == 1; }));
	settle();
	EXPECT_EQ(a.parallel_calls.load(), 1);
	EXPECT_EQ(a.serial_calls.load(), 1);

	/* From serial() on it is the caller's again: it can be submitted anew. */
	a.hold = false;
	a.parallel_returned.store(false);
	ASSERT_EQ(padata_do_parallel(pinst_, &a.priv, 0), 0);
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
	EXPECT_EQ(padata_do_parallel(pinst_, &b.priv, 0), -EINVAL);
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
	ASSERT_EQ(padata_do_parallel(pinst_, &c.priv, 0), 0);
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
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	EXPECT_EQ(bytes_of(j), before);

	init_job(&j, 1);
	j.priv.serial = nullptr;
	before = bytes_of(j);
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	EXPECT_EQ(bytes_of(j), before);

	init_job(&j, 1);
	j.priv.parallel = nullptr;
	j.priv.serial = nullptr;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);

	settle();
	EXPECT_EQ(j.parallel_calls.load(), 0);
	EXPECT_TRUE(serial_order().empty());

	/* Refused, not kept: with both callbacks the same job runs, once. */
	init_job(&j, 1);
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; }));
	settle();
	EXPECT_EQ(j.parallel_calls.load(), 1);
	EXPECT_EQ(serial_order(), (std::vector<int>{1}));
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
	ASSERT_EQ(padata_get_cpumask(pinst_, &before_m), 0);
	TJob j;
	init_job(&j, 1);
	j.in_parallel = try_mask_changes;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; })) << "a callback deadlocked";
	expect_all_edeadlk(j, "parallel()");
	ASSERT_EQ(padata_get_cpumask(pinst_, &after_m), 0);
	EXPECT_TRUE(cpumask_equal(before_m.pcpu, after_m.pcpu));
	EXPECT_TRUE(cpumask_equal(before_m.cbcpu, after_m.cbcpu));
	EXPECT_EQ(padata_get_max_inflight(pinst_), static_cast<unsigned int>(MAX_OBJ_NUM));
}

TEST_F(Misuse, MaskChangesAndHotplugFromInsideSerialAnswerEdeadlk)
{
	TJob j;
	init_job(&j, 1);
	j.in_serial = try_mask_changes;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
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
		ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
		ASSERT_TRUE(wait_until([&] { return j.serial_calls.load() == 1; })) << "padata_stop waited for itself";
		EXPECT_EQ(j.rc[0], -EINVAL) << "a submission right after the stop";
		init_job(&later, 2);
		EXPECT_EQ(padata_do_parallel(pinst_, &later.priv, 0), -EINVAL) << "the instance should be stopped";
		ASSERT_EQ(padata_start(pinst_), 0);
		ASSERT_EQ(padata_do_parallel(pinst_, &later.priv, 0), 0);
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
		ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
		bool done = wait_until([&] { return j.serial_calls.load() == 1; });
		std::string err = GetCapturedStderr();
		ASSERT_TRUE(done) << "padata_free waited for itself";
		EXPECT_FALSE(err.empty()) << "padata_free from a callback printed nothing";

		/* Nothing was freed: the instance keeps working. */
		init_job(&later, 2);
		ASSERT_EQ(padata_do_parallel(pinst_, &later.priv, 0), 0);
		ASSERT_TRUE(wait_until([&] { return later.serial_calls.load() == 1; }));
	}
}

} /* namespace */
