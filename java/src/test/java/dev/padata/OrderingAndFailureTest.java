/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Order under volume, asynchronous completion, callback failures and GC pressure. */
class OrderingAndFailureTest {
    private Workqueue wq;
    private Padata padata;

    @BeforeEach
    void open() {
        wq = Workqueue.create("order");
        padata = Padata.allocPossible(wq);
    }

    @AfterEach
    void closeAll() {
        padata.close();
        wq.close();
    }

    /** A reusable job that checks per-cb_cpu order in serial(). */
    static final class Checked extends PadataJob {
        final ConcurrentLinkedQueue<Checked> free;
        final AtomicLongArray lastSeq;
        final AtomicLong violations;
        final AtomicLong served;
        final BlockingQueue<PadataJob> completer;
        long seq;
        int cbCpu;
        boolean async;
        boolean throwInParallel;
        boolean throwInSerial;

        Checked(ConcurrentLinkedQueue<Checked> free, AtomicLongArray lastSeq, AtomicLong violations,
                AtomicLong served, BlockingQueue<PadataJob> completer) {
            this.free = free;
            this.lastSeq = lastSeq;
            this.violations = violations;
            this.served = served;
            this.completer = completer;
        }

        @Override
        protected void parallel() {
            if (throwInParallel)
                throw new IllegalArgumentException("parallel failure of " + seq);
            if (async)
                completer.add(this);
            else
                doSerial();
        }

        @Override
        protected void serial() {
            if (Cpus.current() != cbCpu || lastSeq.get(cbCpu) >= seq)
                violations.incrementAndGet();
            lastSeq.set(cbCpu, seq);
            long s = seq;
            boolean fail = throwInSerial;
            served.incrementAndGet();
            free.add(this); // the submitter may reuse the job from here on
            if (fail)
                throw new UnsupportedOperationException("serial failure of " + s);
        }

        @Override
        public String toString() {
            return "Checked[" + seq + "]";
        }
    }

    private record Run(long violations, long served, List<String> failures) {
    }

    private Run run(int n, int asyncEvery, int parallelThrowEvery, int serialThrowEvery) throws Exception {
        padata.start();
        int[] cbCpus = padata.cpumask(CpuMaskType.SERIAL).toArray();
        AtomicLongArray lastSeq = new AtomicLongArray(Cpus.count());
        for (int c = 0; c < Cpus.count(); c++)
            lastSeq.set(c, -1);
        AtomicLong violations = new AtomicLong();
        AtomicLong served = new AtomicLong();
        BlockingQueue<PadataJob> completer = new ArrayBlockingQueue<>(1024);
        ConcurrentLinkedQueue<Checked> free = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < 512; i++)
            free.add(new Checked(free, lastSeq, violations, served, completer));
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        padata.setFailureHandler((job, stage, failure) -> failures.add(stage + " " + failure.getMessage()));
        AtomicBoolean stop = new AtomicBoolean();
        Thread completerThread = Thread.ofPlatform().name("completer").start(() -> {
            while (!stop.get()) {
                try {
                    PadataJob j = completer.poll(1, java.util.concurrent.TimeUnit.MILLISECONDS);
                    if (j != null)
                        j.doSerial();
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            for (int i = 0; i < n; i++) {
                Checked job;
                while ((job = free.poll()) == null)
                    Thread.onSpinWait();
                job.seq = i;
                job.cbCpu = cbCpus[(i * 7 + i / 3) % cbCpus.length];
                job.async = asyncEvery > 0 && i % asyncEvery == 0;
                job.throwInParallel = parallelThrowEvery > 0 && i % parallelThrowEvery == 1;
                job.throwInSerial = serialThrowEvery > 0 && i % serialThrowEvery == 2;
                TestSupport.submit(padata, job, job.cbCpu);
            }
            padata.stop();
        } finally {
            stop.set(true);
            completerThread.join();
        }
        return new Run(violations.get(), served.get(), failures);
    }

    @Test
    void aMillionJobsWithMixedCbCpusAndAsyncCompletionsStayInOrder() throws Exception {
        int n = TestSupport.scaled(1_000_000);
        Run r = run(n, 5, 0, 0);
        assertEquals(0, r.violations());
        assertEquals(n, r.served());
        assertEquals(List.of(), r.failures());
    }

    @Test
    void aStormOfCallbackExceptionsNeitherStallsTheOrderNorLosesAFailure() throws Exception {
        int n = TestSupport.scaled(100_000);
        Run r = run(n, 4, 3, 5);
        assertEquals(0, r.violations());
        assertEquals(n, r.served(), "every job reached serial(), failed parallel() included");
        long parallelFailures = 0, serialFailures = 0;
        for (int i = 0; i < n; i++) {
            if (i % 3 == 1)
                parallelFailures++;
            if (i % 5 == 2)
                serialFailures++;
        }
        List<String> f = r.failures();
        assertEquals(parallelFailures + serialFailures, f.size());
        assertEquals(parallelFailures, f.stream().filter(s -> s.startsWith("PARALLEL parallel failure of ")).count());
        assertEquals(serialFailures, f.stream().filter(s -> s.startsWith("SERIAL serial failure of ")).count());
    }

    @Test
    void failuresReachTheHandlerInJobOrderRightBeforeTheirSerial() throws Exception {
        padata.start();
        int n = TestSupport.scaled(20_000);
        List<String> events = java.util.Collections.synchronizedList(new ArrayList<>());
        padata.setFailureHandler((job, stage, failure) -> events.add(stage + ":" + failure.getMessage()));
        for (int i = 0; i < n; i++) {
            int seq = i;
            TestSupport.submit(padata, PadataJob.of(() -> {
                if (seq % 3 == 0)
                    throw new RuntimeException(Integer.toString(seq));
                if (seq % 11 == 0)
                    throw new StackOverflowError(Integer.toString(seq)); // an Error is caught too
            }, () -> events.add("serial:" + seq)), 0);
        }
        padata.stop();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (i % 3 == 0 || i % 11 == 0)
                expected.add("PARALLEL:" + i);
            expected.add("serial:" + i);
        }
        assertEquals(expected, events);
    }

    @Test
    void aThrowingFailureHandlerIsReportedAndTheRunGoesOn() throws Exception {
        padata.start();
        AtomicLong served = new AtomicLong();
        padata.setFailureHandler((job, stage, failure) -> {
            throw new IllegalStateException("handler bug");
        });
        int n = 200;
        for (int i = 0; i < n; i++)
            TestSupport.submit(padata, PadataJob.of(() -> {
                throw new RuntimeException("x");
            }, served::incrementAndGet), 0);
        padata.stop();
        assertEquals(n, served.get());
    }

    @Test
    void garbageCollectionDuringARunLosesNoJob() throws Exception {
        padata.start();
        int n = TestSupport.scaled(200_000);
        AtomicBoolean stop = new AtomicBoolean();
        Thread churn = Thread.ofPlatform().start(() -> {
            List<byte[]> keep = new ArrayList<>();
            int i = 0;
            while (!stop.get()) {
                keep.add(new byte[4096]);
                if (keep.size() > 4096)
                    keep.clear();
                if (++i % 20_000 == 0)
                    System.gc();
            }
        });
        AtomicLong next = new AtomicLong();
        AtomicLong violations = new AtomicLong();
        try {
            for (int i = 0; i < n; i++) {
                long seq = i;
                // Only padata's slot table references the job once it is submitted.
                TestSupport.submit(padata, PadataJob.of(() -> { }, () -> {
                    if (next.getAndIncrement() != seq)
                        violations.incrementAndGet();
                }), 0);
                if (i % 50_000 == 0)
                    System.gc();
            }
            padata.stop();
        } finally {
            stop.set(true);
            churn.join();
        }
        assertEquals(0, violations.get());
        assertEquals(n, next.get());
        assertEquals(0, padata.staleUpcallsForTest(), "upcalls of this instance that found no live job");
    }
}
