/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * A {@link Flow.Processor} that applies a function to every item on padata's CPU-pinned workers,
 * many at once, and publishes the results in the order the items arrived.
 *
 * <pre>{@code
 * SubmissionPublisher<Path> paths = new SubmissionPublisher<>();
 * OrderedProcessor<Path, Integer> lengths = OrderedProcessor.create(p -> p.toString().length());
 * paths.subscribe(lengths);
 * lengths.subscribe(new Flow.Subscriber<Integer>() {   // receives the lengths in path order
 *     public void onSubscribe(Flow.Subscription s) { s.request(Long.MAX_VALUE); }
 *     public void onNext(Integer length) { System.out.println(length); }
 *     public void onError(Throwable t) { t.printStackTrace(); }
 *     public void onComplete() { }
 * });
 * paths.submit(Path.of("a.txt"));
 * paths.close();
 * }</pre>
 *
 * <p>Behaviour, as the Reactive Streams rules want it (checked by the TCK's
 * {@code IdentityFlowProcessorVerification}):
 * <ul>
 * <li><b>Demand</b>: it requests {@code capacity} items from upstream once both the upstream and
 *     the downstream have subscribed, and one
 *     more for every result delivered (or failure skipped), in batches of a quarter of the
 *     capacity, so at most {@code capacity} items are between upstream and downstream. Results
 *     go downstream only as far as the downstream has requested.</li>
 * <li><b>Order</b>: results are published in upstream order. {@code onComplete} follows the last
 *     result. An {@code onError} from upstream is passed on at once (without waiting for demand),
 *     dropping the results not yet delivered.</li>
 * <li><b>Failures of the function</b> ({@link FailurePolicy}): {@code ERROR} (the default) delivers
 *     the results before the failing item, then {@code onError} with what the function threw,
 *     cancels the upstream and abandons the items after it; {@code SKIP} reports the item and the
 *     exception to the failure handler, in order, and goes on. A {@code null} result counts as a
 *     failure ({@link NullPointerException}).</li>
 * <li><b>Subscribers</b>: one. A second {@code subscribe} receives {@code onSubscribe} then
 *     {@code onError(IllegalStateException)}.</li>
 * <li><b>Cancellation</b> by the downstream cancels the upstream, skips the items whose function
 *     has not begun, and drops the reference to the subscriber.</li>
 * <li><b>Resources</b>: the processor creates its own workqueue and padata instance when the
 *     upstream subscribes, and closes them, on a background thread once the functions still
 *     running return, after completion, error or cancellation.</li>
 * </ul>
 *
 * <p>Threads: the function runs on padata's parallel workers, native threads pinned to CPUs; a
 * function that blocks on I/O stalls its CPU's queue. The downstream's {@code onNext},
 * {@code onError} and {@code onComplete} run one at a time, on the padata callback worker or on
 * the thread that called {@code request}, {@code onComplete} or {@code onError}; the failure
 * handler runs on the callback worker. None of them may wait for the processor's own progress.
 * A subscriber method that throws (breaking rule 2.13) is logged and taken as a cancellation.
 *
 * @param <T> items from upstream
 * @param <R> results published downstream
 */
public final class OrderedProcessor<T, R> implements Flow.Processor<T, R> {
    /** What a failing function does to the stream. */
    public enum FailurePolicy {
        /** Deliver the results before the failing item, then {@code onError(cause)}; cancel upstream. */
        ERROR,
        /** Hand (item, cause) to the failure handler, in order, and carry on with the next item. */
        SKIP
    }

    /** The default capacity: items between upstream and downstream at most. */
    public static final int DEFAULT_CAPACITY = 256;

    private final Function<? super T, ? extends R> function;
    private final int capacity;
    private final CpuMask parallelCpus;
    private final FailurePolicy policy;
    private final BiConsumer<? super T, ? super Throwable> failureHandler;
    private final String name;
    private final int requestBatch;

    /** The function's failure in order (ERROR policy), as it travels through {@link #ready}. */
    private record Failure(Throwable error) {
    }

    /** Results in upstream order: filled on the callback worker, drained by {@link #drain}. */
    private final ConcurrentLinkedQueue<Object> ready = new ConcurrentLinkedQueue<>();
    /** Items submitted whose outcome has not reached {@link #ready} (or the handler) yet. */
    private final AtomicLong inPipeline = new AtomicLong();
    /** Items skipped by the SKIP policy whose slot {@link #drain} has not handed back yet. */
    private final AtomicLong skipped = new AtomicLong();
    /** Downstream demand not yet satisfied; Long.MAX_VALUE means unbounded. */
    private final AtomicLong demand = new AtomicLong();
    /** Items requested from upstream and not yet received (rule 1.1 check). */
    private final AtomicLong upstreamOwed = new AtomicLong();
    /** Drain-loop work counter: whoever raises it from 0 runs {@link #drain}. */
    private final AtomicInteger wip = new AtomicInteger();
    private final AtomicBoolean subscriberClaimed = new AtomicBoolean();
    private final AtomicBoolean upstreamClaimed = new AtomicBoolean();
    private final CountDownLatch released = new CountDownLatch(1);

    /**
     * Set once the subscriber's onSubscribe returned; read by {@link #drain}. Volatile write before
     * the wip increment of the drain() that follows it, so the thread running the loop sees it.
     */
    private volatile Flow.Subscriber<? super R> downstream;
    private volatile Flow.Subscription upstream;
    /** Set once by onSubscribe unless the processor was already released (guarded by {@code this}). */
    private volatile OrderedPipeline<T, Object> pipeline;
    /** Guarded by {@code this}: release() ran, so a pipeline created afterwards closes itself. */
    private boolean releasing;
    /**
     * Set by the upstream's onComplete, after its last onNext raised {@link #inPipeline} (rule 1.3
     * orders them). Partner: the drain loop reads it before inPipeline, and inPipeline before
     * {@link #ready}, while the callback worker adds to ready before lowering inPipeline; so when
     * the loop sees done, zero and an empty queue, no result is left behind.
     */
    private volatile boolean upstreamDone;
    /** The upstream's onError, passed on at once. */
    private volatile Throwable upstreamError;
    /** A rule violation by the downstream (request(n <= 0)) or the upstream (too many items). */
    private volatile Throwable protocolError;
    /** Set by cancel(); the drain loop acts on it. */
    private volatile boolean cancelled;
    /**
     * Read by the parallel workers: items whose function has not begun are skipped once set. A
     * best-effort flag, no partner: a worker that reads it just before it is set runs the
     * function, and the result is dropped with the rest.
     */
    private volatile boolean abandoned;
    /** Written only by the drain loop: a terminal signal was sent (or the downstream cancelled). */
    private boolean terminated;
    /** Drain-loop only: slots handed back that have not been requested from upstream yet. */
    private long freed;
    /** Set by onSubscribe, cleared by the drain loop: the initial request is still to be made. */
    private volatile boolean initialRequest;

    private OrderedProcessor(Builder<T, R> b) {
        this.function = b.function;
        this.capacity = b.capacity;
        this.parallelCpus = b.parallelCpus;
        this.policy = b.policy;
        this.failureHandler = b.failureHandler;
        this.name = b.name;
        this.requestBatch = Math.max(1, capacity / 4);
    }

    /**
     * A processor with the defaults: capacity {@value #DEFAULT_CAPACITY}, all possible CPUs,
     * {@link FailurePolicy#ERROR}.
     *
     * @param <T> the item type
     * @param <R> the result type
     * @param fn  the function, run on padata workers
     * @return a new processor, not yet subscribed
     * @throws NullPointerException when {@code fn} is null
     */
    public static <T, R> OrderedProcessor<T, R> create(Function<? super T, ? extends R> fn) {
        return OrderedProcessor.<T, R>builder(fn).build();
    }

    /**
     * Starts building a processor that applies {@code fn} to every item.
     *
     * @param <T> the item type
     * @param <R> the result type
     * @param fn  the function, run on padata workers
     * @return a builder with every option at its default
     * @throws NullPointerException when {@code fn} is null
     */
    public static <T, R> Builder<T, R> builder(Function<? super T, ? extends R> fn) {
        return new Builder<>(Objects.requireNonNull(fn, "fn"));
    }

    /**
     * Options of an {@link OrderedProcessor}; every one has a default.
     *
     * @param <T> the item type
     * @param <R> the result type
     */
    public static final class Builder<T, R> {
        private final Function<? super T, ? extends R> function;
        private int capacity = DEFAULT_CAPACITY;
        private CpuMask parallelCpus;
        private FailurePolicy policy = FailurePolicy.ERROR;
        private BiConsumer<? super T, ? super Throwable> failureHandler;
        private String name = "processor";

        private Builder(Function<? super T, ? extends R> function) {
            this.function = function;
        }

        /**
         * Items between upstream and downstream at most (requested from upstream and not yet
         * delivered). Default {@value #DEFAULT_CAPACITY}.
         *
         * @param capacity items in flight at most
         * @return this builder
         * @throws IllegalArgumentException when not in {@code [1, Padata.MAX_INFLIGHT_LIMIT - 1]}
         */
        public Builder<T, R> capacity(int capacity) {
            if (capacity < 1 || capacity > Padata.MAX_INFLIGHT_LIMIT - 1)
                throw new IllegalArgumentException("capacity " + capacity + " is not in [1, " + (Padata.MAX_INFLIGHT_LIMIT - 1) + "]");
            this.capacity = capacity;
            return this;
        }

        /**
         * CPUs that run the function. Default: all possible CPUs.
         *
         * @param cpus the parallel mask
         * @return this builder
         */
        public Builder<T, R> parallelCpus(CpuMask cpus) {
            this.parallelCpus = Objects.requireNonNull(cpus, "cpus");
            return this;
        }

        /**
         * What a failing function does. Default {@link FailurePolicy#ERROR}.
         *
         * @param policy error the stream, or skip the item
         * @return this builder
         */
        public Builder<T, R> failurePolicy(FailurePolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Receives (item, exception) for every item skipped under {@link FailurePolicy#SKIP}, in
         * order, on the callback worker. Default: logged to {@code System.getLogger("dev.padata")}.
         * An exception it throws is logged and otherwise ignored.
         *
         * @param handler receives each skipped item and its exception
         * @return this builder
         */
        public Builder<T, R> failureHandler(BiConsumer<? super T, ? super Throwable> handler) {
            this.failureHandler = Objects.requireNonNull(handler, "handler");
            return this;
        }

        /**
         * Names the processor's workqueue (threads {@code padata-<name>/<cpu>}).
         *
         * @param name a non-empty name
         * @return this builder
         */
        public Builder<T, R> name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isEmpty())
                throw new IllegalArgumentException("name must not be empty");
            this.name = name;
            return this;
        }

        /**
         * The processor; its workqueue and padata instance are created when the upstream subscribes.
         *
         * @return a new processor
         */
        public OrderedProcessor<T, R> build() {
            return new OrderedProcessor<>(this);
        }
    }

    // ---- publisher side ----------------------------------------------------------------------

    /**
     * Subscribes the one downstream subscriber.
     *
     * @throws NullPointerException when {@code subscriber} is null (rule 1.9)
     */
    @Override
    public void subscribe(Flow.Subscriber<? super R> subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        if (!subscriberClaimed.compareAndSet(false, true)) {
            subscriber.onSubscribe(new Flow.Subscription() {
                @Override
                public void request(long n) {
                }

                @Override
                public void cancel() {
                }
            });
            subscriber.onError(new IllegalStateException("OrderedProcessor " + name + " supports one subscriber; it has one"));
            return;
        }
        subscriber.onSubscribe(new Downstream());
        // Published after onSubscribe returned, so no other signal can overtake it (rule 1.3);
        // not at all when it cancelled from onSubscribe (rule 3.13).
        if (!cancelled)
            downstream = subscriber;
        drain();
    }

    private final class Downstream implements Flow.Subscription {
        @Override
        public void request(long n) {
            if (n <= 0) {
                if (protocolError == null)
                    protocolError = new IllegalArgumentException("rule 3.9: request(" + n + ") of OrderedProcessor " + name
                            + "; demand must be positive");
            } else {
                for (;;) {
                    long d = demand.get();
                    long next = d + n < 0 ? Long.MAX_VALUE : d + n;   // rule 3.17: saturate
                    if (d == Long.MAX_VALUE || demand.compareAndSet(d, next))
                        break;
                }
            }
            drain();
        }

        @Override
        public void cancel() {
            cancelled = true;
            drain();
        }
    }

    // ---- subscriber side ---------------------------------------------------------------------

    /**
     * Accepts the upstream subscription and requests {@code capacity} items; a second
     * subscription is cancelled (rule 2.5).
     *
     * @throws NullPointerException when {@code subscription} is null (rule 2.13)
     * @throws OutOfMemoryError     and the other errors of creating a workqueue and padata instance
     */
    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        Objects.requireNonNull(subscription, "subscription");
        if (!upstreamClaimed.compareAndSet(false, true)) {
            subscription.cancel();
            return;
        }
        OrderedPipeline<T, Object> p;
        try {
            p = OrderedPipeline.<T, Object>builder(this::apply)
                    .parallelCpus(parallelCpus != null ? parallelCpus : CpuMask.possible())
                    // One more job than slots: a job is handed back just after its result was
                    // queued, so the upstream may already send the item that result made room for.
                    .capacity(capacity + 1)
                    .name(name)
                    .consumer(this::delivered)
                    .onError(this::failed)
                    .build();
        } catch (RuntimeException e) {
            subscription.cancel();
            if (upstreamError == null)
                upstreamError = e;
            upstreamDone = true;
            drain();
            return;
        }
        boolean live;
        synchronized (this) {
            live = !releasing;
            if (live)
                pipeline = p;
        }
        if (!live) {          // cancelled or failed before the upstream arrived
            p.close();
            subscription.cancel();
            return;
        }
        upstream = subscription;
        initialRequest = true;   // made by drain(), which serializes every call on the subscription (rule 2.7)
        drain();
    }

    /**
     * Submits {@code item} to the workers.
     *
     * @throws NullPointerException when {@code item} is null (rule 2.13)
     */
    @Override
    public void onNext(T item) {
        Objects.requireNonNull(item, "item");
        OrderedPipeline<T, Object> p = pipeline;
        if (abandoned || p == null)
            return;   // after cancel or failure: items still on their way are dropped (rule 2.8)
        if (upstreamOwed.decrementAndGet() < 0) {
            if (protocolError == null)
                protocolError = new IllegalStateException("rule 1.1: the upstream of OrderedProcessor " + name
                        + " sent more items than requested");
            drain();
            return;
        }
        inPipeline.incrementAndGet();
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    p.submit(item);   // waits only for a job being handed back (see capacity + 1)
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } catch (RuntimeException e) {
            inPipeline.decrementAndGet();
            if (!abandoned && protocolError == null)
                protocolError = e;    // the instance refused it: end the stream with the reason
            drain();
        } finally {
            if (interrupted)
                Thread.currentThread().interrupt();
        }
    }

    /**
     * Passes the upstream's failure on at once, dropping undelivered results.
     *
     * @throws NullPointerException when {@code throwable} is null (rule 2.13)
     */
    @Override
    public void onError(Throwable throwable) {
        Objects.requireNonNull(throwable, "throwable");
        upstreamError = throwable;
        upstreamDone = true;
        drain();
    }

    /** Completes the downstream once the results of every item were delivered. */
    @Override
    public void onComplete() {
        upstreamDone = true;
        drain();
    }

    // ---- the workers' side -------------------------------------------------------------------

    /** The pipeline's function (parallel workers). */
    private Object apply(T item) {
        if (abandoned)
            return null;
        R r = function.apply(item);
        if (r == null)
            throw new NullPointerException("the function of OrderedProcessor " + name + " returned null for " + item);
        return r;
    }

    /** The pipeline's consumer (callback worker, in order). */
    private void delivered(Object result) {
        if (result != null)
            ready.add(result);
        // Partner: the drain loop reads inPipeline before ready (see drain); add first, count second.
        inPipeline.decrementAndGet();
        drain();
    }

    /** The pipeline's error handler (callback worker, in order). */
    private void failed(T item, Throwable error) {
        if (policy == FailurePolicy.SKIP && !abandoned) {
            report(item, error);
            skipped.incrementAndGet();
        } else {
            ready.add(new Failure(error));
        }
        inPipeline.decrementAndGet();
        drain();
    }

    private void report(T item, Throwable error) {
        try {
            if (failureHandler != null)
                failureHandler.accept(item, error);
            else
                System.getLogger("dev.padata").log(System.Logger.Level.WARNING,
                        "OrderedProcessor " + name + ": skipped " + item, error);
        } catch (Throwable t) {
            System.getLogger("dev.padata").log(System.Logger.Level.WARNING,
                    "OrderedProcessor " + name + ": the failure handler threw while handling " + error, t);
        }
    }

    // ---- the drain loop ----------------------------------------------------------------------

    /**
     * Sends what can be sent: results as far as demand goes, terminal signals, requests to the
     * upstream. Runs on one thread at a time (the one that raised {@link #wip} from 0); a call
     * while it runs makes it go round once more, so re-entrant request() calls from onNext never
     * recurse (rule 3.3).
     */
    private void drain() {
        if (wip.getAndIncrement() != 0)
            return;
        int missed = 1;
        for (;;) {
            if (!terminated)
                drainOnce();
            missed = wip.addAndGet(-missed);
            if (missed == 0)
                return;
        }
    }

    private void drainOnce() {
        Flow.Subscription up = upstream;
        if (cancelled) {
            terminate(up, null, null);
            return;
        }
        Flow.Subscriber<? super R> s = downstream;
        if (s == null)
            return;   // results wait for a subscriber; so do terminal signals (rule 1.9: onSubscribe first)
        Throwable broken = protocolError;
        if (broken != null) {
            terminate(up, s, broken);
            return;
        }
        Throwable err = upstreamError;
        if (err != null) {
            terminate(null, s, err);
            return;
        }
        long d = demand.get();
        long sent = 0;
        while (sent != d) {
            Object o = ready.peek();
            if (o == null || o instanceof Failure)
                break;
            ready.poll();
            @SuppressWarnings("unchecked")
            R r = (R) o;
            sent++;
            signal(s, r);
            if (cancelled || protocolError != null) {
                drainOnceAgainLater(sent, d);
                return;
            }
        }
        if (ready.peek() instanceof Failure f) {   // errors need no demand (rule 1.4)
            settle(sent, d);
            terminate(up, s, f.error());
            return;
        }
        settle(sent, d);
        // Partner of delivered(): inPipeline first, then ready, so an item counted as done is seen.
        if (upstreamDone && inPipeline.get() == 0 && ready.isEmpty()) {
            terminate(null, s, null);
            try {
                s.onComplete();
            } catch (Throwable t) {
                logBroken("onComplete", t);
            }
            return;
        }
        if (up != null)
            requestMore(up, sent + skipped.getAndSet(0));
    }

    /** Cancelled or broken from inside onNext: account for what was sent, and let the loop go round. */
    private void drainOnceAgainLater(long sent, long d) {
        settle(sent, d);
        wip.incrementAndGet();
    }

    private void settle(long sent, long d) {
        if (sent != 0 && d != Long.MAX_VALUE)
            demand.addAndGet(-sent);
    }

    private void requestMore(Flow.Subscription up, long handedBack) {
        long n = 0;
        if (initialRequest) {
            initialRequest = false;
            n = capacity;
        }
        freed += handedBack;
        if (freed >= requestBatch) {
            n += freed;
            freed = 0;
        }
        if (n > 0 && !upstreamDone) {
            upstreamOwed.addAndGet(n);
            up.request(n);
        }
    }

    /**
     * Ends the stream (drain loop only): cancels {@code up} when given, sends {@code onError(error)}
     * to {@code s} when both are given, drops the subscriber and releases the padata instance.
     * The caller sends {@code onComplete} itself.
     */
    private void terminate(Flow.Subscription up, Flow.Subscriber<? super R> s, Throwable error) {
        terminated = true;
        abandoned = true;
        ready.clear();
        downstream = null;   // rule 3.13: no reference to the subscriber after the end
        if (up != null)
            up.cancel();
        upstream = null;
        release();
        if (s != null && error != null) {
            try {
                s.onError(error);
            } catch (Throwable t) {
                logBroken("onError", t);
            }
        }
    }

    /** onNext; a subscriber that throws (breaking rule 2.13) is treated as having cancelled. */
    private void signal(Flow.Subscriber<? super R> s, R r) {
        try {
            s.onNext(r);
        } catch (Throwable t) {
            logBroken("onNext", t);
            cancelled = true;
        }
    }

    private void logBroken(String what, Throwable t) {
        System.getLogger("dev.padata").log(System.Logger.Level.WARNING,
                "OrderedProcessor " + name + ": the subscriber's " + what + " threw (rule 2.13); the subscription is cancelled", t);
    }

    /** Closes the pipeline (and its instance) off the workers, once the functions still running return. */
    private void release() {
        OrderedPipeline<T, Object> p;
        synchronized (this) {
            if (releasing)
                return;
            releasing = true;
            p = pipeline;
        }
        if (p == null) {
            released.countDown();
            return;
        }
        Thread.ofPlatform().daemon().name("padata-" + name + "-release").start(() -> {
            try {
                p.close();
            } finally {
                released.countDown();
            }
        });
    }

    /** Tests: waits until the padata instance was released (or there was none). */
    boolean awaitReleased(long timeoutMs) throws InterruptedException {
        return released.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** Tests: the pipeline, once the upstream subscribed. */
    OrderedPipeline<T, Object> pipeline() {
        return pipeline;
    }

    /**
     * The most items between upstream and downstream.
     *
     * @return the capacity
     */
    public int capacity() {
        return capacity;
    }

    @Override
    public String toString() {
        return "OrderedProcessor[" + name + ", capacity " + capacity + ", " + policy + "]";
    }
}
