/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code doParallel(job, cbCpu, maxWait)}: parks while the instance is full (SPEC section 6). */
class WaitingSubmitTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    /** An instance with in-flight limit 1, filled by a job whose parallel() waits for {@link #release}. */
    private static final class Full implements AutoCloseable {
        final Workqueue wq = Workqueue.create("waitfull");
        final Padata padata = Padata.allocPossible(wq);
        final CountDownLatch release = new CountDownLatch(1);
        final List<String> order = new CopyOnWriteArrayList<>();
        final int cb;

        Full() {
            padata.setMaxInflight(1);
            padata.start();
            cb = padata.cpumask(CpuMaskType.SERIAL).first();
            PadataJob blocker = PadataJob.of(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, () -> order.add("blocker"));
            padata.doParallel(blocker, cb);
        }

        PadataJob job(String name) {
            return PadataJob.of(() -> { }, () -> order.add(name));
        }

        @Override
        public void close() {
            release.countDown();
            padata.close();
            wq.close();
        }
    }

    private static void awaitParked(Thread t) {
        TestSupport.await(t.getName() + " parked", 30_000, () -> t.getState() == Thread.State.TIMED_WAITING);
    }

    @Test
    void waitsUntilRoomIsBackThenQueuesInOrder() throws Exception {
        try (Full f = new Full()) {
            PadataJob next = f.job("next");
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = TestSupport.startAnswering(answer, "waiter", () -> f.padata.doParallel(next, f.cb, LONG));
            awaitParked(t);
            assertTrue(next.isInFlight() == false, "a waiting job is not queued");
            f.release.countDown();
            t.join();
            assertEquals(Boolean.TRUE, answer.get());
            TestSupport.await("both serial()s", 30_000, () -> f.order.size() == 2);
            assertEquals(List.of("blocker", "next"), f.order);
        }
    }

    @Test
    void answersFalseWhenMaxWaitPassesAndTheJobStaysTheCallers() throws Exception {
        try (Full f = new Full()) {
            PadataJob next = f.job("next");
            long t0 = System.nanoTime();
            assertFalse(f.padata.doParallel(next, f.cb, Duration.ofMillis(20)));
            assertTrue(System.nanoTime() - t0 >= 20_000_000L, "returned before maxWait");
            assertFalse(next.isInFlight());
            assertFalse(f.padata.doParallel(next, f.cb, Duration.ZERO), "a zero wait does not wait");
            assertFalse(f.padata.doParallel(next, f.cb, Duration.ofNanos(-5)));
            f.release.countDown();
            assertTrue(f.padata.doParallel(next, f.cb, LONG), "the same job goes in once there is room");
            TestSupport.await("both serial()s", 30_000, () -> f.order.size() == 2);
        }
    }

    @Test
    void aZeroWaitQueuesWhenThereIsRoom() throws Exception {
        try (Workqueue wq = Workqueue.create("waitzero"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            CountDownLatch ran = new CountDownLatch(1);
            assertTrue(p.doParallel(PadataJob.of(() -> { }, ran::countDown), p.cpumask(CpuMaskType.SERIAL).first(),
                    Duration.ZERO));
            ran.await();
        }
    }

    @Test
    void aPendingInterruptEndsTheWaitAtOnceAndIsCleared() throws Exception {
        try (Full f = new Full()) {
            PadataJob next = f.job("next");
            Thread.currentThread().interrupt();
            InterruptedException e = assertThrows(InterruptedException.class, () -> f.padata.doParallel(next, f.cb, LONG));
            assertTrue(e.getMessage().contains("not queued"), e.getMessage());
            assertFalse(Thread.currentThread().isInterrupted(), "the interrupt status is cleared");
            assertFalse(next.isInFlight());
        }
    }

    @Test
    void anInterruptWhileParkedEndsTheWait() throws Exception {
        try (Full f = new Full()) {
            PadataJob next = f.job("next");
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = TestSupport.startAnswering(answer, "waiter", () -> f.padata.doParallel(next, f.cb, LONG));
            awaitParked(t);
            t.interrupt();
            t.join();
            assertInstanceOf(InterruptedException.class, answer.get());
            assertFalse(next.isInFlight());
        }
    }

    @Test
    void anInterruptDoesNotRefuseAJobThatNeedsNoWait() throws Exception {
        try (Workqueue wq = Workqueue.create("waitintr"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            CountDownLatch ran = new CountDownLatch(1);
            Thread.currentThread().interrupt();
            try {
                assertTrue(p.doParallel(PadataJob.of(() -> { }, ran::countDown), p.cpumask(CpuMaskType.SERIAL).first(), LONG));
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is left set");
            } finally {
                Thread.interrupted();
            }
            ran.await();
        }
    }

    @Test
    void stopAndCloseEndTheWaitWithIllegalStateException() throws Exception {
        for (boolean close : new boolean[]{false, true}) {
            Full f = new Full();
            try {
                PadataJob next = f.job("next");
                AtomicReference<Object> answer = new AtomicReference<>();
                Thread t = TestSupport.startAnswering(answer, "waiter", () -> f.padata.doParallel(next, f.cb, LONG));
                awaitParked(t);
                f.release.countDown(); // stop() and close() wait for the blocker
                if (close)
                    f.padata.close();
                else
                    f.padata.stop();
                t.join();
                // The waiter either got in before the stop/close began (true) or was refused.
                Object a = answer.get();
                if (!Boolean.TRUE.equals(a))
                    assertInstanceOf(IllegalStateException.class, a);
            } finally {
                f.close();
            }
        }
    }

    @Test
    void aCallbackThatWouldWaitForItselfIsRefused() throws Exception {
        // serial() of the only job in flight: libpadata still counts it, so the instance is full.
        Object answer = TestSupport.answerFromTheOnlyJobsSerial("waitself", (p, job, cb) -> p.doParallel(job, cb, LONG));
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, answer);
        assertTrue(e.getMessage().contains("wait for itself"), e.getMessage());
    }

    @Test
    void rejectsNullArguments() {
        try (Workqueue wq = Workqueue.create("waitnull"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            assertThrows(NullPointerException.class, () -> p.doParallel((PadataJob) null, 0, LONG));
            assertThrows(NullPointerException.class, () -> p.doParallel(PadataJob.of(() -> { }, () -> { }), 0, null));
        }
    }

    @Test
    void aNativeJobWaitsToo() throws Throwable {
        String cbLibrary = System.getProperty("padata.test.cb.library", "");
        assumeTrue(Files.isRegularFile(Path.of(cbLibrary)), "test callback library not built: " + cbLibrary);
        try (Arena arena = Arena.ofShared(); Full f = new Full()) {
            SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(cbLibrary), arena);
            MethodHandle init = Linker.nativeLinker().downcallHandle(lib.find("testcb_init").orElseThrow(),
                    FunctionDescriptor.ofVoid(ADDRESS));
            init.invokeExact(NativeJob.doSerialFunction());
            MethodHandle served = Linker.nativeLinker().downcallHandle(lib.find("testcb_served").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG));
            long before = (long) served.invokeExact();
            NativeJob job = NativeJob.allocate(arena, lib.find("testcb_parallel").orElseThrow(),
                    lib.find("testcb_serial").orElseThrow(), 24);
            long t0 = System.nanoTime();
            assertFalse(f.padata.doParallel(job, f.cb, Duration.ofMillis(25))); // several 10 ms slices
            assertTrue(System.nanoTime() - t0 >= 25_000_000L, "returned before maxWait");
            assertFalse(f.padata.doParallel(job, f.cb, Duration.ZERO));
            assertThrows(NullPointerException.class, () -> f.padata.doParallel((NativeJob) null, f.cb, LONG));
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> f.padata.doParallel(job, f.cb, LONG));
            assertFalse(Thread.currentThread().isInterrupted(), "the interrupt status is cleared");
            // From a callback of the instance, while it is full: libpadata answers EDEADLK.
            AtomicReference<Object> inCallback = new AtomicReference<>();
            CountDownLatch called = new CountDownLatch(1);
            PadataJob probe = PadataJob.of(() -> {
                try {
                    inCallback.set(f.padata.doParallel(job, f.cb, LONG));
                } catch (Throwable e) {
                    inCallback.set(e);
                }
                called.countDown();
            }, () -> { });
            Thread submitter = new Thread(() -> {
                try {
                    f.padata.doParallel(probe, f.cb, LONG); // waits for the blocker to leave
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            f.padata.setFailureHandler((j, stage, failure) -> { });
            f.release.countDown();
            submitter.start();
            submitter.join();
            assertTrue(called.await(30, TimeUnit.SECONDS));
            // probe's own slot keeps the instance (limit 1) full while its parallel() runs.
            IllegalStateException refused = assertInstanceOf(IllegalStateException.class, inCallback.get());
            assertTrue(refused.getMessage().contains("wait for itself"), refused.getMessage());
            assertTrue(f.padata.doParallel(job, f.cb, LONG));
            TestSupport.await("the native serial()", 30_000, () -> {
                try {
                    return (long) served.invokeExact() == before + 1;
                } catch (Throwable e) {
                    throw new AssertionError(e);
                }
            });
        }
    }
}
