/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@link OrderedPipeline.Builder#keyedBy} and {@link OrderedPipeline.Builder#lanes}. */
class OrderedPipelineKeyedTest {
    record Item(int key, int seq) {
    }

    /** The function of the tests with a stuck value: a negative seq waits for {@code release}. */
    private static Item stuckIfNegative(Item it, CountDownLatch release, int timeoutSeconds) {
        if (it.seq() < 0) {
            try {
                release.await(timeoutSeconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return it;
    }

    @Test
    void equalKeysArriveInSubmissionOrderAndConsumerCallsNeverOverlap() throws Exception {
        int n = TestSupport.scaled(20_000), keys = 37;
        Map<Integer, Integer> last = new HashMap<>();
        AtomicInteger inside = new AtomicInteger(), overlaps = new AtomicInteger(), wrong = new AtomicInteger();
        try (OrderedPipeline<Item, Item> p = OrderedPipeline.<Item, Item>builder(it -> {
                    if (it.seq() % 7 == 0)
                        Thread.onSpinWait();
                    return it;
                })
                .keyedBy(Item::key)
                .lanes(8)
                .consumer(it -> {
                    if (inside.incrementAndGet() != 1)
                        overlaps.incrementAndGet();
                    Integer prev = last.put(it.key(), it.seq()); // plain map: calls never overlap
                    if (prev != null && prev >= it.seq())
                        wrong.incrementAndGet();
                    inside.decrementAndGet();
                })
                .name("keyed")
                .build()) {
            assertEquals(8, p.lanes());
            for (int i = 0; i < n; i++)
                p.submit(new Item(i % keys, i));
            p.awaitIdle();
            assertEquals(n, p.completed());
        }
        assertEquals(0, overlaps.get(), "consumer calls overlapped");
        assertEquals(0, wrong.get(), "a key's results came out of order");
    }

    /**
     * A value whose function blocks (on a latch the test opens only after every value of the
     * other lanes was delivered: a dependency would fail the await, not pass by timing) holds
     * back only its own lane. Runs on 8 virtual CPUs: callback CPU 0, functions on CPUs 1-7, so
     * the blocked worker is neither the consumer's nor the only parallel one.
     *
     * <p>The blocked function also occupies its worker: a job of another lane queued on that
     * worker waits until another worker of its lane takes it, which happens when a later job of
     * the lane runs elsewhere. Each shell places its job {@code seq} on parallel CPU
     * {@code seq % 7}; every other lane here gets 10 values (the last on the third parallel CPU),
     * so none of its jobs is left stranded behind the blocked one.
     */
    @Test
    @Tag("cpus8")
    void aSlowItemHoldsBackOnlyItsOwnLane() throws Exception {
        assumeTrue(Cpus.isVirtual() && Cpus.count() == 8, "needs PADATA_NR_CPUS=8");
        int lanes = 4, perLane = 10;
        CountDownLatch release = new CountDownLatch(1);
        Map<Integer, List<Integer>> delivered = new HashMap<>();
        int slowKey = 0, slowLane = OrderedPipeline.laneIndex(slowKey, lanes);
        try (OrderedPipeline<Item, Item> p = OrderedPipeline.<Item, Item>builder(it -> stuckIfNegative(it, release, 30))
                .keyedBy(Item::key)
                .lanes(lanes)
                .parallelCpus(CpuMask.of(1, 2, 3, 4, 5, 6, 7))
                .callbackCpu(0)
                .consumer(it -> {
                    synchronized (delivered) {
                        delivered.computeIfAbsent(it.key(), k -> new ArrayList<>()).add(it.seq());
                    }
                })
                .build()) {
            p.submit(new Item(slowKey, -1));
            p.submit(new Item(slowKey, 1)); // same key: must wait for the slow one
            int expected = 0;
            for (int lane = 0; lane < lanes; lane++) {
                if (lane == slowLane)
                    continue;
                int k = 1;
                while (OrderedPipeline.laneIndex(k, lanes) != lane)
                    k++;
                for (int i = 0; i < perLane; i++, expected++)
                    p.submit(new Item(k, i));
            }
            int want = expected;
            TestSupport.await("the other lanes' values", 20_000, () -> {
                synchronized (delivered) {
                    return delivered.entrySet().stream().filter(e -> e.getKey() != slowKey)
                            .mapToInt(e -> e.getValue().size()).sum() == want;
                }
            });
            synchronized (delivered) {
                assertTrue(!delivered.containsKey(slowKey), "the slow key's values came out before it finished");
            }
            release.countDown();
            p.awaitIdle();
            synchronized (delivered) {
                assertEquals(List.of(-1, 1), delivered.get(slowKey));
                for (Map.Entry<Integer, List<Integer>> e : delivered.entrySet())
                    if (e.getKey() != slowKey)
                        assertEquals(java.util.stream.IntStream.range(0, perLane).boxed().toList(), e.getValue());
            }
        }
    }

    @Test
    void aThrowingKeyFunctionFailsThatSubmitOnly() throws Exception {
        List<Integer> out = new ArrayList<>();
        try (OrderedPipeline<Integer, Integer> p = OrderedPipeline.<Integer, Integer>builder(x -> x)
                .keyedBy(x -> {
                    if (x == 3)
                        throw new IllegalArgumentException("no key for 3");
                    return x % 2;
                })
                .capacity(2) // a task lost by the failed submit would block the next ones
                .consumer(out::add)
                .build()) {
            for (int i = 0; i < 3; i++)
                p.submit(i);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.submit(3));
            assertEquals("no key for 3", e.getMessage());
            for (int i = 4; i < 8; i++)
                p.submit(i);
            p.awaitIdle();
            assertEquals(7, p.completed());
        }
        List<Integer> even = out.stream().filter(x -> x % 2 == 0).toList();
        List<Integer> odd = out.stream().filter(x -> x % 2 == 1).toList();
        assertEquals(List.of(0, 2, 4, 6), even);
        assertEquals(List.of(1, 5, 7), odd);
    }

    @Test
    void lanesWithoutKeyedByIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> OrderedPipeline.builder(x -> x).lanes(0));
        assertThrows(IllegalStateException.class, () -> OrderedPipeline.builder(x -> x).lanes(4).build());
    }
    /**
     * Each lane frees its jobs on its own, so the job a turned-away {@code trySubmit} found busy
     * may belong to a stuck lane: the next try moves on to the next ring position and finds a free
     * job. (The unkeyed pipeline gives the position back instead, where jobs come free in ring
     * order; done here, every retry would try the stuck lane's job again.) Runs on 8 virtual CPUs as
     * the test above: the stuck function holds parallel CPU 1, the other lane's three values run on
     * CPUs 1-3 (the one queued behind the stuck value is taken by an idle worker of its lane).
     */
    @Test
    @Tag("cpus8")
    void aTrySubmitTurnedAwayByAStuckLanesJobLetsTheNextOneFindAFreeJob() throws Exception {
        assumeTrue(Cpus.isVirtual() && Cpus.count() == 8, "needs PADATA_NR_CPUS=8");
        int lanes = 2, slowKey = 0, fastKey = 1;
        while (OrderedPipeline.laneIndex(fastKey, lanes) == OrderedPipeline.laneIndex(slowKey, lanes))
            fastKey++;
        CountDownLatch release = new CountDownLatch(1);
        try (OrderedPipeline<Item, Item> p = OrderedPipeline.<Item, Item>builder(it -> stuckIfNegative(it, release, 60))
                .keyedBy(Item::key)
                .lanes(lanes)
                .capacity(4)
                .parallelCpus(CpuMask.of(1, 2, 3, 4, 5, 6, 7))
                .callbackCpu(0)
                .build()) {
            try {
                p.submit(new Item(slowKey, -1)); // ring position 0: stuck until released
                for (int i = 0; i < 3; i++)
                    p.submit(new Item(fastKey, i)); // positions 1-3
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (p.completed() < 3 && System.nanoTime() < deadline)
                    Thread.sleep(1);
                assertEquals(3, p.completed(), "the other lane's values are done: their jobs are free");
                assertFalse(p.trySubmit(new Item(fastKey, 3)), "position 4 is position 0's job, still stuck");
                assertTrue(p.trySubmit(new Item(fastKey, 4)), "the next position's job is free");
            } finally {
                release.countDown();
            }
            p.awaitIdle();
            assertEquals(5, p.completed());
        }
    }
}
