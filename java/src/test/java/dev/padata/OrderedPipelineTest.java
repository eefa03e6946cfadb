/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrderedPipelineTest {
    @Test
    void resultsReachTheConsumerInSubmissionOrder() throws Exception {
        int n = TestSupport.scaled(100_000);
        List<Long> out = new ArrayList<>();
        try (var pipeline = OrderedPipeline.<Long, Long>builder(x -> {
                    long h = x;
                    for (int i = 0; i < (int) (x % 50); i++)
                        h = h * 31 + i;  // uneven work so jobs finish out of order
                    return x;
                })
                .consumer(out::add).capacity(256).name("pipe").build()) {
            for (long i = 0; i < n; i++)
                pipeline.submit(i);
        }
        assertEquals(n, out.size());
        for (int i = 0; i < n; i++)
            assertEquals(i, out.get(i));
    }

    @Test
    void submitBlocksWhileThePipelineIsFullInsteadOfThrowingBusy() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger consumed = new AtomicInteger();
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return x;
        }).consumer(x -> consumed.incrementAndGet()).capacity(2).build()) {
            pipeline.submit(1);
            pipeline.submit(2);
            assertFalse(pipeline.trySubmit(3), "no room: trySubmit says so at once");
            Thread blocked = Thread.ofPlatform().start(() -> {
                try {
                    pipeline.submit(4);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            // Parked, untimed or in one of its timed back-off waits (the state flips between them).
            TestSupport.await("submitter to block", 10_000, () -> blocked.getState() == Thread.State.WAITING
                    || blocked.getState() == Thread.State.TIMED_WAITING);
            release.countDown();
            blocked.join(10_000);
            assertFalse(blocked.isAlive());
            pipeline.awaitIdle();
            assertEquals(3, consumed.get());
            assertEquals(3, pipeline.completed());
        }
    }

    @Test
    void aBlockedSubmitCanBeInterrupted() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return x;
        }).capacity(1).build()) {
            pipeline.submit(1);
            Thread.currentThread().interrupt();
            assertThrows(InterruptedException.class, () -> pipeline.submit(2));
            release.countDown();
        }
    }

    @Test
    void futuresCompleteInOrderWithResultsOrFailures() throws Exception {
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        List<Integer> completionOrder = java.util.Collections.synchronizedList(new ArrayList<>());
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
            if (x % 10 == 3)
                throw new IllegalArgumentException("bad " + x);
            return x * 2;
        }).build()) {
            for (int i = 0; i < 1000; i++) {
                int seq = i;
                CompletableFuture<Integer> f = pipeline.submitAsync(i);
                f.whenComplete((v, e) -> completionOrder.add(seq));
                futures.add(f);
            }
        }
        for (int i = 0; i < 1000; i++) {
            CompletableFuture<Integer> f = futures.get(i);
            if (i % 10 == 3) {
                var e = assertThrows(ExecutionException.class, f::get);
                assertInstanceOf(IllegalArgumentException.class, e.getCause());
                assertEquals("bad " + i, e.getCause().getMessage());
            } else {
                assertEquals(i * 2, f.get(1, TimeUnit.SECONDS));
            }
            assertEquals(i, completionOrder.get(i));
        }
    }

    @Test
    void failuresOfTheFunctionAndTheConsumerReachTheErrorHandlerInOrder() throws Exception {
        List<String> events = new ArrayList<>();
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
                    if (x % 7 == 0)
                        throw new IllegalStateException("f" + x);
                    return x;
                })
                .consumer(x -> {
                    if (x % 5 == 0)
                        throw new IllegalStateException("c" + x);
                    events.add("ok" + x);
                })
                .onError((in, e) -> events.add("err" + in + ":" + e.getMessage()))
                .build()) {
            for (int i = 0; i < 2000; i++)
                pipeline.submit(i);
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 2000; i++)
            expected.add(i % 7 == 0 ? "err" + i + ":f" + i : i % 5 == 0 ? "err" + i + ":c" + i : "ok" + i);
        assertEquals(expected, events);
    }

    @Test
    void aPipelineCanShareAnExistingInstanceAndLeavesItOpen() throws Exception {
        try (Workqueue wq = Workqueue.create("shared"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            List<String> out = new ArrayList<>();
            try (var pipeline = OrderedPipeline.<Integer, String>builder(Object::toString).padata(p).consumer(out::add).build()) {
                assertEquals(p, pipeline.padata());
                for (int i = 0; i < 100; i++)
                    pipeline.submit(i);
            }
            assertFalse(p.isClosed());
            assertEquals(100, out.size());
            assertEquals("99", out.get(99));
        }
    }

    @Test
    void useAfterCloseIsAnIllegalStateAndDoubleCloseIsHarmless() throws Exception {
        var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> x).build();
        pipeline.submit(1);
        pipeline.close();
        pipeline.close();
        assertTrue(pipeline.padata().isClosed());
        var e = assertThrows(IllegalStateException.class, () -> pipeline.submit(2));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> pipeline.trySubmit(2));
        assertThrows(IllegalStateException.class, () -> pipeline.submitAsync(2));
    }

    @Test
    void closingFromTheConsumerIsAnIllegalState() throws Exception {
        List<Throwable> errors = new ArrayList<>();
        OrderedPipeline<Integer, Integer>[] self = new OrderedPipeline[1];
        try (var pipeline = OrderedPipeline.<Integer, Integer>builder(x -> x).consumer(x -> {
            try {
                self[0].close();
            } catch (Throwable t) {
                errors.add(t);
            }
        }).build()) {
            self[0] = pipeline;
            pipeline.submit(1);
        }
        assertEquals(1, errors.size());
        assertInstanceOf(IllegalStateException.class, errors.get(0));
    }

    @Test
    void builderOptionsAreChecked() {
        assertThrows(NullPointerException.class, () -> OrderedPipeline.builder(null));
        var b = OrderedPipeline.<Integer, Integer>builder(x -> x);
        assertThrows(IllegalArgumentException.class, () -> b.capacity(0));
        assertThrows(IllegalArgumentException.class, () -> b.callbackCpu(-1));
        assertThrows(IllegalArgumentException.class, () -> b.name(""));
        var e = assertThrows(IllegalArgumentException.class, () -> b.callbackCpu(1000).build());
        assertTrue(e.getMessage().contains("1000"), e.getMessage());
    }
}
