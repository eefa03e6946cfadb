/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Padata.doMultithreaded (padata_do_multithreaded): cutting, threads, errors, exceptions. */
class MultithreadedTest {
    private Workqueue wq;
    private Padata padata;

    @BeforeEach
    void open() {
        wq = Workqueue.create("mt-java");
        padata = Padata.allocPossible(wq);
        padata.start();
    }

    @AfterEach
    void close() {
        padata.close();
        wq.close();
    }

    private record Chunk(long start, long end, Thread thread) {
    }

    private static List<Chunk> sorted(List<Chunk> chunks) {
        List<Chunk> v = new ArrayList<>(chunks);
        v.sort((a, b) -> Long.compare(a.start, b.start));
        return v;
    }

    /** The chunks tile [start, start + size) and every chunk but a lone one has minChunk indexes. */
    private static void assertTiles(List<Chunk> chunks, long start, long size, long minChunk) {
        List<Chunk> v = sorted(chunks);
        long at = start;
        for (Chunk c : v) {
            assertEquals(at, c.start, "gap or overlap at " + at);
            assertTrue(c.end > c.start, "empty chunk at " + at);
            if (v.size() > 1)
                assertTrue(c.end - c.start >= minChunk, "chunk " + c + " below minChunk " + minChunk);
            at = c.end;
        }
        assertEquals(start + size, at);
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        int n = 100_003;
        AtomicIntegerArray hits = new AtomicIntegerArray(n);
        List<Chunk> chunks = Collections.synchronizedList(new ArrayList<>());
        padata.doMultithreaded(3, n - 3, 100, 64, (from, to) -> {
            for (long i = from; i < to; i++)
                hits.incrementAndGet((int) i);
            chunks.add(new Chunk(from, to, Thread.currentThread()));
        });
        for (int i = 0; i < n; i++)
            assertEquals(i >= 3 ? 1 : 0, hits.get(i), "index " + i);
        assertTiles(chunks, 3, n - 3, 100);
    }

    @Test
    void atMostMaxThreadsRunChunksAndTheCallerIsOneOfThem() {
        for (int maxThreads : new int[] {1, 2, 3, 64}) {
            Thread caller = Thread.currentThread();
            CountDownLatch callerRan = new CountDownLatch(1);
            Set<Thread> threads = ConcurrentHashMap.newKeySet();
            padata.doMultithreaded(0, 4096, 1, maxThreads, (from, to) -> {
                threads.add(Thread.currentThread());
                if (Thread.currentThread() == caller) {
                    callerRan.countDown();
                } else {
                    try { // helpers hold their first chunk until the caller ran one
                        assertTrue(callerRan.await(30, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
            });
            assertEquals(0, callerRan.getCount(), "the caller ran no chunk");
            assertTrue(threads.size() <= Math.min(maxThreads, padata.cpumask(CpuMaskType.PARALLEL).weight()),
                    threads.size() + " threads for maxThreads " + maxThreads);
        }
    }

    @Test
    void sizeZeroRunsNothingAndASmallRangeIsOneChunkOnTheCaller() {
        AtomicInteger calls = new AtomicInteger();
        padata.doMultithreaded(5, 0, 1, 8, (from, to) -> calls.incrementAndGet());
        assertEquals(0, calls.get());
        List<Chunk> chunks = Collections.synchronizedList(new ArrayList<>());
        padata.doMultithreaded(5, 10, 100, 8, (from, to) -> chunks.add(new Chunk(from, to, Thread.currentThread())));
        assertEquals(List.of(new Chunk(5, 15, Thread.currentThread())), chunks);
    }

    @Test
    void rangesUpToLongMaxValueDoNotOverflow() {
        for (long[] c : new long[][] {{0, Long.MAX_VALUE}, {Long.MAX_VALUE - 1000, 1000}, {Long.MAX_VALUE - 1, 1}}) {
            List<Chunk> chunks = Collections.synchronizedList(new ArrayList<>());
            padata.doMultithreaded(c[0], c[1], 1, 8, (from, to) -> chunks.add(new Chunk(from, to, null)));
            assertTiles(chunks, c[0], c[1], 1);
        }
    }

    @Test
    void badArgumentsAreIllegalArgumentsNamingTheValue() {
        RangeTask none = (from, to) -> { throw new AssertionError("ran"); };
        assertThrows(NullPointerException.class, () -> padata.doMultithreaded(0, 1, 1, 1, null));
        for (long[] c : new long[][] {{-1, 1, 1, 1}, {0, -1, 1, 1}, {1, Long.MAX_VALUE, 1, 1}, {0, 1, 0, 1},
                {0, 1, -5, 1}, {0, 1, 1, 0}, {0, 1, 1, -1}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> padata.doMultithreaded(c[0], c[1], c[2], (int) c[3], none));
            assertTrue(e.getMessage().contains("start " + c[0] + ", size " + c[1]), e.getMessage());
        }
    }

    @Test
    void aStoppedOrClosedInstanceIsAnIllegalState() {
        padata.stop();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> padata.doMultithreaded(0, 10, 1, 2, (from, to) -> { }));
        assertTrue(e.getMessage().contains("not started"), e.getMessage());
        Padata other = Padata.allocPossible(wq);
        other.close();
        assertThrows(IllegalStateException.class, () -> other.doMultithreaded(0, 10, 1, 2, (from, to) -> { }));
    }

    @Test
    void aChunksExceptionIsRethrownAfterEveryChunkFinishedWithTheOthersSuppressed() {
        AtomicInteger started = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        List<RuntimeException> thrown = Collections.synchronizedList(new ArrayList<>());
        RuntimeException e = assertThrows(RuntimeException.class, () -> padata.doMultithreaded(0, 1 << 12, 1, 8,
                (from, to) -> {
                    started.incrementAndGet();
                    finished.incrementAndGet();
                    RuntimeException x = new IllegalStateException("chunk " + from);
                    thrown.add(x);
                    throw x;
                }));
        assertEquals(started.get(), finished.get());
        assertEquals(thrown.size(), finished.get(), "every chunk ran although the first threw");
        assertTrue(thrown.contains(e));
        assertEquals(thrown.size() - 1, e.getSuppressed().length);
        // An Error comes through as itself.
        AssertionError boom = new AssertionError("boom");
        assertSame(boom, assertThrows(AssertionError.class,
                () -> padata.doMultithreaded(0, 1, 1, 1, (from, to) -> { throw boom; })));
        // The instance still works.
        AtomicInteger calls = new AtomicInteger();
        padata.doMultithreaded(0, 100, 10, 4, (from, to) -> calls.incrementAndGet());
        assertTrue(calls.get() > 0);
    }

    @Test
    void callsThatWouldWaitForTheJobThrowFromEveryChunkInsteadOfHanging() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            CpuMask one = CpuMask.of(CpuMask.active().first());
            List<Throwable> unexpected = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger refused = new AtomicInteger();
            AtomicInteger chunks = new AtomicInteger();
            padata.doMultithreaded(0, 64, 1, 8, (from, to) -> {
                chunks.incrementAndGet();
                for (Runnable r : new Runnable[] {
                        () -> padata.doMultithreaded(0, 10, 1, 2, (a, b) -> { }),
                        () -> padata.setCpumask(CpuMaskType.PARALLEL, one),
                        padata::close}) {
                    try {
                        r.run();
                        unexpected.add(new AssertionError("not refused"));
                    } catch (IllegalStateException e) {
                        refused.incrementAndGet();
                    } catch (Throwable t) {
                        unexpected.add(t);
                    }
                }
            });
            assertEquals(List.of(), unexpected);
            assertEquals(3 * chunks.get(), refused.get());
            assertTrue(!padata.isClosed());
        });
    }

    @Test
    void concurrentCallsFromManyThreadsEachSeeOnlyTheirOwnChunks() throws Exception {
        int threads = 12; // more than the slot table's first size
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long base = t * 1_000_000L;
            ts.add(Thread.ofPlatform().start(() -> {
                try {
                    for (int round = 0; round < 30; round++) {
                        java.util.concurrent.atomic.AtomicLong sum = new java.util.concurrent.atomic.AtomicLong();
                        AtomicInteger foreign = new AtomicInteger();
                        padata.doMultithreaded(base, 1000, 10, 4, (from, to) -> {
                            if (from < base || to > base + 1000)
                                foreign.incrementAndGet();
                            for (long i = from; i < to; i++)
                                sum.addAndGet(i - base);
                        });
                        assertEquals(0, foreign.get(), "a chunk of another call");
                        assertEquals(999L * 1000 / 2, sum.get());
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread t : ts)
            t.join(60_000);
        assertEquals(List.of(), failures);
    }

    @Test
    void aCpumaskChangeWaitsForTheRunningChunks() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        AtomicInteger doneWhenChanged = new AtomicInteger(-1);
        Thread runner = Thread.ofPlatform().start(() -> padata.doMultithreaded(0, 1000, 1, 4, (from, to) -> {
            started.incrementAndGet();
            entered.countDown();
            try {
                assertTrue(release.await(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            done.incrementAndGet();
        }));
        assertTrue(entered.await(30, TimeUnit.SECONDS));
        CpuMask one = CpuMask.of(CpuMask.active().first());
        Thread changer = Thread.ofPlatform().start(() -> {
            padata.setCpumask(CpuMaskType.PARALLEL, one);
            doneWhenChanged.set(done.get());
        });
        // Not a timing assumption: whenever the change returns, every chunk must have finished.
        changer.join(50);
        assertEquals(-1, doneWhenChanged.get(), "the cpumask change returned while a chunk was running");
        release.countDown();
        runner.join(30_000);
        changer.join(30_000);
        assertEquals(started.get(), done.get());
        assertEquals(done.get(), doneWhenChanged.get(), "the change returned before every chunk finished");
        assertEquals(one, padata.cpumask(CpuMaskType.PARALLEL));
    }

    @Test
    void insideAJobsParallelItIsAnIllegalState() throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        TestSupport.submit(padata, PadataJob.of(() -> {
            try {
                padata.doMultithreaded(0, 10, 1, 2, (a, b) -> { });
            } catch (Throwable t) {
                thrown.set(t);
            }
        }, done::countDown), CpuMask.active().first());
        assertTrue(done.await(30, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, thrown.get());
    }

    @Test
    void helpersGetAPadataNameAndTheContextClassLoader() {
        Set<String> names = ConcurrentHashMap.newKeySet();
        Thread caller = Thread.currentThread();
        ClassLoader loader = caller.getContextClassLoader();
        AtomicInteger wrongLoader = new AtomicInteger();
        padata.doMultithreaded(0, 1 << 16, 1, 64, (from, to) -> {
            Thread t = Thread.currentThread();
            if (t != caller) {
                names.add(t.getName());
                if (t.getContextClassLoader() != loader)
                    wrongLoader.incrementAndGet();
            }
        });
        for (String n : names)
            assertTrue(n.startsWith("padata-mt-java/"), n);
        assertEquals(0, wrongLoader.get());
    }
}
