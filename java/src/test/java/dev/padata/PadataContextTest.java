/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lifecycle calls from inside padata: libpadata refuses padata_alloc (EDEADLK) and makes
 * padata_free a no-op on any padata worker and in a notifier, since either could wait for
 * itself. The binding must say so with an exception and keep the instance usable, not mark it
 * closed while the native instance lives on.
 */
class PadataContextTest {

    /** Runs {@code body} inside parallel() of a job of {@code host}; returns what it threw. */
    private static Throwable insideParallelOf(Padata host, Runnable body) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        TestSupport.submit(host, PadataJob.of(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                thrown.set(t);
            }
        }, () -> done.complete(null)), CpuMask.active().first());
        done.get(30, TimeUnit.SECONDS);
        return thrown.get();
    }

    @Test
    void closingAnotherInstanceFromACallbackIsRefusedAndLeavesItOpen() throws Exception {
        try (Workqueue wqA = Workqueue.create("ctx-a"); Workqueue wqB = Workqueue.create("ctx-b");
             Padata a = Padata.allocPossible(wqA); Padata b = Padata.allocPossible(wqB)) {
            a.start();
            b.start();
            Throwable t = insideParallelOf(b, a::close);
            assertInstanceOf(IllegalStateException.class, t, "close() from another instance's callback");
            assertTrue(t.getMessage().contains("close()"), t.getMessage());
            // a is still open and works.
            CompletableFuture<Void> ran = new CompletableFuture<>();
            TestSupport.submit(a, PadataJob.of(() -> { }, () -> ran.complete(null)), CpuMask.active().first());
            ran.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void allocFromACallbackIsAnIllegalStateNotABadArgument() throws Exception {
        try (Workqueue wq = Workqueue.create("ctx-alloc"); Workqueue other = Workqueue.create("ctx-other");
             Padata host = Padata.allocPossible(wq)) {
            host.start();
            Throwable t = insideParallelOf(host, () -> Padata.allocPossible(other).close());
            assertNotNull(t, "padata_alloc from a callback was not refused");
            assertInstanceOf(IllegalStateException.class, t);
            assertTrue(t.getMessage().contains("EDEADLK"), t.getMessage());
        }
    }

    @Test
    void closingFromANotifierIsRefusedAndLeavesTheInstanceOpen() throws Exception {
        try (Workqueue wq = Workqueue.create("ctx-nb"); Workqueue wq2 = Workqueue.create("ctx-nb2");
             Padata p = Padata.allocPossible(wq); Padata other = Padata.allocPossible(wq2)) {
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            p.registerCpumaskNotifier((changed, par, ser) -> {
                try {
                    other.close();
                } catch (Throwable e) {
                    thrown.set(e);
                }
            });
            CpuMask all = CpuMask.active();
            p.setCpumask(CpuMaskType.PARALLEL, CpuMask.of(all.first()));
            assertInstanceOf(IllegalStateException.class, thrown.get(), "close() from a notifier");
            assertEquals(false, other.isClosed(), "the refused close marked the instance closed");
            other.start(); // still usable
        }
    }
}
