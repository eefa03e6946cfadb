/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One job: the Java counterpart of {@code struct padata_priv}. Subclass it (the kernel's
 * embedding pattern: the job's own fields carry its data), or build one from lambdas with
 * {@link #of(Runnable, Runnable)} and {@link #async(Consumer, Runnable)}.
 *
 * <p>Life of a submission:
 * <ol>
 *   <li>{@link Padata#doParallel(PadataJob, int)} accepts the job;</li>
 *   <li>{@link #parallel()} runs once, on a padata worker thread of a CPU of the usable parallel
 *       mask, many jobs at once. It (or whatever finishes the job later, from any thread) calls
 *       {@link #doSerial()} exactly once;</li>
 *   <li>{@link #serial()} runs once, on the worker of the job's {@code cb_cpu}, in submission
 *       order among the jobs with that {@code cb_cpu}. From the start of serial() the job is
 *       idle again: serial() may submit it anew.</li>
 * </ol>
 *
 * <p>What happens if a callback throws: nothing is lost and the order holds. If parallel()
 * throws before calling doSerial(), the binding calls doSerial() for it; the exception reaches
 * the instance's {@link Padata.FailureHandler} on the serial worker, in order, immediately
 * before this job's serial(). If serial() throws, the handler sees the exception right after,
 * before the next job's serial() on that CPU. (If parallel() throws after it called
 * doSerial(), the job may already be running serial() or be resubmitted, so the handler is
 * called at once, out of order.)
 *
 * <p>A job is not thread-safe for concurrent submissions: one submission at a time, which
 * {@link Padata#doParallel} enforces.
 */
public abstract class PadataJob {
    /** Where a callback failure happened, as reported to {@link Padata.FailureHandler}. */
    public enum Stage {
        /** The job's parallel() threw. */
        PARALLEL,
        /** The job's serial() threw. */
        SERIAL,
        /** A {@link CpumaskListener} threw (there is no job). */
        NOTIFIER
    }

    static final int IDLE = 0;
    static final int SUBMITTING = 1;
    static final int IN_FLIGHT = 2;
    static final int SERIALIZING = 3;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(PadataJob.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Test hook: runs first in {@link #doSerial()}, before the job is claimed for serialization. */
    static volatile Runnable testBeforeClaim;

    @SuppressWarnings("unused") // through STATE
    private volatile int state;
    /**
     * The native node of the current submission, as an address outside any arena (see
     * {@link JobPool#handle}); written before state becomes IN_FLIGHT (release), read only after
     * a CAS out of IN_FLIGHT (acquire).
     */
    MemorySegment node;
    /** The exception parallel() threw in the current submission; read by the serial trampoline. */
    Throwable parallelFailure;

    /** For subclasses. */
    protected PadataJob() {
    }

    /**
     * Runs on a parallel worker thread. Must lead to exactly one {@link #doSerial()} call, now or
     * later from any thread. Must not wait for another job of the same instance.
     */
    protected abstract void parallel();

    /** Runs on the worker of the job's {@code cb_cpu}, in submission order among jobs with that cb_cpu. */
    protected abstract void serial();

    /**
     * Hands the finished job to the reorder stage ({@code padata_do_serial}). Callable from any
     * thread, exactly once per submission.
     *
     * @throws IllegalStateException when the job is not in flight, or doSerial() was already
     *                               called for this submission (the second call never reaches
     *                               libpadata)
     */
    public final void doSerial() {
        Runnable hook = testBeforeClaim;
        if (hook != null)
            hook.run();
        // The CAS (acquire) pairs with setInFlight's release: only after it is node this
        // submission's node. Read before it, node may belong to the previous submission, whose
        // slot another job may hold in flight by now.
        int s = (int) STATE.compareAndExchange(this, IN_FLIGHT, SERIALIZING);
        if (s != IN_FLIGHT)
            throw new IllegalStateException(switch (s) {
                case SERIALIZING -> "doSerial() called twice for the same submission of " + this;
                case SUBMITTING -> "doSerial() on " + this + " before doParallel() queued it";
                default -> "doSerial() on " + this + ", which is not in flight (never submitted, or its serial() already began)";
            });
        PadataNative.doSerial(node);
    }

    /**
     * True from an accepted {@link Padata#doParallel} until its serial() begins.
     *
     * @return whether the job is in flight
     */
    public final boolean isInFlight() {
        return state != IDLE;
    }

    /** Claims the job for a submission; false when it is not idle. */
    final boolean claim() {
        return STATE.compareAndSet(this, IDLE, SUBMITTING);
    }

    final void setInFlight() {
        STATE.setRelease(this, IN_FLIGHT);
    }

    final void setIdle() {
        STATE.setRelease(this, IDLE);
    }

    /** Back from in flight to claimed: a batch submission libpadata did not take (the caller retries). */
    final void setClaimed() {
        STATE.setRelease(this, SUBMITTING);
    }

    /** Called by the binding when parallel() threw: true when it serialized the job on its behalf. */
    final boolean serializeAfterFailure(Throwable failure) {
        if (!STATE.compareAndSet(this, IN_FLIGHT, SERIALIZING)) // acquire: pairs with setInFlight
            return false;
        parallelFailure = failure;
        PadataNative.doSerial(node);
        return true;
    }

    final int stateForTest() {
        return state;
    }

    /**
     * A job that runs {@code parallel} on a parallel worker, then calls {@link #doSerial()} by
     * itself, then {@code serial} in order. Reusable: submit it again once serial began.
     *
     * @param parallel runs on a parallel worker
     * @param serial runs afterwards, in submission order
     * @return a new job
     */
    public static PadataJob of(Runnable parallel, Runnable serial) {
        Objects.requireNonNull(parallel, "parallel");
        Objects.requireNonNull(serial, "serial");
        return new PadataJob() {
            @Override
            protected void parallel() {
                parallel.run();
                doSerial();
            }

            @Override
            protected void serial() {
                serial.run();
            }

            @Override
            public String toString() {
                return "PadataJob.of(" + parallel + ", " + serial + ")";
            }
        };
    }

    /**
     * A job whose {@code parallel} receives the job and finishes it asynchronously: it (or a
     * thread it hands the job to) must call {@link #doSerial()} exactly once.
     *
     * @param parallel runs on a parallel worker with the job; must call {@link #doSerial()} once, now or later
     * @param serial runs after doSerial(), in submission order
     * @return a new job
     */
    public static PadataJob async(Consumer<? super PadataJob> parallel, Runnable serial) {
        Objects.requireNonNull(parallel, "parallel");
        Objects.requireNonNull(serial, "serial");
        return new PadataJob() {
            @Override
            protected void parallel() {
                parallel.accept(this);
            }

            @Override
            protected void serial() {
                serial.run();
            }

            @Override
            public String toString() {
                return "PadataJob.async(" + parallel + ", " + serial + ")";
            }
        };
    }
}
