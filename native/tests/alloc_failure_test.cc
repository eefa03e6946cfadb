/* SPDX-License-Identifier: MIT */
/*
 * alloc_failure_test.cc - every allocation and every thread creation of the
 * library's constructors fails in turn; each failure must unwind completely.
 *
 * Linked against the STATIC library with -Wl,--wrap=<symbol> for the
 * allocator and pthread_create/pthread_join (see CMakeLists.txt): the
 * linker sends the library's references to the __wrap_ functions below,
 * which pass through to __real_ (libc, or the sanitizer's interceptor in the
 * ASan build, where the wrap still applies because it rewrites the
 * references of the objects being linked, not the definition).
 *
 * Injection is per thread and a countdown: arm(n) makes the calling
 * thread's n-th fault point (an allocation or a pthread_create) fail, and
 * only that one. sweep() runs a call with n = 1, 2, ... until a run passes
 * every fault point without an injection, and checks after each failed run:
 *   - the call reported the documented error (ENOMEM for an allocation,
 *     EAGAIN for a thread that could not be created);
 *   - nothing it allocated is still allocated (a table of the live blocks
 *     allocated through the wraps; LSan checks the same at exit in the ASan
 *     build);
 *   - every thread it created has returned and was joined;
 *   - the same call without injection then succeeds (and undoes cleanly).
 * The number of fault points found is checked too, so a wrap that silently
 * stopped working (the call succeeding with no fault point) fails the test.
 *
 * Allocating public calls (grep malloc/calloc/realloc/aligned_alloc/
 * posix_memalign/pthread_create in native/src; the ctest
 * alloc_failure.AllocatorsAreWrapped checks the library calls no other one):
 *   alloc_workqueue / create_workqueue   calloc, posix_memalign, nr_cpu_ids threads
 *   padata_alloc / padata_alloc_possible posix_memalign x3, calloc x5
 *   padata_set_max_inflight              calloc (the new ring)
 *   flush_workqueue                      malloc (falls back to one CPU at a time)
 *   padata_do_multithreaded              malloc beyond 9 threads (falls back to 9)
 * The others (notifier registration, cpumask setters, add/remove_cpu,
 * cpu_down/cpu_up, padata_test_set_seq, alloc_cpumask_var, a no-op that
 * never fails) allocate nothing: NonAllocatingCallsHaveNoFaultPoint guards
 * that list.
 */
#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <atomic>

extern "C" {
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
int __real_posix_memalign(void **out, size_t align, size_t size);
void __real_free(void *p);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __real_pthread_join(pthread_t t, void **ret);
int __real_pthread_rwlock_wrlock(pthread_rwlock_t *l);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
int __wrap_posix_memalign(void **out, size_t align, size_t size);
void __wrap_free(void *p);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
int __wrap_pthread_join(pthread_t t, void **ret);
int __wrap_pthread_rwlock_wrlock(pthread_rwlock_t *l);
}

namespace {

using namespace padata_test;

enum class Fault { none, alloc, thread };

/*
 * Per-thread injection state (plain PODs: no TLS constructor runs inside an
 * allocator). Only the armed thread sees faults, so the workers of a queue
 * that exists meanwhile never do.
 */
thread_local long tl_countdown;     /* 0: disarmed; else calls until the failing one */
thread_local long tl_points;        /* fault points passed while armed */
thread_local Fault tl_injected;     /* what the armed run failed, if anything */
thread_local int tl_thread_err;     /* what an injected pthread_create returns */
/* Run once just before the thread's next write lock (the hotplug lock). */
thread_local void (*tl_before_wrlock)(void);

bool inject(Fault kind)
{
	if (tl_countdown == 0)
		return false;
	tl_points++;
	if (--tl_countdown)
		return false;
	tl_injected = kind; /* the countdown is 0 now: later calls pass */
	return true;
}

void arm(long n, int thread_err = EAGAIN)
{
	tl_countdown = n;
	tl_points = 0;
	tl_injected = Fault::none;
	tl_thread_err = thread_err;
}

Fault disarm()
{
	tl_countdown = 0;
	return tl_injected;
}

/*
 * ---- live blocks ------------------------------------------------------
 * Every block allocated through the wraps: the library's, and the few the
 * test itself makes (C++ new and GoogleTest's strings come from libstdc++,
 * whose references are not wrapped).
 */

pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
/* Stored complemented, so the table is no reference that hides a leak from LSan. */
uintptr_t live[4096];
size_t nlive;

uintptr_t hide(void *p)
{
	return ~reinterpret_cast<uintptr_t>(p);
}

void track(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&live_lock);
	if (nlive == sizeof(live) / sizeof(live[0])) {
		std::fprintf(stderr, "alloc_failure_test: live-block table full\n");
		std::abort();
	}
	live[nlive++] = hide(p);
	pthread_mutex_unlock(&live_lock);
}

void untrack(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&live_lock);
	for (size_t i = 0; i < nlive; i++) {
		if (live[i] == hide(p)) {
			live[i] = live[--nlive];
			break;
		}
	}
	pthread_mutex_unlock(&live_lock);
}

size_t live_blocks()
{
	pthread_mutex_lock(&live_lock);
	size_t n = nlive;
	pthread_mutex_unlock(&live_lock);
	return n;
}

/* ---- threads ---------------------------------------------------------- */

/* Created and not yet returned from their start routine / not yet joined. */
std::atomic<long> threads_running{0};
std::atomic<long> threads_unjoined{0};

struct Start {
	void *(*fn)(void *);
	void *arg;
};

void *trampoline(void *p)
{
	Start s = *static_cast<Start *>(p);
	__real_free(p);
	void *ret = s.fn(s.arg);
	/* Before the thread ends, so a pthread_join() that returned saw it. */
	threads_running.fetch_sub(1);
	return ret;
}

} /* namespace */

/* ---- the wrappers ------------------------------------------------------ */

extern "C" void *__wrap_malloc(size_t size)
{
	if (inject(Fault::alloc)) {
		errno = ENOMEM;
		return nullptr;
	}
	void *p = __real_malloc(size);
	track(p);
	return p;
}

extern "C" void *__wrap_calloc(size_t n, size_t size)
{
	if (inject(Fault::alloc)) {
		errno = ENOMEM;
		return nullptr;
	}
	void *p = __real_calloc(n, size);
	track(p);
	return p;
}

extern "C" void *__wrap_realloc(void *old, size_t size)
{
	if (inject(Fault::alloc)) {
		errno = ENOMEM;
		return nullptr; /* @old stays allocated, as with a real failure */
	}
	void *p = __real_realloc(old, size);
	if (p) {
		untrack(old);
		track(p);
	}
	return p;
}

extern "C" void *__wrap_aligned_alloc(size_t align, size_t size)
{
	if (inject(Fault::alloc)) {
		errno = ENOMEM;
		return nullptr;
	}
	void *p = __real_aligned_alloc(align, size);
	track(p);
	return p;
}

extern "C" int __wrap_posix_memalign(void **out, size_t align, size_t size)
{
	if (inject(Fault::alloc))
		return ENOMEM; /* *out unchanged, as POSIX specifies */
	int err = __real_posix_memalign(out, align, size);
	if (!err)
		track(*out);
	return err;
}

extern "C" void __wrap_free(void *p)
{
	untrack(p);
	__real_free(p);
}

extern "C" int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr,
				     void *(*fn)(void *), void *arg)
{
	if (inject(Fault::thread))
		return tl_thread_err;
	Start *s = static_cast<Start *>(__real_malloc(sizeof(Start)));
	if (!s)
		return EAGAIN;
	*s = Start{fn, arg};
	threads_running.fetch_add(1);
	int err = __real_pthread_create(t, attr, trampoline, s);
	if (err) {
		threads_running.fetch_sub(1);
		__real_free(s);
		return err;
	}
	threads_unjoined.fetch_add(1);
	return 0;
}

extern "C" int __wrap_pthread_join(pthread_t t, void **ret)
{
	int err = __real_pthread_join(t, ret);
	if (!err)
		threads_unjoined.fetch_sub(1);
	return err;
}

extern "C" int __wrap_pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	if (void (*fn)(void) = tl_before_wrlock) {
		tl_before_wrlock = nullptr;
		fn();
	}
	return __real_pthread_rwlock_wrlock(l);
}

namespace {

/* ---- the sweep --------------------------------------------------------- */

/* A constructor's result: ok, else the error it reported (a positive errno). */
struct Outcome {
	bool ok;
	int err;
};

/* The errno a call must report for an injected failure of @kind. */
int documented_errno(Fault kind)
{
	return kind == Fault::thread ? EAGAIN : ENOMEM;
}

/*
 * Runs @call with its n-th fault point failing, n = 1, 2, ..., until a run
 * passes every fault point. @undo releases what a successful @call made;
 * @after_failure (optional) checks more after a failed run. Returns the
 * number of fault points of a successful run.
 */
long sweep(const char *what, const std::function<Outcome()> &call, const std::function<void()> &undo,
	   const std::function<void()> &after_failure = nullptr, int thread_err = EAGAIN)
{
	const size_t blocks0 = live_blocks();
	const long running0 = threads_running.load();
	const long unjoined0 = threads_unjoined.load();

	for (long n = 1;; n++) {
		SCOPED_TRACE(std::string(what) + ": fault point " + std::to_string(n));
		arm(n, thread_err);
		errno = 0;
		Outcome o = call();
		long points = tl_points;
		Fault kind = disarm();

		if (kind == Fault::none) {
			/* Every fault point passed: the call must have succeeded. */
			EXPECT_TRUE(o.ok) << "failed (" << std::strerror(o.err) << ") with nothing injected";
			EXPECT_EQ(points, n - 1);
			if (o.ok) {
						undo();
					}
			EXPECT_EQ(live_blocks(), blocks0) << "blocks left after the undo of a success";
			EXPECT_EQ(threads_running.load(), running0);
			EXPECT_EQ(threads_unjoined.load(), unjoined0);
			return n - 1;
		}

		EXPECT_FALSE(o.ok) << "succeeded although fault point " << n << " failed";
		if (o.ok) {
			undo();
		} else {
			EXPECT_EQ(o.err, documented_errno(kind))
				<< (kind == Fault::thread ? "thread creation" : "allocation")
				<< " failure reported as " << std::strerror(o.err);
		}
		EXPECT_EQ(live_blocks(), blocks0) << "the failed call leaked "
						  << live_blocks() - blocks0 << " block(s)";
		EXPECT_EQ(threads_running.load(), running0) << "a thread of the failed call still runs";
		EXPECT_EQ(threads_unjoined.load(), unjoined0) << "a thread of the failed call was not joined";
		if (after_failure)
			after_failure();

		/* The same call, without injection, now succeeds. */
		Outcome again = call();
		EXPECT_TRUE(again.ok) << "the call after a failure failed: " << std::strerror(again.err);
		if (again.ok)
			undo();
		if (::testing::Test::HasFatalFailure() || n > 10000)
			return -1;
	}
}

/* Runs one job through @pinst (started here, stopped again) and waits for it. */
void run_one_job(struct padata_instance *pinst)
{
	struct padata_cpumask usable;
	ASSERT_EQ(padata_get_cpumask(pinst, &usable), 0);
	ASSERT_EQ(padata_start(pinst), 0);
	Job job;
	ASSERT_EQ(submit_retry(pinst, &job, static_cast<int>(cpumask_first(usable.cbcpu))), 0);
	EXPECT_TRUE(wait_done({&job}));
	padata_stop(pinst);
}

/*
 * Takes a CPU down and up again, so hotplug walks the instance list: a
 * failed padata_alloc() that left itself linked there is then a
 * use-after-free (ASan) or a hang.
 */
void hotplug_cycle()
{
	struct cpumask active = active_snapshot();
	if (cpumask_weight(&active) < 2)
		return;
	unsigned int last = 0, c;
	for_each_cpu(c, &active)
		last = c;
	EXPECT_EQ(cpu_down(last), 0);
	EXPECT_EQ(cpu_up(last), 0);
}

/* ---- alloc_workqueue ---------------------------------------------------- */

Outcome try_alloc_workqueue(struct workqueue_struct **out)
{
	*out = alloc_workqueue("faultinj", 0, 0);
	return {*out != nullptr, *out ? 0 : errno};
}

TEST(AllocWorkqueue, EveryAllocationAndThreadFailureUnwindsWithTheDocumentedErrno)
{
	struct workqueue_struct *wq = nullptr;
	long points = sweep(
		"alloc_workqueue", [&] { return try_alloc_workqueue(&wq); },
		[&] { destroy_workqueue(wq); });
	/* The queue, its per-CPU array and one thread per CPU. */
	EXPECT_GE(points, 2 + static_cast<long>(nr_cpu_ids)) << "the wraps did not see the library";
}

TEST(AllocWorkqueue, CreateWorkqueueUnwindsLikeAllocWorkqueue)
{
	struct workqueue_struct *wq = nullptr;
	long points = sweep(
		"create_workqueue",
		[&]() -> Outcome {
			wq = create_workqueue("faultinj");
			return {wq != nullptr, wq ? 0 : errno};
		},
		[&] { destroy_workqueue(wq); });
	EXPECT_GE(points, 2 + static_cast<long>(nr_cpu_ids));
}

/*
 * pthread_create() may answer EAGAIN, EPERM (a scheduling policy refused) or,
 * in some C libraries, ENOMEM: the header promises EAGAIN for "a worker
 * thread could not be created", whatever the cause.
 */
TEST(AllocWorkqueue, ThreadCreationFailureIsEagainWhateverPthreadCreateAnswered)
{
	for (int answer : {ENOMEM, EPERM}) {
		SCOPED_TRACE(std::string("pthread_create answers ") + std::strerror(answer));
		struct workqueue_struct *wq = nullptr;
		sweep(
			"alloc_workqueue", [&] { return try_alloc_workqueue(&wq); },
			[&] { destroy_workqueue(wq); }, nullptr, answer);
	}
}

/* ---- padata_alloc ------------------------------------------------------- */

class PadataAllocFailure : public ::testing::Test {
protected:
	void SetUp() override
	{
		running0_ = threads_running.load();
		wq_ = alloc_workqueue("faultinj", 0, 0);
		ASSERT_NE(wq_, nullptr);
	}
	void TearDown() override
	{
		restore_all_cpus();
		/* Refused (threads left running) if a failed padata_alloc() kept a
		 * use of the queue. */
		destroy_workqueue(wq_);
		EXPECT_EQ(threads_running.load(), running0_) << "destroy_workqueue() was refused";
	}
	struct workqueue_struct *wq_ = nullptr;
	long running0_ = 0;
};

TEST_F(PadataAllocFailure, EveryAllocationFailureUnwindsWithEnomem)
{
	struct padata_instance *pinst = nullptr;
	long points = sweep(
		"padata_alloc",
		[&]() -> Outcome {
			pinst = padata_alloc(wq_, cpu_possible_mask, cpu_possible_mask);
			return {pinst != nullptr, pinst ? 0 : errno};
		},
		[&] {
			run_one_job(pinst);
			padata_free(pinst);
		},
		hotplug_cycle);
	/* The instance, two per-CPU queue arrays, the ring and four scratch arrays. */
	EXPECT_GE(points, 8) << "the wraps did not see the library";
}

TEST_F(PadataAllocFailure, PadataAllocPossibleUnwindsLikePadataAlloc)
{
	struct padata_instance *pinst = nullptr;
	long points = sweep(
		"padata_alloc_possible",
		[&]() -> Outcome {
			pinst = padata_alloc_possible(wq_);
			return {pinst != nullptr, pinst ? 0 : errno};
		},
		[&] {
			run_one_job(pinst);
			padata_free(pinst);
		},
		hotplug_cycle);
	EXPECT_GE(points, 8);
}

/* A failed padata_alloc() with other instances alive leaves them working. */
TEST_F(PadataAllocFailure, FailureBesideALiveInstanceLeavesItWorking)
{
	struct padata_instance *other = padata_alloc_possible(wq_);
	ASSERT_NE(other, nullptr);
	struct padata_instance *pinst = nullptr;
	sweep(
		"padata_alloc beside another",
		[&]() -> Outcome {
			pinst = padata_alloc(wq_, cpu_possible_mask, cpu_possible_mask);
			return {pinst != nullptr, pinst ? 0 : errno};
		},
		[&] { padata_free(pinst); },
		[&] {
			hotplug_cycle();
			run_one_job(other);
		});
	padata_free(other);
}

unsigned int cpu_to_take_down;
int cpu_down_answer = 1;

void take_cpu_down()
{
	cpu_down_answer = cpu_down(cpu_to_take_down);
}

/*
 * The other failure after the allocations: the instance's only CPU goes
 * down between padata_alloc()'s mask check and its hotplug lock (forced by
 * running cpu_down() just before that lock). The instance is then invalid:
 * EINVAL, and the same unwinding as an allocation failure plus the lock.
 */
TEST_F(PadataAllocFailure, ACpuGoingDownDuringAllocUnwindsWithEinval)
{
	struct cpumask active = active_snapshot();
	if (cpumask_weight(&active) < 2)
		GTEST_SKIP() << "needs two active CPUs";
	unsigned int c, last = 0;
	for_each_cpu(c, &active)
		last = c;
	struct cpumask one = mask_of({static_cast<int>(last)});
	const size_t blocks0 = live_blocks();

	cpu_to_take_down = last;
	tl_before_wrlock = take_cpu_down;
	errno = 0;
	struct padata_instance *pinst = padata_alloc(wq_, &one, &one);
	const int err = errno;
	const bool fired = tl_before_wrlock == nullptr;
	tl_before_wrlock = nullptr;
	ASSERT_TRUE(fired) << "padata_alloc() took no write lock";
	EXPECT_EQ(cpu_down_answer, 0);
	EXPECT_EQ(pinst, nullptr);
	EXPECT_EQ(err, EINVAL) << std::strerror(err);
	EXPECT_EQ(live_blocks(), blocks0) << "the failed call leaked";
	if (pinst)
		padata_free(pinst);

	EXPECT_EQ(cpu_up(last), 0);
	hotplug_cycle();
	pinst = padata_alloc(wq_, &one, &one);
	ASSERT_NE(pinst, nullptr) << "the call after the failure failed: " << std::strerror(errno);
	run_one_job(pinst);
	padata_free(pinst);
	EXPECT_EQ(live_blocks(), blocks0);
}

/* ---- padata_set_max_inflight ------------------------------------------- */

TEST_F(PadataAllocFailure, SetMaxInflightFailureIsEnomemAndKeepsTheOldLimit)
{
	struct padata_instance *pinst = padata_alloc_possible(wq_);
	ASSERT_NE(pinst, nullptr);
	const unsigned int old_limit = padata_get_max_inflight(pinst);
	const unsigned int new_limit = old_limit * 4;
	long points = sweep(
		"padata_set_max_inflight",
		[&]() -> Outcome {
			int err = padata_set_max_inflight(pinst, new_limit);
			return {err == 0, -err};
		},
		[&] {
			EXPECT_EQ(padata_get_max_inflight(pinst), new_limit);
			ASSERT_EQ(padata_set_max_inflight(pinst, old_limit), 0);
		},
		[&] {
			EXPECT_EQ(padata_get_max_inflight(pinst), old_limit);
			run_one_job(pinst);
		});
	EXPECT_EQ(points, 1);
	padata_free(pinst);
}

/* ---- flush_workqueue --------------------------------------------------- */

std::atomic<bool> flushed_item_ran;

void mark_ran(struct work_struct *)
{
	flushed_item_ran.store(true);
}

/* flush_workqueue() has no error to report: without memory it still waits. */
TEST(FlushWorkqueueFailure, WithoutMemoryItStillWaitsForQueuedItems)
{
	struct workqueue_struct *wq = alloc_workqueue("faultinj", 0, 0);
	ASSERT_NE(wq, nullptr);
	struct work_struct w;
	INIT_WORK(&w, mark_ran);
	const size_t blocks0 = live_blocks();
	for (int round = 0; round < 20; round++) {
		flushed_item_ran = false;
		ASSERT_TRUE(queue_work_on(0, wq, &w));
		arm(1);
		flush_workqueue(wq);
		Fault kind = disarm();
		EXPECT_EQ(kind, Fault::alloc) << "flush_workqueue() no longer allocates: update this test";
		EXPECT_TRUE(flushed_item_ran.load()) << "returned before the queued item ran";
		EXPECT_EQ(live_blocks(), blocks0);
		flush_work(&w);
	}
	destroy_workqueue(wq);
}

struct Requeuer {
	struct work_struct work;
	struct workqueue_struct *wq;
	std::atomic<bool> stop{false};
	std::atomic<long> runs{0};
};

void requeue_self(struct work_struct *w)
{
	Requeuer *r = container_of(w, Requeuer, work);
	r->runs.fetch_add(1);
	if (!r->stop.load())
		queue_work_on(0, r->wq, w);
}

/*
 * An item that re-queues itself (allowed by the header) keeps its CPU's
 * queue from ever running dry: a fallback that waits for that livelocks,
 * spinning. The flush must still return once what was queued before it ran.
 */
TEST(FlushWorkqueueFailure, WithoutMemoryItReturnsWhileAnItemKeepsRequeueingItself)
{
	Requeuer r;
	r.wq = alloc_workqueue("faultinj", 0, 0);
	ASSERT_NE(r.wq, nullptr);
	INIT_WORK(&r.work, requeue_self);
	ASSERT_TRUE(queue_work_on(0, r.wq, &r.work));
	ASSERT_TRUE(wait_until([&] { return r.runs.load() > 0; }));
	const size_t blocks0 = live_blocks();
	run_bounded("flush_workqueue() without memory beside a self-requeueing item", [&] {
		arm(1);
		flush_workqueue(r.wq);
		EXPECT_EQ(disarm(), Fault::alloc);
	});
	EXPECT_EQ(live_blocks(), blocks0);
	r.stop = true;
	flush_work(&r.work);
	destroy_workqueue(r.wq);
}

/* ---- padata_do_multithreaded ------------------------------------------ */

struct MtCount {
	std::atomic<unsigned long> covered{0};
	std::mutex lock;
	std::vector<pthread_t> threads;
};

void mt_count(unsigned long start, unsigned long end, void *arg)
{
	MtCount *m = static_cast<MtCount *>(arg);
	m->covered.fetch_add(end - start);
	std::lock_guard<std::mutex> g(m->lock);
	for (pthread_t t : m->threads)
		if (pthread_equal(t, pthread_self()))
			return;
	m->threads.push_back(pthread_self());
}

/*
 * padata_do_multithreaded() has no -ENOMEM: beyond its 8 helper items on the
 * stack it allocates the array, and without memory it runs with those 8.
 */
TEST_F(PadataAllocFailure, MultithreadedWithoutMemoryRunsWithItsInlineHelpers)
{
	if (nr_cpu_ids < 10)
		GTEST_SKIP() << "needs 10 parallel CPUs, so that the helper array comes from the heap";
	struct padata_instance *pinst = padata_alloc_possible(wq_);
	ASSERT_NE(pinst, nullptr);
	ASSERT_EQ(padata_start(pinst), 0);
	const size_t blocks0 = live_blocks();
	for (long n : { 1, 2 }) {
		MtCount m;
		struct padata_mt_job job;
		std::memset(&job, 0, sizeof(job));
		job.thread_fn = mt_count;
		job.fn_arg = &m;
		job.size = 1ul << 16;
		job.align = 1;
		job.min_chunk = 1;
		job.max_threads = 64;
		arm(n);
		int rc = padata_do_multithreaded(pinst, &job);
		Fault kind = disarm();
		EXPECT_EQ(rc, 0);
		EXPECT_EQ(m.covered.load(), job.size) << "not every index ran";
		EXPECT_EQ(live_blocks(), blocks0);
		if (n == 1) {
			EXPECT_EQ(kind, Fault::alloc) << "padata_do_multithreaded() no longer allocates: update this test";
			EXPECT_LE(m.threads.size(), 9u) << "more threads than the inline helpers and the caller";
		} else {
			EXPECT_EQ(kind, Fault::none) << "more than one fault point";
		}
	}
	padata_free(pinst);
}

/* ---- calls that must not allocate -------------------------------------- */

int nop_notifier(struct notifier_block *, unsigned long, void *)
{
	return NOTIFY_OK;
}

/*
 * The public calls left out of the sweeps above pass no fault point: if one
 * starts allocating, it needs a sweep (and a documented -ENOMEM).
 */
TEST_F(PadataAllocFailure, NonAllocatingCallsHaveNoFaultPoint)
{
	struct padata_instance *pinst = padata_alloc_possible(wq_);
	ASSERT_NE(pinst, nullptr);
	struct notifier_block nb;
	std::memset(&nb, 0, sizeof(nb));
	nb.notifier_call = nop_notifier;
	cpumask_var_t var;
	struct cpumask all;
	cpumask_copy(&all, cpu_possible_mask);

	arm(1000000);
	EXPECT_TRUE(alloc_cpumask_var(&var, GFP_KERNEL));
	EXPECT_TRUE(zalloc_cpumask_var(&var, GFP_KERNEL));
	free_cpumask_var(var);
	EXPECT_EQ(padata_register_cpumask_notifier(pinst, &nb), 0);
	EXPECT_EQ(padata_set_cpumask(pinst, PADATA_CPU_PARALLEL, &all), 0);
	EXPECT_EQ(padata_set_cpumasks(pinst, &all, &all), 0);
	EXPECT_EQ(padata_remove_cpu(pinst, 0, PADATA_CPU_SERIAL), 0);
	EXPECT_EQ(padata_add_cpu(pinst, 0, PADATA_CPU_SERIAL), 0);
	hotplug_cycle();
	EXPECT_EQ(padata_test_set_seq(pinst, 7), 0);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst, &nb), 0);
	EXPECT_EQ(tl_points, 0) << "one of these calls allocates or creates a thread now";
	disarm();
	run_one_job(pinst);
	padata_free(pinst);
}

} /* namespace */
