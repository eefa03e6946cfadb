/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

/**
 * The benchmark workload of docs/contract.md section 5, identical to {@code native/testsupport/workload.c}.
 *
 * <p>{@code work(seed, w)}: a table {@code T} of 65536 bytes with {@code T[i] = (byte)(i*31 + 7)};
 * {@code h = 0xcbf29ce484222325 ^ seed}; {@code p = seed & 0x7fff}; for {@code i} in
 * {@code 0..w-1}: {@code h ^= (long) T[(p + i) & 0xffff]; h *= 0x100000001b3}; return {@code h}.
 * A dependent multiply chain: the JIT can neither fold nor vectorize it.
 *
 * <p>Job {@code i} of every contender uses seed {@link #seed(long)}; a batch is correct when the
 * sum and the xor of its digests equal {@link #reference(int, int)}.
 */
public final class Work {
    private Work() {
    }

    private static final byte[] TABLE = new byte[65536];

    static {
        for (int i = 0; i < TABLE.length; i++) {
            TABLE[i] = (byte) (i * 31 + 7);
        }
    }

    /** The workload: {@code w} dependent FNV-style steps from {@code seed}. Pure, thread-safe. */
    public static long work(long seed, int w) {
        long h = 0xcbf29ce484222325L ^ seed;
        int p = (int) (seed & 0x7fff);
        for (int i = 0; i < w; i++) {
            h ^= TABLE[(p + i) & 0xffff]; // the byte sign-extends, as (int64)(signed char) in C
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** Seed of job {@code i}, a Weyl sequence ({@code workload_seed()} in C). */
    public static long seed(long i) {
        return (i + 1) * 0x9e3779b97f4a7c15L;
    }

    /**
     * Jobs in one batch at work size {@code w}: about 0.1 s of single-threaded work, between
     * 2000 and 100000 ({@code bench_jobs_for()} in C, so both languages run the same batches).
     */
    public static int jobsFor(int w) {
        if (w < 0) {
            throw new IllegalArgumentException("work size must not be negative: " + w);
        }
        long n = 20_000_000L / (w + 200L);
        return (int) Math.max(2000, Math.min(100_000, n));
    }

    /** Sum and xor of the digests of jobs {@code 0..n-1}, computed on the calling thread. */
    public static Digest reference(int n, int w) {
        long sum = 0;
        long xor = 0;
        for (int i = 0; i < n; i++) {
            long h = work(seed(i), w);
            sum += h;
            xor ^= h;
        }
        return new Digest(sum, xor);
    }

    /** What a batch folds: the sum and the xor of its digests. */
    public record Digest(long sum, long xor) {
        @Override
        public String toString() {
            return String.format("sum %016x xor %016x", sum, xor);
        }
    }
}
