/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;
import dev.padata.internal.Upcalls;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Benchmark-only access to the binding's per-job steps, for {@code dev.padata.bench.jmh.Breakdown}.
 * It lives in the library's package (the benchmarks run on the class path, where the package is
 * one) and drives the real internals one step at a time on a stopped instance, so no job ever
 * reaches libpadata's queues: each step's Java cost is measured alone, without the cache-line
 * traffic of a running pipeline (that is what {@code OrderedThroughput} shows).
 *
 * <p>Not part of the library; never used outside the benchmarks.
 */
public final class BreakdownProbe implements AutoCloseable {
    private static final MethodHandle PARALLEL_UPCALL;
    private static final MethodHandle SERIAL_UPCALL;
    private static final java.lang.invoke.VarHandle JOB_STATE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.privateLookupIn(Upcalls.class, MethodHandles.lookup());
            MethodType t = MethodType.methodType(void.class, long.class);
            PARALLEL_UPCALL = l.findStatic(Upcalls.class, "parallel", t);
            SERIAL_UPCALL = l.findStatic(Upcalls.class, "serial", t);
            JOB_STATE = MethodHandles.privateLookupIn(PadataJob.class, MethodHandles.lookup())
                    .findVarHandle(PadataJob.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Workqueue wq;
    private final Padata padata;
    private final MemorySegment pinst;
    private final PadataJob job;
    private final PadataJob spare = PadataJob.of(() -> { }, () -> { });
    /** serial() calls, so the JIT cannot drop the callback. */
    public long serials;

    public BreakdownProbe() {
        wq = Workqueue.create("probe");
        padata = Padata.allocPossible(wq);
        try {
            var f = Padata.class.getDeclaredField("pinst");
            f.setAccessible(true);
            pinst = (MemorySegment) f.get(padata);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        job = new PadataJob() {
            @Override
            protected void parallel() {
                // The trampoline's own cost only: no work, and no doSerial() (the node is not queued).
            }

            @Override
            protected void serial() {
                serials++;
            }
        };
    }

    /** The Java half of a submission (claim, slot, bind, in flight), then its undo (retire, idle). */
    public void claimSlotAndUndo() {
        PadataJob job = spare;
        if (!job.claim())
            throw new IllegalStateException("job not idle");
        JobPool p = padata.poolForTest();
        int slot = p.acquire();
        p.bind(slot, job);
        job.node = p.handle(slot);
        job.setInFlight();
        p.retire(slot);
        job.setIdle();
    }

    /** padata_do_parallel on the stopped instance: the downcall plus the core's entry checks (-EINVAL). */
    public int doParallelDowncallStopped() {
        return PadataNative.doParallel(pinst, MemorySegment.NULL, 0);
    }

    /** The cheapest downcall libpadata has (its per-thread CPU): the FFM crossing alone. */
    public int trivialDowncall() {
        return PadataNative.currentCpu();
    }

    /** Binds the job to a slot and leaves it in flight; returns the node's address for the upcalls. */
    public long bindInFlight() {
        if (!job.claim())
            throw new IllegalStateException("job not idle");
        JobPool p = padata.poolForTest();
        int slot = p.acquire();
        p.bind(slot, job);
        job.node = p.handle(slot);
        job.setInFlight();
        return job.node.address();
    }

    /** The parallel upcall's Java side (node decode, lookup, generation check, worker state, callback). */
    public void parallelUpcall(long node) throws Throwable {
        PARALLEL_UPCALL.invokeExact(node);
    }

    /** doSerial() without its downcall: the claim for serialization (IN_FLIGHT to SERIALIZING). */
    public boolean doSerialClaim() {
        return JOB_STATE.compareAndSet(job, PadataJob.IN_FLIGHT, PadataJob.SERIALIZING);
    }

    /** What the upcalls read first: the node's owner and tag. */
    public long decode(long node) {
        return PadataNative.jobOwnerAt(node) + PadataNative.jobTagAt(node);
    }

    /** Back to IN_FLIGHT after {@link #doSerialClaim()}. */
    public void reInFlight() {
        job.setInFlight();
    }

    /** The serial upcall's Java side (lookup, retire, idle, failure routing, callback). */
    public void serialUpcall(long node) throws Throwable {
        SERIAL_UPCALL.invokeExact(node);
    }

    @Override
    public void close() {
        // The upcalls made this thread look like a padata worker; it is not one.
        try {
            var f = Dispatcher.class.getDeclaredField("WORKER");
            f.setAccessible(true);
            ((ThreadLocal<?>) f.get(null)).remove();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        padata.close();
        wq.close();
    }
}
