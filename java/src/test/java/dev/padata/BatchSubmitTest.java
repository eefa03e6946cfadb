/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batch submission: {@link Padata#doParallel(PadataJob[], int, int, int, Duration)} (runs of
 * jobs handed to {@code padata_do_parallel_many} {@value Padata#MANY_CHUNK} at a time) and
 * {@link OrderedPipeline#submitAll}, which sends its ring jobs through it. Waits and
 * interruptions are staged with gates (latches) that hold parallel() or serial(), never with
 * sleeps: what each call may return is fixed by the gate, not by timing.
 */
class BatchSubmitTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    private final String savedBatchMode = Padata.batchMode;

    @AfterEach
    void restore() {
        Padata.batchMode = savedBatchMode;
        Thread.interrupted(); // never leak an interrupt into the next test
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Uneven work so that jobs of one run finish parallel() out of order. */
    private static void spin(int id) {
        int n = Math.floorMod(id * 7919, 97);
        for (int k = 0; k < n; k++)
            Thread.onSpinWait();
    }

    /** A job whose serial() appends {@code id} to {@code out}. */
    private static PadataJob recording(List<Integer> out, int id) {
        return PadataJob.of(() -> spin(id), () -> out.add(id));
    }

    private static PadataJob[] recording(List<Integer> out, int fromId, int toId) {
        PadataJob[] jobs = new PadataJob[toId - fromId];
        for (int i = 0; i < jobs.length; i++)
            jobs[i] = recording(out, fromId + i);
        return jobs;
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    private static void assertMessageHas(Throwable e, String... parts) {
        for (String p : parts)
            assertTrue(e.getMessage() != null && e.getMessage().contains(p),
                    "message \"" + e.getMessage() + "\" lacks \"" + p + "\"");
    }

    private static void assertIdle(PadataJob[] jobs, int from, int to, String what) {
        for (int i = from; i < to; i++)
            assertFalse(jobs[i].isInFlight(), what + ": jobs[" + i + "] is not the caller's again");
    }

    private static void assertInFlight(PadataJob[] jobs, int from, int to) {
        for (int i = from; i < to; i++)
            assertTrue(jobs[i].isInFlight(), "jobs[" + i + "] should be in flight");
    }

    /** Waits until {@code t} is parked in a timed wait (the waiting submitters' park) and {@code also} holds. */
    private static void awaitParked(Thread t, BooleanSupplier also) {
        TestSupport.await(t.getName() + " parked", 30_000,
                () -> t.getState() == Thread.State.TIMED_WAITING && also.getAsBoolean());
    }

    private static void awaitGate(CountDownLatch gate) {
        try {
            // Bounded: a test that fails before it opens the gate must not hang the run.
            gate.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A started instance of in-flight limit {@code limit} whose jobs ({@link #job}) wait in
     * parallel() until {@link #gate} opens, then record their id in serial(): while the gate is
     * closed nothing completes, so exactly {@code limit} jobs fit.
     */
    private static final class Gated implements AutoCloseable {
        final Workqueue wq;
        final Padata p;
        final CountDownLatch gate = new CountDownLatch(1);
        final List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        final int cb;

        Gated(String name, int limit) {
            wq = Workqueue.create(name);
            p = Padata.allocPossible(wq);
            p.setMaxInflight(limit); // only while stopped
            p.start();
            cb = p.cpumask(CpuMaskType.SERIAL).first();
        }

        PadataJob job(int id) {
            return PadataJob.of(() -> awaitGate(gate), () -> order.add(id));
        }

        PadataJob[] jobs(int fromId, int toId) {
            PadataJob[] jobs = new PadataJob[toId - fromId];
            for (int i = 0; i < jobs.length; i++)
                jobs[i] = job(fromId + i);
            return jobs;
        }

        long accepted() {
            return p.stats().accepted();
        }

        @Override
        public void close() {
            gate.countDown();
            p.close();
            wq.close();
        }
    }

    // ---- Padata.doParallel(jobs, from, to, cbCpu, maxWait): order ---------------------------

    /**
     * Runs of 1, 63, 64, 65, 200 and 1000 jobs (below, at and above a hand-over of 64, and more
     * than the default limit of 1000 in flight with the earlier runs), each the middle of a
     * larger array and each after a single waiting doParallel: every serial() in exact
     * submission order, the answer {@code to - from}, and the jobs outside the ranges untouched
     * (never run, the caller's: submitted at the end, they run then, once). In every batch mode.
     */
    @Test
    void runsOfEveryLengthMixedWithSingleJobsSerializeInSubmissionOrder() throws Exception {
        for (String mode : new String[] {"serial", "both", "none"}) {
            Padata.batchMode = mode;
            try (Workqueue wq = Workqueue.create("batchorder"); Padata p = Padata.allocPossible(wq)) {
                p.start();
                int cb = p.cpumask(CpuMaskType.SERIAL).first();
                List<Integer> order = Collections.synchronizedList(new ArrayList<>());
                List<Integer> expected = new ArrayList<>();
                List<PadataJob> outside = new ArrayList<>();
                List<Integer> outsideIds = new ArrayList<>();
                int next = 0;
                for (int len : new int[] {1, 63, 64, 65, 200, 1000}) {
                    int single = next++;
                    assertTrue(p.doParallel(recording(order, single), cb, LONG));
                    expected.add(single);
                    int before = 2 + len % 3, after = 3, base = next; // jobs[i] has id base + i
                    PadataJob[] jobs = recording(order, base, base + before + len + after);
                    next += jobs.length;
                    int from = before, to = before + len;
                    assertEquals(len, p.doParallel(jobs, from, to, cb, LONG), mode + ": run of " + len);
                    for (int i = from; i < to; i++)
                        expected.add(base + i);
                    assertIdle(jobs, 0, from, "before the range");
                    assertIdle(jobs, to, jobs.length, "after the range");
                    for (int i = 0; i < jobs.length; i++)
                        if (i < from || i >= to) {
                            outside.add(jobs[i]);
                            outsideIds.add(base + i);
                        }
                }
                // An empty range queues nothing, also at either end of the array.
                PadataJob[] one = {recording(order, -2)};
                assertEquals(0, p.doParallel(one, 0, 0, cb, LONG));
                assertEquals(0, p.doParallel(one, 1, 1, cb, LONG));
                assertFalse(one[0].isInFlight());
                // The jobs outside the ranges were never queued: they go now, in one run.
                PadataJob[] rest = outside.toArray(new PadataJob[0]);
                assertEquals(rest.length, p.doParallel(rest, 0, rest.length, cb, LONG));
                expected.addAll(outsideIds);
                p.stop(); // waits for every serial()
                assertEquals(expected, order, mode + ": serial() order");
                PadataStats st = p.stats();
                assertEquals(expected.size(), st.accepted(), mode);
                assertEquals(expected.size(), st.completed(), mode);
            }
        }
    }

    // ---- waiting for room ---------------------------------------------------------------------

    /**
     * Limit 4, parallel() held by a gate: a call for 20 jobs with a 50 ms wait queues exactly
     * the 4 that fit and gives back jobs [4, 20), which go in afterwards; all 20 serialize in
     * order once the gate opens. A zero wait on the full instance answers 0 at once.
     */
    @Test
    void aShortWaitQueuesWhatFitsAndTheRestStaysTheCallers() throws Exception {
        try (Gated g = new Gated("batchshort", 4)) {
            PadataJob[] jobs = g.jobs(0, 20);
            long t0 = System.nanoTime();
            assertEquals(4, g.p.doParallel(jobs, 0, 20, g.cb, Duration.ofMillis(50)));
            assertTrue(System.nanoTime() - t0 >= 50_000_000L, "returned before maxWait");
            assertInFlight(jobs, 0, 4);
            assertIdle(jobs, 4, 20, "after maxWait passed");
            assertEquals(4, g.accepted());
            assertEquals(0, g.p.doParallel(jobs, 4, 20, g.cb, Duration.ZERO), "a zero wait on a full instance");
            assertEquals(0, g.p.doParallel(jobs, 4, 20, g.cb, Duration.ofNanos(-1)));
            assertIdle(jobs, 4, 20, "after a zero wait");
            assertEquals(4, g.accepted());
            assertEquals(List.of(), g.order);
            g.gate.countDown();
            assertEquals(16, g.p.doParallel(jobs, 4, 20, g.cb, LONG));
            g.p.stop();
            assertEquals(range(0, 20), g.order);
            assertEquals(20, g.accepted());
        }
    }

    /**
     * Limit 4, parallel() held by a gate: a call for 20 jobs with a long wait queues 4 and
     * parks; the gate opened from another thread, it returns 20, every job serialized in order.
     */
    @Test
    void aLongWaitQueuesEveryJobOnceTheGateOpensFromAnotherThread() throws Exception {
        try (Gated g = new Gated("batchlong", 4)) {
            PadataJob[] jobs = g.jobs(0, 20);
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = TestSupport.startAnswering(answer, "batch-submitter",
                    () -> g.p.doParallel(jobs, 0, 20, g.cb, LONG));
            awaitParked(t, () -> g.accepted() == 4);
            assertEquals(List.of(), g.order, "nothing completes while the gate is closed");
            assertEquals(4, g.accepted(), "no more than the limit");
            g.gate.countDown();
            t.join(30_000);
            assertFalse(t.isAlive());
            assertEquals(20, answer.get());
            g.p.stop();
            assertEquals(range(0, 20), g.order);
        }
    }

    // ---- errors -------------------------------------------------------------------------------

    /**
     * Each bad call throws, queues nothing and leaves every job of the array the caller's: jobs
     * null, a null element (named by index), maxWait null, a bad range, a job in flight or named
     * twice, a cbCpu outside the serial mask. Afterwards the same jobs go in and each runs once.
     */
    @Test
    void badCallsQueueNothingAndLeaveEveryJobResubmittable() throws Exception {
        try (Workqueue wq = Workqueue.create("batcherr"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            CpuMask serial = p.cpumask(CpuMaskType.SERIAL);
            int cb = serial.first();
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            PadataJob[] jobs = recording(order, 0, 8);
            BlockingQueue<PadataJob> held = new ArrayBlockingQueue<>(1);
            PadataJob inFlight = PadataJob.async(held::add, () -> order.add(-1));
            p.doParallel(inFlight, cb);
            PadataJob heldJob = held.poll(30, TimeUnit.SECONDS);
            assertNotNull(heldJob, "the held job's parallel() did not run");
            long accepted = p.stats().accepted();
            assertEquals(1, accepted);
            Runnable nothingQueued = () -> {
                assertIdle(jobs, 0, jobs.length, "after a refused call");
                assertTrue(inFlight.isInFlight(), "the job in flight was left alone");
                assertEquals(accepted, p.stats().accepted(), "a refused call queued a job");
                assertEquals(List.of(), order);
            };

            PadataJob[] nullOutside = {null, jobs[0], jobs[1], null};
            try {
                assertThrows(NullPointerException.class, () -> p.doParallel((PadataJob[]) null, 0, 0, cb, LONG));
                for (int at : new int[] {0, 5, 7}) {
                    PadataJob[] withNull = jobs.clone();
                    withNull[at] = null;
                    var e = assertThrows(NullPointerException.class, () -> p.doParallel(withNull, 0, 8, cb, LONG));
                    assertMessageHas(e, "jobs[" + at + "]");
                    nothingQueued.run();
                }
                var npe = assertThrows(NullPointerException.class, () -> p.doParallel(jobs, 0, 8, cb, null));
                assertMessageHas(npe, "maxWait");
                nothingQueued.run();
                for (int[] r : new int[][] {{-1, 3}, {0, 9}, {5, 4}, {9, 9}, {Integer.MIN_VALUE, 0}, {0, Integer.MAX_VALUE}}) {
                    assertThrows(IndexOutOfBoundsException.class, () -> p.doParallel(jobs, r[0], r[1], cb, LONG),
                            "range [" + r[0] + ", " + r[1] + ")");
                    nothingQueued.run();
                }

                PadataJob[] withInFlight = new PadataJob[9];
                System.arraycopy(jobs, 0, withInFlight, 0, 3);
                withInFlight[3] = inFlight;
                System.arraycopy(jobs, 3, withInFlight, 4, 5);
                var ise = assertThrows(IllegalStateException.class, () -> p.doParallel(withInFlight, 0, 9, cb, LONG));
                assertMessageHas(ise, "jobs[3]", "in flight");
                nothingQueued.run();
                ise = assertThrows(IllegalStateException.class, () -> p.doParallel(withInFlight, 3, 4, cb, LONG));
                assertMessageHas(ise, "jobs[3]");
                nothingQueued.run();

                PadataJob[] twice = {jobs[0], jobs[1], jobs[2], jobs[1], jobs[4]};
                ise = assertThrows(IllegalStateException.class, () -> p.doParallel(twice, 0, 5, cb, LONG));
                assertMessageHas(ise, "jobs[3]");
                nothingQueued.run();
                PadataJob[] twiceAtEnd = {jobs[5], jobs[6], jobs[5]};
                ise = assertThrows(IllegalStateException.class, () -> p.doParallel(twiceAtEnd, 0, 3, cb, LONG));
                assertMessageHas(ise, "jobs[2]");
                nothingQueued.run();

                for (int bad : new int[] {-1, Cpus.count(), 1023, 1024, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
                    var iae = assertThrows(IllegalArgumentException.class, () -> p.doParallel(jobs, 0, 8, bad, LONG));
                    assertMessageHas(iae, "cb_cpu " + bad);
                    nothingQueued.run();
                    // A run longer than one hand-over is refused as a whole, too.
                    PadataJob[] many = recording(order, 100, 100 + Padata.MANY_CHUNK + 1);
                    assertThrows(IllegalArgumentException.class, () -> p.doParallel(many, 0, many.length, bad, LONG));
                    assertIdle(many, 0, many.length, "cb_cpu " + bad);
                    nothingQueued.run();
                }
            } finally {
                heldJob.doSerial(); // else close() would wait for it forever when an assertion failed
            }

            // The nulls outside the range are not looked at.
            assertEquals(2, p.doParallel(nullOutside, 1, 3, cb, LONG));
            assertEquals(6, p.doParallel(jobs, 2, 8, cb, LONG));
            TestSupport.await("9 serial()s", 30_000, () -> order.size() == 9);
            assertEquals(List.of(-1, 0, 1, 2, 3, 4, 5, 6, 7), order);

            // A CPU that exists but left the serial mask.
            if (serial.weight() >= 2) {
                int other = serial.toArray()[1];
                p.setCpumask(CpuMaskType.SERIAL, CpuMask.of(cb));
                PadataJob[] again = recording(order, 10, 13);
                var iae = assertThrows(IllegalArgumentException.class, () -> p.doParallel(again, 0, 3, other, LONG));
                assertMessageHas(iae, "cb_cpu " + other);
                assertIdle(again, 0, 3, "cb_cpu " + other + " outside the serial mask");
                assertEquals(9, p.stats().accepted());
                assertEquals(3, p.doParallel(again, 0, 3, cb, LONG));
            }
            p.stop();
            List<Integer> want = new ArrayList<>(List.of(-1, 0, 1, 2, 3, 4, 5, 6, 7));
            if (serial.weight() >= 2)
                want.addAll(List.of(10, 11, 12));
            assertEquals(want, order, "every job ran exactly once");
        }
    }

    /** Not started, stopped, closed (after a batch, and before any): IllegalStateException, nothing queued. */
    @Test
    void anInstanceNotStartedStoppedOrClosedIsAnIllegalStateAndQueuesNothing() throws Exception {
        try (Workqueue wq = Workqueue.create("batchlife")) {
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            PadataJob[] jobs = recording(order, 0, 70); // more than one hand-over
            Padata p = Padata.allocPossible(wq);
            try {
                int cb = p.cpumask(CpuMaskType.SERIAL).first();
                var e = assertThrows(IllegalStateException.class, () -> p.doParallel(jobs, 0, 70, cb, LONG));
                assertMessageHas(e, "not started");
                assertIdle(jobs, 0, 70, "not started");
                p.start();
                assertEquals(70, p.doParallel(jobs, 0, 70, cb, LONG));
                p.stop();
                assertEquals(range(0, 70), order);
                e = assertThrows(IllegalStateException.class, () -> p.doParallel(jobs, 0, 70, cb, LONG));
                assertMessageHas(e, "not started");
                assertIdle(jobs, 0, 70, "stopped");
                assertEquals(70, p.stats().accepted());
                p.close();
                e = assertThrows(IllegalStateException.class, () -> p.doParallel(jobs, 0, 70, cb, LONG));
                assertMessageHas(e, "closed");
                assertIdle(jobs, 0, 70, "closed");
            } finally {
                p.close();
            }
            // Closed before its first batch call.
            Padata q = Padata.allocPossible(wq);
            int cb;
            try {
                q.start();
                cb = q.cpumask(CpuMaskType.SERIAL).first();
            } finally {
                q.close();
            }
            var e = assertThrows(IllegalStateException.class, () -> q.doParallel(jobs, 0, 70, cb, LONG));
            assertMessageHas(e, "closed");
            assertIdle(jobs, 0, 70, "closed before any batch");
            assertEquals(range(0, 70), order, "nothing ran twice");
        }
    }

    /**
     * Interrupted while waiting before any job was queued (the interrupt pending, or arriving
     * while parked): InterruptedException, the interrupt status cleared, nothing queued.
     */
    @Test
    void anInterruptBeforeAnyWasQueuedIsAnInterruptedException() throws Exception {
        try (Gated g = new Gated("batchintr0", 4)) {
            assertEquals(4, g.p.doParallel(g.jobs(0, 4), 0, 4, g.cb, LONG)); // full now
            PadataJob[] more = g.jobs(4, 10);
            Thread.currentThread().interrupt();
            var e = assertThrows(InterruptedException.class, () -> g.p.doParallel(more, 0, 6, g.cb, LONG));
            assertFalse(Thread.interrupted(), "the interrupt status is cleared: " + e);
            assertIdle(more, 0, 6, "interrupted (pending)");
            assertEquals(4, g.accepted());

            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = TestSupport.startAnswering(answer, "batch-interrupted", () -> {
                try {
                    return g.p.doParallel(more, 0, 6, g.cb, LONG);
                } catch (InterruptedException ie) {
                    return Thread.currentThread().isInterrupted() ? new AssertionError("interrupt left set", ie) : ie;
                }
            });
            awaitParked(t, () -> true);
            t.interrupt();
            t.join(30_000);
            assertFalse(t.isAlive());
            assertInstanceOf(InterruptedException.class, answer.get());
            assertIdle(more, 0, 6, "interrupted while parked");
            assertEquals(4, g.accepted());

            g.gate.countDown();
            assertEquals(6, g.p.doParallel(more, 0, 6, g.cb, LONG));
            g.p.stop();
            assertEquals(range(0, 10), g.order);
        }
    }

    /**
     * Interrupted while waiting after some jobs were queued: returns how many (the room, 4)
     * with the interrupt status set again, the rest the caller's. Pending before the call (the
     * first hand-over does not wait, so it goes in), and arriving while parked.
     */
    @Test
    void anInterruptAfterSomeWereQueuedReturnsTheCountWithTheInterruptSet() throws Exception {
        try (Gated g = new Gated("batchintr1", 4)) {
            PadataJob[] jobs = g.jobs(0, 10);
            Thread.currentThread().interrupt();
            int k;
            boolean stillInterrupted;
            try {
                k = g.p.doParallel(jobs, 0, 10, g.cb, LONG);
            } finally {
                stillInterrupted = Thread.interrupted();
            }
            assertEquals(4, k);
            assertTrue(stillInterrupted, "the interrupt status is set again");
            assertInFlight(jobs, 0, 4);
            assertIdle(jobs, 4, 10, "interrupted after 4");
            g.gate.countDown();
            assertEquals(6, g.p.doParallel(jobs, 4, 10, g.cb, LONG));
            g.p.stop();
            assertEquals(range(0, 10), g.order);
        }
        try (Gated g = new Gated("batchintr2", 4)) {
            PadataJob[] jobs = g.jobs(0, 10);
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = TestSupport.startAnswering(answer, "batch-interrupted", () -> {
                int n = g.p.doParallel(jobs, 0, 10, g.cb, LONG);
                return List.of(n, Thread.currentThread().isInterrupted());
            });
            awaitParked(t, () -> g.accepted() == 4);
            t.interrupt();
            t.join(30_000);
            assertFalse(t.isAlive());
            assertEquals(List.of(4, true), answer.get());
            assertIdle(jobs, 4, 10, "interrupted while parked after 4");
            assertEquals(List.of(), g.order);
            g.gate.countDown();
            assertEquals(6, g.p.doParallel(jobs, 4, 10, g.cb, LONG));
            g.p.stop();
            assertEquals(range(0, 10), g.order);
        }
    }

    /**
     * stop() while callers wait on a full instance (serial() of the first job held, so nothing
     * can be admitted): the caller that queued 4 returns 4, the caller that queued none gets
     * IllegalStateException; their other jobs are theirs again and go in after a restart.
     */
    @Test
    void stopWhileWaitingEndsTheCallWithTheCountOrAnIllegalState() throws Exception {
        try (Workqueue wq = Workqueue.create("batchstop"); Padata p = Padata.allocPossible(wq)) {
            p.setMaxInflight(4);
            p.start();
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            CountDownLatch gate = new CountDownLatch(1);
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            PadataJob[] jobs = recording(order, 0, 10);
            jobs[0] = PadataJob.of(() -> { }, () -> {
                awaitGate(gate);
                order.add(0);
            });
            PadataJob[] others = recording(order, 10, 13);
            Thread stopper = null;
            try {
                AtomicReference<Object> first = new AtomicReference<>();
                Thread s1 = TestSupport.startAnswering(first, "batch-s1", () -> p.doParallel(jobs, 0, 10, cb, LONG));
                awaitParked(s1, () -> p.stats().accepted() == 4);
                AtomicReference<Object> second = new AtomicReference<>();
                Thread s2 = TestSupport.startAnswering(second, "batch-s2", () -> p.doParallel(others, 0, 3, cb, LONG));
                awaitParked(s2, () -> true);
                stopper = Thread.ofPlatform().name("batch-stopper").start(p::stop); // waits for job 0's serial()
                TestSupport.await("both submitters to answer", 30_000, () -> !s1.isAlive() && !s2.isAlive());
                assertEquals(4, first.get());
                IllegalStateException e = assertInstanceOf(IllegalStateException.class, second.get());
                assertMessageHas(e, "not started");
                assertIdle(jobs, 4, 10, "stopped after 4");
                assertIdle(others, 0, 3, "stopped before any");
                assertEquals(4, p.stats().accepted());
            } finally {
                gate.countDown();
                if (stopper != null)
                    stopper.join(30_000);
            }
            assertFalse(stopper.isAlive());
            assertEquals(range(0, 4), order);
            p.start();
            assertEquals(6, p.doParallel(jobs, 4, 10, cb, LONG));
            assertEquals(3, p.doParallel(others, 0, 3, cb, LONG));
            p.stop();
            assertEquals(range(0, 13), order);
        }
    }

    // ---- concurrency --------------------------------------------------------------------------

    /**
     * Four threads submit runs (of 1 to 1000 jobs, and single jobs) at once into an instance of
     * limit 100, so that they wait, split runs and take turns: each thread's jobs serialize in
     * its own order and every job exactly once.
     */
    @Test
    void concurrentSubmittersEachKeepTheirOwnOrder() throws Exception {
        int threads = 4;
        try (Workqueue wq = Workqueue.create("batchconc"); Padata p = Padata.allocPossible(wq)) {
            p.setMaxInflight(100);
            p.start();
            int[] cbs = p.cpumask(CpuMaskType.SERIAL).toArray();
            int[] lengths = {1, 63, 64, 65, 200, 1000, 7};
            int cycles = Math.max(1, TestSupport.scaled(3));
            int perThread = cycles * (IntStream.of(lengths).sum() + lengths.length); // a single job before each run
            List<List<Integer>> orders = new ArrayList<>();
            for (int t = 0; t < threads; t++)
                orders.add(Collections.synchronizedList(new ArrayList<>(perThread)));
            AtomicLong served = new AtomicLong();
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> submitters = new ArrayList<>();
            List<AtomicReference<Object>> answers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Integer> mine = orders.get(t);
                int cb = cbs[t % cbs.length];
                AtomicReference<Object> answer = new AtomicReference<>();
                answers.add(answer);
                submitters.add(TestSupport.startAnswering(answer, "batch-conc-" + t, () -> {
                    go.await();
                    int id = 0;
                    for (int c = 0; c < cycles; c++)
                        for (int len : lengths) {
                            int single = id++;
                            if (!p.doParallel(PadataJob.of(() -> spin(single), () -> {
                                mine.add(single);
                                served.incrementAndGet();
                            }), cb, LONG))
                                throw new AssertionError("single job not queued");
                            PadataJob[] run = new PadataJob[len];
                            for (int i = 0; i < len; i++) {
                                int jid = id++;
                                run[i] = PadataJob.of(() -> spin(jid), () -> {
                                    mine.add(jid);
                                    served.incrementAndGet();
                                });
                            }
                            int q = p.doParallel(run, 0, len, cb, LONG);
                            if (q != len)
                                throw new AssertionError("run of " + len + " queued " + q);
                        }
                    return id;
                }));
            }
            go.countDown();
            for (Thread t : submitters)
                t.join(60_000);
            for (int t = 0; t < threads; t++) {
                assertFalse(submitters.get(t).isAlive(), "submitter " + t + " still running");
                assertEquals(perThread, answers.get(t).get(), "submitter " + t);
            }
            p.stop();
            assertEquals((long) threads * perThread, served.get(), "every job exactly once");
            for (int t = 0; t < threads; t++)
                assertEquals(range(0, perThread), orders.get(t), "order of submitter " + t);
            assertEquals((long) threads * perThread, p.stats().completed());
        }
    }

    /**
     * The jobs of one hand-over take consecutive places in the instance's order: four threads
     * each send runs of exactly {@value Padata#MANY_CHUNK} jobs (one hand-over each, with room to
     * spare: each thread waits for its run before the next), and the serial() stream on the one
     * callback CPU is those runs back to back, never interleaved.
     */
    @Test
    void eachHandOverTakesConsecutivePlacesAmongConcurrentSubmitters() throws Exception {
        int threads = 4, chunk = Padata.MANY_CHUNK;
        int runs = Math.max(1, TestSupport.scaled(40));
        try (Workqueue wq = Workqueue.create("batchrun"); Padata p = Padata.allocPossible(wq)) {
            p.start(); // limit 1000: 4 runs of 64 in flight, plus the serial batch's headroom, always fit
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            List<Integer> stream = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> submitters = new ArrayList<>();
            List<AtomicReference<Object>> answers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                AtomicReference<Object> answer = new AtomicReference<>();
                answers.add(answer);
                submitters.add(TestSupport.startAnswering(answer, "batch-run-" + t, () -> {
                    go.await();
                    for (int r = 0; r < runs; r++) {
                        CountDownLatch done = new CountDownLatch(chunk);
                        PadataJob[] run = new PadataJob[chunk];
                        for (int i = 0; i < chunk; i++) {
                            int tag = (thread * runs + r) * chunk + i;
                            run[i] = PadataJob.of(() -> spin(tag), () -> {
                                stream.add(tag);
                                done.countDown();
                            });
                        }
                        int q = p.doParallel(run, 0, chunk, cb, LONG);
                        if (q != chunk)
                            throw new AssertionError("run queued " + q);
                        if (!done.await(30, TimeUnit.SECONDS))
                            throw new AssertionError("run " + r + " of thread " + thread + " not served");
                    }
                    return runs;
                }));
            }
            go.countDown();
            for (Thread t : submitters)
                t.join(60_000);
            for (int t = 0; t < threads; t++) {
                assertFalse(submitters.get(t).isAlive());
                assertEquals(runs, answers.get(t).get(), "submitter " + t);
            }
            p.stop();
            List<Integer> s = new ArrayList<>(stream);
            assertEquals(threads * runs * chunk, s.size());
            Set<Integer> seenRuns = new java.util.HashSet<>();
            for (int k = 0; k < s.size(); k += chunk) {
                int first = s.get(k);
                assertEquals(0, first % chunk, "position " + k + " starts a hand-over mid-run: " + first);
                for (int i = 0; i < chunk; i++)
                    assertEquals(first + i, s.get(k + i), "hand-over at position " + k + " interleaved with another");
                assertTrue(seenRuns.add(first / chunk), "run " + first / chunk + " twice");
            }
        }
    }

    // ---- failures inside a batch ---------------------------------------------------------------

    /**
     * parallel() throwing (an exception or an Error) and serial() throwing inside runs: each
     * failure reaches the failure handler with its own job, in order (a parallel failure right
     * before that job's serial(), a serial failure right after), and every job still
     * serializes in order. In every batch mode.
     */
    @Test
    void callbackFailuresInsideARunAreRoutedAsForSingleJobsInOrder() throws Exception {
        for (String mode : new String[] {"serial", "both", "none"}) {
            Padata.batchMode = mode;
            try (Workqueue wq = Workqueue.create("batchfail"); Padata p = Padata.allocPossible(wq)) {
                int n = TestSupport.scaled(3_000);
                PadataJob[] jobs = new PadataJob[n];
                List<String> events = Collections.synchronizedList(new ArrayList<>());
                for (int i = 0; i < n; i++) {
                    int id = i;
                    jobs[i] = PadataJob.of(() -> {
                        spin(id);
                        if (id % 3 == 0)
                            throw new IllegalArgumentException("p" + id);
                        if (id % 11 == 0)
                            throw new StackOverflowError("p" + id); // an Error is routed too
                    }, () -> {
                        events.add("serial:" + id);
                        if (id % 5 == 2)
                            throw new UnsupportedOperationException("s" + id);
                    });
                }
                Map<PadataJob, Integer> ids = new IdentityHashMap<>();
                for (int i = 0; i < n; i++)
                    ids.put(jobs[i], i);
                p.setFailureHandler((job, stage, failure) -> events.add(stage + ":" + ids.get(job) + ":" + failure.getMessage()));
                p.start();
                int cb = p.cpumask(CpuMaskType.SERIAL).first();
                int[] lengths = {1, 64, 65, 200, 7, 130};
                int from = 0;
                for (int r = 0; from < n; r++) {
                    int to = Math.min(n, from + lengths[r % lengths.length]);
                    assertEquals(to - from, p.doParallel(jobs, from, to, cb, LONG), mode);
                    from = to;
                }
                p.stop();
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (i % 3 == 0 || i % 11 == 0)
                        expected.add("PARALLEL:" + i + ":p" + i);
                    expected.add("serial:" + i);
                    if (i % 5 == 2)
                        expected.add("SERIAL:" + i + ":s" + i);
                }
                assertEquals(expected, events, mode);
            }
        }
    }

    // ---- OrderedPipeline.submitAll ------------------------------------------------------------

    private static OrderedPipeline.Builder<Integer, Integer> identity(List<Integer> out) {
        return OrderedPipeline.<Integer, Integer>builder(x -> {
            spin(x);
            return x;
        }).consumer(out::add);
    }

    /**
     * Lists of 0, 1, capacity - 1, capacity and 3 capacity + 5 values, one after the other, with
     * capacity 8 and the default: each submitAll answers the list's size and the results arrive
     * in list order. Array lists and linked lists alike.
     */
    @Test
    void submitAllDeliversInListOrderForEveryListSize() throws Exception {
        for (int cap : new int[] {8, 0}) {
            List<Integer> out = Collections.synchronizedList(new ArrayList<>());
            OrderedPipeline.Builder<Integer, Integer> b = identity(out).name("all" + cap);
            if (cap > 0)
                b.capacity(cap);
            try (OrderedPipeline<Integer, Integer> pipeline = b.build()) {
                int c = pipeline.capacity();
                assertEquals(cap > 0 ? cap : Padata.DEFAULT_MAX_INFLIGHT, c);
                List<Integer> expected = new ArrayList<>();
                int next = 0, k = 0;
                for (int size : new int[] {0, 1, c - 1, c, 3 * c + 5}) {
                    List<Integer> in = range(next, next + size);
                    if (k++ % 2 == 1)
                        in = new LinkedList<>(in);
                    next += size;
                    assertEquals(size, pipeline.submitAll(in), "capacity " + c + ", list of " + size);
                    expected.addAll(in);
                }
                pipeline.awaitIdle();
                assertEquals(expected, out, "capacity " + c);
                assertEquals(expected.size(), pipeline.completed());
            }
        }
    }

    /** submit(), submit(timeout), submitAsync() and submitAll() in turns, across ring wraps: call order. */
    @Test
    void submitAllInterleavesWithSubmitInCallOrder() throws Exception {
        List<Integer> out = Collections.synchronizedList(new ArrayList<>());
        List<Integer> expected = new ArrayList<>();
        List<java.util.concurrent.CompletableFuture<Integer>> futures = new ArrayList<>();
        try (OrderedPipeline<Integer, Integer> pipeline = identity(out).capacity(8).name("mixed").build()) {
            int next = 0;
            for (int round = 0; round < 20; round++) {
                pipeline.submit(next);
                expected.add(next++);
                int size = (round * 5) % 19;
                List<Integer> in = range(next, next + size);
                next += size;
                assertEquals(size, pipeline.submitAll(in));
                expected.addAll(in);
                assertTrue(pipeline.submit(next, LONG));
                expected.add(next++);
                futures.add(pipeline.submitAsync(-next)); // not seen by the consumer
                assertEquals(1, pipeline.submitAll(List.of(next)));
                expected.add(next++);
            }
            pipeline.awaitIdle();
            assertEquals(expected, out);
        }
        for (var f : futures)
            assertTrue(f.isDone() && f.join() < 0);
    }

    /** Two threads at once, one with submitAll(), one with submit(): each thread's values in its own order. */
    @Test
    void concurrentSubmitAllAndSubmitEachKeepTheirOwnOrder() throws Exception {
        int n = TestSupport.scaled(20_000);
        List<Integer> a = Collections.synchronizedList(new ArrayList<>());
        List<Integer> b = Collections.synchronizedList(new ArrayList<>());
        try (OrderedPipeline<Integer, Integer> pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
                    spin(x);
                    return x;
                })
                .consumer(x -> (x < 0 ? b : a).add(x))
                .capacity(64)
                .name("concall")
                .build()) {
            CountDownLatch go = new CountDownLatch(1);
            AtomicReference<Object> listAnswer = new AtomicReference<>();
            AtomicReference<Object> oneAnswer = new AtomicReference<>();
            Thread lists = TestSupport.startAnswering(listAnswer, "submitAll", () -> {
                go.await();
                int sent = 0, size = 1;
                while (sent < n) {
                    int m = Math.min(size, n - sent);
                    int q = pipeline.submitAll(range(sent, sent + m));
                    if (q != m)
                        throw new AssertionError("submitAll of " + m + " answered " + q);
                    sent += m;
                    size = size * 3 % 257 + 1;
                }
                return sent;
            });
            Thread ones = TestSupport.startAnswering(oneAnswer, "submit", () -> {
                go.await();
                for (int i = 1; i <= n; i++)
                    pipeline.submit(-i);
                return n;
            });
            go.countDown();
            lists.join(60_000);
            ones.join(60_000);
            assertEquals(n, listAnswer.get());
            assertEquals(n, oneAnswer.get());
            pipeline.awaitIdle();
        }
        assertEquals(range(0, n), a);
        List<Integer> wantB = new ArrayList<>();
        for (int i = 1; i <= n; i++)
            wantB.add(-i);
        assertEquals(wantB, b);
    }

    record Item(int key, int seq) {
    }

    /** A keyed pipeline's submitAll: every value once, each key's values in list order; mixed with submit(). */
    @Test
    void aKeyedPipelinesSubmitAllKeepsEachKeysOrder() throws Exception {
        int n = TestSupport.scaled(5_000), keys = 13;
        Map<Integer, List<Integer>> perKey = new HashMap<>();
        AtomicInteger delivered = new AtomicInteger();
        try (OrderedPipeline<Item, Item> pipeline = OrderedPipeline.<Item, Item>builder(it -> {
                    spin(it.seq());
                    return it;
                })
                .keyedBy(Item::key)
                .lanes(4)
                .consumer(it -> {
                    perKey.computeIfAbsent(it.key(), k -> new ArrayList<>()).add(it.seq()); // calls never overlap
                    delivered.incrementAndGet();
                })
                .name("keyedall")
                .build()) {
            List<Item> items = new ArrayList<>();
            for (int i = 0; i < n; i++)
                items.add(new Item(i % keys, i));
            assertEquals(n / 2, pipeline.submitAll(items.subList(0, n / 2)));
            for (int i = n / 2; i < n / 2 + 100; i++)
                pipeline.submit(new Item(i % keys, i));
            assertEquals(n - n / 2 - 100, pipeline.submitAll(items.subList(n / 2 + 100, n)));
            assertEquals(0, pipeline.submitAll(List.of()));
            pipeline.awaitIdle();
            assertEquals(n, pipeline.completed());
        }
        assertEquals(n, delivered.get());
        for (int k = 0; k < keys; k++) {
            List<Integer> want = new ArrayList<>();
            for (int i = k; i < n; i += keys)
                want.add(i);
            assertEquals(want, perKey.get(k), "key " + k);
        }
    }

    /** null: NullPointerException; closed: IllegalStateException; a stopped shared instance: IllegalStateException, and on after a restart. */
    @Test
    void submitAllRejectsNullAClosedPipelineAndAStoppedInstance() throws Exception {
        List<Integer> out = Collections.synchronizedList(new ArrayList<>());
        OrderedPipeline<Integer, Integer> pipeline = identity(out).capacity(8).name("allerr").build();
        try {
            assertThrows(NullPointerException.class, () -> pipeline.submitAll(null));
            assertEquals(3, pipeline.submitAll(List.of(1, 2, 3)));
            pipeline.awaitIdle();
        } finally {
            pipeline.close();
        }
        assertEquals(List.of(1, 2, 3), out);
        var e = assertThrows(IllegalStateException.class, () -> pipeline.submitAll(List.of(7, 8)));
        assertMessageHas(e, "closed");
        assertThrows(NullPointerException.class, () -> pipeline.submitAll(null));
        assertEquals(List.of(1, 2, 3), out);

        try (Workqueue wq = Workqueue.create("allstop"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            List<Integer> got = Collections.synchronizedList(new ArrayList<>());
            try (OrderedPipeline<Integer, Integer> shared = identity(got).padata(p).capacity(8).build()) {
                assertEquals(20, shared.submitAll(range(0, 20)));
                shared.awaitIdle();
                p.stop();
                var stopped = assertThrows(IllegalStateException.class, () -> shared.submitAll(range(100, 120)));
                assertMessageHas(stopped, "not started");
                assertTrue(shared.awaitIdle(LONG), "a refused submitAll leaves nothing outstanding");
                assertEquals(20, shared.completed());
                p.start();
                assertEquals(20, shared.submitAll(range(20, 40)));
                shared.awaitIdle();
                assertEquals(range(0, 40), got);
            }
        }
    }

    /** The function throwing for some values, the consumer for others: onError in list order, in place of the result. */
    @Test
    void failuresOfTheFunctionReachOnErrorInOrder() throws Exception {
        int n = TestSupport.scaled(2_000);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        try (OrderedPipeline<Integer, Integer> pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
                    spin(x);
                    if (x % 7 == 0)
                        throw new IllegalStateException("f" + x);
                    return x;
                })
                .consumer(x -> {
                    if (x % 5 == 0)
                        throw new IllegalStateException("c" + x);
                    events.add("ok" + x);
                })
                .onError((in, ex) -> events.add("err" + in + ":" + ex.getMessage()))
                .capacity(16)
                .name("allfail")
                .build()) {
            for (int from = 0, size = 1; from < n; size = size * 2 % 97 + 1) {
                int to = Math.min(n, from + size);
                assertEquals(to - from, pipeline.submitAll(range(from, to)));
                from = to;
            }
            pipeline.awaitIdle();
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < n; i++)
            expected.add(i % 7 == 0 ? "err" + i + ":f" + i : i % 5 == 0 ? "err" + i + ":c" + i : "ok" + i);
        assertEquals(expected, events);
    }

    /** A pipeline of capacity {@code capacity} whose function waits for {@link #gate}. */
    private static final class GatedPipeline implements AutoCloseable {
        final CountDownLatch gate = new CountDownLatch(1);
        final List<Integer> out = Collections.synchronizedList(new ArrayList<>());
        final OrderedPipeline<Integer, Integer> pipeline;

        GatedPipeline(String name, int capacity) {
            pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
                awaitGate(gate);
                return x;
            }).consumer(out::add).capacity(capacity).name(name).build();
        }

        @Override
        public void close() {
            gate.countDown();
            pipeline.close();
        }
    }

    /**
     * Interrupted while the pipeline is full and nothing of the list went in (pending, or while
     * parked): InterruptedException, status cleared, nothing delivered from that list; the
     * pipeline goes on.
     */
    @Test
    void anInterruptedSubmitAllThatSubmittedNothingThrows() throws Exception {
        try (GatedPipeline g = new GatedPipeline("allintr0", 2)) {
            g.pipeline.submit(0);
            g.pipeline.submit(1); // both jobs in use: full
            Thread.currentThread().interrupt();
            var e = assertThrows(InterruptedException.class, () -> g.pipeline.submitAll(List.of(100, 101)));
            assertFalse(Thread.interrupted(), "the interrupt status is cleared: " + e);

            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = TestSupport.startAnswering(answer, "submitAll-interrupted", () -> {
                try {
                    return g.pipeline.submitAll(List.of(102, 103, 104));
                } catch (InterruptedException ie) {
                    return Thread.currentThread().isInterrupted() ? new AssertionError("interrupt left set", ie) : ie;
                }
            });
            awaitParked(t, () -> true);
            t.interrupt();
            t.join(30_000);
            assertFalse(t.isAlive());
            assertInstanceOf(InterruptedException.class, answer.get());

            g.gate.countDown();
            g.pipeline.awaitIdle();
            assertEquals(List.of(0, 1), g.out);
            assertEquals(2, g.pipeline.completed());
            assertEquals(3, g.pipeline.submitAll(List.of(2, 3, 4)));
            g.pipeline.awaitIdle();
            assertEquals(List.of(0, 1, 2, 3, 4), g.out);
        }
    }

    /**
     * Interrupted while waiting after part of the list went in (capacity 4: the first 4 go, the
     * fifth waits for a job): returns 4 with the interrupt status set, and exactly that prefix is
     * delivered. Pending before the call, and arriving while parked.
     */
    @Test
    void anInterruptedSubmitAllReturnsThePrefixItSubmitted() throws Exception {
        try (GatedPipeline g = new GatedPipeline("allintr1", 4)) {
            Thread.currentThread().interrupt();
            int k;
            boolean stillInterrupted;
            try {
                k = g.pipeline.submitAll(range(0, 10));
            } finally {
                stillInterrupted = Thread.interrupted();
            }
            assertEquals(4, k);
            assertTrue(stillInterrupted, "the interrupt status is set again");
            g.gate.countDown();
            g.pipeline.awaitIdle();
            assertEquals(range(0, 4), g.out, "exactly the prefix submitted");
            assertEquals(6, g.pipeline.submitAll(range(4, 10)));
            g.pipeline.awaitIdle();
            assertEquals(range(0, 10), g.out);
        }
        try (GatedPipeline g = new GatedPipeline("allintr2", 4)) {
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = TestSupport.startAnswering(answer, "submitAll-interrupted", () -> {
                int n = g.pipeline.submitAll(range(0, 10));
                return List.of(n, Thread.currentThread().isInterrupted());
            });
            awaitParked(t, () -> g.pipeline.padata().stats().accepted() == 4);
            t.interrupt();
            t.join(30_000);
            assertFalse(t.isAlive());
            assertEquals(List.of(4, true), answer.get());
            g.gate.countDown();
            g.pipeline.awaitIdle();
            assertEquals(range(0, 4), g.out, "exactly the prefix submitted");
            assertEquals(4, g.pipeline.completed());
            assertEquals(6, g.pipeline.submitAll(range(4, 10)));
            g.pipeline.awaitIdle();
            assertEquals(range(0, 10), g.out);
        }
    }

    // ---- review follow-ups -------------------------------------------------------------------

    /** A list whose iterator fails at element {@code failAt} (its size says more). */
    private static List<Integer> failingAt(int size, int failAt) {
        return new java.util.AbstractList<>() {
            @Override
            public Integer get(int i) {
                if (i >= failAt)
                    throw new java.util.ConcurrentModificationException("element " + i + " is gone");
                return i;
            }

            @Override
            public int size() {
                return size;
            }
        };
    }

    /**
     * An iterator that fails mid-list (a list changed under the caller) leaves no ring job taken:
     * the values before it were submitted or given back, and the pipeline goes on (the first
     * version took the job before reading the value, and a later submit() to that slot waited
     * forever).
     */
    @Test
    void aFailingIteratorLeavesNoJobTakenAndThePipelineGoesOn() throws InterruptedException {
        List<Integer> out = Collections.synchronizedList(new ArrayList<>());
        try (OrderedPipeline<Integer, Integer> pipeline = OrderedPipeline.<Integer, Integer>builder(x -> x)
                .consumer(out::add)
                .capacity(8)
                .build()) {
            assertThrows(java.util.ConcurrentModificationException.class, () -> pipeline.submitAll(failingAt(40, 21)));
            pipeline.awaitIdle();
            int before = out.size();
            assertTrue(before <= 21, "delivered " + before + " of the 21 values before the failure");
            assertEquals(range(0, before), List.copyOf(out));
            // Every ring job is free again: capacity * 3 more values go through submit() in order.
            for (int i = 0; i < 24; i++)
                assertTrue(pipeline.submit(1000 + i, Duration.ofSeconds(30)), "submit " + i + " found no free job");
            pipeline.awaitIdle();
            assertEquals(range(1000, 1024), List.copyOf(out.subList(before, out.size())));
        }
    }

    /**
     * A pipeline closed while submitAll() is under way (here by its own list's iterator) stops
     * taking values at the next reservation and reports the prefix it submitted, as a loop of
     * submit() calls would stop at the next one; on a shared instance the first version went on
     * submitting the whole list.
     */
    @Test
    void submitAllStopsWhenThePipelineIsClosedMidway() throws InterruptedException {
        List<Integer> out = Collections.synchronizedList(new ArrayList<>());
        try (Workqueue wq = Workqueue.create("batchclose"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            AtomicReference<OrderedPipeline<Integer, Integer>> ref = new AtomicReference<>();
            OrderedPipeline<Integer, Integer> pipeline = OrderedPipeline.<Integer, Integer>builder(x -> x)
                    .consumer(out::add)
                    .padata(p)
                    .capacity(8)
                    .build();
            ref.set(pipeline);
            List<Integer> closing = new java.util.AbstractList<>() {
                @Override
                public Integer get(int i) {
                    if (i == 20)
                        ref.get().close();
                    return i;
                }

                @Override
                public int size() {
                    return 100;
                }
            };
            int n = pipeline.submitAll(closing);
            assertTrue(n >= 16 && n <= 24, "submitted " + n + " of 100 with the pipeline closed at element 20");
            TestSupport.await("the prefix delivered", 30_000, () -> out.size() >= n);
            assertEquals(range(0, n), List.copyOf(out));
            assertThrows(IllegalStateException.class, () -> pipeline.submitAll(range(0, 3)));
        }
    }

    /**
     * Batch submitters never take the instance's lock: a batch call from a callback must not wait
     * for a thread that holds the lock while it waits for that callback (setMaxInflight draining
     * a stopped instance, a notifier registration). The first version took it for the first call
     * and whenever two batch submitters met.
     */
    @Test
    void batchSubmissionTakesNoInstanceLock() throws Exception {
        try (Workqueue wq = Workqueue.create("batchlock"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            java.lang.reflect.Field f = Padata.class.getDeclaredField("lock");
            f.setAccessible(true);
            Object lock = f.get(p);
            List<Integer> a = Collections.synchronizedList(new ArrayList<>());
            List<Integer> b = Collections.synchronizedList(new ArrayList<>());
            AtomicReference<Throwable> failed = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(2);
            synchronized (lock) {
                for (List<Integer> out : List.of(a, b)) {
                    Thread t = new Thread(() -> {
                        try {
                            for (int r = 0; r < 50; r++) // two submitters at once: the spare array too
                                assertEquals(200, p.doParallel(recording(out, r * 200, r * 200 + 200), 0, 200, cb, LONG));
                        } catch (Throwable e) {
                            failed.set(e);
                        } finally {
                            done.countDown();
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                }
                assertTrue(done.await(60, TimeUnit.SECONDS), "batch submitters blocked on the instance lock");
            }
            if (failed.get() != null)
                throw new AssertionError(failed.get());
            TestSupport.await("all serialized", 30_000, () -> a.size() == 10_000 && b.size() == 10_000);
            assertEquals(range(0, 10_000), List.copyOf(a));
            assertEquals(range(0, 10_000), List.copyOf(b));
        }
    }
}
