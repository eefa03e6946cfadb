/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

import java.util.stream.Gatherers;
import java.util.stream.IntStream;

/**
 * {@code java-mapconcurrent}: a sequential stream through
 * {@code Gatherers.mapConcurrent(maxConcurrency, work)}, which runs each element on a virtual
 * thread (carriers: one per CPU) and emits results in encounter order; the terminal
 * {@code forEach} is the serial stage. Concurrency: {@code -Dbench.mapconcurrent.concurrency},
 * default 16 per CPU.
 */
public final class MapConcurrent extends Contender {
    private final int concurrency;
    private final OrderCheck check = new OrderCheck("java-mapconcurrent");

    private record Result(int index, long digest) {
    }

    public MapConcurrent(Config config) {
        super(config);
        concurrency = Integer.getInteger("bench.mapconcurrent.concurrency", 16 * threads);
    }

    @Override
    public String name() {
        return "java-mapconcurrent";
    }

    @Override
    public void runBatch() {
        check.reset();
        final int work = w;
        IntStream.range(0, n).boxed()
                .gather(Gatherers.mapConcurrent(concurrency, (Integer i) -> new Result(i, Work.work(Work.seed(i), work))))
                .forEach(r -> check.accept(r.index(), r.digest()));
        verify(check);
    }
}
