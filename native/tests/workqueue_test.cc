/* SPDX-License-Identifier: MIT */
/*
 * workqueue_test.cc - the per-CPU workqueue: creation errors, pinning,
 * thread names, pending semantics, re-queueing, flushing, FIFO order per
 * CPU, many producers and idle parking, and the spin rule of idle workers
 * (wq_idle.h) on synthetic time sequences.
 */
#include "test_util.h"
#include "../src/test_hooks.h"
#include "../src/wq_idle.h"

#include <sys/resource.h>
#include <time.h>

#include <climits>
#include <cstring>
#include <mutex>

using namespace padata_test;

namespace {

/* A work item that records where and how often it ran. */
struct Probe {
	struct work_struct work;
	std::atomic<int> runs{0};
	std::atomic<int> cpu{-2};
	std::atomic<int> host{-2};
	char name[32] = "";
	const Gate *hold = nullptr; /* when set, the function waits for it */

	Probe() { INIT_WORK(&work, run); }

	static void run(struct work_struct *w)
	{
		Probe *p = container_of(w, Probe, work);
		p->cpu.store(padata_current_cpu());
		p->host.store(sched_getcpu());
		pthread_getname_np(pthread_self(), p->name, sizeof(p->name));
		if (p->hold)
			p->hold->wait();
		p->runs.fetch_add(1);
	}
};

class Workqueue : public ::testing::Test {
protected:
	void TearDown() override
	{
		__atomic_store_n(&padata_test_hooks.queue_between, nullptr, __ATOMIC_SEQ_CST);
		restore_all_cpus();
	}
};

double process_cpu_seconds()
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

} /* namespace */

/* ---- creation ----------------------------------------------------------- */

TEST_F(Workqueue, AllocRejectsNullNameWithEinval)
{
	errno = 0;
	EXPECT_EQ(alloc_workqueue(nullptr, 0, 0), nullptr);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(Workqueue, AllocRejectsNegativeMaxActiveWithEinval)
{
	errno = 0;
	EXPECT_EQ(alloc_workqueue("neg", 0, -1), nullptr);
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_EQ(alloc_workqueue("neg", 0, INT_MIN), nullptr);
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(Workqueue, AllocAcceptsFlagsAndMaxActiveAndDestroyAcceptsNull)
{
	struct workqueue_struct *a = alloc_workqueue("flags", WQ_UNBOUND | WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	struct workqueue_struct *b = alloc_workqueue("maxact", WQ_CPU_INTENSIVE | WQ_FREEZABLE, 4);
	struct workqueue_struct *c = create_workqueue("");
	ASSERT_NE(a, nullptr);
	ASSERT_NE(b, nullptr);
	ASSERT_NE(c, nullptr);
	Probe p;
	ASSERT_TRUE(queue_work_on(0, c, &p.work));
	flush_work(&p.work);
	EXPECT_EQ(p.runs.load(), 1);
	destroy_workqueue(a);
	destroy_workqueue(b);
	destroy_workqueue(c);
	destroy_workqueue(nullptr);
}

TEST_F(Workqueue, DestroyRunsWhatIsStillQueued)
{
	struct workqueue_struct *wq = create_workqueue("drain");
	ASSERT_NE(wq, nullptr);
	const int n = 64;
	std::vector<Probe> probes(static_cast<size_t>(n));
	for (int i = 0; i < n; i++)
		ASSERT_TRUE(queue_work_on(i % static_cast<int>(nr_cpu_ids), wq, &probes[i].work));
	destroy_workqueue(wq);
	for (int i = 0; i < n; i++)
		EXPECT_EQ(probes[i].runs.load(), 1) << i;
}

TEST_F(Workqueue, DestroyFromItsOwnWorkerIsRefused)
{
	struct workqueue_struct *wq = create_workqueue("selfdestroy");
	ASSERT_NE(wq, nullptr);
	struct Self {
		struct work_struct work;
		struct workqueue_struct *wq;
		std::atomic<bool> returned{false};
	} s;
	INIT_WORK(&s.work, [](struct work_struct *w) {
		Self *me = container_of(w, Self, work);
		destroy_workqueue(me->wq); /* refused: a message on stderr, nothing freed */
		me->returned.store(true);
	});
	s.wq = wq;
	testing::internal::CaptureStderr();
	ASSERT_TRUE(queue_work_on(0, wq, &s.work));
	bool returned = wait_until([&] { return s.returned.load(); });
	std::string err = testing::internal::GetCapturedStderr();
	ASSERT_TRUE(returned);
	EXPECT_FALSE(err.empty()) << "no message for a refused destroy_workqueue";
	/* Still usable afterwards. */
	Probe p;
	ASSERT_TRUE(queue_work_on(0, wq, &p.work));
	flush_work(&p.work);
	EXPECT_EQ(p.runs.load(), 1);
	destroy_workqueue(wq);
}

/* ---- queue_work_on arguments --------------------------------------------- */

TEST_F(Workqueue, QueueWorkOnRejectsNullQueue)
{
	Probe p;
	errno = 0;
	EXPECT_FALSE(queue_work_on(0, nullptr, &p.work));
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_FALSE(queue_work(nullptr, &p.work));
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(Workqueue, QueueWorkOnRejectsNullWorkAndNullFunction)
{
	Wq wq("nullwork");
	errno = 0;
	EXPECT_FALSE(queue_work_on(0, wq.get(), nullptr));
	EXPECT_EQ(errno, EINVAL);
	struct work_struct w;
	INIT_WORK(&w, nullptr);
	errno = 0;
	EXPECT_FALSE(queue_work_on(0, wq.get(), &w));
	EXPECT_EQ(errno, EINVAL);
	errno = 0;
	EXPECT_FALSE(queue_work(wq.get(), &w));
	EXPECT_EQ(errno, EINVAL);
}

TEST_F(Workqueue, QueueWorkOnRejectsOutOfRangeCpus)
{
	Wq wq("badcpu");
	Probe p;
	std::vector<int> bad = {-1, static_cast<int>(nr_cpu_ids), INT_MAX, INT_MIN, NR_CPUS + 1};
	for (int cpu : bad) {
		if (cpu == WORK_CPU_UNBOUND)
			continue;
		errno = 0;
		EXPECT_FALSE(queue_work_on(cpu, wq.get(), &p.work)) << cpu;
		EXPECT_EQ(errno, EINVAL) << cpu;
	}
	/* A rejected item was not queued: it can be queued now. */
	ASSERT_TRUE(queue_work_on(0, wq.get(), &p.work));
	flush_work(&p.work);
	EXPECT_EQ(p.runs.load(), 1);
}

/* ---- where items run ------------------------------------------------------ */

TEST_F(Workqueue, EachCpuRunsOnItsPinnedNamedWorker)
{
	Wq wq("pin");
	ASSERT_NE(wq.get(), nullptr);
	std::vector<Probe> probes(nr_cpu_ids);
	for (unsigned int c = 0; c < nr_cpu_ids; c++)
		ASSERT_TRUE(queue_work_on(static_cast<int>(c), wq.get(), &probes[c].work));
	flush_workqueue(wq.get());
	for (unsigned int c = 0; c < nr_cpu_ids; c++) {
		EXPECT_EQ(probes[c].runs.load(), 1) << c;
		EXPECT_EQ(probes[c].cpu.load(), static_cast<int>(c));
		EXPECT_EQ(probes[c].host.load(), host_cpu_of(static_cast<int>(c))) << "virtual cpu " << c;
		if (!padata_topology_is_virtual()) {
			EXPECT_EQ(probes[c].host.load(), static_cast<int>(c));
		}
		std::string want = "pin/" + std::to_string(c);
		EXPECT_STREQ(probes[c].name, want.substr(0, 15).c_str());
	}
}

TEST_F(Workqueue, LongNamesAreCutTo15BytesInThreadNames)
{
	/* Linux thread names hold 15 bytes; the CPU number must survive the cut. */
	const std::string qname = "averyveryverylongqueuename";
	Wq wq(qname.c_str());
	ASSERT_NE(wq.get(), nullptr);
	unsigned int c = nr_cpu_ids - 1;
	Probe p;
	ASSERT_TRUE(queue_work_on(static_cast<int>(c), wq.get(), &p.work));
	flush_work(&p.work);
	std::string name = p.name;
	std::string suffix = "/" + std::to_string(c);
	EXPECT_EQ(name.size(), 15u) << name;
	ASSERT_GT(name.size(), suffix.size()) << name;
	EXPECT_EQ(name.substr(name.size() - suffix.size()), suffix) << name;
	std::string head = name.substr(0, name.size() - suffix.size());
	EXPECT_EQ(qname.compare(0, head.size(), head), 0) << name;
}

TEST_F(Workqueue, CurrentCpuIsMinusOneOutsideWorkers)
{
	EXPECT_EQ(padata_current_cpu(), -1);
	int other = -2;
	std::thread([&] { other = padata_current_cpu(); }).join();
	EXPECT_EQ(other, -1);
}

TEST_F(Workqueue, QueueWorkFromAWorkerStaysOnThatWorkersCpu)
{
	Wq wq("unbound");
	struct Chain {
		struct work_struct first;
		Probe second;
		struct workqueue_struct *wq;
		std::atomic<int> first_cpu{-2};
		std::atomic<bool> queued{false};
	} ch;
	ch.wq = wq.get();
	INIT_WORK(&ch.first, [](struct work_struct *w) {
		Chain *me = container_of(w, Chain, first);
		me->first_cpu.store(padata_current_cpu());
		me->queued.store(queue_work(me->wq, &me->second.work));
	});
	int target = static_cast<int>(nr_cpu_ids) - 1;
	ASSERT_TRUE(queue_work_on(target, wq.get(), &ch.first));
	ASSERT_TRUE(wait_until([&] { return ch.second.runs.load() == 1; }));
	EXPECT_TRUE(ch.queued.load());
	EXPECT_EQ(ch.first_cpu.load(), target);
	EXPECT_EQ(ch.second.cpu.load(), target);
}

TEST_F(Workqueue, QueueWorkFromANonWorkerRunsOnSomeWorker)
{
	Wq wq("anycpu");
	Probe p, q;
	ASSERT_TRUE(queue_work(wq.get(), &p.work));
	ASSERT_TRUE(queue_work_on(WORK_CPU_UNBOUND, wq.get(), &q.work));
	ASSERT_TRUE(wait_until([&] { return p.runs.load() == 1 && q.runs.load() == 1; }));
	flush_workqueue(wq.get());
	for (Probe *x : {&p, &q}) {
		EXPECT_GE(x->cpu.load(), 0);
		EXPECT_LT(x->cpu.load(), static_cast<int>(nr_cpu_ids));
	}
}

/* ---- pending semantics and re-queueing ------------------------------------ */

TEST_F(Workqueue, QueueingAPendingItemReturnsFalseAndRunsItOnce)
{
	Wq wq("pending");
	Gate gate;
	Probe blocker;
	blocker.hold = &gate;
	Probe p;
	ASSERT_TRUE(queue_work_on(0, wq.get(), &blocker.work));
	ASSERT_TRUE(wait_until([&] { return blocker.cpu.load() == 0; })); /* worker 0 busy */
	ASSERT_TRUE(queue_work_on(0, wq.get(), &p.work));
	EXPECT_FALSE(queue_work_on(0, wq.get(), &p.work));
	EXPECT_FALSE(queue_work(wq.get(), &p.work));
	if (nr_cpu_ids > 1) {
		EXPECT_FALSE(queue_work_on(1, wq.get(), &p.work)) << "pending on another CPU";
	}
	gate.open();
	flush_workqueue(wq.get());
	EXPECT_EQ(p.runs.load(), 1);
	EXPECT_EQ(p.cpu.load(), 0);
	/* Once it has run it may be queued again. */
	ASSERT_TRUE(queue_work_on(0, wq.get(), &p.work));
	flush_work(&p.work);
	EXPECT_EQ(p.runs.load(), 2);
}

TEST_F(Workqueue, ARunningItemCanBeQueuedAgain)
{
	Wq wq("running");
	Gate gate;
	Probe p;
	p.hold = &gate;
	ASSERT_TRUE(queue_work_on(0, wq.get(), &p.work));
	ASSERT_TRUE(wait_until([&] { return p.cpu.load() == 0; })); /* running, not pending */
	/* Same CPU: the second run waits behind the first, so it stays pending.
	 * (On another CPU it could start at once: the queue does not promise
	 * that one item never runs on two workers at the same time.) */
	EXPECT_TRUE(queue_work_on(0, wq.get(), &p.work));
	EXPECT_FALSE(queue_work_on(0, wq.get(), &p.work));
	gate.open();
	ASSERT_TRUE(wait_until([&] { return p.runs.load() == 2; }));
	flush_work(&p.work);
	EXPECT_EQ(p.runs.load(), 2);
}

TEST_F(Workqueue, AnItemRequeuesItselfFromItsOwnFunction)
{
	Wq wq("requeue");
	struct Self {
		struct work_struct work;
		struct workqueue_struct *wq;
		int runs = 0;          /* runs are serialized: the next starts after the re-queue */
		std::vector<int> cpus;
		bool all_true = true;
		std::atomic<bool> done{false};
	} s;
	s.wq = wq.get();
	INIT_WORK(&s.work, [](struct work_struct *w) {
		Self *me = container_of(w, Self, work);
		int n = me->runs++;
		me->cpus.push_back(padata_current_cpu());
		if (n == 99) {
			me->done.store(true);
			return;
		}
		int next = (n + 1) % static_cast<int>(nr_cpu_ids);
		if (!queue_work_on(next, me->wq, &me->work))
			me->all_true = false;
	});
	ASSERT_TRUE(queue_work_on(0, wq.get(), &s.work));
	ASSERT_TRUE(wait_until([&] { return s.done.load(); }));
	flush_work(&s.work);
	EXPECT_EQ(s.runs, 100);
	EXPECT_TRUE(s.all_true);
	ASSERT_EQ(s.cpus.size(), 100u);
	for (int i = 0; i < 100; i++)
		EXPECT_EQ(s.cpus[i], i % static_cast<int>(nr_cpu_ids)) << i;
}

/* ---- flushing --------------------------------------------------------------- */

TEST_F(Workqueue, FlushWorkWaitsForAPendingItem)
{
	Wq wq("flushw");
	Gate gate;
	Probe blocker;
	blocker.hold = &gate;
	Probe p;
	ASSERT_TRUE(queue_work_on(0, wq.get(), &blocker.work));
	ASSERT_TRUE(queue_work_on(0, wq.get(), &p.work));
	std::atomic<int> flushed{-1};
	std::thread t([&] { flushed.store(flush_work(&p.work) ? 1 : 0); });
	std::this_thread::sleep_for(milliseconds(50));
	EXPECT_EQ(flushed.load(), -1) << "flush_work returned while the item was pending";
	gate.open();
	t.join();
	EXPECT_EQ(flushed.load(), 1);
	EXPECT_EQ(p.runs.load(), 1);
}

TEST_F(Workqueue, FlushWorkWaitsForARunningItem)
{
	Wq wq("flushr");
	Gate gate;
	Probe p;
	p.hold = &gate;
	ASSERT_TRUE(queue_work_on(0, wq.get(), &p.work));
	ASSERT_TRUE(wait_until([&] { return p.cpu.load() == 0; }));
	std::atomic<int> flushed{-1};
	std::thread t([&] { flushed.store(flush_work(&p.work) ? 1 : 0); });
	std::this_thread::sleep_for(milliseconds(50));
	EXPECT_EQ(flushed.load(), -1);
	gate.open();
	t.join();
	EXPECT_EQ(flushed.load(), 1);
	EXPECT_EQ(p.runs.load(), 1);
}

TEST_F(Workqueue, FlushWorkReturnsFalseForIdleNullOrOwnItem)
{
	Wq wq("flushidle");
	Probe p;
	EXPECT_FALSE(flush_work(&p.work)) << "never queued";
	ASSERT_TRUE(queue_work_on(0, wq.get(), &p.work));
	ASSERT_TRUE(wait_until([&] { return p.runs.load() == 1; }));
	std::this_thread::sleep_for(milliseconds(5));
	flush_work(&p.work);
	EXPECT_FALSE(flush_work(&p.work)) << "already ran";
	EXPECT_FALSE(flush_work(nullptr));

	struct Self {
		struct work_struct work;
		std::atomic<int> result{-1};
	} s;
	INIT_WORK(&s.work, [](struct work_struct *w) {
		Self *me = container_of(w, Self, work);
		me->result.store(flush_work(w) ? 1 : 0);
	});
	ASSERT_TRUE(queue_work_on(0, wq.get(), &s.work));
	ASSERT_TRUE(wait_until([&] { return s.result.load() != -1; }));
	EXPECT_EQ(s.result.load(), 0);
}

TEST_F(Workqueue, FlushWorkqueueWaitsForEverythingQueuedBefore)
{
	Wq wq("flushq");
	const int per_cpu = static_cast<int>(scaled(200, 20));
	struct Slow {
		struct work_struct work;
		std::atomic<int> runs{0};
	};
	std::vector<Slow> items(static_cast<size_t>(per_cpu) * nr_cpu_ids);
	for (size_t i = 0; i < items.size(); i++) {
		INIT_WORK(&items[i].work, [](struct work_struct *w) {
			std::this_thread::sleep_for(std::chrono::microseconds(20));
			container_of(w, Slow, work)->runs.fetch_add(1);
		});
		ASSERT_TRUE(queue_work_on(static_cast<int>(i % nr_cpu_ids), wq.get(), &items[i].work));
	}
	flush_workqueue(wq.get());
	for (size_t i = 0; i < items.size(); i++)
		ASSERT_EQ(items[i].runs.load(), 1) << i;
	flush_workqueue(nullptr);
}

/*
 * Issue 8 #5. Thread A queues X and stalls half-way through queue_work_on()
 * (test hook between its counting and publishing steps); then Y is queued
 * and flush_workqueue() is called, both on CPU 0. Y's queue_work_on()
 * returned before the flush, so the flush must not return before Y has run.
 * Counting after publishing let X's run stand in for Y's: the flush's
 * snapshot counted Y but not X, and X, ahead of Y in the queue, satisfied
 * it. Y stalls (until the flush returns) exactly when X ran first, so that
 * outcome is reported every time, not by chance; A is let go once Y has
 * run or the flush has returned.
 */
namespace {
struct FlushStall {
	struct Item {
		struct work_struct work;
		FlushStall *s;
	} x, y;
	std::atomic<bool> x_ran{false}, y_ran{false}, flushed{false};
	Gate a_stalled, a_release, flush_returned;
};
FlushStall *flush_stall;

void flush_stall_hook(struct work_struct *w)
{
	if (w != &flush_stall->x.work)
		return;
	flush_stall->a_stalled.open();
	flush_stall->a_release.wait();
}
} /* namespace */

TEST_F(Workqueue, FlushWorkqueueWaitsForAnItemQueuedBeforeItWhileAnotherQueuerStalls)
{
	Wq wq("flushstall");
	FlushStall s;
	flush_stall = &s;
	s.x.s = s.y.s = &s;
	INIT_WORK(&s.x.work, [](struct work_struct *w) {
		container_of(w, FlushStall::Item, work)->s->x_ran.store(true);
	});
	INIT_WORK(&s.y.work, [](struct work_struct *w) {
		FlushStall *st = container_of(w, FlushStall::Item, work)->s;
		if (st->x_ran.load())
			st->flush_returned.wait();
		st->y_ran.store(true);
	});
	__atomic_store_n(&padata_test_hooks.queue_between, &flush_stall_hook, __ATOMIC_SEQ_CST);
	std::thread a([&] { EXPECT_TRUE(queue_work_on(0, wq.get(), &s.x.work)); });
	std::thread releaser([&] {
		wait_until([&] { return s.y_ran.load() || s.flushed.load(); });
		s.a_release.open();
	});
	ASSERT_TRUE(s.a_stalled.wait());
	ASSERT_TRUE(queue_work_on(0, wq.get(), &s.y.work));
	run_bounded("flush_workqueue", [&] { flush_workqueue(wq.get()); });
	const bool y_ran = s.y_ran.load();
	s.flushed.store(true);
	s.flush_returned.open();
	EXPECT_TRUE(y_ran) << "flush_workqueue() returned before an item queued before the call had run";
	releaser.join();
	a.join();
	__atomic_store_n(&padata_test_hooks.queue_between, nullptr, __ATOMIC_SEQ_CST);
	flush_workqueue(wq.get());
	EXPECT_TRUE(s.x_ran.load());
	EXPECT_TRUE(s.y_ran.load());
}

TEST_F(Workqueue, FlushWorkqueueFromItsOwnWorkerReturnsAtOnce)
{
	Wq wq("flushself");
	struct Self {
		struct work_struct work;
		struct workqueue_struct *wq;
		std::atomic<bool> returned{false};
	} s;
	s.wq = wq.get();
	INIT_WORK(&s.work, [](struct work_struct *w) {
		Self *me = container_of(w, Self, work);
		flush_workqueue(me->wq);
		me->returned.store(true);
	});
	ASSERT_TRUE(queue_work_on(0, wq.get(), &s.work));
	EXPECT_TRUE(wait_until([&] { return s.returned.load(); }, milliseconds(10000)));
}

/* ---- order and concurrency -------------------------------------------------- */

TEST_F(Workqueue, ItemsOnOneCpuRunInFifoOrderOneAtATime)
{
	Wq wq("fifo");
	struct Item {
		struct work_struct work;
		int index;
		std::vector<int> *log;
		std::atomic<int> *busy;
		std::atomic<bool> *overlap;
	};
	const int n = static_cast<int>(scaled(20000, 500));
	for (unsigned int c : {0u, nr_cpu_ids - 1}) {
		std::vector<int> log;
		log.reserve(static_cast<size_t>(n));
		std::atomic<int> busy{0};
		std::atomic<bool> overlap{false};
		std::vector<Item> items(static_cast<size_t>(n));
		for (int i = 0; i < n; i++) {
			items[i] = Item{{}, i, &log, &busy, &overlap};
			INIT_WORK(&items[i].work, [](struct work_struct *w) {
				Item *it = container_of(w, Item, work);
				if (it->busy->fetch_add(1) != 0)
					it->overlap->store(true);
				it->log->push_back(it->index);
				it->busy->fetch_sub(1);
			});
		}
		for (int i = 0; i < n; i++)
			ASSERT_TRUE(queue_work_on(static_cast<int>(c), wq.get(), &items[i].work));
		flush_workqueue(wq.get());
		ASSERT_EQ(log.size(), static_cast<size_t>(n));
		for (int i = 0; i < n; i++)
			ASSERT_EQ(log[i], i) << "cpu " << c;
		EXPECT_FALSE(overlap.load()) << "two items ran at once on cpu " << c;
	}
}

TEST_F(Workqueue, ManyProducersLoseNothingAndKeepPerProducerOrder)
{
	Wq wq("producers");
	const int producers = 4;
	const int per_producer = static_cast<int>(scaled(50000, 1000));
	struct Item {
		struct work_struct work;
		int producer;
		int index;
		std::atomic<int> runs{0};
		/* last index seen per (producer, cpu); written only by that cpu's worker */
		std::vector<int> *last;
		std::atomic<bool> *disorder;
	};
	std::vector<int> last(static_cast<size_t>(producers) * nr_cpu_ids, -1);
	std::atomic<bool> disorder{false};
	std::vector<std::vector<Item>> items(producers);
	for (int p = 0; p < producers; p++) {
		items[p] = std::vector<Item>(static_cast<size_t>(per_producer));
		for (int i = 0; i < per_producer; i++) {
			Item &it = items[p][i];
			it.producer = p;
			it.index = i;
			it.last = &last;
			it.disorder = &disorder;
			INIT_WORK(&it.work, [](struct work_struct *w) {
				Item *me = container_of(w, Item, work);
				int cpu = padata_current_cpu();
				int &l = (*me->last)[static_cast<size_t>(me->producer) * nr_cpu_ids + cpu];
				if (me->index <= l)
					me->disorder->store(true);
				l = me->index;
				me->runs.fetch_add(1);
			});
		}
	}
	std::vector<std::thread> threads;
	std::atomic<int> failures{0};
	for (int p = 0; p < producers; p++) {
		threads.emplace_back([&, p] {
			for (int i = 0; i < per_producer; i++)
				if (!queue_work_on((i + p) % static_cast<int>(nr_cpu_ids), wq.get(), &items[p][i].work))
					failures.fetch_add(1);
		});
	}
	for (auto &t : threads)
		t.join();
	flush_workqueue(wq.get());
	EXPECT_EQ(failures.load(), 0);
	EXPECT_FALSE(disorder.load()) << "a producer's items ran out of order on one CPU";
	for (int p = 0; p < producers; p++)
		for (int i = 0; i < per_producer; i++)
			ASSERT_EQ(items[p][i].runs.load(), 1) << p << "/" << i;
}

TEST_F(Workqueue, SeveralQueuesWorkIndependently)
{
	Wq a("qa"), b("qb");
	Gate gate;
	Probe blocker;
	blocker.hold = &gate;
	Probe p;
	ASSERT_TRUE(queue_work_on(0, a.get(), &blocker.work));
	ASSERT_TRUE(wait_until([&] { return blocker.cpu.load() == 0; }));
	ASSERT_TRUE(queue_work_on(0, b.get(), &p.work));
	EXPECT_TRUE(wait_until([&] { return p.runs.load() == 1; }, milliseconds(5000)))
		<< "queue b waited for queue a's busy worker";
	EXPECT_EQ(std::string(p.name).substr(0, 3), "qb/");
	gate.open();
	flush_workqueue(a.get());
}

TEST_F(Workqueue, IdleWorkersParkInsteadOfSpinning)
{
	Wq wq("idle");
	/* Let the workers start and settle. */
	Probe warm;
	ASSERT_TRUE(queue_work_on(0, wq.get(), &warm.work));
	flush_work(&warm.work);
	std::this_thread::sleep_for(milliseconds(50));
	double before = process_cpu_seconds();
	std::this_thread::sleep_for(milliseconds(300));
	double used = process_cpu_seconds() - before;
	/* Spinning workers would burn ~0.3 s per host CPU. */
	EXPECT_LT(used, sanitized() ? 0.15 : 0.05) << nr_cpu_ids << " idle workers used " << used << " s of CPU in 0.3 s";
}

/*
 * Issue 10: a worker polled its queue for 1 ms after every item, so one item
 * every 2 ms kept about half a CPU busy. Now a worker whose waits are long
 * parks at once: the trickle costs a wake-up per item. (A loaded machine
 * gives a polling worker less CPU, so this can miss the old defect there;
 * it cannot fail a parking worker.)
 */
TEST_F(Workqueue, ATrickleOfItemsCostsNoPollingBetweenThem)
{
	Wq wq("trickle");
	Probe p;
	const int n = 60;
	double cpu0 = process_cpu_seconds();
	auto t0 = std::chrono::steady_clock::now();
	for (int i = 0; i < n; i++) {
		ASSERT_TRUE(queue_work_on(0, wq.get(), &p.work));
		flush_work(&p.work);
		std::this_thread::sleep_for(milliseconds(2));
	}
	double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	double used = process_cpu_seconds() - cpu0;
	EXPECT_EQ(p.runs.load(), n);
	EXPECT_LT(used, 0.2 * wall) << n << " items 2 ms apart used " << used << " s of CPU in " << wall
				    << " s (workers may spin: "
				    << (!padata_topology_is_virtual() || nr_cpu_ids <= padata_nr_host_cpus()) << ")";
}

/*
 * The spin rule of idle workers (wq_idle.h), fed synthetic waits: no clock,
 * no threads, so the outcome is the same on any machine. A "wait" is the
 * time from the worker finding its queue empty to finding work again.
 */
namespace {

constexpr int64_t kUs = 1000;
constexpr int64_t kCap = 1000 * kUs; /* the default PADATA_SPIN_US */

/* Feeds @n waits of @gap_ns; returns how many of them the worker spun for
 * (a budget > 0 when it found its queue empty). */
int feed(struct padata__idle *s, int n, int64_t gap_ns, int64_t cap = kCap)
{
	int spins = 0;
	for (int i = 0; i < n; i++) {
		if (padata__idle_budget(s, cap) > 0)
			spins++;
		padata__idle_note(s, gap_ns, cap);
	}
	return spins;
}

/* A worker that has just been busy with a burst: its waits were ~1 µs. */
struct padata__idle hot()
{
	struct padata__idle s;
	padata__idle_init(&s, kCap);
	feed(&s, 50, 1 * kUs);
	return s;
}

} // namespace

TEST(IdlePolicy, AFreshWorkerParks)
{
	struct padata__idle s;
	padata__idle_init(&s, kCap);
	EXPECT_EQ(padata__idle_budget(&s, kCap), 0);
}

TEST(IdlePolicy, ASteadyTrickleOfOneJobPerMillisecondNeverSpins)
{
	struct padata__idle s;
	padata__idle_init(&s, kCap);
	/* One job per ms of which the worker runs ~5 µs: it waits ~995 µs. */
	EXPECT_EQ(feed(&s, 1000, 995 * kUs), 0);
	/* Nor after a burst: at most 3 more spins, then parking for good. */
	s = hot();
	EXPECT_LE(feed(&s, 3, 995 * kUs), 3);
	EXPECT_EQ(feed(&s, 1000, 995 * kUs), 0);
}

TEST(IdlePolicy, ATrickleOfOneJobPer100usDoesNotSpinEither)
{
	struct padata__idle s;
	padata__idle_init(&s, kCap);
	EXPECT_EQ(feed(&s, 1000, 95 * kUs), 0);
	s = hot();
	feed(&s, 3, 95 * kUs);
	EXPECT_EQ(feed(&s, 1000, 95 * kUs), 0);
}

TEST(IdlePolicy, ABurstOfJobs5usApartSpinsAndTheSpinsCatchTheNextJob)
{
	struct padata__idle s;
	padata__idle_init(&s, kCap);
	/* From parking to spinning within 4 waits... */
	int parked = 0;
	while (padata__idle_budget(&s, kCap) == 0 && parked < 100) {
		padata__idle_note(&s, 5 * kUs, kCap);
		parked++;
	}
	EXPECT_LE(parked, 4);
	/* ... and then every wait of the burst is spun through, long enough to see the job. */
	for (int i = 0; i < 1000; i++) {
		EXPECT_GE(padata__idle_budget(&s, kCap), 5 * kUs) << "wait " << i;
		padata__idle_note(&s, 5 * kUs, kCap);
	}
}

TEST(IdlePolicy, ASaturatedQueueSpinsAtLeastTheFloor)
{
	struct padata__idle s = hot();
	feed(&s, 100, 0);
	EXPECT_EQ(padata__idle_budget(&s, kCap), kCap / PADATA_IDLE_FLOOR_DIV);
}

TEST(IdlePolicy, SpinsThatEndWithoutWorkDecayWithinThreeWaits)
{
	struct padata__idle s = hot();
	int64_t spent = 0;
	int spins = 0;
	for (int i = 0; i < 100; i++) {
		int64_t b = padata__idle_budget(&s, kCap);
		if (b > 0)
			spins++;
		spent += b;
		padata__idle_note(&s, 1000 * 1000 * kUs, kCap); /* a 1 s silence */
	}
	EXPECT_LE(spins, 3);
	EXPECT_LE(spent, 3 * kCap / 5) << "wasted spinning after the work stopped";
	/* Work in bursts again: spinning comes back within 4 waits. */
	EXPECT_GE(feed(&s, 8, 2 * kUs), 4);
}

TEST(IdlePolicy, TheBudgetStaysWithinTheCapAndACapOfZeroNeverSpins)
{
	const int64_t caps[] = { 0, 1 * kUs, 50 * kUs, kCap, 1000 * kCap };
	for (int64_t cap : caps) {
		struct padata__idle s;
		padata__idle_init(&s, cap);
		uint64_t x = 88172645463325252ull;
		for (int i = 0; i < 20000; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* gaps from 0 to ~4 s, log-spread */
			int64_t gap = (int64_t)((x >> 20) % (1ull << (x % 32)));
			int64_t b = padata__idle_budget(&s, cap);
			ASSERT_GE(b, 0);
			ASSERT_LE(b, cap) << "cap " << cap;
			if (cap == 0) {
				ASSERT_EQ(b, 0);
			}
			padata__idle_note(&s, gap, cap);
		}
	}
}
