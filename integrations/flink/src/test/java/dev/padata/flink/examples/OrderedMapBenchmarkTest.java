/* SPDX-License-Identifier: MIT */
package dev.padata.flink.examples;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The benchmark's sink check: what the sinks' runs of consecutive elements must look like. */
class OrderedMapBenchmarkTest {
    private static final int N = 100;
    private static final long[] PREFIX = OrderedMapBenchmark.prefix(N, 50);

    /** The runs a sink records for {@code seeds} arriving in this order. */
    private static List<long[]> runs(long... seeds) {
        List<long[]> runs = new ArrayList<>();
        long[] run = null;
        for (long s : seeds) {
            if (run == null || s != run[1] + 1) {
                run = new long[] {s, s, 0};
                runs.add(run);
            } else {
                run[1] = s;
            }
            run[2] += Work.work(s, 50);
        }
        return runs;
    }

    private static long[] range(long from, long to) {
        long[] r = new long[(int) (to - from)];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    @Test
    void twoSubtasksInOrderPass() {
        List<long[]> all = new ArrayList<>(runs(range(50, 100)));
        all.addAll(runs(range(0, 50)));
        assertNull(OrderedMapBenchmark.check(all, N, 2, PREFIX));
    }

    @Test
    void aSwappedPairFails() {
        long[] seeds = range(0, N);
        seeds[10] = 11;
        seeds[11] = 10;
        String why = OrderedMapBenchmark.check(runs(seeds), N, 2, PREFIX);
        assertTrue(why != null && why.contains("out of order"), why);
    }

    @Test
    void aLostOrRepeatedElementFails() {
        long[] lost = range(0, N - 1);
        assertEquals("elements 99..99 never arrived", OrderedMapBenchmark.check(runs(lost), N, 1, PREFIX));
        List<long[]> twice = new ArrayList<>(runs(range(0, 60)));
        twice.addAll(runs(range(50, 100)));
        assertEquals("element 50 arrived twice", OrderedMapBenchmark.check(twice, N, 2, PREFIX));
    }

    @Test
    void aWrongHashFails() {
        List<long[]> r = runs(range(0, N));
        r.get(0)[2]++;
        String why = OrderedMapBenchmark.check(r, N, 1, PREFIX);
        assertTrue(why != null && why.contains("differ from the single-threaded"), why);
    }
}
