/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import dev.padata.Padata;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;

import java.util.Objects;

/**
 * padata inside Apache Flink: an ordered map whose function runs on the task manager's CPUs.
 *
 * <pre>{@code
 * DataStream<Order> orders = ...;
 * DataStream<Priced> priced = PadataStreams.orderedMap(orders, new PriceIt(),
 *         TypeInformation.of(Priced.class), 256);
 * }</pre>
 *
 * <p>Each parallel subtask owns one padata instance (a workqueue with a worker per CPU) and keeps
 * up to {@code capacity} elements in flight on it; results leave the subtask in its input order.
 * Flink still does the distribution, the keying, checkpoints and recovery; a keyed input keeps
 * its per-key order end to end.
 *
 * <p>Use it when the work per element is CPU-bound and clearly larger than the hand-off cost of
 * a few microseconds per element (the README's Flink section has a rough measured figure), and
 * when adding Flink parallelism is not the better answer (more subtasks also means more
 * network channels, state and checkpoint size; padata adds CPUs inside one subtask). For cheap
 * functions a plain {@code map} with more parallelism is faster.
 */
public final class PadataStreams {
    private PadataStreams() {
    }

    /**
     * Applies {@code fn} to every element of {@code input} on padata workers and emits the results
     * in input order per subtask.
     *
     * <p>{@code fn} runs concurrently on several threads: it must be thread-safe and must not
     * change its input (in-flight inputs are read again for checkpoints). A {@code RichMapFunction}
     * is opened and closed once per subtask on the task thread. Watermarks and latency markers stay
     * in order with the records around them. At most {@code capacity} elements are in flight per
     * subtask; beyond, the operator stops taking input (back-pressure). Elements in flight at a
     * checkpoint are part of it and are submitted again on restore, so nothing is lost or repeated
     * downstream of an exactly-once sink. An exception thrown by {@code fn} fails the task with that
     * exception as the cause (then Flink's restart strategy decides).
     *
     * @param input    the stream to map (keyed or not)
     * @param fn       the function, serializable like any Flink function
     * @param outType  the type of the results
     * @param capacity elements in flight per subtask, in {@code [1, Padata.MAX_INFLIGHT_LIMIT]}
     * @return the mapped stream
     * @throws NullPointerException     when {@code input}, {@code fn} or {@code outType} is null
     * @throws IllegalArgumentException when {@code capacity} is out of range
     */
    public static <T, R> SingleOutputStreamOperator<R> orderedMap(DataStream<T> input, MapFunction<T, R> fn,
            TypeInformation<R> outType, int capacity) {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(fn, "fn");
        Objects.requireNonNull(outType, "outType");
        if (capacity < 1 || capacity > Padata.MAX_INFLIGHT_LIMIT)
            throw new IllegalArgumentException("capacity " + capacity + " is not in [1, " + Padata.MAX_INFLIGHT_LIMIT + "]");
        MapFunction<T, R> clean = input.getExecutionEnvironment().clean(fn);
        return input.transform("padata orderedMap", outType, new PadataOperatorFactory<>(clean, capacity));
    }
}
