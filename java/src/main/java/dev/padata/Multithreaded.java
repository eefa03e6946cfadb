/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;
import dev.padata.internal.RangeUpcall;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.CompletionException;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

/**
 * {@link Padata#doMultithreaded} over {@code padata_do_multithreaded}: one native job per call,
 * whose {@code fn_arg} names a slot of {@link #slots} (index in the low 32 bits, the call's
 * generation in the high 32), and one upcall per chunk through {@link RangeUpcall#STUB}.
 *
 * <p>A chunk's upcall looks the call up by index, checks the generation and runs the task;
 * it allocates nothing. Failures are collected on the call (the first is thrown, the later
 * ones are suppressed into it) and rethrown by the calling thread once the native call has
 * returned, that is once every chunk has finished.
 */
final class Multithreaded implements RangeUpcall.Target {
    private static final Multithreaded INSTANCE = new Multithreaded();

    static {
        RangeUpcall.install(INSTANCE);
    }

    /** One running {@code doMultithreaded} call. */
    private static final class Call {
        final Padata padata;
        final RangeTask task;
        final int generation;
        /** First failure, with the later ones suppressed into it; guarded by this. */
        Throwable failure;

        Call(Padata padata, RangeTask task, int generation) {
            this.padata = padata;
            this.task = task;
            this.generation = generation;
        }

        synchronized void fail(Throwable t) {
            if (failure == null)
                failure = t;
            else if (failure != t)
                failure.addSuppressed(t);
        }
    }

    private static final Object LOCK = new Object();
    /**
     * Running calls by slot; grown and written under LOCK, read by upcalls without locking. A
     * slot is written before the native call that passes its index, and the native side hands
     * the index to helper threads through queue_work_on (release/acquire).
     */
    private static volatile Call[] slots = new Call[8];
    private static int nextGeneration; // guarded by LOCK
    /** Depth of doMultithreaded calls on this thread, for {@link #onCallingThread()}. */
    private static final ThreadLocal<int[]> CALLING = ThreadLocal.withInitial(() -> new int[1]);

    private static final long THREAD_FN = PadataNative.PADATA_MT_JOB.byteOffset(groupElement("thread_fn"));
    private static final long FN_ARG = PadataNative.PADATA_MT_JOB.byteOffset(groupElement("fn_arg"));
    private static final long START = PadataNative.PADATA_MT_JOB.byteOffset(groupElement("start"));
    private static final long SIZE = PadataNative.PADATA_MT_JOB.byteOffset(groupElement("size"));
    private static final long ALIGN = PadataNative.PADATA_MT_JOB.byteOffset(groupElement("align"));
    private static final long MIN_CHUNK = PadataNative.PADATA_MT_JOB.byteOffset(groupElement("min_chunk"));
    private static final long MAX_THREADS = PadataNative.PADATA_MT_JOB.byteOffset(groupElement("max_threads"));

    private Multithreaded() {
    }

    /**
     * True while the calling thread is inside {@code doMultithreaded}: it then runs only chunks,
     * and whatever would wait for the call (close()) would wait for itself.
     */
    static boolean onCallingThread() {
        return CALLING.get()[0] > 0;
    }

    /**
     * Runs the native job; arguments already checked by the caller.
     *
     * @return what {@code padata_do_multithreaded} returned; a chunk's failure is thrown instead
     *         when the call returned 0
     */
    static int run(Padata padata, MemorySegment pinst, long start, long size, long minChunk, int maxThreads,
                   RangeTask task) {
        int slot;
        Call call;
        synchronized (LOCK) {
            Call[] s = slots;
            slot = Arrays.asList(s).indexOf(null);
            if (slot < 0) {
                slot = s.length;
                s = Arrays.copyOf(s, s.length * 2);
            } else {
                s = s.clone();
            }
            call = new Call(padata, task, nextGeneration++);
            s[slot] = call;
            slots = s;
        }
        int[] depth = CALLING.get();
        int rc;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment job = arena.allocate(PadataNative.PADATA_MT_JOB);
            job.set(ValueLayout.ADDRESS, THREAD_FN, RangeUpcall.STUB);
            job.set(ValueLayout.ADDRESS, FN_ARG,
                    MemorySegment.ofAddress(((long) call.generation << 32) | (slot & 0xffffffffL)));
            job.set(PadataNative.C_LONG, START, start);
            job.set(PadataNative.C_LONG, SIZE, size);
            job.set(PadataNative.C_LONG, ALIGN, 1L);
            job.set(PadataNative.C_LONG, MIN_CHUNK, minChunk);
            job.set(ValueLayout.JAVA_INT, MAX_THREADS, maxThreads);
            depth[0]++;
            try {
                rc = PadataNative.doMultithreaded(pinst, job);
            } finally {
                depth[0]--;
            }
        } finally {
            synchronized (LOCK) {
                Call[] s = slots.clone();
                s[slot] = null;
                slots = s;
            }
        }
        Throwable failure;
        synchronized (call) {
            failure = call.failure;
        }
        if (failure != null) {
            if (failure instanceof RuntimeException r)
                throw r;
            if (failure instanceof Error e)
                throw e;
            throw new CompletionException(failure); // a checked exception thrown sneakily
        }
        return rc;
    }

    @Override
    public void chunk(long start, long end, long arg) {
        Call[] s = slots;
        int slot = (int) arg;
        Call call = slot >= 0 && slot < s.length ? s[slot] : null;
        if (call == null || call.generation != (int) (arg >>> 32)) {
            Dispatcher.ORPHAN_UPCALLS.incrementAndGet();
            System.err.println("padata: a multithreaded job's chunk [" + start + ", " + end
                    + ") names no running call (slot " + slot + "); skipped");
            return;
        }
        if (!onCallingThread())
            Dispatcher.attachWorker(call.padata);
        try {
            call.task.run(start, end);
        } catch (Throwable t) {
            call.fail(t);
        }
    }
}
