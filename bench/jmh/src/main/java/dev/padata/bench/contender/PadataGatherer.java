/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.OrderedGatherers;
import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

import java.util.stream.IntStream;

/**
 * {@code java-padata-gatherer}: the one-liner a Java user writes first, a sequential stream
 * through {@link OrderedGatherers#mapOrdered(int, java.util.function.Function)}, public API only:
 * the work runs on padata's workers (the process-wide instance the gatherer shares), the results
 * come back in encounter order and the terminal {@code forEach} is the serial stage. The boxed
 * index and the result record per job are part of what is measured, as for
 * {@code java-mapconcurrent}. In flight: {@code -Dbench.gatherer.inflight}, default the
 * gatherer's own default ({@code mapOrdered(fn)}).
 */
public final class PadataGatherer extends Contender {
    private final int inFlight;
    private final OrderCheck check = new OrderCheck("java-padata-gatherer");

    private record Result(int index, long digest) {
    }

    public PadataGatherer(Config config) {
        super(config);
        inFlight = Integer.getInteger("bench.gatherer.inflight", 0);
    }

    @Override
    public String name() {
        return "java-padata-gatherer";
    }

    @Override
    public void runBatch() {
        check.reset();
        final int work = w;
        IntStream.range(0, n).boxed()
                .gather(inFlight > 0
                        ? OrderedGatherers.mapOrdered(inFlight, (Integer i) -> new Result(i, Work.work(Work.seed(i), work)))
                        : OrderedGatherers.mapOrdered((Integer i) -> new Result(i, Work.work(Work.seed(i), work))))
                .forEach(r -> check.accept(r.index(), r.digest()));
        verify(check);
    }
}
