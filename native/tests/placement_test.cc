/* SPDX-License-Identifier: MIT */
/*
 * placement_test.cc - which parallel CPU a job gets (docs/contract.md
 * section 2, "Where parallel() runs").
 *
 * - Idle: a job submitted when nothing is in flight runs parallel() on
 *   its cb_cpu when that CPU is in the parallel mask, so one worker runs
 *   parallel() and serial() in one wake-up. Deterministic: the test submits
 *   each job after the previous one's serial() returned and was counted.
 *   Not on an instance with shells (one shell's long parallel() there
 *   would hold back the others' serial()): round robin.
 * - Under load: jobs submitted while an earlier one is held in parallel()
 *   keep the round robin over the parallel mask while their turns' queues
 *   are empty, so they run on the other parallel CPUs while cb_cpu's
 *   worker is held (a latch, no timing).
 * - Runs: once the queues of a job's turn and of its run (8 consecutive
 *   sequence numbers) both hold jobs and neither worker is parked, the
 *   job goes to its run's CPU; not with shells, and not while a worker
 *   waits for its wake-up (the test stalls that wake-up with the
 *   queue_between hook). The pick hook reports every choice.
 * - No job waits behind a busy worker while another sleeps: the job queued
 *   behind a held worker is taken by an idle one (its submitter wakes it),
 *   and so is the rest of a batch whose first job blocks (its worker wakes
 *   one; the parallel_enter hook keeps the submitter from doing it first).
 * - The rule follows the masks: a cb_cpu outside the parallel mask (by a
 *   mask change or hotplug) is never picked, and is picked again once it
 *   is back.
 *
 * The idle rule also needs cb_cpu's worker to have lately waited long for
 * work, and the submitter off cb_cpu's real CPU: the suite runs with
 * PADATA_SPIN_US=0 (workers that never spin always have waited long), see
 * native/tests/CMakeLists.txt, and pins the test thread to another real
 * CPU for each idle job. Before each idle submission the test waits for
 * padata_get_stats() to show nothing in flight (serial() has returned and
 * been counted).
 *
 * Run on the real CPUs and on 3, 8 and 64 virtual ones (parallel counts
 * that are and are not powers of two, and more workers than cores).
 */
#include "test_util.h"

using namespace padata_test;

namespace {

class PadataPlacement : public InstanceTest {
protected:
	PadataPlacement() : InstanceTest("placement") {}

	void SetUp() override
	{
		InstanceTest::SetUp();
		ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_), 0);
	}
	void TearDown() override
	{
		pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
		InstanceTest::TearDown();
	}

	/* Two real CPUs at least: the submitter can run off any cb_cpu's. */
	bool two_hosts() const { return CPU_COUNT(&saved_) >= 2 && padata_nr_host_cpus() >= 2; }

	/* Pins the calling thread to a real CPU that does not run @cb_cpu's worker. */
	void pin_away_from(int cb_cpu)
	{
		int host = padata_cpu_to_host(static_cast<unsigned int>(cb_cpu));
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (c == host || !CPU_ISSET(c, &saved_))
				continue;
			cpu_set_t one;
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
			return;
		}
		FAIL() << "no real CPU besides " << host;
	}

	/* Waits until nothing is in flight (every serial() returned and counted). */
	void wait_idle()
	{
		EXPECT_TRUE(wait_until([&] {
			struct padata_stats st;
			return padata_get_stats(pinst_, &st) == 0 && st.in_flight == 0;
		}));
	}

	/* Submits @j with @cb_cpu at idle, from off cb_cpu's real CPU, and waits
	 * until it completed. */
	void run_idle(Job &j, int cb_cpu)
	{
		j.reset();
		pin_away_from(cb_cpu);
		ASSERT_EQ(submit_retry(pinst_, &j, cb_cpu), 0);
		ASSERT_TRUE(wait_done({&j}));
		wait_idle();
	}

	cpu_set_t saved_;
};

} /* namespace */

TEST_F(PadataPlacement, IdleJobRunsParallelAndSerialOnItsCbCpu)
{
	if (!two_hosts())
		GTEST_SKIP() << "needs two real CPUs";
	started();
	std::vector<int> cpus = mask_cpus(cpu_active_mask);
	/* Job i's round-robin CPU is cpus[i % n]: ask for the next one, so that
	 * (with two CPUs or more) the round robin never picks cb_cpu itself;
	 * two rounds over every CPU. */
	const size_t n = 2 * cpus.size() + 1;
	Job j;
	for (size_t i = 0; i < n; i++) {
		int cb = cpus[(i + 1) % cpus.size()];
		run_idle(j, cb);
		EXPECT_EQ(j.parallel_cpu.load(), cb) << "job " << i;
		EXPECT_EQ(j.serial_cpu.load(), cb) << "job " << i;
	}
}

TEST_F(PadataPlacement, WithShellsIdleJobsKeepTheRoundRobin)
{
	if (cpumask_weight(cpu_active_mask) < 2 || !two_hosts())
		GTEST_SKIP() << "needs two CPUs, on two real ones";
	started();
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	std::vector<int> cpus = mask_cpus(cpu_active_mask);
	/* As in the test above, cb_cpu is never the round-robin CPU of the
	 * instance's job i; with a shell on the instance a long parallel() on
	 * cb_cpu's worker would hold back the other shells' serial(), so the
	 * idle choice is off and job i runs where the round robin puts it. */
	Job j;
	for (size_t i = 0; i < 2 * cpus.size() + 1; i++) {
		int cb = cpus[(i + 1) % cpus.size()];
		run_idle(j, cb);
		EXPECT_NE(j.parallel_cpu.load(), cb) << "job " << i;
		EXPECT_EQ(j.serial_cpu.load(), cb) << "job " << i;
	}
	/* The shell's own jobs still run and serialize on their cb_cpu. */
	for (size_t i = 0; i < cpus.size(); i++) {
		j.reset();
		ASSERT_EQ(padata_do_parallel_shell(ps, &j.priv, cpus[i]), 0);
		ASSERT_TRUE(wait_done({&j}));
		EXPECT_EQ(j.serial_cpu.load(), cpus[i]);
	}
	padata_free_shell(ps);
}

TEST_F(PadataPlacement, JobsBehindAHeldJobSpreadOverTheParallelCpus)
{
	if (cpumask_weight(cpu_active_mask) < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	std::vector<int> cpus = mask_cpus(cpu_active_mask);
	const int cb = cpus[0];
	const size_t pw = cpus.size();

	/* Job 0, at idle: on cb's worker (when the test can run off its real
	 * CPU), held there. */
	Gate hold;
	Job first;
	first.hold_parallel = &hold;
	if (two_hosts())
		pin_away_from(cb);
	ASSERT_EQ(submit_retry(pinst_, &first, cb), 0);
	ASSERT_TRUE(wait_until([&] { return first.parallel_entered.load(); }));
	const int held = first.parallel_cpu.load();
	if (two_hosts()) {
		EXPECT_EQ(held, cb);
	}

	/* Every later job is behind job 0 (in flight): round robin. pw
	 * consecutive sequence numbers cover every parallel CPU once, so
	 * pw - 1 of them go to CPUs other than the held one and run while its
	 * worker is held. Sent to cb instead, they would wait for an idle
	 * worker to take them. The last goes to the held worker's queue; its
	 * submitter wakes an idle worker (padata.c, "No job waits behind a
	 * busy worker"), which takes it: all pw run before the gate opens.
	 * Without that wake-up the last waited for the gate whenever the
	 * other workers had gone to sleep (they never spin here). */
	std::vector<std::unique_ptr<Job>> rest;
	std::vector<Job *> all{&first};
	for (size_t i = 0; i < pw; i++) {
		rest.push_back(std::make_unique<Job>());
		all.push_back(rest.back().get());
		ASSERT_EQ(submit_retry(pinst_, rest.back().get(), cb), 0);
	}
	auto ran = [&] {
		size_t n = 0;
		for (auto &j : rest)
			n += j->parallel_runs.load() > 0;
		return n;
	};
	EXPECT_TRUE(wait_until([&] { return ran() == pw; })) << ran() << " of " << pw;
	for (auto &j : rest) {
		if (j->parallel_runs.load() > 0) {
			EXPECT_NE(j->parallel_cpu.load(), held) << "ran on the held worker's CPU";
		}
	}
	for (auto &j : rest)
		EXPECT_FALSE(j->done()) << "serial() before the held job's";
	hold.open();
	ASSERT_TRUE(wait_done(all));
	for (auto &j : rest)
		EXPECT_EQ(j->serial_cpu.load(), cb);
}

TEST_F(PadataPlacement, CbCpuOutsideTheParallelMaskIsNotPicked)
{
	if (cpumask_weight(cpu_active_mask) < 2 || !two_hosts())
		GTEST_SKIP() << "needs two CPUs, on two real ones";
	started();
	const int c = last_cpu();
	Job j;

	struct cpumask p;
	cpumask_copy(&p, cpu_active_mask);
	cpumask_clear_cpu(static_cast<unsigned int>(c), &p);
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p), 0);
	for (int i = 0; i < 4; i++) {
		run_idle(j, c);
		EXPECT_NE(j.parallel_cpu.load(), c) << "job " << i << ": c left the parallel mask";
		EXPECT_TRUE(cpumask_test_cpu(j.parallel_cpu.load(), &p)) << j.parallel_cpu.load();
		EXPECT_EQ(j.serial_cpu.load(), c);
	}

	ASSERT_EQ(padata_add_cpu(pinst_, c, PADATA_CPU_PARALLEL), 0);
	run_idle(j, c);
	EXPECT_EQ(j.parallel_cpu.load(), c) << "back in the parallel mask";

	/* Hotplug: c down, a job with another cb_cpu; c up, c's jobs on c again. */
	ASSERT_EQ(cpu_down(static_cast<unsigned int>(c)), 0);
	const int other = mask_cpus(cpu_active_mask)[0];
	run_idle(j, other);
	EXPECT_EQ(j.parallel_cpu.load(), other);
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, c), -EINVAL) << "cb_cpu is down";
	j.reset();
	ASSERT_EQ(cpu_up(static_cast<unsigned int>(c)), 0);
	for (int i = 0; i < 3; i++) {
		run_idle(j, c);
		EXPECT_EQ(j.parallel_cpu.load(), c) << "job " << i << " after cpu_up";
		EXPECT_EQ(j.serial_cpu.load(), c);
	}
}

namespace {

/* The pick hook's record: (sequence number, parallel CPU) per accepted job. */
std::mutex g_pick_mu;
std::vector<std::pair<uint32_t, int>> g_picks;

void record_pick(uint32_t seq, int cpu)
{
	std::lock_guard<std::mutex> l(g_pick_mu);
	g_picks.emplace_back(seq, cpu);
}

/* The CPU the hook saw picked for @seq, or -1. */
int picked(uint32_t seq)
{
	std::lock_guard<std::mutex> l(g_pick_mu);
	for (auto &p : g_picks)
		if (p.first == seq)
			return p.second;
	return -1;
}

std::atomic<int> g_parks[NR_CPUS];
/* Set by the test's work item on the worker it runs on: parks counted after it. */
std::atomic<bool> g_nop_ran;

void count_park(int cpu)
{
	/* The work item and this hook run on the same worker thread, so a park
	 * of that worker is counted only once the item has run. */
	if (g_nop_ran.load())
		g_parks[cpu].fetch_add(1);
}

/* Runs its function when the test body leaves, by any path (an ASSERT too). */
struct OnExit {
	std::function<void()> f;
	~OnExit() { f(); }
};

} /* namespace */

/* Allocates and starts *@pinst on @wq with the parallel CPUs @pcpus and the serial CPU @cb. */
static void start_on(struct workqueue_struct *wq, struct padata_instance **pinst,
		     std::initializer_list<int> pcpus, int cb)
{
	struct cpumask pcpu = mask_of(pcpus);
	struct cpumask cbcpu = mask_of({ cb });
	*pinst = padata_alloc(wq, &pcpu, &cbcpu);
	ASSERT_NE(*pinst, nullptr);
	ASSERT_EQ(padata_start(*pinst), 0);
}

/*
 * Under load (the queue of the job's turn is not empty), runs of 8
 * consecutive sequence numbers share a CPU, one ring line's worth: the
 * run's CPU, when its queue is not empty either and neither worker is
 * parked. With both workers held in parallel() (running, not parked),
 * job 2 and job 3 find their turns' queues empty and take turns; from job
 * 4 on both queues hold jobs, and job s goes to the CPU of its run, s / 8.
 * Not with shells (as the idle choice): a run would queue one order
 * domain's jobs behind another's long parallel().
 */
static void under_load(struct workqueue_struct *wq, struct padata_instance **pinst, bool shell)
{
	std::vector<int> all = mask_cpus(cpu_active_mask);
	const int c[2] = { all[0], all[1] };
	ASSERT_NO_FATAL_FAILURE(start_on(wq, pinst, { c[0], c[1] }, c[0]));
	struct padata_shell *ps = nullptr;
	if (shell) {
		ps = padata_alloc_shell(*pinst);
		ASSERT_NE(ps, nullptr);
	}
	g_picks.clear();
	__atomic_store_n(&padata_test_hooks.pick, &record_pick, __ATOMIC_SEQ_CST);

	Gate go;
	Job h0, h1;
	h0.hold_parallel = &go;
	h1.hold_parallel = &go;
	std::vector<std::unique_ptr<Job>> jobs;
	std::vector<Job *> wait{ &h0, &h1 };
	/* On any way out, the held jobs go on and every job finishes before its memory goes. */
	OnExit finish{ [&] {
		go.open();
		wait_done(wait);
	} };
	ASSERT_EQ(padata_do_parallel(*pinst, &h0.priv, c[0]), 0);
	ASSERT_EQ(padata_do_parallel(*pinst, &h1.priv, c[0]), 0);
	ASSERT_TRUE(wait_until([&] { return h0.parallel_entered.load() && h1.parallel_entered.load(); }));
	ASSERT_EQ(picked(0), c[0]);
	ASSERT_EQ(picked(1), c[1]);

	const uint32_t n = 40;
	for (uint32_t s = 2; s < n; s++) {
		jobs.push_back(std::make_unique<Job>());
		wait.push_back(jobs.back().get());
		ASSERT_EQ(padata_do_parallel(*pinst, &jobs.back()->priv, c[0]), 0) << "job " << s;
	}
	__atomic_store_n(&padata_test_hooks.pick, nullptr, __ATOMIC_SEQ_CST);
	EXPECT_EQ(picked(2), c[0]) << "empty queue: its turn";
	EXPECT_EQ(picked(3), c[1]) << "empty queue: its turn";
	for (uint32_t s = 4; s < n; s++)
		EXPECT_EQ(picked(s), shell ? c[s % 2] : c[(s / 8) % 2]) << "job " << s;
	go.open();
	ASSERT_TRUE(wait_done(wait));
	if (ps)
		padata_free_shell(ps);
}

TEST_F(PadataPlacement, UnderLoadRunsOfEightShareACpu)
{
	if (cpumask_weight(cpu_active_mask) < 2)
		GTEST_SKIP() << "needs two CPUs";
	under_load(wq_, &pinst_, false);
}

TEST_F(PadataPlacement, WithShellsJobsUnderLoadTakeTurns)
{
	if (cpumask_weight(cpu_active_mask) < 2)
		GTEST_SKIP() << "needs two CPUs";
	under_load(wq_, &pinst_, true);
}

/*
 * A worker that is parked, or woken but not yet running, gets no runs:
 * while it waits, jobs take turns. The test keeps c[1]'s worker parked with
 * a job in its queue by stalling the submitter of that job (another thread)
 * inside queue_work_on(), before the wake-up; c[0]'s worker is held in
 * parallel(). From job 3 on both queues hold jobs, so without the parked
 * check the odd jobs of the first run would go to c[0], behind the held
 * job, and those of the second run to c[1]. (A spurious return from the
 * parked worker's futex wait would clear its flag for a moment; workers
 * block every signal, so none is expected.)
 */
TEST_F(PadataPlacement, WhileAWorkerWaitsForItsWakeUpJobsTakeTurns)
{
	std::vector<int> all = mask_cpus(cpu_active_mask);
	if (all.size() < 2)
		GTEST_SKIP() << "needs two CPUs";
	const int c[2] = { all[0], all[1] };
	ASSERT_NO_FATAL_FAILURE(start_on(wq_, &pinst_, { c[0], c[1] }, c[0]));

	Gate go;
	Job h0, j1;
	h0.hold_parallel = &go;
	std::vector<std::unique_ptr<Job>> jobs;
	std::vector<Job *> wait{ &h0 };
	static std::atomic<pthread_t> stall_thread;
	static Gate *stall_gate;
	static std::atomic<bool> stalled;
	Gate release;
	stall_gate = &release;
	stalled = false;
	std::thread a;
	/* On any way out: the stalled submitter goes on, the held job too, and every job
	 * finishes before its memory goes. */
	OnExit finish{ [&] {
		release.open();
		if (a.joinable())
			a.join();
		__atomic_store_n(&padata_test_hooks.queue_between, nullptr, __ATOMIC_SEQ_CST);
		go.open();
		wait_done(wait);
	} };
	ASSERT_EQ(padata_do_parallel(pinst_, &h0.priv, c[0]), 0);
	ASSERT_TRUE(wait_until([&] { return h0.parallel_entered.load(); }));
	ASSERT_EQ(h0.parallel_cpu.load(), c[0]);

	/* c[1]'s worker parks (again) after an item queued now: seen by the
	 * hook. Now, not before job 0: job 0's submitter may have woken c[1]
	 * to take it (padata.c, "No job waits behind a busy worker") when c[0]
	 * entered its work item before the job was taken; that item ran
	 * before the nop (one FIFO queue). */
	for (auto &p : g_parks)
		p.store(0);
	g_nop_ran = false;
	__atomic_store_n(&padata_test_hooks.park, &count_park, __ATOMIC_SEQ_CST);
	struct work_struct nop;
	INIT_WORK(&nop, [](struct work_struct *) { g_nop_ran = true; });
	ASSERT_TRUE(queue_work_on(c[1], wq_, &nop));
	ASSERT_TRUE(wait_until([&] { return g_parks[c[1]].load() > 0; }));
	__atomic_store_n(&padata_test_hooks.park, nullptr, __ATOMIC_SEQ_CST);

	/* Job 1 goes to c[1] (its turn, empty); its submitter stalls before the wake-up. */
	wait.push_back(&j1);
	a = std::thread([&] {
		stall_thread = pthread_self();
		__atomic_store_n(&padata_test_hooks.queue_between,
				 +[](struct work_struct *) {
					 if (pthread_equal(pthread_self(), stall_thread.load()) && !stalled.load()) {
						 stalled = true;
						 stall_gate->wait();
					 }
				 },
				 __ATOMIC_SEQ_CST);
		EXPECT_EQ(padata_do_parallel(pinst_, &j1.priv, c[0]), 0);
	});
	g_picks.clear();
	ASSERT_TRUE(wait_until([&] { return stalled.load(); }));
	__atomic_store_n(&padata_test_hooks.pick, &record_pick, __ATOMIC_SEQ_CST);

	for (uint32_t s = 2; s < 12; s++) {
		jobs.push_back(std::make_unique<Job>());
		wait.push_back(jobs.back().get());
		ASSERT_EQ(padata_do_parallel(pinst_, &jobs.back()->priv, c[0]), 0) << "job " << s;
		EXPECT_EQ(picked(s), c[s % 2]) << "job " << s;
	}
	__atomic_store_n(&padata_test_hooks.pick, nullptr, __ATOMIC_SEQ_CST);
	release.open();
	a.join();
	__atomic_store_n(&padata_test_hooks.queue_between, nullptr, __ATOMIC_SEQ_CST);
	go.open();
	ASSERT_TRUE(wait_done(wait));
}

namespace {
std::atomic<int> g_enter_cpu{ -1 };
Gate *g_enter_gate;
std::atomic<bool> g_entered;
std::atomic<bool> g_enter_left;

/* The parallel_enter hook: stalls the first entry on g_enter_cpu until its gate opens. */
void stall_first_entry(int cpu)
{
	if (cpu == g_enter_cpu.load() && !g_entered.exchange(true)) {
		g_enter_gate->wait();
		g_enter_left = true;
	}
}

/* Sets the hook for @cpu's first entry, stalled on @gate. */
void stall_first_entry_on(int cpu, Gate *gate)
{
	g_entered = false;
	g_enter_left = false;
	g_enter_gate = gate;
	g_enter_cpu = cpu;
	__atomic_store_n(&padata_test_hooks.parallel_enter, &stall_first_entry, __ATOMIC_SEQ_CST);
}

/* Opens @gate, clears the hook and waits until a stalled worker has left
 * it: the gate lives on the test's stack, and a worker that polls it every
 * 100 us could miss a gate opened and gone between two looks. */
void release_first_entry(Gate &gate)
{
	gate.open();
	__atomic_store_n(&padata_test_hooks.parallel_enter, nullptr, __ATOMIC_SEQ_CST);
	if (g_entered.load()) {
		EXPECT_TRUE(wait_until([] { return g_enter_left.load(); }));
	}
}
} /* namespace */

/*
 * The rest of a batch is offered to sleeping workers (padata.c, "No job
 * waits behind a busy worker"): a worker that took two jobs from its queue
 * and blocks in the first wakes a sleeping worker, which takes the second.
 * Job 1 goes to cb's worker at idle, job 2 to the same queue by its turn;
 * the parallel_enter hook stalls cb's worker at the start of its work item
 * until both are queued, so their submitter saw it idle and woke nobody,
 * and the other worker sleeps (PADATA_SPIN_US=0 in this suite). Job 1 is
 * held until job 2 has started: without the worker's wake-up, job 2 waited
 * in the held worker's batch until the gate opened.
 */
TEST_F(PadataPlacement, TheRestOfABlockedBatchIsTakenByASleepingWorker)
{
	std::vector<int> all = mask_cpus(cpu_active_mask);
	if (all.size() < 2 || !two_hosts())
		GTEST_SKIP() << "needs two CPUs, on two real ones";
	const int c[2] = { all[0], all[1] };
	ASSERT_NO_FATAL_FAILURE(start_on(wq_, &pinst_, { c[0], c[1] }, c[1]));

	Gate enter, hold;
	Job j1, j2;
	j1.hold_parallel = &hold;
	stall_first_entry_on(c[1], &enter);
	OnExit finish{ [&] {
		release_first_entry(enter);
		__atomic_store_n(&padata_test_hooks.pick, nullptr, __ATOMIC_SEQ_CST);
		hold.open();
		wait_done({ &j1, &j2 });
	} };
	g_picks.clear();
	__atomic_store_n(&padata_test_hooks.pick, &record_pick, __ATOMIC_SEQ_CST);
	pin_away_from(c[1]);
	ASSERT_EQ(padata_do_parallel(pinst_, &j1.priv, c[1]), 0);
	ASSERT_TRUE(wait_until([&] { return g_entered.load(); }));
	ASSERT_EQ(padata_do_parallel(pinst_, &j2.priv, c[1]), 0);
	__atomic_store_n(&padata_test_hooks.pick, nullptr, __ATOMIC_SEQ_CST);
	ASSERT_EQ(picked(0), c[1]) << "job 1 at idle: its cb_cpu";
	ASSERT_EQ(picked(1), c[1]) << "job 2: its turn";

	release_first_entry(enter);
	EXPECT_TRUE(wait_until([&] { return j2.parallel_entered.load(); }))
		<< "job 2 waited behind the held job 1 while a worker slept";
	EXPECT_TRUE(j1.parallel_entered.load());
	EXPECT_EQ(j1.parallel_cpu.load(), c[1]);
	EXPECT_EQ(j2.parallel_cpu.load(), c[0]);
	hold.open();
	ASSERT_TRUE(wait_done({ &j1, &j2 }));
}

namespace {
Gate *g_pick_gate;
std::atomic<bool> g_pick_stalled;
} /* namespace */

/*
 * A submitter that wakes an idle worker for a job queued behind a blocked
 * one picks a worker with nothing else to do. Workers a, v, c: a holds job
 * 0; v's work item has been queued for job 1 (its own) and is stalled at
 * its start (parallel_enter), so v's flag still says idle; c is parked.
 * Job 3 goes to a's queue: its submitter must wake c, not v, which would
 * run its own job 1 first (held too) and leave job 3 behind two blocked
 * workers while c slept. (Found by review: the first version claimed v.)
 * c may take job 1 too, from v's queue while v is stalled.
 */
TEST_F(PadataPlacement, AWakeUpGoesToAWorkerWithNothingElseToDo)
{
	std::vector<int> all = mask_cpus(cpu_active_mask);
	if (all.size() < 3)
		GTEST_SKIP() << "needs three CPUs";
	const int a = all[0], v = all[1], c = all[2];
	ASSERT_NO_FATAL_FAILURE(start_on(wq_, &pinst_, { a, v, c }, a));

	Gate h0, h1, pick, enter;
	Job j0, j1, j2, j3;
	j0.hold_parallel = &h0;
	j1.hold_parallel = &h1;
	g_pick_gate = &pick;
	g_pick_stalled = false;
	g_entered = false;
	std::thread t1;
	OnExit finish{ [&] {
		pick.open();
		release_first_entry(enter);
		if (t1.joinable())
			t1.join();
		__atomic_store_n(&padata_test_hooks.pick, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.park, nullptr, __ATOMIC_SEQ_CST);
		h0.open();
		h1.open();
		wait_done({ &j0, &j1, &j2, &j3 });
	} };
	/* Job 0 (seq 0): its turn, a; held there. */
	ASSERT_EQ(padata_do_parallel(pinst_, &j0.priv, a), 0);
	ASSERT_TRUE(wait_until([&] { return j0.parallel_entered.load(); }));
	ASSERT_EQ(j0.parallel_cpu.load(), a);

	/* Job 1 (seq 1, v's turn): its submitter stalls before the push. */
	__atomic_store_n(&padata_test_hooks.pick,
			 +[](uint32_t seq, int) {
				 if (seq == 1 && !g_pick_stalled.exchange(true))
					 g_pick_gate->wait();
			 },
			 __ATOMIC_SEQ_CST);
	t1 = std::thread([&] { EXPECT_EQ(padata_do_parallel(pinst_, &j1.priv, a), 0); });
	ASSERT_TRUE(wait_until([&] { return g_pick_stalled.load(); }));
	/* Job 2 (seq 2, c's turn) runs on c; then c parks (seen by the hook:
	 * c slept before, so its next park comes after job 2). */
	for (auto &p : g_parks)
		p.store(0);
	__atomic_store_n(&padata_test_hooks.park, +[](int cpu) { g_parks[cpu].fetch_add(1); },
			 __ATOMIC_SEQ_CST);
	ASSERT_EQ(padata_do_parallel(pinst_, &j2.priv, a), 0);
	ASSERT_TRUE(wait_until([&] { return j2.parallel_runs.load() > 0; }));
	EXPECT_EQ(j2.parallel_cpu.load(), c);
	ASSERT_TRUE(wait_until([&] { return g_parks[c].load() > 0; }));
	__atomic_store_n(&padata_test_hooks.park, nullptr, __ATOMIC_SEQ_CST);

	/* Job 1 is pushed; v's item starts and stalls before v counts as busy. */
	stall_first_entry_on(v, &enter);
	pick.open();
	t1.join();
	ASSERT_TRUE(wait_until([&] { return g_entered.load(); }));

	/* Job 3 (seq 3, a's turn): behind the held job 0. */
	ASSERT_EQ(padata_do_parallel(pinst_, &j3.priv, a), 0);
	release_first_entry(enter);
	ASSERT_TRUE(wait_until([&] { return j1.parallel_entered.load(); }));
	EXPECT_TRUE(wait_until([&] { return j3.parallel_entered.load(); }))
		<< "job 3 waited behind the held jobs 0 and 1 while a worker slept";
	EXPECT_EQ(j3.parallel_cpu.load(), c);
	h0.open();
	h1.open();
	ASSERT_TRUE(wait_done({ &j0, &j1, &j2, &j3 }));
}
