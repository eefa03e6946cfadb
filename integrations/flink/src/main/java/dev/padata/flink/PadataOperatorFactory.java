/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/** Creates a {@link PadataOrderedMapOperator} per subtask, handing it the subtask's mailbox. */
final class PadataOperatorFactory<T, R> extends AbstractStreamOperatorFactory<R>
        implements OneInputStreamOperatorFactory<T, R> {
    private static final long serialVersionUID = 1L;

    private final MapFunction<T, R> fn;
    private final int capacity;

    PadataOperatorFactory(MapFunction<T, R> fn, int capacity) {
        this.fn = fn;
        this.capacity = capacity;
        this.chainingStrategy = ChainingStrategy.ALWAYS;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <O extends StreamOperator<R>> O createStreamOperator(StreamOperatorParameters<R> parameters) {
        return (O) new PadataOrderedMapOperator<>(parameters, fn, capacity);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return PadataOrderedMapOperator.class;
    }
}
