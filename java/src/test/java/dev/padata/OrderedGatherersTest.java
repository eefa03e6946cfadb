/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrderedGatherersTest {
    /** Uneven work, so the functions finish out of order. */
    private static int spin(int x) {
        long h = x;
        for (int i = 0; i < (x * 7919) % 2000; i++)
            h = h * 31 + i;
        return h == 42 ? -x : x;   // never true for these inputs; keeps the loop alive
    }

    @Test
    void resultsComeOutInEncounterOrder() {
        int n = TestSupport.scaled(50_000);
        List<Integer> out = IntStream.range(0, n).boxed()
                .gather(OrderedGatherers.mapOrdered(OrderedGatherersTest::spin))
                .toList();
        assertEquals(n, out.size());
        for (int i = 0; i < n; i++)
            assertEquals(i, out.get(i));
    }

    @Test
    void theFunctionRunsOnPadataWorkersNotOnTheStreamThread() {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        IntStream.range(0, 2000).boxed()
                .gather(OrderedGatherers.mapOrdered(x -> {
                    threads.add(Thread.currentThread().getName());
                    return x;
                }))
                .forEach(x -> { });
        assertFalse(threads.contains(Thread.currentThread().getName()), threads.toString());
        assertTrue(threads.stream().allMatch(t -> t.startsWith("padata-gather/")), threads.toString());
    }

    @Test
    void nullResultsArePassedOnAsNull() {
        List<Integer> out = Stream.of(1, 2, 3, 4)
                .gather(OrderedGatherers.<Integer, Integer>mapOrdered(x -> x % 2 == 0 ? null : x))
                .toList();
        assertEquals(Arrays.asList(1, null, 3, null), out);
    }

    @Test
    void inFlightNeverExceedsTheBoundMeasuredFromInsideTheFunction() {
        int max = 8;
        AtomicInteger pushed = new AtomicInteger();
        AtomicInteger worst = new AtomicInteger();
        int n = TestSupport.scaled(20_000);
        IntStream.range(0, n).boxed()
                .gather(OrderedGatherers.mapOrdered(max, (Integer i) -> {
                    // i was submitted while fewer than max were between upstream and downstream
                    worst.accumulateAndGet(i - pushed.get() + 1, Math::max);
                    return spin(i);
                }))
                .forEach(x -> pushed.incrementAndGet());
        assertEquals(n, pushed.get());
        assertTrue(worst.get() <= max, "elements in flight reached " + worst.get() + " > " + max);
    }

    @Test
    void aStalledHeadElementStopsTheStreamAfterExactlyMaxInFlightElements() throws Exception {
        int max = 5;
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        AtomicInteger pulled = new AtomicInteger();
        AtomicReference<List<Integer>> result = new AtomicReference<>();
        Thread driver = Thread.ofPlatform().start(() -> result.set(IntStream.range(0, 100).boxed()
                .peek(x -> pulled.incrementAndGet())
                .gather(OrderedGatherers.mapOrdered(max, (Integer x) -> {
                    started.incrementAndGet();
                    if (x == 0)
                        await(release);
                    return x;
                }))
                .toList()));
        try {
            // The driver submitted 0..max-1, pulled element max and now waits for result 0.
            TestSupport.await("the driver to block on the head result", 30_000,
                    () -> pulled.get() == max + 1 && started.get() == max && parked(driver));
            assertEquals(max, started.get(), "no element beyond the bound was started");
            assertEquals(max + 1, pulled.get(), "no element beyond the bound was pulled");
        } finally {
            // Also when an assertion failed: the held element and the driver finish, so the shared
            // instance is free for the next test (left held, the next one waited forever).
            release.countDown();
            driver.join(60_000);
        }
        assertFalse(driver.isAlive(), "the driver did not finish after the release");
        assertEquals(IntStream.range(0, 100).boxed().toList(), result.get());
    }

    @Test
    void theFirstFailureIsRethrownInOrderWithItsCauseAndLaterWorkIsAbandoned() {
        int open = OrderedGatherers.OPEN.get();
        int max = 8;
        IllegalStateException boom = new IllegalStateException("boom at 5");
        AtomicInteger calls = new AtomicInteger();
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        CompletionException e = assertThrows(CompletionException.class, () -> IntStream.range(0, 100_000).boxed()
                .gather(OrderedGatherers.mapOrdered(max, (Integer x) -> {
                    calls.incrementAndGet();
                    if (x == 5)
                        throw boom;
                    if (x == 12)
                        throw new IllegalArgumentException("a later failure must not win");
                    return spin(x);
                }))
                .forEach(seen::add));
        assertSame(boom, e.getCause());
        assertTrue(e.getMessage().contains("#5"), e.getMessage());
        assertEquals(List.of(0, 1, 2, 3, 4), seen, "the results before the failure, in order, and nothing after");
        int after = calls.get();
        assertTrue(after <= 6 + max, "fn ran " + after + " times: the work after the failure was not abandoned");
        // Nothing is still running or starts later: the stream waited for the calls in progress.
        assertEquals(after, calls.get());
        assertEquals(open, OrderedGatherers.OPEN.get(), "the stream's pipeline was closed");
    }

    @Test
    void aCheckedStyleErrorKeepsItsTypeAsTheCause() {
        Error err = new AssertionError("an error, not an exception");
        CompletionException e = assertThrows(CompletionException.class, () -> Stream.of(1, 2, 3)
                .gather(OrderedGatherers.mapOrdered((Integer x) -> {
                    if (x == 2)
                        throw err;
                    return x;
                }))
                .toList());
        assertSame(err, e.getCause());
    }

    @Test
    void limitStopsAnInfiniteUpstreamAndNoFunctionStartsAfterwards() {
        int open = OrderedGatherers.OPEN.get();
        int max = 4;
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger running = new AtomicInteger();
        AtomicInteger pulled = new AtomicInteger();
        List<Integer> out = Stream.iterate(0, i -> i + 1)
                .peek(x -> pulled.incrementAndGet())
                .gather(OrderedGatherers.mapOrdered(max, (Integer x) -> {
                    running.incrementAndGet();
                    calls.incrementAndGet();
                    int r = spin(x);
                    running.decrementAndGet();
                    return r;
                }))
                .limit(10)
                .toList();
        assertEquals(IntStream.range(0, 10).boxed().toList(), out);
        assertTrue(pulled.get() <= 10 + max, "pulled " + pulled.get() + " elements for limit(10)");
        int c = calls.get();
        assertTrue(c <= 10 + max, "fn ran " + c + " times for limit(10) with " + max + " in flight");
        assertEquals(0, running.get(), "the calls in flight finished before the terminal operation returned");
        assertEquals(c, calls.get(), "no call started after the stream ended");
        assertEquals(open, OrderedGatherers.OPEN.get(), "the stream's pipeline was closed");
    }

    @Test
    void findFirstAndAnyMatchShortCircuit() {
        int open = OrderedGatherers.OPEN.get();
        AtomicInteger calls = new AtomicInteger();
        Optional<Integer> first = Stream.iterate(0, i -> i + 1)
                .gather(OrderedGatherers.mapOrdered(16, (Integer x) -> {
                    calls.incrementAndGet();
                    return x * 2;
                }))
                .filter(x -> x > 100)
                .findFirst();
        assertEquals(Optional.of(102), first);
        assertTrue(calls.get() <= 52 + 16, "fn ran " + calls.get() + " times");
        assertTrue(Stream.iterate(0, i -> i + 1)
                .gather(OrderedGatherers.mapOrdered((Integer x) -> x))
                .anyMatch(x -> x == 1000));
        assertEquals(open, OrderedGatherers.OPEN.get(), "the streams' pipelines were closed");
    }

    @Test
    void onAParallelStreamTheGatherStageIsEvaluatedSequentiallyInEncounterOrder() {
        int n = TestSupport.scaled(100_000);
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger worstConcurrency = new AtomicInteger();
        Set<String> feeders = ConcurrentHashMap.newKeySet();
        List<Integer> out = IntStream.range(0, n).boxed().parallel()
                .map(x -> x + 1)
                .peek(x -> {         // runs in the same call as the gatherer's integrator
                    feeders.add(Thread.currentThread().getName());
                    worstConcurrency.accumulateAndGet(inside.incrementAndGet(), Math::max);
                    inside.decrementAndGet();
                })
                .gather(OrderedGatherers.mapOrdered((Integer x) -> spin(x - 1)))
                .toList();
        assertEquals(IntStream.range(0, n).boxed().toList(), out);
        assertEquals(1, worstConcurrency.get(), "the gather stage was fed from more than one thread at once");
        assertTrue(feeders.size() >= 1, feeders.toString());
    }

    @Test
    void onAParallelStreamALaterLimitGivesTheRightPrefixButDoesNotShortCircuit() {
        // The JDK evaluates a parallel gather stage to the end before the stages after it (as for
        // Gatherers.mapConcurrent): the result is right, the upstream is not cut short. This test
        // pins that documented behaviour; sequential streams short-circuit (tests above).
        AtomicInteger calls = new AtomicInteger();
        List<Integer> out = IntStream.range(0, 10_000).boxed().parallel()
                .gather(OrderedGatherers.mapOrdered(8, (Integer x) -> {
                    calls.incrementAndGet();
                    return x;
                }))
                .limit(20)
                .toList();
        assertEquals(IntStream.range(0, 20).boxed().toList(), out);
        assertEquals(10_000, calls.get());
    }

    @Test
    void anEmptyStreamGivesAnEmptyResult() {
        assertEquals(List.of(), Stream.<Integer>empty().gather(OrderedGatherers.mapOrdered((Integer x) -> x)).toList());
    }

    @Test
    void manyStreamsInARowReuseTheSharedInstance() {
        for (int k = 0; k < 200; k++) {
            final int base = k;
            assertEquals(List.of(base, base + 1, base + 2), Stream.of(0, 1, 2)
                    .gather(OrderedGatherers.mapOrdered(2, (Integer x) -> x + base)).toList());
        }
        assertFalse(OrderedGatherers.Shared.PADATA.isClosed());
    }

    @Test
    void aMapOrderedStreamInsideTheFunctionIsRefused() {
        CompletionException e = assertThrows(CompletionException.class, () -> Stream.of(1)
                .gather(OrderedGatherers.mapOrdered((Integer x) -> Stream.of(x)
                        .gather(OrderedGatherers.mapOrdered((Integer y) -> y)).toList()))
                .toList());
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("inside a mapOrdered function"), e.getCause().getMessage());
    }

    @Test
    void argumentsAreChecked() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OrderedGatherers.mapOrdered(0, x -> x));
        assertTrue(e.getMessage().contains("0"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> OrderedGatherers.mapOrdered(OrderedGatherers.MAX_IN_FLIGHT + 1, x -> x));
        assertThrows(NullPointerException.class, () -> OrderedGatherers.mapOrdered(null));
        assertThrows(NullPointerException.class, () -> OrderedGatherers.mapOrdered(4, null));
    }

    /** True when {@code t} is parked or waiting (the stream thread parks in slices of a millisecond). */
    private static boolean parked(Thread t) {
        Thread.State st = t.getState();
        return st == Thread.State.WAITING || st == Thread.State.TIMED_WAITING;
    }

    /**
     * At capacity the stream thread waits for half the window, not for the oldest element: a
     * delivered result wakes it at most once per wait, and each such wait was for half the
     * window (plus the last one at the end), however the workers' timing falls. It used to take
     * one result per wait (a LinkedBlockingQueue.take per element at capacity: a wake-up per
     * element whenever fn was slower than the stream thread).
     */
    @Test
    void theStreamThreadIsWokenOncePerHalfWindowNotPerElement() {
        int max = 16, n = 4_000;
        long before = OrderedGatherers.STREAM_WAKEUPS.get();
        List<Integer> out = IntStream.range(0, n).boxed()
                .gather(OrderedGatherers.mapOrdered(max, (Integer x) -> {
                    long t = System.nanoTime() + 50_000;   // slower than the stream thread wakes
                    while (System.nanoTime() < t)
                        Thread.onSpinWait();
                    return x;
                }))
                .toList();
        assertEquals(IntStream.range(0, n).boxed().toList(), out);
        long wakeups = OrderedGatherers.STREAM_WAKEUPS.get() - before;
        assertTrue(wakeups <= n / (max / 2) + 1, wakeups + " wake-ups for " + n + " elements in a window of " + max);
    }

    /**
     * The batching never holds a finished result back behind later ones for longer than about a
     * millisecond: the hook holds the callback worker right after result 9, so results 10 to 39
     * cannot come, until result 5 has reached the downstream. No result is done before every
     * element was submitted (they all wait for element 39 to be pulled), so the stream thread
     * meets them in finish(), which used to wait for every element left before pushing any:
     * the hook then gave up after 30 s.
     */
    @Test
    void finishedResultsAreNotHeldBackBehindLaterOnes() throws Exception {
        CountDownLatch allPulled = new CountDownLatch(1);
        CountDownLatch sawFive = new CountDownLatch(1);
        AtomicInteger gaveUp = new AtomicInteger();
        OrderedGatherers.testAfterDeliver = k -> {
            if (k == 9 && !awaitFor(sawFive, 30_000))
                gaveUp.incrementAndGet();
        };
        try {
            List<Integer> out = IntStream.range(0, 40).boxed()
                    .peek(x -> {
                        if (x == 39)
                            allPulled.countDown();
                    })
                    .gather(OrderedGatherers.mapOrdered(64, (Integer x) -> {
                        await(allPulled);   // released by the stream thread itself: never waits for results
                        return x;
                    }))
                    .peek(x -> {
                        if (x == 5)
                            sawFive.countDown();
                    })
                    .toList();
            assertEquals(IntStream.range(0, 40).boxed().toList(), out);
        } finally {
            OrderedGatherers.testAfterDeliver = null;
        }
        assertEquals(0, gaveUp.get(), "result 5 was held back until the results after it came");
    }

    /**
     * An expensive function keeps the starting window (64 per CPU, below the default bound of
     * 1024 on up to 15 CPUs): findFirst abandons the stream after at most that many calls. With
     * the whole default bound in flight from the start it ran 600-1023 calls of 2 ms on two CPUs.
     */
    @Test
    void findFirstOnAnExpensiveFunctionCostsAtMostTheStartingWindow() {
        int start = Math.min(OrderedGatherers.defaultInFlight(), 64 * Math.max(1, Cpus.count()));
        AtomicInteger calls = new AtomicInteger();
        Optional<Integer> first = Stream.iterate(0, i -> i + 1)
                .gather(OrderedGatherers.mapOrdered((Integer x) -> {
                    calls.incrementAndGet();
                    long t = System.nanoTime() + 2_000_000;
                    while (System.nanoTime() < t)
                        Thread.onSpinWait();
                    return x;
                }))
                .findFirst();
        assertEquals(Optional.of(0), first);
        assertTrue(calls.get() <= start, calls.get() + " calls of fn for findFirst, more than the starting window " + start);
    }

    /**
     * The stream thread takes result k and may submit element k + maxInFlight at once, while
     * result k's job is still in its serial() (the pipeline frees it after the consumer
     * returns). With a pipeline of maxInFlight jobs that element needed that very job and parked
     * in the pipeline until a batch of results had left (up to a millisecond each time); the
     * pipeline has one job more, so the element takes the job of element k - 1. The hook holds
     * the callback worker right after result 0 is delivered: the stream thread must still submit
     * element 2 and pull element 3 (with maxInFlight jobs, element 2 waits in the pipeline's
     * Room for as long as the hook holds), then wait for result 1 in the gatherer.
     */
    @Test
    void anElementTakenAtOnceAfterItsResultNeverWaitsForThatResultsJob() throws Exception {
        CountDownLatch delivered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger pulled = new AtomicInteger();
        OrderedGatherers.testAfterDeliver = k -> {
            if (k == 0) {
                delivered.countDown();
                await(release);
            }
        };
        AtomicReference<List<Integer>> result = new AtomicReference<>();
        Thread driver = Thread.ofPlatform().start(() -> result.set(IntStream.range(0, 6).boxed()
                .peek(x -> pulled.incrementAndGet())
                .gather(OrderedGatherers.mapOrdered(2, (Integer x) -> x))
                .toList()));
        try {
            await(delivered);
            TestSupport.await("element 3 to be pulled (element 2 submitted while result 0's job is held)", 10_000,
                    () -> pulled.get() >= 4);
            AtomicReference<List<String>> frames = new AtomicReference<>();
            TestSupport.await("the driver to wait for result 1 in awaitResults", 30_000, () -> {
                frames.set(Arrays.stream(driver.getStackTrace())
                        .map(f -> f.getClassName() + "." + f.getMethodName()).toList());
                return frames.get().stream().anyMatch(f -> f.endsWith("awaitResults"));
            });
            assertTrue(frames.get().stream().noneMatch(f -> f.startsWith(Room.class.getName())),
                    "the driver waits for a job of the pipeline: " + frames.get());
            assertEquals(4, pulled.get(), "element 4 pulled while result 1 cannot have been delivered");
        } finally {
            release.countDown();
            driver.join();
            OrderedGatherers.testAfterDeliver = null;
        }
        assertEquals(List.of(0, 1, 2, 3, 4, 5), result.get());
    }

    private static boolean awaitFor(CountDownLatch latch, long ms) {
        try {
            return latch.await(ms, java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
