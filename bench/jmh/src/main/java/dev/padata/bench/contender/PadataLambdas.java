/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.PadataBusyException;
import dev.padata.PadataJob;
import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code java-padata-lambda}: the Java API with Java callbacks. Each job is a
 * {@link PadataJob} subclass whose parallel() computes the digest and calls doSerial(), and
 * whose serial() folds it into the lane of its cb_cpu; both run as upcalls on the padata
 * workers. Jobs are recycled, so nothing is allocated per job by the contender: what
 * {@code -prof gc} shows per job is the binding's.
 */
public final class PadataLambdas extends PadataBase {
    private static final int IDLE = 0;
    private static final int BUSY = 1;
    private static final int BUSY_WAITED = 2;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Job.class, "busy", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Job[] pool;
    private volatile Thread submitter;
    private final OrderCheck check;
    private int latEvery;
    private long[] lat = new long[0];

    private final class Job extends PadataJob {
        long index;
        long digest;
        long tSubmit;
        /**
         * IDLE, BUSY from submission until serial() has folded the job, BUSY_WAITED when the
         * submitter sleeps on it (serial() then unparks it). Written through STATE.
         */
        @SuppressWarnings("unused")
        volatile int busy;

        @Override
        protected void parallel() {
            digest = Work.work(Work.seed(index), w);
            doSerial();
        }

        @Override
        protected void serial() {
            if (tSubmit != 0) {
                lat[(int) (index / latEvery)] = System.nanoTime() - tSubmit;
            }
            check.accept(index, digest);
            // Hands the job back; pairs with the acquire reads in awaitIdle().
            if ((int) STATE.getAndSetRelease(this, IDLE) == BUSY_WAITED) {
                LockSupport.unpark(submitter);
            }
        }
    }

    /** Returns once {@code job} is idle: spins briefly, then parks until its serial() unparks us. */
    private static void awaitIdle(Job job) {
        for (int i = 0; i < 128; i++) {
            if ((int) STATE.getAcquire(job) == IDLE) {
                return;
            }
            Thread.onSpinWait();
        }
        if (!STATE.compareAndSet(job, BUSY, BUSY_WAITED)) {
            return; // it went idle meanwhile (only the submitter writes BUSY_WAITED)
        }
        while ((int) STATE.getAcquire(job) != IDLE) {
            LockSupport.park(job);
        }
    }

    public PadataLambdas(Config config) {
        super(config, "jlambda");
        check = new OrderCheck("java-padata-lambda", lanes.length);
        pool = new Job[poolSize];
        for (int i = 0; i < poolSize; i++) {
            pool[i] = new Job();
        }
    }

    @Override
    public String name() {
        return "java-padata-lambda";
    }

    @Override
    public void sampleLatency(int every) {
        latEvery = every;
        lat = every > 0 ? new long[n / every + 1] : new long[0];
    }

    @Override
    public long[] latencySamples() {
        return lat.clone();
    }

    @Override
    public void runBatch() {
        check.reset();
        busyRetries = 0;
        Arrays.fill(lat, 0);
        submitter = Thread.currentThread();
        padata.start();
        int slot = 0;
        int half = poolSize / 2;
        for (int i = 0; i < n; i++) {
            Job job = pool[slot];
            if ((int) STATE.getAcquire(job) != IDLE) {
                // The ring is full: sleep until half of it has drained, then take this slot.
                awaitIdle(pool[(slot + half) % poolSize]);
                awaitIdle(job);
            }
            if (++slot == poolSize) {
                slot = 0;
            }
            int cbCpu = lanes[i % lanes.length];
            boolean sampled = latEvery > 0 && i % latEvery == 0;
            job.index = i;
            job.tSubmit = 0;
            STATE.setRelease(job, BUSY);
            while (true) {
                if (sampled) {
                    job.tSubmit = System.nanoTime();
                }
                try {
                    padata.doParallel(job, cbCpu);
                    break;
                } catch (PadataBusyException e) {
                    busy(e);
                }
            }
        }
        padata.stop();
        verify(check);
    }
}
