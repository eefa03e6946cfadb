/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** Shared helpers: loop scaling (PADATA_TEST_SCALE), submitting through busy answers, waiter threads. */
final class TestSupport {
    private TestSupport() {
    }

    /** PADATA_TEST_SCALE (default 1) times {@code n}, at least 1. */
    static int scaled(int n) {
        String s = System.getenv("PADATA_TEST_SCALE");
        double scale = s == null || s.isBlank() ? 1.0 : Double.parseDouble(s);
        return (int) Math.max(1, Math.round(n * scale));
    }

    /** doParallel, retrying while padata answers busy. */
    static void submit(Padata p, PadataJob job, int cbCpu) {
        for (;;) {
            try {
                p.doParallel(job, cbCpu);
                return;
            } catch (PadataBusyException busy) {
                Thread.onSpinWait();
            }
        }
    }

    static void await(String what, long timeoutMs, BooleanSupplier done) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline)
                fail("timed out after " + timeoutMs + " ms waiting for " + what);
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Runs {@code call} on a new thread named {@code name}; what it returns, or throws, lands in {@code answer}. */
    static Thread startAnswering(AtomicReference<Object> answer, String name, Callable<?> call) {
        Thread t = new Thread(() -> {
            try {
                answer.set(call.call());
            } catch (Throwable e) {
                answer.set(e);
            }
        }, name);
        t.start();
        return t;
    }

    /** A waiting submission, made from a callback by {@link #answerFromTheOnlyJobsSerial}. */
    interface WaitingCall {
        /** Submits {@code job} to {@code p} with {@code cbCpu}, waiting for room; returns its answer. */
        Object call(Padata p, PadataJob job, int cbCpu) throws Exception;
    }

    /**
     * Runs {@code call} from serial() of the only job in flight of a new started instance of
     * in-flight limit 1 (libpadata still counts that job, so the instance is full and a wait
     * would wait for itself); returns what the call returned or threw.
     */
    static Object answerFromTheOnlyJobsSerial(String name, WaitingCall call) throws Exception {
        try (Workqueue wq = Workqueue.create(name); Padata p = Padata.allocPossible(wq)) {
            p.setMaxInflight(1);
            p.start();
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            AtomicReference<Object> answer = new AtomicReference<>();
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            PadataJob inner = PadataJob.of(() -> { }, () -> { });
            p.doParallel(PadataJob.of(() -> { }, () -> {
                try {
                    answer.set(call.call(p, inner, cb));
                } catch (Throwable e) {
                    answer.set(e);
                } finally {
                    done.countDown();
                }
            }), cb);
            done.await();
            return answer.get();
        }
    }
}
