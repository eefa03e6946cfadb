/* SPDX-License-Identifier: MIT */
package dev.padata.flink.examples;

import dev.padata.flink.PadataStreams;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.util.TestStreamEnvironment;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The harness benchmark of the Flink operator (issue 14): the same CPU-bound map - the project's
 * workload {@code work(seed, w)} of the bench module ({@link dev.padata.bench.Work}) - in a Flink
 * job as a plain {@code map}, as {@code AsyncDataStream.orderedWait} over a thread pool of one
 * thread per CPU per subtask, and as {@link PadataStreams#orderedMap}, at parallelism 1 and 2, at
 * {@code w = 0} (the per-element cost of each way) and at a fixed {@code w}, on one embedded
 * MiniCluster, in alternating rounds (the order of the jobs rotates each round).
 *
 * <p>Every job is checked in the sink: a map chained behind the operator, per subtask, records the
 * runs of consecutive seeds it saw and the sum of their hashes; the job passes when the runs
 * cover {@code 0..n-1} exactly once, there are no more runs than source splits (a reordered
 * element would start extra runs) and every run's hash sum equals the single-threaded one. A
 * configuration with a failed check reports no figure and the exit status is 1.
 *
 * <p>Throughput is timed from the first to the last element reaching the sink (job start-up is
 * not counted). One JSON line per (w, parallelism, mode) on stdout ({@code "suite":"flink"}):
 * median elements/s over the rounds, and the per-round ratio to the plain map of the same
 * parallelism (median, lowest, highest). scripts/bench runs it as a step; by hand:
 *
 * <pre>
 * mvn -q -DskipTests install
 * mvn -q -o -pl integrations/flink dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/tmp/cp
 * java --enable-native-access=ALL-UNNAMED \
 *     -cp integrations/flink/target/test-classes:integrations/flink/target/classes:$(cat /tmp/cp) \
 *     dev.padata.flink.examples.OrderedMapBenchmark --w 5000 --rounds 3
 * </pre>
 */
public final class OrderedMapBenchmark {
    private static final int CAPACITY = 256;
    private static final AtomicLong FIRST = new AtomicLong();
    private static final AtomicLong LAST = new AtomicLong();
    /** Runs of consecutive seeds seen by the sinks of the current job: {first, last, hash sum}. */
    private static final ConcurrentLinkedQueue<long[]> RUNS = new ConcurrentLinkedQueue<>();
    static final List<String> MODES = List.of("map", "orderedWait", "padata");

    private OrderedMapBenchmark() {
    }

    /** The workload with its seed: {@code {seed, work(seed, w)}}, so the sink can check order. */
    static final class SeedAndHash implements MapFunction<Long, long[]> {
        private static final long serialVersionUID = 1L;
        private final int w;

        SeedAndHash(int w) {
            this.w = w;
        }

        @Override
        public long[] map(Long seed) {
            return new long[] {seed, dev.padata.bench.Work.work(seed, w)};
        }
    }

    /** The workload on a pool of one thread per CPU, owned by the subtask. */
    static final class PooledWork extends RichAsyncFunction<Long, long[]> {
        private static final long serialVersionUID = 1L;
        private final SeedAndHash fn;
        private transient ExecutorService pool;

        PooledWork(int w) {
            this.fn = new SeedAndHash(w);
        }

        @Override
        public void open(OpenContext ctx) {
            pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        }

        @Override
        public void asyncInvoke(Long v, ResultFuture<long[]> result) {
            pool.execute(() -> result.complete(List.of(fn.map(v))));
        }

        @Override
        public void close() throws Exception {
            pool.shutdown();
            pool.awaitTermination(1, TimeUnit.MINUTES);
        }
    }

    /** The sink-side check, chained behind the operator: runs of consecutive seeds and their hash sums, per subtask. */
    static final class Check extends RichMapFunction<long[], Long> {
        private static final long serialVersionUID = 1L;
        private transient List<long[]> runs;
        private transient long[] run;

        @Override
        public void open(OpenContext ctx) {
            runs = new ArrayList<>();
        }

        @Override
        public Long map(long[] v) {
            long now = System.nanoTime();
            FIRST.compareAndSet(0, now);
            LAST.accumulateAndGet(now, Math::max);
            if (run == null || v[0] != run[1] + 1) {
                run = new long[] {v[0], v[0], 0};
                runs.add(run);
            } else {
                run[1] = v[0];
            }
            run[2] += v[1];
            return v[0];
        }

        @Override
        public void close() {
            RUNS.addAll(runs);
        }
    }

    /** What one job measured: elements/s, or the reason its check failed. */
    record Outcome(double elementsPerS, String failure) {
    }

    static Outcome run(MiniCluster cluster, String mode, int parallelism, int w, int n, long[] prefix) throws Exception {
        StreamExecutionEnvironment env = new TestStreamEnvironment(cluster, parallelism);
        DataStream<Long> in = env.fromSequence(0, n - 1);
        TypeInformation<long[]> type = PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO;
        DataStream<long[]> out = switch (mode) {
            case "map" -> in.map(new SeedAndHash(w)).returns(type);
            case "orderedWait" -> AsyncDataStream.orderedWait(in, new PooledWork(w), 1, TimeUnit.HOURS, CAPACITY);
            case "padata" -> PadataStreams.orderedMap(in, new SeedAndHash(w), type, CAPACITY);
            default -> throw new IllegalArgumentException(mode);
        };
        FIRST.set(0);
        LAST.set(0);
        RUNS.clear();
        out.map(new Check()).returns(Types.LONG).sinkTo(new DiscardingSink<>());
        env.execute(mode + " p=" + parallelism + " w=" + w);
        String why = check(new ArrayList<>(RUNS), n, parallelism, prefix);
        return why != null ? new Outcome(Double.NaN, why) : new Outcome(n / ((LAST.get() - FIRST.get()) / 1e9), null);
    }

    /**
     * Checks the sinks' runs: they cover {@code 0..n-1} exactly once, number at most
     * {@code splits}, and each run's hash sum is the single-threaded sum over its seeds
     * ({@code prefix[b + 1] - prefix[a]}). Returns null when they do, else what is wrong.
     */
    static String check(List<long[]> runs, int n, int splits, long[] prefix) {
        if (runs.size() > splits) {
            return runs.size() + " runs of consecutive elements at the sinks, more than the " + splits
                    + " source splits: elements left a subtask out of order";
        }
        runs.sort((a, b) -> Long.compare(a[0], b[0]));
        long next = 0;
        for (long[] r : runs) {
            if (r[0] != next) {
                return r[0] < next ? "element " + r[0] + " arrived twice" : "elements " + next + ".." + (r[0] - 1) + " never arrived";
            }
            if (r[2] != prefix[(int) r[1] + 1] - prefix[(int) r[0]]) {
                return "the hashes of elements " + r[0] + ".." + r[1] + " differ from the single-threaded ones";
            }
            next = r[1] + 1;
        }
        return next == n ? null : "elements " + next + ".." + (n - 1) + " never arrived";
    }

    /** prefix[i] = sum of work(seed, w) over seeds 0..i-1 (wrap-around). */
    static long[] prefix(int n, int w) {
        long[] p = new long[n + 1];
        for (int i = 0; i < n; i++) {
            p[i + 1] = p[i] + dev.padata.bench.Work.work(i, w);
        }
        return p;
    }

    private static final String USAGE = """
            usage: OrderedMapBenchmark [--w W] [--n N] [--n0 N] [--rounds R] [--budget S]
              --w W        work per element for the CPU-bound figures (default 5000, about 6 us)
              --n N        elements per job at w = W (default 40000)
              --n0 N       elements per job at w = 0, the per-element cost (default 200000)
              --rounds R   alternating rounds at least (default 3)
              --budget S   more rounds while under S seconds in all, up to 3 x R (default 0: exactly R)
            """;

    public static void main(String[] args) throws Exception {
        int w = 5000;
        int n = 40_000;
        int n0 = 200_000;
        int rounds = 3;
        double budget = 0;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("-h") || args[i].equals("--help")) {
                System.out.print(USAGE);
                return;
            }
            if (i + 1 >= args.length) {
                usage("option " + args[i] + " needs a value");
            }
            String v = args[++i];
            try {
                switch (args[i - 1]) {
                    case "--w" -> w = Integer.parseInt(v);
                    case "--n" -> n = Integer.parseInt(v);
                    case "--n0" -> n0 = Integer.parseInt(v);
                    case "--rounds" -> rounds = Integer.parseInt(v);
                    case "--budget" -> budget = Double.parseDouble(v);
                    default -> usage("unknown option " + args[i - 1]);
                }
            } catch (NumberFormatException e) {
                usage("bad value '" + v + "' for " + args[i - 1]);
            }
        }
        if (w < 0 || n < 2 || n0 < 2 || rounds < 1 || budget < 0) {
            usage("need --w >= 0, --n >= 2, --n0 >= 2, --rounds >= 1, --budget >= 0");
        }
        long t0 = System.nanoTime();
        int[] ws = w == 0 ? new int[] {0} : new int[] {0, w};
        int[] ns = w == 0 ? new int[] {n0} : new int[] {n0, n};
        int[] ps = {1, 2};
        List<long[]> prefixes = new ArrayList<>();
        for (int k = 0; k < ws.length; k++) {
            prefixes.add(prefix(ns[k], ws[k]));
        }
        // configs: (w index, p, mode); results[config][round]
        List<int[]> configs = new ArrayList<>();
        for (int k = 0; k < ws.length; k++) {
            for (int p : ps) {
                for (int m = 0; m < MODES.size(); m++) {
                    configs.add(new int[] {k, p, m});
                }
            }
        }
        List<List<Double>> rates = new ArrayList<>();
        String[] failures = new String[configs.size()];
        for (int c = 0; c < configs.size(); c++) {
            rates.add(new ArrayList<>());
        }
        Configuration conf = new Configuration();
        MiniClusterConfiguration mc = new MiniClusterConfiguration.Builder().setConfiguration(conf)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(2).build();
        int done = 0;
        try (MiniCluster cluster = new MiniCluster(mc)) {
            cluster.start();
            // One unmeasured job of each mode warms the JIT and the cluster.
            for (int m = 0; m < MODES.size(); m++) {
                run(cluster, MODES.get(m), 1, 0, Math.min(n0, 20_000), prefix(Math.min(n0, 20_000), 0));
            }
            for (int r = 0; r < 3 * rounds; r++) {
                if (r >= rounds && (System.nanoTime() - t0) / 1e9 >= budget) {
                    break;
                }
                for (int j = 0; j < configs.size(); j++) {
                    int c = (j + r) % configs.size();
                    if (failures[c] != null) {
                        continue;
                    }
                    int[] cf = configs.get(c);
                    Outcome o = run(cluster, MODES.get(cf[2]), cf[1], ws[cf[0]], ns[cf[0]], prefixes.get(cf[0]));
                    if (o.failure() != null) {
                        failures[c] = o.failure();
                        System.err.printf(Locale.ROOT, "OrderedMapBenchmark: %s p=%d w=%d FAILED its check: %s%n",
                                MODES.get(cf[2]), cf[1], ws[cf[0]], o.failure());
                    } else {
                        rates.get(c).add(o.elementsPerS());
                    }
                }
                done++;
                System.err.printf(Locale.ROOT, "OrderedMapBenchmark: round %d done, %.1f s%n", done, (System.nanoTime() - t0) / 1e9);
            }
        }
        boolean failed = false;
        for (int c = 0; c < configs.size(); c++) {
            int[] cf = configs.get(c);
            String mode = MODES.get(cf[2]);
            if (failures[c] != null) {
                failed = true;
                System.out.printf(Locale.ROOT, "{\"suite\":\"flink\",\"w\":%d,\"parallelism\":%d,\"mode\":\"%s\",\"check\":\"FAIL\",\"error\":\"%s\"}%n",
                        ws[cf[0]], cf[1], mode, failures[c].replace("\"", "'"));
                continue;
            }
            int base = c - cf[2]; // the plain map of the same (w, p)
            double[] ratio = failures[base] != null ? new double[] {Double.NaN, Double.NaN, Double.NaN} : ratios(rates.get(c), rates.get(base));
            double med = median(rates.get(c));
            System.out.printf(Locale.ROOT, "{\"suite\":\"flink\",\"w\":%d,\"parallelism\":%d,\"mode\":\"%s\",\"elements\":%d,\"capacity\":%d,"
                            + "\"rounds\":%d,\"check\":\"PASS\",\"elements_s\":%.1f,\"us_per_element\":%.4f,\"ratio_map\":%s,"
                            + "\"ratio_map_min\":%s,\"ratio_map_max\":%s,\"rates\":%s}%n",
                    ws[cf[0]], cf[1], mode, ns[cf[0]], CAPACITY, rates.get(c).size(), med, 1e6 / med,
                    num(ratio[0]), num(ratio[1]), num(ratio[2]), rates.get(c).stream().map(d -> String.format(Locale.ROOT, "%.1f", d)).toList());
            System.err.printf(Locale.ROOT, "  w=%-6d p=%d %-12s %10.0f elements/s  %.2f us/element  %.2fx map [%.2f-%.2f]%n",
                    ws[cf[0]], cf[1], mode, med, 1e6 / med, ratio[0], ratio[1], ratio[2]);
        }
        System.out.flush();
        System.exit(failed ? 1 : 0);
    }

    private static void usage(String why) {
        System.err.println("OrderedMapBenchmark: " + why + "\n" + USAGE);
        System.exit(2);
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "null" : String.format(Locale.ROOT, "%.4f", v);
    }

    static double median(List<Double> xs) {
        double[] s = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (s.length == 0) {
            return Double.NaN;
        }
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Median, lowest and highest of a[k] / base[k] over the rounds (jobs of the same round). */
    static double[] ratios(List<Double> a, List<Double> base) {
        List<Double> r = new ArrayList<>();
        for (int k = 0; k < Math.min(a.size(), base.size()); k++) {
            r.add(a.get(k) / base.get(k));
        }
        double[] x = r.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return x.length == 0 ? new double[] {Double.NaN, Double.NaN, Double.NaN} : new double[] {median(r), x[0], x[x.length - 1]};
    }
}
