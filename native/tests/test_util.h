/* SPDX-License-Identifier: MIT */
/*
 * test_util.h - helpers shared by the native GoogleTest suites. Test-only.
 *
 * Nothing here reaches into the library's private headers: the suites test
 * libpadata through <linux/padata.h> exactly as a user would.
 *
 * Environment:
 *   PADATA_NR_CPUS      read by the library at load (virtual topology).
 *   PADATA_TEST_SCALE   multiplies loop counts (default 1; sanitizer builds
 *                       compile in a smaller default so the run stays short).
 */
#ifndef PADATA_TEST_UTIL_H
#define PADATA_TEST_UTIL_H

#include <linux/padata.h>
#include "../src/test_hooks.h" /* test-only seams, reset in InstanceTest::TearDown() */

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace padata_test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

#ifndef PADATA_TEST_DEFAULT_SCALE
#define PADATA_TEST_DEFAULT_SCALE 1
#endif

/* True in sanitizer builds (slower; wider time limits). */
inline bool sanitized()
{
	return PADATA_TEST_DEFAULT_SCALE < 1;
}

/*
 * Loop-count multiplier: PADATA_TEST_SCALE (a positive float), else the
 * build's default (1, or less in sanitizer builds).
 */
inline double scale()
{
	static const double s = [] {
		const double dflt = PADATA_TEST_DEFAULT_SCALE;
		const char *e = std::getenv("PADATA_TEST_SCALE");
		if (!e || !*e)
			return dflt;
		char *end = nullptr;
		double v = std::strtod(e, &end);
		return (end && *end == '\0' && v > 0.0) ? v : dflt;
	}();
	return s;
}

/* @n scaled by PADATA_TEST_SCALE, never below @min. */
inline long scaled(long n, long min = 1)
{
	long v = static_cast<long>(static_cast<double>(n) * scale());
	return std::max(v, min);
}

/* Deadline for waits that must end unless the library is broken. */
inline milliseconds hang_limit()
{
	return milliseconds(20000);
}

/* Polls @pred every 100 us until it holds or @limit passes; returns pred(). */
inline bool wait_until(const std::function<bool()> &pred, milliseconds limit = hang_limit())
{
	auto end = Clock::now() + limit;
	while (!pred()) {
		if (Clock::now() >= end)
			return pred();
		std::this_thread::sleep_for(std::chrono::microseconds(100));
	}
	return true;
}

/*
 * Runs @fn on its own thread; when it has not returned after @limit, prints
 * what hung and ends the process with status 1 (a hung library call cannot
 * be unwound, and the fixture's cleanup would hang on it too).
 */
inline void run_bounded(const char *what, const std::function<void()> &fn,
			milliseconds limit = hang_limit())
{
	auto done = std::make_shared<std::atomic<bool>>(false);
	std::thread t([fn, done] {
		fn();
		done->store(true);
	});
	if (!wait_until([&] { return done->load(); }, limit)) {
		/* On stdout too: a test may be capturing stderr. */
		for (FILE *f : {stderr, stdout}) {
			std::fprintf(f, "HANG: %s did not return within %lld ms\n", what,
				     static_cast<long long>(limit.count()));
			std::fflush(f);
		}
		std::_Exit(1);
	}
	t.join();
}

/* The CPU count PADATA_NR_CPUS asks for, or 0 when it is unset or invalid. */
inline unsigned int env_nr_cpus()
{
	const char *e = std::getenv("PADATA_NR_CPUS");
	if (!e || !*e)
		return 0;
	char *end = nullptr;
	long v = std::strtol(e, &end, 10);
	if (*end || v < 1 || v > NR_CPUS)
		return 0;
	return static_cast<unsigned int>(v);
}

/* The CPUs this thread may run on, in ascending order. */
inline std::vector<int> affinity_cpus()
{
	std::vector<int> out;
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				out.push_back(c);
	}
	return out;
}

inline std::vector<int> mask_cpus(const struct cpumask *m)
{
	std::vector<int> out;
	unsigned int c;
	for_each_cpu(c, m)
		out.push_back(static_cast<int>(c));
	return out;
}

inline std::string mask_str(const struct cpumask *m)
{
	char buf[4 * NR_CPUS];
	cpulist_scnprintf(buf, sizeof(buf), m);
	return buf;
}

inline struct cpumask mask_of(std::initializer_list<int> cpus)
{
	struct cpumask m;
	cpumask_clear(&m);
	for (int c : cpus)
		cpumask_set_cpu(static_cast<unsigned int>(c), &m);
	return m;
}

inline struct cpumask active_snapshot()
{
	struct cpumask m;
	padata_cpu_active_snapshot(&m);
	return m;
}

/* The address as the library prints it with %p, without the "0x". */
inline std::string addr_hex(const void *p)
{
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%lx", static_cast<unsigned long>(reinterpret_cast<uintptr_t>(p)));
	return buf;
}

/* Brings every CPU back up (fixtures' TearDown: tests restore global state). */
inline void restore_all_cpus()
{
	for (unsigned int c = 0; c < nr_cpu_ids; c++)
		(void)cpu_up(c); /* -EINVAL for CPUs never active here: fine */
}

/* The real CPU a worker of virtual CPU @cpu should be running on. */
inline int host_cpu_of(int cpu)
{
	return padata_cpu_to_host(static_cast<unsigned int>(cpu));
}

/* A small deterministic PRNG (xorshift64*), one per thread. */
struct Rng {
	uint64_t s;
	explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
	uint64_t next()
	{
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		return s * 0x2545F4914F6CDD1Dull;
	}
	/* Uniform in [0, n). */
	uint32_t below(uint32_t n) { return static_cast<uint32_t>((next() >> 32) % n); }
};

/* A workqueue owned by a test; destroyed at scope end. */
class Wq {
public:
	explicit Wq(const char *name = "ptest") : wq_(create_workqueue(name)) {}
	~Wq() { destroy_workqueue(wq_); }
	Wq(const Wq &) = delete;
	Wq &operator=(const Wq &) = delete;
	struct workqueue_struct *get() const { return wq_; }

private:
	struct workqueue_struct *wq_;
};

/*
 * The fixture of every padata suite (one subclass per suite): a workqueue
 * named after the suite for each test, an instance slot the test may fill
 * (padata_free() in TearDown), and every CPU up before and after the test,
 * which the virtual topology checks.
 */
class InstanceTest : public ::testing::Test {
protected:
	explicit InstanceTest(const char *wq_name) : wq_name_(wq_name) {}

	void SetUp() override
	{
		restore_all_cpus();
		wq_ = create_workqueue(wq_name_);
		ASSERT_NE(wq_, nullptr);
	}
	void TearDown() override
	{
		/* A test that set a hook and failed before clearing it. */
		__atomic_store_n(&padata_test_hooks.queue_between, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.wait_sleep, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.drain_leave, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.submit_sleep, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.submit_wake, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.pick, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.park, nullptr, __ATOMIC_SEQ_CST);
		__atomic_store_n(&padata_test_hooks.parallel_enter, nullptr, __ATOMIC_SEQ_CST);
		padata_free(pinst_);
		pinst_ = nullptr;
		destroy_workqueue(wq_);
		wq_ = nullptr;
		restore_all_cpus();
		EXPECT_TRUE(cpumask_equal(cpu_active_mask, cpu_online_mask) || !padata_topology_is_virtual())
			<< "a CPU stayed down";
	}
	/* A started instance on every possible CPU, kept in pinst_. */
	struct padata_instance *started()
	{
		pinst_ = padata_alloc_possible(wq_);
		EXPECT_NE(pinst_, nullptr);
		EXPECT_EQ(padata_start(pinst_), 0);
		return pinst_;
	}
	int last_cpu() const { return static_cast<int>(nr_cpu_ids) - 1; }

	struct workqueue_struct *wq_ = nullptr;
	struct padata_instance *pinst_ = nullptr;

private:
	const char *wq_name_;
};

/* Wakes one waiter: a flag plus a futex-free condition (polling is fine in tests). */
class Gate {
public:
	void open() { open_.store(true, std::memory_order_release); }
	bool is_open() const { return open_.load(std::memory_order_acquire); }
	/* Waits until open; on timeout the test fails and the wait ends. */
	bool wait(milliseconds limit = hang_limit()) const
	{
		if (wait_until([this] { return is_open(); }, limit))
			return true;
		ADD_FAILURE() << "a gate was never opened: the test would have hung";
		return false;
	}

private:
	std::atomic<bool> open_{false};
};


/*
 * A padata job for the API-level tests. parallel() records where it ran,
 * calls on_parallel, waits for hold_parallel, counts itself and, unless
 * @defer is set, calls padata_do_serial() itself. serial() records, calls on_serial, waits
 * for hold_serial and counts itself last, so serial_runs == 1 means "serial()
 * is returning or has returned".
 */
struct Job {
	struct padata_priv priv;
	int id = 0;
	bool defer = false;
	const Gate *hold_parallel = nullptr;
	const Gate *hold_serial = nullptr;
	void (*on_parallel)(Job *job) = nullptr;
	void (*on_serial)(Job *job) = nullptr;
	void *ctx = nullptr;
	std::atomic<int> parallel_runs{0};
	std::atomic<int> serial_runs{0};
	std::atomic<int> parallel_cpu{-2};
	std::atomic<int> serial_cpu{-2};
	std::atomic<bool> parallel_entered{false};
	std::atomic<bool> serial_entered{false};

	Job() { reset(); }
	Job(const Job &) = delete;
	Job &operator=(const Job &) = delete;

	/* Zeroes the padata part and the counters, keeps the configuration. */
	void reset()
	{
		std::memset(&priv, 0, sizeof(priv));
		priv.parallel = parallel_fn;
		priv.serial = serial_fn;
		parallel_runs = 0;
		serial_runs = 0;
		parallel_cpu = -2;
		serial_cpu = -2;
		parallel_entered = false;
		serial_entered = false;
	}
	static Job *of(struct padata_priv *p) { return container_of(p, Job, priv); }
	bool done() const { return serial_runs.load() > 0; }

	static void parallel_fn(struct padata_priv *p)
	{
		Job *j = of(p);
		const bool defer = j->defer;
		const Gate *hold = j->hold_parallel;
		j->parallel_cpu.store(padata_current_cpu());
		j->parallel_entered.store(true);
		if (j->on_parallel)
			j->on_parallel(j);
		if (hold)
			hold->wait();
		/*
		 * Last touch of a deferred job: once parallel_runs is 1 the test
		 * may finish it (and free it) from another thread.
		 */
		j->parallel_runs.fetch_add(1);
		if (!defer)
			padata_do_serial(p);
	}
	static void serial_fn(struct padata_priv *p)
	{
		Job *j = of(p);
		j->serial_cpu.store(padata_current_cpu());
		j->serial_entered.store(true);
		if (j->on_serial)
			j->on_serial(j);
		if (j->hold_serial)
			j->hold_serial->wait();
		j->serial_runs.fetch_add(1);
	}
};

/*
 * Records every call of a cpumask notifier: register &nb. ret is what the
 * notifier answers; tag is appended to *order on each call (to check the
 * order of several notifiers).
 */
struct Recorder {
	struct notifier_block nb;
	struct Call {
		unsigned long action;
		struct cpumask pcpu;
		struct cpumask cbcpu;
		pthread_t thread;
	};
	std::mutex lock;
	std::vector<Call> calls;
	int ret = NOTIFY_OK;
	int tag = 0;
	std::vector<int> *order = nullptr; /* shared log of tags, for priorities */

	explicit Recorder(int priority = 0, int tag_ = 0)
	{
		nb.notifier_call = call;
		nb.next = nullptr;
		nb.priority = priority;
		tag = tag_;
	}
	Recorder(const Recorder &) = delete;
	Recorder &operator=(const Recorder &) = delete;

	static int call(struct notifier_block *nb, unsigned long action, void *data)
	{
		Recorder *r = container_of(nb, Recorder, nb);
		auto *m = static_cast<struct padata_cpumask *>(data);
		Call c;
		c.action = action;
		cpumask_copy(&c.pcpu, m->pcpu);
		cpumask_copy(&c.cbcpu, m->cbcpu);
		c.thread = pthread_self();
		std::lock_guard<std::mutex> g(r->lock);
		r->calls.push_back(c);
		if (r->order)
			r->order->push_back(r->tag);
		return r->ret;
	}
	size_t count()
	{
		std::lock_guard<std::mutex> g(lock);
		return calls.size();
	}
	/*
	 * The last call (there must be one); the reference holds until the next
	 * call, so read it while no mask change or hotplug is in progress.
	 */
	const Call &last()
	{
		std::lock_guard<std::mutex> g(lock);
		return calls.back();
	}
};

/* The instance's usable masks (padata_get_cpumask()), by value. */
inline struct padata_cpumask usable(struct padata_instance *pinst)
{
	struct padata_cpumask m;
	EXPECT_EQ(padata_get_cpumask(pinst, &m), 0);
	return m;
}

inline struct cpumask usable_pcpu(struct padata_instance *pinst)
{
	return usable(pinst).pcpu[0];
}

inline struct cpumask usable_cbcpu(struct padata_instance *pinst)
{
	return usable(pinst).cbcpu[0];
}

/* Submits @job, retrying while the instance answers -EBUSY; the last answer. */
inline int submit_retry(struct padata_instance *pinst, Job *job, int cb_cpu,
			milliseconds limit = hang_limit())
{
	auto end = Clock::now() + limit;
	int err;
	while ((err = padata_do_parallel(pinst, &job->priv, cb_cpu)) == -EBUSY && Clock::now() < end)
		std::this_thread::yield();
	return err;
}

/* Waits until every job in @jobs has run serial(). */
inline bool wait_done(const std::vector<Job *> &jobs, milliseconds limit = hang_limit())
{
	return wait_until(
		[&] {
			for (Job *j : jobs)
				if (!j->done())
					return false;
			return true;
		},
		limit);
}

} /* namespace padata_test */

#endif /* PADATA_TEST_UTIL_H */
