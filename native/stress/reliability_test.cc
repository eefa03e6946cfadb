/* SPDX-License-Identifier: MIT */
/*
 * reliability_test.cc - conditions a unit test does not reach:
 *   SlowCpu   another process hogs one parallel CPU; an idle worker must
 *             take the jobs queued on it (throughput >= 0.8x one free CPU).
 *   SeqWrap   the 32-bit sequence number wraps mid-run, with 3 parallel
 *             CPUs (not a power of two) and completions from foreign threads.
 *   Teardown  padata_free() right after the last serial() signalled the
 *             freeing thread, in a loop (meant for AddressSanitizer).
 */
#include "stress_util.h"
#include "workload.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

using namespace padata_stress;

namespace {

/* ---- a pool of foreign threads that finish jobs, in random order ---------- */

class AsyncPool {
public:
	explicit AsyncPool(unsigned int threads, uint64_t seed) : rng_(seed | 1)
	{
		for (unsigned int i = 0; i < threads; i++)
			threads_.emplace_back([this] { run(); });
	}
	~AsyncPool()
	{
		{
			std::lock_guard<std::mutex> l(lock_);
			quit_ = true;
		}
		cond_.notify_all();
		for (auto &t : threads_)
			t.join();
	}
	/* Called from parallel(): some foreign thread calls padata_do_serial() later. */
	void push(struct padata_priv *p, unsigned int delay_us)
	{
		{
			std::lock_guard<std::mutex> l(lock_);
			items_.push_back({p, delay_us});
		}
		cond_.notify_one();
	}

private:
	struct Item {
		struct padata_priv *p;
		unsigned int delay_us;
	};
	void run()
	{
		for (;;) {
			Item it;
			{
				std::unique_lock<std::mutex> l(lock_);
				cond_.wait(l, [this] { return quit_ || !items_.empty(); });
				if (items_.empty())
					return;
				rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
				size_t i = static_cast<size_t>((rng_ >> 33) % items_.size());
				it = items_[i];
				items_[i] = items_.back();
				items_.pop_back();
			}
			if (it.delay_us)
				std::this_thread::sleep_for(std::chrono::microseconds(it.delay_us));
			padata_do_serial(it.p);
		}
	}
	std::mutex lock_;
	std::condition_variable cond_;
	std::vector<Item> items_;
	std::vector<std::thread> threads_;
	uint64_t rng_;
	bool quit_ = false;
};

/* ---- sequence wrap ------------------------------------------------------------ */

struct WrapJob {
	struct padata_priv priv;
	uint64_t id;          /* submission order: one submitting thread */
	int cb_cpu;
	unsigned int mode;    /* 0 at once, 1 async, 2 async after a sleep */
	std::atomic<int> parallel_calls;
	std::atomic<int> serial_calls;
};

struct WrapRun {
	AsyncPool *pool;
	std::atomic<uint64_t> last[NR_CPUS];   /* per cb_cpu: id + 1 of the last serial() */
	std::atomic<uint64_t> done;
	std::atomic<uint64_t> out_of_order;
	std::atomic<uint64_t> wrong_cpu;
};
WrapRun *wrap_run;

void wrap_parallel(struct padata_priv *p)
{
	WrapJob *j = container_of(p, WrapJob, priv);
	j->parallel_calls.fetch_add(1);
	if (j->mode == 0)
		padata_do_serial(p);
	else
		wrap_run->pool->push(p, j->mode == 2 ? static_cast<unsigned int>(j->id % 50) : 0);
}

void wrap_serial(struct padata_priv *p)
{
	WrapJob *j = container_of(p, WrapJob, priv);
	if (padata_current_cpu() != j->cb_cpu)
		wrap_run->wrong_cpu.fetch_add(1);
	uint64_t prev = wrap_run->last[j->cb_cpu].exchange(j->id + 1);
	if (prev > j->id)
		wrap_run->out_of_order.fetch_add(1);
	j->serial_calls.fetch_add(1);
	wrap_run->done.fetch_add(1, std::memory_order_release);
}

class SeqWrap : public ::testing::TestWithParam<std::tuple<unsigned int, unsigned int>> {};

TEST_P(SeqWrap, OrderHoldsAcrossTheWrapWithThreeParallelCpusAndAsyncCompletions)
{
	if (nr_cpu_ids < 3)
		GTEST_SKIP() << "needs 3 CPUs (run with PADATA_NR_CPUS=8); nr_cpu_ids is " << nr_cpu_ids;
	const unsigned int k = std::get<0>(GetParam());     /* jobs before the wrap */
	const unsigned int limit = std::get<1>(GetParam()); /* max in flight */
	const long n = scaled(20000, 2000);

	struct workqueue_struct *wq = create_workqueue("seqwrap");
	ASSERT_NE(wq, nullptr);
	struct cpumask three = mask_of({0, 1, 2});
	struct padata_instance *pinst = padata_alloc(wq, &three, &three);
	ASSERT_NE(pinst, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst, limit), 0);
	ASSERT_EQ(padata_test_set_seq(pinst, 0xFFFFFFFFu - k), 0);
	ASSERT_EQ(padata_start(pinst), 0);

	std::unique_ptr<WrapRun> run(new WrapRun());
	AsyncPool pool(2, k * 31u + limit);
	run->pool = &pool;
	wrap_run = run.get();
	std::vector<WrapJob> jobs(static_cast<size_t>(n));
	uint64_t rng = 0x5eed0000u + k;
	uint64_t busy = 0;

	for (long i = 0; i < n; i++) {
		WrapJob &j = jobs[static_cast<size_t>(i)];
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		j.priv.parallel = wrap_parallel;
		j.priv.serial = wrap_serial;
		j.id = static_cast<uint64_t>(i);
		j.cb_cpu = static_cast<int>((rng >> 40) % 3);
		j.mode = static_cast<unsigned int>((rng >> 20) % 3);
		int rc;
		while ((rc = padata_do_parallel(pinst, &j.priv, j.cb_cpu)) == -EBUSY) {
			busy++;
			std::this_thread::yield();
		}
		ASSERT_EQ(rc, 0) << "job " << i;
	}
	padata_stop(pinst); /* drains, async completions included */
	EXPECT_EQ(run->done.load(std::memory_order_acquire), static_cast<uint64_t>(n));
	EXPECT_EQ(run->out_of_order.load(), 0u);
	EXPECT_EQ(run->wrong_cpu.load(), 0u);
	for (const WrapJob &j : jobs) {
		ASSERT_EQ(j.parallel_calls.load(), 1) << "job " << j.id;
		ASSERT_EQ(j.serial_calls.load(), 1) << "job " << j.id;
	}
	padata_free(pinst);
	destroy_workqueue(wq);
	wrap_run = nullptr;
	RecordProperty("busy_retries", std::to_string(busy));
}

INSTANTIATE_TEST_SUITE_P(NearTheWrap, SeqWrap,
	::testing::Combine(::testing::Values(0u, 1u, 2u, 500u),
			   ::testing::Values(3u, 64u, static_cast<unsigned int>(MAX_OBJ_NUM))));

/* ---- teardown right after the last serial() --------------------------------- */

struct LastJob {
	struct padata_priv priv;
	bool async;
	bool last;
	std::atomic<int> *signal; /* set by the last job's serial(), as its last act */
};
AsyncPool *teardown_pool;

void last_parallel(struct padata_priv *p)
{
	LastJob *j = container_of(p, LastJob, priv);
	if (j->async)
		teardown_pool->push(p, 0);
	else
		padata_do_serial(p);
}

void last_serial(struct padata_priv *p)
{
	LastJob *j = container_of(p, LastJob, priv);
	if (j->last)
		j->signal->store(1, std::memory_order_release);
}

/*
 * The user's view: once padata_free() returns, nothing of the library runs
 * on the instance's behalf, so the workqueue may be destroyed at once. The
 * last job is finished from a foreign thread; its serial() signals this
 * thread, which frees the instance and destroys the queue without delay.
 */
TEST(Teardown, FreeAndDestroyRightAfterTheLastSerialSignalledTheFreeingThread)
{
	AsyncPool pool(1, 7);
	teardown_pool = &pool;
	const long rounds = scaled(200, 20);
	for (long r = 0; r < rounds; r++) {
		struct workqueue_struct *wq = create_workqueue("teardown");
		ASSERT_NE(wq, nullptr);
		struct padata_instance *pinst = padata_alloc_possible(wq);
		ASSERT_NE(pinst, nullptr);
		ASSERT_EQ(padata_start(pinst), 0);
		std::atomic<int> signal{0};
		LastJob jobs[3];
		int n = 1 + static_cast<int>(r % 3);
		for (int i = 0; i < n; i++) {
			std::memset(static_cast<void *>(&jobs[i]), 0, sizeof(jobs[i]));
			jobs[i].priv.parallel = last_parallel;
			jobs[i].priv.serial = last_serial;
			jobs[i].async = i == n - 1 || (r + i) % 2 == 1;
			jobs[i].last = i == n - 1;
			jobs[i].signal = &signal;
			int cb = static_cast<int>((r + i) % nr_cpu_ids);
			ASSERT_EQ(padata_do_parallel(pinst, &jobs[i].priv, cb), 0);
		}
		/* Spin, not sleep: free at the earliest moment after the signal. */
		while (!signal.load(std::memory_order_acquire))
			std::this_thread::yield();
		padata_free(pinst);
		destroy_workqueue(wq);
	}
	teardown_pool = nullptr;
}

/* ---- a parallel CPU hogged by another process ------------------------------- */

struct SlowJob {
	struct padata_priv priv;
	uint64_t id;
	uint64_t result;
};

struct SlowRun {
	std::atomic<uint64_t> next_expected;
	std::atomic<uint64_t> out_of_order;
	std::atomic<uint64_t> done;
	uint32_t work;
};
SlowRun *slow_run;

void slow_parallel(struct padata_priv *p)
{
	SlowJob *j = container_of(p, SlowJob, priv);
	j->result = workload(j->id, slow_run->work);
	padata_do_serial(p);
}

void slow_serial(struct padata_priv *p)
{
	SlowJob *j = container_of(p, SlowJob, priv);
	uint64_t want = slow_run->next_expected.load(std::memory_order_relaxed);
	if (j->id != want)
		slow_run->out_of_order.fetch_add(1);
	slow_run->next_expected.store(j->id + 1, std::memory_order_relaxed);
	slow_run->done.fetch_add(1, std::memory_order_release);
}

/*
 * The hog's nice value: -5 by default (PADATA_SLOWCPU_NICE overrides). At
 * nice 0 the scheduler hands the worker half of its CPU, which hides a
 * library that never moves jobs; at -5 the worker gets about a quarter, so
 * jobs that stay on it cut the throughput to about half.
 */
int hog_nice()
{
	const char *e = std::getenv("PADATA_SLOWCPU_NICE");
	return e && *e ? std::atoi(e) : -5;
}

/* A child process spinning on @cpu at hog_nice(). */
pid_t start_hog(int cpu, bool *raised)
{
	int ready[2];
	if (pipe(ready) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
		char ok = setpriority(PRIO_PROCESS, 0, hog_nice()) == 0 ? 'y' : 'n';
		if (write(ready[1], &ok, 1) != 1)
			_exit(1);
		for (volatile unsigned long spin = 0;; spin++)
			;
	}
	char ok = 'n';
	if (pid > 0 && read(ready[0], &ok, 1) != 1)
		ok = 'n';
	close(ready[0]);
	close(ready[1]);
	*raised = ok == 'y';
	return pid;
}

/*
 * Jobs per second through an instance with parallel mask @pcpu and serial
 * CPU @cb, submitted back to back from the calling thread for @seconds and
 * then drained. Fails the test on reordering or a stalled drain.
 */
double throughput(struct workqueue_struct *wq, const struct cpumask *pcpu, int cb, double seconds,
		  std::vector<SlowJob> &jobs)
{
	struct cpumask cbm = mask_of({cb});
	struct padata_instance *pinst = padata_alloc(wq, pcpu, &cbm);
	EXPECT_NE(pinst, nullptr);
	if (!pinst)
		return 0;
	EXPECT_EQ(padata_start(pinst), 0);
	SlowRun run;
	run.next_expected = 0;
	run.out_of_order = 0;
	run.done = 0;
	run.work = 8000; /* about 10 us */
	slow_run = &run;

	/* The jobs ring: a job is reused once its serial() has returned. */
	const size_t ring = jobs.size();
	uint64_t submitted = 0;
	auto t0 = Clock::now();
	auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
	while (Clock::now() < end) {
		if (submitted - run.done.load(std::memory_order_acquire) >= ring) {
			std::this_thread::yield();
			continue;
		}
		SlowJob &j = jobs[submitted % ring];
		std::memset(static_cast<void *>(&j), 0, sizeof(j));
		j.priv.parallel = slow_parallel;
		j.priv.serial = slow_serial;
		j.id = submitted;
		int rc = padata_do_parallel(pinst, &j.priv, cb);
		if (rc == -EBUSY) {
			std::this_thread::yield();
			continue;
		}
		EXPECT_EQ(rc, 0);
		if (rc != 0)
			break;
		submitted++;
	}
	/* Nothing stalls: the drain of what is in flight ends promptly. */
	std::atomic<bool> drained{false};
	std::thread stopper([&] {
		padata_stop(pinst);
		drained.store(true);
	});
	bool ok = wait_until([&] { return drained.load(); }, milliseconds(10000));
	if (!ok) {
		ADD_FAILURE() << "padata_stop did not drain in 10 s: " << run.done.load() << " of " << submitted
			      << " jobs done; the hogged CPU's queue stalled";
		stopper.detach();
		return 0;
	}
	stopper.join();
	double secs = std::chrono::duration<double>(Clock::now() - t0).count();
	EXPECT_EQ(run.done.load(), submitted);
	EXPECT_EQ(run.out_of_order.load(), 0u);
	padata_free(pinst);
	slow_run = nullptr;
	return static_cast<double>(submitted) / secs;
}

TEST(SlowCpu, AHoggedParallelCpuKeepsThroughputAtLeast80PercentOfOneFreeCpu)
{
	if (padata_topology_is_virtual())
		GTEST_SKIP() << "needs the real topology (PADATA_NR_CPUS unset)";
	struct cpumask active;
	padata_cpu_active_snapshot(&active);
	if (cpumask_weight(&active) < 2)
		GTEST_SKIP() << "needs 2 active CPUs, has " << mask_str(&active);
	const int c0 = static_cast<int>(cpumask_first(&active));
	const int c1 = static_cast<int>(cpumask_next(c0, &active));

	/* The submitter shares CPU c0 with its worker in both runs. */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(c0, &set);
	ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(set), &set), 0);

	bool raised = false;
	pid_t hog = start_hog(c1, &raised);
	ASSERT_GT(hog, 0) << "fork: " << std::strerror(errno);
	if (!raised)
		std::fprintf(stderr, "note: the hog could not set nice %d; it runs at nice 0\n", hog_nice());

	struct workqueue_struct *wq = create_workqueue("slowcpu");
	ASSERT_NE(wq, nullptr);
	std::vector<SlowJob> jobs(4096);
	const double secs = sanitized() ? 1.0 : std::max(0.5, 1.0 * scale());
	struct cpumask one = mask_of({c0}), two = mask_of({c0, c1});

	/* Alternate, best of two each, to be fair to both under machine noise. */
	double base = 0, hogged = 0;
	for (int round = 0; round < 2; round++) {
		base = std::max(base, throughput(wq, &one, c0, secs, jobs));
		hogged = std::max(hogged, throughput(wq, &two, c0, secs, jobs));
	}
	kill(hog, SIGKILL);
	waitpid(hog, nullptr, 0);
	destroy_workqueue(wq);
	CPU_ZERO(&set);
	for (unsigned int c = cpumask_first(&active); c < NR_CPUS; c = cpumask_next(static_cast<int>(c), &active))
		CPU_SET(c, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);

	std::fprintf(stderr, "slow-cpu: one free CPU %.0f jobs/s; free + hogged CPU %.0f jobs/s (%.2fx), hog at nice %d\n",
		     base, hogged, base > 0 ? hogged / base : 0.0, raised ? hog_nice() : 0);
	RecordProperty("one_free_cpu_jobs_per_s", std::to_string(static_cast<long>(base)));
	RecordProperty("free_plus_hogged_jobs_per_s", std::to_string(static_cast<long>(hogged)));
	ASSERT_GT(base, 0);
	ASSERT_GT(hogged, 0);
	/* Sanitizers distort timing: there only the drain and the order are checked. */
	if (!sanitized()) {
		EXPECT_GE(hogged, 0.8 * base) << "jobs queued on the hogged CPU waited for it instead of moving";
	}
}

} /* namespace */
