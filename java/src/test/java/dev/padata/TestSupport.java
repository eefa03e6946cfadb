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
}
