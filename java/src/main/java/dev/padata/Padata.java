/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;
import dev.padata.internal.Upcalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * A padata instance: the kernel's {@code struct padata_instance}, one to one. Jobs submitted
 * with {@link #doParallel(PadataJob, int)} run {@code parallel()} on many CPUs at once, then
 * {@code serial()} on the CPU the caller named, in submission order.
 *
 * <pre>{@code
 * List<byte[]> packets = List.of(new byte[1500], new byte[1500]);
 * Queue<byte[]> out = new ConcurrentLinkedQueue<>();
 * try (Workqueue wq = Workqueue.create("crypt");
 *      Padata padata = Padata.allocPossible(wq)) {
 *     padata.start();
 *     int cbCpu = padata.cpumask(CpuMaskType.SERIAL).first();
 *     for (byte[] p : packets) {
 *         PadataJob job = PadataJob.of(() -> Arrays.fill(p, (byte) 1), () -> out.add(p));  // out sees submission order
 *         if (!padata.doParallel(job, cbCpu, Duration.ofSeconds(10)))   // parks while the instance is full
 *             throw new IllegalStateException("no room in 10 s");         // (or use OrderedPipeline)
 *     }
 * }   // close() waits for every accepted job, then frees the instance, then the workqueue
 * }</pre>
 *
 * <p>Thread rules: every method may be called from any thread. The instance never locks its
 * own monitor, so user code may synchronize on it freely. Methods that change masks, and
 * {@link #stop()} and {@link #close()}, block until the jobs already accepted have run
 * {@code serial()}; from inside a callback or notifier of this instance they would wait for
 * themselves, so they throw IllegalStateException there instead. {@link #doParallel(PadataJob, int)}
 * never blocks; {@link #doParallel(PadataJob, int, Duration)} parks while the instance is full,
 * {@link #doParallelWaiting(PadataJob, int)} as long as that takes; in steady state none of them
 * allocates.
 *
 * <p>Errors: a stopped or invalid instance gives IllegalStateException; a bad {@code cb_cpu},
 * mask or CPU gives IllegalArgumentException; libpadata's {@code -EBUSY} gives
 * {@link PadataBusyException}. Every message names the offending value.
 *
 * <p>Flight Recorder: every change of an instance's usable masks ({@link #setCpumasks},
 * {@link #setCpumask}, {@link #addCpu}, {@link #removeCpu}, and {@link Cpus#down}/{@link Cpus#up}
 * for each instance they change) is a {@code dev.padata.CpumaskChange} event (category
 * "padata") with the old and new usable masks in cpulist form, the call that triggered it, how
 * long it took to drain the jobs accepted before it, and libpadata's answer; so
 * {@code jcmd <pid> JFR.start} shows what padata did. Not enabled, it costs nothing measurable.
 */
public final class Padata implements AutoCloseable {
    /** The default in-flight limit ({@code MAX_OBJ_NUM} of 2.6.36). */
    public static final int DEFAULT_MAX_INFLIGHT = 1000;
    /** The highest in-flight limit libpadata takes ({@code PADATA_MAX_INFLIGHT_LIMIT}). */
    public static final int MAX_INFLIGHT_LIMIT = 1 << 20;
    /** The most jobs one batch upcall is handed ({@code PADATA_BATCH_MAX}; see {@code dev.padata.batch}). */
    static final int BATCH_MAX = 32;

    /**
     * Jobs libpadata may still count in flight after their serial() has handed them back: with
     * the serial batch, a run of up to {@link #BATCH_MAX} jobs counts until the whole run has
     * returned, and every serial CPU's worker can be in such a run at once. A caller sizing the
     * limit for a fixed set of its own jobs adds this, so that the instance never answers busy
     * to them.
     */
    long serialRunHeadroom() {
        return (long) BATCH_MAX * Math.max(1, cpumask(CpuMaskType.SERIAL).weight());
    }

    /**
     * Receives the exceptions thrown by this instance's callbacks. Called on the thread that ran
     * the callback, in job order (see {@link PadataJob}); an exception it throws itself is
     * printed on stderr and dropped. The default logs to {@code System.getLogger("dev.padata")}.
     */
    @FunctionalInterface
    public interface FailureHandler {
        /**
         * Called with each exception a callback of the instance threw.
         *
         * @param job     the job whose callback threw; null for {@link PadataJob.Stage#NOTIFIER}
         * @param stage   which callback threw
         * @param failure what it threw
         */
        void failed(PadataJob job, PadataJob.Stage stage, Throwable failure);
    }

    record Registration(Padata padata, CpumaskListener listener) {
    }

    private record NotifierNode(long id, MemorySegment node) {
    }

    private static final FailureHandler LOG = (job, stage, failure) -> System.getLogger("dev.padata")
            .log(System.Logger.Level.WARNING, stage + " callback of " + job + " threw", failure);

    private static final int CLOSED = 0x8000_0000;
    private static final VarHandle GATE;
    private static final VarHandle SUBMIT_GATE;

    /**
     * Test hook: runs on the calling thread after it entered the gate and before it takes the
     * instance's lock (registerCpumaskNotifier, unregisterCpumaskNotifier, setMaxInflight), to
     * widen the window in which close() runs against those calls.
     */
    static volatile Runnable testInGateBeforeLock;

    static {
        try {
            GATE = MethodHandles.lookup().findVarHandle(Padata.class, "gate", int.class);
            SUBMIT_GATE = MethodHandles.lookup().findVarHandle(Padata.class, "submitGate", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Workqueue wq;
    private final MemorySegment pinst;
    private final Arena arena = Arena.ofShared();
    private final ClassLoader contextLoader;
    /**
     * Guards the fields below and orders start() after a pool swap. Private, never the instance's
     * monitor: user code may synchronize on a Padata without blocking the library.
     */
    private final Object lock = new Object();
    private final List<JobPool> pools = new ArrayList<>();    // registered, not retired; guarded by lock
    private final Map<CpumaskListener, NotifierNode> notifiers = new IdentityHashMap<>(); // guarded by lock
    private final List<PadataShell> shells = new ArrayList<>(); // open ones; guarded by lock
    /** Counted down when close() has freed everything; a concurrent second close() waits for it. */
    private final CountDownLatch freed = new CountDownLatch(1);
    private volatile JobPool pool;
    /** doParallel(PadataJob) refusals for want of a job slot, added to the core's busy count in stats(). */
    private final java.util.concurrent.atomic.LongAdder slotRefusals = new java.util.concurrent.atomic.LongAdder();
    /** Where submitters of {@link #doParallel(PadataJob, int, Duration)} wait; on lines of its own. */
    private final Room room = new Room();
    private volatile FailureHandler failureHandler = LOG;
    private volatile boolean started;
    /** CLOSED bit, plus the number of threads inside a call that uses the native instance. */
    @SuppressWarnings("unused") // through GATE
    private volatile int gate;
    /**
     * The same shape as {@link #gate}, for doParallel() only: a pool swap waits until no
     * submitter can still hold the old pool, without waiting for slow calls such as setCpumasks().
     */
    @SuppressWarnings("unused") // through SUBMIT_GATE
    private volatile int submitGate;

    private Padata(Workqueue wq, MemorySegment pinst) {
        this.wq = wq;
        this.pinst = pinst;
        this.contextLoader = Thread.currentThread().getContextClassLoader();
        newPool(DEFAULT_MAX_INFLIGHT);
        setBatch(pinst);
        scratch = Scratch.in(arena, null);
    }

    /**
     * Which stages hand runs of Java jobs to Java in one upcall ({@code padata_set_batch}):
     * system property {@code dev.padata.batch} = {@code serial} (the default), {@code both},
     * {@code parallel} or {@code none}. A run of up to 32 jobs takes one upcall and one
     * thread-local lookup in that stage. The serial half is on by default: it measured as fast as
     * per-job upcalls or faster, with the tightest spread, in alternating JMH runs. Its one visible
     * difference: libpadata counts a run's jobs in flight until the whole run has returned, so a
     * job already handed back may still count against the limit for up to 31 jobs' serial()
     * (OrderedPipeline sizes its own instance's limit for that). The parallel half claims each
     * job of its run before starting it ({@code padata_batch_claim}), so an idle worker can take
     * the rest while one parallel() blocks; it is off by default because with it the same
     * benchmark alternated between the fastest figure and half of it from one JVM to the next.
     */
    static volatile String batchMode = System.getProperty("dev.padata.batch", "serial"); // tests set it

    /** Installs the batch trampolines on a new, stopped instance (nothing in flight: cannot fail). */
    private static void setBatch(MemorySegment pinst) {
        String mode = batchMode;
        if (mode.equals("none"))
            return;
        boolean parallel = mode.equals("both") || mode.equals("parallel");
        boolean serial = mode.equals("both") || mode.equals("serial");
        int rc = PadataNative.setBatch(pinst,
                parallel ? Upcalls.PARALLEL_STUB : MemorySegment.NULL,
                parallel ? Upcalls.PARALLEL_BATCH_STUB : MemorySegment.NULL,
                serial ? Upcalls.SERIAL_STUB : MemorySegment.NULL,
                serial ? Upcalls.SERIAL_BATCH_STUB : MemorySegment.NULL);
        if (rc != 0)
            throw Errno.unexpected("padata_set_batch", rc);
    }

    /**
     * A new, stopped instance running its jobs on {@code wq} ({@code padata_alloc}). The masks
     * may name offline or nonexistent CPUs; each needs at least one active CPU.
     *
     * @param wq the workqueue to run on, open
     * @param pcpu the user parallel mask
     * @param cbcpu the user serial (callback) mask
     * @return the new instance; {@link #start()} it before submitting
     * @throws IllegalArgumentException when a mask has no active CPU
     * @throws IllegalStateException    when {@code wq} is closed, or when called on a padata worker or
     *                                  inside a cpumask notifier (libpadata answers EDEADLK)
     * @throws OutOfMemoryError         when libpadata runs out of memory
     */
    public static Padata alloc(Workqueue wq, CpuMask pcpu, CpuMask cbcpu) {
        Objects.requireNonNull(wq, "wq");
        Objects.requireNonNull(pcpu, "pcpu");
        Objects.requireNonNull(cbcpu, "cbcpu");
        return allocate(wq, pcpu, cbcpu);
    }

    /**
     * {@code alloc(wq, CpuMask.possible(), CpuMask.possible())}.
     *
     * @param wq the workqueue to run on, open
     * @return the new, stopped instance
     * @throws IllegalStateException when {@code wq} is closed, or on a padata worker or in a notifier
     * @throws OutOfMemoryError when libpadata runs out of memory
     */
    public static Padata allocPossible(Workqueue wq) {
        Objects.requireNonNull(wq, "wq");
        CpuMask possible = CpuMask.possible();
        return allocate(wq, possible, possible);
    }

    private static Padata allocate(Workqueue wq, CpuMask pcpu, CpuMask cbcpu) {
        wq.addUser();
        boolean ok = false;
        try {
            MemorySegment pinst;
            int errno;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment capture = PadataNative.captureSegment(a);
                pinst = PadataNative.padataAlloc(capture, wq.handle(), pcpu.toNative(a), cbcpu.toNative(a));
                errno = PadataNative.capturedErrno(capture);
            }
            if (pinst.equals(MemorySegment.NULL)) {
                if (errno == Errno.ENOMEM)
                    throw new OutOfMemoryError("padata_alloc: out of native memory");
                if (errno == Errno.EDEADLK)
                    throw new IllegalStateException("Padata.alloc called on " + Thread.currentThread().getName()
                            + ", a padata worker or a cpumask notifier: refused (EDEADLK);"
                            + " allocate instances from another thread");
                CpuMask active = CpuMask.active();
                if (pcpu.and(active).isEmpty())
                    throw new IllegalArgumentException("parallel mask \"" + pcpu + "\" has no active CPU (active: " + active + ")");
                if (cbcpu.and(active).isEmpty())
                    throw new IllegalArgumentException("serial mask \"" + cbcpu + "\" has no active CPU (active: " + active + ")");
                throw new IllegalArgumentException("padata_alloc(pcpu \"" + pcpu + "\", cbcpu \"" + cbcpu
                        + "\") failed: " + Errno.name(errno));
            }
            Padata p = new Padata(wq, pinst);
            Lifecycle.opened(p);
            FlightRecorderEvents.opened(p);
            ok = true;
            return p;
        } finally {
            if (!ok)
                wq.removeUser();
        }
    }

    private void newPool(int capacity) {
        synchronized (lock) {
            int owner = Dispatcher.register(o -> new JobPool(o, this, capacity));
            JobPool p = Dispatcher.pool(owner);
            pools.add(p);
            pool = p;
        }
    }

    // ---- gate: keeps the native instance alive while a call uses it ---------------------------

    private void enter(String what) {
        enter(GATE, what);
    }

    private void exit() {
        GATE.getAndAdd(this, -1);
    }

    private void enter(VarHandle gateHandle, String what) {
        for (;;) {
            int g = (int) gateHandle.getVolatile(this);
            if ((g & CLOSED) != 0)
                throw new IllegalStateException(what + " on a closed padata instance");
            if (gateHandle.compareAndSet(this, g, g + 1))
                return;
        }
    }

    /** Waits, holding no lock, until no thread is inside the gate behind {@code gateHandle}. */
    private void drain(VarHandle gateHandle) {
        for (int spins = 0; ((int) gateHandle.getVolatile(this) & ~CLOSED) != 0; spins++) {
            if (spins < 100)
                Thread.onSpinWait();
            else
                LockSupport.parkNanos(20_000);
        }
    }

    private static void testHook(Runnable hook) {
        if (hook != null)
            hook.run();
    }

    private void refuseInCallback(String what) {
        if (Dispatcher.inCallbackOf(this))
            throw new IllegalStateException(what + " called from a callback of this padata instance on "
                    + Thread.currentThread().getName() + ": it would wait for itself");
    }

    // ---- lifecycle ---------------------------------------------------------------------------

    /**
     * Allows submissions ({@code padata_start}).
     *
     * @throws IllegalStateException when a usable mask is empty (the instance stays stopped), or
     *                               after close()
     */
    public void start() {
        enter("start()");
        try {
            int rc;
            synchronized (lock) { // never between setMaxInflight's limit change and its pool swap
                rc = PadataNative.padataStart(pinst);
            }
            if (rc == -Errno.EINVAL)
                throw new IllegalStateException("cannot start: an instance needs an active CPU in both usable masks"
                        + " (parallel \"" + cpumask(CpuMaskType.PARALLEL) + "\", serial \""
                        + cpumask(CpuMaskType.SERIAL) + "\", active \"" + CpuMask.active() + "\")");
            if (rc != 0)
                throw Errno.unexpected("padata_start", rc);
            started = true;
        } finally {
            exit();
        }
    }

    /**
     * Refuses new submissions, then waits until every accepted job has returned from serial()
     * ({@code padata_stop}). Called from one of the workqueue's workers it refuses new
     * submissions but cannot wait.
     *
     * @throws IllegalStateException after close()
     */
    public void stop() {
        enter("stop()");
        try {
            started = false;
            PadataNative.padataStop(pinst);
            wakeAll(); // waiting submitters retry and see the stopped instance
        } finally {
            exit();
        }
    }

    /**
     * True between {@link #start()} and {@link #stop()}.
     *
     * @return whether the instance is started
     */
    public boolean isStarted() {
        return started;
    }

    /**
     * Waits until every accepted job has run serial(), then frees the instance
     * ({@code padata_free}). Does not close the workqueue. Submissions from other threads fail
     * with IllegalStateException from the moment close() begins; calls already under way finish
     * first. A second call returns once the first has freed the instance.
     *
     * @throws IllegalStateException on a worker thread of any padata workqueue or inside a cpumask
     *                               notifier, where it could wait for itself
     */
    @Override
    public void close() {
        if (Dispatcher.inPadataContext())
            throw new IllegalStateException("close() called on " + Thread.currentThread().getName()
                    + ", a padata worker or a cpumask notifier: it could wait for itself;"
                    + " close the instance from another thread");
        int before = (int) GATE.getAndBitwiseOr(this, CLOSED);
        SUBMIT_GATE.getAndBitwiseOr(this, CLOSED);
        wakeAll(); // waiting submitters retry and see the closed instance
        if ((before & CLOSED) != 0) {
            awaitFreed(); // a concurrent close() frees; return once it has
            return;
        }
        FlightRecorderEvents.closed(this);
        try {
            // No lock is held here: the calls still inside the gate may need this instance's lock
            // (registerCpumaskNotifier, setMaxInflight) before they can leave it.
            drain(GATE);
            drain(SUBMIT_GATE);
            started = false;
            PadataNative.padataFree(pinst);
            synchronized (lock) {
                for (NotifierNode n : notifiers.values())
                    Dispatcher.dropRegistration(n.id());
                notifiers.clear();
                for (JobPool p : pools) {
                    Dispatcher.unregister(p.owner);
                    p.close();
                }
                pools.clear();
                for (PadataShell s : shells)
                    s.instanceFreed(); // padata_free freed the native shells
                shells.clear();
            }
            arena.close();
            wq.removeUser();
            Lifecycle.closed(this);
        } finally {
            freed.countDown();
        }
    }

    private void awaitFreed() {
        boolean interrupted = false;
        for (;;) {
            try {
                freed.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted)
            Thread.currentThread().interrupt();
    }

    /**
     * True once {@link #close()} began.
     *
     * @return whether {@link #close()} was called
     */
    public boolean isClosed() {
        return ((int) GATE.getVolatile(this) & CLOSED) != 0;
    }

    // ---- submission --------------------------------------------------------------------------

    /**
     * Submits {@code job}; its serial() will run on {@code cbCpu} ({@code padata_do_parallel}).
     * Never blocks; allocates nothing once the job classes are warm.
     *
     * @param job the job; not in flight
     * @param cbCpu the CPU that runs its serial(), in the usable serial mask
     * @throws IllegalStateException    when the instance is not started, invalid or closed, or the
     *                                  job is still in flight
     * @throws IllegalArgumentException when {@code cbCpu} is not in the usable serial mask
     * @throws PadataBusyException      when the in-flight limit is reached or a cpumask change is
     *                                  in progress: the job was not queued, retry later
     */
    public void doParallel(PadataJob job, int cbCpu) {
        Objects.requireNonNull(job, "job");
        int rc = submit(job, cbCpu);
        if (rc == SLOTS_EXHAUSTED)
            throw PadataBusyException.slotsExhausted(cbCpu, pool.capacity);
        if (rc != 0)
            throw PadataBusyException.refused(cbCpu, pool.capacity);
    }

    /**
     * Submits {@code job} as {@link #doParallel(PadataJob, int)} does, but where that would throw
     * {@link PadataBusyException} (in-flight limit reached, cpumask change in progress) it parks
     * the caller until the job is accepted or {@code maxWait} has passed. The caller costs no CPU
     * while parked: it is woken when a batch of jobs (half the in-flight limit) has left
     * {@code serial()}, not once per job, and retries every millisecond (a timed wait) when
     * nothing wakes it (a cpumask change, or {@link NativeJob}s, whose completions Java does not
     * see). A zero {@code maxWait} behaves as {@code doParallel(job, cbCpu)} answering false
     * instead of throwing.
     *
     * <pre>{@code
     * try (Workqueue wq = Workqueue.create("wait");
     *      Padata padata = Padata.allocPossible(wq)) {
     *     padata.start();
     *     int cbCpu = padata.cpumask(CpuMaskType.SERIAL).first();
     *     PadataJob job = PadataJob.of(() -> { }, () -> { });
     *     if (!padata.doParallel(job, cbCpu, Duration.ofSeconds(1)))
     *         System.err.println("still full after a second; the job was not queued");
     * }
     * }</pre>
     *
     * <p>Interruption: an interrupt that arrives while the caller waits (or is pending when it
     * would start waiting) ends the wait with InterruptedException and clears the interrupt
     * status; the job was not queued and may be submitted again. A job accepted without waiting
     * is accepted even when the interrupt status is set (it is left set).
     *
     * @param job     the job; not in flight
     * @param cbCpu   the CPU that runs its serial(), in the usable serial mask
     * @param maxWait how long to wait for room at most; zero or negative waits not at all
     * @return true when the job was queued; false when {@code maxWait} passed first (the job was
     *         not queued; the caller still owns it)
     * @throws InterruptedException     when interrupted while waiting; the job was not queued
     * @throws IllegalStateException    as for {@link #doParallel(PadataJob, int)}; also when the
     *                                  instance is stopped or closed while the caller waits, and
     *                                  when a callback of this instance would have to wait (for
     *                                  itself)
     * @throws IllegalArgumentException as for {@link #doParallel(PadataJob, int)}, also when
     *                                  {@code cbCpu} leaves the usable serial mask while the
     *                                  caller waits
     * @throws NullPointerException     when {@code job} or {@code maxWait} is null
     */
    public boolean doParallel(PadataJob job, int cbCpu, Duration maxWait) throws InterruptedException {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(maxWait, "maxWait");
        if (submit(job, cbCpu) == 0)
            return true; // the common case reads no clock (System.nanoTime costs 20-40 ns on a VM)
        long deadline = deadlineOf(maxWait);
        for (;;) {
            if (!awaitRoom(deadline))
                return false;
            if (submit(job, cbCpu) == 0)
                return true;
        }
    }

    /**
     * Submits {@code job} as {@link #doParallel(PadataJob, int, Duration)} does, waiting for room
     * as long as it takes: the call for a producer that has nothing better to do than wait (no
     * "forever" {@code Duration} of its own needed). Returns once the job is queued.
     *
     * <pre>{@code
     * try (Workqueue wq = Workqueue.create("forever");
     *      Padata padata = Padata.allocPossible(wq)) {
     *     padata.start();
     *     int cbCpu = padata.cpumask(CpuMaskType.SERIAL).first();
     *     for (int i = 0; i < 10_000; i++)
     *         padata.doParallelWaiting(PadataJob.of(() -> { }, () -> { }), cbCpu); // parks while full
     * }
     * }</pre>
     *
     * @param job   the job; not in flight
     * @param cbCpu the CPU that runs its serial(), in the usable serial mask
     * @throws InterruptedException     when interrupted while waiting; the job was not queued
     * @throws IllegalStateException    as for {@link #doParallel(PadataJob, int, Duration)}: the
     *                                  instance not started, invalid, stopped or closed (also while
     *                                  the caller waits), the job in flight, or a callback of this
     *                                  instance that would have to wait (for itself)
     * @throws IllegalArgumentException as for {@link #doParallel(PadataJob, int, Duration)}
     * @throws NullPointerException     when {@code job} is null
     */
    public void doParallelWaiting(PadataJob job, int cbCpu) throws InterruptedException {
        if (!doParallel(job, cbCpu, FOREVER))
            throw new AssertionError("doParallel(job, cbCpu, FOREVER) gave up"); // after 146 years
    }

    /**
     * Submits a native job as {@link #doParallel(NativeJob, int, Duration)} does, waiting for
     * room as long as it takes. Returns once the job is queued.
     *
     * @param job   the job, not in flight
     * @param cbCpu the CPU whose worker runs its {@code serial()}
     * @throws InterruptedException     when interrupted while waiting; the job was not queued
     * @throws IllegalStateException    as for {@link #doParallel(NativeJob, int, Duration)}: the
     *                                  instance not started, invalid, stopped or closed (also while
     *                                  the caller waits), the job in flight or its functions
     *                                  changed, or a callback of this instance that would have to
     *                                  wait
     * @throws IllegalArgumentException as for {@link #doParallel(NativeJob, int, Duration)}
     * @throws NullPointerException     when {@code job} is null
     */
    public void doParallelWaiting(NativeJob job, int cbCpu) throws InterruptedException {
        if (!doParallel(job, cbCpu, FOREVER))
            throw new AssertionError("doParallel(job, cbCpu, FOREVER) gave up");
    }

    /**
     * Submits {@code jobs[from..to)} in array order, as that many
     * {@link #doParallel(PadataJob, int, Duration)} calls would, but handing up to
     * {@value #MANY_CHUNK} jobs to libpadata in one call ({@code padata_do_parallel_many}): one
     * admission and one crossing into C for the run instead of one per job. Their
     * {@code serial()} calls run in array order; the jobs of one hand-over take consecutive
     * places in the instance's order, and another thread's submissions may fall between two
     * hand-overs. Waits for room as {@code doParallel(job, cbCpu, maxWait)} does, for at most
     * {@code maxWait} in all, counted from the first time it finds the instance full.
     *
     * <pre>{@code
     * try (Workqueue wq = Workqueue.create("runs");
     *      Padata padata = Padata.allocPossible(wq)) {
     *     padata.start();
     *     int cbCpu = padata.cpumask(CpuMaskType.SERIAL).first();
     *     long[] squares = new long[64];
     *     List<Long> delivered = new ArrayList<>();
     *     PadataJob[] run = new PadataJob[squares.length];
     *     for (int i = 0; i < run.length; i++) {
     *         int n = i;
     *         run[i] = PadataJob.of(() -> squares[n] = (long) n * n, () -> delivered.add(squares[n]));
     *     }
     *     int queued = padata.doParallel(run, 0, run.length, cbCpu, Duration.ofSeconds(1));
     *     // queued < 64: the second passed first; run[queued..64) are still the caller's
     * }
     * }</pre>
     *
     * <p>Every job is checked before any is queued: a null or in-flight job (also one named
     * twice) throws and queues none. The jobs queued are always a prefix: when the call stops
     * early it returns how many, and the rest are the caller's as before the call. While the
     * call runs, the jobs it has not queued yet count as in flight ({@link PadataJob#isInFlight}).
     *
     * @param jobs    the jobs
     * @param from    the first, inclusive
     * @param to      the last, exclusive
     * @param cbCpu   the CPU that runs their serial(), in the usable serial mask
     * @param maxWait how long to wait for room at most, in all; zero or negative waits not at all
     * @return how many were queued, {@code jobs[from..from + k)}: {@code to - from} unless
     *         {@code maxWait} passed first, the thread was interrupted while waiting after some
     *         were queued (its interrupt status is set again), or after some were queued the
     *         instance refused the next for any other reason (stopped, closed, {@code cbCpu} left
     *         the serial mask, a callback that would wait for itself: submit the rest again to
     *         see the exception)
     * @throws InterruptedException      when interrupted while waiting before any was queued
     * @throws IllegalStateException     when a job is in flight or named twice (none queued), or
     *                                   as for {@link #doParallel(PadataJob, int, Duration)}
     *                                   before any was queued
     * @throws IllegalArgumentException  as for {@link #doParallel(PadataJob, int)}, before any
     *                                   was queued
     * @throws NullPointerException      when {@code jobs}, one of {@code jobs[from..to)} or
     *                                   {@code maxWait} is null (none queued)
     * @throws IndexOutOfBoundsException when {@code from..to} is not a range of {@code jobs}
     */
    public int doParallel(PadataJob[] jobs, int from, int to, int cbCpu, Duration maxWait) throws InterruptedException {
        Objects.requireNonNull(jobs, "jobs");
        Objects.requireNonNull(maxWait, "maxWait");
        Objects.checkFromToIndex(from, to, jobs.length);
        if (from == to)
            return 0;
        int claimed = from;
        try {
            for (; claimed < to; claimed++) {
                PadataJob j = jobs[claimed];
                if (j == null)
                    throw new NullPointerException("jobs[" + claimed + "] is null");
                if (!j.claim())
                    throw new IllegalStateException(j + " (jobs[" + claimed + "]) is already in flight"
                            + " or named earlier in the array");
            }
        } catch (RuntimeException e) {
            for (int i = from; i < claimed; i++)
                jobs[i].setIdle();
            throw e;
        }
        Scratch scratch = null;
        int done = from;
        long deadline = 0;
        boolean timed = false;
        try {
            scratch = takeScratch();
            while (done < to) {
                try {
                    int n = submitMany(jobs, done, done + Math.min(MANY_CHUNK, to - done), cbCpu, scratch);
                    if (n > 0) {
                        done += n;
                        continue;
                    }
                    if (!timed) { // the common case reads no clock
                        deadline = deadlineOf(maxWait);
                        timed = true;
                    }
                    if (!awaitRoom(deadline))
                        break;
                } catch (InterruptedException e) {
                    if (done == from)
                        throw e;
                    Thread.currentThread().interrupt();
                    break;
                } catch (RuntimeException e) {
                    if (done == from)
                        throw e;
                    break; // a prefix is queued: report it; the next call sees the error
                }
            }
        } finally {
            for (int i = done; i < to; i++)
                jobs[i].setIdle();
            if (scratch != null)
                giveScratch(scratch);
        }
        return done - from;
    }

    /** The most jobs of {@link #doParallel(PadataJob[], int, int, int, Duration)} per call into libpadata. */
    public static final int MANY_CHUNK = 64;

    /**
     * One hand-over of {@link #doParallel(PadataJob[], int, int, int, Duration)}: binds
     * {@code jobs[from..to)} (claimed by the caller) to slots and calls
     * {@code padata_do_parallel_many}; the jobs it did not take go back to claimed. Returns how
     * many were taken, 0 when busy (the limit, a mask change, or no free slot).
     */
    private int submitMany(PadataJob[] jobs, int from, int to, int cbCpu, Scratch scratch) {
        enter(SUBMIT_GATE, "doParallel()");
        try {
            JobPool p = pool;
            int n = 0;
            for (int i = from; i < to; i++, n++) {
                int slot = p.acquire();
                if (slot < 0)
                    break;
                PadataJob j = jobs[i];
                p.bind(slot, j);
                MemorySegment node = p.handle(slot); // global scope: see submit()
                j.node = node;
                j.setInFlight();
                scratch.array.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, n, node.address());
            }
            if (n == 0) {
                slotRefusals.increment();
                return 0;
            }
            int rc = PadataNative.doParallelMany(pinst, scratch.handle, n, cbCpu);
            int taken = Math.max(rc, 0);
            for (int i = from + taken; i < from + n; i++) {
                PadataJob j = jobs[i];
                p.retire(p.slotOf(j.node));
                j.setClaimed();
            }
            if (rc < 0 && rc != -Errno.EBUSY)
                throw submitError(rc, cbCpu, jobs[from]);
            return taken;
        } finally {
            SUBMIT_GATE.getAndAdd(this, -1);
        }
    }

    /**
     * A native array of {@link #MANY_CHUNK} job pointers for one batch submitter at a time:
     * {@code array} to write, {@code handle} (global scope) to pass down without acquiring an
     * arena; {@code own} is the arena of a spare made while the cached one was in use.
     */
    private record Scratch(MemorySegment array, MemorySegment handle, Arena own) {
        static Scratch in(Arena arena, Arena own) {
            MemorySegment a = arena.allocate(8L * MANY_CHUNK, 64);
            return new Scratch(a, MemorySegment.ofAddress(a.address()), own);
        }
    }

    private static final VarHandle SCRATCH;

    static {
        try {
            SCRATCH = MethodHandles.lookup().findVarHandle(Padata.class, "scratch", Scratch.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The cached batch array, null while a batch submitter holds it (or before the first). */
    @SuppressWarnings("unused") // through SCRATCH
    private volatile Scratch scratch;

    /**
     * The cached array (made with the instance), or a spare when another batch submitter holds
     * it: in a confined arena (only this thread writes it; the downcall gets a global-scope
     * address), closed after the call. Takes no lock: callbacks and notifiers may call this while
     * another thread holds the instance's lock and waits for them.
     */
    private Scratch takeScratch() {
        Scratch s = (Scratch) SCRATCH.getAndSet(this, (Scratch) null);
        if (s != null)
            return s;
        Arena own = Arena.ofConfined();
        return Scratch.in(own, own);
    }

    private void giveScratch(Scratch s) {
        if (s.own() != null)
            s.own().close();
        else
            SCRATCH.setRelease(this, s);
    }

    /**
     * The wait of the {@code doParallelWaiting} methods: {@link #deadlineOf} saturates it to
     * about 146 years.
     */
    static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE);

    /** {@link #submit(PadataJob, int)}'s answer when every Java job slot is taken. */
    private static final int SLOTS_EXHAUSTED = 1;

    /**
     * The submission of {@link #doParallel(PadataJob, int)}: 0 when queued, -EBUSY when the limit
     * is reached or a mask change is in progress, {@link #SLOTS_EXHAUSTED}; throws for the rest.
     */
    private int submit(PadataJob job, int cbCpu) {
        enter(SUBMIT_GATE, "doParallel()");
        try {
            if (!job.claim())
                throw new IllegalStateException(job + " is already in flight (submitted, its serial() not begun)");
            JobPool p = pool;
            int slot = p.acquire();
            if (slot < 0) {
                job.setIdle();
                slotRefusals.increment(); // stats().busy(): refused here, before the core
                return SLOTS_EXHAUSTED;
            }
            p.bind(slot, job);
            // The global-scope handle, not the pool arena's slice: a shared arena's segment passed
            // to a downcall is acquired and released around it (two atomics on the arena's line).
            MemorySegment node = p.handle(slot);
            job.node = node;
            job.setInFlight();
            int rc = PadataNative.doParallel(pinst, node, cbCpu);
            if (rc != 0) {
                p.retire(slot);
                job.setIdle();
                if (rc == -Errno.EBUSY)
                    return rc;
                throw submitError(rc, cbCpu, job);
            }
            return 0;
        } finally {
            SUBMIT_GATE.getAndAdd(this, -1);
        }
    }

    /**
     * Submits a job whose callbacks are C functions; nothing runs in Java on the workers. The
     * functions are those {@link NativeJob#allocate} (a restricted method) checked its caller for.
     *
     * @param job   the job, not in flight
     * @param cbCpu the CPU whose worker runs its {@code serial()}
     * @throws IllegalStateException    when the instance is not started, invalid or closed, the
     *                                  job is still in flight, or its function pointers were
     *                                  changed after allocate()
     * @throws IllegalArgumentException when {@code cbCpu} is not in the usable serial mask
     * @throws PadataBusyException      as for {@link #doParallel(PadataJob, int)}
     */
    public void doParallel(NativeJob job, int cbCpu) {
        Objects.requireNonNull(job, "job");
        if (submit(job, cbCpu) != 0)
            throw PadataBusyException.refused(cbCpu, pool.capacity);
    }

    /**
     * Submits a native job as {@link #doParallel(NativeJob, int)} does, waiting for room as
     * {@link #doParallel(PadataJob, int, Duration)} does, but in libpadata
     * ({@code padata_do_parallel_wait}): Java does not see native jobs finish, the core does, and
     * wakes the caller when its in-flight count drops. The caller sleeps in slices of at most
     * {@value #NATIVE_WAIT_SLICE_MS} ms, between which it checks for interruption and lets a
     * concurrent {@link #close()} in.
     *
     * @param job     the job, not in flight
     * @param cbCpu   the CPU whose worker runs its {@code serial()}
     * @param maxWait how long to wait for room at most; zero or negative waits not at all
     * @return true when queued; false when {@code maxWait} passed first (not queued)
     * @throws InterruptedException     when interrupted while waiting; the job was not queued
     * @throws IllegalStateException    as for {@link #doParallel(NativeJob, int)}; also when the
     *                                  instance is stopped or closed while the caller waits, and
     *                                  when a callback of this instance would have to wait
     *                                  (libpadata answers EDEADLK)
     * @throws IllegalArgumentException as for {@link #doParallel(NativeJob, int)}
     * @throws NullPointerException     when {@code job} or {@code maxWait} is null
     */
    public boolean doParallel(NativeJob job, int cbCpu, Duration maxWait) throws InterruptedException {
        Objects.requireNonNull(job, "job");
        Objects.requireNonNull(maxWait, "maxWait");
        if (submit(job, cbCpu) == 0)
            return true; // the common case reads no clock
        long deadline = deadlineOf(maxWait);
        for (;;) {
            long left = deadline - System.nanoTime();
            if (left <= 0)
                return false;
            if (Thread.interrupted())
                throw new InterruptedException("interrupted while waiting for room in " + this + "; the job was not queued");
            int ms = (int) Math.min(NATIVE_WAIT_SLICE_MS, Math.max(1, (left + 999_999) / 1_000_000));
            job.checkFunctions();
            enter(SUBMIT_GATE, "doParallel()");
            int rc;
            try {
                rc = PadataNative.doParallelWait(pinst, job.priv(), cbCpu, ms);
                if (rc == -Errno.EDEADLK)
                    throw new IllegalStateException("doParallel(..., maxWait) from a callback of " + this + " on "
                            + Thread.currentThread().getName() + " found the instance full: it would wait for itself");
                if (rc != 0 && rc != -Errno.ETIMEDOUT && rc != -Errno.EBUSY)
                    throw submitError(rc, cbCpu, job);
            } finally {
                SUBMIT_GATE.getAndAdd(this, -1);
            }
            if (rc == 0)
                return true;
        }
    }

    /** Longest sleep of one {@code padata_do_parallel_wait} call of {@link #doParallel(NativeJob, int, Duration)}. */
    private static final int NATIVE_WAIT_SLICE_MS = 10;

    private int submit(NativeJob job, int cbCpu) {
        job.checkFunctions();
        enter(SUBMIT_GATE, "doParallel()");
        try {
            int rc = PadataNative.doParallel(pinst, job.priv(), cbCpu);
            if (rc == 0 || rc == -Errno.EBUSY)
                return rc;
            throw submitError(rc, cbCpu, job);
        } finally {
            SUBMIT_GATE.getAndAdd(this, -1);
        }
    }

    // ---- waiting for room ---------------------------------------------------------------------

    /**
     * Longest timed wait of a waiting submitter nobody wakes (ns). {@code Object.wait} counts in
     * whole milliseconds, so this is also the shortest.
     */
    static final long WAIT_SLICE = 1_000_000;

    /** {@code System.nanoTime()} after {@code d}, saturated; a zero or negative span is now. */
    static long deadlineOf(Duration d) {
        long nanos;
        try {
            nanos = Objects.requireNonNull(d, "maxWait").toNanos();
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        // Spans below 2^62 keep (deadline - now) right even when now + nanos wraps around.
        return System.nanoTime() + Math.max(0, Math.min(nanos, Long.MAX_VALUE / 2));
    }

    /**
     * Parks a busy submitter until room may be back or one back-off slice has passed; false when
     * the deadline has passed (checked first, so a zero wait never parks).
     */
    private boolean awaitRoom(long deadline) throws InterruptedException {
        long left = deadline - System.nanoTime();
        if (left <= 0)
            return false;
        if (Thread.interrupted())
            throw new InterruptedException("interrupted while waiting for room in " + this + "; the job was not queued");
        if (Dispatcher.inCallbackOf(this))
            throw new IllegalStateException("doParallel(..., maxWait) from a callback of " + this + " on "
                    + Thread.currentThread().getName() + " found the instance full: it would wait for itself");
        long slice = Math.min(left, WAIT_SLICE);
        room.await(pool.capacity, slice);
        return true;
    }

    /** Where waiting submitters park; the serial trampoline counts jobs down on it. */
    Room room() {
        return room;
    }

    /** Wakes every parked submitter at once (stop, close). */
    private void wakeAll() {
        room.wakeAll();
    }

    private RuntimeException submitError(int rc, int cbCpu, Object job) {
        if (rc == -Errno.EBUSY)
            return PadataBusyException.refused(cbCpu, PadataNative.getMaxInflight(pinst));
        if (rc != -Errno.EINVAL)
            return Errno.unexpected("padata_do_parallel", rc);
        if (!started)
            return new IllegalStateException("doParallel(cb_cpu " + cbCpu + "): the padata instance is not started");
        CpuMask pcpu = cpumask(CpuMaskType.PARALLEL);
        CpuMask cbcpu = cpumask(CpuMaskType.SERIAL);
        if (pcpu.isEmpty() || cbcpu.isEmpty())
            return new IllegalStateException("doParallel(cb_cpu " + cbCpu + "): the padata instance is invalid"
                    + " (usable parallel mask \"" + pcpu + "\", serial mask \"" + cbcpu + "\", active CPUs \""
                    + CpuMask.active() + "\")");
        if (!cbcpu.contains(cbCpu))
            return new IllegalArgumentException("cb_cpu " + cbCpu + " is not in the usable serial mask \"" + cbcpu + "\"");
        if (job instanceof NativeJob)
            return new IllegalStateException(job + " is still in flight");
        // Started and valid now, cb_cpu usable now: a hotplug or mask change took cb_cpu (or every
        // CPU) away at the moment of submission and has since given it back.
        return new IllegalArgumentException("cb_cpu " + cbCpu + " was not in the usable serial mask when the job"
                + " was submitted (a cpumask change or hotplug ran meanwhile; the mask is now \"" + cbcpu + "\")");
    }

    // ---- shells ------------------------------------------------------------------------------

    /**
     * A new order domain on this instance's workers ({@code padata_alloc_shell}): jobs submitted
     * through the shell are ordered among themselves exactly as this instance orders its own, and
     * never wait for jobs of another shell or of the instance (a slow job of one shell does not
     * delay {@code serial()} of another). The shell follows the instance: {@link #start()},
     * {@link #stop()}, cpumask changes, hotplug and {@link #setMaxInflight} (the limit holds per
     * shell) apply to it, and {@link #close()} frees it.
     *
     * <pre>{@code
     * try (Workqueue wq = Workqueue.create("shells"); Padata padata = Padata.allocPossible(wq)) {
     *     padata.start();
     *     int cbCpu = CpuMask.active().first();
     *     try (PadataShell orders = padata.allocShell(); PadataShell audits = padata.allocShell()) {
     *         orders.doParallel(PadataJob.of(() -> { }, () -> System.out.println("order")), cbCpu);
     *         audits.doParallel(PadataJob.of(() -> { }, () -> System.out.println("audit")), cbCpu);
     *     }                                 // a slow order job never holds back an audit job
     * }
     * }</pre>
     *
     * @return the new shell, open until its {@link PadataShell#close()} or this instance's close()
     * @throws IllegalStateException on a closed instance, or when called on a padata worker or in a
     *                               cpumask notifier (libpadata answers EDEADLK)
     * @throws OutOfMemoryError      when libpadata runs out of memory
     */
    public PadataShell allocShell() {
        enter("allocShell()");
        try {
            MemorySegment ps;
            int errno;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment capture = PadataNative.captureSegment(a);
                ps = PadataNative.allocShell(capture, pinst);
                errno = PadataNative.capturedErrno(capture);
            }
            if (ps.equals(MemorySegment.NULL)) {
                if (errno == Errno.ENOMEM)
                    throw new OutOfMemoryError("padata_alloc_shell: out of native memory");
                if (errno == Errno.EDEADLK)
                    throw new IllegalStateException("allocShell() called on " + Thread.currentThread().getName()
                            + ", a padata worker or a cpumask notifier: refused (EDEADLK)");
                throw Errno.unexpected("padata_alloc_shell", -errno);
            }
            PadataShell shell = new PadataShell(this, ps);
            synchronized (lock) {
                shells.add(shell);
            }
            return shell;
        } finally {
            exit();
        }
    }

    /**
     * A pool of job nodes for a shell: twice the in-flight limit, so that up to a limit's worth
     * of {@link PadataShell#doParallel(PadataJob, int, Duration)} callers find a node and sleep
     * in libpadata (a futex) rather than in a retry loop here.
     */
    JobPool newShellPool() {
        synchronized (lock) {
            int owner = Dispatcher.register(o -> new JobPool(o, this, shellPoolCapacity()));
            return Dispatcher.pool(owner);
        }
    }

    /** What a shell's pool must hold for the current in-flight limit; see {@link #newShellPool()}. */
    int shellPoolCapacity() {
        return 2 * pool.capacity; // the limit is at most 2^20
    }

    /** {@link PadataShell#doParallel}: as {@link #doParallel(PadataJob, int)} into shell {@code ps}. */
    void doParallelShell(PadataShell shell, PadataJob job, int cbCpu) {
        Objects.requireNonNull(job, "job");
        enter(SUBMIT_GATE, "doParallel()");
        try {
            if (!job.claim())
                throw new IllegalStateException(job + " is already in flight (submitted, its serial() not begun)");
            JobPool p = shell.pool();
            int slot = p.acquire();
            if (slot < 0) {
                job.setIdle();
                throw PadataBusyException.slotsExhausted(cbCpu, p.capacity);
            }
            p.bind(slot, job);
            MemorySegment node = p.handle(slot); // global scope: see submit()
            job.node = node;
            job.setInFlight();
            int rc = PadataNative.doParallelShell(shell.handle(), node, cbCpu);
            if (rc != 0) {
                p.retire(slot);
                job.setIdle();
                throw submitError(rc, cbCpu, job);
            }
        } finally {
            SUBMIT_GATE.getAndAdd(this, -1);
        }
    }

    /** Longest single sleep in libpadata of {@link #doParallelShell(PadataShell, PadataJob, int, Duration)}. */
    private static final int SHELL_WAIT_SLICE_MS = 10;

    /**
     * {@link PadataShell#doParallel(PadataJob, int, Duration)}: {@code padata_do_parallel_shell_wait}
     * in slices of at most {@link #SHELL_WAIT_SLICE_MS}, so interruption and close() are seen
     * between them; the sleeping itself costs no CPU (a futex in libpadata).
     */
    boolean doParallelShell(PadataShell shell, PadataJob job, int cbCpu, Duration maxWait) throws InterruptedException {
        Objects.requireNonNull(job, "job");
        long nanos;
        try {
            nanos = Objects.requireNonNull(maxWait, "maxWait").toNanos();
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        nanos = Math.max(0, Math.min(nanos, Long.MAX_VALUE / 2));
        // The clock is read only once the first try failed: the common case reads none
        // (System.nanoTime costs 20-40 ns on a VM, a tenth of a whole job at w = 0).
        long deadline = 0;
        boolean timed = false;
        enter(SUBMIT_GATE, "doParallel()");
        try {
            if (!job.claim())
                throw new IllegalStateException(job + " is already in flight (submitted, its serial() not begun)");
            JobPool p = shell.pool();
            int slot;
            while ((slot = p.acquire()) < 0) { // only while other submitters race past the limit
                if (!timed) {
                    deadline = System.nanoTime() + nanos;
                    timed = true;
                }
                if (System.nanoTime() - deadline >= 0) {
                    job.setIdle();
                    return false;
                }
                if (Thread.interrupted()) {
                    job.setIdle();
                    throw new InterruptedException("interrupted while waiting for room; " + job + " was not submitted");
                }
                LockSupport.parkNanos(20_000);
            }
            p.bind(slot, job);
            MemorySegment node = p.handle(slot); // global scope: see submit()
            job.node = node;
            job.setInFlight();
            for (;;) {
                long left = timed ? deadline - System.nanoTime() : nanos;
                int ms = left <= 0 ? 0 : (int) Math.min(SHELL_WAIT_SLICE_MS, (left + 999_999) / 1_000_000);
                int rc = PadataNative.doParallelShellWait(shell.handle(), node, cbCpu, ms);
                if (rc == 0)
                    return true;
                if (!timed) {
                    // As if read before the first try: it slept ms at most (ETIMEDOUT).
                    long now = System.nanoTime();
                    deadline = now + nanos - (rc == -Errno.ETIMEDOUT ? ms * 1_000_000L : 0);
                    left = deadline - now;
                    timed = true;
                }
                boolean busy = rc == -Errno.EBUSY || rc == -Errno.ETIMEDOUT;
                boolean closing = isClosed() || shell.isClosed(); // their close() waits for us
                if (busy && left > 0 && !Thread.currentThread().isInterrupted() && !closing)
                    continue;
                p.retire(slot);
                job.setIdle();
                if (busy && Thread.interrupted())
                    throw new InterruptedException("interrupted while padata was busy; " + job + " was not submitted");
                if (busy && closing)
                    throw new IllegalStateException("doParallel() on a closed padata " + (isClosed() ? "instance" : "shell"));
                if (busy)
                    return false;
                if (rc == -Errno.EDEADLK)
                    throw new IllegalStateException("doParallel(job, cbCpu, maxWait) called on "
                            + Thread.currentThread().getName() + ", a worker of this padata instance's workqueue or"
                            + " a cpumask notifier, where waiting could wait for itself (EDEADLK)");
                throw submitError(rc, cbCpu, job);
            }
        } finally {
            SUBMIT_GATE.getAndAdd(this, -1);
        }
    }

    /**
     * {@link PadataShell#close()}: frees the native shell unless this instance's close() began
     * (then padata_free frees it). Returns whether it freed it.
     */
    boolean freeShell(PadataShell shell) {
        int g;
        do {
            g = (int) GATE.getVolatile(this);
            if ((g & CLOSED) != 0)
                return false;
        } while (!GATE.compareAndSet(this, g, g + 1));
        try {
            synchronized (lock) {
                if (!shells.remove(shell))
                    return false;
            }
            PadataNative.freeShell(shell.handle());
            return true;
        } finally {
            exit();
        }
    }

    // ---- multithreaded jobs ------------------------------------------------------------------

    /**
     * Runs {@code task} over the indexes {@code [start, start + size)} in chunks, on this
     * instance's workers and the calling thread, and returns once every chunk has finished
     * ({@code padata_do_multithreaded}). For example, summing an array on up to 8 threads:
     *
     * <pre>{@code
     * try (Workqueue wq = Workqueue.create("sum"); Padata padata = Padata.allocPossible(wq)) {
     *     padata.start();
     *     long[] data = new long[1 << 20];
     *     java.util.concurrent.atomic.LongAdder sum = new java.util.concurrent.atomic.LongAdder();
     *     padata.doMultithreaded(0, data.length, 4096, 8, (from, to) -> {
     *         long s = 0;
     *         for (long i = from; i < to; i++)
     *             s += data[(int) i];
     *         sum.add(s);
     *     });
     * }
     * }</pre>
     *
     * <p>Chunks are about a quarter of the range per thread (the kernel's load balancing), at
     * least {@code minChunk} indexes each (only a range smaller than {@code minChunk} is one
     * smaller chunk), each run exactly once. The threads are the caller and up to
     * {@code min(maxThreads, usable parallel CPUs, size / minChunk) - 1} of the instance's
     * workers, each on its own CPU of the usable parallel mask; they share those workers with the
     * instance's jobs. While the call runs, cpumask changes, CPU hotplug and {@link #close()}
     * wait for it; a call during a cpumask change waits for the change, then uses the new mask.
     * Every chunk runs even when one throws; the first exception is then rethrown here, with the
     * others as {@linkplain Throwable#getSuppressed() suppressed} exceptions.
     *
     * @param start    the first index, at least 0
     * @param size     the number of indexes, at least 0 ({@code 0}: returns at once, no chunk runs);
     *                 {@code start + size} must not exceed {@code Long.MAX_VALUE}
     * @param minChunk the least number of indexes per chunk, at least 1
     * @param maxThreads the most threads that run chunks, the caller included, at least 1
     * @param task     runs each chunk; see {@link RangeTask} for its thread and its limits
     * @throws NullPointerException     when {@code task} is null
     * @throws IllegalArgumentException when {@code start} or {@code size} is negative,
     *                                  {@code start + size} overflows, {@code minChunk} or
     *                                  {@code maxThreads} is below 1
     * @throws IllegalStateException    when the instance is not started, invalid or closed, or when
     *                                  called from a padata callback, a cpumask notifier or a
     *                                  chunk of a multithreaded job (it could wait for itself)
     * @throws RuntimeException         (or {@link Error}) the first exception a chunk threw, after
     *                                  every chunk has finished; a checked exception thrown
     *                                  sneakily arrives wrapped in a
     *                                  {@link java.util.concurrent.CompletionException}
     */
    public void doMultithreaded(long start, long size, long minChunk, int maxThreads, RangeTask task) {
        Objects.requireNonNull(task, "task");
        String what = "doMultithreaded(start " + start + ", size " + size + ", minChunk " + minChunk
                + ", maxThreads " + maxThreads + ")";
        if (start < 0 || size < 0)
            throw new IllegalArgumentException(what + ": start and size must not be negative");
        if (size > Long.MAX_VALUE - start)
            throw new IllegalArgumentException(what + ": start + size overflows a long");
        if (minChunk < 1)
            throw new IllegalArgumentException(what + ": minChunk must be at least 1");
        if (maxThreads < 1)
            throw new IllegalArgumentException(what + ": maxThreads must be at least 1");
        enter(what);
        int rc;
        try {
            rc = Multithreaded.run(this, pinst, start, size, minChunk, maxThreads, task);
        } finally {
            exit();
        }
        if (rc == -Errno.EDEADLK)
            throw new IllegalStateException(what + " called on " + Thread.currentThread().getName()
                    + ", inside a padata callback, a cpumask notifier or a chunk: it could wait for itself");
        if (rc == -Errno.EINVAL)
            throw new IllegalStateException(what + ": the padata instance is not started or invalid"
                    + " (usable parallel mask \"" + cpumask(CpuMaskType.PARALLEL) + "\")");
        if (rc != 0)
            throw Errno.unexpected("padata_do_multithreaded", rc);
    }

    // ---- masks -------------------------------------------------------------------------------

    /**
     * The usable mask of {@code type} now: the user mask ANDed with the active CPUs.
     *
     * @param type which mask
     * @return the usable mask
     */
    public CpuMask cpumask(CpuMaskType type) {
        Objects.requireNonNull(type, "type");
        enter("cpumask()");
        try {
            long[][] masks = PadataNative.usableMasks(pinst);
            if (masks == null)
                throw new IllegalStateException("padata_get_cpumask failed");
            return CpuMask.ofWords(type == CpuMaskType.PARALLEL ? masks[0] : masks[1]);
        } finally {
            exit();
        }
    }

    /**
     * Replaces both user masks ({@code padata_set_cpumasks}); blocks until the jobs accepted before
     * the call have run serial(). Masks without an active CPU are accepted but leave the instance
     * invalid until a CPU of them comes up.
     *
     * @param pcpu the new user parallel mask
     * @param cbcpu the new user serial mask
     * @throws IllegalStateException from a callback or notifier of this instance, or after close()
     */
    public void setCpumasks(CpuMask pcpu, CpuMask cbcpu) {
        Objects.requireNonNull(pcpu, "pcpu");
        Objects.requireNonNull(cbcpu, "cbcpu");
        String what = "setCpumasks(\"" + pcpu + "\", \"" + cbcpu + "\")";
        refuseInCallback(what);
        enter(what);
        try (Arena a = Arena.ofConfined()) {
            FlightRecorderEvents.Change jfr = FlightRecorderEvents.beginChange(this, what);
            int rc = PadataNative.setCpumasks(pinst, pcpu.toNative(a), cbcpu.toNative(a));
            if (jfr != null)
                jfr.end(rc);
            check(what, rc);
        } finally {
            exit();
        }
    }

    /**
     * Replaces one user mask ({@code padata_set_cpumask}); as {@link #setCpumasks}.
     *
     * @param type which mask to replace
     * @param mask the new user mask
     * @throws IllegalStateException from a callback or notifier of this instance, or after close()
     */
    public void setCpumask(CpuMaskType type, CpuMask mask) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(mask, "mask");
        String what = "setCpumask(" + type + ", \"" + mask + "\")";
        refuseInCallback(what);
        enter(what);
        try (Arena a = Arena.ofConfined()) {
            FlightRecorderEvents.Change jfr = FlightRecorderEvents.beginChange(this, what);
            int rc = PadataNative.setCpumask(pinst, type.bit, mask.toNative(a));
            if (jfr != null)
                jfr.end(rc);
            check(what, rc);
        } finally {
            exit();
        }
    }

    /**
     * Adds {@code cpu} to the masks named by {@code types} ({@code padata_add_cpu}); as
     * {@link #setCpumasks}.
     *
     * @param cpu the CPU to add
     * @param types the masks to add it to, at least one
     * @throws IllegalArgumentException when no type is given or {@code cpu} is not in
     *                                  {@code [0, Cpus.count())}
     * @throws IllegalStateException    from a callback or notifier of this instance, or after close()
     */
    public void addCpu(int cpu, CpuMaskType... types) {
        changeCpu("addCpu", cpu, types, true);
    }

    /**
     * Removes {@code cpu} from the masks named by {@code types} ({@code padata_remove_cpu}); as {@link #addCpu}.
     *
     * @param cpu the CPU to remove
     * @param types the masks to remove it from, at least one
     * @throws IllegalArgumentException when no type is given or {@code cpu} is not in {@code [0, Cpus.count())}
     * @throws IllegalStateException from a callback or notifier of this instance, or after close()
     */
    public void removeCpu(int cpu, CpuMaskType... types) {
        changeCpu("removeCpu", cpu, types, false);
    }

    private void changeCpu(String op, int cpu, CpuMaskType[] types, boolean add) {
        Objects.requireNonNull(types, "types");
        String what = op + "(" + cpu + ", " + java.util.Arrays.toString(types) + ")";
        if (types.length == 0)
            throw new IllegalArgumentException(what + ": name at least one CpuMaskType");
        int bits = CpuMaskType.bits(types);
        refuseInCallback(what);
        enter(what);
        try {
            FlightRecorderEvents.Change jfr = FlightRecorderEvents.beginChange(this, what);
            int rc = add ? PadataNative.addCpu(pinst, cpu, bits) : PadataNative.removeCpu(pinst, cpu, bits);
            if (jfr != null)
                jfr.end(rc);
            if (rc == -Errno.EINVAL)
                throw new IllegalArgumentException(what + ": CPU " + cpu + " is not in [0, " + Cpus.count() + ")");
            check(what, rc);
        } finally {
            exit();
        }
    }

    private void check(String what, int rc) {
        if (rc == 0)
            return;
        if (rc == -Errno.EDEADLK)
            throw new IllegalStateException(what + " called from a padata callback or notifier on "
                    + Thread.currentThread().getName() + ": it would wait for itself");
        if (rc == -Errno.EINVAL)
            throw new IllegalArgumentException(what + " rejected by libpadata (-EINVAL)");
        if (rc == -Errno.EBUSY)
            throw new PadataBusyException(what + " refused (-EBUSY)");
        throw Errno.unexpected(what, rc);
    }

    /** Enters the gate unless the instance is closing; for the Flight Recorder hooks, which must not throw. */
    private boolean tryEnter() {
        for (;;) {
            int g = (int) GATE.getVolatile(this);
            if ((g & CLOSED) != 0)
                return false;
            if (GATE.compareAndSet(this, g, g + 1))
                return true;
        }
    }

    /** The usable parallel and serial masks, or null once closed (for the Flight Recorder events). */
    CpuMask[] usableMasksOrNull() {
        if (!tryEnter())
            return null;
        try {
            long[][] m = PadataNative.usableMasks(pinst);
            return m == null ? null : new CpuMask[] {CpuMask.ofWords(m[0]), CpuMask.ofWords(m[1])};
        } finally {
            exit();
        }
    }

    // ---- statistics --------------------------------------------------------------------------

    /**
     * The instance's statistics now ({@code padata_get_stats}): jobs accepted and completed,
     * {@code -EBUSY} answers, the current and highest reorder depth, jobs in flight, the limit and
     * the submitters waiting for room. Reading them costs the jobs nothing: the core counts where
     * it already writes. Lock-free; any thread, callbacks included. The same figures reach JDK Flight
     * Recorder as the periodic {@code dev.padata.Statistics} event.
     *
     * <pre>{@code
     * try (Workqueue wq = Workqueue.create("stats");
     *      Padata padata = Padata.allocPossible(wq)) {
     *     padata.start();
     *     padata.doParallel(PadataJob.of(() -> { }, () -> { }), padata.cpumask(CpuMaskType.SERIAL).first());
     *     padata.stop();                                  // waits for the job's serial()
     *     PadataStats st = padata.stats();
     *     System.out.println(st.accepted() + " accepted, " + st.completed() + " completed");
     * }
     * }</pre>
     *
     * @return a snapshot of the counters
     * @throws IllegalStateException after close()
     */
    public PadataStats stats() {
        enter("stats()");
        try {
            return readStats();
        } finally {
            exit();
        }
    }

    /** stats(), or null once the instance is closing (for the periodic Flight Recorder hook). */
    PadataStats statsOrNull() {
        if (!tryEnter())
            return null;
        try {
            return readStats();
        } finally {
            exit();
        }
    }

    private PadataStats readStats() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(PadataNative.PADATA_STATS);
            int rc = PadataNative.getStats(pinst, st);
            if (rc != 0)
                throw Errno.unexpected("padata_get_stats", rc);
            long[] v = PadataNative.statsValues(st);
            return new PadataStats(v[0], v[1], v[2] + slotRefusals.sum(), v[3], v[4], v[5], (int) v[6], (int) v[7]);
        }
    }

    // ---- notifiers ---------------------------------------------------------------------------

    /**
     * Adds {@code listener} to the instance's cpumask notifier chain
     * ({@code padata_register_cpumask_notifier}).
     *
     * @param listener the listener to add
     * @throws IllegalArgumentException when it is already registered here
     * @throws IllegalStateException    from inside a notifier, or after close()
     */
    public void registerCpumaskNotifier(CpumaskListener listener) {
        Objects.requireNonNull(listener, "listener");
        enter("registerCpumaskNotifier()");
        try {
            testHook(testInGateBeforeLock);
            synchronized (lock) {
                if (notifiers.containsKey(listener))
                    throw new IllegalArgumentException("listener " + listener + " is already registered (-EEXIST)");
                long id = Dispatcher.newRegistration(new Registration(this, listener));
                MemorySegment node = arena.allocate(PadataNative.NOTIFIER_NODE);
                PadataNative.initNotifierNode(node, Upcalls.NOTIFIER_STUB, 0, id);
                int rc = PadataNative.registerNotifier(pinst, node);
                if (rc != 0) {
                    Dispatcher.dropRegistration(id);
                    if (rc == -Errno.EEXIST)
                        throw new IllegalArgumentException("listener " + listener + " is already registered (-EEXIST)");
                    check("registerCpumaskNotifier(" + listener + ")", rc);
                }
                notifiers.put(listener, new NotifierNode(id, node));
            }
        } finally {
            exit();
        }
    }

    /**
     * Removes {@code listener} from the chain ({@code padata_unregister_cpumask_notifier}).
     *
     * @param listener the listener to remove
     * @throws IllegalArgumentException when it is not registered here
     * @throws IllegalStateException    from inside a notifier, or after close()
     */
    public void unregisterCpumaskNotifier(CpumaskListener listener) {
        Objects.requireNonNull(listener, "listener");
        enter("unregisterCpumaskNotifier()");
        try {
            testHook(testInGateBeforeLock);
            synchronized (lock) {
                NotifierNode n = notifiers.get(listener);
                if (n == null)
                    throw new IllegalArgumentException("listener " + listener + " is not registered (-ENOENT)");
                int rc = PadataNative.unregisterNotifier(pinst, n.node());
                if (rc == -Errno.ENOENT)
                    throw new IllegalArgumentException("listener " + listener + " is not registered (-ENOENT)");
                check("unregisterCpumaskNotifier(" + listener + ")", rc);
                notifiers.remove(listener);
                Dispatcher.dropRegistration(n.id());
            }
        } finally {
            exit();
        }
    }

    // ---- limits, failures, misc --------------------------------------------------------------

    /**
     * Sets the limit of jobs in flight beyond which {@link #doParallel} throws
     * {@link PadataBusyException} ({@code padata_set_max_inflight}). Only while stopped. The
     * previous limit's job slots are freed at once unless some of their jobs are still in flight
     * (after a stop() from a worker, which cannot wait); then they are freed by close().
     *
     * @param limit the new limit
     * @throws IllegalArgumentException when {@code limit} is not in {@code [1, MAX_INFLIGHT_LIMIT]}
     * @throws IllegalStateException    while started, from a callback, or after close()
     */
    public void setMaxInflight(int limit) {
        if (limit < 1 || limit > MAX_INFLIGHT_LIMIT)
            throw new IllegalArgumentException("in-flight limit " + limit + " is not in [1, " + MAX_INFLIGHT_LIMIT + "]");
        String what = "setMaxInflight(" + limit + ")";
        refuseInCallback(what);
        enter(what);
        try {
            testHook(testInGateBeforeLock);
            JobPool old;
            synchronized (lock) {
                int rc = PadataNative.setMaxInflight(pinst, limit);
                if (rc == -Errno.EBUSY)
                    throw new IllegalStateException(what + ": the instance is started; stop() it first");
                if (rc == -Errno.ENOMEM)
                    throw new OutOfMemoryError(what + ": out of native memory");
                check(what, rc);
                old = pool;
                if (old.capacity == limit)
                    return;
                newPool(limit);
                // A submitter that read the old pool before the swap fails natively (the instance
                // is stopped, and start() waits for this lock); once they are all gone nobody
                // can take an old slot again.
                drain(SUBMIT_GATE);
            }
            retireIfIdle(old);
        } finally {
            exit();
        }
    }

    /**
     * Unregisters and frees a replaced pool once none of its jobs is in flight. Jobs still in
     * flight (possible after a stop() from a worker, which cannot wait) keep it until close().
     */
    private void retireIfIdle(JobPool old) {
        if (!old.isIdle())
            return;
        synchronized (lock) {
            if (!pools.remove(old))
                return;
        }
        Dispatcher.unregister(old.owner);
        old.close();
    }

    /**
     * The current in-flight limit.
     *
     * @return jobs accepted and not yet through {@code serial()} at which submissions get busy
     */
    public int maxInflight() {
        enter("maxInflight()");
        try {
            return PadataNative.getMaxInflight(pinst);
        } finally {
            exit();
        }
    }

    /**
     * Replaces the failure handler (see {@link FailureHandler}); null restores the logging default.
     *
     * @param handler the new handler, or null
     */
    public void setFailureHandler(FailureHandler handler) {
        failureHandler = handler == null ? LOG : handler;
    }

    /**
     * The workqueue the instance runs on.
     *
     * @return the workqueue given to {@link #alloc}
     */
    public Workqueue workqueue() {
        return wq;
    }

    void deliverFailure(PadataJob job, PadataJob.Stage stage, Throwable failure) {
        try {
            failureHandler.failed(job, stage, failure);
        } catch (Throwable t) {
            try {
                System.err.println("padata: the failure handler threw " + t + " while handling " + failure);
            } catch (Throwable ignored) {
                // Nothing left to report with.
            }
        }
    }

    ClassLoader contextClassLoader() {
        return contextLoader;
    }

    /** Test hook ({@code padata_test_set_seq}): the next accepted job takes sequence number {@code seq}. */
    void testSetSeq(int seq) {
        enter("testSetSeq()");
        try {
            int rc = PadataNative.testSetSeq(pinst, seq);
            if (rc == -Errno.EBUSY)
                throw new IllegalStateException("testSetSeq(" + Integer.toUnsignedString(seq) + "): stop() first");
            check("testSetSeq", rc);
        } finally {
            exit();
        }
    }

    JobPool poolForTest() {
        return pool;
    }

    /** Pools this instance keeps registered (for tests). */
    int poolCountForTest() {
        synchronized (lock) {
            return pools.size();
        }
    }

    /** Stale upcalls counted by this instance's pools (see {@link JobPool#staleUpcalls()}). */
    long staleUpcallsForTest() {
        synchronized (lock) {
            long n = 0;
            for (JobPool p : pools)
                n += p.staleUpcalls();
            return n;
        }
    }

    @Override
    public String toString() {
        return "Padata[" + wq.name() + (isClosed() ? ", closed]" : started ? ", started]" : ", stopped]");
    }
}
