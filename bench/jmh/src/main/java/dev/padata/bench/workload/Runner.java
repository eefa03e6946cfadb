/* SPDX-License-Identifier: MIT */
package dev.padata.bench.workload;

import dev.padata.CpuMaskType;
import dev.padata.OrderedPipeline;
import dev.padata.Padata;
import dev.padata.PadataJob;
import dev.padata.Workqueue;
import dev.padata.bench.RunFeeder;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * The contenders of {@link WorkloadMain}: each runs all items of a {@link Workload} and hands
 * the outputs, in item order, to the run's {@link Workload.Sink} (the unordered one sums them).
 * Each is opened once (threads, padata instance) and runs every workload and round; padata
 * contenders use only the public API, the way the README shows it.
 */
abstract class Runner implements AutoCloseable {
    /** Report names, in report order. */
    static final List<String> NAMES = List.of("java-single", "java-padata-lambda", "java-padata-idiomatic",
            "java-padata-batch", "java-stream", "java-pool", "java-unordered");

    static Runner open(String name, int threads) {
        return switch (name) {
            case "java-single" -> new Single();
            case "java-padata-lambda" -> new PadataLambda();
            case "java-padata-idiomatic" -> new Idiomatic(false);
            case "java-padata-batch" -> new Idiomatic(true);
            case "java-stream" -> new StreamRunner(threads);
            case "java-pool" -> new Pool(threads);
            case "java-unordered" -> new Unordered(threads);
            default -> throw new IllegalArgumentException("unknown contender '" + name + "'; known: " + NAMES);
        };
    }

    abstract String name();

    /** True when the outputs reach the sink in order (all but java-unordered). */
    boolean ordered() {
        return true;
    }

    /**
     * Runs every item of {@code wl}; returns when the sink has taken the last one (ordered) or
     * with the order-free digest and item count folded into {@code sink} (unordered).
     */
    abstract void run(Workload wl, Workload.Sink sink);

    /** Order-free digest of an unordered run; {@code -1} for the ordered runners. */
    long unorderedDigest() {
        return -1;
    }

    @Override
    public void close() {
    }

    /** {@code java-single}: a plain loop on the calling thread. */
    static final class Single extends Runner {
        @Override
        String name() {
            return "java-single";
        }

        @Override
        void run(Workload wl, Workload.Sink sink) {
            int n = wl.items();
            for (int i = 0; i < n; i++) {
                sink.accept(wl.process(i));
            }
        }
    }

    /**
     * {@code java-padata-lambda}: the kernel-shaped API as the README shows it: a
     * {@code PadataJob.of(parallel, serial)} per item, serial() on one callback CPU, submitted with
     * the waiting {@code doParallelWaiting(job, cbCpu)} (parks while the instance is full).
     */
    static final class PadataLambda extends Runner {
        private final Workqueue wq = Workqueue.create("jwl-lambda");
        private final Padata padata;
        private final int cbCpu;

        PadataLambda() {
            Padata p = null;
            try {
                p = Padata.allocPossible(wq);
                p.start();
                cbCpu = p.cpumask(CpuMaskType.SERIAL).toArray()[0];
            } catch (RuntimeException e) {
                if (p != null) {
                    p.close();
                }
                wq.close();
                throw e;
            }
            padata = p;
        }

        @Override
        String name() {
            return "java-padata-lambda";
        }

        @Override
        void run(Workload wl, Workload.Sink sink) {
            int n = wl.items();
            for (int i = 0; i < n; i++) {
                final int item = i;
                final Workload.Out[] out = new Workload.Out[1];
                PadataJob job = PadataJob.of(() -> out[0] = wl.process(item), () -> sink.accept(out[0]));
                try {
                    padata.doParallelWaiting(job, cbCpu);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while submitting", e);
                }
            }
            sink.await();
        }

        @Override
        public void close() {
            padata.close();
            wq.close();
        }
    }

    /**
     * {@code java-padata-idiomatic}: an {@link OrderedPipeline} of item numbers; blocking submit(),
     * then awaitIdle(). {@code java-padata-batch}: the same pipeline fed with submitAll() of a
     * list of {@value RunFeeder#RUN} item numbers at a time ({@link RunFeeder}).
     */
    static final class Idiomatic extends Runner {
        private final boolean batch;
        private final RunFeeder feeder = new RunFeeder();
        private volatile Workload current;
        private volatile Workload.Sink sink;
        private final OrderedPipeline<Integer, Workload.Out> pipeline = OrderedPipeline
                .<Integer, Workload.Out>builder(i -> current.process(i))
                .consumer(o -> sink.accept(o))
                .name("jwl-idiom")
                .build();

        Idiomatic(boolean batch) {
            this.batch = batch;
        }

        @Override
        String name() {
            return batch ? "java-padata-batch" : "java-padata-idiomatic";
        }

        @Override
        void run(Workload wl, Workload.Sink s) {
            current = wl;
            sink = s;
            int n = wl.items();
            try {
                for (int i = 0; i < n; i++) {
                    if (batch)
                        feeder.add(pipeline, i, i == n - 1);
                    else
                        pipeline.submit(i);
                }
                pipeline.awaitIdle();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            s.await();
        }

        @Override
        public void close() {
            pipeline.close();
        }
    }

    /** {@code java-stream}: {@code IntStream.range(0, n).parallel().mapToObj(process).forEachOrdered(sink)} in its own pool. */
    static final class StreamRunner extends Runner {
        private final ForkJoinPool pool;

        StreamRunner(int threads) {
            pool = new ForkJoinPool(threads);
        }

        @Override
        String name() {
            return "java-stream";
        }

        @Override
        void run(Workload wl, Workload.Sink sink) {
            pool.submit(() -> IntStream.range(0, wl.items()).parallel().mapToObj(wl::process).forEachOrdered(sink::accept)).join();
        }

        @Override
        public void close() {
            pool.shutdownNow();
        }
    }

    /** {@code java-pool}: a fixed pool, at most 1024 futures in flight, consumed in order by the submitter. */
    static final class Pool extends Runner {
        private static final int WINDOW = 1024;
        private final ExecutorService pool;

        Pool(int threads) {
            pool = Executors.newFixedThreadPool(threads, daemon("jwl-pool"));
        }

        @Override
        String name() {
            return "java-pool";
        }

        @Override
        void run(Workload wl, Workload.Sink sink) {
            ArrayDeque<Future<Workload.Out>> window = new ArrayDeque<>(WINDOW);
            int n = wl.items();
            try {
                for (int i = 0; i < n; i++) {
                    if (window.size() == WINDOW) {
                        sink.accept(window.poll().get());
                    }
                    final int item = i;
                    window.add(pool.submit(() -> wl.process(item)));
                }
                while (!window.isEmpty()) {
                    sink.accept(window.poll().get());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("an item failed", e.getCause());
            }
        }

        @Override
        public void close() {
            shutdown(pool);
        }
    }

    /**
     * {@code java-unordered}: the hardware's limit: one task per thread takes item numbers from
     * a shared counter and sums the per-item CRC-32C; no order, no serial stage.
     */
    static final class Unordered extends Runner {
        private final int threads;
        private final ExecutorService pool;
        private long digest;

        Unordered(int threads) {
            this.threads = threads;
            pool = Executors.newFixedThreadPool(threads, daemon("jwl-unordered"));
        }

        @Override
        String name() {
            return "java-unordered";
        }

        @Override
        boolean ordered() {
            return false;
        }

        @Override
        void run(Workload wl, Workload.Sink sink) {
            int n = wl.items();
            AtomicInteger next = new AtomicInteger();
            AtomicLong sum = new AtomicLong();
            AtomicInteger count = new AtomicInteger();
            Future<?>[] fs = new Future<?>[threads];
            for (int t = 0; t < threads; t++) {
                fs[t] = pool.submit(() -> {
                    long s = 0;
                    int c = 0;
                    for (int i; (i = next.getAndIncrement()) < n; ) {
                        s += wl.process(i).crc() & 0xffffffffL;
                        c++;
                    }
                    sum.addAndGet(s);
                    count.addAndGet(c);
                });
            }
            try {
                for (Future<?> f : fs) {
                    f.get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("an item failed", e.getCause());
            }
            if (count.get() != n) {
                throw new IllegalStateException(count.get() + " of " + n + " items processed");
            }
            digest = sum.get();
        }

        @Override
        long unorderedDigest() {
            return digest;
        }

        @Override
        public void close() {
            shutdown(pool);
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String prefix) {
        AtomicInteger k = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + k.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
    }

    static void shutdown(ExecutorService pool) {
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
