/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;
import dev.padata.internal.Upcalls;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where upcalls land: finds the Java job behind a native node (pool table, then the pool's
 * slot table with its generation check), gives a native worker thread its Java identity on
 * its first upcall, and runs the user's callbacks with every exception caught and routed to
 * the owning instance's failure handler in order.
 */
final class Dispatcher implements Upcalls.JobTarget, Upcalls.NotifierTarget {
    private static final Dispatcher INSTANCE = new Dispatcher();

    /** Pools by owner index; copy-on-write under POOLS_LOCK, read without locking. */
    private static volatile JobPool[] pools = new JobPool[8];
    private static final Object POOLS_LOCK = new Object();
    private static final ConcurrentHashMap<Long, Padata.Registration> NOTIFIERS = new ConcurrentHashMap<>();
    private static final AtomicLong NEXT_REGISTRATION = new AtomicLong(1);
    /**
     * Upcalls whose owner index named no pool at all; reported. Those naming a live pool are
     * counted by that pool, so tests of one instance see only their own.
     */
    static final AtomicLong ORPHAN_UPCALLS = new AtomicLong();

    /** Test hook: runs first in {@link #attach}, where a thread's first upcall may fail. */
    static volatile Runnable testOnAttach;

    /** Per native worker thread: its queue, its CPU, and the instance whose callback it runs. */
    static final class WorkerState {
        final Workqueue workqueue;
        final int cpu;
        Padata running;

        WorkerState(Workqueue workqueue, int cpu) {
            this.workqueue = workqueue;
            this.cpu = cpu;
        }
    }

    private static final ThreadLocal<WorkerState> WORKER = new ThreadLocal<>();

    static {
        Upcalls.install(INSTANCE, INSTANCE);
    }

    private Dispatcher() {
    }

    static int register(java.util.function.IntFunction<JobPool> factory) {
        synchronized (POOLS_LOCK) {
            JobPool[] p = pools;
            int owner = -1;
            for (int i = 0; i < p.length; i++)
                if (p[i] == null) {
                    owner = i;
                    break;
                }
            if (owner < 0) {
                owner = p.length;
                p = Arrays.copyOf(p, p.length * 2);
            } else {
                p = p.clone();
            }
            p[owner] = factory.apply(owner);
            pools = p;
            return owner;
        }
    }

    static void unregister(int owner) {
        synchronized (POOLS_LOCK) {
            JobPool[] p = pools.clone();
            p[owner] = null;
            pools = p;
        }
    }

    /** Depth of cpumask notifier upcalls on this thread (notifiers are rare: not a hot path). */
    private static final ThreadLocal<int[]> NOTIFYING = ThreadLocal.withInitial(() -> new int[1]);

    /**
     * True when the calling thread is a worker of any padata workqueue, is running a cpumask
     * notifier or is inside {@link Padata#doMultithreaded} (running its chunks): where libpadata
     * refuses padata_alloc (EDEADLK) and ignores padata_free, since either could wait for the
     * thread itself.
     */
    static boolean inPadataContext() {
        return PadataNative.currentCpu() >= 0 || NOTIFYING.get()[0] > 0 || Multithreaded.onCallingThread();
    }

    /** Gives a native worker its Java identity before a multithreaded job's chunk runs on it. */
    static void attachWorker(Padata padata) {
        if (WORKER.get() == null)
            attach(padata);
    }

    /** True when the calling thread is a worker of {@code wq} that has called into Java. */
    static boolean onWorkerOf(Workqueue wq) {
        WorkerState w = WORKER.get();
        return w != null && w.workqueue == wq;
    }

    /** True when the calling thread is running a callback of {@code padata}. */
    static boolean inCallbackOf(Padata padata) {
        WorkerState w = WORKER.get();
        return w != null && w.running == padata;
    }

    private static WorkerState attach(Padata padata) {
        Runnable hook = testOnAttach;
        if (hook != null)
            hook.run();
        int cpu = PadataNative.currentCpu();
        Workqueue wq = padata.workqueue();
        WorkerState w = new WorkerState(wq, cpu);
        Thread t = Thread.currentThread();
        try {
            t.setName("padata-" + wq.name() + "/" + cpu);
            t.setContextClassLoader(padata.contextClassLoader());
        } catch (SecurityException ignored) {
            // Names are cosmetic.
        }
        WORKER.set(w);
        return w;
    }

    static JobPool pool(int owner) {
        JobPool[] p = pools;
        return owner >= 0 && owner < p.length ? p[owner] : null;
    }

    private static void stale(String where, JobPool pool, int owner, long tag) {
        if (pool != null)
            pool.countStale();
        else
            ORPHAN_UPCALLS.incrementAndGet();
        System.err.println("padata: ignored a " + where + " upcall for a stale job node (pool " + owner
                + ", slot " + (int) tag + ", generation " + (int) (tag >>> 32) + ")");
    }

    @Override
    public void parallel(long node, int owner, long tag) {
        parallelOne(node, owner, tag, WORKER.get());
    }

    @Override
    public void serial(long node, int owner, long tag) {
        JobPool pool = serialOne(node, owner, tag, WORKER.get());
        if (pool != null)
            pool.room.jobsLeft(1); // wakes submitters waiting for room, once per batch of them
    }

    /**
     * A run of jobs' parallel(): one upcall and one ThreadLocal lookup for all of them. Each job
     * after the first is claimed before it starts (while this one runs, an idle worker may take
     * the rest, as it could between per-job upcalls, so a parallel() that blocks holds nothing
     * back); each is handled as {@link #parallel} handles one (its failures caught and routed by
     * itself), and a binding bug in one is reported without skipping the others: each must reach
     * doSerial().
     */
    @Override
    public void parallelBatch(long jobs, int n, long takeable) {
        WorkerState w = WORKER.get();
        for (int i = 0; i < n; i++) {
            long node = PadataNative.batchJobAt(jobs, i);
            if (i > 0) {
                boolean mine;
                try {
                    mine = PadataNative.claimBatchJob(takeable, node);
                } catch (Throwable t) {
                    Upcalls.lastResort("parallel batch claim", t);
                    return; // nothing taken; libpadata runs what is left
                }
                if (!mine)
                    return; // an idle worker took this job and the rest
            }
            try {
                w = parallelOne(node, PadataNative.jobOwnerAt(node), PadataNative.jobTagAt(node), w);
            } catch (Throwable t) {
                Upcalls.lastResort("parallel batch", t);
            }
        }
    }

    /**
     * A run of jobs' serial(), in order: one upcall, one ThreadLocal lookup and one wake-up check
     * of waiting submitters for all of them. Each job as {@link #serial} handles one.
     */
    @Override
    public void serialBatch(long jobs, int n) {
        WorkerState w = WORKER.get();
        JobPool last = null;
        int left = 0;
        for (int i = 0; i < n; i++) {
            try {
                long node = PadataNative.batchJobAt(jobs, i);
                JobPool pool = serialOne(node, PadataNative.jobOwnerAt(node), PadataNative.jobTagAt(node), w);
                if (pool != null) {
                    if (last != null && pool.room != last.room) {
                        last.room.jobsLeft(left);
                        left = 0;
                    }
                    last = pool;
                    left++;
                }
                if (w == null)
                    w = WORKER.get();
            } catch (Throwable t) {
                Upcalls.lastResort("serial batch", t);
            }
        }
        if (last != null)
            last.room.jobsLeft(left);
    }

    /** parallel() of one job; returns the thread's worker state (null when it could not attach). */
    private static WorkerState parallelOne(long node, int owner, long tag, WorkerState known) {
        JobPool pool = pool(owner);
        PadataJob job = pool == null ? null : pool.lookup(node, tag);
        if (job == null) {
            stale("parallel", pool, owner, tag);
            return known;
        }
        WorkerState w = known;
        if (w == null) {
            try {
                w = attach(pool.padata);
            } catch (Throwable t) {
                // The thread could not take its Java identity (an OutOfMemoryError, say). parallel()
                // does not run, but the job still goes through serial() in order, carrying the failure,
                // so the jobs behind it are not held up forever.
                if (!job.serializeAfterFailure(t))
                    pool.padata.deliverFailure(job, PadataJob.Stage.PARALLEL, t);
                return null;
            }
        }
        Padata outer = w.running;
        w.running = pool.padata;
        try {
            job.parallel();
        } catch (Throwable t) {
            if (!job.serializeAfterFailure(t))
                pool.padata.deliverFailure(job, PadataJob.Stage.PARALLEL, t);
        } finally {
            w.running = outer;
        }
        return w;
    }

    /**
     * serial() of one job, minus the wake-up of waiting submitters, which the caller does (per
     * job or per batch); returns the job's pool, or null for a stale node.
     */
    private static JobPool serialOne(long node, int owner, long tag, WorkerState known) {
        JobPool pool = pool(owner);
        PadataJob job = pool == null ? null : pool.lookup(node, tag);
        if (job == null) {
            stale("serial", pool, owner, tag);
            return null;
        }
        Throwable failure = job.parallelFailure;
        if (failure != null)
            job.parallelFailure = null;
        pool.retire((int) tag);
        job.setIdle(); // from here on the job may be submitted again, serial() included
        WorkerState w = known;
        Throwable attachFailure = null;
        if (w == null) {
            try {
                w = attach(pool.padata);
            } catch (Throwable t) {
                // serial() still runs (its owner may count on it, as OrderedPipeline does), without
                // the callback marker; the failure is reported in order, before it.
                w = new WorkerState(null, -1);
                attachFailure = t;
            }
        }
        Padata outer = w.running;
        w.running = pool.padata;
        try {
            if (attachFailure != null)
                pool.padata.deliverFailure(job, PadataJob.Stage.SERIAL, attachFailure);
            if (failure != null)
                pool.padata.deliverFailure(job, PadataJob.Stage.PARALLEL, failure);
            try {
                job.serial();
            } catch (Throwable t) {
                pool.padata.deliverFailure(job, PadataJob.Stage.SERIAL, t);
            }
        } finally {
            w.running = outer;
        }
        return pool;
    }

    static long newRegistration(Padata.Registration r) {
        long id = NEXT_REGISTRATION.getAndIncrement();
        NOTIFIERS.put(id, r);
        return id;
    }

    static void dropRegistration(long id) {
        NOTIFIERS.remove(id);
    }

    @Override
    public int notify(long registration, int action, long[] pcpu, long[] cbcpu) {
        Padata.Registration r = NOTIFIERS.get(registration);
        if (r == null)
            return 0; // NOTIFY_DONE: unregistered while the chain ran
        Set<CpuMaskType> changed = EnumSet.noneOf(CpuMaskType.class);
        for (CpuMaskType t : CpuMaskType.values())
            if ((action & t.bit) != 0)
                changed.add(t);
        int[] depth = NOTIFYING.get();
        depth[0]++;
        try {
            r.listener().cpumaskChanged(changed, CpuMask.ofWords(pcpu), CpuMask.ofWords(cbcpu));
        } catch (Throwable t) {
            r.padata().deliverFailure(null, PadataJob.Stage.NOTIFIER, t);
        } finally {
            depth[0]--;
        }
        return 1; // NOTIFY_OK
    }
}
