/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The serial stage's bookkeeping of one batch: jobs must arrive in submission order
 * (per lane, when the stage has several lanes that may run at the same time), each once, and
 * their digests must fold to the single-threaded reference. {@link #verify} throws, so that a
 * contender whose check failed never reports a number.
 *
 * <p>Each lane is written by one thread at a time (its serial stage). A lane's count is
 * published with a release store after the lane's fold, and {@link #count()} and
 * {@link #verify} read it with acquire loads, so a reader that sees every job counted also sees
 * every fold, whatever native synchronization the stage used to hand the jobs over.
 */
public final class OrderCheck {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final String contender;
    private final int lanes;
    private final long[] next;
    private final long[] sum;
    private final long[] xor;
    private final long[] count;
    private long orderErrors;
    private long firstBad = -1;

    /** A check for a serial stage whose job {@code i} arrives on lane {@code i % lanes}. */
    public OrderCheck(String contender, int lanes) {
        if (lanes < 1) {
            throw new IllegalArgumentException("lanes must be at least 1: " + lanes);
        }
        this.contender = contender;
        this.lanes = lanes;
        // Lanes 8 longs (a cache line) apart: different lanes are written by different threads.
        this.next = new long[lanes * 8];
        this.sum = new long[lanes * 8];
        this.xor = new long[lanes * 8];
        this.count = new long[lanes * 8];
        reset();
    }

    /** A check for a single serial stage. */
    public OrderCheck(String contender) {
        this(contender, 1);
    }

    /** Forget the previous batch. Not concurrently with {@link #accept}. */
    public void reset() {
        for (int l = 0; l < lanes; l++) {
            next[l * 8] = l;
            sum[l * 8] = 0;
            xor[l * 8] = 0;
            LONGS.setRelease(count, l * 8, 0L);
        }
        orderErrors = 0;
        firstBad = -1;
    }

    /** The serial stage saw job {@code index} with {@code digest}. Allocates nothing. */
    public void accept(long index, long digest) {
        int lane = (int) (index % lanes) * 8;
        if (index != next[lane]) {
            recordBad(index);
        }
        next[lane] = index + lanes;
        sum[lane] += digest;
        xor[lane] ^= digest;
        LONGS.setRelease(count, lane, count[lane] + 1); // pairs with getAcquire in count()
    }

    private synchronized void recordBad(long index) {
        orderErrors++;
        if (firstBad < 0) {
            firstBad = index;
        }
    }

    /** Jobs accepted so far (exact once the writers have been synchronized with). */
    public long count() {
        long c = 0;
        for (int l = 0; l < lanes; l++) {
            c += (long) LONGS.getAcquire(count, l * 8);
        }
        return c;
    }

    /**
     * Throws {@link IllegalStateException} naming the contender and what was wrong unless
     * exactly {@code n} jobs arrived, in order, folding to {@code reference}.
     */
    public void verify(int n, int w, Work.Digest reference) {
        long c = count(); // first: the acquire loads make the folds visible
        long s = 0;
        long x = 0;
        for (int l = 0; l < lanes; l++) {
            s += sum[l * 8];
            x ^= xor[l * 8];
        }
        synchronized (this) {
            if (orderErrors != 0) {
                throw new IllegalStateException(contender + " w=" + w + ": " + orderErrors
                        + " jobs out of submission order, first bad job " + firstBad);
            }
        }
        if (c != n) {
            throw new IllegalStateException(contender + " w=" + w + ": " + c + " jobs reached the serial stage, expected " + n);
        }
        Work.Digest got = new Work.Digest(s, x);
        if (!got.equals(reference)) {
            throw new IllegalStateException(contender + " w=" + w + ": digests " + got + ", reference " + reference);
        }
    }
}
