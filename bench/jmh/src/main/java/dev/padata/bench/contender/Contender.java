/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

/**
 * One way to process a batch of {@code n} jobs in submission order with {@code w} bytes of work
 * per job. A contender is opened once per (contender, w), then {@link #runBatch()} runs as often
 * as the benchmark wants; every batch checks order and digests and throws
 * {@link IllegalStateException} when they are wrong, so a broken contender reports no figure.
 *
 * <p>Not thread-safe: one benchmark thread drives a contender; the threads it uses are its own
 * and are stopped by {@link #close()}.
 */
public abstract class Contender implements AutoCloseable {
    /** Bytes of work per job. */
    protected final int w;
    /** Jobs per batch. */
    protected final int n;
    /** The single-threaded digests of a batch. */
    protected final Work.Digest reference;
    /** Threads (CPUs) the contender may use. */
    protected final int threads;

    protected Contender(Config config) {
        this.w = config.w();
        this.n = config.n();
        this.reference = config.reference();
        this.threads = config.threads();
    }

    /** The contender's name in reports (e.g. {@code java-pool}). */
    public abstract String name();

    /** Processes jobs {@code 0..n-1} and verifies the result; throws on a failed check. */
    public abstract void runBatch();

    /** The check of the batch that just ran, after {@link #runBatch()} returned normally. */
    protected final void verify(OrderCheck check) {
        check.verify(n, w, reference);
    }

    /**
     * Records the latency (acceptance to start of serial()) of every {@code every}-th job of the
     * following batches; 0 turns it off. Only the padata contenders measure latency.
     *
     * @throws UnsupportedOperationException for the others
     */
    public void sampleLatency(int every) {
        throw new UnsupportedOperationException(name() + " does not measure per-job latency");
    }

    /** The latency samples (ns) of the last batch, unsorted; empty when not sampling. */
    public long[] latencySamples() {
        return new long[0];
    }

    /** Submissions of the last batch that padata refused with -EBUSY and were retried (padata contenders). */
    public long busyRetries() {
        return 0;
    }

    /** Stops the contender's threads and frees what it holds. Idempotent. */
    @Override
    public void close() {
    }

    /**
     * What every contender is built from.
     * @param w bytes of work per job
     * @param n jobs per batch
     * @param reference {@code Work.reference(n, w)}
     * @param threads CPUs to use
     */
    public record Config(int w, int n, Work.Digest reference, int threads) {
        public Config {
            if (w < 0 || n < 1 || threads < 1) {
                throw new IllegalArgumentException("bad contender config: w=" + w + " n=" + n + " threads=" + threads);
            }
        }

        /** The standard config: {@link Work#jobsFor} jobs, every available CPU. */
        public static Config of(int w) {
            int n = Work.jobsFor(w);
            return new Config(w, n, Work.reference(n, w), Runtime.getRuntime().availableProcessors());
        }

        /** A config with an explicit batch size (tests). */
        public static Config of(int w, int n, int threads) {
            return new Config(w, n, Work.reference(n, w), threads);
        }
    }
}
