/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The rare paths of issue 8 item 14: each one forced with a test hook, never left to chance. */
class FailurePathsTest {
    @AfterEach
    void clearHooks() {
        Dispatcher.testOnAttach = null;
        OrderedPipeline.testAfterAlloc = null;
        PadataJob.testBeforeClaim = null;
    }

    @Test
    void anOutOfMemoryErrorWhileAWorkerAttachesStillSerializesTheJobInOrder() throws Exception {
        AtomicBoolean thrown = new AtomicBoolean();
        Dispatcher.testOnAttach = () -> {
            if (thrown.compareAndSet(false, true))
                throw new OutOfMemoryError("injected while attaching");
        };
        int n = 3;
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch served = new CountDownLatch(n);
        PadataJob[] jobs = new PadataJob[n];
        try (Workqueue wq = Workqueue.create("oomattach"); Padata p = Padata.allocPossible(wq)) {
            p.setFailureHandler((job, stage, failure) -> events.add(stage + ": " + failure.getMessage()));
            p.start();
            for (int i = 0; i < n; i++) {
                int seq = i;
                jobs[i] = PadataJob.of(() -> { }, () -> {
                    events.add("serial " + seq);
                    served.countDown();
                });
                p.doParallel(jobs[i], 0);
            }
            boolean all = served.await(30, TimeUnit.SECONDS);
            if (!all) {
                for (PadataJob j : jobs)  // unstick close(): finish what the failed upcall left in flight
                    if (j.stateForTest() == PadataJob.IN_FLIGHT)
                        j.doSerial();
            }
            assertTrue(all, "the order stalled behind the job whose worker failed to attach: " + events);
        }
        assertTrue(thrown.get());
        List<String> serials = events.stream().filter(e -> e.startsWith("serial")).toList();
        assertEquals(List.of("serial 0", "serial 1", "serial 2"), serials);
        assertEquals(1, events.stream().filter(e -> e.endsWith("injected while attaching")).count(), events.toString());
    }

    @Test
    void setMaxInflightFreesTheReplacedPool() {
        try (Workqueue wq = Workqueue.create("pools"); Padata p = Padata.allocPossible(wq)) {
            JobPool first = p.poolForTest();
            p.setMaxInflight(5);
            JobPool second = p.poolForTest();
            assertNotSame(first, second);
            assertEquals(5, second.capacity);
            assertNotSame(first, Dispatcher.pool(first.owner), "the replaced pool is still registered");
            assertFalse(first.isOpen(), "the replaced pool's native nodes were not freed");
            for (int r = 0; r < 50; r++)
                p.setMaxInflight(10 + r % 3);
            assertEquals(1, p.poolCountForTest(), "pools kept by the instance");
            // The current pool works.
            p.start();
            AtomicInteger served = new AtomicInteger();
            for (int i = 0; i < 100; i++)
                TestSupport.submit(p, PadataJob.of(() -> { }, served::incrementAndGet), 0);
            p.stop();
            assertEquals(100, served.get());
        }
    }

    /**
     * setMaxInflight now frees the replaced pool, so its owner index is soon reused by a newer
     * pool. A stale node of the old pool (a buggy native caller replaying it) must not match a
     * live job of the newer one: every pool starts its generations apart from earlier pools'.
     */
    @Test
    void aStaleNodeOfAReplacedPoolNeverReachesAJobOfThePoolReusingItsIndex() throws Throwable {
        try (Workqueue wq = Workqueue.create("reuse"); Padata p = Padata.allocPossible(wq)) {
            JobPool first = p.poolForTest();
            p.start();
            AtomicInteger served = new AtomicInteger();
            PadataJob once = PadataJob.of(() -> { }, served::incrementAndGet);
            p.doParallel(once, 0);
            TestSupport.await("first serial", 30_000, () -> served.get() == 1);
            p.stop();
            long staleTag = PadataNative.jobTagAt(once.node.address());
            var staleCopy = java.lang.foreign.Arena.ofAuto().allocate(PadataNative.JOB_NODE);
            staleCopy.copyFrom(once.node);
            p.setMaxInflight(5);
            p.setMaxInflight(6);                      // the first pool's index is free again by now
            JobPool reusing = p.poolForTest();
            assumeTrue(reusing.owner == first.owner, "index " + first.owner + " went to another pool");
            p.start();
            BlockingQueue<PadataJob> held = new ArrayBlockingQueue<>(1);
            AtomicInteger liveSerials = new AtomicInteger();
            PadataJob live = PadataJob.async(held::add, liveSerials::incrementAndGet);
            p.doParallel(live, 0);
            PadataJob h = held.poll(30, TimeUnit.SECONDS);
            long before = p.staleUpcallsForTest();
            PadataNative.setJobTag(staleCopy, staleTag);
            var serialStub = java.lang.foreign.Linker.nativeLinker().downcallHandle(dev.padata.internal.Upcalls.SERIAL_STUB,
                    java.lang.foreign.FunctionDescriptor.ofVoid(java.lang.foreign.ValueLayout.ADDRESS));
            serialStub.invokeExact(staleCopy);
            try {
                assertEquals(0, liveSerials.get(), "the old pool's stale node ran a live job of the new pool");
                assertTrue(live.isInFlight());
                assertEquals(before + 1, p.staleUpcallsForTest());
            } finally {
                if (live.isInFlight() && live.stateForTest() == PadataJob.IN_FLIGHT)
                    h.doSerial();
            }
            TestSupport.await("live serial", 30_000, () -> liveSerials.get() == 1);
        }
    }

    @Test
    void aFailureAfterThePipelineAllocatedItsInstanceKeepsTheCauseAndFreesBoth() {
        RuntimeException injected = new IllegalStateException("injected after alloc");
        AtomicReference<Padata> made = new AtomicReference<>();
        OrderedPipeline.testAfterAlloc = p -> {
            made.set(p);
            throw injected;
        };
        try {
            var e = assertThrows(RuntimeException.class,
                    () -> OrderedPipeline.<Integer, Integer>builder(x -> x).name("ctorfail").build());
            assertSame(injected, e, "the constructor lost the real cause");
        } finally {
            OrderedPipeline.testAfterAlloc = null;
            Padata p = made.get();
            if (p != null && !p.workqueue().isClosed()) { // leaked: free it so other tests are not charged
                boolean padataWasOpen = !p.isClosed();
                p.close();
                p.workqueue().close();
                assertFalse(padataWasOpen, "the constructor leaked its padata instance");
                throw new AssertionError("the constructor leaked its workqueue");
            }
        }
        assertTrue(made.get().isClosed());
    }

    @Test
    void theBusyAnswerAllocatesOnlyTheExceptionNotItsMessage() throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
        try (Workqueue wq = Workqueue.create("busyalloc"); Padata p = Padata.allocPossible(wq)) {
            p.setMaxInflight(1);
            p.start();
            BlockingQueue<PadataJob> held = new ArrayBlockingQueue<>(1);
            p.doParallel(PadataJob.async(held::add, () -> { }), 0);
            PadataJob holder = held.take();
            try {
                PadataJob other = PadataJob.of(() -> { }, () -> { });
                long self = Thread.currentThread().threadId();
                int busy = 0;
                for (int i = 0; i < 50_000; i++)     // warm up, JIT included
                    busy += tryOnce(p, other);
                int n = 100_000;
                long before = mx.getThreadAllocatedBytes(self);
                for (int i = 0; i < n; i++)
                    busy += tryOnce(p, other);
                long perCall = (mx.getThreadAllocatedBytes(self) - before) / n;
                assertEquals(150_000, busy);
                // The exception object itself is about 50 bytes; its message would be another 130 or more.
                assertTrue(perCall < 100, "a busy answer allocated " + perCall + " bytes");
                var e = assertThrows(PadataBusyException.class, () -> p.doParallel(other, 0));
                assertTrue(e.getMessage().contains("cb_cpu 0") && e.getMessage().contains("in-flight limit"), e.getMessage());
            } finally {
                holder.doSerial();
            }
        }
    }

    private static int tryOnce(Padata p, PadataJob job) {
        try {
            p.doParallel(job, 0);
            return 0;
        } catch (PadataBusyException busy) {
            return 1;
        }
    }

    /**
     * A doSerial() that starts while the job is idle (a late, wrong call) and claims it only after
     * the job was submitted again must finish the current submission, never the node of the
     * previous one, which another job holds in flight by then.
     */
    @Test
    void aDoSerialThatRacesAResubmissionFinishesOnlyTheCurrentSubmission() throws Exception {
        try (Workqueue wq = Workqueue.create("dsrace"); Padata p = Padata.allocPossible(wq)) {
            p.setMaxInflight(2); // two slots, taken in turn: A, B, A, B
            p.start();
            BlockingQueue<PadataJob> held = new ArrayBlockingQueue<>(4);
            List<String> served = Collections.synchronizedList(new ArrayList<>());
            PadataJob j = PadataJob.async(held::add, () -> served.add("j"));
            PadataJob k = PadataJob.async(held::add, () -> served.add("k"));
            p.doParallel(j, 0);                               // slot A
            held.poll(30, TimeUnit.SECONDS).doSerial();
            TestSupport.await("j served once", 30_000, () -> served.size() == 1);
            var staleNode = j.node;
            CountDownLatch fillerServed = new CountDownLatch(1);
            p.doParallel(PadataJob.of(() -> { }, fillerServed::countDown), 0); // slot B
            assertTrue(fillerServed.await(30, TimeUnit.SECONDS));
            TestSupport.await("the filler's slot free", 30_000, () -> p.poolForTest().freeCount() == 2);

            CountDownLatch paused = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            AtomicReference<Throwable> lateError = new AtomicReference<>();
            Thread late = Thread.ofPlatform().daemon().unstarted(() -> {
                try {
                    j.doSerial();
                } catch (Throwable t) {
                    lateError.set(t);
                }
            });
            PadataJob.testBeforeClaim = () -> {
                if (Thread.currentThread() != late)
                    return;
                paused.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            late.start();
            assertTrue(paused.await(30, TimeUnit.SECONDS));
            p.doParallel(k, 0);                               // takes slot A again
            PadataJob kHeld = held.poll(30, TimeUnit.SECONDS);
            assertSame(k, kHeld);
            assertSame(staleNode, k.node);
            p.doParallel(j, 0);                               // slot B
            assertSame(j, held.poll(30, TimeUnit.SECONDS));
            go.countDown();                                   // the late call claims j's new submission
            late.join(30_000);
            PadataJob.testBeforeClaim = null;
            assertNull(lateError.get());
            boolean done = false;
            try {
                kHeld.doSerial();                             // k was still k's to finish
                TestSupport.await("k then j served", 30_000, () -> served.size() == 3);
                done = true;
            } finally {
                if (!done && j.isInFlight())
                    PadataNative.doSerial(j.node);            // unstick close()
            }
            assertEquals(List.of("j", "k", "j"), served);
        }
    }
}
