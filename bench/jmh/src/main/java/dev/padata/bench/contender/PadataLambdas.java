/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.PadataJob;
import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

import java.time.Duration;
import java.util.Arrays;

/**
 * {@code java-padata-lambda}: the Java API with Java callbacks, used as the Javadoc shows: one
 * {@link PadataJob} subclass instance per job (the kernel's embedding pattern: the job carries
 * its index and digest), submitted with {@code doParallel(job, cbCpu, maxWait)}, which parks
 * the submitter while the instance is full. parallel() computes the digest and calls
 * doSerial(); serial() folds it into the lane of its cb_cpu. No private back-pressure or job
 * recycling: {@code -prof gc} shows the job objects (about 40 bytes each) and anything the
 * binding allocates.
 */
public final class PadataLambdas extends PadataBase {
    /** Longer than any batch: a submission that cannot get in within it is a failure. */
    private static final Duration MAX_WAIT = Duration.ofMinutes(5);

    private final OrderCheck check;
    private int latEvery;
    private long[] lat = new long[0];

    private final class Job extends PadataJob {
        final int index;
        long digest;
        long tSubmit;

        Job(int index) {
            this.index = index;
        }

        @Override
        protected void parallel() {
            digest = Work.work(Work.seed(index), w);
            doSerial();
        }

        @Override
        protected void serial() {
            if (tSubmit != 0) {
                lat[index / latEvery] = System.nanoTime() - tSubmit;
            }
            check.accept(index, digest);
        }
    }

    public PadataLambdas(Config config) {
        super(config, "jlambda");
        check = new OrderCheck("java-padata-lambda", lanes.length);
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
        Arrays.fill(lat, 0);
        padata.start();
        try {
            for (int i = 0; i < n; i++) {
                Job job = new Job(i);
                if (latEvery > 0 && i % latEvery == 0) {
                    job.tSubmit = System.nanoTime();
                }
                if (!padata.doParallel(job, lanes[i % lanes.length], MAX_WAIT)) {
                    throw new IllegalStateException("java-padata-lambda: job " + i + " found no room in " + MAX_WAIT);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("java-padata-lambda interrupted", e);
        } finally {
            padata.stop();
        }
        verify(check);
    }
}
