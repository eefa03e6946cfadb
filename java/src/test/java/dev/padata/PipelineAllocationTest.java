/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Steady state allocates nothing per item in OrderedPipeline (its job ring, counters and
 * waits) nor in the waiting doParallel, also when submitters park because the pipeline or the
 * instance is full. The values here are allocated once, so every byte counted is the library's.
 */
class PipelineAllocationTest {
    private static final Integer VALUE = 12345;

    private static long threadBytes(com.sun.management.ThreadMXBean mx, Set<Long> threads) {
        long[] ids = threads.stream().mapToLong(Long::longValue).toArray();
        return Arrays.stream(mx.getThreadAllocatedBytes(ids)).sum();
    }

    /** Submits {@code n} values (about: whole lists for submitAll) to {@code p}; returns how many. */
    private interface Feeder {
        long feed(OrderedPipeline<Integer, Integer> p, long n) throws InterruptedException;
    }

    /**
     * Bytes allocated per item by this thread and the pipeline's workers while {@code feed}
     * submits about 200,000 values to a pipeline of capacity 64 (small: the submitter waits for
     * room all the time), after a warm-up of 300,000; every value delivered, counted.
     */
    private static double pipelineBytesPerItem(String name, Feeder feed) throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
        Set<Long> threads = ConcurrentHashMap.newKeySet();
        AtomicLong consumed = new AtomicLong();
        boolean[] record = {true};
        try (OrderedPipeline<Integer, Integer> pipeline = OrderedPipeline.<Integer, Integer>builder(x -> {
                    if (record[0])
                        threads.add(Thread.currentThread().threadId());
                    return x;
                })
                .consumer(x -> {
                    if (record[0])
                        threads.add(Thread.currentThread().threadId());
                    consumed.incrementAndGet();
                })
                .capacity(64)
                .name(name).build()) {
            long warm = feed.feed(pipeline, TestSupport.scaled(300_000));
            pipeline.awaitIdle();
            record[0] = false;
            threads.add(Thread.currentThread().threadId());
            long before = threadBytes(mx, threads);
            long n = feed.feed(pipeline, TestSupport.scaled(200_000));
            pipeline.awaitIdle();
            long after = threadBytes(mx, threads);
            assertEquals(warm + n, consumed.get(), "values delivered");
            return (after - before) / (double) n;
        }
    }

    @Test
    void aFullPipelineAllocatesNothingPerItem() throws Exception {
        double perItem = pipelineBytesPerItem("alloc", (p, n) -> {
            for (long i = 0; i < n; i++)
                p.submit(VALUE);
            return n;
        });
        assertTrue(perItem < 0.5, perItem + " bytes per item");
    }

    /** submitAll of pre-boxed values: its runs, reservations and hand-overs allocate nothing either. */
    @Test
    void submitAllAllocatesNothingPerItem() throws Exception {
        List<Integer> list = new ArrayList<>(Collections.nCopies(1024, VALUE));
        double perItem = pipelineBytesPerItem("allocall", (p, n) -> {
            long sent = 0;
            while (sent < n) {
                int k = p.submitAll(list);
                assertEquals(list.size(), k);
                sent += k;
            }
            return sent;
        });
        assertTrue(perItem < 0.5, perItem + " bytes per item");
    }

    @Test
    void waitingSubmissionsAllocateNothingPerJob() throws Exception {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
        Set<Long> threads = ConcurrentHashMap.newKeySet();
        AtomicLong served = new AtomicLong();
        boolean[] record = {true};
        final class Job extends PadataJob {
            volatile boolean done = true;

            @Override
            protected void parallel() {
                if (record[0])
                    threads.add(Thread.currentThread().threadId());
                doSerial();
            }

            @Override
            protected void serial() {
                if (record[0])
                    threads.add(Thread.currentThread().threadId());
                served.incrementAndGet();
                done = true;
            }
        }
        try (Workqueue wq = Workqueue.create("allocwait"); Padata p = Padata.allocPossible(wq)) {
            p.setMaxInflight(32); // jobs below outnumber it: the submitter parks for room
            p.start();
            int[] cpus = p.cpumask(CpuMaskType.SERIAL).toArray();
            Job[] jobs = new Job[64];
            for (int i = 0; i < jobs.length; i++)
                jobs[i] = new Job();
            Duration wait = Duration.ofMinutes(1);
            long[] submitted = {0};
            java.util.function.LongConsumer run = n -> {
                try {
                    for (long i = 0; i < n; i++, submitted[0]++) {
                        Job job = jobs[(int) (submitted[0] % jobs.length)];
                        while (!job.done || job.isInFlight())
                            Thread.yield();
                        job.done = false;
                        assertTrue(p.doParallel(job, cpus[(int) (submitted[0] % cpus.length)], wait));
                    }
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            };
            run.accept(TestSupport.scaled(300_000));
            TestSupport.await("warm-up", 60_000, () -> served.get() == submitted[0]);
            record[0] = false;
            threads.add(Thread.currentThread().threadId());
            long n = TestSupport.scaled(200_000);
            long before = threadBytes(mx, threads);
            run.accept(n);
            TestSupport.await("measured run", 60_000, () -> served.get() == submitted[0]);
            long after = threadBytes(mx, threads);
            double perJob = (after - before) / (double) n;
            assertTrue(perJob < 0.5, "allocated " + (after - before) + " bytes over " + n + " jobs: " + perJob + " per job");
        }
    }
}
