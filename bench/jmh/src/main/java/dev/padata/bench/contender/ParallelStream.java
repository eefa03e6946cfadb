/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * {@code java-stream}: {@code IntStream.range(0, n).parallel().mapToObj(work).forEachOrdered(fold)}
 * in a ForkJoinPool of one thread per CPU. The stream splits the whole batch up front and
 * buffers results to hand them over in encounter order.
 */
public final class ParallelStream extends Contender {
    private final ForkJoinPool pool;
    private final OrderCheck check = new OrderCheck("java-stream");

    private record Result(int index, long digest) {
    }

    public ParallelStream(Config config) {
        super(config);
        pool = new ForkJoinPool(threads);
    }

    @Override
    public String name() {
        return "java-stream";
    }

    @Override
    public void runBatch() {
        check.reset();
        final int work = w;
        // A parallel stream started from inside a ForkJoinPool task runs in that pool.
        pool.submit(() -> IntStream.range(0, n).parallel()
                .mapToObj(i -> new Result(i, Work.work(Work.seed(i), work)))
                .forEachOrdered(r -> check.accept(r.index(), r.digest()))).join();
        verify(check);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
