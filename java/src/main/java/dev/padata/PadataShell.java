/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * An order domain of a {@link Padata} instance ({@code struct padata_shell}), from
 * {@link Padata#allocShell()}: jobs submitted here keep submission order among themselves (per
 * callback CPU, as the instance's own jobs do) and never wait for jobs of another shell or of
 * the instance. Use one shell per independent stream (a key, a partition, a tenant) so a slow
 * job holds back only its own stream.
 *
 * <pre>{@code
 * try (Workqueue wq = Workqueue.create("shell"); Padata padata = Padata.allocPossible(wq)) {
 *     padata.start();
 *     try (PadataShell shell = padata.allocShell()) {
 *         shell.doParallel(PadataJob.of(() -> { }, () -> { }), CpuMask.active().first());
 *     }                                  // close() waits for the shell's jobs
 * }
 * }</pre>
 *
 * <p>Start/stop, cpumasks, hotplug and the in-flight limit are the instance's and apply to
 * every shell; the limit ({@link Padata#setMaxInflight}) counts each shell's jobs apart. A job
 * that computes for long in {@code parallel()} still occupies its CPU's worker for everyone;
 * one that waits should return from {@code parallel()} and call {@code doSerial()} later.
 */
public final class PadataShell implements AutoCloseable {
    private static final int CLOSED = 0x8000_0000;

    private final Padata padata;
    private final MemorySegment ps;
    /** CLOSED bit plus the submitters inside {@link #doParallel}. */
    private final AtomicInteger gate = new AtomicInteger();
    private final Object lock = new Object();
    private final List<JobPool> pools = new ArrayList<>(); // every pool this shell used; guarded by lock
    private boolean poolsClosed;                           // guarded by lock
    private volatile JobPool pool;

    PadataShell(Padata padata, MemorySegment ps) {
        this.padata = padata;
        this.ps = ps;
    }

    MemorySegment handle() {
        return ps;
    }

    /**
     * The job nodes for the next submission, sized for the instance's current in-flight limit
     * (a {@link Padata#setMaxInflight} while stopped makes the next submission size a new pool;
     * the old one stays registered until close, for jobs still in flight in it).
     */
    JobPool pool() {
        JobPool p = pool;
        int want = padata.shellPoolCapacity();
        if (p != null && p.capacity == want)
            return p;
        synchronized (lock) {
            p = pool;
            if (p == null || p.capacity != padata.shellPoolCapacity()) {
                if (poolsClosed)
                    throw new IllegalStateException("doParallel() on a closed padata instance");
                p = padata.newShellPool();
                pools.add(p);
                pool = p;
            }
            return p;
        }
    }

    /**
     * Submits {@code job} into this shell ({@code padata_do_parallel_shell}); its serial() runs on
     * {@code cbCpu} after serial() of every earlier job of this shell for that CPU. Never blocks.
     *
     * @param job the job; not in flight
     * @param cbCpu the CPU that runs its serial(), in the usable serial mask
     * @throws IllegalStateException    when this shell or its instance is closed, the instance is
     *                                  not started or invalid, or the job is still in flight
     * @throws IllegalArgumentException when {@code cbCpu} is not in the usable serial mask
     * @throws PadataBusyException      when this shell's in-flight limit is reached or a cpumask
     *                                  change is in progress: the job was not queued, retry later
     */
    public void doParallel(PadataJob job, int cbCpu) {
        for (;;) {
            int g = gate.get();
            if ((g & CLOSED) != 0)
                throw new IllegalStateException("doParallel() on a closed padata shell");
            if (gate.compareAndSet(g, g + 1))
                break;
        }
        try {
            padata.doParallelShell(this, job, cbCpu);
        } finally {
            gate.decrementAndGet();
        }
    }

    /**
     * Submits {@code job} into this shell, sleeping while the shell is busy (its in-flight limit
     * reached, or a cpumask change in progress) instead of throwing {@link PadataBusyException}
     * ({@code padata_do_parallel_shell_wait}: a futex in libpadata, no CPU spent; waiters of a
     * shell are admitted in the order they came, and room in another shell does not wake them).
     *
     * @param job the job; not in flight
     * @param cbCpu the CPU that runs its serial(), in the usable serial mask
     * @param maxWait how long to wait at most; zero or negative tries once
     * @return true when the job was queued; false when {@code maxWait} passed first (the job was
     *         not queued)
     * @throws InterruptedException     when interrupted while waiting (seen within about 10 ms);
     *                                  the job was not queued
     * @throws NullPointerException     when {@code job} or {@code maxWait} is null
     * @throws IllegalStateException    when this shell or its instance is closed (also while
     *                                  waiting), the instance is not started or invalid (also when
     *                                  it is stopped while waiting), the job is still in flight,
     *                                  or when called on a worker of the instance's workqueue or
     *                                  in a cpumask notifier, where waiting could wait for itself
     * @throws IllegalArgumentException when {@code cbCpu} is not (or no longer) in the usable
     *                                  serial mask
     */
    public boolean doParallel(PadataJob job, int cbCpu, Duration maxWait) throws InterruptedException {
        for (;;) {
            int g = gate.get();
            if ((g & CLOSED) != 0)
                throw new IllegalStateException("doParallel() on a closed padata shell");
            if (gate.compareAndSet(g, g + 1))
                break;
        }
        try {
            return padata.doParallelShell(this, job, cbCpu, maxWait);
        } finally {
            gate.decrementAndGet();
        }
    }

    /**
     * Submits {@code job} into this shell as {@link #doParallel(PadataJob, int, Duration)} does,
     * sleeping while the shell is busy as long as it takes. Returns once the job is queued.
     *
     * @param job the job; not in flight
     * @param cbCpu the CPU that runs its serial(), in the usable serial mask
     * @throws InterruptedException     when interrupted while waiting (seen within about 10 ms);
     *                                  the job was not queued
     * @throws NullPointerException     when {@code job} is null
     * @throws IllegalStateException    as for {@link #doParallel(PadataJob, int, Duration)}: this
     *                                  shell or its instance closed (also while waiting), the
     *                                  instance not started or invalid, the job in flight, or a
     *                                  worker of the instance's workqueue or a cpumask notifier
     *                                  calling, where waiting could wait for itself
     * @throws IllegalArgumentException when {@code cbCpu} is not (or no longer) in the usable
     *                                  serial mask
     */
    public void doParallelWaiting(PadataJob job, int cbCpu) throws InterruptedException {
        if (!doParallel(job, cbCpu, Padata.FOREVER))
            throw new AssertionError("doParallel(job, cbCpu, FOREVER) gave up"); // after 146 years
    }

    /**
     * Refuses new jobs, waits until every job of this shell has returned from serial(), and
     * frees the shell ({@code padata_free_shell}). Jobs of other shells go on meanwhile. A second
     * call does nothing; after the instance's close() it only marks the shell closed.
     *
     * @throws IllegalStateException on a worker thread of any padata workqueue or inside a cpumask
     *                               notifier, where it could wait for itself
     */
    @Override
    public void close() {
        if (Dispatcher.inPadataContext())
            throw new IllegalStateException("PadataShell.close() called on " + Thread.currentThread().getName()
                    + ", a padata worker or a cpumask notifier: it could wait for itself;"
                    + " close the shell from another thread");
        if ((gate.getAndUpdate(g -> g | CLOSED) & CLOSED) != 0)
            return;
        for (int spins = 0; (gate.get() & ~CLOSED) != 0; spins++) {
            if (spins < 100)
                Thread.onSpinWait();
            else
                LockSupport.parkNanos(20_000);
        }
        if (padata.freeShell(this))
            instanceFreed();
    }

    /** The native shell is gone (freed by close() or by the instance's padata_free): free the pools. */
    void instanceFreed() {
        synchronized (lock) {
            if (poolsClosed)
                return;
            poolsClosed = true;
            for (JobPool p : pools) {
                Dispatcher.unregister(p.owner);
                p.close();
            }
            pools.clear();
            pool = null;
        }
    }

    /**
     * True once {@link #close()} began (not after the instance's close() alone).
     *
     * @return whether this shell was closed
     */
    public boolean isClosed() {
        return (gate.get() & CLOSED) != 0;
    }

    /**
     * The instance this shell belongs to.
     *
     * @return the instance that allocated it
     */
    public Padata padata() {
        return padata;
    }

    @Override
    public String toString() {
        return "PadataShell[" + padata + (isClosed() ? ", closed]" : "]");
    }
}
