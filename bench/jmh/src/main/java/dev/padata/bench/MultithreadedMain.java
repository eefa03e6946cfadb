/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import dev.padata.Padata;
import dev.padata.Workqueue;
import dev.padata.CpuMaskType;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Multithreaded jobs in Java: a checksum of a large array with {@link Padata#doMultithreaded}
 * against a single loop and {@code IntStream.range(0, n).parallel()}, in alternating rounds of
 * one run (the C side is bench/c/mt_bench.cc, same checksum). Each round's result is checked
 * against the single loop's; a contender with a wrong result prints {@code "check":"FAIL"} and
 * no figure. padata is used as the README shows: an instance on every possible CPU,
 * {@code minChunk} 16384, {@code maxThreads} = the usable parallel CPUs.
 *
 * <p>Prints one JSON line per contender on stdout ({@code "suite":"mt"}: median and quartiles
 * of the round times in ms); exits 1 when a check failed, 2 on a usage error.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.padata.bench.MultithreadedMain --seconds 3
 * </pre>
 */
public final class MultithreadedMain {
    private MultithreadedMain() {
    }

    static long mix(long x) {
        x ^= x >>> 31;
        x *= 0x94d049bb133111ebL;
        return x ^ (x >>> 29);
    }

    /** Four rounds of mix per element, as mix4() in mt_bench.cc: compute-bound, not memory-bound. */
    static long mix4(long x) {
        return mix(mix(mix(mix(x) + 1) + 2) + 3);
    }

    static long sumRange(long[] a, int from, int to) {
        long s = 0;
        for (int i = from; i < to; i++)
            s += mix4(a[i]);
        return s;
    }

    public static void main(String[] args) {
        int n = 1 << 22;
        double seconds = 3;
        int minRounds = 5;
        int minChunk = 16384;
        int warmup = 20;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: MultithreadedMain [--n ELEMENTS] [--seconds S] [--min-rounds R] "
                        + "[--min-chunk C] [--warmup R]");
                return;
            }
            if (i + 1 >= args.length)
                usage("option " + a + " needs a value");
            String v = args[++i];
            try {
                switch (a) {
                    case "--n" -> n = Integer.parseInt(v);
                    case "--seconds" -> seconds = Double.parseDouble(v);
                    case "--min-rounds" -> minRounds = Integer.parseInt(v);
                    case "--min-chunk" -> minChunk = Integer.parseInt(v);
                    case "--warmup" -> warmup = Integer.parseInt(v);
                    default -> usage("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                usage("bad value '" + v + "' for " + a);
            }
        }
        if (n < 1 || minChunk < 1 || minRounds < 1 || seconds < 0 || warmup < 0)
            usage("--n, --min-chunk and --min-rounds must be at least 1");

        long[] data = new long[n];
        for (int i = 0; i < n; i++)
            data[i] = mix(i * 0x9e3779b97f4a7c15L + 1);
        final int size = n;
        final int chunk = minChunk;
        long expect = sumRange(data, 0, n);

        try (Workqueue wq = Workqueue.create("mt_bench"); Padata padata = Padata.allocPossible(wq)) {
            padata.start();
            int threads = padata.cpumask(CpuMaskType.PARALLEL).weight();
            String[] names = {"java-mt-single", "java-mt-padata", "java-mt-stream"};
            java.util.function.IntToLongFunction[] runs = new java.util.function.IntToLongFunction[] {
                k -> sumRange(data, 0, size),
                k -> {
                    AtomicLong sum = new AtomicLong();
                    padata.doMultithreaded(0, size, chunk, threads,
                            (from, to) -> sum.addAndGet(sumRange(data, (int) from, (int) to)));
                    return sum.get();
                },
                k -> IntStream.range(0, size).parallel().mapToLong(i -> mix4(data[i])).sum(),
            };
            List<List<Double>> ms = new ArrayList<>();
            String[] why = new String[names.length];
            for (int k = 0; k < names.length; k++) {
                ms.add(new ArrayList<>());
                for (int r = 0; r < warmup; r++)
                    runs[k].applyAsLong(k);
            }
            long end = System.nanoTime() + (long) (seconds * 1e9);
            for (int round = 0; round < minRounds || System.nanoTime() < end; round++) {
                for (int j = 0; j < names.length; j++) {
                    int k = (j + round) % names.length;
                    long t0 = System.nanoTime();
                    long got;
                    try {
                        got = runs[k].applyAsLong(k);
                    } catch (RuntimeException | Error e) {
                        why[k] = e.getClass().getSimpleName() + ": " + e.getMessage();
                        continue;
                    }
                    double t = (System.nanoTime() - t0) * 1e-6;
                    if (got != expect && why[k] == null)
                        why[k] = "checksum differs from the single loop's";
                    ms.get(k).add(t);
                }
            }
            boolean failed = false;
            for (int k = 0; k < names.length; k++) {
                if (why[k] != null) {
                    String w = why[k].replace('"', '\'').replace('\\', '/');
                    System.out.printf(Locale.ROOT, "{\"suite\":\"mt\",\"contender\":\"%s\",\"n\":%d,\"threads\":%d,"
                            + "\"check\":\"FAIL\",\"why\":\"%s\"}%n", names[k], n, threads, w);
                    System.err.printf("BENCH %s n=%d check=FAIL why=\"%s\"%n", names[k], n, w);
                    failed = true;
                    continue;
                }
                double[] v = ms.get(k).stream().mapToDouble(Double::doubleValue).sorted().toArray();
                System.out.printf(Locale.ROOT, "{\"suite\":\"mt\",\"contender\":\"%s\",\"n\":%d,\"threads\":%d,"
                                + "\"min_chunk\":%d,\"check\":\"ok\",\"rounds\":%d,\"median_ms\":%.4f,\"p25_ms\":%.4f,"
                                + "\"p75_ms\":%.4f,\"min_ms\":%.4f}%n",
                        names[k], n, threads, minChunk, v.length, q(v, 0.5), q(v, 0.25), q(v, 0.75), v[0]);
                System.err.printf(Locale.ROOT, "BENCH %s n=%d threads=%d median=%.3fms iqr=%.3f-%.3fms rounds=%d check=ok%n",
                        names[k], n, threads, q(v, 0.5), q(v, 0.25), q(v, 0.75), v.length);
            }
            System.out.flush();
            if (failed)
                System.exit(1);
        }
    }

    /** Linear-interpolated quantile of sorted values (as quantile() in mt_bench.cc). */
    static double q(double[] sorted, double p) {
        double pos = p * (sorted.length - 1);
        int lo = (int) pos;
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    private static void usage(String why) {
        System.err.println("MultithreadedMain: " + why + " (see --help)");
        System.exit(2);
    }
}
