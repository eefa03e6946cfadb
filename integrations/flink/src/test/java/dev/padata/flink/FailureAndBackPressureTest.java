/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FailureAndBackPressureTest {
    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = Flink.miniCluster();

    static final class Boom extends RuntimeException {
        Boom(String message) {
            super(message);
        }
    }

    @Test
    void exceptionFromFnFailsTheJobWithItAsTheCause() {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        PadataStreams.orderedMap(env.fromSequence(0, 999), v -> {
            if (v == 500)
                throw new Boom("no 500 here");
            return v;
        }, Types.LONG, 16).sinkTo(new DiscardingSink<>());
        Exception e = assertThrows(Exception.class, () -> env.execute("failing fn"));
        Boom cause = ExceptionUtils.findThrowable(e, Boom.class)
                .orElseThrow(() -> new AssertionError("the job failed without the function's exception", e));
        assertEquals("no 500 here", cause.getMessage());
    }

    static final AtomicLong STARTED = new AtomicLong();
    static final AtomicLong EMITTED = new AtomicLong();
    static final AtomicLong MAX_IN_FLIGHT = new AtomicLong();

    @Test
    void slowSinkHoldsInFlightElementsAtCapacity() throws Exception {
        final int capacity = 8;
        final long n = 2_000;
        STARTED.set(0);
        EMITTED.set(0);
        MAX_IN_FLIGHT.set(0);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        // fn is fast; the sink (chained behind the operator) takes ~100 us per element.
        PadataStreams.orderedMap(env.fromSequence(0, n - 1), v -> {
            long inFlight = STARTED.incrementAndGet() - EMITTED.get();
            MAX_IN_FLIGHT.accumulateAndGet(inFlight, Math::max);
            return v;
        }, Types.LONG, capacity).map(v -> {
            EMITTED.incrementAndGet();
            LockSupport.parkNanos(100_000);
            return v;
        }).returns(Types.LONG).sinkTo(new DiscardingSink<>());
        env.execute("slow sink");
        assertEquals(n, EMITTED.get());
        assertTrue(MAX_IN_FLIGHT.get() <= capacity, "in flight " + MAX_IN_FLIGHT.get() + " > capacity " + capacity);
        assertTrue(MAX_IN_FLIGHT.get() >= 2, "the operator kept elements in flight: " + MAX_IN_FLIGHT.get());
    }
}
