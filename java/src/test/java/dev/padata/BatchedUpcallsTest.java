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
 * The batch trampolines ({@code padata_set_batch}, off by default, {@code dev.padata.batch}):
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
    void noneIsTheDefault() {
        assertTrue(System.getProperty("dev.padata.batch") != null || "none".equals(Padata.batchMode));
    }
}
