/* SPDX-License-Identifier: MIT */
/*
 * mt_test.cc - padata_do_multithreaded() (docs/contract.md, multithreaded
 * jobs): how the range is cut (coverage, alignment, minimum size, balance,
 * ranges near ULONG_MAX), who runs the chunks (at most max_threads
 * threads, the caller among them), one test per rejected argument, -EDEADLK
 * from every callback, and what a running job holds off: a mask change,
 * cpu_down and padata_free() wait for its chunks (made deterministic with
 * the wait_sleep hook, never a sleep), while padata_do_parallel() traffic
 * runs beside it.
 */
#include "test_util.h"
#include "../src/test_hooks.h"

#include <climits>
#include <map>
#include <set>

using namespace padata_test;

namespace {

class PadataMt : public InstanceTest {
protected:
	PadataMt() : InstanceTest("mt") {}

	/* Threads a job may use, the caller included, on this instance. */
	unsigned int usable_pw()
	{
		struct padata_cpumask out;
		EXPECT_EQ(padata_get_cpumask(pinst_, &out), 0);
		return cpumask_weight(out.pcpu);
	}
};

/* Every chunk a job ran, and on which thread. */
struct Log {
	struct Chunk {
		unsigned long start, end;
		pthread_t thread;
		int cpu;
	};
	std::mutex lock;
	std::vector<Chunk> chunks;
	std::function<void(unsigned long, unsigned long)> body;

	static void fn(unsigned long start, unsigned long end, void *arg)
	{
		Log *l = static_cast<Log *>(arg);
		if (l->body)
			l->body(start, end);
		std::lock_guard<std::mutex> g(l->lock);
		l->chunks.push_back({ start, end, pthread_self(), padata_current_cpu() });
	}
	std::vector<Chunk> sorted()
	{
		std::lock_guard<std::mutex> g(lock);
		auto v = chunks;
		std::sort(v.begin(), v.end(),
			  [](const Chunk &a, const Chunk &b) { return a.start < b.start; });
		return v;
	}
	size_t threads()
	{
		std::lock_guard<std::mutex> g(lock);
		std::set<pthread_t> t;
		for (auto &c : chunks)
			t.insert(c.thread);
		return t.size();
	}
};

struct padata_mt_job make_job(Log *log, unsigned long start, unsigned long size,
			      unsigned long align, unsigned long min_chunk, int max_threads)
{
	struct padata_mt_job job;
	std::memset(&job, 0, sizeof(job));
	job.thread_fn = Log::fn;
	job.fn_arg = log;
	job.start = start;
	job.size = size;
	job.align = align;
	job.min_chunk = min_chunk;
	job.max_threads = max_threads;
	return job;
}

/*
 * The chunks tile [start, start + size) exactly (sorted, each starting where
 * the previous ended), interior boundaries are start + k * align, and every
 * chunk but a lone one is at least min_chunk.
 */
void expect_tiling(Log &log, const struct padata_mt_job &job)
{
	auto v = log.sorted();
	ASSERT_FALSE(v.empty());
	unsigned long at = job.start;
	for (size_t i = 0; i < v.size(); i++) {
		ASSERT_EQ(v[i].start, at) << "chunk " << i << " leaves a gap or overlaps";
		ASSERT_LT(v[i].start, v[i].end) << "chunk " << i << " is empty";
		if (i > 0) {
			EXPECT_EQ((v[i].start - job.start) % job.align, 0ul)
				<< "boundary " << v[i].start << " not aligned to " << job.align;
		}
		if (v.size() > 1) {
			EXPECT_GE(v[i].end - v[i].start, job.min_chunk) << "chunk " << i;
		}
		at = v[i].end;
	}
	EXPECT_EQ(at, job.start + job.size);
}

/* wait_sleep fires on a thread that marked itself watched: it is blocked in a drain. */
thread_local bool tl_watched = false;
std::atomic<bool> watched_asleep{false};

void note_watched_sleep(struct workqueue_struct *)
{
	if (tl_watched)
		watched_asleep.store(true);
}

struct WaitSleepHook {
	WaitSleepHook()
	{
		watched_asleep.store(false);
		__atomic_store_n(&padata_test_hooks.wait_sleep, &note_watched_sleep, __ATOMIC_SEQ_CST);
	}
	~WaitSleepHook() { __atomic_store_n(&padata_test_hooks.wait_sleep, nullptr, __ATOMIC_SEQ_CST); }
};

} /* namespace */

/* ---- how the range is cut ------------------------------------------------ */

TEST_F(PadataMt, EveryIndexRunsExactlyOnceInAlignedChunks)
{
	started();
	const unsigned long n = 100003;
	std::vector<std::atomic<uint8_t>> hits(n);
	struct Case {
		unsigned long start, size, align, min_chunk;
		int max_threads;
	} cases[] = {
		{ 0, n, 1, 1, 64 },   { 7, n - 7, 64, 1, 3 },   { 5, n - 5, 1000, 3000, 8 },
		{ 0, n, 4096, 1, 2 }, { 1, n - 1, 3, 17, 100 }, { 0, n, 1, n / 2, 64 },
	};
	for (const Case &c : cases) {
		for (auto &h : hits)
			h.store(0);
		Log log;
		log.body = [&](unsigned long s, unsigned long e) {
			for (unsigned long i = s; i < e; i++)
				hits[i].fetch_add(1, std::memory_order_relaxed);
		};
		struct padata_mt_job job = make_job(&log, c.start, c.size, c.align, c.min_chunk,
						    c.max_threads);
		const struct padata_mt_job before = job;
		ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
		EXPECT_EQ(std::memcmp(&before, &job, sizeof(job)), 0) << "the job was modified";
		for (unsigned long i = 0; i < n; i++)
			ASSERT_EQ(hits[i].load(), i >= c.start ? 1 : 0) << "index " << i;
		expect_tiling(log, job);
		EXPECT_LE(log.threads(), static_cast<size_t>(c.max_threads));
	}
}

TEST_F(PadataMt, ChunksAreBalancedAtFourPerThread)
{
	started();
	const unsigned int pw = usable_pw();
	for (int max_threads : { 1, 2, 3, 8, 64, INT_MAX }) {
		const unsigned long nthreads = std::min<unsigned long>(max_threads, pw);
		Log log;
		struct padata_mt_job job = make_job(&log, 0, 1ul << 20, 1, 1, max_threads);
		ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
		auto v = log.sorted();
		/* c = size / (4 n); size / c chunks: 4 n of them, or one more. */
		EXPECT_GE(v.size(), 4 * nthreads) << "max_threads " << max_threads;
		EXPECT_LE(v.size(), 4 * nthreads + 1) << "max_threads " << max_threads;
		for (size_t i = 0; i + 1 < v.size(); i++)
			EXPECT_EQ(v[i].end - v[i].start, v[0].end - v[0].start) << "chunk " << i;
		EXPECT_GE(v.back().end - v.back().start, v[0].end - v[0].start);
		EXPECT_LT(v.back().end - v.back().start, 2 * (v[0].end - v[0].start));
		EXPECT_LE(log.threads(), nthreads);
		expect_tiling(log, job);
	}
}

TEST_F(PadataMt, AtMostMaxThreadsRunChunksAndTheCallerIsOneOfThem)
{
	started();
	const unsigned int pw = usable_pw();
	for (int max_threads : { 1, 2, 3, 64 }) {
		const pthread_t caller = pthread_self();
		Gate caller_ran;
		Log log;
		/* Other threads hold their first chunk until the caller ran one:
		 * with 4 chunks per thread the caller must get one, whatever the
		 * scheduling. */
		log.body = [&](unsigned long, unsigned long) {
			if (pthread_equal(pthread_self(), caller))
				caller_ran.open();
			else
				caller_ran.wait();
		};
		struct padata_mt_job job = make_job(&log, 0, 4096, 1, 1, max_threads);
		ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
		EXPECT_TRUE(caller_ran.is_open()) << "the caller ran no chunk";
		EXPECT_LE(log.threads(), std::min<size_t>(max_threads, pw));
		for (auto &c : log.sorted()) {
			if (!pthread_equal(c.thread, caller)) {
				EXPECT_GE(c.cpu, 0) << "a helper ran off the instance's workers";
			}
		}
		expect_tiling(log, job);
	}
}

TEST_F(PadataMt, HelpersRunOnCpusOfTheUsableParallelMask)
{
	if (nr_cpu_ids < 3)
		GTEST_SKIP() << "needs 3 CPUs";
	pinst_ = padata_alloc(wq_, cpu_possible_mask, cpu_possible_mask);
	ASSERT_NE(pinst_, nullptr);
	struct cpumask p = mask_of({ 1, 2 });
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	for (int round = 0; round < 20; round++) {
		Log log;
		struct padata_mt_job job = make_job(&log, 0, 1 << 16, 1, 1, 64);
		ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
		for (auto &c : log.sorted()) {
			if (c.cpu >= 0) {
				EXPECT_TRUE(cpumask_test_cpu(c.cpu, &p)) << "helper on CPU " << c.cpu;
			}
		}
		EXPECT_LE(log.threads(), 2u);
	}
}

TEST_F(PadataMt, TheHelperOfATwoThreadJobRunsOffTheCallersCpu)
{
	std::vector<int> cpus = affinity_cpus();
	if (padata_topology_is_virtual() || cpus.size() < 2 || nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two real CPUs";
	started();
	cpu_set_t one, saved;
	ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved), 0);
	CPU_ZERO(&one);
	CPU_SET(cpus[0], &one);
	ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
	const pthread_t caller = pthread_self();
	for (int round = 0; round < 20; round++) {
		Gate helper_ran;
		Log log;
		/* The caller's chunks wait until a helper ran one, so one surely does. */
		log.body = [&](unsigned long, unsigned long) {
			if (pthread_equal(pthread_self(), caller))
				helper_ran.wait();
			else
				helper_ran.open();
		};
		struct padata_mt_job job = make_job(&log, 0, 1 << 12, 1, 1, 2);
		ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
		for (auto &c : log.sorted()) {
			if (!pthread_equal(c.thread, caller)) {
				EXPECT_NE(host_cpu_of(c.cpu), cpus[0]) << "the helper shared the caller's CPU";
			}
		}
	}
	pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
}

TEST_F(PadataMt, SizeZeroReturnsAtOnceWithoutCallingThreadFn)
{
	Log log;
	struct padata_mt_job job = make_job(&log, 123, 0, 1, 1, 4);
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job), 0) << "not started, but nothing to do";
	ASSERT_EQ(padata_start(pinst_), 0);
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job), 0);
	EXPECT_TRUE(log.chunks.empty());
}

TEST_F(PadataMt, ARangeSmallerThanMinChunkIsOneChunkOnTheCaller)
{
	started();
	Log log;
	struct padata_mt_job job = make_job(&log, 1000, 10, 4, 100, 64);
	ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
	ASSERT_EQ(log.chunks.size(), 1u);
	EXPECT_EQ(log.chunks[0].start, 1000ul);
	EXPECT_EQ(log.chunks[0].end, 1010ul);
	EXPECT_TRUE(pthread_equal(log.chunks[0].thread, pthread_self()));
}

TEST_F(PadataMt, AnAlignmentLargerThanTheRangeIsOneChunk)
{
	started();
	Log log;
	struct padata_mt_job job = make_job(&log, 5, 1000, ULONG_MAX, 1, 64);
	ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
	ASSERT_EQ(log.chunks.size(), 1u);
	expect_tiling(log, job);
}

TEST_F(PadataMt, RangesUpToUlongMaxDoNotOverflow)
{
	started();
	struct Case {
		unsigned long start, size, align, min_chunk;
	} cases[] = {
		{ 0, ULONG_MAX, 1, 1 },
		{ ULONG_MAX - (1ul << 40), 1ul << 40, 4096, 1 },
		{ 1, ULONG_MAX - 1, 1ul << 62, 1 },
		{ ULONG_MAX - 10, 10, 3, 2 },
		{ ULONG_MAX - 1, 1, 1, 1 },
		{ 0, ULONG_MAX, 1, ULONG_MAX },
		{ 0, ULONG_MAX, ULONG_MAX - 1, 2 },
		{ 0, ULONG_MAX, 3, ULONG_MAX / 2 },
	};
	for (const Case &c : cases) {
		Log log;
		struct padata_mt_job job = make_job(&log, c.start, c.size, c.align, c.min_chunk, 64);
		ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0)
			<< "start " << c.start << " size " << c.size;
		expect_tiling(log, job);
	}
}

/* ---- rejected arguments and states --------------------------------------- */

class PadataMtRejects : public PadataMt {
protected:
	void SetUp() override
	{
		PadataMt::SetUp();
		started();
		job_ = make_job(&log_, 0, 100, 1, 1, 4);
	}
	void TearDown() override
	{
		EXPECT_TRUE(log_.chunks.empty()) << "a rejected job ran a chunk";
		PadataMt::TearDown();
	}
	Log log_;
	struct padata_mt_job job_;
};

TEST_F(PadataMtRejects, ANullInstance) { EXPECT_EQ(padata_do_multithreaded(nullptr, &job_), -EINVAL); }
TEST_F(PadataMtRejects, ANullJob) { EXPECT_EQ(padata_do_multithreaded(pinst_, nullptr), -EINVAL); }

TEST_F(PadataMtRejects, ANullThreadFn)
{
	job_.thread_fn = nullptr;
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL);
}

TEST_F(PadataMtRejects, AlignZero)
{
	job_.align = 0;
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL);
}

TEST_F(PadataMtRejects, MinChunkZero)
{
	job_.min_chunk = 0;
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL);
}

TEST_F(PadataMtRejects, MaxThreadsZeroOrNegative)
{
	for (int m : { 0, -1, INT_MIN }) {
		job_.max_threads = m;
		EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL) << m;
	}
}

TEST_F(PadataMtRejects, ARangePastUlongMax)
{
	job_.start = ULONG_MAX;
	job_.size = 1;
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL);
	job_.start = 2;
	job_.size = ULONG_MAX - 1;
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL);
	job_.size = 0; /* even empty: the arguments are checked first */
	job_.thread_fn = nullptr;
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL);
}

TEST_F(PadataMtRejects, ANeverStartedOrStoppedInstance)
{
	struct padata_instance *fresh = padata_alloc_possible(wq_);
	ASSERT_NE(fresh, nullptr);
	EXPECT_EQ(padata_do_multithreaded(fresh, &job_), -EINVAL);
	padata_free(fresh);
	padata_stop(pinst_);
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL);
}

TEST_F(PadataMtRejects, AnInvalidInstance)
{
	struct cpumask none;
	cpumask_clear(&none);
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &none), 0);
	EXPECT_EQ(padata_do_multithreaded(pinst_, &job_), -EINVAL);
}

/* ---- -EDEADLK from inside ------------------------------------------------ */

namespace {

struct padata_instance *g_pinst;
std::atomic<int> g_result;

void mt_from_callback(Job *)
{
	Log log;
	struct padata_mt_job job = make_job(&log, 0, 100, 1, 1, 4);
	g_result.store(padata_do_multithreaded(g_pinst, &job));
	if (!log.chunks.empty())
		g_result.store(-1000);
}

} /* namespace */

TEST_F(PadataMt, ParallelAndSerialGetEdeadlk)
{
	g_pinst = started();
	for (bool in_serial : { false, true }) {
		Job job;
		(in_serial ? job.on_serial : job.on_parallel) = mt_from_callback;
		g_result.store(1);
		ASSERT_EQ(padata_do_parallel(pinst_, &job.priv, 0), 0);
		ASSERT_TRUE(wait_until([&] { return job.done(); }));
		EXPECT_EQ(g_result.load(), -EDEADLK) << (in_serial ? "serial()" : "parallel()");
	}
}

TEST_F(PadataMt, ANotifierGetsEdeadlk)
{
	g_pinst = started();
	struct notifier_block nb;
	std::memset(&nb, 0, sizeof(nb));
	nb.notifier_call = [](struct notifier_block *, unsigned long, void *) {
		mt_from_callback(nullptr);
		return NOTIFY_OK;
	};
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &nb), 0);
	g_result.store(1);
	struct cpumask p = mask_of({ 0 });
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p), 0);
	EXPECT_EQ(g_result.load(), -EDEADLK);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &nb), 0);
}

TEST_F(PadataMt, EveryChunkGetsEdeadlkForNestedJobsMaskChangesAndWaitingSubmissions)
{
	started();
	std::atomic<int> nested_ok{0}, nested_other{0}, change_ok{0}, change_other{0};
	std::atomic<int> wait_ok{0}, wait_other{0};
	std::atomic<int> on_caller{0};
	pthread_t caller{}; /* the thread run_bounded() calls from */
	Log log;
	Gate caller_ran; /* helpers wait for it, so the caller surely runs a chunk */
	log.body = [&](unsigned long, unsigned long) {
		if (pthread_equal(pthread_self(), caller)) {
			on_caller.fetch_add(1);
			caller_ran.open();
		} else {
			caller_ran.wait();
		}
		Log inner;
		struct padata_mt_job job = make_job(&inner, 0, 10, 1, 1, 2);
		(padata_do_multithreaded(pinst_, &job) == -EDEADLK && inner.chunks.empty() ? nested_ok
											   : nested_other)
			.fetch_add(1);
		/* Would wait for the reference the outer job holds: a hang. */
		struct cpumask p = mask_of({ 0 });
		(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p) == -EDEADLK ? change_ok
										  : change_other)
			.fetch_add(1);
		/* Could wait for such a mask change. */
		Job j;
		int rc = padata_do_parallel_wait(pinst_, &j.priv, 0, 1000);
		if (rc == 0)
			wait_until([&] { return j.done(); }); /* accepted by mistake: let it finish */
		(rc == -EDEADLK ? wait_ok : wait_other).fetch_add(1);
	};
	struct padata_mt_job job = make_job(&log, 0, 64, 1, 1, 8);
	run_bounded("a job whose chunks nest", [&] {
		caller = pthread_self();
		ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
	});
	EXPECT_EQ(nested_other.load(), 0);
	EXPECT_EQ(change_other.load(), 0);
	EXPECT_EQ(wait_other.load(), 0) << "padata_do_parallel_wait() from a chunk";
	EXPECT_EQ(nested_ok.load(), static_cast<int>(log.chunks.size()));
	EXPECT_GT(on_caller.load(), 0);
	/* The caller's thread is itself again afterwards. */
	struct cpumask p = mask_of({ 0 });
	EXPECT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p), 0);
}

/* ---- what a running job holds off ---------------------------------------- */

namespace {

/*
 * Runs a job whose every chunk blocks on a gate (on its own thread), then
 * @action on another thread that marks itself watched. Once that thread is
 * asleep in a drain (the wait_sleep hook), the action must not have
 * returned; the gate opens, and the action must return only after every
 * chunk finished. Returns the action's result.
 */
int blocked_by_running_job(PadataMt *t, struct padata_instance *pinst,
			   const std::function<int()> &action)
{
	WaitSleepHook hook;
	Gate entered, release;
	std::atomic<int> chunks_done{0}, chunks{0};
	std::atomic<bool> action_returned{false};
	Log log;
	log.body = [&](unsigned long, unsigned long) {
		chunks.fetch_add(1);
		entered.open();
		release.wait();
		chunks_done.fetch_add(1);
	};
	struct padata_mt_job job = make_job(&log, 0, 1000, 1, 1, 4);
	int mt_result = 1, action_result = 1, done_at_return = -1;
	std::thread runner([&] { mt_result = padata_do_multithreaded(pinst, &job); });
	entered.wait();
	std::thread actor([&] {
		tl_watched = true;
		action_result = action();
		done_at_return = chunks_done.load();
		action_returned.store(true);
	});
	EXPECT_TRUE(wait_until([] { return watched_asleep.load(); })) << "the action never waited";
	EXPECT_FALSE(action_returned.load()) << "the action ran while chunks were running";
	release.open();
	runner.join();
	actor.join();
	EXPECT_EQ(mt_result, 0);
	EXPECT_EQ(done_at_return, chunks.load()) << "the action returned before every chunk finished";
	EXPECT_EQ(chunks_done.load(), static_cast<int>(log.chunks.size()));
	(void)t;
	return action_result;
}

} /* namespace */

TEST_F(PadataMt, AMaskChangeWaitsForTheRunningChunks)
{
	started();
	struct cpumask p = mask_of({ 0 });
	EXPECT_EQ(blocked_by_running_job(this, pinst_, [&] {
			  return padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p);
		  }), 0);
	/* The next job runs on the new mask: the caller and one CPU's worker. */
	Log log;
	struct padata_mt_job job = make_job(&log, 0, 1 << 12, 1, 1, 64);
	ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
	EXPECT_EQ(log.threads(), 1u) << "one usable CPU: the caller alone";
}

TEST_F(PadataMt, CpuDownWaitsForTheRunningChunks)
{
	if (!padata_topology_is_virtual() || nr_cpu_ids < 2)
		GTEST_SKIP() << "needs a virtual topology of 2 CPUs or more";
	started();
	EXPECT_EQ(blocked_by_running_job(this, pinst_, [&] { return cpu_down(1); }), 0);
	EXPECT_EQ(cpu_up(1), 0);
}

TEST_F(PadataMt, PadataFreeWaitsForTheRunningChunks)
{
	started();
	struct padata_instance *pinst = pinst_;
	pinst_ = nullptr; /* freed by the action */
	blocked_by_running_job(this, pinst, [&] {
		padata_free(pinst);
		return 0;
	});
}

TEST_F(PadataMt, AJobStartedDuringAMaskChangeWaitsForItAndUsesTheNewMask)
{
	started();
	Gate in_notifier, release_notifier;
	static Gate *s_in, *s_release;
	s_in = &in_notifier;
	s_release = &release_notifier;
	struct notifier_block nb;
	std::memset(&nb, 0, sizeof(nb));
	nb.notifier_call = [](struct notifier_block *, unsigned long, void *) {
		s_in->open();
		s_release->wait();
		return NOTIFY_OK;
	};
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &nb), 0);
	struct cpumask p = mask_of({ 0 });
	std::thread changer([&] { EXPECT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_PARALLEL, &p), 0); });
	in_notifier.wait();
	Log log;
	struct padata_mt_job job = make_job(&log, 0, 1 << 12, 1, 1, 64);
	std::atomic<int> result{1};
	std::thread runner([&] { result.store(padata_do_multithreaded(pinst_, &job)); });
	/* No sleep makes the runner reach its wait; whether it has or not, no
	 * chunk may run before the change is over. */
	std::this_thread::sleep_for(milliseconds(10));
	EXPECT_TRUE(log.sorted().empty()) << "a chunk ran during a mask change";
	release_notifier.open();
	changer.join();
	runner.join();
	EXPECT_EQ(result.load(), 0);
	EXPECT_EQ(log.threads(), 1u) << "the new mask has one CPU: the caller alone";
	expect_tiling(log, job);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &nb), 0);
}

TEST_F(PadataMt, RunsBesideDoParallelTrafficWithOrderKept)
{
	started();
	const int jobs = static_cast<int>(scaled(20000, 500));
	std::vector<Job> pool(256);
	std::atomic<int> serialized{0}, disorder{0}, last{-1};
	static std::atomic<int> *s_serialized, *s_disorder, *s_last;
	s_serialized = &serialized;
	s_disorder = &disorder;
	s_last = &last;
	for (auto &j : pool)
		j.on_serial = [](Job *j) {
			if (s_last->exchange(j->id) != j->id - 1)
				s_disorder->fetch_add(1);
			s_serialized->fetch_add(1);
		};
	std::thread submitter([&] {
		for (int i = 0; i < jobs; i++) {
			Job &j = pool[i % pool.size()];
			/* Reuse a slot once its serial() returned (its last touch). */
			while (i >= static_cast<int>(pool.size()) && j.serial_runs.load() == 0)
				std::this_thread::yield();
			j.reset();
			j.id = i;
			int err;
			while ((err = padata_do_parallel(pinst_, &j.priv, 0)) == -EBUSY)
				std::this_thread::yield();
			ASSERT_EQ(err, 0);
		}
	});
	const unsigned long n = 1 << 16;
	std::vector<std::atomic<uint8_t>> hits(n);
	int rounds = 0;
	while (serialized.load() < jobs || rounds < 10) {
		for (auto &h : hits)
			h.store(0, std::memory_order_relaxed);
		Log log;
		log.body = [&](unsigned long s, unsigned long e) {
			for (unsigned long i = s; i < e; i++)
				hits[i].fetch_add(1, std::memory_order_relaxed);
		};
		struct padata_mt_job job = make_job(&log, 0, n, 1, 64, 8);
		ASSERT_EQ(padata_do_multithreaded(pinst_, &job), 0);
		for (unsigned long i = 0; i < n; i++)
			ASSERT_EQ(hits[i].load(), 1) << "round " << rounds << " index " << i;
		rounds++;
	}
	submitter.join();
	EXPECT_EQ(serialized.load(), jobs);
	EXPECT_EQ(disorder.load(), 0);
}
