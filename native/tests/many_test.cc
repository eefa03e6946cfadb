/* SPDX-License-Identifier: MIT */
/*
 * many_test.cc - padata_do_parallel_many() and padata_do_parallel_shell_many()
 * (padata.h): runs of jobs submitted in one call.
 *
 * - order: runs of 1, 2, 7, 8, 33 and 100 jobs mixed with single
 *   padata_do_parallel() calls reach serial() in array order (OrderHarness
 *   checks each submitter's stream per cb_cpu), across the sequence wrap, and
 *   under a small in-flight limit (partial runs, going on with
 *   padata_do_parallel_wait() as the header suggests);
 * - consecutive: the jobs one call accepts take consecutive sequence numbers
 *   (the pick test hook reports them to the submitting thread) and, with
 *   concurrent submitters, leave serial() of their cb_cpu with no other job
 *   of their order domain between them (a per-CPU serial log), also across
 *   mask changes and hotplug;
 * - the limit: exactly the room left is accepted, the jobs after it are left
 *   untouched (byte for byte) and still the caller's; a full instance answers
 *   -EBUSY and queues nothing (padata_get_stats());
 * - errors: every documented -EINVAL, n == 0, and the prefix ending at a
 *   NULL, callback-less, in-flight or repeated job at index i > 0 (returns
 *   i; the rest untouched and resubmittable);
 * - shells: order per shell, the per-shell limit, NULL and freed shells;
 * - callbacks: calls from parallel() and serial() return at once (accepting,
 *   or answering -EBUSY at the limit) without deadlock.
 *
 * Nothing waits on time: held jobs wait on Gates, the test waits on
 * conditions (bounded by hang_limit(), a failure when it passes).
 */
#include "order_harness.h"

#include <climits>
#include <map>
#include <unordered_map>

using namespace padata_test;

namespace {

/* ---- consecutive sequence numbers: the pick hook ------------------------ */

/* Where the pick hook puts the sequence numbers of this thread's accepted
 * jobs; null: not recording (workers, other tests' threads). */
thread_local std::vector<uint32_t> *t_picks = nullptr;

void record_pick(uint32_t seq, int)
{
	if (t_picks)
		t_picks->push_back(seq);
}

/* Records the numbers picked by the calls this thread makes in its scope. */
struct PickRecorder {
	std::vector<uint32_t> seqs;
	PickRecorder() { t_picks = &seqs; }
	~PickRecorder() { t_picks = nullptr; }
	PickRecorder(const PickRecorder &) = delete;
	PickRecorder &operator=(const PickRecorder &) = delete;
};

/* @seqs is @k numbers, each one after the last (modulo 2^32). */
::testing::AssertionResult consecutive(const std::vector<uint32_t> &seqs, size_t k)
{
	if (seqs.size() != k)
		return ::testing::AssertionFailure()
		       << "the pick hook saw " << seqs.size() << " jobs of a call that accepted " << k;
	for (size_t i = 1; i < seqs.size(); i++)
		if (seqs[i] != static_cast<uint32_t>(seqs[0] + i))
			return ::testing::AssertionFailure()
			       << "job " << i << " of a run took sequence number " << seqs[i]
			       << ", the first took " << seqs[0];
	return ::testing::AssertionSuccess();
}

/* ---- where runs go: the instance or a shell ----------------------------- */

struct Target {
	struct padata_instance *pinst = nullptr;
	struct padata_shell *ps = nullptr;

	int many(struct padata_priv *const *jobs, unsigned int n, int cb) const
	{
		return ps ? padata_do_parallel_shell_many(ps, jobs, n, cb)
			  : padata_do_parallel_many(pinst, jobs, n, cb);
	}
	int one(struct padata_priv *p, int cb) const
	{
		return ps ? padata_do_parallel_shell(ps, p, cb) : padata_do_parallel(pinst, p, cb);
	}
	int wait(struct padata_priv *p, int cb, int timeout_ms) const
	{
		return ps ? padata_do_parallel_shell_wait(ps, p, cb, timeout_ms)
			  : padata_do_parallel_wait(pinst, p, cb, timeout_ms);
	}
};

/* ---- runs of OrderHarness jobs ------------------------------------------ */

/* One accepted run: jobs [first, first + n) of submitter s, to cb. */
struct AcceptedRun {
	int s;
	uint32_t first;
	uint32_t n;
	int cb;
};

/* What the submitting threads saw (summed by the test). */
struct Seen {
	std::atomic<long> calls{0};       /* many() calls that accepted jobs */
	std::atomic<long> partial{0};     /* ... fewer than asked for */
	std::atomic<long> busy{0};        /* -EBUSY answers */
	std::atomic<long> waited{0};      /* jobs taken by the wait fallback */
	std::atomic<long> einval{0};      /* -EINVAL answers (cb_cpu gone) */
	std::atomic<long> max_accepted{0};
};

struct DriveOptions {
	int fixed_cb = -1;          /* every step to this cb_cpu; -1: random */
	bool require_multi = true;  /* some call must accept more than one job */
	bool wait_fallback = false; /* on -EBUSY: padata_do_parallel_wait() the next job */
	bool einval_repicks = false; /* -EINVAL: cb_cpu left the serial mask, pick again */
	unsigned int limit = 0;     /* no call may accept more (0: not checked) */
};

/*
 * Submits jobs [from, from + n) of submitter @s of @h to @t as runs of
 * padata_do_parallel_many(): after a partial acceptance it goes on from the
 * first job not taken; -EBUSY is retried (or, with wait_fallback, the next
 * job is submitted with padata_do_parallel_wait()); -EINVAL with
 * einval_repicks picks another cb_cpu for the rest. Each call's accepted
 * jobs must have taken consecutive numbers. Appends the accepted runs.
 * Return: 0, or the failing answer.
 */
int submit_run(OrderHarness &h, const Target &t, int s, uint32_t from, uint32_t n,
	       const std::function<int()> &pick_cb, const DriveOptions &o, std::vector<AcceptedRun> &runs,
	       Seen &seen)
{
	std::vector<struct padata_priv *> arr(n);
	int cb = pick_cb();
	for (uint32_t i = 0; i < n; i++) {
		OJob &j = h.job(s, from + i);
		j.cb_cpu = cb; /* not in flight: ours to write */
		arr[i] = &j.priv;
	}
	uint32_t done = 0;
	long einvals = 0;
	auto end = Clock::now() + hang_limit();
	while (done < n) {
		int k;
		{
			PickRecorder rec;
			k = t.many(arr.data() + done, n - done, cb);
			if (k > 0) {
				EXPECT_TRUE(consecutive(rec.seqs, static_cast<size_t>(k)));
			}
		}
		if (k == -EBUSY) {
			seen.busy.fetch_add(1);
			if (Clock::now() >= end)
				return k;
			if (!o.wait_fallback) {
				std::this_thread::yield();
				continue;
			}
			k = t.wait(arr[done], cb, static_cast<int>(hang_limit().count()));
			if (k == 0) {
				h.job(s, from + done).accepted.store(true);
				runs.push_back({s, from + done, 1, cb});
				seen.waited.fetch_add(1);
				done++;
				continue;
			}
		}
		if (k == -EINVAL && o.einval_repicks && ++einvals < 1000000) {
			seen.einval.fetch_add(1);
			cb = pick_cb();
			for (uint32_t i = done; i < n; i++)
				h.job(s, from + i).cb_cpu = cb; /* refused: still ours */
			continue;
		}
		if (k <= 0)
			return k == 0 ? -ERANGE : k;
		if (static_cast<uint32_t>(k) > n - done || (o.limit && static_cast<unsigned int>(k) > o.limit)) {
			ADD_FAILURE() << "a call for " << n - done << " jobs (limit " << o.limit
				      << ") accepted " << k;
			return -ERANGE;
		}
		for (int m = 0; m < k; m++)
			h.job(s, from + done + static_cast<uint32_t>(m)).accepted.store(true);
		runs.push_back({s, from + done, static_cast<uint32_t>(k), cb});
		seen.calls.fetch_add(1);
		if (static_cast<uint32_t>(k) < n - done)
			seen.partial.fetch_add(1);
		long prev = seen.max_accepted.load();
		while (prev < k && !seen.max_accepted.compare_exchange_weak(prev, k))
			;
		done += static_cast<uint32_t>(k);
	}
	return 0;
}

/*
 * The steps of one submitter: a run length for padata_do_parallel_many(),
 * or 0 for one padata_do_parallel(). Each round has runs of 1, 2, 7, 8, 33
 * and 100 jobs in a shuffled order, with 0 to 2 single calls after each.
 */
std::vector<uint32_t> make_plan(long rounds, uint64_t seed, uint32_t *total)
{
	static const uint32_t kLens[] = {1, 2, 7, 8, 33, 100};
	Rng rng(seed);
	std::vector<uint32_t> plan;
	*total = 0;
	for (long r = 0; r < rounds; r++) {
		std::vector<uint32_t> lens(std::begin(kLens), std::end(kLens));
		for (size_t i = lens.size() - 1; i > 0; i--)
			std::swap(lens[i], lens[rng.below(static_cast<uint32_t>(i + 1))]);
		for (uint32_t len : lens) {
			plan.push_back(len);
			*total += len;
			for (uint32_t k = rng.below(3); k > 0; k--) {
				plan.push_back(0);
				*total += 1;
			}
		}
	}
	return plan;
}

uint32_t plan_total(const std::vector<uint32_t> &plan)
{
	uint32_t t = 0;
	for (uint32_t len : plan)
		t += len ? len : 1;
	return t;
}

/*
 * Submits submitter @s's jobs by @plan (its jobs 0.. in order) to @t, cb_cpu
 * per step from @cpus (random) or o.fixed_cb. Return: true when all were
 * accepted.
 */
bool drive(OrderHarness &h, const Target &t, int s, const std::vector<uint32_t> &plan,
	   const std::vector<int> &cpus, const DriveOptions &o, std::vector<AcceptedRun> &runs, Seen &seen)
{
	Rng rng(static_cast<uint64_t>(s) * 7919 + 13);
	auto pick = [&] {
		return o.fixed_cb >= 0 ? o.fixed_cb : cpus[rng.below(static_cast<uint32_t>(cpus.size()))];
	};
	uint32_t i = 0;
	for (uint32_t len : plan) {
		if (len == 0) {
			long einvals = 0;
			int err;
			for (;;) {
				int cb = pick();
				err = h.submit_to([&t](struct padata_priv *p, int c) { return t.one(p, c); }, s, i,
						  cb, hang_limit());
				if (err == 0)
					runs.push_back({s, i, 1, cb});
				if (err == -EINVAL && o.einval_repicks && ++einvals < 1000000) {
					seen.einval.fetch_add(1);
					continue;
				}
				break;
			}
			if (err != 0) {
				ADD_FAILURE() << "single job " << s << "/" << i << " refused: " << err;
				return false;
			}
			i++;
			continue;
		}
		int err = submit_run(h, t, s, i, len, pick, o, runs, seen);
		if (err != 0) {
			ADD_FAILURE() << "run " << s << "/" << i << "+" << len << " refused: " << err;
			return false;
		}
		i += len;
	}
	return true;
}

/* ---- the serial log: what each cb_cpu's worker serialized, in order ----- */

struct SerialLog {
	std::vector<std::mutex> locks;
	std::vector<std::vector<uint64_t>> per_cpu; /* submitter << 32 | index */
	SerialLog() : locks(nr_cpu_ids), per_cpu(nr_cpu_ids) {}
	void add(int cpu, uint32_t s, uint32_t i)
	{
		if (cpu < 0 || cpu >= static_cast<int>(nr_cpu_ids))
			return; /* the harness reports a wrong CPU */
		std::lock_guard<std::mutex> g(locks[static_cast<size_t>(cpu)]);
		per_cpu[static_cast<size_t>(cpu)].push_back(static_cast<uint64_t>(s) << 32 | i);
	}
};

SerialLog *g_log = nullptr;

void log_serial(OJob *j)
{
	g_log->add(j->cb_cpu, j->submitter, j->index);
}

/*
 * Every accepted run left serial() of its cb_cpu as one block, in array
 * order: in that CPU's log, among the jobs of the run's order domain
 * (@domain_of a submitter), job first + m sits m places after job first.
 */
void expect_runs_consecutive(SerialLog &log, const std::vector<AcceptedRun> &runs,
			     const std::function<int(uint32_t)> &domain_of, bool require_multi)
{
	std::unordered_map<uint64_t, std::pair<int, size_t>> where;
	for (size_t cpu = 0; cpu < log.per_cpu.size(); cpu++) {
		std::lock_guard<std::mutex> g(log.locks[cpu]);
		std::map<int, size_t> count;
		for (uint64_t e : log.per_cpu[cpu]) {
			int d = domain_of(static_cast<uint32_t>(e >> 32));
			where[e] = {static_cast<int>(cpu), count[d]++};
		}
	}
	long bad = 0, multi = 0;
	for (const AcceptedRun &r : runs) {
		if (r.n > 1)
			multi++;
		uint64_t base = static_cast<uint64_t>(r.s) << 32;
		auto first = where.find(base | r.first);
		for (uint32_t m = 0; m < r.n; m++) {
			auto it = where.find(base | (r.first + m));
			bool ok = it != where.end() && first != where.end() && it->second.first == r.cb &&
				  it->second.second == first->second.second + m;
			if (!ok && bad++ < 10)
				ADD_FAILURE() << "run " << r.s << "/" << r.first << "+" << r.n << " to cpu " << r.cb
					      << ": job " << r.first + m << " not serialized " << m
					      << " places after the first";
			if (!ok)
				break;
		}
	}
	EXPECT_EQ(bad, 0) << "runs not serialized as one block";
	if (require_multi) {
		EXPECT_GT(multi, 0) << "no run of more than one job was accepted";
	}
}

/* ---- Job helpers --------------------------------------------------------- */

/* The ids of Jobs whose serial() ran, in order (one cb_cpu per log). */
struct IdLog {
	std::mutex m;
	std::vector<int> ids;
	void add(int id)
	{
		std::lock_guard<std::mutex> g(m);
		ids.push_back(id);
	}
	std::vector<int> get()
	{
		std::lock_guard<std::mutex> g(m);
		return ids;
	}
};

void log_id(Job *j)
{
	static_cast<IdLog *>(j->ctx)->add(j->id);
}

/* Jobs with ids @first.., logging serial() to @log, held in parallel() by @hold. */
void setup_jobs(std::vector<Job> &jobs, IdLog *log, int first = 0, const Gate *hold = nullptr)
{
	for (size_t i = 0; i < jobs.size(); i++) {
		jobs[i].id = first + static_cast<int>(i);
		jobs[i].ctx = log;
		jobs[i].on_serial = log_id;
		jobs[i].hold_parallel = hold;
	}
}

std::vector<struct padata_priv *> privs(std::vector<Job> &jobs, size_t from = 0)
{
	std::vector<struct padata_priv *> out;
	for (size_t i = from; i < jobs.size(); i++)
		out.push_back(&jobs[i].priv);
	return out;
}

std::vector<Job *> ptrs(std::vector<Job> &jobs, size_t from = 0, size_t to = SIZE_MAX)
{
	std::vector<Job *> out;
	for (size_t i = from; i < jobs.size() && i < to; i++)
		out.push_back(&jobs[i]);
	return out;
}

std::vector<int> iota_ids(int from, int to)
{
	std::vector<int> out;
	for (int i = from; i < to; i++)
		out.push_back(i);
	return out;
}

/* Submits all of @arr with many() calls, retrying -EBUSY. Return: 0 or the error. */
int submit_all(const Target &t, std::vector<struct padata_priv *> arr, int cb)
{
	size_t done = 0;
	auto end = Clock::now() + hang_limit();
	while (done < arr.size()) {
		int k = t.many(arr.data() + done, static_cast<unsigned int>(arr.size() - done), cb);
		if (k == -EBUSY && Clock::now() < end) {
			std::this_thread::yield();
			continue;
		}
		if (k <= 0)
			return k == 0 ? -ERANGE : k;
		done += static_cast<size_t>(k);
	}
	return 0;
}

struct padata_stats stats_of(struct padata_instance *pinst)
{
	struct padata_stats st;
	EXPECT_EQ(padata_get_stats(pinst, &st), 0);
	return st;
}

/* Byte copies of jobs' padata_priv, to check that a call left them untouched. */
struct Snapshot {
	std::vector<std::pair<const struct padata_priv *, struct padata_priv>> saved;
	void add(const struct padata_priv *p) { saved.push_back({p, *p}); }
	void add(std::vector<Job> &jobs, size_t from)
	{
		for (size_t i = from; i < jobs.size(); i++)
			add(&jobs[i].priv);
	}
	::testing::AssertionResult untouched() const
	{
		for (size_t i = 0; i < saved.size(); i++)
			if (std::memcmp(saved[i].first, &saved[i].second, sizeof(struct padata_priv)) != 0)
				return ::testing::AssertionFailure() << "job " << i << " of the snapshot was changed";
		return ::testing::AssertionSuccess();
	}
};

class PadataMany : public InstanceTest {
protected:
	PadataMany() : InstanceTest("many") {}
	void SetUp() override
	{
		InstanceTest::SetUp();
		/* InstanceTest::TearDown() clears it. */
		__atomic_store_n(&padata_test_hooks.pick, &record_pick, __ATOMIC_SEQ_CST);
	}
	void TearDown() override
	{
		g_log = nullptr;
		InstanceTest::TearDown();
	}
	/* A started instance with at most @limit jobs in flight. */
	struct padata_instance *started_with_limit(unsigned int limit)
	{
		pinst_ = padata_alloc_possible(wq_);
		EXPECT_NE(pinst_, nullptr);
		EXPECT_EQ(padata_set_max_inflight(pinst_, limit), 0);
		EXPECT_EQ(padata_start(pinst_), 0);
		return pinst_;
	}
	std::vector<int> all_cpus() const { return mask_cpus(cpu_active_mask); }

	/*
	 * @submitters threads drive their plans (make_plan(@rounds)) to
	 * target_of(s) at once; @between runs on this thread until they are
	 * done. Then checks order (the harness), exactly once, the runs'
	 * blocks per domain_of(s), and returns the totals seen.
	 */
	void run_submitters(int submitters, long rounds, uint32_t async_every,
			    const std::function<Target(int)> &target_of,
			    const std::function<int(uint32_t)> &domain_of, const DriveOptions &o,
			    Seen &seen, const std::function<void(int)> &between = nullptr)
	{
		std::vector<std::vector<uint32_t>> plans;
		uint32_t per = 0;
		for (int s = 0; s < submitters; s++) {
			uint32_t total;
			plans.push_back(make_plan(rounds, static_cast<uint64_t>(s) + 101, &total));
			per = std::max(per, total);
		}
		OrderHarness h(submitters, per, async_every);
		SerialLog log;
		g_log = &log;
		h.on_serial = log_serial;
		std::vector<int> cpus = all_cpus();
		std::vector<std::vector<AcceptedRun>> runs(static_cast<size_t>(submitters));
		std::atomic<int> running{submitters};
		std::atomic<int> failed{0};
		std::vector<std::thread> threads;
		for (int s = 0; s < submitters; s++) {
			threads.emplace_back([&, s] {
				if (!drive(h, target_of(s), s, plans[static_cast<size_t>(s)], cpus, o,
					   runs[static_cast<size_t>(s)], seen))
					failed.fetch_add(1);
				running.fetch_sub(1);
			});
		}
		for (int round = 0; between && running.load() > 0; round++)
			between(round);
		for (auto &t : threads)
			t.join();
		ASSERT_EQ(failed.load(), 0);
		long want = 0;
		for (auto &p : plans)
			want += plan_total(p);
		ASSERT_TRUE(wait_until([&] { return h.serialized() >= want; },
				       milliseconds(sanitized() ? 120000 : 60000)))
			<< h.serialized() << " of " << want << " jobs serialized";
		EXPECT_EQ(h.serialized(), want);
		/* Jobs beyond a plan's total (plans differ in length) stay unsubmitted. */
		h.check_exactly_once();
		EXPECT_EQ(h.failures(), 0) << h.describe();
		std::vector<AcceptedRun> all;
		for (auto &r : runs)
			all.insert(all.end(), r.begin(), r.end());
		expect_runs_consecutive(log, all, domain_of, o.require_multi);
		h.on_serial = nullptr;
		g_log = nullptr;
	}
};

/* A notifier that waits on a gate: a mask change stays in progress. */
struct BlockingNotifier {
	struct notifier_block nb;
	const Gate *gate;
	std::atomic<bool> entered{false};
	explicit BlockingNotifier(const Gate *g) : gate(g)
	{
		nb.notifier_call = call;
		nb.next = nullptr;
		nb.priority = 0;
	}
	static int call(struct notifier_block *nb, unsigned long, void *)
	{
		BlockingNotifier *b = container_of(nb, BlockingNotifier, nb);
		b->entered.store(true);
		b->gate->wait();
		return NOTIFY_OK;
	}
};

} /* namespace */

/* ---- errors ---------------------------------------------------------- */

TEST_F(PadataMany, BadArgumentsAndBadFirstJobsAreEinvalAndQueueNothing)
{
	std::vector<Job> jobs(2);
	IdLog log;
	setup_jobs(jobs, &log);
	std::vector<struct padata_priv *> arr = privs(jobs);
	EXPECT_EQ(padata_do_parallel_many(nullptr, arr.data(), 2, 0), -EINVAL);

	started();
	Gate gate;
	Job held;
	held.hold_parallel = &gate;
	held.id = 100;
	held.ctx = &log;
	held.on_serial = log_id;
	ASSERT_EQ(padata_do_parallel(pinst_, &held.priv, 0), 0);
	ASSERT_TRUE(wait_until([&] { return held.parallel_entered.load(); }));

	Job no_parallel, no_serial;
	no_parallel.priv.parallel = nullptr;
	no_serial.priv.serial = nullptr;
	Snapshot snap;
	snap.add(jobs, 0);
	snap.add(&no_parallel.priv);
	snap.add(&no_serial.priv);

	EXPECT_EQ(padata_do_parallel_many(pinst_, nullptr, 1, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel_many(pinst_, nullptr, 2, 0), -EINVAL);
	struct padata_priv *null_first[] = {nullptr, &jobs[0].priv, &jobs[1].priv};
	EXPECT_EQ(padata_do_parallel_many(pinst_, null_first, 3, 0), -EINVAL);
	struct padata_priv *np_first[] = {&no_parallel.priv, &jobs[0].priv};
	EXPECT_EQ(padata_do_parallel_many(pinst_, np_first, 2, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel_many(pinst_, np_first, 1, 0), -EINVAL);
	struct padata_priv *ns_first[] = {&no_serial.priv, &jobs[0].priv};
	EXPECT_EQ(padata_do_parallel_many(pinst_, ns_first, 2, 0), -EINVAL);
	struct padata_priv *busy_first[] = {&held.priv, &jobs[0].priv, &jobs[1].priv};
	EXPECT_EQ(padata_do_parallel_many(pinst_, busy_first, 3, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel_many(pinst_, busy_first, 1, 0), -EINVAL);
	for (int cpu : {-1, -2, INT_MIN, INT_MAX, static_cast<int>(nr_cpu_ids), NR_CPUS}) {
		SCOPED_TRACE(cpu);
		EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 2, cpu), -EINVAL);
		EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 1, cpu), -EINVAL);
	}

	EXPECT_TRUE(snap.untouched());
	struct padata_stats st = stats_of(pinst_);
	EXPECT_EQ(st.in_flight, 1u) << "a refused call queued a job";
	EXPECT_EQ(st.accepted, 1u);
	gate.open();
	ASSERT_TRUE(wait_done({&held}));
	/* All still the caller's: accepted now, in order. */
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 2, 0), 2);
	ASSERT_TRUE(wait_done(ptrs(jobs)));
	no_parallel.priv.parallel = Job::parallel_fn;
	no_serial.priv.serial = Job::serial_fn;
	struct padata_priv *fixed[] = {&no_parallel.priv, &no_serial.priv};
	EXPECT_EQ(padata_do_parallel_many(pinst_, fixed, 2, 0), 2);
	ASSERT_TRUE(wait_done({&no_parallel, &no_serial}));
	EXPECT_EQ(log.get(), (std::vector<int>{100, 0, 1}));
	for (Job *j : {&jobs[0], &jobs[1], &held, &no_parallel, &no_serial}) {
		EXPECT_EQ(j->parallel_runs.load(), 1);
		EXPECT_EQ(j->serial_runs.load(), 1);
	}
}

TEST_F(PadataMany, ZeroJobsSubmitNothing)
{
	std::vector<Job> jobs(3);
	IdLog log;
	setup_jobs(jobs, &log);
	std::vector<struct padata_priv *> arr = privs(jobs);
	Snapshot snap;
	snap.add(jobs, 0);
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 0, 0), 0) << "not started";
	ASSERT_EQ(padata_start(pinst_), 0);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 0, 0), 0);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 0, -1), 0) << "n == 0 answers 0";
	struct padata_priv *null_first[] = {nullptr};
	EXPECT_EQ(padata_do_parallel_many(pinst_, null_first, 0, 0), 0);
	EXPECT_TRUE(snap.untouched());
	EXPECT_EQ(stats_of(pinst_).accepted, 0u);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 3, 0), 3);
	ASSERT_TRUE(wait_done(ptrs(jobs)));
	EXPECT_EQ(log.get(), iota_ids(0, 3));
}

TEST_F(PadataMany, AnInstanceNotStartedOrStoppedIsEinval)
{
	std::vector<Job> jobs(4);
	IdLog log;
	setup_jobs(jobs, &log);
	std::vector<struct padata_priv *> arr = privs(jobs);
	Snapshot snap;
	snap.add(jobs, 0);
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 4, 0), -EINVAL) << "not started";
	EXPECT_TRUE(snap.untouched());
	ASSERT_EQ(padata_start(pinst_), 0);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 2, 0), 2);
	padata_stop(pinst_); /* waits for them */
	EXPECT_TRUE(jobs[0].done() && jobs[1].done());
	Snapshot rest;
	rest.add(jobs, 2);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data() + 2, 2, 0), -EINVAL) << "stopped";
	EXPECT_TRUE(rest.untouched());
	EXPECT_EQ(stats_of(pinst_).accepted, 2u);
	EXPECT_EQ(jobs[2].parallel_runs.load(), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data() + 2, 2, 0), 2);
	ASSERT_TRUE(wait_done(ptrs(jobs)));
	EXPECT_EQ(log.get(), iota_ids(0, 4));
}

TEST_F(PadataMany, ACbCpuOutsideTheUsableSerialMaskIsEinval)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	const int last = last_cpu();
	struct cpumask p = *cpu_possible_mask;
	struct cpumask cb = mask_of({0});
	pinst_ = padata_alloc(wq_, &p, &cb);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	std::vector<Job> jobs(3);
	IdLog log;
	setup_jobs(jobs, &log);
	std::vector<struct padata_priv *> arr = privs(jobs);
	Snapshot snap;
	snap.add(jobs, 0);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 3, last), -EINVAL)
		<< "cpu " << last << " is not in the serial mask";
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 3, 1), -EINVAL);
	/* In the user mask but not active: not usable either. */
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &p), 0);
	ASSERT_EQ(cpu_down(static_cast<unsigned int>(last)), 0);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 3, last), -EINVAL) << "cpu " << last << " is down";
	EXPECT_TRUE(snap.untouched());
	EXPECT_EQ(stats_of(pinst_).accepted, 0u);
	ASSERT_EQ(cpu_up(static_cast<unsigned int>(last)), 0);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 3, last), 3);
	ASSERT_TRUE(wait_done(ptrs(jobs)));
	EXPECT_EQ(log.get(), iota_ids(0, 3));
	for (Job &j : jobs)
		EXPECT_EQ(j.serial_cpu.load(), last);
}

TEST_F(PadataMany, AMaskChangeInProgressIsEbusyAndQueuesNothing)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs to change the serial mask";
	started();
	Gate gate;
	BlockingNotifier nb(&gate);
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &nb.nb), 0);
	std::atomic<int> change{1};
	std::thread changer([&] {
		struct cpumask cb = mask_of({0});
		change.store(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &cb));
	});
	ASSERT_TRUE(wait_until([&] { return nb.entered.load(); }));
	std::vector<Job> jobs(5);
	IdLog log;
	setup_jobs(jobs, &log);
	std::vector<struct padata_priv *> arr = privs(jobs);
	Snapshot snap;
	snap.add(jobs, 0);
	uint64_t before = stats_of(pinst_).accepted;
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 5, 0), -EBUSY);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 1, 0), -EBUSY);
	/* The -EINVAL checks come first, as in padata_do_parallel(). */
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 5, -1), -EINVAL);
	struct padata_priv *null_first[] = {nullptr, &jobs[0].priv};
	EXPECT_EQ(padata_do_parallel_many(pinst_, null_first, 2, 0), -EINVAL);
	EXPECT_TRUE(snap.untouched());
	EXPECT_EQ(stats_of(pinst_).accepted, before);
	EXPECT_EQ(change.load(), 1);
	gate.open();
	changer.join();
	EXPECT_EQ(change.load(), 0);
	EXPECT_EQ(padata_unregister_cpumask_notifier(pinst_, &nb.nb), 0);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 5, 1), -EINVAL) << "cpu 1 left the serial mask";
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 5, 0), 5);
	ASSERT_TRUE(wait_done(ptrs(jobs)));
	EXPECT_EQ(log.get(), iota_ids(0, 5));
}

/* ---- where the prefix ends ------------------------------------------- */

/*
 * jobs[i] (i > 0) is NULL, lacks a callback, is in flight, or repeats an
 * earlier job: the call accepts exactly jobs[0..i), leaves jobs[i..) alone,
 * and they can be submitted afterwards.
 */
TEST_F(PadataMany, ThePrefixEndsAtTheFirstBadJob)
{
	started();
	enum Kind { kNull, kNoParallel, kNoSerial, kInFlight, kRepeated };
	const char *names[] = {"NULL", "no parallel()", "no serial()", "in flight", "repeated"};
	const unsigned int n = 12;
	for (int kind = kNull; kind <= kRepeated; kind++) {
		for (unsigned int i : {1u, 2u, 5u, n - 1}) {
			SCOPED_TRACE(std::string(names[kind]) + " at " + std::to_string(i));
			IdLog log;
			Gate gate;
			/* Held until the checks are done: the counts stay still. */
			std::vector<Job> jobs(n);
			setup_jobs(jobs, &log, 0, &gate);
			Job bad;
			bad.id = 100;
			bad.ctx = &log;
			bad.on_serial = log_id;
			std::vector<struct padata_priv *> arr = privs(jobs);
			switch (kind) {
			case kNull:
				arr[i] = nullptr;
				break;
			case kNoParallel:
				bad.priv.parallel = nullptr;
				arr[i] = &bad.priv;
				break;
			case kNoSerial:
				bad.priv.serial = nullptr;
				arr[i] = &bad.priv;
				break;
			case kInFlight:
				bad.hold_parallel = &gate;
				ASSERT_EQ(padata_do_parallel(pinst_, &bad.priv, 0), 0);
				arr[i] = &bad.priv;
				break;
			case kRepeated:
				arr[i] = arr[i / 2];
				break;
			}
			Snapshot snap;
			snap.add(jobs, i + 1);
			if (kind == kNoParallel || kind == kNoSerial)
				snap.add(&bad.priv);
			/* The last case's completions all counted: exact counts. */
			const uint32_t in_flight = kind == kInFlight ? 1 : 0;
			ASSERT_TRUE(wait_until([&] { return stats_of(pinst_).in_flight == in_flight; }));
			uint64_t before = stats_of(pinst_).accepted;
			{
				PickRecorder rec;
				EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), n, 0), static_cast<int>(i));
				EXPECT_TRUE(consecutive(rec.seqs, i));
			}
			EXPECT_TRUE(snap.untouched());
			struct padata_stats st = stats_of(pinst_);
			EXPECT_EQ(st.accepted, before + i);
			EXPECT_EQ(st.in_flight, in_flight + i);
			gate.open();
			ASSERT_TRUE(wait_done(ptrs(jobs, 0, i)));
			std::vector<int> want;
			if (kind == kInFlight) {
				ASSERT_TRUE(wait_done({&bad}));
				want.push_back(100);
			}
			for (int k = 0; k < static_cast<int>(i); k++)
				want.push_back(k);
			for (size_t k = i + 1; k < n; k++)
				EXPECT_EQ(jobs[k].parallel_runs.load(), 0) << k;
			/* Still the caller's: submit the bad job (mended) and the rest. */
			if (kind == kNoParallel || kind == kNoSerial) {
				bad.priv.parallel = Job::parallel_fn;
				bad.priv.serial = Job::serial_fn;
				ASSERT_EQ(padata_do_parallel(pinst_, &bad.priv, 0), 0);
				want.push_back(100);
			}
			if (i + 1 < n) {
				ASSERT_EQ(padata_do_parallel(pinst_, &jobs[i + 1].priv, 0), 0);
				ASSERT_EQ(submit_all(Target{pinst_, nullptr}, privs(jobs, i + 2), 0), 0);
			}
			for (int k = static_cast<int>(i) + 1; k < static_cast<int>(n); k++)
				want.push_back(k);
			ASSERT_TRUE(wait_done(ptrs(jobs, 0, i)));
			ASSERT_TRUE(wait_done(ptrs(jobs, i + 1)));
			if (kind != kNull && kind != kRepeated) {
				ASSERT_TRUE(wait_done({&bad}));
			}
			EXPECT_EQ(log.get(), want);
			for (size_t k = 0; k < n; k++) {
				if (k == i)
					continue; /* never in the array (a stand-in took its place) */
				EXPECT_EQ(jobs[k].parallel_runs.load(), 1) << k;
				EXPECT_EQ(jobs[k].serial_runs.load(), 1) << k;
			}
			EXPECT_EQ(jobs[i].parallel_runs.load(), 0);
			if (kind != kNull && kind != kRepeated) {
				EXPECT_EQ(bad.parallel_runs.load(), 1);
				EXPECT_EQ(bad.serial_runs.load(), 1);
			}
		}
	}
}

/* ---- the in-flight limit --------------------------------------------- */

/*
 * With m jobs in flight and limit L, a call for more than L - m jobs
 * accepts exactly L - m; the rest stay untouched and the caller's. At the
 * limit the call answers -EBUSY and queues nothing. Every job is held in
 * parallel() until the test opens the gate, so nothing completes meanwhile.
 */
TEST_F(PadataMany, AtTheLimitExactlyTheRoomLeftIsAccepted)
{
	for (unsigned int limit : {1u, 3u, 8u, 64u}) {
		std::vector<unsigned int> counts;
		for (unsigned int c : {0u, 1u, limit / 2, limit - 1})
			if (c < limit && std::find(counts.begin(), counts.end(), c) == counts.end())
				counts.push_back(c);
		for (unsigned int held_n : counts) {
			SCOPED_TRACE("limit " + std::to_string(limit) + ", " + std::to_string(held_n) + " held");
			if (!pinst_) {
				pinst_ = padata_alloc_possible(wq_);
				ASSERT_NE(pinst_, nullptr);
			} else {
				padata_stop(pinst_);
			}
			ASSERT_EQ(padata_set_max_inflight(pinst_, limit), 0);
			ASSERT_EQ(padata_start(pinst_), 0);
			ASSERT_EQ(stats_of(pinst_).in_flight, 0u);
			/* Exact: stopped and restarted, nothing in flight. */
			const uint64_t base = stats_of(pinst_).accepted;

			Gate gate;
			IdLog log;
			std::vector<Job> held(held_n), jobs(limit + 5);
			setup_jobs(held, &log, 1000, &gate);
			setup_jobs(jobs, &log, 0, &gate);
			for (Job &h : held)
				ASSERT_EQ(padata_do_parallel(pinst_, &h.priv, 0), 0);
			std::vector<struct padata_priv *> arr = privs(jobs);
			const unsigned int room = limit - held_n;
			Snapshot snap;
			snap.add(jobs, room);
			{
				PickRecorder rec;
				EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(),
								  static_cast<unsigned int>(arr.size()), 0),
					  static_cast<int>(room));
				EXPECT_TRUE(consecutive(rec.seqs, room));
			}
			EXPECT_TRUE(snap.untouched()) << "a job beyond the room left was changed";
			struct padata_stats st = stats_of(pinst_);
			EXPECT_EQ(st.in_flight, limit);
			EXPECT_EQ(st.accepted, base + limit);

			/* Full: -EBUSY, nothing queued, whatever the count. */
			for (unsigned int k : {1u, 2u, 5u}) {
				EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data() + room, k, 0), -EBUSY) << k;
			}
			EXPECT_EQ(padata_do_parallel(pinst_, arr[room], 0), -EBUSY);
			/* The -EINVAL answers come before the limit. */
			EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data() + room, 2, -1), -EINVAL);
			struct padata_priv *null_first[] = {nullptr, arr[room]};
			EXPECT_EQ(padata_do_parallel_many(pinst_, null_first, 2, 0), -EINVAL);
			EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data(), 1, 0), -EINVAL)
				<< "jobs[0] in flight";
			EXPECT_TRUE(snap.untouched());
			st = stats_of(pinst_);
			EXPECT_EQ(st.in_flight, limit);
			EXPECT_EQ(st.accepted, base + limit);
			for (size_t k = room; k < jobs.size(); k++)
				EXPECT_FALSE(jobs[k].parallel_entered.load()) << k;

			gate.open();
			ASSERT_TRUE(wait_done(ptrs(held)));
			ASSERT_TRUE(wait_done(ptrs(jobs, 0, room)));
			/* The rest: the next one waits for room, as the header suggests,
			 * then runs of as many as fit. */
			ASSERT_EQ(padata_do_parallel_wait(pinst_, arr[room], 0,
							  static_cast<int>(hang_limit().count())),
				  0);
			ASSERT_EQ(submit_all(Target{pinst_, nullptr}, privs(jobs, room + 1), 0), 0);
			ASSERT_TRUE(wait_done(ptrs(jobs)));
			std::vector<int> want = iota_ids(1000, 1000 + static_cast<int>(held_n));
			for (int k = 0; k < static_cast<int>(jobs.size()); k++)
				want.push_back(k);
			EXPECT_EQ(log.get(), want);
			for (Job &j : jobs) {
				EXPECT_EQ(j.parallel_runs.load(), 1);
				EXPECT_EQ(j.serial_runs.load(), 1);
			}
		}
	}
}

/* Whichever comes first ends the prefix: the room left or a bad job. */
TEST_F(PadataMany, TheLimitAndABadJobEndThePrefixWhicheverComesFirst)
{
	started_with_limit(4);
	Gate gate;
	IdLog log;
	std::vector<Job> jobs(8);
	setup_jobs(jobs, &log, 0, &gate);
	std::vector<struct padata_priv *> arr = privs(jobs);
	/* A NULL at 2, room 4: 2. */
	struct padata_priv *a[] = {arr[0], arr[1], nullptr, arr[2]};
	EXPECT_EQ(padata_do_parallel_many(pinst_, a, 4, 0), 2);
	/* Room 2, the bad job at 3: 2. */
	struct padata_priv *b[] = {arr[2], arr[3], arr[4], arr[0]};
	Snapshot snap;
	snap.add(arr[4]);
	EXPECT_EQ(padata_do_parallel_many(pinst_, b, 4, 0), 2);
	EXPECT_TRUE(snap.untouched());
	EXPECT_EQ(stats_of(pinst_).in_flight, 4u);
	gate.open();
	ASSERT_TRUE(wait_done(ptrs(jobs, 0, 4)));
	ASSERT_EQ(submit_all(Target{pinst_, nullptr}, privs(jobs, 4), 0), 0);
	ASSERT_TRUE(wait_done(ptrs(jobs)));
	EXPECT_EQ(log.get(), iota_ids(0, 8));
}

/* The array is read during the call only: freed at once, under ASan. */
TEST_F(PadataMany, TheArrayIsOnlyReadDuringTheCall)
{
	started();
	Gate gate;
	IdLog log;
	std::vector<Job> jobs(40);
	setup_jobs(jobs, &log, 0, &gate);
	auto *arr = new struct padata_priv *[jobs.size()];
	for (size_t i = 0; i < jobs.size(); i++)
		arr[i] = &jobs[i].priv;
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr, static_cast<unsigned int>(jobs.size()), 0),
		  static_cast<int>(jobs.size()));
	for (size_t i = 0; i < jobs.size(); i++)
		arr[i] = nullptr;
	delete[] arr;
	gate.open();
	ASSERT_TRUE(wait_done(ptrs(jobs)));
	EXPECT_EQ(log.get(), iota_ids(0, static_cast<int>(jobs.size())));
}

/* ---- order --------------------------------------------------------------- */

/*
 * One submitter: runs of 1, 2, 7, 8, 33, 100 jobs mixed with single
 * padata_do_parallel() calls, all to one cb_cpu: serial() sees every job
 * once, in array order, each run's jobs with consecutive numbers. (The
 * default limit, 1000: the first round submits fewer jobs than that, so its
 * run of 100 is accepted whole.)
 */
TEST_F(PadataMany, OneSubmitterOneCbCpuSerializesInArrayOrder)
{
	started();
	Seen seen;
	DriveOptions o;
	o.fixed_cb = last_cpu();
	const long rounds = scaled(300, 3);
	run_submitters(1, rounds, 5, [&](int) { return Target{pinst_, nullptr}; },
		       [](uint32_t) { return 0; }, o, seen);
	EXPECT_EQ(seen.max_accepted.load(), 100);
	padata_stop(pinst_);
	struct padata_stats st = stats_of(pinst_);
	uint32_t total;
	make_plan(rounds, 101, &total);
	EXPECT_EQ(st.accepted, total) << "accepted and submitted totals differ";
	EXPECT_EQ(st.completed, total);
	EXPECT_EQ(st.in_flight, 0u);
}

/* As above, each run and single job to a random CPU: order per cb_cpu. */
TEST_F(PadataMany, OneSubmitterAllCbCpusSerializesInArrayOrder)
{
	started();
	Seen seen;
	const long rounds = scaled(300, 3);
	run_submitters(1, rounds, 3, [&](int) { return Target{pinst_, nullptr}; },
		       [](uint32_t) { return 0; }, DriveOptions(), seen);
	EXPECT_EQ(seen.max_accepted.load(), 100);
	padata_stop(pinst_);
	struct padata_stats st = stats_of(pinst_);
	uint32_t total;
	make_plan(rounds, 101, &total);
	EXPECT_EQ(st.accepted, total) << "accepted and submitted totals differ";
	EXPECT_EQ(st.completed, total);
}

/* The numbers of a run cross 2^32 (padata_test_set_seq): still in order. */
TEST_F(PadataMany, RunsStayInOrderAcrossTheSequenceWrap)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_test_set_seq(pinst_, UINT_MAX - 10), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	/* A run of 33 takes UINT_MAX - 10 .. 21. */
	{
		IdLog log;
		std::vector<Job> jobs(33);
		setup_jobs(jobs, &log);
		std::vector<struct padata_priv *> arr = privs(jobs);
		PickRecorder rec;
		ASSERT_EQ(padata_do_parallel_many(pinst_, arr.data(), 33, 0), 33);
		EXPECT_TRUE(consecutive(rec.seqs, 33));
		ASSERT_EQ(rec.seqs.size(), 33u);
		EXPECT_EQ(rec.seqs.front(), UINT_MAX - 10);
		EXPECT_EQ(rec.seqs.back(), 21u);
		ASSERT_TRUE(wait_done(ptrs(jobs)));
		EXPECT_EQ(log.get(), iota_ids(0, 33));
	}
	/* Then two submitters' plans from just before the wrap. */
	padata_stop(pinst_);
	ASSERT_EQ(padata_test_set_seq(pinst_, UINT_MAX - 150), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	Seen seen;
	DriveOptions o;
	o.require_multi = false; /* the default limit may split runs */
	run_submitters(2, scaled(40, 2), 4, [&](int) { return Target{pinst_, nullptr}; },
		       [](uint32_t) { return 0; }, o, seen);
}

/*
 * A small limit (8), two submitters: no call accepts more than 8, so runs
 * of 33 and 100 are split or refused; on -EBUSY the next job is submitted
 * with padata_do_parallel_wait() and the run goes on after it. Order and
 * blocks hold throughout.
 */
TEST_F(PadataMany, UnderASmallLimitPartialRunsGoOnInOrder)
{
	started_with_limit(8);
	Seen seen;
	DriveOptions o;
	o.wait_fallback = true;
	o.limit = 8;
	o.require_multi = false;
	run_submitters(2, scaled(100, 3), 3, [&](int) { return Target{pinst_, nullptr}; },
		       [](uint32_t) { return 0; }, o, seen);
	EXPECT_GT(seen.partial.load() + seen.busy.load(), 0)
		<< "a run of 33 under limit 8 takes more than one call";
	EXPECT_LE(seen.max_accepted.load(), 8);
	padata_stop(pinst_);
	struct padata_stats st = stats_of(pinst_);
	EXPECT_EQ(st.accepted, st.completed);
}

/*
 * Concurrent submitters (4), each run and single job to a random CPU: each
 * call's jobs leave serial() of their cb_cpu as one block (no job of
 * another thread between them), in array order; every job once; the totals
 * match. The limit is the highest, never reached: every call accepts its
 * whole run.
 */
TEST_F(PadataMany, ConcurrentSubmittersRunsAreSerializedAsBlocks)
{
	started_with_limit(PADATA_MAX_INFLIGHT_LIMIT);
	Seen seen;
	const long rounds = scaled(120, 3);
	run_submitters(4, rounds, 7, [&](int) { return Target{pinst_, nullptr}; },
		       [](uint32_t) { return 0; }, DriveOptions(), seen);
	EXPECT_EQ(seen.partial.load(), 0) << "a call below the limit accepted part of its run";
	EXPECT_EQ(seen.busy.load(), 0);
	EXPECT_EQ(seen.max_accepted.load(), 100);
	padata_stop(pinst_);
	struct padata_stats st = stats_of(pinst_);
	EXPECT_EQ(st.accepted, st.completed);
	uint64_t want = 0;
	for (int s = 0; s < 4; s++) {
		uint32_t total;
		make_plan(rounds, static_cast<uint64_t>(s) + 101, &total);
		want += total;
	}
	EXPECT_EQ(st.accepted, want) << "accepted and submitted totals differ";
}

/* As above, three threads all to one cb_cpu: one serial log, most interleaving. */
TEST_F(PadataMany, ThreeSubmittersOneCbCpuRunsAreSerializedAsBlocks)
{
	started_with_limit(PADATA_MAX_INFLIGHT_LIMIT);
	Seen seen;
	DriveOptions o;
	o.fixed_cb = 0;
	run_submitters(3, scaled(150, 3), 0, [&](int) { return Target{pinst_, nullptr}; },
		       [](uint32_t) { return 0; }, o, seen);
	EXPECT_EQ(seen.partial.load(), 0);
	EXPECT_EQ(seen.busy.load(), 0);
}

/*
 * Runs keep order and stay blocks while the parallel mask changes and CPUs
 * go down and up: a cb_cpu gone answers -EINVAL (the run goes on to another
 * CPU), a change in progress -EBUSY (retried).
 */
TEST_F(PadataMany, RunsStayBlocksAcrossMaskChangesAndHotplug)
{
	std::vector<int> cpus = all_cpus();
	if (cpus.size() < 2)
		GTEST_SKIP() << "needs two CPUs";
	started();
	Seen seen;
	DriveOptions o;
	o.einval_repicks = true;
	o.require_multi = false;
	const int last = cpus.back();
	run_submitters(
		3, scaled(100, 3), 6, [&](int) { return Target{pinst_, nullptr}; }, [](uint32_t) { return 0; },
		o, seen, [&](int round) {
			int err = 0;
			switch (round % 3) {
			case 0:
				err = padata_remove_cpu(pinst_, last, PADATA_CPU_PARALLEL);
				break;
			case 1:
				err = padata_add_cpu(pinst_, last, PADATA_CPU_PARALLEL);
				break;
			case 2: {
				int victim = cpus[1 + static_cast<size_t>(round / 3) % (cpus.size() - 1)];
				if (cpu_down(static_cast<unsigned int>(victim)) == 0)
					err = cpu_up(static_cast<unsigned int>(victim));
				break;
			}
			}
			EXPECT_EQ(err, 0);
			std::this_thread::yield();
		});
}

/* ---- shells ------------------------------------------------------------ */

TEST_F(PadataMany, ShellManyAnswersTheDocumentedErrors)
{
	std::vector<Job> jobs(4);
	IdLog log;
	setup_jobs(jobs, &log);
	std::vector<struct padata_priv *> arr = privs(jobs);
	Snapshot snap;
	snap.add(jobs, 0);
	EXPECT_EQ(padata_do_parallel_shell_many(nullptr, arr.data(), 4, 0), -EINVAL);
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	EXPECT_EQ(padata_do_parallel_shell_many(ps, arr.data(), 4, 0), -EINVAL) << "not started";
	EXPECT_EQ(padata_do_parallel_shell_many(ps, arr.data(), 0, 0), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	EXPECT_EQ(padata_do_parallel_shell_many(nullptr, arr.data(), 4, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel_shell_many(ps, nullptr, 4, 0), -EINVAL);
	EXPECT_EQ(padata_do_parallel_shell_many(ps, arr.data(), 0, 0), 0);
	struct padata_priv *null_first[] = {nullptr, arr[0]};
	EXPECT_EQ(padata_do_parallel_shell_many(ps, null_first, 2, 0), -EINVAL);
	for (int cpu : {-1, INT_MAX, static_cast<int>(nr_cpu_ids)})
		EXPECT_EQ(padata_do_parallel_shell_many(ps, arr.data(), 4, cpu), -EINVAL) << cpu;
	EXPECT_TRUE(snap.untouched());
	EXPECT_EQ(stats_of(pinst_).accepted, 0u);
	/* A NULL at 2 ends the prefix there. */
	struct padata_priv *null_at_2[] = {arr[0], arr[1], nullptr, arr[2]};
	EXPECT_EQ(padata_do_parallel_shell_many(ps, null_at_2, 4, 0), 2);
	ASSERT_TRUE(wait_done(ptrs(jobs, 0, 2)));

	padata_free_shell(ps);
	Snapshot rest;
	rest.add(jobs, 2);
	ASSERT_TRUE(wait_until([&] { return stats_of(pinst_).in_flight == 0; }));
	uint64_t before = stats_of(pinst_).accepted;
	EXPECT_EQ(padata_do_parallel_shell_many(ps, arr.data() + 2, 2, 0), -EINVAL) << "freed shell";
	EXPECT_TRUE(rest.untouched());
	EXPECT_EQ(stats_of(pinst_).accepted, before);
	EXPECT_EQ(padata_do_parallel_many(pinst_, arr.data() + 2, 2, 0), 2);
	ASSERT_TRUE(wait_done(ptrs(jobs)));
	EXPECT_EQ(log.get(), iota_ids(0, 4));
}

/* The limit is per shell: one shell full, another and the default one accept. */
TEST_F(PadataMany, ShellManyMeetsItsOwnShellsLimit)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst_, 4), 0);
	struct padata_shell *a = padata_alloc_shell(pinst_);
	struct padata_shell *b = padata_alloc_shell(pinst_);
	ASSERT_TRUE(a && b);
	ASSERT_EQ(padata_start(pinst_), 0);
	Gate gate;
	IdLog la, lb, ld;
	std::vector<Job> ja(6), jb(6), jd(6);
	setup_jobs(ja, &la, 0, &gate);
	setup_jobs(jb, &lb, 0, &gate);
	setup_jobs(jd, &ld, 0, &gate);
	std::vector<struct padata_priv *> aa = privs(ja), ab = privs(jb), ad = privs(jd);
	Snapshot snap;
	snap.add(ja, 4);
	EXPECT_EQ(padata_do_parallel_shell_many(a, aa.data(), 6, 0), 4);
	EXPECT_EQ(padata_do_parallel_shell_many(a, aa.data() + 4, 2, 0), -EBUSY);
	EXPECT_TRUE(snap.untouched());
	EXPECT_EQ(padata_do_parallel_shell_many(b, ab.data(), 3, 0), 3);
	EXPECT_EQ(padata_do_parallel_shell_many(b, ab.data() + 3, 3, 0), 1);
	EXPECT_EQ(padata_do_parallel_many(pinst_, ad.data(), 6, 0), 4);
	EXPECT_EQ(stats_of(pinst_).in_flight, 12u);
	gate.open();
	ASSERT_EQ(submit_all(Target{nullptr, a}, privs(ja, 4), 0), 0);
	ASSERT_EQ(submit_all(Target{nullptr, b}, privs(jb, 4), 0), 0);
	ASSERT_EQ(submit_all(Target{pinst_, nullptr}, privs(jd, 4), 0), 0);
	ASSERT_TRUE(wait_done(ptrs(ja)) && wait_done(ptrs(jb)) && wait_done(ptrs(jd)));
	EXPECT_EQ(la.get(), iota_ids(0, 6));
	EXPECT_EQ(lb.get(), iota_ids(0, 6));
	EXPECT_EQ(ld.get(), iota_ids(0, 6));
	padata_free_shell(a);
	padata_free_shell(b);
}

/*
 * Two shells and the default one, two submitters each, all at once: within
 * each shell every job in order and every run one block of that shell's
 * jobs on its cb_cpu (other shells' jobs may fall between: their own
 * order domains).
 */
TEST_F(PadataMany, ShellRunsStayInOrderAndBlocksWithinEachShell)
{
	/* Each shell (and the default one) admits this many of its own. */
	started_with_limit(PADATA_MAX_INFLIGHT_LIMIT);
	struct padata_shell *ps[2] = {padata_alloc_shell(pinst_), padata_alloc_shell(pinst_)};
	ASSERT_TRUE(ps[0] && ps[1]);
	Seen seen;
	run_submitters(6, scaled(60, 2), 5,
		       [&](int s) { return s < 4 ? Target{nullptr, ps[s / 2]} : Target{pinst_, nullptr}; },
		       [](uint32_t s) { return static_cast<int>(s / 2); }, DriveOptions(), seen);
	EXPECT_EQ(seen.partial.load(), 0);
	EXPECT_EQ(seen.busy.load(), 0);
	padata_free_shell(ps[0]);
	padata_free_shell(ps[1]);
}

/* ---- from callbacks ---------------------------------------------------- */

namespace {
/* A run a callback submits: the result is INT_MIN until it has. */
struct CallbackRun {
	Target t;
	std::vector<struct padata_priv *> arr;
	int cb = 0;
	std::atomic<int> result{INT_MIN};
	void submit() { result.store(t.many(arr.data(), static_cast<unsigned int>(arr.size()), cb)); }
};

void submit_from_callback(Job *j)
{
	static_cast<CallbackRun *>(j->ctx)->submit();
}
} /* namespace */

TEST_F(PadataMany, CallableFromParallelAndSerialCallbacks)
{
	started();
	struct padata_shell *ps = padata_alloc_shell(pinst_);
	ASSERT_NE(ps, nullptr);
	const int cb = last_cpu();
	IdLog lp, ls, lq;
	std::vector<Job> p(8), s(33), q(8);
	setup_jobs(p, &lp);
	setup_jobs(s, &ls);
	setup_jobs(q, &lq);
	CallbackRun rp, rs, rq;
	rp.t = Target{pinst_, nullptr};
	rp.arr = privs(p);
	rp.cb = 0;
	rs.t = Target{pinst_, nullptr};
	rs.arr = privs(s);
	rs.cb = cb; /* the serial worker's own CPU: queued behind itself */
	rq.t = Target{nullptr, ps};
	rq.arr = privs(q);
	rq.cb = 0;
	Job a, b, c;
	a.ctx = &rp;
	a.on_parallel = submit_from_callback;
	b.ctx = &rs;
	b.on_serial = submit_from_callback;
	c.ctx = &rq;
	c.on_serial = submit_from_callback;
	struct padata_priv *outer[] = {&a.priv, &b.priv};
	ASSERT_EQ(padata_do_parallel_many(pinst_, outer, 2, cb), 2);
	ASSERT_EQ(padata_do_parallel_shell(ps, &c.priv, 0), 0);
	ASSERT_TRUE(wait_done({&a, &b, &c}));
	EXPECT_EQ(rp.result.load(), 8) << "from parallel()";
	EXPECT_EQ(rs.result.load(), 33) << "from serial(), to its own cb_cpu";
	EXPECT_EQ(rq.result.load(), 8) << "shell, from serial()";
	ASSERT_TRUE(wait_done(ptrs(p)) && wait_done(ptrs(s)) && wait_done(ptrs(q)));
	EXPECT_EQ(lp.get(), iota_ids(0, 8));
	EXPECT_EQ(ls.get(), iota_ids(0, 33));
	EXPECT_EQ(lq.get(), iota_ids(0, 8));
	for (Job &j : s)
		EXPECT_EQ(j.serial_cpu.load(), cb);
	padata_free_shell(ps);
}

/*
 * In a callback the call never blocks: in parallel() (its own job in
 * flight, limit 4) it accepts the 3 that fit; in serial() (its job and
 * those 3 in flight) it answers -EBUSY at once. The test submits the rest.
 */
TEST_F(PadataMany, InACallbackTheLimitGivesAPartialRunOrEbusyWithoutBlocking)
{
	started_with_limit(4);
	IdLog log;
	std::vector<Job> inner(10);
	setup_jobs(inner, &log);
	CallbackRun rp, rs;
	rp.t = rs.t = Target{pinst_, nullptr};
	rp.arr = privs(inner);
	rs.arr = privs(inner, 3);
	Job outer;
	struct Both {
		CallbackRun *p, *s;
	} both{&rp, &rs};
	outer.ctx = &both;
	outer.on_parallel = [](Job *j) { static_cast<Both *>(j->ctx)->p->submit(); };
	outer.on_serial = [](Job *j) { static_cast<Both *>(j->ctx)->s->submit(); };
	Snapshot snap;
	snap.add(inner, 3);
	ASSERT_EQ(padata_do_parallel(pinst_, &outer.priv, 0), 0);
	ASSERT_TRUE(wait_done({&outer}));
	EXPECT_EQ(rp.result.load(), 3) << "room for 3 beside the callback's own job";
	EXPECT_EQ(rs.result.load(), -EBUSY) << "full while serial() runs";
	EXPECT_TRUE(snap.untouched());
	ASSERT_TRUE(wait_done(ptrs(inner, 0, 3)));
	ASSERT_EQ(submit_all(Target{pinst_, nullptr}, privs(inner, 3), 0), 0);
	ASSERT_TRUE(wait_done(ptrs(inner)));
	EXPECT_EQ(log.get(), iota_ids(0, 10));
}

/*
 * Callbacks submitting runs from many workers at once: each serial() of a
 * chain submits the next run (to a random CPU) until a depth is reached;
 * every run's jobs in array order on their cb_cpu, none lost.
 */
namespace {
struct Chain {
	struct padata_instance *pinst;
	std::vector<int> cpus;
	std::atomic<long> submitted{0};
	std::atomic<long> refused{0};
	std::atomic<long> serialized{0};
	std::atomic<long> out_of_order{0};
};
struct ChainJob {
	struct padata_priv priv;
	Chain *chain;
	int depth;
	int index;  /* in its run */
	int cb;
	std::atomic<int> *last_index; /* per run: last index serialized */
	std::unique_ptr<std::vector<ChainJob>> next_run;
	std::unique_ptr<std::atomic<int>> next_last;
};

void chain_parallel(struct padata_priv *p)
{
	padata_do_serial(p);
}

void chain_serial(struct padata_priv *p);

/* Fills @run with @n jobs of @depth and submits them (from any thread). */
void chain_submit(Chain *ch, std::vector<ChainJob> &run, std::atomic<int> *last, int depth, int n,
		  int cb)
{
	run.resize(static_cast<size_t>(n));
	std::vector<struct padata_priv *> arr;
	for (int i = 0; i < n; i++) {
		ChainJob &j = run[static_cast<size_t>(i)];
		std::memset(&j.priv, 0, sizeof(j.priv));
		j.priv.parallel = chain_parallel;
		j.priv.serial = chain_serial;
		j.chain = ch;
		j.depth = depth;
		j.index = i;
		j.cb = cb;
		j.last_index = last;
		arr.push_back(&j.priv);
	}
	/* A callback cannot wait: the limit is high enough for all of them. */
	int k = padata_do_parallel_many(ch->pinst, arr.data(), static_cast<unsigned int>(n), cb);
	if (k != n)
		ch->refused.fetch_add(1);
	else
		ch->submitted.fetch_add(n);
}

void chain_serial(struct padata_priv *p)
{
	ChainJob *j = container_of(p, ChainJob, priv);
	Chain *ch = j->chain;
	if (padata_current_cpu() != j->cb || j->last_index->load() != j->index - 1)
		ch->out_of_order.fetch_add(1);
	j->last_index->store(j->index);
	/* The first job of each run below the depth starts a new run. */
	if (j->index == 0 && j->depth > 0) {
		j->next_run.reset(new std::vector<ChainJob>());
		j->next_last.reset(new std::atomic<int>(-1));
		int n = 1 + (j->depth * 7) % 40;
		int cb = ch->cpus[static_cast<size_t>(j->depth) % ch->cpus.size()];
		chain_submit(ch, *j->next_run, j->next_last.get(), j->depth - 1, n, cb);
	}
	ch->serialized.fetch_add(1);
}
} /* namespace */

TEST_F(PadataMany, ChainsOfRunsSubmittedFromSerialStayInOrder)
{
	started();
	Chain ch;
	ch.pinst = pinst_;
	ch.cpus = all_cpus();
	const int chains = 4;
	const int depth = static_cast<int>(scaled(60, 5));
	std::vector<std::vector<ChainJob>> roots(chains);
	std::vector<std::unique_ptr<std::atomic<int>>> lasts;
	for (int c = 0; c < chains; c++) {
		lasts.emplace_back(new std::atomic<int>(-1));
		chain_submit(&ch, roots[static_cast<size_t>(c)], lasts.back().get(), depth, 5 + c,
			     ch.cpus[static_cast<size_t>(c) % ch.cpus.size()]);
	}
	long want = 0;
	for (int c = 0; c < chains; c++) {
		want += 5 + c;
		for (int d = depth - 1; d >= 0; d--)
			want += 1 + ((d + 1) * 7) % 40;
	}
	ASSERT_TRUE(wait_until([&] { return ch.serialized.load() >= want || ch.refused.load() > 0; }))
		<< ch.serialized.load() << " of " << want;
	EXPECT_EQ(ch.refused.load(), 0);
	padata_stop(pinst_); /* nothing left in flight before the jobs go */
	EXPECT_EQ(ch.serialized.load(), want);
	EXPECT_EQ(ch.submitted.load(), want);
	EXPECT_EQ(ch.out_of_order.load(), 0);
}
