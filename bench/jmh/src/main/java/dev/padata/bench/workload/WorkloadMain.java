/* SPDX-License-Identifier: MIT */
package dev.padata.bench.workload;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Real workloads in Java (issue 10 item 4, issue 11's aes-gcm target): {@code aes-gcm} at
 * 1400-byte and 8000-byte packets ({@link AesGcmWorkload}) and {@code deflate} of 128 KiB
 * blocks of real text into one gzip stream ({@link DeflateWorkload}), each run by every
 * contender of {@link Runner} in alternating rounds (the order rotates every round) in one JVM.
 * Every run is checked: order and digest against the single loop, for deflate the whole gzip
 * stream byte for byte, and the single loop's stream read back by {@code gzip -d}; a contender
 * that fails a check gets {@code "check":"FAIL"} and no figure, and the exit status is 1.
 *
 * <p>Per (workload, contender) one JSON line on stdout: the median run time, its spread, and
 * the median, lowest and highest per-round ratio to {@code java-single} and {@code java-stream}
 * (each ratio from runs of the same round). Progress goes to stderr.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.padata.bench.workload.WorkloadMain --budget 25
 * </pre>
 */
public final class WorkloadMain {
    private WorkloadMain() {
    }

    private static final String USAGE = """
            usage: WorkloadMain [options]
              --workloads LIST   aes-gcm-1400,aes-gcm-8000,deflate (default: all three)
              --contenders LIST  default: java-single,java-padata-lambda,java-padata-idiomatic,
                                 java-padata-batch,java-stream,java-pool,java-unordered
                                 (java-single is always run)
              --budget S         seconds for the measured rounds of all workloads (default 25)
              --min-rounds N     measured rounds at least, even over budget (default 5)
              --max-rounds N     measured rounds at most (default 25)
              --warmup N         unmeasured rounds first (default 2)
              --scale F          items per run times F: 100000 packets of 1400 B, 20000 of 8000 B,
                                 32 deflate blocks (4 MiB) at F = 1 (default 1)
              --deflate-mb N     size of the cached deflate input (default 32)
              --cache DIR        where the deflate input is cached (default build/workloads)
              --text-root DIR    the text files it is made from (default /usr/share)
            """;

    /**
     * What failed: the message and the chain of causes (a failed item's exception is the cause),
     * each cause once (a chain may loop: {@code a.initCause(b); b.initCause(a)}).
     */
    static String why(Throwable e) {
        StringBuilder b = new StringBuilder(String.valueOf(e.getMessage()));
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        seen.add(e);
        for (Throwable c = e.getCause(); c != null && seen.add(c); c = c.getCause())
            b.append(": ").append(c);
        return b.toString();
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        List<String> workloads = List.of("aes-gcm-1400", "aes-gcm-8000", "deflate");
        List<String> contenders = Runner.NAMES;
        double budget = 25;
        int minRounds = 5;
        int maxRounds = 25;
        int warmup = 2;
        double scale = 1;
        int deflateMb = 32;
        Path cache = Path.of("build/workloads");
        Path textRoot = Path.of("/usr/share");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.print(USAGE);
                return;
            }
            if (i + 1 >= args.length) {
                usage("option " + a + " needs a value");
            }
            String v = args[++i];
            try {
                switch (a) {
                    case "--workloads" -> workloads = split(v);
                    case "--contenders" -> contenders = split(v);
                    case "--budget" -> budget = Double.parseDouble(v);
                    case "--min-rounds" -> minRounds = Integer.parseInt(v);
                    case "--max-rounds" -> maxRounds = Integer.parseInt(v);
                    case "--warmup" -> warmup = Integer.parseInt(v);
                    case "--scale" -> scale = Double.parseDouble(v);
                    case "--deflate-mb" -> deflateMb = Integer.parseInt(v);
                    case "--cache" -> cache = Path.of(v);
                    case "--text-root" -> textRoot = Path.of(v);
                    default -> usage("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                usage("bad value '" + v + "' for " + a);
            }
        }
        if (minRounds < 1 || maxRounds < minRounds || warmup < 0 || scale <= 0 || deflateMb < 1 || budget < 0) {
            usage("need --min-rounds >= 1, --max-rounds >= --min-rounds, --warmup >= 0, --scale > 0, --deflate-mb >= 1");
        }
        List<String> names = new ArrayList<>(List.of("java-single"));
        for (String c : contenders) {
            if (!Runner.NAMES.contains(c)) {
                usage("unknown contender '" + c + "'; known: " + Runner.NAMES);
            }
            if (!names.contains(c)) {
                names.add(c);
            }
        }
        List<Workload> wls = new ArrayList<>();
        for (String w : workloads) {
            switch (w) {
                case "aes-gcm-1400" -> wls.add(new AesGcmWorkload(1400, 20_000_000));
                case "aes-gcm-8000" -> wls.add(new AesGcmWorkload(8000, 4_000_000));
                case "deflate" -> wls.add(new DeflateWorkload(DeflateWorkload.input(
                        cache.resolve("deflate-input-" + deflateMb + "m.txt"), textRoot, deflateMb << 20)));
                default -> usage("unknown workload '" + w + "'");
            }
        }

        int threads = Runtime.getRuntime().availableProcessors();
        boolean failed = false;
        long t0 = System.nanoTime();
        List<Runner> runners = new ArrayList<>();
        try {
            for (String n : names) {
                runners.add(Runner.open(n, threads));
            }
            for (int k = 0; k < wls.size(); k++) {
                double left = budget - (System.nanoTime() - t0) / 1e9;
                double share = Math.max(0, left / (wls.size() - k));
                Workload wl = wls.get(k);
                int items = (int) Math.max(2, Math.round(scale * switch (wl.name() + wl.size()) {
                    case "aes-gcm1400" -> 100_000;
                    case "aes-gcm8000" -> 20_000;
                    default -> 32;
                }));
                failed |= !measure(wl, runners, threads, warmup, minRounds, maxRounds, share, items, cache);
            }
        } finally {
            for (Runner r : runners) {
                r.close();
            }
        }
        System.exit(failed ? 1 : 0);
    }

    private static List<String> split(String v) {
        return Arrays.stream(v.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static void usage(String why) {
        System.err.println("WorkloadMain: " + why + "\n" + USAGE);
        System.exit(2);
    }

    /** The reference digests of the single loop at the current item count. */
    private record Ref(long ordered, long unordered) {
    }

    /** A run of the single loop at the current size, whose digests every other run must match. */
    private static Ref reference(Runner single, Workload wl) {
        Workload.Sink sink = wl.newSink();
        single.run(wl, sink);
        sink.check();
        if (wl instanceof DeflateWorkload d) {
            d.checkStream(sink, single.name());
        }
        return new Ref(sink.ordered(), sink.unordered());
    }

    /** Runs {@code r} once on {@code wl}, checks it against {@code ref}; returns seconds. */
    private static double once(Runner r, Workload wl, Ref ref) {
        Workload.Sink sink = wl.newSink();
        long a = System.nanoTime();
        r.run(wl, sink);
        double s = (System.nanoTime() - a) / 1e9;
        if (r.ordered()) {
            sink.check();
            if (ref != null && (sink.ordered() != ref.ordered() || sink.unordered() != ref.unordered())) {
                throw new IllegalStateException("digest " + Long.toHexString(sink.ordered())
                        + " differs from the single loop's " + Long.toHexString(ref.ordered()));
            }
            if (wl instanceof DeflateWorkload d) {
                d.checkStream(sink, r.name());
            }
        } else if (ref != null && r.unorderedDigest() != ref.unordered()) {
            throw new IllegalStateException("order-free digest " + Long.toHexString(r.unorderedDigest())
                    + " differs from the single loop's " + Long.toHexString(ref.unordered()));
        }
        return s;
    }

    private static boolean measure(Workload wl, List<Runner> runners, int threads, int warmup, int minRounds,
                                   int maxRounds, double budget, int items, Path dir) throws IOException, InterruptedException {
        String label = wl.name() + " " + wl.size() + " B";
        Map<String, String> failures = new LinkedHashMap<>();
        Map<String, List<Double>> times = new LinkedHashMap<>();
        for (Runner r : runners) {
            times.put(r.name(), new ArrayList<>());
        }
        Runner single = runners.get(0);
        String verified = "";
        long tStart = System.nanoTime();
        Ref ref;
        try {
            // Warm every contender up on small runs (checked against the single loop), then the
            // reference run at the measured size.
            wl.items(Math.min(wl.maxItems(), wl.name().equals("deflate") ? 8 : 2000));
            ref = reference(single, wl);
            for (int round = 0; round < warmup; round++) {
                for (Runner r : runners) {
                    try {
                        once(r, wl, ref);
                    } catch (RuntimeException e) {
                        String why = why(e);
                        failures.putIfAbsent(r.name(), why);
                        System.err.println("WorkloadMain: " + label + ": " + r.name() + " FAILED its check in warm-up: " + why);
                    }
                }
            }
            wl.items(items);
            ref = reference(single, wl);
            if (wl instanceof DeflateWorkload d) {
                verified = d.verify(dir);
            }
        } catch (RuntimeException e) {
            System.err.println("WorkloadMain: " + label + ": the single loop failed: " + e);
            for (Runner r : runners) {
                printFail(wl, r.name(), "the single loop failed: " + e.getMessage());
            }
            return false;
        }
        System.err.printf(Locale.ROOT, "WorkloadMain: %s: %d items (%.1f MB) per run%s%n", label, wl.items(),
                wl.bytes() / 1e6, verified.isEmpty() ? "" : "; gzip stream read back by " + verified);

        int rounds = 0;
        for (int round = 0; round < maxRounds; round++) {
            for (int k = 0; k < runners.size(); k++) {
                Runner r = runners.get((k + round) % runners.size());
                if (failures.containsKey(r.name())) {
                    continue;
                }
                try {
                    times.get(r.name()).add(once(r, wl, ref));
                } catch (RuntimeException e) {
                    String why = why(e);
                    failures.put(r.name(), why);
                    System.err.println("WorkloadMain: " + label + ": " + r.name() + " FAILED its check: " + why);
                }
            }
            rounds++;
            if (rounds >= minRounds && (System.nanoTime() - tStart) / 1e9 >= budget) {
                break;
            }
        }
        boolean ok = failures.isEmpty();
        for (Runner r : runners) {
            String name = r.name();
            if (failures.containsKey(name)) {
                printFail(wl, name, failures.get(name));
                continue;
            }
            List<Double> t = times.get(name);
            double med = median(t);
            double[] rs = ratios(times.get("java-single"), t);
            double[] rst = times.containsKey("java-stream") && !failures.containsKey("java-stream")
                    ? ratios(times.get("java-stream"), t) : new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN};
            double min = t.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
            double max = t.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
            StringBuilder b = new StringBuilder();
            b.append(String.format(Locale.ROOT, "{\"suite\":\"java-workloads\",\"workload\":\"%s\",\"size\":%d,\"contender\":\"%s\","
                            + "\"threads\":%d,\"items\":%d,\"bytes\":%d,\"rounds\":%d,\"check\":\"PASS\",\"median_s\":%.6f,\"min_s\":%.6f,"
                            + "\"max_s\":%.6f,\"spread\":%.4f,\"mb_s\":%.3f,\"items_s\":%.1f,\"ratio_single\":%s,\"ratio_single_min\":%s,"
                            + "\"ratio_single_max\":%s,\"ratio_single_q1\":%s,\"ratio_single_q3\":%s,\"ratio_stream\":%s,\"ratio_stream_min\":%s,"
                            + "\"ratio_stream_max\":%s,\"ratio_stream_q1\":%s,\"ratio_stream_q3\":%s",
                    wl.name(), wl.size(), name, threads, wl.items(), wl.bytes(), t.size(), med, min, max, (max - min) / med,
                    wl.bytes() / med / 1e6, wl.items() / med, num(rs[0]), num(rs[1]), num(rs[2]), num(rs[3]), num(rs[4]),
                    num(rst[0]), num(rst[1]), num(rst[2]), num(rst[3]), num(rst[4])));
            if (!verified.isEmpty() && r.ordered()) {
                b.append(",\"verified\":\"gzip stream identical to the single loop's, which ").append(verified).append(" read back\"");
            }
            b.append(",\"times_s\":[");
            for (int k = 0; k < t.size(); k++) {
                b.append(k == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.6f", t.get(k)));
            }
            System.out.println(b.append("]}"));
            System.err.printf(Locale.ROOT, "  %-22s %s %6d B: %8.1f MB/s  %5.2fx single (IQR %.2f-%.2f, range %.2f-%.2f)  %5.2fx stream (IQR %.2f-%.2f)%n",
                    name, wl.name(), wl.size(), wl.bytes() / med / 1e6, rs[0], rs[3], rs[4], rs[1], rs[2], rst[0], rst[3], rst[4]);
        }
        System.out.flush();
        return ok;
    }

    private static void printFail(Workload wl, String contender, String why) {
        System.out.printf(Locale.ROOT, "{\"suite\":\"java-workloads\",\"workload\":\"%s\",\"size\":%d,\"contender\":\"%s\",\"check\":\"FAIL\",\"error\":\"%s\"}%n",
                wl.name(), wl.size(), contender, why.replace("\\", "\\\\").replace("\"", "'"));
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "null" : String.format(Locale.ROOT, "%.4f", v);
    }

    static double median(List<Double> xs) {
        double[] s = xs.stream().mapToDouble(Double::doubleValue).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (s.length == 0) {
            return Double.NaN;
        }
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Median, lowest, highest, lower and upper quartile of base[k] / t[k] over the rounds (runs of the same round). */
    static double[] ratios(List<Double> base, List<Double> t) {
        List<Double> r = new ArrayList<>();
        for (int k = 0; k < Math.min(base.size(), t.size()); k++) {
            double v = base.get(k) / t.get(k);
            if (!Double.isNaN(v)) {
                r.add(v);
            }
        }
        double[] x = r.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (x.length == 0) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN};
        }
        return new double[] {median(r), x[0], x[x.length - 1], x[(x.length - 1) / 4], x[(3 * (x.length - 1) + 3) / 4]};
    }
}
