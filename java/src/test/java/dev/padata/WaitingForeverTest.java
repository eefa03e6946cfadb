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

/**
 * {@code doParallelWaiting(job, cbCpu)} of {@link Padata} (Java and native jobs) and
 * {@link PadataShell}: waits without limit, with the errors of the {@code Duration} calls.
 */
class WaitingForeverTest {
    /** An instance with in-flight limit 1, filled by a job whose parallel() waits for {@link #release}. */
    private static final class Full implements AutoCloseable {
        final Workqueue wq = Workqueue.create("forever");
        final Padata padata = Padata.allocPossible(wq);
        final CountDownLatch release = new CountDownLatch(1);
        final List<String> order = new CopyOnWriteArrayList<>();
        final int cb;

        Full() {
            padata.setMaxInflight(1);
            padata.start();
            cb = padata.cpumask(CpuMaskType.SERIAL).first();
            padata.doParallel(PadataJob.of(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, () -> order.add("blocker")), cb);
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

    /** Runs {@code call} on a new thread; its answer ("queued", or what it threw) lands in the result. */
    private static Thread start(AtomicReference<Object> answer, String name, ThrowingRunnable call) {
        return TestSupport.startAnswering(answer, name, () -> {
            call.run();
            return "queued";
        });
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    private static void awaitWaiting(Thread t) {
        TestSupport.await(t.getName() + " waiting", 30_000,
                () -> t.getState() == Thread.State.TIMED_WAITING || t.getState() == Thread.State.WAITING);
    }

    @Test
    void waitsAsLongAsItTakesThenQueuesInOrder() throws Exception {
        try (Full f = new Full()) {
            PadataJob next = f.job("next");
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = start(answer, "waiter", () -> f.padata.doParallelWaiting(next, f.cb));
            awaitWaiting(t);
            assertFalse(next.isInFlight(), "a waiting job is not queued");
            f.release.countDown();
            t.join();
            assertEquals("queued", answer.get());
            TestSupport.await("both serial()s", 30_000, () -> f.order.size() == 2);
            assertEquals(List.of("blocker", "next"), f.order);
        }
    }

    @Test
    void anInterruptEndsTheWaitAndTheJobStaysTheCallers() throws Exception {
        try (Full f = new Full()) {
            PadataJob next = f.job("next");
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> f.padata.doParallelWaiting(next, f.cb));
            assertFalse(Thread.currentThread().isInterrupted(), "the interrupt status is cleared");
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = start(answer, "waiter", () -> f.padata.doParallelWaiting(next, f.cb));
            awaitWaiting(t);
            t.interrupt();
            t.join();
            assertInstanceOf(InterruptedException.class, answer.get());
            assertFalse(next.isInFlight());
        }
    }

    @Test
    void stopEndsTheWaitWithIllegalStateException() throws Exception {
        try (Full f = new Full()) {
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = start(answer, "waiter", () -> f.padata.doParallelWaiting(f.job("next"), f.cb));
            awaitWaiting(t);
            f.release.countDown(); // stop() waits for the blocker
            f.padata.stop();
            t.join();
            // The waiter either got in before the stop began or was refused.
            if (!"queued".equals(answer.get()))
                assertInstanceOf(IllegalStateException.class, answer.get());
        }
    }

    @Test
    void answersTheErrorsOfTheDurationCall() throws Exception {
        try (Workqueue wq = Workqueue.create("forevererr"); Padata p = Padata.allocPossible(wq)) {
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            PadataJob job = PadataJob.of(() -> { }, () -> { });
            assertThrows(IllegalStateException.class, () -> p.doParallelWaiting(job, cb), "not started");
            p.start();
            assertThrows(NullPointerException.class, () -> p.doParallelWaiting((PadataJob) null, cb));
            assertThrows(NullPointerException.class, () -> p.doParallelWaiting((NativeJob) null, cb));
            assertThrows(IllegalArgumentException.class, () -> p.doParallelWaiting(job, -1));
            assertThrows(IllegalArgumentException.class, () -> p.doParallelWaiting(job, 1 << 20));
            CountDownLatch release = new CountDownLatch(1);
            PadataJob held = PadataJob.of(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, () -> { });
            p.doParallelWaiting(held, cb);
            IllegalStateException inFlight = assertThrows(IllegalStateException.class, () -> p.doParallelWaiting(held, cb));
            assertTrue(inFlight.getMessage().contains("in flight"), inFlight.getMessage());
            release.countDown();
        }
    }

    @Test
    void aCallbackThatWouldWaitForItselfIsRefused() throws Exception {
        // serial() of the only job in flight: libpadata still counts it, so the instance is full.
        Object answer = TestSupport.answerFromTheOnlyJobsSerial("foreverself", (p, job, cb) -> {
            p.doParallelWaiting(job, cb);
            return "queued";
        });
        IllegalStateException e = assertInstanceOf(IllegalStateException.class, answer);
        assertTrue(e.getMessage().contains("wait for itself"), e.getMessage());
    }

    @Test
    void aShellWaitsAsLongAsItTakesAndAnswersItsErrors() throws Exception {
        try (Workqueue wq = Workqueue.create("forevershell"); Padata p = Padata.allocPossible(wq)) {
            p.setMaxInflight(1);
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            PadataShell a = p.allocShell();
            PadataJob late = PadataJob.of(() -> { }, () -> { });
            assertThrows(IllegalStateException.class, () -> a.doParallelWaiting(late, cb), "not started");
            p.start();
            assertThrows(NullPointerException.class, () -> a.doParallelWaiting(null, cb));
            assertThrows(IllegalArgumentException.class, () -> a.doParallelWaiting(late, -1));
            AtomicReference<PadataJob> held = new AtomicReference<>();
            a.doParallelWaiting(PadataJob.async(held::set, () -> { }), cb);
            CountDownLatch ran = new CountDownLatch(1);
            PadataJob next = PadataJob.of(() -> { }, ran::countDown);
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = start(answer, "shellwaiter", () -> a.doParallelWaiting(next, cb));
            // Interrupted while it waits (in libpadata's futex, seen within a slice): not queued.
            TestSupport.await("the held job's parallel()", 30_000, () -> held.get() != null);
            t.interrupt();
            t.join();
            assertInstanceOf(InterruptedException.class, answer.get());
            assertFalse(next.isInFlight());
            Thread t2 = start(answer, "shellwaiter2", () -> a.doParallelWaiting(next, cb));
            held.get().doSerial();
            t2.join();
            assertEquals("queued", answer.get());
            assertTrue(ran.await(30, TimeUnit.SECONDS));
            // From a worker of the instance's workqueue: waiting could wait for itself (EDEADLK).
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<Object> inCallback = new AtomicReference<>();
            a.doParallelWaiting(PadataJob.of(() -> { }, () -> {
                try {
                    a.doParallelWaiting(late, cb);
                    inCallback.set("queued");
                } catch (Throwable e) {
                    inCallback.set(e);
                }
                done.countDown();
            }), cb);
            assertTrue(done.await(30, TimeUnit.SECONDS));
            assertInstanceOf(IllegalStateException.class, inCallback.get());
            a.close();
            assertThrows(IllegalStateException.class, () -> a.doParallelWaiting(late, cb), "closed shell");
        }
    }

    @Test
    void aNativeJobWaitsAsLongAsItTakes() throws Throwable {
        String cbLibrary = System.getProperty("padata.test.cb.library", "");
        assumeTrue(Files.isRegularFile(Path.of(cbLibrary)), "test callback library not built: " + cbLibrary);
        try (Arena arena = Arena.ofShared(); Full f = new Full()) {
            SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(cbLibrary), arena);
            MethodHandle init = Linker.nativeLinker().downcallHandle(lib.find("testcb_init").orElseThrow(),
                    FunctionDescriptor.ofVoid(ADDRESS));
            init.invokeExact(NativeJob.doSerialFunction());
            MemorySegment parallel = lib.find("testcb_parallel").orElseThrow();
            MemorySegment serial = lib.find("testcb_serial").orElseThrow();
            MethodHandle served = Linker.nativeLinker().downcallHandle(lib.find("testcb_served").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG));
            long before = (long) served.invokeExact();
            NativeJob job = NativeJob.allocate(arena, parallel, serial, 24);
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> f.padata.doParallelWaiting(job, f.cb));
            assertFalse(Thread.currentThread().isInterrupted(), "the interrupt status is cleared");
            AtomicReference<Object> answer = new AtomicReference<>();
            Thread t = start(answer, "nativewaiter", () -> f.padata.doParallelWaiting(job, f.cb));
            f.release.countDown();
            t.join();
            assertEquals("queued", answer.get());
            TestSupport.await("the native job's serial()", 30_000, () -> {
                try {
                    return (long) served.invokeExact() == before + 1;
                } catch (Throwable e) {
                    throw new AssertionError(e);
                }
            });
            assertThrows(IllegalArgumentException.class, () -> f.padata.doParallelWaiting(job, -1));
        }
    }
}
