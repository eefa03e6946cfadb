/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import dev.padata.bench.contender.Contender;
import dev.padata.bench.contender.Contenders;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Per-job latency of the Java padata contenders (JMH measures their throughput; it has no
 * notion of per-job percentiles). For each (contender, w): warm-up batches, then batches that
 * record the latency of every {@code --lat-every}-th job, from the doParallel() call that
 * accepted it to the start of its serial(). Prints one JSON line per pair on stdout, in the
 * format of the C benches ({@code "suite":"java-latency"}); exits 1 when a batch failed its
 * check (that pair then prints {@code "check":"FAIL"} and no figure).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.padata.bench.LatencyMain \
 *      --w 0,100,1000,10000 --contenders java-padata-lambda,java-padata-native
 * </pre>
 */
public final class LatencyMain {
    private LatencyMain() {
    }

    public static void main(String[] args) {
        List<Integer> ws = List.of(0, 100, 1000, 10000);
        List<String> contenders = List.of("java-padata-lambda", "java-padata-native", "java-padata-idiomatic");
        int warmup = 10;
        int batches = 10;
        int every = 16;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: LatencyMain [--w LIST] [--contenders LIST] [--warmup N] [--batches N] [--lat-every K]");
                return;
            }
            if (i + 1 >= args.length) {
                usage("option " + a + " needs a value");
            }
            String v = args[++i];
            try {
                switch (a) {
                    case "--w" -> ws = Arrays.stream(v.split(",")).map(s -> Integer.parseInt(s.trim())).toList();
                    case "--contenders" -> contenders = Arrays.stream(v.split(",")).map(String::trim).toList();
                    case "--warmup" -> warmup = Integer.parseInt(v);
                    case "--batches" -> batches = Integer.parseInt(v);
                    case "--lat-every" -> every = Integer.parseInt(v);
                    default -> usage("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                usage("bad value '" + v + "' for " + a);
            }
        }
        if (warmup < 0 || batches < 1 || every < 1) {
            usage("--warmup >= 0, --batches >= 1 and --lat-every >= 1 required");
        }
        boolean failed = false;
        for (String c : contenders) {
            Contenders.describe(c); // unknown names fail before any run
        }
        for (String c : contenders) {
            for (int w : ws) {
                failed |= !measure(c, w, warmup, batches, every);
            }
        }
        System.exit(failed ? 1 : 0);
    }

    private static void usage(String why) {
        System.err.println("LatencyMain: " + why + " (see --help)");
        System.exit(2);
    }

    private static boolean measure(String name, int w, int warmup, int batches, int every) {
        Contender.Config config = Contender.Config.of(w);
        List<long[]> samples = new ArrayList<>();
        double seconds = 0;
        long busy = 0;
        try (Contender c = Contenders.create(name, config)) {
            for (int b = 0; b < warmup; b++) {
                c.runBatch();
            }
            c.sampleLatency(every);
            for (int b = 0; b < batches; b++) {
                long t0 = System.nanoTime();
                c.runBatch();
                seconds += (System.nanoTime() - t0) * 1e-9;
                samples.add(c.latencySamples());
                busy += c.busyRetries();
            }
        } catch (RuntimeException | Error e) {
            String why = String.valueOf(e.getMessage()).replace('"', '\'').replace('\\', '/');
            System.out.printf(Locale.ROOT, "{\"suite\":\"java-latency\",\"contender\":\"%s\",\"w\":%d,\"jobs\":%d,"
                    + "\"check\":\"FAIL\",\"why\":\"%s: %s\"}%n", name, w, config.n(), e.getClass().getSimpleName(), why);
            System.err.printf("BENCH %s w=%d latency check=FAIL why=\"%s\"%n", name, w, why);
            return false;
        }
        long[] all = samples.stream().flatMapToLong(Arrays::stream).filter(x -> x != 0).sorted().toArray();
        double rate = (double) config.n() * batches / seconds;
        System.out.printf(Locale.ROOT, "{\"suite\":\"java-latency\",\"contender\":\"%s\",\"w\":%d,\"jobs\":%d,"
                        + "\"check\":\"ok\",\"runs\":%d,\"jobs_per_s\":%.1f,\"lat_samples\":%d,\"lat_p50_ns\":%d,"
                        + "\"lat_p99_ns\":%d,\"lat_p999_ns\":%d,\"busy_retries_per_job\":%.4f}%n",
                name, w, config.n(), batches, rate, all.length, pct(all, 50), pct(all, 99), pct(all, 99.9),
                (double) busy / ((double) config.n() * batches));
        System.out.flush();
        System.err.printf(Locale.ROOT, "BENCH %s w=%d latency p50=%dns p99=%dns p99.9=%dns check=ok%n",
                name, w, pct(all, 50), pct(all, 99), pct(all, 99.9));
        return true;
    }

    /** Nearest-rank percentile of sorted samples (as bench_lat_percentile() in C); 0 when empty. */
    static long pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(p / 100.0 * sorted.length - 1e-9);
        rank = Math.max(1, Math.min(sorted.length, rank));
        return sorted[(int) rank - 1];
    }
}
