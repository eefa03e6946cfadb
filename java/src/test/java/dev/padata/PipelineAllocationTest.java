/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

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

    @Test
    void aFullPipelineAllocatesNothingPerItem() throws Exception {
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
                .capacity(64) // small: the submitter waits for room all the time
                .name("alloc").build()) {
            long warm = TestSupport.scaled(300_000);
            for (long i = 0; i < warm; i++)
                pipeline.submit(VALUE);
            pipeline.awaitIdle();
            record[0] = false;
            threads.add(Thread.currentThread().threadId());
            long n = TestSupport.scaled(200_000);
            long before = threadBytes(mx, threads);
            for (long i = 0; i < n; i++)
                pipeline.submit(VALUE);
            pipeline.awaitIdle();
            long after = threadBytes(mx, threads);
            double perItem = (after - before) / (double) n;
            assertTrue(perItem < 0.5, "allocated " + (after - before) + " bytes over " + n + " items on "
                    + threads.size() + " threads: " + perItem + " bytes per item");
        }
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
