/* SPDX-License-Identifier: MIT */
/*
 * padata_hotplug_test.cc - changing CPU sets while jobs flow: cpu_down() /
 * cpu_up() errors and effects, mask changes and hotplug in a loop while
 * other threads submit (no job lost, repeated or reordered; jobs accepted
 * before a change serialized before it returns; notifiers with the right
 * bits and masks), stop/free with jobs in flight and async completions
 * outstanding, -EBUSY back-pressure at the in-flight limit, and -EDEADLK
 * for cpu_down() / cpu_up() from a worker (from inside padata callbacks and
 * notifiers: padata_misuse_test).
 *
 * Every fixture brings all CPUs back up in TearDown.
 */
#include "order_harness.h"

#include <climits>

using namespace padata_test;

namespace {

class PadataHotplug : public InstanceTest {
protected:
	PadataHotplug() : InstanceTest("hotplug") {}
};

} /* namespace */

/* ---- cpu_down / cpu_up ----------------------------------------------------- */

TEST_F(PadataHotplug, CpuDownAndUpRejectCpusThatDoNotExist)
{
	for (unsigned int c : {nr_cpu_ids, static_cast<unsigned int>(NR_CPUS), UINT_MAX, static_cast<unsigned int>(-1)}) {
		EXPECT_EQ(cpu_down(c), -EINVAL) << c;
		EXPECT_EQ(cpu_up(c), -EINVAL) << c;
	}
	EXPECT_TRUE(cpumask_equal(cpu_active_mask, cpu_online_mask) || !padata_topology_is_virtual());
}

TEST_F(PadataHotplug, CpuDownOfTheLastActiveCpuIsEbusy)
{
	std::vector<int> active = mask_cpus(cpu_active_mask);
	ASSERT_FALSE(active.empty());
	for (size_t i = 1; i < active.size(); i++)
		ASSERT_EQ(cpu_down(static_cast<unsigned int>(active[i])), 0) << active[i];
	EXPECT_EQ(cpumask_weight(cpu_active_mask), 1u);
	EXPECT_EQ(cpu_down(static_cast<unsigned int>(active[0])), -EBUSY);
	EXPECT_TRUE(cpumask_test_cpu(active[0], cpu_active_mask));
	Job j;
	ASSERT_EQ(padata_do_parallel(started(), &j.priv, active[0]), 0) << "one CPU left still works";
	ASSERT_TRUE(wait_done({&j}));
	for (size_t i = 1; i < active.size(); i++)
		ASSERT_EQ(cpu_up(static_cast<unsigned int>(active[i])), 0) << active[i];
	EXPECT_EQ(cpumask_weight(cpu_active_mask), static_cast<unsigned int>(active.size()));
}

TEST_F(PadataHotplug, CpuDownAndUpAreIdempotent)
{
	if (cpumask_weight(cpu_active_mask) < 2)
		GTEST_SKIP() << "needs two active CPUs";
	unsigned int c = static_cast<unsigned int>(last_cpu());
	EXPECT_EQ(cpu_up(c), 0) << "already up";
	EXPECT_EQ(cpu_down(c), 0);
	EXPECT_EQ(cpu_down(c), 0) << "already down";
	EXPECT_FALSE(cpumask_test_cpu(static_cast<int>(c), cpu_active_mask));
	EXPECT_EQ(cpu_up(c), 0);
	EXPECT_EQ(cpu_up(c), 0);
	EXPECT_TRUE(cpumask_test_cpu(static_cast<int>(c), cpu_active_mask));
}

TEST_F(PadataHotplug, CpuDownAndUpFromAWorkerAreEdeadlk)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	struct Self {
		struct work_struct work;
		std::atomic<int> down{1}, up{1};
	} s;
	INIT_WORK(&s.work, [](struct work_struct *w) {
		Self *me = container_of(w, Self, work);
		me->down.store(cpu_down(nr_cpu_ids - 1));
		me->up.store(cpu_up(nr_cpu_ids - 1));
	});
	ASSERT_TRUE(queue_work_on(0, wq_, &s.work));
	flush_work(&s.work);
	EXPECT_EQ(s.down.load(), -EDEADLK);
	EXPECT_EQ(s.up.load(), -EDEADLK);
	EXPECT_TRUE(cpumask_test_cpu(last_cpu(), cpu_active_mask));
}

/* ---- effects on instances ------------------------------------------------ */

TEST_F(PadataHotplug, HotplugChangesTheUsableMasksAndNotifies)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	Recorder w;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &w.nb), 0);
	int c = last_cpu();
	ASSERT_EQ(cpu_down(static_cast<unsigned int>(c)), 0);
	ASSERT_EQ(w.count(), 1u);
	EXPECT_EQ(w.last().action, static_cast<unsigned long>(PADATA_CPU_PARALLEL | PADATA_CPU_SERIAL));
	EXPECT_FALSE(cpumask_test_cpu(c, &w.last().pcpu));
	EXPECT_FALSE(cpumask_test_cpu(c, &w.last().cbcpu));
	EXPECT_TRUE(cpumask_equal(&w.last().pcpu, cpu_active_mask));
	struct padata_cpumask m = usable(pinst_);
	EXPECT_TRUE(cpumask_equal(m.pcpu, &w.last().pcpu));
	EXPECT_TRUE(cpumask_equal(m.cbcpu, &w.last().cbcpu));
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, c), -EINVAL) << "cb_cpu is down";
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_NE(j.parallel_cpu.load(), c) << "parallel() ran on a CPU that is down";

	ASSERT_EQ(cpu_up(static_cast<unsigned int>(c)), 0);
	ASSERT_EQ(w.count(), 2u);
	EXPECT_EQ(w.last().action, static_cast<unsigned long>(PADATA_CPU_PARALLEL | PADATA_CPU_SERIAL));
	EXPECT_TRUE(cpumask_test_cpu(c, &w.last().pcpu));
	EXPECT_TRUE(cpumask_test_cpu(c, &w.last().cbcpu));
	j.reset();
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, c), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(j.serial_cpu.load(), c);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &w.nb), 0);
}

TEST_F(PadataHotplug, HotplugOfACpuOutsideTheMasksDoesNotNotify)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	struct cpumask zero = mask_of({0});
	struct cpumask last = mask_of({last_cpu()});
	pinst_ = padata_alloc(wq_, &zero, &zero);
	ASSERT_NE(pinst_, nullptr);
	Recorder w;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &w.nb), 0);
	ASSERT_EQ(cpu_down(static_cast<unsigned int>(last_cpu())), 0);
	ASSERT_EQ(cpu_up(static_cast<unsigned int>(last_cpu())), 0);
	EXPECT_EQ(w.count(), 0u);
	/* Only the serial mask holds the CPU: only that bit is reported. */
	ASSERT_EQ(padata_set_cpumask(pinst_, PADATA_CPU_SERIAL, &last), 0);
	ASSERT_EQ(w.count(), 1u);
	ASSERT_EQ(cpu_down(static_cast<unsigned int>(last_cpu())), 0);
	ASSERT_EQ(w.count(), 2u);
	EXPECT_EQ(w.last().action, static_cast<unsigned long>(PADATA_CPU_SERIAL));
	EXPECT_TRUE(cpumask_empty(&w.last().cbcpu));
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &w.nb), 0);
}

TEST_F(PadataHotplug, ADownCpuInAUserMaskIsUsedOnceItComesUp)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	int c = last_cpu();
	ASSERT_EQ(cpu_down(static_cast<unsigned int>(c)), 0);
	struct cpumask only_down = mask_of({c});
	errno = 0;
	EXPECT_EQ(padata_alloc(wq_, &only_down, &only_down), nullptr) << "no active CPU in the masks";
	EXPECT_EQ(errno, EINVAL);

	struct cpumask zero = mask_of({0});
	pinst_ = padata_alloc(wq_, &zero, &zero);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	Recorder w;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst_, &w.nb), 0);
	ASSERT_EQ(padata_add_cpu(pinst_, c, PADATA_CPU_SERIAL | PADATA_CPU_PARALLEL), 0);
	EXPECT_EQ(w.count(), 0u) << "the usable masks did not change";
	struct padata_cpumask m = usable(pinst_);
	EXPECT_FALSE(cpumask_test_cpu(c, m.cbcpu));
	Job j;
	EXPECT_EQ(padata_do_parallel(pinst_, &j.priv, c), -EINVAL);

	ASSERT_EQ(cpu_up(static_cast<unsigned int>(c)), 0);
	ASSERT_EQ(w.count(), 1u);
	EXPECT_EQ(w.last().action, static_cast<unsigned long>(PADATA_CPU_PARALLEL | PADATA_CPU_SERIAL));
	m = usable(pinst_);
	EXPECT_TRUE(cpumask_test_cpu(c, m.cbcpu));
	EXPECT_TRUE(cpumask_test_cpu(c, m.pcpu));
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, c), 0);
	ASSERT_TRUE(wait_done({&j}));
	EXPECT_EQ(j.serial_cpu.load(), c);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst_, &w.nb), 0);
}

TEST_F(PadataHotplug, EveryInstanceSeesTheHotplug)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	struct workqueue_struct *wq2 = create_workqueue("hotplug2");
	ASSERT_NE(wq2, nullptr);
	struct padata_instance *a = padata_alloc_possible(wq_);
	struct padata_instance *b = padata_alloc_possible(wq_);
	struct padata_instance *c2 = padata_alloc_possible(wq2);
	ASSERT_TRUE(a && b && c2);
	Recorder wa, wb, wc;
	ASSERT_EQ(padata_register_cpumask_notifier(a, &wa.nb), 0);
	ASSERT_EQ(padata_register_cpumask_notifier(b, &wb.nb), 0);
	ASSERT_EQ(padata_register_cpumask_notifier(c2, &wc.nb), 0);
	ASSERT_EQ(cpu_down(0), 0);
	for (Recorder *w : {&wa, &wb, &wc}) {
		EXPECT_EQ(w->count(), 1u);
		EXPECT_FALSE(cpumask_test_cpu(0, &w->last().pcpu));
	}
	ASSERT_EQ(cpu_up(0), 0);
	for (Recorder *w : {&wa, &wb, &wc})
		EXPECT_EQ(w->count(), 2u);
	padata_free(a);
	padata_free(b);
	padata_free(c2);
	/* A freed instance is no longer notified (and not touched). */
	ASSERT_EQ(cpu_down(0), 0);
	ASSERT_EQ(cpu_up(0), 0);
	EXPECT_EQ(wa.count(), 2u);
	destroy_workqueue(wq2);
}

TEST_F(PadataHotplug, CpuDownDrainsJobsQueuedForThatCpu)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	ASSERT_EQ(padata_start(pinst_), 0);
	int c = last_cpu();
	const int n = 200;
	struct Log {
		std::mutex lock;
		std::vector<int> ids;
	} log;
	std::vector<Job> jobs(n);
	for (int i = 0; i < n; i++) {
		jobs[i].id = i;
		jobs[i].defer = i % 4 == 0; /* completed by the test, later */
		jobs[i].ctx = &log;
		jobs[i].on_serial = [](Job *j) {
			Log *l = static_cast<Log *>(j->ctx);
			std::lock_guard<std::mutex> g(l->lock);
			l->ids.push_back(j->id);
		};
		ASSERT_EQ(padata_do_parallel(pinst_, &jobs[i].priv, i % 2 ? c : 0), 0);
	}
	ASSERT_TRUE(wait_until([&] {
		for (int i = 0; i < n; i += 4)
			if (jobs[i].parallel_runs.load() == 0)
				return false;
		return true;
	}));
	std::atomic<int> down{1};
	std::thread t([&] { down.store(cpu_down(static_cast<unsigned int>(c))); });
	/* Probes accepted before the drain starts are fine; wait for -EBUSY. */
	std::vector<std::unique_ptr<Job>> probes;
	EXPECT_TRUE(wait_until(
		[&] {
			auto probe = std::make_unique<Job>();
			int err = padata_do_parallel(pinst_, &probe->priv, 0);
			if (err == 0)
				probes.push_back(std::move(probe));
			return err == -EBUSY;
		},
		milliseconds(5000)))
		<< "submissions while hotplug drains must get -EBUSY";
	std::this_thread::sleep_for(milliseconds(20));
	EXPECT_EQ(down.load(), 1) << "cpu_down returned with jobs outstanding";
	for (int i = n - 4; i >= 0; i -= 4)
		padata_do_serial(&jobs[i].priv);
	t.join();
	EXPECT_EQ(down.load(), 0);
	std::vector<Job *> all;
	for (Job &j : jobs)
		all.push_back(&j);
	ASSERT_TRUE(wait_done(all, milliseconds(1))) << "cpu_down returned before the drain";
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(jobs[i].serial_runs.load(), 1);
		EXPECT_EQ(jobs[i].serial_cpu.load(), i % 2 ? c : 0) << i;
	}
	std::lock_guard<std::mutex> g(log.lock);
	std::vector<int> per[2];
	for (int id : log.ids)
		per[id % 2].push_back(id);
	for (auto &v : per)
		for (size_t k = 1; k < v.size(); k++)
			ASSERT_LT(v[k - 1], v[k]);
	for (auto &p : probes)
		ASSERT_TRUE(p->done()) << "a probe accepted before cpu_down was not drained by it";
}

/* ---- back-pressure ---------------------------------------------------------- */

TEST_F(PadataHotplug, InFlightLimitPushesBackAndRecovers)
{
	pinst_ = padata_alloc_possible(wq_);
	ASSERT_NE(pinst_, nullptr);
	const unsigned int limit = 64;
	ASSERT_EQ(padata_set_max_inflight(pinst_, limit), 0);
	ASSERT_EQ(padata_start(pinst_), 0);
	static std::atomic<long> inflight, max_seen;
	inflight = 0;
	max_seen = 0;
	const uint32_t n = static_cast<uint32_t>(scaled(50000, 3000));
	OrderHarness h(1, n, 2, 2, 30); /* half the jobs complete late */
	h.on_serial = [](OJob *) { inflight.fetch_sub(1); };
	long busy = 0;
	std::vector<int> cpus = mask_cpus(cpu_active_mask);
	for (uint32_t i = 0; i < n; i++) {
		int err;
		while ((err = h.submit(pinst_, 0, i, cpus[i % cpus.size()], milliseconds(0))) == -EBUSY) {
			busy++;
			std::this_thread::yield();
		}
		ASSERT_EQ(err, 0);
		long now = inflight.fetch_add(1) + 1;
		long m = max_seen.load();
		while (now > m && !max_seen.compare_exchange_weak(m, now))
			;
	}
	ASSERT_TRUE(h.wait_all_serialized(milliseconds(60000)));
	h.check_exactly_once();
	EXPECT_EQ(h.failures(), 0) << h.describe();
	EXPECT_GT(busy, 0) << "never pushed back at a limit of " << limit;
	EXPECT_LE(max_seen.load(), static_cast<long>(limit));
	/* After the flood: a fresh job goes straight in. */
	Job j;
	ASSERT_EQ(padata_do_parallel(pinst_, &j.priv, 0), 0);
	ASSERT_TRUE(wait_done({&j}));
}

/* ---- stop / free with work outstanding -------------------------------------- */

TEST_F(PadataHotplug, StopAndFreeWithAsyncCompletionsOutstandingDuringHotplug)
{
	if (nr_cpu_ids < 2)
		GTEST_SKIP() << "needs two CPUs";
	const int rounds = static_cast<int>(scaled(20, 3));
	for (int r = 0; r < rounds; r++) {
		struct padata_instance *p = padata_alloc_possible(wq_);
		ASSERT_NE(p, nullptr);
		ASSERT_EQ(padata_start(p), 0);
		OrderHarness h(1, 2000, 3, 2, 200);
		std::atomic<bool> stop{false};
		std::thread plug([&] {
			Rng rng(static_cast<uint64_t>(r));
			while (!stop.load()) {
				unsigned int c = 1 + rng.below(nr_cpu_ids - 1);
				cpu_down(c);
				cpu_up(c);
			}
		});
		std::vector<int> cbs = {0};
		for (uint32_t i = 0; i < h.per_submitter(); i++) {
			int err = h.submit(p, 0, i, 0);
			ASSERT_EQ(err, 0) << i;
		}
		if (r % 2) {
			padata_stop(p);
			EXPECT_GE(h.serialized(), h.accepted()) << "padata_stop returned early";
			padata_free(p);
		} else {
			padata_free(p);
			EXPECT_GE(h.serialized(), h.accepted()) << "padata_free returned early";
		}
		stop.store(true);
		plug.join();
		h.check_exactly_once();
		EXPECT_EQ(h.failures(), 0) << h.describe();
	}
}

/* ---- the churn loop ------------------------------------------------------- */

namespace {

/* Runs submitters against random mask changes and hotplug; checks it all. */
void churn(struct workqueue_struct *wq, int submitters, long ops)
{
	struct padata_instance *pinst = padata_alloc_possible(wq);
	ASSERT_NE(pinst, nullptr);
	ASSERT_EQ(padata_set_max_inflight(pinst, 2048), 0);
	ASSERT_EQ(padata_start(pinst), 0);
	Recorder watch;
	ASSERT_EQ(padata_register_cpumask_notifier(pinst, &watch.nb), 0);

	const uint32_t per = static_cast<uint32_t>(scaled(400000, 20000));
	OrderHarness h(submitters, per, 9, 2, 20);
	std::vector<std::atomic<long>> upto(static_cast<size_t>(submitters));
	for (auto &u : upto)
		u = -1;
	std::atomic<bool> stop{false};
	std::atomic<long> einval{0}, exhausted{0};

	std::vector<std::thread> subs;
	for (int s = 0; s < submitters; s++) {
		subs.emplace_back([&, s] {
			Rng rng(static_cast<uint64_t>(s) * 7 + 1);
			for (uint32_t i = 0; i < per && !stop.load(); i++) {
				for (;;) {
					struct padata_cpumask m;
					padata_get_cpumask(pinst, &m);
					std::vector<int> cbs = mask_cpus(m.cbcpu);
					int err = -EINVAL;
					if (!cbs.empty())
						err = h.submit(pinst, s, i, cbs[rng.below(static_cast<uint32_t>(cbs.size()))]);
					if (err == 0) {
						upto[static_cast<size_t>(s)].store(i);
						break;
					}
					if (err != -EINVAL) {
						h.fail("submitter %d: job %u got %d", s, i, err);
						return;
					}
					/* cb_cpu just removed, or the instance invalid: retry. */
					einval.fetch_add(1);
					if (stop.load())
						return;
					std::this_thread::sleep_for(std::chrono::microseconds(50));
				}
			}
			if (!stop.load())
				exhausted.fetch_add(1);
		});
	}

	Rng rng(12345);
	std::vector<uint32_t> checked(static_cast<size_t>(submitters), 0);
	long changes = 0, notified_before = 0;
	struct cpumask all;
	cpumask_setall(&all);
	auto random_mask = [&](struct cpumask *m) {
		cpumask_clear(m);
		for (unsigned int c = 0; c < nr_cpu_ids; c++)
			if (rng.below(2))
				cpumask_set_cpu(c, m);
	};
	for (long op = 0; op < ops; op++) {
		/* Let the submitters in between changes (each change refuses them). */
		long base = h.accepted();
		wait_until([&] { return h.accepted() >= base + 200; }, milliseconds(20));
		unsigned int kind = op % 10 == 9 ? 7 : rng.below(7);
		if (kind == 7) {
			/* Every tenth op: all CPUs up (each up may notify), then all masks. */
			restore_all_cpus();
			notified_before = static_cast<long>(watch.count());
		}
		struct padata_cpumask before = usable(pinst);
		std::vector<long> snap;
		for (auto &u : upto)
			snap.push_back(u.load());
		struct cpumask m1, m2;
		unsigned int c = rng.below(nr_cpu_ids);
		int bits = 1 + static_cast<int>(rng.below(3));
		int err = 0;
		const char *what = "";
		switch (kind) {
		case 0:
			random_mask(&m1);
			what = "set_cpumask(PARALLEL)";
			err = padata_set_cpumask(pinst, PADATA_CPU_PARALLEL, &m1);
			break;
		case 1:
			random_mask(&m1);
			what = "set_cpumask(SERIAL)";
			err = padata_set_cpumask(pinst, PADATA_CPU_SERIAL, &m1);
			break;
		case 2:
			random_mask(&m1);
			random_mask(&m2);
			what = "set_cpumasks";
			err = padata_set_cpumasks(pinst, &m1, &m2);
			break;
		case 3:
			what = "add_cpu";
			err = padata_add_cpu(pinst, static_cast<int>(c), bits);
			break;
		case 4:
			what = "remove_cpu";
			err = padata_remove_cpu(pinst, static_cast<int>(c), bits);
			break;
		case 5:
			what = "cpu_down";
			err = cpu_down(c);
			if (err == -EBUSY)
				err = 0; /* the last active CPU */
			break;
		case 6:
			what = "cpu_up";
			err = cpu_up(c);
			break;
		default:
			what = "set_cpumasks(all)";
			err = padata_set_cpumasks(pinst, &all, &all);
			break;
		}
		ASSERT_EQ(err, 0) << what << " cpu " << c << " bits " << bits;
		struct padata_cpumask after = usable(pinst);
		/* Usable masks are the user masks within the active CPUs. */
		struct cpumask act = active_snapshot(), t;
		EXPECT_FALSE(cpumask_andnot(&t, after.pcpu, &act)) << what;
		EXPECT_FALSE(cpumask_andnot(&t, after.cbcpu, &act)) << what;
		unsigned long bits_changed = (cpumask_equal(before.pcpu, after.pcpu) ? 0 : PADATA_CPU_PARALLEL) |
					     (cpumask_equal(before.cbcpu, after.cbcpu) ? 0 : PADATA_CPU_SERIAL);
		long notified = static_cast<long>(watch.count());
		if (bits_changed) {
			changes++;
			EXPECT_EQ(notified, notified_before + 1) << what << ": one notification per change";
			const Recorder::Call &last = watch.last();
			EXPECT_EQ(last.action, bits_changed) << what;
			EXPECT_TRUE(cpumask_equal(&last.pcpu, after.pcpu)) << what;
			EXPECT_TRUE(cpumask_equal(&last.cbcpu, after.cbcpu)) << what;
		} else {
			EXPECT_EQ(notified, notified_before) << what << ": no change, no notification";
		}
		notified_before = notified;
		if (bits_changed) {
			/* Jobs accepted before the change ran serial() before it returned. */
			for (int s = 0; s < static_cast<int>(snap.size()); s++) {
				for (long i = checked[static_cast<size_t>(s)]; i <= snap[static_cast<size_t>(s)]; i++) {
					if (h.job(s, static_cast<uint32_t>(i)).serial_runs.load() != 1) {
						h.fail("%s returned before job %d/%ld ran serial()", what, s, i);
						break;
					}
				}
				if (snap[static_cast<size_t>(s)] >= 0)
					checked[static_cast<size_t>(s)] = static_cast<uint32_t>(snap[static_cast<size_t>(s)]);
			}
		}
		if (h.failures())
			break;
	}
	restore_all_cpus();
	ASSERT_EQ(padata_set_cpumasks(pinst, &all, &all), 0);
	stop.store(true);
	for (auto &t : subs)
		t.join();
	ASSERT_TRUE(h.wait_all_serialized(milliseconds(60000)))
		<< h.serialized() << " of " << h.accepted() << " serialized";
	h.check_exactly_once();
	EXPECT_EQ(h.failures(), 0) << h.describe();
	std::printf("  %ld ops (%ld changed the usable masks), %ld jobs, %ld -EINVAL retries, %ld submitters ran dry\n",
		    ops, changes, h.accepted(), einval.load(), exhausted.load());
	EXPECT_GT(changes, 0);
	EXPECT_GT(h.accepted(), 0);
	ASSERT_EQ(padata_unregister_cpumask_notifier(pinst, &watch.nb), 0);
	padata_free(pinst);
}

} /* namespace */

TEST_F(PadataHotplug, MaskChangesAndHotplugWhileSubmittingLoseNothing)
{
	churn(wq_, 2, scaled(nr_cpu_ids > 4 ? 400 : 300, 40));
}

TEST_F(PadataHotplug, ChurnWithFourSubmitters)
{
	churn(wq_, 4, scaled(150, 20));
}
