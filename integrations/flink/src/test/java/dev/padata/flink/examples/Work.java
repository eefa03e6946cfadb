/* SPDX-License-Identifier: MIT */
package dev.padata.flink.examples;

import org.apache.flink.api.common.functions.MapFunction;

/**
 * The project's benchmark workload (docs/contract.md section 5) as a Flink map: about 1.2 ns per
 * unit of w. The workload itself is the bench module's {@link dev.padata.bench.Work} (tested
 * against the shared work vectors); this is only its Flink adapter.
 */
public final class Work implements MapFunction<Long, Long> {
    private static final long serialVersionUID = 1L;

    private final int w;

    public Work(int w) {
        this.w = w;
    }

    /** {@code work(seed, w)} of docs/contract.md section 5. */
    public static long work(long seed, int w) {
        return dev.padata.bench.Work.work(seed, w);
    }

    @Override
    public Long map(Long seed) {
        return work(seed, w);
    }
}
