/* SPDX-License-Identifier: MIT */
/*
 * padata_defects_test.cc - one test per kernel padata defect that docs/contract.md
 * section 2 says this project must not have:
 *
 *   1. a job finished on another thread queued on the reorder list of the
 *      calling CPU instead of its own;
 *   2. a lost wake-up after a burst (a burst then silence must drain at
 *      once, with no timer);
 *   3. sequence-number wrap with a parallel CPU count that is not a power
 *      of two (registered with PADATA_NR_CPUS=3, and a 3-CPU mask on 8);
 *   4. division by the weight of an empty mask;
 *   5. use-after-free when an instance is freed right after the last
 *      serial() signalled the freeing thread (a loop: the ASan build
 *      catches a regression);
 *   6. a lock held while calling parallel() or serial().
 */
#include "order_harness.h"

#include <semaphore.h>

#include <climits>

using namespace padata_test;

namespace {

class PadataDefects : public InstanceTest {
protected:
	PadataDefects() : InstanceTest("defects") {}
};

/* Records serial() order on one CPU. */
struct Seen {
	std::mutex lock;
	std::vector<int> ids;
	void add(int id)
	{
		std::lock_guard<std::mutex> g(lock);
		ids.push_back(id);
	}
	std::vector<int> get()
	{
		std::lock_guard<std::mutex> g(lock);
		return ids;
	}
};

bool ascending(const std::vector<int> &v)
{
	for (size_t i = 1; i < v.size(); i++)
		if (v[i] <= v[i - 1])
			return false;
	return true;
}

} /* namespace */

/* ---- 1. async completion from another thread -------------------------------- */

TEST_F(PadataDefects, CompletionFromAForeignThreadInReverseOrderStaysOrdered)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	const int rounds = static_cast<int>(scaled(200, 10));
	const int batch = 64;
	for (int r = 0; r < rounds; r++) {
		Seen seen;
		std::vector<Job> jobs(batch);
		std::vector<Job *> ptrs;
		for (int i = 0; i < batch; i++) {
			jobs[i].id = i;
			jobs[i].defer = true;
			jobs[i].ctx = &seen;
			jobs[i].on_serial = [](Job *j) { static_cast<Seen *>(j->ctx)->add(j->id); };
			ptrs.push_back(&jobs[i]);
			/* One cb_cpu per round so the whole batch has one order to keep. */
			ASSERT_EQ(padata_do_parallel(pinst_, &jobs[i].priv, r % static_cast<int>(nr_cpu_ids)), 0);
		}
		ASSERT_TRUE(wait_until([&] {
			for (Job &j : jobs)
				if (j.parallel_runs.load() == 0)
					return false;
			return true;
		}));
		/* The test thread, not a worker, finishes them last to first. */
		for (int i = batch - 1; i >= 0; i--)
			padata_do_serial(&jobs[i].priv);
		ASSERT_TRUE(wait_done(ptrs)) << "round " << r;
		std::vector<int> got = seen.get();
		ASSERT_EQ(got.size(), static_cast<size_t>(batch));
		ASSERT_TRUE(ascending(got)) << "round " << r;
		for (Job &j : jobs)
			ASSERT_EQ(j.serial_cpu.load(), r % static_cast<int>(nr_cpu_ids));
	}
}

TEST_F(PadataDefects, CompletionFromAnotherCpusWorkerStaysOrdered)
{
	/*
	 * parallel() hands each job to a work item on a *different* CPU of a
	 * second queue, which calls padata_do_serial() there: the finishing
	 * CPU is never the one the job ran on.
	 */
	struct workqueue_struct *other = create_workqueue("finisher");
	ASSERT_NE(other, nullptr);
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);

	struct Req {
		struct padata_priv priv;
		struct work_struct finish;
		struct workqueue_struct *other;
		int id;
		int cb;
		int finished_on;
		std::atomic<int> serial_runs;
		Seen *seen;
	};
	const int n = static_cast<int>(scaled(20000, 1000));
	std::vector<Seen> seen(nr_cpu_ids);
	std::unique_ptr<Req[]> reqs(new Req[static_cast<size_t>(n)]);
	for (int i = 0; i < n; i++) {
		Req &q = reqs[i];
		std::memset(&q.priv, 0, sizeof(q.priv));
		q.priv.parallel = [](struct padata_priv *p) {
			Req *me = container_of(p, Req, priv);
			int here = padata_current_cpu();
			int there = (here + 1) % static_cast<int>(nr_cpu_ids);
			me->finished_on = there;
			queue_work_on(there, me->other, &me->finish);
		};
		q.priv.serial = [](struct padata_priv *p) {
			Req *me = container_of(p, Req, priv);
			me->seen[0].add(me->id); /* seen points at this cb_cpu's log */
			me->serial_runs.fetch_add(1);
		};
		INIT_WORK(&q.finish, [](struct work_struct *w) {
			Req *me = container_of(w, Req, finish);
			padata_do_serial(&me->priv);
		});
		q.other = other;
		q.id = i;
		q.cb = i % 3 % static_cast<int>(nr_cpu_ids);
		q.seen = &seen[static_cast<size_t>(q.cb)];
		q.serial_runs = 0;
	}
	for (int i = 0; i < n; i++) {
		int err;
		auto end = Clock::now() + hang_limit();
		while ((err = padata_do_parallel(pinst_, &reqs[i].priv, reqs[i].cb)) == -EBUSY &&
		       Clock::now() < end)
			std::this_thread::yield();
		ASSERT_EQ(err, 0) << i;
	}
	ASSERT_TRUE(wait_until([&] {
		for (int i = 0; i < n; i++)
			if (reqs[i].serial_runs.load() != 1)
				return false;
		return true;
	})) << "jobs finished on another CPU were lost";
	for (unsigned int c = 0; c < nr_cpu_ids; c++)
		EXPECT_TRUE(ascending(seen[c].get())) << "cb_cpu " << c;
	padata_free(pinst_);
	pinst_ = nullptr;
	destroy_workqueue(other);
}

/* ---- 2. burst then silence --------------------------------------------- */

TEST_F(PadataDefects, ABurstThenSilenceDrainsAtOnce)
{
	/*
	 * Bursts whose last jobs are finished concurrently from two threads,
	 * then nothing: every serial() must follow within a short time (the
	 * kernel's fallback timer took a second). Repeated to hit the race.
	 */
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 4096), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	/* Well under the kernel's one-second fallback timer, with room for a loaded machine. */
	const milliseconds limit(sanitized() ? 900 : 400);
	const int rounds = static_cast<int>(scaled(300, 20));
	Rng rng(3);
	for (int r = 0; r < rounds; r++) {
		const int burst = 1 + static_cast<int>(rng.below(1500));
		std::vector<Job> jobs(static_cast<size_t>(burst));
		std::vector<Job *> ptrs;
		std::vector<Job *> late;
		for (int i = 0; i < burst; i++) {
			/* A few jobs, the last two included, finish from outside. */
			jobs[i].defer = i >= burst - 2 || rng.below(50) == 0;
			if (jobs[i].defer)
				late.push_back(&jobs[i]);
			ptrs.push_back(&jobs[i]);
			int cb = static_cast<int>(rng.below(nr_cpu_ids));
			ASSERT_EQ(submit_retry(pinst_, &jobs[i], cb), 0);
		}
		ASSERT_TRUE(wait_until([&] {
			for (Job *j : late)
				if (j->parallel_runs.load() == 0)
					return false;
			return true;
		}));
		/* Finish the late ones from two threads at once, in two halves. */
		std::atomic<int> go{0};
		auto finish = [&](size_t from, size_t step) {
			go.fetch_add(1);
			while (go.load() < 2)
				;
			for (size_t k = from; k < late.size(); k += step)
				padata_do_serial(&late[k]->priv);
		};
		std::thread a(finish, 0, 2), b(finish, 1, 2);
		a.join();
		b.join();
		auto done_by = Clock::now();
		bool drained = wait_done(ptrs, limit + milliseconds(1000));
		auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - done_by);
		ASSERT_TRUE(drained) << "round " << r << ": burst of " << burst << " never drained";
		ASSERT_LE(took.count(), limit.count())
			<< "round " << r << ": the last serial() came " << took.count() << " ms after the last completion";
	}
}

/* ---- 3. sequence wrap --------------------------------------------------- */

namespace {

void run_across_wrap(struct padata_instance *pinst, unsigned int start_seq, uint32_t jobs)
{
	ASSERT_EQ(padata_test_set_seq(pinst, start_seq), 0);
	ASSERT_EQ(padata_start(pinst), 0);
	OrderHarness h(1, jobs, 7, 2, 10);
	struct padata_cpumask usable;
	ASSERT_EQ(padata_get_cpumask(pinst, &usable), 0);
	h.set_parallel_mask(usable.pcpu[0]);
	std::vector<int> cbs = mask_cpus(usable.cbcpu);
	Rng rng(start_seq);
	for (uint32_t i = 0; i < jobs; i++)
		ASSERT_EQ(h.submit(pinst, 0, i, cbs[rng.below(static_cast<uint32_t>(cbs.size()))]), 0) << i;
	ASSERT_TRUE(h.wait_all_serialized(milliseconds(60000)))
		<< h.serialized() << " of " << h.accepted() << " serialized: stuck at the wrap?";
	h.check_exactly_once();
	EXPECT_EQ(h.failures(), 0) << h.describe();
	padata_stop(pinst);
}

} /* namespace */

TEST_F(PadataDefects, SequenceWrapWithAllCpus)
{
	/* On PADATA_NR_CPUS=3 (its own ctest entry) all CPUs are three. */
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	const uint32_t n = static_cast<uint32_t>(scaled(100000, 5000));
	run_across_wrap(pinst_, 0xFFFFFFFFu - n / 2, n);
	run_across_wrap(pinst_, 0xFFFFFFFFu, n / 4 + 1);
	run_across_wrap(pinst_, 0x7FFFFFFFu - 10, 100);
}

TEST_F(PadataDefects, SequenceWrapWithThreeParallelCpus)
{
	if (nr_cpu_ids < 3)
		GTEST_SKIP() << "needs three CPUs (registered with PADATA_NR_CPUS=3 and 8)";
	struct cpumask p = mask_of({0, 1, 2});
	pinst_ = padata_alloc(wq_, &p, cpu_possible_mask);
	ASSERT_NE(pinst_, nullptr);
	const uint32_t n = static_cast<uint32_t>(scaled(100000, 5000));
	run_across_wrap(pinst_, 0xFFFFFFFFu - n / 3, n);
	/* Also with a non-default ring size. */
	ASSERT_EQ(padata_set_max_inflight(pinst_, 77), 0);
	run_across_wrap(pinst_, 0xFFFFFFFFu - 1000, 5000);
	/* Right at the wrap (0, 1, 2, 500 jobs before it), with tiny to full rings. */
	for (unsigned int limit : {3u, 64u, static_cast<unsigned int>(MAX_OBJ_NUM)}) {
		ASSERT_EQ(padata_set_max_inflight(pinst_, limit), 0);
		for (unsigned int k : {0u, 1u, 2u, 500u})
			run_across_wrap(pinst_, 0xFFFFFFFFu - k, static_cast<uint32_t>(scaled(4000, 1000)));
	}
}

TEST_F(PadataDefects, SequenceWrapWithFiveParallelCpusAndAsyncCompletions)
{
	if (nr_cpu_ids < 5)
		GTEST_SKIP() << "needs five CPUs (registered with PADATA_NR_CPUS=8)";
	struct cpumask p = mask_of({0, 1, 3, 4, static_cast<int>(nr_cpu_ids) - 1});
	pinst_ = padata_alloc(wq_, &p, cpu_possible_mask);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 3000), 0);
	run_across_wrap(pinst_, 0xFFFFFFFFu - 20000, static_cast<uint32_t>(scaled(60000, 30000)));
}

/* ---- 4. empty masks ------------------------------------------------------- */

TEST_F(PadataDefects, EmptyUsableParallelMaskIsNeverDividedBy)
{
	if (nr_cpu_ids >= NR_CPUS)
		GTEST_SKIP() << "no nonexistent CPU number";
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	struct cpumask none = mask_of({});
	struct cpumask ghost = mask_of({NR_CPUS - 1});
	for (struct cpumask *m : {&none, &ghost}) {
		ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, m), 0);
		Job j;
		for (int cb = 0; cb < static_cast<int>(nr_cpu_ids); cb++)
			EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, cb), -EINVAL);
		EXPECT_EQ(padata_start(pinst_), -EINVAL);
		ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, const_cast<struct cpumask *>(cpu_possible_mask)), 0);
		ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0) << "started instance resumes";
		ASSERT_TRUE(wait_done({&j}));
	}
}

TEST_F(PadataDefects, EmptyUsableSerialMaskIsNeverDividedBy)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	struct cpumask none = mask_of({});
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &none), 0);
	Job j;
	for (int cb : {0, -1, static_cast<int>(nr_cpu_ids) - 1, INT_MAX})
		EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, cb), -EINVAL);
	ASSERT_EQ(padata_set_cpumasks(pinst_, &none, &none), 0);
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	ASSERT_EQ(padata_set_cpumasks(pinst_, const_cast<struct cpumask *>(cpu_possible_mask),
				      const_cast<struct cpumask *>(cpu_possible_mask)), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
}

TEST_F(PadataDefects, RemovingTheLastCpuOfAMaskLeavesItEmptyNotBroken)
{
	struct cpumask one = mask_of({0});
	pinst_ = padata_alloc(wq_, &one, &one);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	ASSERT_EQ(padata_remove_cpu(pinst_, 0, PADATA_CPU_PARALLEL), 0);
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	ASSERT_EQ(padata_remove_cpu(pinst_, 0, PADATA_CPU_SERIAL), 0);
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	ASSERT_EQ(padata_add_cpu(pinst_, 0, PADATA_CPU_PARALLEL | PADATA_CPU_SERIAL), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
}

TEST_F(PadataDefects, HotplugEmptyingTheParallelMaskIsNeverDividedBy)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	int c = static_cast<int>(nr_cpu_ids) - 1;
	struct cpumask only = mask_of({c});
	pinst_ = padata_alloc(wq_, &only, cpu_possible_mask);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	ASSERT_EQ(cpu_down(static_cast<unsigned int>(c)), 0);
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, 0), -EINVAL);
	ASSERT_EQ(cpu_up(static_cast<unsigned int>(c)), 0);
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(j.parallel_cpu.load(), c);
}

/* ---- 5. free right after the last serial() ---------------------------------- */

namespace {

/*
 * The serial() that finds no job left posts the semaphore the freeing
 * thread waits on. Every job is the caller's again from the start of its
 * serial(), so after the post the thread may free all of them.
 */
struct Signal {
	sem_t sem;
	std::atomic<int> left{0};
	Signal() { sem_init(&sem, 0, 0); }
	~Signal() { sem_destroy(&sem); }
};

struct FreeJob {
	struct padata_priv priv;
	Signal *signal;
};

void free_job_serial(struct padata_priv *p)
{
	FreeJob *j = container_of(p, FreeJob, priv);
	Signal *s = j->signal; /* j may be freed as soon as left reaches 0 */
	if (s->left.fetch_sub(1) == 1)
		sem_post(&s->sem);
}

void free_job_parallel(struct padata_priv *p)
{
	padata_do_serial(p);
}

} /* namespace */

TEST_F(PadataDefects, FreeingRightAfterTheLastSerialSignalledIsSafe)
{
	/*
	 * The freeing thread frees the jobs and the instance the moment the last
	 * serial() posts: padata must not touch either afterwards (ASan).
	 */
	const int loops = static_cast<int>(scaled(2000, 200));
	Rng rng(9);
	for (int it = 0; it < loops; it++) {
		struct padata_instance *p = padata_alloc_possible(wq_);
		ASSERT_NE(p, nullptr);
		ASSERT_EQ(padata_start(p), 0);
		Signal sig;
		int n = 1 + static_cast<int>(rng.below(8));
		sig.left = n;
		FreeJob *jobs = new FreeJob[static_cast<size_t>(n)];
		for (int i = 0; i < n; i++) {
			std::memset(&jobs[i].priv, 0, sizeof(jobs[i].priv));
			jobs[i].priv.parallel = free_job_parallel;
			jobs[i].priv.serial = free_job_serial;
			jobs[i].signal = &sig;
			ASSERT_EQ(padata_do_parallel(p, &jobs[i].priv, static_cast<int>(rng.below(nr_cpu_ids))), 0);
		}
		ASSERT_EQ(sem_wait(&sig.sem), 0);
		delete[] jobs;
		padata_free(p);
	}
}

TEST_F(PadataDefects, FreeingRightAfterAForeignCompletionIsSafe)
{
	/*
	 * The last job is completed by a foreign thread; its serial() posts and
	 * the instance is freed while that thread may still be returning from
	 * padata_do_serial().
	 */
	const int loops = static_cast<int>(scaled(2000, 200));
	for (int it = 0; it < loops; it++) {
		struct padata_instance *p = padata_alloc_possible(wq_);
		ASSERT_NE(p, nullptr);
		ASSERT_EQ(padata_start(p), 0);
		Signal sig;
		std::atomic<struct padata_priv *> handoff{nullptr};
		struct Async {
			FreeJob job;
			std::atomic<struct padata_priv *> *handoff;
		};
		Async *a = new Async;
		std::memset(&a->job.priv, 0, sizeof(a->job.priv));
		a->job.priv.parallel = [](struct padata_priv *pp) {
			Async *me = container_of(container_of(pp, FreeJob, priv), Async, job);
			me->handoff->store(pp);
		};
		a->job.priv.serial = free_job_serial;
		a->job.signal = &sig;
		sig.left = 1;
		a->handoff = &handoff;
		std::thread finisher([&] {
			struct padata_priv *pp;
			while (!(pp = handoff.load()))
				std::this_thread::yield();
			padata_do_serial(pp);
		});
		ASSERT_EQ(padata_do_parallel(p, &a->job.priv, it % static_cast<int>(nr_cpu_ids)), 0);
		ASSERT_EQ(sem_wait(&sig.sem), 0);
		delete a;
		padata_free(p);
		finisher.join();
	}
}

TEST_F(PadataDefects, DestroyingTheQueueRightAfterFreeIsSafe)
{
	/*
	 * Odd rounds complete the job from a foreign thread, which may still be
	 * returning from padata_do_serial() when the queue goes.
	 */
	static std::atomic<struct padata_priv *> handoff;
	const int loops = static_cast<int>(scaled(nr_cpu_ids > 16 ? 30 : 200, 10));
	for (int it = 0; it < loops; it++) {
		struct workqueue_struct *wq = create_workqueue("shortlived");
		ASSERT_NE(wq, nullptr);
		struct padata_instance *p = padata_alloc_possible(wq);
		ASSERT_NE(p, nullptr);
		ASSERT_EQ(padata_start(p), 0);
		Signal sig;
		FreeJob *j = new FreeJob;
		std::memset(&j->priv, 0, sizeof(j->priv));
		j->priv.parallel = free_job_parallel;
		if (it % 2)
			j->priv.parallel = [](struct padata_priv *pp) { handoff.store(pp); };
		j->priv.serial = free_job_serial;
		j->signal = &sig;
		sig.left = 1;
		handoff.store(nullptr);
		std::thread finisher;
		if (it % 2)
			finisher = std::thread([] {
				struct padata_priv *pp;
				while (!(pp = handoff.load()))
					std::this_thread::yield();
				padata_do_serial(pp);
			});
		ASSERT_EQ(padata_do_parallel(p, &j->priv, it % static_cast<int>(nr_cpu_ids)), 0);
		ASSERT_EQ(sem_wait(&sig.sem), 0);
		delete j;
		padata_free(p);
		destroy_workqueue(wq);
		if (finisher.joinable())
			finisher.join();
	}
}

/* ---- 6. no lock held around callbacks ----------------------------------------- */

TEST_F(PadataDefects, CallbacksMaySubmitAndCallPadataFunctions)
{
	/*
	 * parallel() of each job submits the next job of a chain and reads the
	 * instance; serial() submits to a second instance whose serial()
	 * submits back to the first. Any lock held around a callback deadlocks.
	 */
	struct padata_instance *a = padata_alloc_possible(wq_);
	struct padata_instance *b = padata_alloc_possible(wq_);
	ASSERT_NE(a, nullptr);
	ASSERT_NE(b, nullptr);
	ASSERT_EQ(padata_set_max_inflight(a, 1u << 14), 0);
	ASSERT_EQ(padata_set_max_inflight(b, 1u << 14), 0);
	ASSERT_EQ(padata_start(a), 0);
	ASSERT_EQ(padata_start(b), 0);

	struct Ctx {
		struct padata_instance *a, *b;
		std::atomic<int> errors{0};
	} ctx;
	ctx.a = a;
	ctx.b = b;
	const int chain = static_cast<int>(scaled(3000, 200));
	std::vector<Job> in_a(static_cast<size_t>(chain)), in_b(static_cast<size_t>(chain)),
		back_in_a(static_cast<size_t>(chain));
	/* Captureless callbacks reach the chain through these. */
	static std::vector<Job> *pa, *pb, *pback;
	static Ctx *pc;
	pa = &in_a;
	pb = &in_b;
	pback = &back_in_a;
	pc = &ctx;
	for (int i = 0; i < chain; i++) {
		in_a[i].id = in_b[i].id = back_in_a[i].id = i;
		in_a[i].on_parallel = [](Job *j) {
			struct padata_cpumask m;
			if (padata_get_cpumask(pc->a, &m) != 0 || padata_get_max_inflight(pc->a) == 0)
				pc->errors.fetch_add(1);
			/* Submit the next link of a's chain from inside parallel(). */
			if (j->id + 1 < static_cast<int>(pa->size())) {
				Job &next = (*pa)[static_cast<size_t>(j->id) + 1];
				if (padata_do_parallel(pc->a, &next.priv, (j->id + 1) % static_cast<int>(nr_cpu_ids)) != 0)
					pc->errors.fetch_add(1);
			}
		};
		in_a[i].on_serial = [](Job *j) {
			Job &partner = (*pb)[static_cast<size_t>(j->id)];
			if (padata_do_parallel(pc->b, &partner.priv, j->id % static_cast<int>(nr_cpu_ids)) != 0)
				pc->errors.fetch_add(1);
		};
		in_b[i].on_serial = [](Job *j) {
			/* Back into a, and mask changes of both answered, not hung. */
			Job &back = (*pback)[static_cast<size_t>(j->id)];
			if (padata_do_parallel(pc->a, &back.priv, static_cast<int>(nr_cpu_ids) - 1) != 0)
				pc->errors.fetch_add(1);
			struct cpumask m = mask_of({0});
			if (padata_set_cpumask(pc->a, PADATA_CPU_SERIAL, &m) != -EDEADLK)
				pc->errors.fetch_add(1);
			if (padata_set_cpumask(pc->b, PADATA_CPU_SERIAL, &m) != -EDEADLK)
				pc->errors.fetch_add(1);
		};
	}
	std::vector<Job *> all;
	for (int i = 0; i < chain; i++) {
		all.push_back(&in_a[i]);
		all.push_back(&in_b[i]);
		all.push_back(&back_in_a[i]);
	}
	ASSERT_EQ(padata_do_parallel(a, &in_a[0].priv, 0), 0);
	bool finished = false;
	run_bounded("a chain of callbacks submitting jobs", [&] { finished = wait_done(all, milliseconds(60000)); },
		    milliseconds(90000));
	EXPECT_TRUE(finished) << "callbacks that submit jobs stalled";
	EXPECT_EQ(ctx.errors.load(), 0);
	padata_free(b);
	padata_free(a);
}
