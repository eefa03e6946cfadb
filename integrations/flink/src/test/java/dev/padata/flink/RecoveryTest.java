/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Elements in flight at a checkpoint survive a failure: exactly once into a two-phase sink. */
class RecoveryTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = Flink.miniCluster();

    static final long N = 1_000;
    static final long FAIL_AT = 250;
    static final AtomicBoolean THROWN = new AtomicBoolean();
    static final AtomicInteger FAIL_AT_CALLS = new AtomicInteger();

    /**
     * Element FAIL_AT waits until its own subtask took a snapshot after the element was submitted
     * (so the element is in flight in that snapshot) and that checkpoint (or a later one) completed,
     * then throws, once. The restored subtask has to submit it again from state: the source's
     * position in every such checkpoint is already past it.
     */
    static final class FailOnceAfterCheckpoint extends RichMapFunction<Long, Long> {
        private transient int subtask;

        @Override
        public void open(OpenContext ctx) {
            subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        }

        @Override
        public Long map(Long v) {
            if (v == FAIL_AT) {
                FAIL_AT_CALLS.incrementAndGet();
                if (!THROWN.get()) {
                    long before = CommittingSink.LAST_SNAPSHOT.get(subtask);
                    long snapshot;
                    while ((snapshot = CommittingSink.LAST_SNAPSHOT.get(subtask)) <= before)
                        LockSupport.parkNanos(1_000_000);
                    while (CommittingSink.LAST_COMPLETED.get() < snapshot)
                        LockSupport.parkNanos(1_000_000);
                    THROWN.set(true);
                    throw new IllegalStateException("injected failure at " + v + " after checkpoint " + snapshot);
                }
            }
            return v * 2;
        }
    }

    @Test
    void failureAfterCheckpointDeliversEveryElementExactlyOnce() throws Exception {
        CommittingSink.reset();
        THROWN.set(false);
        FAIL_AT_CALLS.set(0);
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(10));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(20);
        // 20 elements per checkpoint in all (10 per subtask): while FAIL_AT holds the head for a
        // checkpoint or two, some 30 elements queue behind it, well inside the capacity of 128, so
        // the task thread never parks in processElement and barriers keep flowing.
        DataGeneratorSource<Long> source = new DataGeneratorSource<>(i -> i, N,
                RateLimiterStrategy.perCheckpoint(20), Types.LONG);
        DataStream<Long> in = env.fromSource(source, WatermarkStrategy.noWatermarks(), "numbers");
        PadataStreams.orderedMap(in, new FailOnceAfterCheckpoint(), Types.LONG, 128)
                .transform("two-phase sink", Types.VOID, new CommittingSink());
        env.execute("exactly once across a failure");

        assertTrue(THROWN.get(), "the failure was injected");
        assertEquals(2, FAIL_AT_CALLS.get(), "element " + FAIL_AT + " computed again after the restore");
        List<Long> got = new ArrayList<>(CommittingSink.COMMITTED);
        Collections.sort(got);
        List<Long> want = new ArrayList<>();
        for (long i = 0; i < N; i++)
            want.add(i * 2);
        assertEquals(want, got, "every element committed exactly once");
    }
}
