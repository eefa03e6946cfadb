/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Padata#allocShell()} and {@link PadataShell}: independent order domains. */
class PadataShellTest {
    private Workqueue wq;
    private Padata padata;

    @BeforeEach
    void open() {
        wq = Workqueue.create("shell");
        padata = Padata.allocPossible(wq);
    }

    @AfterEach
    void closeAll() {
        padata.close();
        wq.close();
    }

    private static void submit(PadataShell s, PadataJob job, int cbCpu) {
        for (;;) {
            try {
                s.doParallel(job, cbCpu);
                return;
            } catch (PadataBusyException busy) {
                Thread.onSpinWait();
            }
        }
    }

    @Test
    void eachShellKeepsItsOwnOrder() throws Exception {
        padata.start();
        int n = TestSupport.scaled(5_000);
        int cb = CpuMask.active().first();
        List<PadataShell> shells = List.of(padata.allocShell(), padata.allocShell(), padata.allocShell());
        List<List<Integer>> seen = new ArrayList<>();
        for (int s = 0; s < shells.size(); s++)
            seen.add(Collections.synchronizedList(new ArrayList<>()));
        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < shells.size(); s++) {
            int si = s;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < n; i++) {
                    int seq = i;
                    submit(shells.get(si), PadataJob.of(() -> { }, () -> seen.get(si).add(seq)), cb);
                }
            }));
        }
        for (Thread t : threads)
            t.join();
        for (PadataShell s : shells)
            s.close(); // waits for the shell's jobs
        for (List<Integer> l : seen) {
            assertEquals(n, l.size());
            for (int i = 0; i < n; i++)
                assertEquals(i, l.get(i));
        }
    }

    @Test
    void aHeldJobOfOneShellDoesNotDelayAnotherShell() throws Exception {
        padata.start();
        int cb = CpuMask.active().first();
        try (PadataShell slow = padata.allocShell(); PadataShell fast = padata.allocShell()) {
            AtomicReference<PadataJob> held = new AtomicReference<>();
            AtomicBoolean slowSerial = new AtomicBoolean();
            slow.doParallel(PadataJob.async(held::set, () -> slowSerial.set(true)), cb);
            AtomicBoolean laterOfSlow = new AtomicBoolean();
            submit(slow, PadataJob.of(() -> { }, () -> laterOfSlow.set(true)), cb);
            int n = 200;
            CountDownLatch fastDone = new CountDownLatch(n);
            for (int i = 0; i < n; i++)
                submit(fast, PadataJob.of(() -> { }, fastDone::countDown), cb);
            // The latch: the held job is finished only after every job of the other shell ran serial().
            assertTrue(fastDone.await(20, TimeUnit.SECONDS), "the held job of another shell delayed these");
            TestSupport.await("the held job's parallel()", 20_000, () -> held.get() != null);
            assertFalse(slowSerial.get());
            assertFalse(laterOfSlow.get(), "a later job of the same shell overtook the held one");
            held.get().doSerial();
            TestSupport.await("the slow shell", 20_000, laterOfSlow::get);
        }
    }

    @Test
    void errorsAnswerAsTheInstanceDoes() throws Exception {
        PadataShell s = padata.allocShell();
        int cb = CpuMask.active().first();
        assertThrows(IllegalStateException.class, () -> s.doParallel(PadataJob.of(() -> { }, () -> { }), cb),
                "not started");
        padata.start();
        assertThrows(NullPointerException.class, () -> s.doParallel(null, cb));
        assertThrows(IllegalArgumentException.class, () -> s.doParallel(PadataJob.of(() -> { }, () -> { }), -1));
        // From a callback: allocShell refused (EDEADLK), close refused.
        AtomicReference<Throwable> alloc = new AtomicReference<>(), close = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);
        s.doParallel(PadataJob.of(() -> { }, () -> {
            try {
                padata.allocShell().close();
            } catch (Throwable t) {
                alloc.set(t);
            }
            try {
                s.close();
            } catch (Throwable t) {
                close.set(t);
            }
            ran.countDown();
        }), cb);
        assertTrue(ran.await(20, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, alloc.get());
        assertInstanceOf(IllegalStateException.class, close.get());
        s.close();
        s.close(); // twice: nothing
        assertTrue(s.isClosed());
        assertThrows(IllegalStateException.class, () -> s.doParallel(PadataJob.of(() -> { }, () -> { }), cb));
    }

    @Test
    void theInFlightLimitHoldsPerShell() throws Exception {
        padata.setMaxInflight(2);
        padata.start();
        int cb = CpuMask.active().first();
        try (PadataShell a = padata.allocShell(); PadataShell b = padata.allocShell()) {
            List<PadataJob> held = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 2; i++)
                a.doParallel(PadataJob.async(held::add, () -> { }), cb);
            assertThrows(PadataBusyException.class, () -> a.doParallel(PadataJob.of(() -> { }, () -> { }), cb));
            CountDownLatch other = new CountDownLatch(2);
            b.doParallel(PadataJob.of(() -> { }, other::countDown), cb);
            padata.doParallel(PadataJob.of(() -> { }, other::countDown), cb);
            assertTrue(other.await(20, TimeUnit.SECONDS));
            TestSupport.await("held jobs", 20_000, () -> held.size() == 2);
            for (PadataJob j : held)
                j.doSerial();
        }
    }

    @Test
    void closingTheInstanceFreesItsShells() throws Exception {
        padata.start();
        PadataShell s = padata.allocShell();
        int cb = CpuMask.active().first();
        CountDownLatch done = new CountDownLatch(10);
        for (int i = 0; i < 10; i++)
            submit(s, PadataJob.of(() -> { }, done::countDown), cb);
        padata.close(); // waits for the shell's jobs, frees it
        assertEquals(0, done.getCount());
        s.close();      // afterwards: only marks it closed
        assertThrows(IllegalStateException.class, () -> s.doParallel(PadataJob.of(() -> { }, () -> { }), cb));
        assertThrows(IllegalStateException.class, padata::allocShell);
    }

    @Test
    void doParallelWithADurationSleepsUntilTheShellHasRoom() throws Exception {
        padata.setMaxInflight(1);
        padata.start();
        int cb = CpuMask.active().first();
        try (PadataShell a = padata.allocShell(); PadataShell b = padata.allocShell()) {
            AtomicReference<PadataJob> held = new AtomicReference<>();
            assertTrue(a.doParallel(PadataJob.async(held::set, () -> { }), cb, Duration.ZERO));
            // Full: a short wait times out (false), nothing queued.
            PadataJob late = PadataJob.of(() -> { }, () -> { });
            assertFalse(a.doParallel(late, cb, Duration.ofMillis(30)));
            // Another shell has room at once.
            CountDownLatch other = new CountDownLatch(1);
            assertTrue(b.doParallel(PadataJob.of(() -> { }, other::countDown), cb, Duration.ofSeconds(20)));
            assertTrue(other.await(20, TimeUnit.SECONDS));
            // A waiter of the full shell is admitted once the held job finishes.
            CountDownLatch ran = new CountDownLatch(1);
            AtomicReference<Object> result = new AtomicReference<>();
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    result.set(a.doParallel(late, cb, Duration.ofSeconds(20)));
                } catch (Throwable e) {
                    result.set(e);
                }
                ran.countDown();
            });
            TestSupport.await("the held job's parallel()", 20_000, () -> held.get() != null);
            held.get().doSerial();
            assertTrue(ran.await(20, TimeUnit.SECONDS));
            t.join();
            assertEquals(Boolean.TRUE, result.get());
        }
    }

    @Test
    void doParallelWithADurationAnswersInterruptsAndClose() throws Exception {
        padata.setMaxInflight(1);
        padata.start();
        int cb = CpuMask.active().first();
        PadataShell a = padata.allocShell();
        AtomicReference<PadataJob> held = new AtomicReference<>();
        a.doParallel(PadataJob.async(held::set, () -> { }), cb);
        PadataJob waiter = PadataJob.of(() -> { }, () -> { });
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> a.doParallel(waiter, cb, Duration.ofSeconds(20)));
        assertFalse(Thread.interrupted(), "the interrupt status is consumed by the exception");
        // The job was not queued: it can be submitted again.
        AtomicReference<Object> result = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                result.set(a.doParallel(waiter, cb, Duration.ofSeconds(20)));
            } catch (Throwable e) {
                result.set(e);
            }
        });
        t.interrupt();
        t.join();
        assertInstanceOf(InterruptedException.class, result.get());
        TestSupport.await("the held job's parallel()", 20_000, () -> held.get() != null);
        held.get().doSerial();
        a.close();
        assertThrows(IllegalStateException.class, () -> a.doParallel(waiter, cb, Duration.ofSeconds(1)));
        assertThrows(NullPointerException.class, () -> padata.allocShell().doParallel(waiter, cb, null));
    }
}
