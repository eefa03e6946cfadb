/* SPDX-License-Identifier: MIT */
package dev.padata.bench.workload;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real workload of {@link WorkloadMain}: {@link #items()} independent items whose outputs must
 * leave in item order. {@link #process(int)} is the parallel stage (thread-safe; per-thread
 * state such as a keyed {@code Cipher} or a {@code Deflater} lives in a {@code ThreadLocal}),
 * a {@link Sink} the serial stage.
 */
interface Workload {
    /** Report name, e.g. {@code aes-gcm}. */
    String name();

    /** Item size in bytes (packet or block size). */
    int size();

    /** Items per run. */
    int items();

    /** Input bytes per run (for MB/s). */
    long bytes();

    /** Sets the items per run (calibration); at most {@link #maxItems()}. */
    void items(int n);

    /** The most items a run can have. */
    int maxItems();

    /** The parallel stage: the output of item {@code i} with its CRC-32C. Thread-safe. */
    Out process(int i);

    /** A fresh serial stage for one run. */
    Sink newSink();

    /** The output of one item. */
    record Out(int index, byte[] bytes, int crc) {
    }

    /**
     * The serial stage: checks that items arrive in order 0, 1, ... and folds an order-sensitive
     * digest of their outputs ({@link #ordered()}) and an order-free one ({@link #unordered()},
     * the sum of the per-item CRC-32C, which is all the unordered contender can be checked by).
     * Not thread-safe: one consumer at a time, as every ordered contender guarantees.
     */
    class Sink {
        private final int n;
        private final CountDownLatch done = new CountDownLatch(1);
        private int next;
        private long ordered = 0xcbf29ce484222325L;
        private long unordered;
        private volatile String error;

        Sink(int n) {
            this.n = n;
        }

        /** Takes item {@code o}; records an order error (reported by {@link #await}) instead of throwing into a worker. */
        final void accept(Out o) {
            if (o.index() != next && error == null) {
                error = "item " + o.index() + " arrived where item " + next + " was due";
            }
            next++;
            ordered = (ordered ^ (o.crc() & 0xffffffffL) ^ ((long) o.bytes().length << 32)) * 0x100000001b3L;
            unordered += o.crc() & 0xffffffffL;
            take(o);
            if (next == n) {
                done.countDown();
            }
        }

        /** Per-workload serial work (the gzip stream's CRC-32 and bytes); nothing by default. */
        void take(Out o) {
        }

        /** Waits until all {@code n} items were taken; throws on an order error or after 10 minutes. */
        final void await() {
            try {
                if (!done.await(10, TimeUnit.MINUTES)) {
                    throw new IllegalStateException("only " + next + " of " + n + " items arrived within 10 minutes");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            check();
        }

        /** Throws when an item came out of order. */
        final void check() {
            if (error != null) {
                throw new IllegalStateException(error);
            }
            if (next != n) {
                throw new IllegalStateException(next + " of " + n + " items arrived");
            }
        }

        final long ordered() {
            return ordered;
        }

        final long unordered() {
            return unordered;
        }
    }
}
