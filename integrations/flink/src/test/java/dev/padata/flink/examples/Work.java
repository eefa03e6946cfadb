/* SPDX-License-Identifier: MIT */
package dev.padata.flink.examples;

import org.apache.flink.api.common.functions.MapFunction;

/** The project's benchmark workload (docs/contract.md section 5) as a Flink map: about 1.2 ns per unit of w. */
public final class Work implements MapFunction<Long, Long> {
    private static final long serialVersionUID = 1L;
    private static final byte[] T = new byte[65536];

    static {
        for (int i = 0; i < T.length; i++)
            T[i] = (byte) (i * 31 + 7);
    }

    private final int w;

    public Work(int w) {
        this.w = w;
    }

    public static long work(long seed, int w) {
        long h = 0xcbf29ce484222325L ^ seed;
        int p = (int) (seed & 0x7fff);
        for (int i = 0; i < w; i++) {
            h ^= T[(p + i) & 0xffff];
            h *= 0x100000001b3L;
        }
        return h;
    }

    @Override
    public Long map(Long seed) {
        return work(seed, w);
    }
}
