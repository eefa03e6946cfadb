/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The everyday way in: submit values, a function runs on many CPUs at once, and the results
 * come out in submission order.
 *
 * <pre>{@code
 * List<Path> paths = List.of(Path.of("a.txt"), Path.of("b.txt"));
 * List<String> out = new ArrayList<>();
 * try (OrderedPipeline<Path, String> pipeline = OrderedPipeline.<Path, String>builder(path -> {
 *             try {
 *                 return Files.readString(path);
 *             } catch (IOException e) {
 *                 throw new UncheckedIOException(e);               // reaches onError, in order
 *             }
 *         })
 *         .consumer(out::add)                                   // in submission order, one at a time
 *         .onError((path, e) -> out.add("failed: " + path))    // also in order, in place of the result
 *         .build()) {
 *     for (Path p : paths)
 *         pipeline.submit(p);                                  // blocks while the pipeline is full
 *     CompletableFuture<String> one = pipeline.submitAsync(Path.of("c.txt")); // or one result as a future
 * }                                                            // close() waits for every result
 * }</pre>
 *
 * <p>How it maps onto padata: every submission is a {@link PadataJob} from a fixed pool of
 * {@code capacity} jobs (each made on its first use); the function runs in {@code parallel()},
 * and the consumer in {@code serial()}, on one callback CPU so the results form a single ordered
 * stream.
 * {@link #submit} waits for a free job instead of throwing {@link PadataBusyException}, and
 * waits with {@link Padata#doParallel(PadataJob, int, Duration)} while padata is full or busy
 * changing its masks. At steady state a submission allocates nothing (the values and results
 * are the caller's): the jobs form a ring, the submitters and the callback worker each write
 * counters of their own, and a waiting submitter is woken once per batch of results.
 *
 * <p>Keyed: with {@link Builder#keyedBy} the results of values with equal keys still reach the
 * consumer in submission order, and consumer calls still never overlap, but values of
 * different keys no longer wait for each other: keys are spread by hash over
 * {@link Builder#lanes} lanes, each a {@link PadataShell} of its own, so a slow value holds
 * back only the values whose keys share its lane.
 *
 * <pre>{@code
 * List<String> done = new ArrayList<>();
 * try (OrderedPipeline<String, String> pipeline = OrderedPipeline.<String, String>builder(String::toUpperCase)
 *         .keyedBy(s -> s.substring(0, s.indexOf(':')))   // "account:amount", per account in order
 *         .lanes(32)                                       // a slow account delays ~1/32 of the others
 *         .consumer(done::add)                             // one call at a time, as before
 *         .build()) {
 *     pipeline.submit("alice:5");
 *     pipeline.submit("bob:7");
 *     pipeline.submit("alice:3");                          // after alice:5, maybe before bob:7
 * }
 * }</pre>
 *
 * <p>Threads: the function runs on padata's parallel workers; the consumer, the error handler
 * and the completion of {@link #submitAsync} futures run on the worker of the callback CPU,
 * one at a time, in order (use the {@code *Async} methods of the future to move dependent work
 * elsewhere). They must not call {@link #submit} when the pipeline may be full, nor
 * {@link #awaitIdle}/{@link #close} (IllegalStateException). An exception from the function
 * or the consumer goes to the error handler with its input, in order; without a handler it is
 * logged to {@code System.getLogger("dev.padata")}. The pipeline keeps going.
 *
 * @param <T> input values
 * @param <R> results
 */
public final class OrderedPipeline<T, R> implements AutoCloseable {
    private final Function<? super T, ? extends R> function;
    private final Consumer<? super R> consumer;
    private final BiConsumer<? super T, ? super Throwable> onError;
    private final Padata padata;
    private final Workqueue ownedWorkqueue;
    private final boolean ownsPadata;
    private final int callbackCpu;
    private final int capacity;
    /**
     * The jobs; submission {@code s} takes {@code ring[s % capacity]} once that one is free. A
     * slot is null until its first submission makes its job ({@link #task}); never again after.
     */
    private final Task[] ring;
    /**
     * Counters on lines of their own (128 bytes apart): {@link #SEQ} and {@link #ACCEPTED} written
     * by submitters only, {@link #COMPLETED} by the callback worker only, {@link #IDLE_WAITERS}
     * by awaitIdle() only (the worker reads it once per result).
     */
    private final long[] counters = new long[64];
    /** Submitters waiting for a free job: woken by the callback worker once per batch. */
    private final Room room = new Room();
    private final Object idle = new Object();
    private final AtomicBoolean released = new AtomicBoolean();
    private final Function<? super T, ?> key;   // null: one global order
    private final PadataShell[] lanes;          // null unless keyed
    private volatile boolean closed;

    private static final VarHandle COUNTERS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle RING = MethodHandles.arrayElementVarHandle(OrderedPipeline.Task[].class);
    private static final int SEQ = 8;
    private static final int ACCEPTED = 24;
    private static final int COMPLETED = 40;
    private static final int IDLE_WAITERS = 56;
    private static final VarHandle TAKEN;

    static {
        try {
            TAKEN = MethodHandles.lookup().findVarHandle(OrderedPipeline.Task.class, "taken", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final class Task extends PadataJob {
        /** 1 from a submitter's claim until serial() has delivered and cleared the job; via TAKEN. */
        @SuppressWarnings("unused")
        volatile int taken;
        T input;
        R result;
        Throwable failure;
        CompletableFuture<R> future;

        @Override
        protected void parallel() {
            try {
                result = function.apply(input);
            } catch (Throwable t) {
                failure = t;
            }
            doSerial();
        }

        @Override
        protected void serial() {
            T in = input;
            R r = result;
            Throwable f = failure;
            CompletableFuture<R> fut = future;
            input = null;
            result = null;
            failure = null;
            future = null;
            try {
                if (fut != null) {
                    if (f != null)
                        fut.completeExceptionally(f);
                    else
                        fut.complete(r);
                } else if (f != null) {
                    fail(in, f);
                } else if (consumer != null) {
                    try {
                        consumer.accept(r);
                    } catch (Throwable t) {
                        fail(in, t);
                    }
                }
            } finally {
                finished(this);
            }
        }

        @Override
        public String toString() {
            return "OrderedPipeline.Task[" + input + "]";
        }
    }

    /**
     * Test hook: runs in the constructor right after the pipeline allocated its own padata
     * instance, to inject a failure there.
     */
    static volatile Consumer<Padata> testAfterAlloc;

    /** Lanes of a keyed pipeline unless {@link Builder#lanes} says otherwise. */
    public static final int DEFAULT_LANES = 16;
    /** The most lanes {@link Builder#lanes} accepts. */
    public static final int MAX_LANES = 4096;

    private OrderedPipeline(Builder<T, R> b) {
        this.function = b.function;
        this.consumer = b.consumer;
        this.onError = b.onError;
        Workqueue ownWq = null;
        Padata p = null;
        PadataShell[] shells = null;
        int ringSize = b.capacity;
        try {
            if (b.padata != null) {
                p = b.padata;
            } else {
                ownWq = Workqueue.create(b.name);
                CpuMask pcpu = b.parallelCpus != null ? b.parallelCpus : CpuMask.possible();
                p = Padata.alloc(ownWq, pcpu, CpuMask.possible());
                Consumer<Padata> hook = testAfterAlloc;
                if (hook != null)
                    hook.accept(p);
                // More than the job ring: a job is handed back at the end of its serial(), before
                // libpadata stops counting it, which it does when the serial callback returns: one
                // job later with per-job upcalls, up to a whole run (PADATA_BATCH_MAX jobs) later
                // with the serial batch (dev.padata.batch). Each serial CPU's worker can be in that
                // moment at once; with that much headroom the instance never answers busy to the
                // pipeline's own jobs and the ring is the only back-pressure (one wait, not two).
                if (ringSize == 0)
                    ringSize = p.maxInflight();
                int limit = (int) Math.min(Padata.MAX_INFLIGHT_LIMIT, ringSize + p.serialRunHeadroom());
                if (limit > p.maxInflight())
                    p.setMaxInflight(limit);
                p.start();
            }
            CpuMask serial = p.cpumask(CpuMaskType.SERIAL);
            if (b.callbackCpu >= 0) {
                if (!serial.contains(b.callbackCpu))
                    throw new IllegalArgumentException("callback CPU " + b.callbackCpu
                            + " is not in the usable serial mask \"" + serial + "\"");
                callbackCpu = b.callbackCpu;
            } else {
                int cpu = CpuMask.active().and(serial).first();
                if (cpu < 0)
                    throw new IllegalStateException("the padata instance has no usable serial CPU (\"" + serial + "\")");
                callbackCpu = cpu;
            }
            capacity = ringSize > 0 ? ringSize : p.maxInflight();
            @SuppressWarnings("unchecked")
            Task[] r = (Task[]) java.lang.reflect.Array.newInstance(Task.class, capacity);
            ring = r; // the jobs are made on first use (task()): a short-lived pipeline of a
                      // large capacity (a mapOrdered stream of ten elements) makes ten
            if (b.key != null) {
                shells = new PadataShell[b.lanes];
                for (int i = 0; i < shells.length; i++)
                    shells[i] = p.allocShell();
            }
        } catch (Throwable e) {
            if (shells != null)
                for (PadataShell s : shells)
                    if (s != null)
                        closeQuietly(s, e);
            // Free what this constructor created, instance before queue; the first failure is
            // the one the caller sees, cleanup failures ride along as suppressed.
            if (ownWq != null) {
                if (p != null)
                    closeQuietly(p, e);
                closeQuietly(ownWq, e);
            }
            throw e;
        }
        padata = p;
        ownedWorkqueue = ownWq;
        ownsPadata = ownWq != null;
        key = b.key;
        lanes = shells;
    }

    /** The shell of {@code input}'s lane, or null when the pipeline keeps one global order. */
    private PadataShell laneOf(T input) {
        return lanes == null ? null : lanes[laneIndex(key.apply(input), lanes.length)];
    }

    /** The lane of key {@code k} among {@code n}: its hashCode, spread (poor hashCodes are common). */
    static int laneIndex(Object k, int n) {
        int h = Objects.hashCode(k) * 0x9E3779B9;
        return Math.floorMod(h ^ (h >>> 16), n);
    }

    private static void closeQuietly(AutoCloseable c, Throwable primary) {
        try {
            c.close();
        } catch (Throwable t) {
            primary.addSuppressed(t);
        }
    }

    /**
     * Starts building a pipeline that applies {@code function} to every submitted value.
     *
     * @param <T> the type of the submitted values
     * @param <R> the type of the results
     * @param function computes a result from a value, on the parallel workers
     * @return a builder with every option at its default
     */
    public static <T, R> Builder<T, R> builder(Function<? super T, ? extends R> function) {
        return new Builder<>(Objects.requireNonNull(function, "function"));
    }

    /**
     * Options of an {@link OrderedPipeline}; every one has a default.
     *
     * @param <T> the type of the submitted values
     * @param <R> the type of the results
     */
    public static final class Builder<T, R> {
        private final Function<? super T, ? extends R> function;
        private Consumer<? super R> consumer;
        private BiConsumer<? super T, ? super Throwable> onError;
        private Padata padata;
        private CpuMask parallelCpus;
        private int callbackCpu = -1;
        private int capacity;
        private String name = "pipeline";
        private Function<? super T, ?> key;
        private int lanes = DEFAULT_LANES;
        private boolean lanesSet;

        private Builder(Function<? super T, ? extends R> function) {
            this.function = function;
        }

        /**
         * Receives every result of {@link #submit}, in order. Default: results are dropped.
         *
         * @param consumer the consumer, not null
         * @return this builder
         */
        public Builder<T, R> consumer(Consumer<? super R> consumer) {
            this.consumer = Objects.requireNonNull(consumer, "consumer");
            return this;
        }

        /**
         * Receives (input, exception) when the function or the consumer threw, in order.
         *
         * @param onError the error handler, not null
         * @return this builder
         */
        public Builder<T, R> onError(BiConsumer<? super T, ? super Throwable> onError) {
            this.onError = Objects.requireNonNull(onError, "onError");
            return this;
        }

        /**
         * Runs on this started instance (shared, not closed by the pipeline) instead of creating
         * a workqueue and instance of its own.
         *
         * @param padata a started instance, not null
         * @return this builder
         */
        public Builder<T, R> padata(Padata padata) {
            this.padata = Objects.requireNonNull(padata, "padata");
            return this;
        }

        /**
         * CPUs for the function, when the pipeline creates its own instance. Default: all possible.
         *
         * @param cpus the parallel mask, not null
         * @return this builder
         */
        public Builder<T, R> parallelCpus(CpuMask cpus) {
            this.parallelCpus = Objects.requireNonNull(cpus, "cpus");
            return this;
        }

        /**
         * The CPU whose worker runs the consumer. Default: the first active CPU of the serial mask.
         *
         * @param cpu the callback CPU
         * @return this builder
         * @throws IllegalArgumentException when {@code cpu} is negative
         */
        public Builder<T, R> callbackCpu(int cpu) {
            if (cpu < 0)
                throw new IllegalArgumentException("callback CPU must be >= 0, not " + cpu);
            this.callbackCpu = cpu;
            return this;
        }

        /**
         * Values in flight at most; {@link #submit} blocks beyond. Default: the instance's in-flight limit.
         *
         * @param capacity the most values in flight
         * @return this builder
         * @throws IllegalArgumentException when {@code capacity} is not in {@code [1, Padata.MAX_INFLIGHT_LIMIT]}
         */
        public Builder<T, R> capacity(int capacity) {
            if (capacity < 1 || capacity > Padata.MAX_INFLIGHT_LIMIT)
                throw new IllegalArgumentException("capacity " + capacity + " is not in [1, " + Padata.MAX_INFLIGHT_LIMIT + "]");
            this.capacity = capacity;
            return this;
        }

        /**
         * Names the pipeline's own workqueue (its threads are {@code padata-<name>/<cpu>}).
         *
         * @param name the name, not null
         * @return this builder
         * @throws IllegalArgumentException when {@code name} is empty
         */
        public Builder<T, R> name(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isEmpty())
                throw new IllegalArgumentException("name must not be empty");
            this.name = name;
            return this;
        }

        /**
         * Orders results per key instead of globally: values whose keys are equal (by
         * {@code equals}/{@code hashCode}) reach the consumer in submission order; consumer calls
         * never overlap; a slow value holds back only the values whose keys share its lane (see
         * {@link #lanes}) in the order of delivery. The function of a slow value still occupies
         * its worker while it runs, as any work does: with few CPUs the workers, not the order,
         * may be what limits the other keys (bench/ KeyedMain shows both cases). The key function
         * runs on the submitting thread, once per value; an exception from it propagates from
         * {@code submit} (nothing is submitted).
         *
         * @param key computes a value's key (may return null, one key like any other), not null
         * @return this builder
         */
        public Builder<T, R> keyedBy(Function<? super T, ?> key) {
            this.key = Objects.requireNonNull(key, "key");
            return this;
        }

        /**
         * How many lanes a keyed pipeline spreads its keys over (by hash), each an independent
         * order domain ({@link PadataShell}). More lanes: a slow key delays fewer others, at the
         * cost of native memory per lane (a reorder ring of the in-flight limit's size and per-CPU
         * queues). Default {@value OrderedPipeline#DEFAULT_LANES}. Only with {@link #keyedBy}.
         *
         * @param lanes the number of lanes
         * @return this builder
         * @throws IllegalArgumentException when {@code lanes} is not in {@code [1, 4096]}
         */
        public Builder<T, R> lanes(int lanes) {
            if (lanes < 1 || lanes > MAX_LANES)
                throw new IllegalArgumentException("lanes " + lanes + " is not in [1, " + MAX_LANES + "]");
            this.lanes = lanes;
            this.lanesSet = true;
            return this;
        }

        /**
         * Creates the pipeline (and its workqueue and padata instance unless one was given).
         *
         * @return the new pipeline, open until {@link OrderedPipeline#close()}
         * @throws IllegalArgumentException when the callback CPU is not usable
         * @throws IllegalStateException    when a given instance is closed, or lanes() was set
         *                                  without keyedBy()
         */
        public OrderedPipeline<T, R> build() {
            if (lanesSet && key == null)
                throw new IllegalStateException("lanes(" + lanes + ") needs keyedBy(key)");
            return new OrderedPipeline<>(this);
        }
    }

    /**
     * Submits {@code input}, waiting while {@code capacity} values are in flight. Its result (or
     * failure) reaches the consumer (or error handler) in submission order.
     *
     * @param input the value
     * @throws IllegalStateException when the pipeline is closed, or its padata instance is stopped
     * @throws InterruptedException  when interrupted while waiting; nothing was submitted
     */
    public void submit(T input) throws InterruptedException {
        checkOpen();
        Task t = take(NO_DEADLINE);
        t.input = input;
        sendBy(t, NO_DEADLINE);
    }

    /**
     * Submits every value of {@code inputs}, in list order, as that many {@link #submit(Object)}
     * calls would, but hands runs of them to padata at once
     * ({@link Padata#doParallel(PadataJob[], int, int, int, Duration)}: one call into libpadata
     * per run of up to {@value Padata#MANY_CHUNK} instead of one per value). A run goes as soon as
     * its jobs are taken, and before the call waits for a job still in use, so nothing waits
     * in a buffer. Their results (or failures) reach the consumer (or error handler) in list
     * order; another thread's submissions may fall between two runs. A keyed pipeline submits
     * them one by one.
     *
     * <pre>{@code
     * List<String> lines = List.of("one", "two", "three");
     * List<Integer> lengths = new ArrayList<>();
     * try (OrderedPipeline<String, Integer> pipeline = OrderedPipeline.<String, Integer>builder(String::length)
     *         .consumer(lengths::add)                       // 3, 3, 5: in list order
     *         .build()) {
     *     pipeline.submitAll(lines);                           // blocks while the pipeline is full
     * }
     * }</pre>
     *
     * @param inputs the values
     * @return how many were submitted, a prefix of {@code inputs}: all of them unless, after
     *         some were submitted, the thread was interrupted while waiting (its interrupt status
     *         is set again), the pipeline was closed, or its padata instance refused the next
     *         (stopped, closed: submit the rest again to see the exception). Keyed: an exception
     *         of the key function propagates; the values before it were submitted
     * @throws NullPointerException  when {@code inputs} is null
     * @throws IllegalStateException when the pipeline is closed, or its padata instance is
     *                               stopped, before any was submitted
     * @throws InterruptedException  when interrupted while waiting before any was submitted
     */
    public int submitAll(List<? extends T> inputs) throws InterruptedException {
        Objects.requireNonNull(inputs, "inputs");
        checkOpen();
        int total = inputs.size();
        Iterator<? extends T> it = inputs.iterator();
        if (lanes != null)
            return submitEach(it, total);
        int submitted = 0;
        int chunk = Math.min(Padata.MANY_CHUNK, capacity);
        while (submitted < total) {
            if (closed) { // as each submit() would: checked again per reservation
                if (submitted == 0)
                    checkOpen();
                return submitted;
            }
            int want = Math.min(chunk, total - submitted);
            long pos = (long) COUNTERS.getAndAdd(counters, SEQ, (long) want);
            long end = pos + want;
            int start = 0;
            int len = 0; // jobs taken and filled at ring[start .. start + len), not sent yet
            boolean stopped = false;
            try {
                // A run goes when the ring wraps, before waiting for a job still in use (never
                // holding jobs while waiting: no hold-and-wait between submitters), and at the end.
                while (pos < end) {
                    int i = (int) Long.remainderUnsigned(pos, capacity);
                    if (len > 0 && i != start + len) {
                        int l = len;
                        len = 0; // sendRun gives back what it does not send
                        int q = sendRun(start, l, submitted > 0);
                        submitted += q;
                        if (q < l) {
                            stopped = true;
                            break;
                        }
                    }
                    T value = it.next(); // before the job is taken: a failing iterator leaves it free
                    Task t = task(i);
                    if (!TAKEN.compareAndSet(t, 0, 1)) {
                        if (len > 0) {
                            int l = len;
                            len = 0;
                            int q = sendRun(start, l, submitted > 0);
                            submitted += q;
                            if (q < l) {
                                stopped = true;
                                break;
                            }
                        }
                        try {
                            awaitTask(t);
                        } catch (InterruptedException e) {
                            if (submitted == 0)
                                throw e;
                            Thread.currentThread().interrupt();
                            stopped = true;
                            break;
                        }
                    }
                    t.input = value;
                    if (len++ == 0)
                        start = i;
                    pos++;
                }
                if (!stopped && len > 0) {
                    int l = len;
                    len = 0;
                    int q = sendRun(start, l, submitted > 0);
                    submitted += q;
                    stopped = q < l;
                }
            } finally {
                // An early end (an exception, a refusal): the jobs taken and not sent go back,
                // and so do the positions not used, unless another submission took a later one.
                for (int k = 0; k < len; k++)
                    untake(ring[start + k]);
                if (pos < end)
                    COUNTERS.compareAndSet(counters, SEQ, end, pos);
            }
            if (stopped)
                return submitted;
        }
        return submitted;
    }

    /** {@link #submitAll} of a keyed pipeline: value by value. */
    private int submitEach(Iterator<? extends T> it, int total) throws InterruptedException {
        int k = 0;
        for (; k < total; k++) {
            T input = it.next();
            try {
                submit(input);
            } catch (InterruptedException | IllegalStateException e) {
                if (k == 0)
                    throw e;
                if (e instanceof InterruptedException)
                    Thread.currentThread().interrupt();
                return k;
            }
        }
        return k;
    }

    /** Parks until {@code t} is free and takes it (the wait of {@link #take}, for one job). */
    private void awaitTask(Task t) throws InterruptedException {
        for (;;) {
            if (Thread.interrupted())
                throw new InterruptedException("interrupted while the OrderedPipeline was full; nothing more was submitted");
            room.await(capacity, Padata.WAIT_SLICE);
            if (TAKEN.compareAndSet(t, 0, 1))
                return;
        }
    }

    /**
     * Sends the taken and filled jobs {@code ring[start .. start + len)} in one hand-over;
     * gives back those padata did not take (interrupted, or the instance stopped). Returns how
     * many were sent. When {@code earlier} (values of this submitAll() went before), a refusal
     * returns 0 instead of throwing (with the interrupt status set for an interruption).
     */
    private int sendRun(int start, int len, boolean earlier) throws InterruptedException {
        // Counted before the jobs can finish, so COMPLETED never passes ACCEPTED.
        COUNTERS.getAndAdd(counters, ACCEPTED, (long) len);
        int sent = 0;
        try {
            sent = padata.doParallel(ring, start, start + len, callbackCpu, FOREVER);
        } catch (InterruptedException e) {
            if (!earlier)
                throw e;
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            if (!earlier)
                throw e;
        } finally {
            for (int k = sent; k < len; k++)
                unsend(ring[start + k]);
        }
        return sent;
    }

    /**
     * Submits {@code input} if a job is free right now.
     *
     * @param input the value
     * @return false when {@code capacity} values are in flight
     * @throws IllegalStateException when the pipeline is closed
     */
    public boolean trySubmit(T input) {
        checkOpen();
        Task t = tryTake();
        if (t == null)
            return false;
        t.input = input;
        try {
            return sendBy(t, System.nanoTime());
        } catch (InterruptedException e) {
            throw new AssertionError("a zero wait never waits", e);
        }
    }

    /**
     * Submits {@code input}, waiting at most {@code timeout} for room (and for padata to finish a
     * mask change). Its result (or failure) reaches the consumer (or error handler) in order.
     *
     * @param input   the value, handed to the function on a padata worker
     * @param timeout how long to wait for room at most
     * @return true when submitted; false when the time ran out first (nothing was submitted)
     * @throws NullPointerException  when {@code timeout} is null
     * @throws IllegalStateException when the pipeline is closed, or its padata instance is stopped
     * @throws InterruptedException  when interrupted while waiting; nothing was submitted
     */
    public boolean submit(T input, Duration timeout) throws InterruptedException {
        long deadline = deadlineOf(timeout);
        checkOpen();
        Task t = take(deadline);
        if (t == null)
            return false;
        t.input = input;
        return sendBy(t, deadline);
    }

    /**
     * Submits a filled task, waiting while padata is full or busy until {@code deadline}
     * ({@code System.nanoTime()}; {@link #NO_DEADLINE} waits as long as it takes); when the time
     * runs out gives the task back and returns false.
     */
    private boolean sendBy(Task t, long deadline) throws InterruptedException {
        // Counted before the job can finish, so COMPLETED never passes ACCEPTED.
        COUNTERS.getAndAdd(counters, ACCEPTED, 1L);
        boolean queued = false;
        try {
            PadataShell lane = laneOf(t.input); // the key function may throw: the task goes back
            Duration wait = deadline == NO_DEADLINE ? FOREVER : Duration.ofNanos(deadline - System.nanoTime());
            queued = lane == null ? padata.doParallel(t, callbackCpu, wait) : lane.doParallel(t, callbackCpu, wait);
        } finally {
            if (!queued)
                unsend(t);
        }
        return queued;
    }

    /** A wait that never ends in practice (292 years). */
    private static final Duration FOREVER = Padata.FOREVER;

    /**
     * The job of ring slot {@code i}, made by the first submission that needs it. Acquire: the
     * job another submitter installed is seen constructed (its fields are final or published by
     * the install's release, and every later hand-off goes through TAKEN and padata).
     */
    private Task task(int i) {
        Task t = (Task) RING.getAcquire(ring, i);
        if (t != null)
            return t;
        Task made = new Task();
        Task there = (Task) RING.compareAndExchange(ring, i, null, made);
        return there == null ? made : there;
    }

    /** Takes the job of the next submission, or null when it is still in use. */
    private Task tryTake() {
        long seq = (long) COUNTERS.getAndAdd(counters, SEQ, 1L);
        Task t = task((int) Long.remainderUnsigned(seq, capacity));
        if (TAKEN.compareAndSet(t, 0, 1))
            return t;
        giveBack(seq);
        return null;
    }

    /**
     * Gives back ring position {@code seq}, taken by a {@code take()} or {@code tryTake()} that got
     * no job (timed out, interrupted, turned away), unless another submission took a later one
     * meanwhile. In one global order jobs come free in ring order, so the next submission should
     * wait for this one's job, the oldest: had the position stayed taken, it would wait for the next
     * job instead, in use one result longer, and a failed {@code trySubmit} or a timed-out
     * {@code submit} would turn the next one away although a job was free. Not when keyed: each lane
     * frees its jobs on its own, so the busy job may belong to a slow lane, and moving on is what
     * lets the next try find a free one. (A job taken and then not queued, {@link #unsend}, keeps
     * its position moved on: the next submission then waits one result longer.)
     */
    private void giveBack(long seq) {
        if (lanes == null)
            COUNTERS.compareAndSet(counters, SEQ, seq + 1, seq);
    }

    /**
     * Takes the job of the next submission, parking while it is in use (woken once per batch of
     * delivered results, with timed back-off); null when {@code deadline} passed first.
     */
    private Task take(long deadline) throws InterruptedException {
        long seq = (long) COUNTERS.getAndAdd(counters, SEQ, 1L);
        Task t = task((int) Long.remainderUnsigned(seq, capacity));
        for (;;) {
            if (TAKEN.compareAndSet(t, 0, 1))
                return t;
            long left = deadline == NO_DEADLINE ? Long.MAX_VALUE : deadline - System.nanoTime();
            if (left <= 0) {
                giveBack(seq);
                return null;
            }
            if (Thread.interrupted()) {
                giveBack(seq);
                throw new InterruptedException("interrupted while the OrderedPipeline was full; nothing was submitted");
            }
            room.await(capacity, Math.min(left, Padata.WAIT_SLICE));
        }
    }

    /** The deadline of {@link #sendBy} that never passes. */
    private static final long NO_DEADLINE = Long.MIN_VALUE;

    /** {@code System.nanoTime()} after {@code timeout}, saturated (a huge timeout means "no deadline"). */
    private static long deadlineOf(Duration timeout) {
        long nanos;
        try {
            nanos = Objects.requireNonNull(timeout, "timeout").toNanos();
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        long now = System.nanoTime();
        // Spans below 2^62 keep (deadline - now) right even when now + nanos wraps around.
        nanos = Math.max(0, Math.min(nanos, Long.MAX_VALUE / 2));
        return now + nanos;
    }

    /**
     * Submits {@code input} and returns a future completed with its result, in submission order,
     * on the callback worker. The consumer does not see it.
     *
     * @param input the value
     * @return a future of the result; completed exceptionally when the function threw
     * @throws IllegalStateException when the pipeline is closed
     * @throws InterruptedException  when interrupted while waiting for room; nothing was submitted
     */
    public CompletableFuture<R> submitAsync(T input) throws InterruptedException {
        checkOpen();
        Task t = take(NO_DEADLINE);
        CompletableFuture<R> f = new CompletableFuture<>();
        t.input = input;
        t.future = f;
        sendBy(t, NO_DEADLINE);
        return f;
    }

    /** Gives back a job taken and filled but never counted in {@link #ACCEPTED} (not sent). */
    private void untake(Task t) {
        t.input = null;
        TAKEN.setRelease(t, 0); // pairs with the claim CAS in take()/tryTake()/submitAll()
        room.jobLeft();
    }

    /** Gives back a job that was not queued. */
    private void unsend(Task t) {
        t.input = null;
        t.future = null;
        TAKEN.setRelease(t, 0); // pairs with the claim CAS in take()/tryTake()
        room.jobLeft();
        COUNTERS.getAndAdd(counters, ACCEPTED, -1L);
        if ((long) COUNTERS.getVolatile(counters, IDLE_WAITERS) != 0 && outstanding() == 0)
            synchronized (idle) {
                idle.notifyAll();
            }
    }

    /** The end of a job's serial(): frees it, counts the result, wakes whoever waits. */
    private void finished(Task t) {
        TAKEN.setRelease(t, 0); // pairs with the claim CAS in take()/tryTake()
        // Volatile (seq-cst) add, then a volatile read of IDLE_WAITERS: with awaitIdleUntil's
        // volatile add to IDLE_WAITERS before its read of COMPLETED, one of the two sees the other.
        long done = (long) COUNTERS.getAndAdd(counters, COMPLETED, 1L) + 1;
        room.jobLeft();
        if ((long) COUNTERS.getVolatile(counters, IDLE_WAITERS) != 0
                && done == (long) COUNTERS.getVolatile(counters, ACCEPTED))
            synchronized (idle) {
                idle.notifyAll();
            }
    }

    /** Values accepted and not yet delivered. */
    private long outstanding() {
        // COMPLETED first: a result counted after this read has an acceptance counted before the next.
        long done = (long) COUNTERS.getVolatile(counters, COMPLETED);
        return (long) COUNTERS.getVolatile(counters, ACCEPTED) - done;
    }

    private void fail(T input, Throwable failure) {
        if (onError == null) {
            System.getLogger("dev.padata").log(System.Logger.Level.WARNING,
                    "OrderedPipeline: processing " + input + " failed", failure);
            return;
        }
        try {
            onError.accept(input, failure);
        } catch (Throwable t) {
            System.err.println("padata: OrderedPipeline error handler threw " + t + " while handling " + failure);
        }
    }

    private void checkOpen() {
        if (closed)
            throw new IllegalStateException("submission to a closed OrderedPipeline");
    }

    /**
     * Waits until every value submitted so far has reached the consumer, error handler or its future.
     *
     * @throws IllegalStateException from the pipeline's own callbacks (it would wait for itself)
     * @throws InterruptedException  when interrupted
     */
    public void awaitIdle() throws InterruptedException {
        awaitIdleUntil(NO_DEADLINE);
    }

    /**
     * Waits at most {@code timeout} until every value submitted so far has reached the consumer,
     * error handler or its future.
     *
     * @param timeout how long to wait at most
     * @return true when idle in time; false when values were still in flight at the deadline
     * @throws NullPointerException  when {@code timeout} is null
     * @throws IllegalStateException from the pipeline's own callbacks (it would wait for itself)
     * @throws InterruptedException  when interrupted
     */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        return awaitIdleUntil(deadlineOf(timeout));
    }

    /** Both awaitIdle methods: waits until idle or {@code deadline} ({@link #NO_DEADLINE}: never). */
    private boolean awaitIdleUntil(long deadline) throws InterruptedException {
        refuseOnOwnWorker("awaitIdle()/close()");
        synchronized (idle) {
            COUNTERS.getAndAdd(counters, IDLE_WAITERS, 1L);
            try {
                while (outstanding() != 0) {
                    if (deadline == NO_DEADLINE) {
                        idle.wait();
                        continue;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0)
                        return false;
                    TimeUnit.NANOSECONDS.timedWait(idle, left);
                }
            } finally {
                COUNTERS.getAndAdd(counters, IDLE_WAITERS, -1L);
            }
        }
        return true;
    }

    /** A wait for the pipeline's own results from one of its workers would wait for itself. */
    private void refuseOnOwnWorker(String call) {
        if (Dispatcher.onWorkerOf(padata.workqueue()))
            throw new IllegalStateException(call + " called from a padata worker of this pipeline"
                    + " (" + Thread.currentThread().getName() + "): it would wait for itself");
    }

    /**
     * Refuses new values and waits at most {@code timeout} for every result to be delivered; when
     * they all were, closes the padata instance and workqueue the pipeline created (as
     * {@link #close()}) and returns true. When the time runs out first (say a function that never
     * returns), it returns false and leaves them open: the pipeline stays closed to new values, and
     * a later {@code close()} or {@code close(Duration)} finishes the job once the stuck values
     * are done. Interruption is not an exception here: the wait ends early (false unless already
     * idle) and the thread's interrupt status is kept.
     *
     * @param timeout how long to wait at most
     * @return true when everything was delivered and released in time
     * @throws NullPointerException  when {@code timeout} is null
     * @throws IllegalStateException from the pipeline's own callbacks
     */
    public boolean close(Duration timeout) {
        long deadline = deadlineOf(timeout);
        refuseOnOwnWorker("close(Duration)"); // before it closes anything
        closed = true;
        boolean idleInTime;
        try {
            idleInTime = awaitIdleUntil(deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            idleInTime = outstanding() == 0;
        }
        if (!idleInTime)
            return false;
        release();
        return true;
    }

    /** Closes what the pipeline created, once (both close methods end here). */
    private void release() {
        if (released.compareAndSet(false, true)) {
            if (lanes != null)
                for (PadataShell s : lanes)
                    s.close();
            if (ownsPadata) {
                padata.close();
                ownedWorkqueue.close();
            }
        }
    }

    /**
     * Values whose result has been delivered so far.
     *
     * @return the count of delivered results
     */
    public long completed() {
        return (long) COUNTERS.getVolatile(counters, COMPLETED);
    }

    /**
     * The CPU whose worker delivers results.
     *
     * @return the callback CPU
     */
    public int callbackCpu() {
        return callbackCpu;
    }

    /**
     * The most values in flight at once.
     *
     * @return the capacity
     */
    public int capacity() {
        return capacity;
    }

    /**
     * The number of lanes of a keyed pipeline.
     *
     * @return the lanes (order domains) keys are spread over; 0 when the pipeline keeps one
     *         global order (no {@link Builder#keyedBy})
     */
    public int lanes() {
        return lanes == null ? 0 : lanes.length;
    }

    /**
     * The padata instance the pipeline runs on.
     *
     * @return the instance given to {@link Builder#padata} or created by the pipeline
     */
    public Padata padata() {
        return padata;
    }

    /**
     * Refuses new values, waits for every result to be delivered, then closes the padata instance
     * and workqueue the pipeline created (not one given to the builder). A second call does nothing.
     *
     * @throws IllegalStateException from the pipeline's own callbacks
     */
    @Override
    public void close() {
        closed = true;
        boolean interrupted = false;
        for (;;) {
            try {
                awaitIdle();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        release();
        if (interrupted)
            Thread.currentThread().interrupt();
    }
}
