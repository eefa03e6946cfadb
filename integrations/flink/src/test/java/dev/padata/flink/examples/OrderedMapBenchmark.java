/* SPDX-License-Identifier: MIT */
package dev.padata.flink.examples;

import dev.padata.flink.PadataStreams;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The same CPU-bound map in a local Flink job three ways - a plain {@code map}, {@code
 * AsyncDataStream.orderedWait} over a thread pool of one thread per CPU per subtask, and
 * {@link PadataStreams#orderedMap} - at parallelism 1 and 2, as throughput and as ratios to the
 * plain map. The clock runs from the first to the last element reaching the sink, so job start-up
 * is not counted. A rough harness (one run each, no warm-up beyond the first elements); not part of
 * scripts/bench.
 *
 * <pre>
 * MAVEN_OPTS=--enable-native-access=ALL-UNNAMED mvn -q -pl integrations/flink exec:java \
 *     -Dexec.classpathScope=test -Dexec.mainClass=dev.padata.flink.examples.OrderedMapBenchmark
 * </pre>
 */
public final class OrderedMapBenchmark {
    private static final int CAPACITY = 256;
    private static final AtomicLong FIRST = new AtomicLong();
    private static final AtomicLong LAST = new AtomicLong();

    private OrderedMapBenchmark() {
    }

    /** Stamps the first and last arrival at the sink. */
    static final class Stamp implements MapFunction<Long, Long> {
        @Override
        public Long map(Long v) {
            long now = System.nanoTime();
            FIRST.compareAndSet(0, now);
            LAST.accumulateAndGet(now, Math::max);
            return v;
        }
    }

    /** The workload on a pool of one thread per CPU, owned by the subtask. */
    static final class PooledWork extends RichAsyncFunction<Long, Long> {
        private final int w;
        private transient ExecutorService pool;

        PooledWork(int w) {
            this.w = w;
        }

        @Override
        public void open(OpenContext ctx) {
            pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        }

        @Override
        public void asyncInvoke(Long v, ResultFuture<Long> result) {
            pool.execute(() -> result.complete(List.of(Work.work(v, w))));
        }

        @Override
        public void close() throws Exception {
            pool.shutdown();
            pool.awaitTermination(1, TimeUnit.MINUTES);
        }
    }

    static double run(String mode, int parallelism, int w, long n) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism);
        DataStream<Long> in = env.fromSequence(0, n - 1);
        DataStream<Long> out = switch (mode) {
            case "map" -> in.map(new Work(w)).returns(Types.LONG);
            case "orderedWait" -> AsyncDataStream.orderedWait(in, new PooledWork(w), 1, TimeUnit.HOURS, CAPACITY);
            case "padata" -> PadataStreams.orderedMap(in, new Work(w), Types.LONG, CAPACITY);
            default -> throw new IllegalArgumentException(mode);
        };
        FIRST.set(0);
        LAST.set(0);
        out.map(new Stamp()).returns(Types.LONG).sinkTo(new DiscardingSink<>());
        env.execute(mode + " p=" + parallelism + " w=" + w);
        return n / ((LAST.get() - FIRST.get()) / 1e9);
    }

    public static void main(String[] args) throws Exception {
        int[] ws = {0, 2_000, 20_000};
        long[] ns = {300_000, 100_000, 20_000};
        String[] modes = {"map", "orderedWait", "padata"};
        System.out.println("| w | parallelism | map (elements/s) | orderedWait | padata | orderedWait / map | padata / map |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (int i = 0; i < ws.length; i++)
            for (int p = 1; p <= 2; p++) {
                double[] r = new double[modes.length];
                for (int m = 0; m < modes.length; m++)
                    r[m] = run(modes[m], p, ws[i], ns[i]);
                System.out.printf("| %d | %d | %.0f | %.0f | %.0f | %.2f | %.2f |%n",
                        ws[i], p, r[0], r[1], r[2], r[1] / r[0], r[2] / r[0]);
                if (ws[i] == 0)
                    System.out.printf("|   | per-element cost (us): | %.2f | %.2f | %.2f | | |%n",
                            1e6 / r[0], 1e6 / r[1], 1e6 / r[2]);
            }
    }
}
