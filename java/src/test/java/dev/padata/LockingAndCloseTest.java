/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * close() against the calls it must wait for, and the locks user code can see. The race
 * windows are held open with the package-private test hooks, so each interleaving happens on
 * every run.
 */
class LockingAndCloseTest {
    @AfterEach
    void clearHooks() {
        Padata.testInGateBeforeLock = null;
        Workqueue.testBeforeNativeFlush = null;
    }

    /** Runs {@code body} on a new platform thread, keeping what it threw. */
    private static Thread start(String name, AtomicReference<Throwable> error, Runnable body) {
        return Thread.ofPlatform().name(name).daemon().unstarted(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                error.set(t);
            }
        });
    }

    private static void assertEnds(Thread t, String what) throws InterruptedException {
        t.join(TimeUnit.SECONDS.toMillis(30));
        if (t.isAlive()) {
            StringBuilder stack = new StringBuilder();
            for (StackTraceElement e : t.getStackTrace())
                stack.append("\n\tat ").append(e);
            fail(what + " did not return within 30 s (deadlock); " + t.getName() + " is " + t.getState() + stack);
        }
    }

    /**
     * The call enters the gate, then (held by the hook) waits until close() has begun; only then
     * does it take the instance's lock. close() used to hold that lock while it waited for the
     * gate to empty: each waited for the other forever.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"registerCpumaskNotifier", "unregisterCpumaskNotifier", "setMaxInflight"})
    void closeDoesNotDeadlockWithACallThatEnteredTheGateFirst(String call) throws Exception {
        Workqueue wq = Workqueue.create("closerace");
        Padata p = Padata.allocPossible(wq);
        CpumaskListener listener = (changed, pcpu, cbcpu) -> { };
        if (call.equals("unregisterCpumaskNotifier"))
            p.registerCpumaskNotifier(listener);
        AtomicReference<Throwable> callError = new AtomicReference<>();
        AtomicReference<Throwable> closeError = new AtomicReference<>();
        CountDownLatch inGate = new CountDownLatch(1);
        Thread caller = start("caller", callError, () -> {
            switch (call) {
                case "registerCpumaskNotifier" -> p.registerCpumaskNotifier(listener);
                case "unregisterCpumaskNotifier" -> p.unregisterCpumaskNotifier(listener);
                default -> p.setMaxInflight(5);
            }
        });
        Padata.testInGateBeforeLock = () -> {
            if (Thread.currentThread() != caller)
                return;
            inGate.countDown();
            TestSupport.await("close() to begin", 30_000, p::isClosed);
        };
        caller.start();
        assertTrue(inGate.await(30, TimeUnit.SECONDS));
        Thread closer = start("closer", closeError, p::close);
        closer.start();
        assertEnds(caller, call + "() racing close()");
        assertEnds(closer, "close() racing " + call + "()");
        assertNull(callError.get(), () -> "the call entered the gate before close(): " + callError.get());
        assertNull(closeError.get());
        assertTrue(p.isClosed());
        wq.close();
    }

    /** User code may lock a public object; the library must not use that monitor itself. */
    @Test
    void aUserHoldingThePadataAndWorkqueueMonitorsBlocksNothingInTheLibrary() throws Exception {
        try (Workqueue wq = Workqueue.create("monitor"); Padata p = Padata.allocPossible(wq)) {
            AtomicReference<Throwable> error = new AtomicReference<>();
            Thread worker = start("library user", error, () -> {
                CpumaskListener l = (c, pc, cb) -> { };
                p.registerCpumaskNotifier(l);
                p.unregisterCpumaskNotifier(l);
                p.setMaxInflight(7);
                p.start();
                p.stop();
                wq.flush();
                Padata other = Padata.allocPossible(wq);
                other.close();
                assertFalse(wq.isClosed());
            });
            synchronized (p) {
                synchronized (wq) {
                    worker.start();
                    worker.join(TimeUnit.SECONDS.toMillis(30));
                    assertFalse(worker.isAlive(), () -> "the library blocked on a monitor the user holds: "
                            + worker.getState() + " in " + java.util.Arrays.toString(worker.getStackTrace()));
                }
            }
            assertNull(error.get());
            assertEquals(7, p.maxInflight());
        }
    }

    /**
     * A flush() that passed its open check is inside flush_workqueue (here: about to enter it)
     * when close() begins. close() must wait for it rather than destroy the queue under it.
     */
    @Test
    void closeWaitsForAFlushInProgressBeforeDestroyingTheQueue() throws Exception {
        Workqueue wq = Workqueue.create("flushclose");
        AtomicReference<Throwable> flushError = new AtomicReference<>();
        AtomicReference<Throwable> closeError = new AtomicReference<>();
        CountDownLatch inFlush = new CountDownLatch(1);
        Thread closer = start("closer", closeError, wq::close);
        Thread flusher = start("flusher", flushError, wq::flush);
        Workqueue.testBeforeNativeFlush = () -> {
            if (Thread.currentThread() != flusher)
                return;
            inFlush.countDown();
            // Until close() either waits (for this flush) or has already destroyed the queue.
            TestSupport.await("close() to wait or finish", 30_000, () -> {
                Thread.State s = closer.getState();
                return s == Thread.State.WAITING || s == Thread.State.TERMINATED;
            });
            if (closer.getState() == Thread.State.TERMINATED)
                throw new AssertionError("close() destroyed the workqueue while flush() was in progress");
        };
        flusher.start();
        assertTrue(inFlush.await(30, TimeUnit.SECONDS));
        closer.start();
        assertEnds(flusher, "flush()");
        assertEnds(closer, "close()");
        assertNull(flushError.get(), () -> String.valueOf(flushError.get()));
        assertNull(closeError.get());
        assertTrue(wq.isClosed());
    }

    @Test
    void aSecondConcurrentCloseReturnsOnlyOnceTheInstanceIsFreed() throws Exception {
        Workqueue wq = Workqueue.create("close2");
        Padata p = Padata.allocPossible(wq);
        p.start();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch running = new CountDownLatch(1);
        p.doParallel(PadataJob.async(j -> Thread.ofPlatform().start(() -> {
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException ignored) {
                // finish anyway
            }
            j.doSerial();
        }), () -> { }), 0);
        assertTrue(running.await(30, TimeUnit.SECONDS));
        AtomicReference<Throwable> e1 = new AtomicReference<>();
        AtomicReference<Throwable> e2 = new AtomicReference<>();
        Thread first = start("close 1", e1, p::close);
        first.start();
        TestSupport.await("close() to begin", 30_000, p::isClosed);
        Thread second = start("close 2", e2, p::close);
        second.start();
        // The second close() must not return (and let the workqueue go) while the first still waits.
        TestSupport.await("the second close() to wait", 30_000, () -> second.getState() == Thread.State.WAITING);
        assertTrue(first.isAlive());
        release.countDown();
        assertEnds(first, "close()");
        assertEnds(second, "the second close()");
        assertNull(e1.get());
        assertNull(e2.get());
        wq.close();
    }
}
