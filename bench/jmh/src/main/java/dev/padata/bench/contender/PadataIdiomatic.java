/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.OrderedPipeline;
import dev.padata.Padata;
import dev.padata.bench.OrderCheck;
import dev.padata.bench.RunFeeder;
import dev.padata.bench.Work;

/**
 * {@code java-padata-idiomatic}: the Java library's everyday layer, used the way its Javadoc
 * shows: an {@link OrderedPipeline} whose function computes the digest of a submitted job
 * index and whose consumer (on one callback CPU, in order) folds it; {@code submit()} blocks
 * when the pipeline is full; a batch ends with {@code awaitIdle()}. {@code java-padata-batch}
 * is the same pipeline fed the way its Javadoc shows for values in hand: {@code submitAll} of
 * a list of {@value RunFeeder#RUN} indices at a time ({@link RunFeeder}). The boxed index and the
 * result record it allocates per job are part of what is measured.
 * Capacity: {@code -Dbench.padata.inflight}, default {@link Padata#DEFAULT_MAX_INFLIGHT}.
 */
public final class PadataIdiomatic extends Contender {
    private final OrderedPipeline<Integer, Result> pipeline;
    private final OrderCheck check;
    private final boolean batch;
    private final RunFeeder feeder = new RunFeeder();
    private int latEvery;
    private long[] lat = new long[0];
    private long[] submitted = new long[0];

    private record Result(int index, long digest) {
    }

    public PadataIdiomatic(Config config) {
        this(config, false);
    }

    /** {@code java-padata-batch}. */
    public static PadataIdiomatic batch(Config config) {
        return new PadataIdiomatic(config, true);
    }

    private PadataIdiomatic(Config config, boolean batch) {
        super(config);
        this.batch = batch;
        this.check = new OrderCheck(batch ? "java-padata-batch" : "java-padata-idiomatic");
        final int work = w;
        pipeline = OrderedPipeline.<Integer, Result>builder(i -> new Result(i, Work.work(Work.seed(i), work)))
                .consumer(this::consume)
                .capacity(Integer.getInteger("bench.padata.inflight", Padata.DEFAULT_MAX_INFLIGHT))
                .name("jidiom")
                .build();
    }

    private void consume(Result r) {
        if (latEvery > 0 && r.index() % latEvery == 0) {
            int k = r.index() / latEvery;
            lat[k] = System.nanoTime() - submitted[k];
        }
        check.accept(r.index(), r.digest());
    }

    @Override
    public String name() {
        return batch ? "java-padata-batch" : "java-padata-idiomatic";
    }

    @Override
    public void sampleLatency(int every) {
        latEvery = every;
        lat = every > 0 ? new long[n / every + 1] : new long[0];
        submitted = new long[lat.length];
    }

    @Override
    public long[] latencySamples() {
        return lat.clone();
    }

    @Override
    public void runBatch() {
        check.reset();
        try {
            for (int i = 0; i < n; i++) {
                if (latEvery > 0 && i % latEvery == 0) {
                    // Before submit(): the time spent waiting for room is part of this layer's latency.
                    submitted[i / latEvery] = System.nanoTime();
                }
                if (batch)
                    feeder.add(pipeline, i, i == n - 1);
                else
                    pipeline.submit(i);
            }
            pipeline.awaitIdle();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(name() + " interrupted", e);
        }
        verify(check);
    }

    @Override
    public void close() {
        pipeline.close();
    }
}
