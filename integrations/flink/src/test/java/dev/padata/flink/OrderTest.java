/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Results leave every subtask in its input order; keyed streams keep per-key order; markers stay in place. */
class OrderTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = Flink.miniCluster();

    /** Tags each element with the subtask that saw it and its position there: (subtask, seq, value). */
    static final class Tag extends RichMapFunction<Long, Tuple3<Integer, Long, Long>> {
        private transient int subtask;
        private transient long seq;

        @Override
        public void open(OpenContext ctx) {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        }

        @Override
        public Tuple3<Integer, Long, Long> map(Long v) {
            return Tuple3.of(subtask, seq++, v);
        }
    }

    static final java.util.Set<String> FN_THREADS = java.util.concurrent.ConcurrentHashMap.newKeySet();
    static final AtomicLong EMITTED_ON_WORKER = new AtomicLong();

    @ParameterizedTest(name = "parallelism {0}")
    @ValueSource(ints = {2, 4})
    void resultsLeaveEachSubtaskInInputOrder(int parallelism) throws Exception {
        final long n = 20_000;
        FN_THREADS.clear();
        EMITTED_ON_WORKER.set(0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        DataStream<Tuple3<Integer, Long, Long>> tagged = env.fromSequence(0, n - 1)
                .map(new Tag()).returns(Types.TUPLE(Types.INT, Types.LONG, Types.LONG));
        // Every 7th element takes ~30 us, the rest almost nothing: completions come out of order.
        DataStream<Tuple3<Integer, Long, Long>> mapped = PadataStreams.orderedMap(tagged,
                t -> {
                    FN_THREADS.add(Thread.currentThread().getName().replaceAll("/.*", ""));
                    if (t.f2 % 7 == 0)
                        Flink.spin(30_000);
                    return Tuple3.of(t.f0, t.f1, t.f2 * 3);
                },
                Types.TUPLE(Types.INT, Types.LONG, Types.LONG), 64)
                .map(t -> {
                    // chained: runs on the thread that emitted the result
                    if (Thread.currentThread().getName().startsWith("padata-"))
                        EMITTED_ON_WORKER.incrementAndGet();
                    return t;
                }).returns(Types.TUPLE(Types.INT, Types.LONG, Types.LONG));

        // The collect sink has one input channel per subtask, each FIFO: per-subtask order survives.
        Map<Integer, Long> next = new HashMap<>();
        long count = 0;
        try (var it = mapped.executeAndCollect("order p=" + parallelism)) {
            while (it.hasNext()) {
                Tuple3<Integer, Long, Long> t = it.next();
                long expected = next.getOrDefault(t.f0, 0L);
                assertEquals(expected, t.f1, "subtask " + t.f0 + " emitted out of order");
                next.put(t.f0, expected + 1);
                assertEquals(0, t.f2 % 3);
                count++;
            }
        }
        assertEquals(n, count);
        assertEquals(parallelism, next.size(), "every subtask saw elements: " + next);
        assertEquals(0, EMITTED_ON_WORKER.get(), "results emitted from a padata worker instead of the task thread");
        assertTrue(FN_THREADS.stream().allMatch(name -> name.startsWith("padata-flink")), "fn ran on " + FN_THREADS);
    }

    @Test
    void keyedStreamKeepsPerKeyOrderEndToEnd() throws Exception {
        final long n = 20_000;
        final int keys = 13;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        // One source subtask: for key k the sequence numbers v / keys arrive increasing.
        DataStream<Tuple2<Integer, Long>> in = env.fromSequence(0, n - 1).setParallelism(1)
                .map(v -> Tuple2.of((int) (v % keys), v / keys)).returns(Types.TUPLE(Types.INT, Types.LONG))
                .setParallelism(1);
        DataStream<Tuple2<Integer, Long>> out = PadataStreams.orderedMap(in.keyBy(t -> t.f0),
                t -> {
                    if ((t.f1 & 3) == 0)
                        Flink.spin(20_000);
                    return t;
                },
                Types.TUPLE(Types.INT, Types.LONG), 32);
        List<Tuple2<Integer, Long>> got = out.executeAndCollect("keyed", (int) n + 1);
        assertEquals(n, got.size());
        long[] next = new long[keys];
        for (Tuple2<Integer, Long> t : got) {
            assertEquals(next[t.f0], t.f1, "key " + t.f0 + " out of order");
            next[t.f0]++;
        }
    }

    static final AtomicLong CLOSED = new AtomicLong();

    /** Answers with the subtask index its runtime context gave it in open(). */
    static final class SubtaskOf extends RichMapFunction<Long, Integer> {
        private transient int subtask = -1;

        @Override
        public void open(OpenContext ctx) {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        }

        @Override
        public Integer map(Long v) {
            return subtask;
        }

        @Override
        public void close() {
            CLOSED.incrementAndGet();
        }
    }

    @Test
    void richFunctionIsOpenedWithItsRuntimeContextAndClosed() throws Exception {
        CLOSED.set(0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        List<Integer> got = PadataStreams.orderedMap(env.fromSequence(0, 999), new SubtaskOf(), Types.INT, 8)
                .executeAndCollect("rich", 2_000);
        assertEquals(1_000, got.size());
        assertEquals(java.util.Set.of(0, 1), new java.util.HashSet<>(got));
        assertEquals(2, CLOSED.get(), "close() once per subtask");
    }

    static final AtomicLong LATE = new AtomicLong();
    static final AtomicLong SEEN = new AtomicLong();

    /** Counts records whose timestamp is behind the watermark already seen: a watermark overtook them. */
    static final class LateCounter extends ProcessFunction<Long, Long> {
        @Override
        public void processElement(Long v, Context ctx, Collector<Long> out) {
            SEEN.incrementAndGet();
            if (ctx.timestamp() <= ctx.timerService().currentWatermark())
                LATE.incrementAndGet();
        }
    }

    @Test
    void watermarksStayBehindTheRecordsBeforeThem() throws Exception {
        LATE.set(0);
        SEEN.set(0);
        final long n = 5_000;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        env.getConfig().setAutoWatermarkInterval(1);
        DataStream<Long> in = env.fromSequence(1, n)
                .assignTimestampsAndWatermarks(WatermarkStrategy.<Long>forMonotonousTimestamps()
                        .withTimestampAssigner((v, ts) -> v));
        // Slow elements hold the head while watermarks (every ms) arrive behind them.
        DataStream<Long> out = PadataStreams.orderedMap(in, v -> {
            if (v % 50 == 0)
                Flink.spin(200_000);
            return v;
        }, Types.LONG, 128);
        out.process(new LateCounter()).returns(Types.LONG);
        env.execute("watermarks");
        assertEquals(n, SEEN.get());
        assertEquals(0, LATE.get(), "records behind the watermark");
    }
}
