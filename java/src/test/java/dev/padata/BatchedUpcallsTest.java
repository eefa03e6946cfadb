/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The batch trampolines ({@code padata_set_batch}, {@code dev.padata.batch}; the serial half on by default):
 * order, failure routing per job (a throwing parallel() or serial() inside a run), async
 * completion, shells and waiting submitters, with both halves on.
 */
class BatchedUpcallsTest {
    private final String saved = Padata.batchMode;

    @AfterEach
    void restore() {
        Padata.batchMode = saved;
    }

    private static void run(String mode, boolean shell) throws Exception {
        Padata.batchMode = mode;
        try (Workqueue wq = Workqueue.create("batched"); Padata p = Padata.allocPossible(wq)) {
            List<String> failures = new CopyOnWriteArrayList<>();
            p.setFailureHandler((job, stage, t) -> failures.add(stage + ":" + t.getMessage()));
            p.setMaxInflight(64); // waiting submitters too
            p.start();
            PadataShell ps = shell ? p.allocShell() : null;
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            int n = TestSupport.scaled(20_000);
            List<Integer> order = java.util.Collections.synchronizedList(new ArrayList<>(n));
            AtomicReference<Throwable> async = new AtomicReference<>();
            for (int i = 0; i < n; i++) {
                final int id = i;
                PadataJob job;
                if (i % 997 == 1)
                    job = PadataJob.of(() -> {
                        throw new IllegalStateException("p" + id);
                    }, () -> order.add(id));
                else if (i % 997 == 2)
                    job = PadataJob.of(() -> { }, () -> {
                        order.add(id);
                        throw new IllegalStateException("s" + id);
                    });
                else if (i % 101 == 3) // finished from another thread
                    job = PadataJob.async(j -> Thread.ofPlatform().start(() -> {
                        try {
                            j.doSerial();
                        } catch (Throwable t) {
                            async.set(t);
                        }
                    }), () -> order.add(id));
                else
                    job = PadataJob.of(() -> { }, () -> order.add(id));
                if (ps != null)
                    ps.doParallelWaiting(job, cb);
                else
                    p.doParallelWaiting(job, cb);
            }
            TestSupport.await("every serial()", 60_000, () -> order.size() == n);
            if (ps != null)
                ps.close();
            for (int i = 0; i < n; i++)
                if (order.get(i) != i)
                    throw new AssertionError(mode + ": serial() order broke at " + i + ": " + order.get(i));
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (i % 997 == 1)
                    expected.add("PARALLEL:p" + i);
                if (i % 997 == 2)
                    expected.add("SERIAL:s" + i);
            }
            assertEquals(expected, failures, mode + ": each failure once, in order");
            assertEquals(null, async.get());
        }
    }

    @Test
    void bothHalvesKeepOrderAndRouteEachFailure() throws Exception {
        run("both", false);
    }

    @Test
    void theSerialHalfAloneAndThroughAShell() throws Exception {
        run("serial", false);
        run("parallel", true);
        run("both", true);
    }

    @Test
    void perJobUpcallsWhenSwitchedOff() throws Exception {
        run("none", false);
        run("none", true);
    }

    /**
     * An OrderedPipeline's jobs are handed back (their ring slots free) during the serial run
     * that delivers them, but libpadata counts the run in flight until it returns: the
     * pipeline's own instance needs a whole run of headroom per serial CPU above its ring, or
     * the ring's next submissions meet the limit and wait for half the capacity (the pipeline
     * ran at half speed with the serial batch on). The last {@code PADATA_BATCH_MAX} values of
     * the first ring's worth are made one run: the consumer holds the value before them until
     * their parallel() has run, so the callback worker finds them all queued when it goes on.
     * The consumer then holds the last value, inside that run, while the test refills every
     * freed slot with trySubmit, which refuses instead of waiting.
     */
    @Test
    void anOrderedPipelinesRingRefillsWhileItsSerialRunIsStillCounted() throws Exception {
        for (String mode : new String[] { "serial", "none" }) {
            Padata.batchMode = mode;
            int ring = Padata.DEFAULT_MAX_INFLIGHT; // the default capacity
            int before = ring - Padata.BATCH_MAX - 1;
            java.util.concurrent.CountDownLatch runParallelDone = new java.util.concurrent.CountDownLatch(Padata.BATCH_MAX);
            java.util.concurrent.CountDownLatch beforeHeld = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch releaseBefore = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch lastHeld = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch releaseLast = new java.util.concurrent.CountDownLatch(1);
            List<Integer> out = new CopyOnWriteArrayList<>();
            try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
                if (x > before && x < ring)
                    runParallelDone.countDown();
                return x;
            }).consumer(x -> {
                out.add(x);
                java.util.concurrent.CountDownLatch held = x == before ? beforeHeld : x == ring - 1 ? lastHeld : null;
                if (held != null) {
                    held.countDown();
                    try {
                        (x == before ? releaseBefore : releaseLast).await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }).name("refill").build()) {
                int refused = 0;
                try {
                    assertEquals(ring, pipeline.capacity());
                    for (int i = 0; i <= before; i++)
                        pipeline.submit(i);
                    assertTrue(beforeHeld.await(60, java.util.concurrent.TimeUnit.SECONDS), mode + ": value " + before + " delivered");
                    for (int i = before + 1; i < ring; i++)
                        pipeline.submit(i);
                    assertTrue(runParallelDone.await(60, java.util.concurrent.TimeUnit.SECONDS), mode + ": the run's parallel()");
                    releaseBefore.countDown();
                    assertTrue(lastHeld.await(60, java.util.concurrent.TimeUnit.SECONDS), mode + ": the last value delivered");
                    for (int i = ring; i < 2 * ring - 1; i++)
                        if (!pipeline.trySubmit(i))
                            refused++;
                } finally {
                    releaseBefore.countDown(); // before close() waits for a held consumer
                    releaseLast.countDown();
                }
                assertEquals(0, refused, mode + ": refills the instance refused while the run was counted");
                pipeline.awaitIdle();
                assertEquals(2 * ring - 1, out.size());
                for (int i = 0; i < 2 * ring - 1; i++)
                    assertEquals(i, out.get(i), mode + ": delivery order");
                assertEquals(0, pipeline.padata().stats().busy(), mode + ": the instance never answered busy");
            }
        }
    }

    @Test
    void theSerialHalfIsTheDefault() {
        assertTrue(System.getProperty("dev.padata.batch") != null || "serial".equals(Padata.batchMode));
    }
}
