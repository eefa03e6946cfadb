/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Gatherer;

/**
 * Stream gatherers that run a function on padata's CPU-pinned workers and keep encounter order.
 *
 * <pre>{@code
 * List<Path> paths = List.of(Path.of("a.txt"), Path.of("b.txt"));
 * Function<Path, String> summarize = p -> p.getFileName() + ": " + p.toString().length();
 * List<String> lines = paths.stream()
 *         .gather(OrderedGatherers.mapOrdered(summarize))   // on every CPU, results in order
 *         .toList();
 * }</pre>
 *
 * <p>What runs where: {@code fn} runs on the parallel workers of one padata instance shared by
 * every gatherer of the process (created on first use, its workers stopped at JVM exit); the
 * results are handed back to the thread that drives the stream, which pushes them downstream in
 * encounter order. The workers are native threads pinned one per CPU: a {@code fn} that blocks
 * (I/O, locks, sleeping) stalls the queue of its CPU. For I/O-bound work use
 * {@link java.util.stream.Gatherers#mapConcurrent} (virtual threads) instead.
 *
 * <p>{@code fn} must not itself drive a {@code mapOrdered} stream (it would wait for the
 * workers it occupies); the gatherer refuses to start on a worker of the shared instance.
 */
public final class OrderedGatherers {
    /** The most elements one {@code mapOrdered} stream keeps in flight (the shared instance's limit). */
    public static final int MAX_IN_FLIGHT = 4096;

    private OrderedGatherers() {
    }

    /**
     * {@link #mapOrdered(int, Function)} with {@code min(MAX_IN_FLIGHT, 64 * Cpus.count())}
     * elements in flight.
     *
     * @param <T> the element type
     * @param <R> the result type
     * @param fn  the function, run on padata workers
     * @return the gatherer
     * @throws NullPointerException when {@code fn} is null
     */
    public static <T, R> Gatherer<T, ?, R> mapOrdered(Function<? super T, ? extends R> fn) {
        return mapOrdered(defaultInFlight(), fn);
    }

    /**
     * A gatherer that applies {@code fn} to every element on padata's workers, many at once, and
     * emits the results in encounter order.
     *
     * <ul>
     * <li><b>Bounded</b>: at most {@code maxInFlight} elements are between the upstream and the
     *     downstream at any time (submitted and not yet pushed); the stream thread waits for the
     *     oldest result before it takes another element.</li>
     * <li><b>Failures</b>: when {@code fn} throws, the results before that element are pushed,
     *     then a {@link CompletionException} is thrown whose cause is what {@code fn} threw and
     *     whose message names the element's encounter index. Elements after it are abandoned:
     *     {@code fn} is not called for those that have not started, and the stream ends.</li>
     * <li><b>Short-circuiting</b>: when the downstream stops accepting ({@code limit},
     *     {@code findFirst}, {@code anyMatch}...), the gatherer stops pulling from the upstream,
     *     does not start {@code fn} for elements still queued, and waits for the calls already
     *     running before the terminal operation returns.</li>
     * <li><b>Parallel streams</b>: the gatherer is sequential (no combiner), so on a parallel
     *     stream the JDK feeds it one element at a time, in encounter order, from one thread at a
     *     time (the stages before it run in that same order), and evaluates it to the end before
     *     the stages after it: the results are the same as on a sequential stream, but a later
     *     {@code limit} or {@code findFirst} does not cut the upstream short there. The
     *     parallelism of {@code fn} comes from padata either way, so use a sequential stream.</li>
     * <li><b>Threads</b>: {@code fn} runs on CPU-pinned native workers (see the class comment);
     *     the downstream runs on the thread driving the stream. A {@code null} result is passed
     *     on as {@code null}.</li>
     * </ul>
     *
     * @param <T> the element type
     * @param <R> the result type
     * @param maxInFlight elements in flight at most, in {@code [1, MAX_IN_FLIGHT]}
     * @param fn          the function, run on padata workers
     * @return the gatherer
     * @throws IllegalArgumentException when {@code maxInFlight} is out of range
     * @throws NullPointerException     when {@code fn} is null
     */
    public static <T, R> Gatherer<T, ?, R> mapOrdered(int maxInFlight, Function<? super T, ? extends R> fn) {
        if (maxInFlight < 1 || maxInFlight > MAX_IN_FLIGHT)
            throw new IllegalArgumentException("maxInFlight " + maxInFlight + " is not in [1, " + MAX_IN_FLIGHT + "]");
        Objects.requireNonNull(fn, "fn");
        return Gatherer.<T, MapState<T, R>, R>ofSequential(
                () -> new MapState<>(maxInFlight, fn),
                Gatherer.Integrator.of(MapState::integrate),
                MapState::finish);
    }

    /** Evaluations whose pipeline is not closed yet (tests: resources are released). */
    static final AtomicInteger OPEN = new AtomicInteger();

    static int defaultInFlight() {
        return Math.min(MAX_IN_FLIGHT, 64 * Math.max(1, Cpus.count()));
    }

    /** The instance every gatherer runs on: created on first use, never closed (the JVM's exit stops it). */
    static final class Shared {
        static final Padata PADATA = create();

        private static Padata create() {
            Workqueue wq = Workqueue.create("gather");
            try {
                Padata p = Padata.allocPossible(wq);
                p.setMaxInflight(MAX_IN_FLIGHT);
                p.start();
                return p;
            } catch (RuntimeException | Error e) {
                wq.close();
                throw e;
            }
        }
    }

    /** A result that is {@code null}, as the queue of results holds no nulls. */
    private static final Object NULL = new Object();
    /** The stand-in result of an element abandoned before its {@code fn} began. */
    private static final Object SKIPPED = new Object();

    private record Failure(Throwable error) {
    }

    /**
     * One evaluation of the stream. The stream calls integrate and finish one at a time (possibly
     * from different threads, with happens-before between them), so the plain fields are safe;
     * {@code ready} and {@code abandoned} are shared with the padata workers.
     */
    private static final class MapState<T, R> {
        private final int maxInFlight;
        private final OrderedPipeline<T, Object> pipeline;
        /**
         * Results in encounter order; filled on the callback worker, drained by the stream thread.
         * The queue's put/take give the hand-off its happens-before (the result's fields included).
         */
        private final LinkedBlockingQueue<Object> ready = new LinkedBlockingQueue<>();
        /**
         * Read by the parallel workers: elements whose fn has not begun are skipped once set.
         * Best effort, no partner: a call that began before it was set runs to the end, and
         * abandon() waits for it (pipeline.close()).
         */
        private volatile boolean abandoned;
        private long pending;
        private long pushed;
        private boolean ended;

        MapState(int maxInFlight, Function<? super T, ? extends R> fn) {
            this.maxInFlight = maxInFlight;
            Padata shared = Shared.PADATA;
            if (Dispatcher.onWorkerOf(shared.workqueue()))
                throw new IllegalStateException("mapOrdered stream started inside a mapOrdered function ("
                        + Thread.currentThread().getName() + "): it would wait for the workers it occupies");
            this.pipeline = OrderedPipeline.<T, Object>builder(x -> {
                        if (abandoned)
                            return SKIPPED;
                        R r = fn.apply(x);
                        return r == null ? NULL : r;
                    })
                    .padata(shared)
                    .capacity(maxInFlight)
                    .consumer(ready::add)
                    .onError((x, e) -> ready.add(new Failure(e)))
                    .build();
            OPEN.incrementAndGet();
        }

        boolean integrate(T element, Gatherer.Downstream<? super R> downstream) {
            if (ended)
                return false;
            if (downstream.isRejecting()) {
                abandon();
                return false;
            }
            // At capacity, wait for the oldest result first: pending never exceeds maxInFlight.
            if (!flush(downstream, pending >= maxInFlight ? 1 : 0))
                return false;
            boolean interrupted = false;
            for (;;) {
                try {
                    pipeline.submit(element);   // never waits long: pending < maxInFlight = capacity
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;         // as mapConcurrent: finish the step, restore afterwards
                } catch (RuntimeException | Error e) {
                    abandon();
                    throw e;
                }
            }
            pending++;
            if (interrupted)
                Thread.currentThread().interrupt();
            return true;
        }

        void finish(Gatherer.Downstream<? super R> downstream) {
            if (ended)
                return;
            if (!downstream.isRejecting())
                flush(downstream, Long.MAX_VALUE);
            abandon();
        }

        /**
         * Pushes results that are ready, waiting for at least {@code atLeast} of them (in order).
         * Returns false when the downstream stopped accepting; throws the first failure.
         */
        private boolean flush(Gatherer.Downstream<? super R> downstream, long atLeast) {
            boolean interrupted = false;
            try {
                while (pending > 0) {
                    Object o;
                    if (atLeast > 0) {
                        try {
                            o = ready.take();
                        } catch (InterruptedException e) {
                            interrupted = true;
                            continue;
                        }
                    } else if ((o = ready.poll()) == null) {
                        return true;
                    }
                    pending--;
                    atLeast--;
                    if (o instanceof Failure f) {
                        long index = pushed;
                        abandon();
                        throw new CompletionException("mapOrdered: the function failed on element #" + index
                                + " (in encounter order); later elements were abandoned", f.error());
                    }
                    pushed++;
                    @SuppressWarnings("unchecked")
                    R r = o == NULL ? null : (R) o;
                    boolean more;
                    try {
                        more = downstream.push(r);
                    } catch (RuntimeException | Error e) {
                        abandon();
                        throw e;
                    }
                    if (!more) {
                        abandon();
                        return false;
                    }
                }
                return true;
            } finally {
                if (interrupted)
                    Thread.currentThread().interrupt();
            }
        }

        /**
         * Ends the evaluation: no fn starts from now on, the calls already running are waited for
         * and the pipeline is closed (the shared instance stays).
         */
        private void abandon() {
            if (ended)
                return;
            ended = true;
            abandoned = true;
            pipeline.close();
            OPEN.decrementAndGet();
            ready.clear();
            pending = 0;
        }
    }
}
