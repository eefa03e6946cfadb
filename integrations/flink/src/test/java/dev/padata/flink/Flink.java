/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** The test suites' shared embedded cluster shape: one task manager with 4 slots. */
final class Flink {
    private Flink() {
    }

    static MiniClusterExtension miniCluster() {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(4)
                .build());
    }

    /** Spins for about {@code nanos} (CPU-bound work that completes out of order). */
    static long spin(long nanos) {
        long end = System.nanoTime() + nanos;
        long x = 0;
        while (System.nanoTime() < end)
            x += 1;
        return x;
    }
}
