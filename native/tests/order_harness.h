/* SPDX-License-Identifier: MIT */
/*
 * order_harness.h - a checked ordered-job pipeline for the order, defect and
 * hotplug suites. Test-only.
 *
 * OrderHarness owns an array of jobs per submitter. Every job records its
 * parallel() and serial() calls; serial() checks, for its (submitter,
 * cb_cpu) pair, that indexes arrive strictly increasing, that it runs on
 * the worker of cb_cpu (padata_current_cpu(), and sched_getcpu() against
 * padata_cpu_to_host()) and that no other serial() runs on that CPU at the
 * same time. A fraction of the jobs is completed by AsyncCompleter threads
 * (not workers) after a random delay and in random order.
 *
 * Violations are counted and the first few described; tests assert on
 * failures() == 0 and print describe().
 */
#ifndef PADATA_ORDER_HARNESS_H
#define PADATA_ORDER_HARNESS_H

#include "test_util.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>

namespace padata_test {

class OrderHarness;

struct OJob {
	struct padata_priv priv;
	OrderHarness *h;
	uint32_t index;     /* submission index within its submitter */
	uint16_t submitter;
	bool async;         /* completed by an AsyncCompleter */
	int cb_cpu;         /* as last submitted */
	std::atomic<uint8_t> parallel_runs;
	std::atomic<uint8_t> serial_runs;
	std::atomic<bool> accepted; /* padata_do_parallel() returned 0 */
};

/* Threads that call padata_do_serial() for jobs handed to them, shuffled. */
class AsyncCompleter {
public:
	AsyncCompleter(int threads, unsigned int max_delay_us) : max_delay_us_(max_delay_us)
	{
		for (int i = 0; i < threads; i++)
			threads_.emplace_back([this, i] { run(static_cast<uint64_t>(i) + 77); });
	}
	~AsyncCompleter() { shutdown(); }

	void push(struct padata_priv *p)
	{
		std::lock_guard<std::mutex> g(lock_);
		pending_.push_back(p);
		cv_.notify_one();
	}
	/* Completes what is pending, then stops the threads. */
	void shutdown()
	{
		{
			std::lock_guard<std::mutex> g(lock_);
			stop_ = true;
			cv_.notify_all();
		}
		for (auto &t : threads_)
			if (t.joinable())
				t.join();
	}
	long completed() const { return completed_.load(); }

private:
	void run(uint64_t seed)
	{
		Rng rng(seed);
		for (;;) {
			struct padata_priv *p;
			{
				std::unique_lock<std::mutex> g(lock_);
				cv_.wait(g, [&] { return stop_ || !pending_.empty(); });
				if (pending_.empty())
					return;
				/* A random pending job: completions come out of order. */
				size_t i = rng.below(static_cast<uint32_t>(pending_.size()));
				p = pending_[i];
				pending_[i] = pending_.back();
				pending_.pop_back();
			}
			if (max_delay_us_) {
				auto until = Clock::now() + std::chrono::microseconds(rng.below(max_delay_us_ + 1));
				while (Clock::now() < until)
					std::this_thread::yield();
			}
			padata_do_serial(p);
			completed_.fetch_add(1);
		}
	}

	unsigned int max_delay_us_;
	std::mutex lock_;
	std::condition_variable cv_;
	std::vector<struct padata_priv *> pending_;
	bool stop_ = false;
	std::atomic<long> completed_{0};
	std::vector<std::thread> threads_;
};

class OrderHarness {
public:
	/*
	 * @submitters arrays of @per_submitter jobs; every @async_every-th job
	 * (0: none) is completed by @completer_threads threads after up to
	 * @max_delay_us microseconds.
	 */
	OrderHarness(int submitters, uint32_t per_submitter, uint32_t async_every,
		     int completer_threads = 2, unsigned int max_delay_us = 20)
		: submitters_(submitters), per_submitter_(per_submitter),
		  nr_(nr_cpu_ids), last_(static_cast<size_t>(submitters) * nr_cpu_ids, -1),
		  busy_(nr_cpu_ids), completer_(completer_threads, max_delay_us)
	{
		jobs_.reset(new OJob[static_cast<size_t>(submitters) * per_submitter]);
		for (int s = 0; s < submitters; s++) {
			for (uint32_t i = 0; i < per_submitter; i++) {
				OJob &j = job(s, i);
				std::memset(&j.priv, 0, sizeof(j.priv));
				j.priv.parallel = parallel_fn;
				j.priv.serial = serial_fn;
				j.h = this;
				j.index = i;
				j.submitter = static_cast<uint16_t>(s);
				j.async = async_every && i % async_every == async_every - 1;
				j.parallel_runs = 0;
				j.serial_runs = 0;
				j.accepted = false;
			}
		}
		for (auto &b : busy_)
			b = 0;
		cpumask_copy(&pcpu_, cpu_possible_mask);
	}
	~OrderHarness() { completer_.shutdown(); }

	OJob &job(int s, uint32_t i) { return jobs_[static_cast<size_t>(s) * per_submitter_ + i]; }
	uint32_t per_submitter() const { return per_submitter_; }
	int submitters() const { return submitters_; }

	/* parallel() must run on a CPU of this mask (default: any possible CPU). */
	void set_parallel_mask(const struct cpumask &m) { cpumask_copy(&pcpu_, &m); }
	/* Called at the start of every parallel() / serial(); may be null. */
	void (*on_parallel)(OJob *j) = nullptr;
	void (*on_serial)(OJob *j) = nullptr;

	/*
	 * Submits job @i of submitter @s to @cb_cpu, retrying on -EBUSY until
	 * @limit; returns the last answer.
	 */
	int submit(struct padata_instance *pinst, int s, uint32_t i, int cb_cpu,
		   milliseconds limit = hang_limit())
	{
		return submit_to([pinst](struct padata_priv *p, int cb) {
			return padata_do_parallel(pinst, p, cb);
		}, s, i, cb_cpu, limit);
	}
	/* As submit(), to the shell @ps (padata_do_parallel_shell()). */
	int submit(struct padata_shell *ps, int s, uint32_t i, int cb_cpu,
		   milliseconds limit = hang_limit())
	{
		return submit_to([ps](struct padata_priv *p, int cb) {
			return padata_do_parallel_shell(ps, p, cb);
		}, s, i, cb_cpu, limit);
	}
	template <typename Submit>
	int submit_to(Submit do_parallel, int s, uint32_t i, int cb_cpu, milliseconds limit)
	{
		OJob &j = job(s, i);
		auto end = Clock::now() + limit;
		int err;
		unsigned int spins = 0;
		j.cb_cpu = cb_cpu;
		for (;;) {
			err = do_parallel(&j.priv, cb_cpu);
			if (err != -EBUSY || Clock::now() >= end)
				break;
			if (++spins % 64 == 0)
				std::this_thread::sleep_for(std::chrono::microseconds(50));
			else
				std::this_thread::yield();
		}
		if (err == 0) {
			accepted_.fetch_add(1);
			j.accepted.store(true);
		}
		return err;
	}

	long accepted() const { return accepted_.load(); }
	long serialized() const { return serialized_.load(); }
	bool wait_all_serialized(milliseconds limit)
	{
		return wait_until([&] { return serialized_.load() >= accepted_.load(); }, limit);
	}

	/* Every accepted job ran parallel() and serial() once; no other ran. */
	void check_exactly_once()
	{
		for (int s = 0; s < submitters_; s++) {
			for (uint32_t i = 0; i < per_submitter_; i++) {
				OJob &j = job(s, i);
				int want = j.accepted.load() ? 1 : 0;
				if (j.parallel_runs.load() != want || j.serial_runs.load() != want)
					fail("job %d/%u (accepted %d): parallel ran %d times, serial %d times", s, i,
					     want, j.parallel_runs.load(), j.serial_runs.load());
			}
		}
	}

	long failures() const { return failures_.load(); }
	std::string describe()
	{
		std::lock_guard<std::mutex> g(msg_lock_);
		return messages_.str();
	}
	template <typename... A>
	void fail(const char *fmt, A... args)
	{
		if (failures_.fetch_add(1) >= 10)
			return;
		char buf[256];
		std::snprintf(buf, sizeof(buf), fmt, args...);
		std::lock_guard<std::mutex> g(msg_lock_);
		messages_ << buf << '\n';
	}

	AsyncCompleter &completer() { return completer_; }

private:
	static void parallel_fn(struct padata_priv *p)
	{
		OJob *j = container_of(p, OJob, priv);
		OrderHarness *h = j->h;
		if (j->parallel_runs.fetch_add(1) != 0)
			h->fail("job %u/%u: parallel() ran twice", j->submitter, j->index);
		int cpu = padata_current_cpu();
		if (!cpumask_test_cpu(cpu, &h->pcpu_))
			h->fail("job %u/%u: parallel() on cpu %d outside the parallel mask", j->submitter,
				j->index, cpu);
		else if (sched_getcpu() != host_cpu_of(cpu))
			h->fail("job %u/%u: parallel() of cpu %d on host cpu %d, want %d", j->submitter,
				j->index, cpu, sched_getcpu(), host_cpu_of(cpu));
		if (h->on_parallel)
			h->on_parallel(j);
		if (j->async)
			h->completer_.push(p);
		else
			padata_do_serial(p);
	}

	static void serial_fn(struct padata_priv *p)
	{
		OJob *j = container_of(p, OJob, priv);
		OrderHarness *h = j->h;
		int cb = j->cb_cpu;
		int cpu = padata_current_cpu();
		if (cpu != cb || cpu < 0 || cpu >= static_cast<int>(h->nr_)) {
			h->fail("job %u/%u: serial() on cpu %d, cb_cpu %d", j->submitter, j->index, cpu, cb);
		} else {
			if (h->busy_[cb].exchange(1) != 0)
				h->fail("two serial() calls at once on cpu %d", cb);
			int host = sched_getcpu();
			if (host != host_cpu_of(cb))
				h->fail("job %u/%u: serial() of cpu %d on host cpu %d, want %d", j->submitter,
					j->index, cb, host, host_cpu_of(cb));
			/* Written only by cb's worker: plain memory is fine. */
			int64_t &last = h->last_[static_cast<size_t>(j->submitter) * h->nr_ + cb];
			if (static_cast<int64_t>(j->index) <= last)
				h->fail("cpu %d: job %u/%u after job %u/%lld", cb, j->submitter, j->index,
					j->submitter, static_cast<long long>(last));
			last = j->index;
		}
		if (j->parallel_runs.load() != 1)
			h->fail("job %u/%u: serial() before parallel()", j->submitter, j->index);
		if (j->serial_runs.fetch_add(1) != 0)
			h->fail("job %u/%u: serial() ran twice", j->submitter, j->index);
		if (h->on_serial)
			h->on_serial(j);
		if (cpu == cb && cpu >= 0 && cpu < static_cast<int>(h->nr_))
			h->busy_[cb].store(0);
		h->serialized_.fetch_add(1);
	}

	int submitters_;
	uint32_t per_submitter_;
	unsigned int nr_;
	std::unique_ptr<OJob[]> jobs_;
	std::vector<int64_t> last_;
	std::vector<std::atomic<int>> busy_;
	struct cpumask pcpu_;
	std::atomic<long> accepted_{0};
	std::atomic<long> serialized_{0};
	std::atomic<long> failures_{0};
	std::mutex msg_lock_;
	std::ostringstream messages_;
	AsyncCompleter completer_;
};

} /* namespace padata_test */

#endif /* PADATA_ORDER_HARNESS_H */
