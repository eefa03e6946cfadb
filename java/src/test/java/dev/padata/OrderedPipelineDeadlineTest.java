/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** submit(T, Duration), awaitIdle(Duration) and close(Duration) (docs/contract.md section 10). */
class OrderedPipelineDeadlineTest {
    /** A function that does not return until the test lets it. */
    private static Integer stuckUntil(CountDownLatch release, Integer x) {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return x;
    }

    @Test
    void closeWithADeadlineReturnsFalseInTimeWhenAFunctionNeverReturns() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> stuckUntil(release, x))
                .capacity(4).name("stuck").build();
        try {
            pipeline.submit(1);
            long t0 = System.nanoTime();
            assertFalse(pipeline.close(Duration.ofMillis(200)), "the stuck item is still in flight");
            long tookMs = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(tookMs >= 150 && tookMs < 20_000, "close(200 ms) took " + tookMs + " ms");
            assertFalse(pipeline.padata().isClosed(), "a close that timed out leaves the instance open");
            assertThrows(IllegalStateException.class, () -> pipeline.submit(2), "but refuses new values");
        } finally {
            release.countDown();
        }
        assertTrue(pipeline.close(Duration.ofSeconds(60)), "a later close finishes the job");
        assertTrue(pipeline.padata().isClosed());
        assertTrue(pipeline.close(Duration.ZERO), "a closed pipeline closes at once");
    }

    @Test
    void closeWithADeadlineReturnsTrueAndDeliversEverythingWhenTheWorkFinishes() {
        List<Integer> out = new ArrayList<>();
        var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> x).consumer(out::add).capacity(16).build();
        for (int i = 0; i < 1000; i++) {
            int v = i;
            assertTrue(assertDoesNotThrowInterrupted(() -> pipeline.submit(v, Duration.ofSeconds(60))));
        }
        assertTrue(pipeline.close(Duration.ofSeconds(60)));
        assertEquals(1000, out.size());
        for (int i = 0; i < 1000; i++)
            assertEquals(i, out.get(i));
        assertTrue(pipeline.padata().isClosed());
    }

    @Test
    void awaitIdleWithADeadlineSaysWhetherTheWorkFinishedInTime() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> stuckUntil(release, x)).capacity(2).build()) {
            assertTrue(pipeline.awaitIdle(Duration.ZERO), "nothing submitted: idle at once");
            pipeline.submit(1);
            assertFalse(pipeline.awaitIdle(Duration.ofMillis(50)));
            release.countDown();
            assertTrue(pipeline.awaitIdle(Duration.ofSeconds(60)));
            assertEquals(1, pipeline.completed());
        }
    }

    @Test
    void submitWithADeadlineReturnsFalseWhenThePipelineStaysFull() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Integer> out = new ArrayList<>();
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> stuckUntil(release, x))
                .consumer(out::add).capacity(1).build()) {
            assertTrue(pipeline.submit(1, Duration.ofSeconds(60)));
            long t0 = System.nanoTime();
            assertFalse(pipeline.submit(2, Duration.ofMillis(100)), "no room within 100 ms");
            assertTrue((System.nanoTime() - t0) / 1_000_000 >= 80);
            assertFalse(pipeline.submit(3, Duration.ZERO));
            release.countDown();
            assertTrue(pipeline.submit(4, Duration.ofSeconds(60)));
        }
        assertEquals(List.of(1, 4), out, "the refused values were never submitted");
    }

    /**
     * A submission that ends without a job (timed out, turned away, interrupted) gives its ring
     * position back, so the next one waits for the oldest job, the first to come free. Before,
     * the position stayed taken: with item 0's job free again and item 1's still in use, the next
     * submission waited for item 1's job and timed out (trySubmit answered false).
     */
    @Test
    void aSubmissionThatGetsNoJobDoesNotMakeTheNextOneWaitForALaterJob() throws Exception {
        // Item 0 waits in its function, item 1 in the consumer: no worker that a later job
        // needs waits for the test, wherever padata runs the jobs.
        CountDownLatch[] release = {new CountDownLatch(1), new CountDownLatch(1)};
        List<Integer> out = java.util.Collections.synchronizedList(new ArrayList<>());
        var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> x == 0 ? stuckUntil(release[0], x) : x)
                .consumer(v -> out.add(v == 1 ? stuckUntil(release[1], v) : v)).capacity(2).build();
        try {
            pipeline.submit(0);
            pipeline.submit(1);
            assertFalse(pipeline.submit(10, Duration.ofMillis(20)), "full: times out");
            assertFalse(pipeline.trySubmit(11), "full: turned away");
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> pipeline.submit(12));
            release[0].countDown();
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (pipeline.completed() < 1 && System.nanoTime() < deadline)
                Thread.onSpinWait();
            assertEquals(1, pipeline.completed(), "item 0 is done: its job is free");
            assertTrue(pipeline.trySubmit(2), "item 0's job is free, item 1's is not");
            release[1].countDown();
            assertTrue(pipeline.submit(3, Duration.ofSeconds(60)));
        } finally {
            release[0].countDown();
            release[1].countDown();
            assertTrue(pipeline.close(Duration.ofSeconds(60)));
        }
        assertEquals(List.of(0, 1, 2, 3), out);
    }

    @Test
    void deadlinesRejectNullAndSurviveHugeDurations() throws Exception {
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> x).capacity(2).build()) {
            assertThrows(NullPointerException.class, () -> pipeline.submit(1, null));
            assertThrows(NullPointerException.class, () -> pipeline.awaitIdle(null));
            assertThrows(NullPointerException.class, () -> pipeline.close(null));
            assertTrue(pipeline.submit(1, Duration.ofSeconds(Long.MAX_VALUE)));
            assertTrue(pipeline.awaitIdle(Duration.ofSeconds(Long.MAX_VALUE)));
            assertTrue(pipeline.submit(2, Duration.ofSeconds(-5)), "a negative timeout means no waiting, and there is room");
        }
    }

    @Test
    void deadlineCallsFromThePipelinesOwnCallbacksAreRefused() throws Exception {
        List<Throwable> seen = new ArrayList<>();
        AtomicReference<OrderedPipeline<Integer, Integer>> self = new AtomicReference<>();
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> x).consumer(x -> {
            if (x != 1)
                return;
            try {
                self.get().awaitIdle(Duration.ofSeconds(1));
            } catch (Throwable t) {
                seen.add(t);
            }
            try {
                self.get().close(Duration.ofSeconds(1));
            } catch (Throwable t) {
                seen.add(t);
            }
        }).build()) {
            self.set(pipeline);
            pipeline.submit(1);
            pipeline.awaitIdle();
            assertTrue(pipeline.trySubmit(2), "the refused close(Duration) left the pipeline open");
        }
        assertEquals(2, seen.size(), seen.toString());
        assertTrue(seen.stream().allMatch(t -> t instanceof IllegalStateException), seen.toString());
    }

    private interface InterruptibleBool {
        boolean get() throws InterruptedException;
    }

    private static boolean assertDoesNotThrowInterrupted(InterruptibleBool b) {
        try {
            return b.get();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
