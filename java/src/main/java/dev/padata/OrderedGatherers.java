/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.LongConsumer;
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
     * {@link #mapOrdered(int, Function)} with {@code min(MAX_IN_FLIGHT, max(1024, 64 * Cpus.count()))}
     * elements in flight at most. The stream starts with {@code 64 * Cpus.count()} of them (or
     * the bound, if smaller) and doubles that, up to the bound, each time it waited less than a
     * millisecond for half of them: cheap elements get a window large enough for each wake-up of
     * the stream thread to buy a lot of work (a window of 128 on two CPUs held tiny elements to
     * 2-3.5 M a second, 1024 to over 4 M), while expensive ones keep the small start, so a
     * {@code findFirst} or a failure abandons at most that many calls and the first result
     * comes as soon as before.
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
     *     downstream at any time (submitted and not yet pushed). At the window in use (which
     *     starts at {@code min(maxInFlight, 64 * Cpus.count())} and doubles up to
     *     {@code maxInFlight} while elements are cheap, see {@link #mapOrdered(Function)}) the
     *     stream thread waits until the oldest half of the window (at least one) is done, or
     *     about a millisecond has passed with some of it done, pushes what is done, and only
     *     then takes more elements; so results are pushed in batches, each at most about a
     *     millisecond after it was ready. A short-circuit or a failure abandons the elements
     *     that have not started, but up to a window of {@code fn} calls may already have; for
     *     expensive functions where that matters, pass a small {@code maxInFlight}.</li>
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
    /**
     * Wake-ups of a parked stream thread by a delivered result (tests: at most one per wait, and
     * one wait per half window, not per element).
     */
    static final AtomicLong STREAM_WAKEUPS = new AtomicLong();
    /**
     * Test hook: runs on the callback worker after each result is delivered (its encounter
     * index given), before the pipeline frees the result's job, to hold that moment open.
     */
    static volatile LongConsumer testAfterDeliver;

    static int defaultInFlight() {
        return Math.min(MAX_IN_FLIGHT, Math.max(1024, 64 * Math.max(1, Cpus.count())));
    }

    /** The instance every gatherer runs on: created on first use, never closed (the JVM's exit stops it). */
    static final class Shared {
        static final Padata PADATA = create();

        private static Padata create() {
            Workqueue wq = Workqueue.create("gather");
            try {
                Padata p = Padata.allocPossible(wq);
                // Room for four streams at the largest window (each takes one job more, plus the
                // serial runs libpadata still counts), so that concurrent streams rarely wait for
                // the shared instance rather than for their own window.
                p.setMaxInflight((int) (4 * (MAX_IN_FLIGHT + 1) + p.serialRunHeadroom()));
                p.start();
                return p;
            } catch (RuntimeException | Error e) {
                wq.close();
                throw e;
            }
        }
    }

    /** A result that is {@code null}: a null slot of the result ring is an empty one. */
    private static final Object NULL = new Object();
    /** The stand-in result of an element abandoned before its {@code fn} began. */
    private static final Object SKIPPED = new Object();

    private record Failure(Throwable error) {
    }

    private static final VarHandle WAIT_FOR;
    /** The longest a finished result waits in the ring for the stream thread's batch (ns). */
    static final long HOLD_NANOS = 1_000_000;
    /** A wait for half the window shorter than this doubles the window (ns). */
    static final long GROW_BELOW_NANOS = 1_000_000;

    static {
        try {
            WAIT_FOR = MethodHandles.lookup().findVarHandle(MapState.class, "waitFor", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * One evaluation of the stream. The stream calls integrate and finish one at a time (possibly
     * from different threads, with happens-before between them), so the plain fields other than
     * the result ring's are the stream thread's; the ring, {@code done}, the waiter and
     * {@code abandoned} are shared with the padata workers.
     *
     * <p>Results come back through a ring of {@code maxInFlight} slots, not a queue: the
     * pipeline's consumer runs on one callback worker, one result at a time in encounter order,
     * so result {@code k} goes to slot {@code k % maxInFlight} and {@code done} (written by that
     * worker only) counts them; element {@code k} is submitted only after the stream thread took
     * result {@code k - maxInFlight} out of the same slot. At capacity the stream thread waits
     * for half the elements in flight, not one: parking per element made every element a
     * wake-up of the stream thread (40,000 context switches a second at w = 0 on two CPUs). It
     * parks for at most {@link #HOLD_NANOS} at a time, and pushes what is done when that passes,
     * so a result is held back by the batching for about a millisecond at most, however slow the
     * elements after it. The window in use ({@code window}) starts small and grows while the
     * waits are short (see {@link #mapOrdered(Function)}).
     * The wake-up is a Dekker pair: the waiter publishes its target, then re-reads {@code done};
     * the worker publishes {@code done}, then reads the target (both volatile), so one of them
     * sees the other.
     */
    private static final class MapState<T, R> {
        private final int maxInFlight;
        private final OrderedPipeline<T, Object> pipeline;
        /** Results by encounter index modulo maxInFlight; null when taken (or not yet there). */
        private final Object[] ring;
        /**
         * Results delivered into the ring: written by deliver() only, whose calls never overlap
         * (the pipeline's consumer calls follow one another in order).
         */
        private volatile long done;
        /**
         * The result count the parked stream thread waits for (0: nobody waits); via WAIT_FOR.
         * deliver() takes it back to 0 with a CAS before it unparks, so one wait gets one unpark.
         */
        @SuppressWarnings("unused")
        private volatile long waitFor;
        private volatile Thread waiter;
        /**
         * Read by the parallel workers: elements whose fn has not begun are skipped once set.
         * Best effort, no partner: a call that began before it was set runs to the end, and
         * abandon() waits for it (pipeline.close()).
         */
        private volatile boolean abandoned;
        /** Elements the stream thread keeps in flight now: grows to maxInFlight while waits are short. */
        private int window;
        private long pending;
        private long pushed;
        private boolean ended;

        MapState(int maxInFlight, Function<? super T, ? extends R> fn) {
            this.maxInFlight = maxInFlight;
            this.window = (int) Math.min(maxInFlight, 64L * Math.max(1, Cpus.count()));
            this.ring = new Object[maxInFlight];
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
                    // One job more than the elements in flight: result k reaches deliver() before
                    // its job is free again (the end of its serial()), and the stream thread may
                    // submit element k + maxInFlight at once. With maxInFlight jobs that element
                    // would take the same job and wait for it in the pipeline; with one more it
                    // takes the job of element k - 1, whose serial() ended before result k's began.
                    .capacity(maxInFlight + 1)
                    .consumer(this::deliver)
                    .onError((x, e) -> deliver(new Failure(e)))
                    .build();
            OPEN.incrementAndGet();
        }

        /** The pipeline's consumer (and error handler): on the callback worker, in encounter order. */
        private void deliver(Object result) {
            long k = done;
            ring[(int) (k % maxInFlight)] = result;
            done = k + 1;                          // volatile: publishes the slot, then the Dekker read
            long target = (long) WAIT_FOR.getVolatile(this);
            if (target != 0 && k + 1 >= target && WAIT_FOR.compareAndSet(this, target, 0L)) {
                Thread t = waiter;
                if (t != null) {
                    STREAM_WAKEUPS.incrementAndGet();
                    LockSupport.unpark(t);
                }
            }
            LongConsumer hook = testAfterDeliver;
            if (hook != null) {
                try {
                    hook.accept(k);
                } catch (Throwable ignored) {
                    // A throwing consumer would reach onError, which delivers again: count once.
                }
            }
        }

        boolean integrate(T element, Gatherer.Downstream<? super R> downstream) {
            if (ended)
                return false;
            if (downstream.isRejecting()) {
                abandon();
                return false;
            }
            // At the window, wait for the oldest results first (half of those in flight, so that
            // the stream thread wakes once per half window, not per element): pending never
            // exceeds the window, nor the window maxInFlight. A short wait doubles the window.
            if (pending >= window) {
                long t0 = System.nanoTime();
                if (!flush(downstream, Math.max(1, window / 2)))
                    return false;
                if (window < maxInFlight && System.nanoTime() - t0 < GROW_BELOW_NANOS)
                    window = (int) Math.min(maxInFlight, 2L * window);
            } else if (!flush(downstream, 0)) {
                return false;
            }
            boolean interrupted = false;
            for (;;) {
                try {
                    pipeline.submit(element);   // finds a free job: pending < maxInFlight < capacity
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
                    long available = done - pushed;
                    if (available == 0) {
                        if (atLeast <= 0)
                            return true;
                        // Half the window at most, also at the end (finish): the results before a
                        // slow element are pushed while it runs.
                        long want = Math.min(Math.min(atLeast, pending), Math.max(1, window / 2));
                        interrupted |= awaitResults(pushed + want);
                        continue;
                    }
                    int slot = (int) (pushed % maxInFlight);
                    Object o = ring[slot];
                    ring[slot] = null;
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
         * Parks the stream thread until {@code target} results have been delivered, or until
         * some result is there and {@link #HOLD_NANOS} have passed (so that a slow element does
         * not hold back those done before it). An interrupt does not end the wait (as
         * mapConcurrent, the step finishes first): returns whether one came, for the caller to
         * restore.
         */
        private boolean awaitResults(long target) {
            boolean interrupted = false;
            waiter = Thread.currentThread();
            WAIT_FOR.setVolatile(this, target);     // then re-read done: the Dekker pair of deliver()
            long deadline = System.nanoTime() + HOLD_NANOS;
            for (;;) {
                long d = done;
                if (d >= target)
                    break;
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    if (d > pushed)
                        break;                      // push what is done; wait again for the rest
                    deadline += HOLD_NANOS;
                    left = HOLD_NANOS;
                }
                LockSupport.parkNanos(this, left);
                if (Thread.interrupted())
                    interrupted = true;
            }
            WAIT_FOR.setVolatile(this, 0L);
            return interrupted;
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
            java.util.Arrays.fill(ring, null);
            waiter = null;
            pending = 0;
        }
    }
}
