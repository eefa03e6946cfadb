/* SPDX-License-Identifier: MIT */
package dev.padata;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Padata.stats() against what the test did, and the periodic Statistics event. */
class StatsTest {
    private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(60);

    @Test
    void countsAcceptedAndCompletedJobs() {
        try (Workqueue wq = Workqueue.create("stats-count"); Padata p = Padata.allocPossible(wq)) {
            PadataStats zero = p.stats();
            assertEquals(new PadataStats(0, 0, 0, 0, 0, 0, Padata.DEFAULT_MAX_INFLIGHT, 0), zero);
            p.start();
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            for (int i = 0; i < 100; i++)
                submit(p, PadataJob.of(() -> { }, () -> { }), cb);
            p.stop(); // waits for every serial()
            PadataStats st = p.stats();
            assertEquals(100, st.accepted(), st.toString());
            assertEquals(100, st.completed(), st.toString());
            assertEquals(0, st.inFlight());
            assertEquals(0, st.reorderDepth(), st.toString());
        }
    }

    private static void submit(Padata p, PadataJob job, int cb) {
        for (;;) {
            try {
                p.doParallel(job, cb);
                return;
            } catch (PadataBusyException busy) {
                Thread.onSpinWait();
            }
        }
    }

    @Test
    void countsBusyAnswersAndTheReorderDepth() throws Exception {
        assumeTrue(CpuMask.active().weight() >= 2, "needs two CPUs: job 0 holds one, job 1 waits on the other");
        try (Workqueue wq = Workqueue.create("stats-busy"); Padata p = Padata.allocPossible(wq)) {
            p.setMaxInflight(2);
            p.start();
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            CountDownLatch release = new CountDownLatch(1);
            p.doParallel(PadataJob.of(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, () -> { }), cb);
            p.doParallel(PadataJob.of(() -> { }, () -> { }), cb); // done in parallel, waits for job 0
            assertThrows(PadataBusyException.class, () -> p.doParallel(PadataJob.of(() -> { }, () -> { }), cb));
            long deadline = System.nanoTime() + WAIT_NS;
            while (p.stats().reorderDepth() < 1 && System.nanoTime() < deadline)
                Thread.onSpinWait();
            PadataStats held = p.stats();
            release.countDown();
            p.stop();
            assertEquals(1, held.reorderDepth(), held.toString());
            assertTrue(held.busy() >= 1, held.toString());
            assertEquals(2, held.inFlight(), held.toString());
            assertEquals(2, held.limit(), held.toString());
            PadataStats st = p.stats();
            assertEquals(2, st.accepted(), st.toString());
            assertEquals(2, st.completed(), st.toString());
            assertEquals(0, st.reorderDepth(), st.toString());
            assertTrue(st.reorderDepthMax() >= 1, st.toString());
            assertEquals(held.busy(), st.busy(), st.toString());
        }
    }

    @Test
    void statsAfterCloseIsAnIllegalState() {
        Padata p;
        try (Workqueue wq = Workqueue.create("stats-closed")) {
            p = Padata.allocPossible(wq);
            p.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, p::stats);
            assertTrue(e.getMessage().contains("stats()"), e.getMessage());
        }
    }

    @Test
    void aPeriodicStatisticsEventPerLiveInstance() throws Exception {
        try (Workqueue wq = Workqueue.create("stats-jfr"); Padata p = Padata.allocPossible(wq);
             Padata idle = Padata.allocPossible(wq)) {
            p.start();
            int cb = p.cpumask(CpuMaskType.SERIAL).first();
            for (int i = 0; i < 10; i++)
                submit(p, PadataJob.of(() -> { }, () -> { }), cb);
            p.stop();
            AtomicReference<RecordedEvent> mine = new AtomicReference<>();
            AtomicReference<RecordedEvent> other = new AtomicReference<>();
            CountDownLatch both = new CountDownLatch(2);
            try (RecordingStream rs = new RecordingStream()) {
                rs.enable("dev.padata.Statistics").withPeriod(Duration.ofMillis(100));
                rs.onEvent("dev.padata.Statistics", e -> {
                    String who = e.getString("instance");
                    if (who.equals(FlightRecorderEvents.name(p)) && mine.compareAndSet(null, e))
                        both.countDown();
                    if (who.equals(FlightRecorderEvents.name(idle)) && other.compareAndSet(null, e))
                        both.countDown();
                });
                rs.startAsync();
                assertTrue(both.await(60, TimeUnit.SECONDS), "no Statistics event for each instance");
            }
            assertEquals(10, mine.get().getLong("accepted"));
            assertEquals(10, mine.get().getLong("completed"));
            assertEquals(0, mine.get().getLong("inFlight"));
            assertEquals(p.maxInflight(), mine.get().getInt("maxInflight"));
            assertEquals(0, other.get().getLong("accepted"));
        }
    }
}
