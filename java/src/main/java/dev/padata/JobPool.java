/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;
import dev.padata.internal.Upcalls;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The native nodes of one padata instance's Java jobs, and the slot table that maps a node
 * back to its job.
 *
 * <p>Node {@code i} (a padata_priv plus trailing words, see {@link PadataNative#JOB_NODE}) is
 * slot {@code i}. A submission takes a free slot, binds the job to it and writes the tag
 * {@code generation << 32 | slot} into the node; the serial trampoline checks that the tag's
 * generation is still the slot's before it touches the job, then retires the slot (the
 * generation moves on) and frees it. A stale or repeated native pointer therefore never
 * reaches a job that is not its own.
 *
 * <p>The free list is a Treiber stack of slot indices whose head carries a 32-bit ABA stamp.
 * Nothing here allocates after construction. Slots in use never exceed the native in-flight
 * count (a slot is freed when serial() begins, the native count drops when it returns), so a
 * pool as large as the instance's limit only runs dry when concurrent submitters race past it.
 *
 * <p>Every pool starts its generations {@code 2^16} past the previous pool's start, so a stale
 * node of a freed pool does not match a live job of a later pool that reuses its owner index
 * (unless one of its slots was reused 65,536 times; 2^16 pools later the starts wrap).
 *
 * <p>The nodes live in the pool's own arena, freed by {@link #close()} when the instance is
 * freed or when setMaxInflight() replaces the pool and none of its jobs is in flight.
 */
final class JobPool {
    private static final VarHandle HEAD;
    private static final VarHandle JOBS = MethodHandles.arrayElementVarHandle(PadataJob[].class);
    private static final VarHandle GENS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final AtomicInteger GENERATION_START = new AtomicInteger();

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(JobPool.class, "head", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final int owner;
    final Padata padata;
    final int capacity;
    private final Arena arena = Arena.ofShared();
    /** Upcalls whose tag did not match a live job of this pool (see {@link Dispatcher}). */
    private final AtomicLong staleUpcalls = new AtomicLong();
    private final MemorySegment[] nodes;
    /** The nodes' addresses as zero-length segments of the global scope: see {@link #handle}. */
    private final MemorySegment[] handles;
    private final PadataJob[] jobs;
    private final int[] gens;
    private final int[] next;
    @SuppressWarnings("unused") // through HEAD
    private volatile long head;   // stamp << 32 | (slot + 1); low half 0 = empty

    JobPool(int owner, Padata padata, int capacity) {
        this.owner = owner;
        this.padata = padata;
        this.capacity = capacity;
        MemorySegment block = arena.allocate(PadataNative.JOB_NODE_STRIDE * capacity, PadataNative.JOB_NODE_STRIDE);
        nodes = new MemorySegment[capacity];
        handles = new MemorySegment[capacity];
        jobs = new PadataJob[capacity];
        gens = new int[capacity];
        next = new int[capacity];
        // Published with the pool (Dispatcher's volatile table, Padata's volatile pool field).
        java.util.Arrays.fill(gens, GENERATION_START.getAndAdd(1 << 16));
        for (int i = 0; i < capacity; i++) {
            nodes[i] = block.asSlice(i * PadataNative.JOB_NODE_STRIDE, PadataNative.JOB_NODE.byteSize());
            PadataNative.initJobNode(nodes[i], owner, Upcalls.PARALLEL_STUB, Upcalls.SERIAL_STUB);
            handles[i] = MemorySegment.ofAddress(nodes[i].address());
            next[i] = i + 2 < capacity + 1 ? i + 2 : 0; // slot+1 links; 0 ends the list
        }
        next[capacity - 1] = 0;
        head = 1; // slot 0, stamp 0
    }

    /**
     * The node of {@code slot} for {@code padata_do_serial}: its address only, in the global scope.
     * A downcall with an arena's segment keeps that arena acquired until the call returns, so a
     * foreign thread still in the last instructions of padata_do_serial (after libpadata let go
     * of the job, so padata_free has returned) made {@link #close()} fail with "Session is
     * acquired"; libpadata's own contract (padata_free waits for every releaser) is what keeps
     * the memory alive, and it holds. Also spares each doSerial an acquire and release of the
     * shared arena's counter, a line every completing thread would write.
     */
    MemorySegment handle(int slot) {
        return handles[slot];
    }

    /** A free slot, or -1 when none. Any thread. */
    int acquire() {
        for (;;) {
            long h = head;
            int top = (int) h;
            if (top == 0)
                return -1;
            int slot = top - 1;
            long nh = ((h >>> 32) + 1) << 32 | (next[slot] & 0xffffffffL);
            if (HEAD.compareAndSet(this, h, nh))
                return slot;
        }
    }

    /** Puts a retired slot back. Any thread. */
    void release(int slot) {
        for (;;) {
            long h = head;
            next[slot] = (int) h;
            long nh = ((h >>> 32) + 1) << 32 | (slot + 1);
            if (HEAD.compareAndSet(this, h, nh))
                return;
        }
    }

    /** Binds {@code job} to {@code slot} and tags the node; returns the node to submit. */
    MemorySegment bind(int slot, PadataJob job) {
        int gen = (int) GENS.getAcquire(gens, slot);
        JOBS.setRelease(jobs, slot, job);
        MemorySegment node = nodes[slot];
        PadataNative.setJobTag(node, (long) gen << 32 | slot);
        return node;
    }

    /** The job behind a tag, or null when the tag is stale (wrong generation or a free slot). */
    PadataJob lookup(long tag) {
        int slot = (int) tag;
        if (slot < 0 || slot >= capacity)
            return null;
        if ((int) GENS.getAcquire(gens, slot) != (int) (tag >>> 32))
            return null;
        return (PadataJob) JOBS.getAcquire(jobs, slot);
    }

    /** Ends the slot's current generation and frees it. */
    void retire(int slot) {
        JOBS.setRelease(jobs, slot, null);
        GENS.setRelease(gens, slot, (int) GENS.getAcquire(gens, slot) + 1);
        release(slot);
    }

    /** Slots currently free (a snapshot, for tests). */
    int freeCount() {
        int n = 0;
        for (int top = (int) head; top != 0 && n <= capacity; top = next[top - 1])
            n++;
        return n;
    }

    /**
     * True when every slot is free, checked against concurrent releases: the head (its stamp
     * moves on every push and pop) is the same before and after the walk. Only meaningful once
     * nobody can acquire a slot any more.
     */
    boolean isIdle() {
        for (;;) {
            long h = (long) HEAD.getVolatile(this);
            int n = 0;
            for (int top = (int) h; top != 0 && n <= capacity; top = next[top - 1])
                n++;
            if ((long) HEAD.getVolatile(this) == h)
                return n == capacity;
        }
    }

    void countStale() {
        staleUpcalls.incrementAndGet();
    }

    long staleUpcalls() {
        return staleUpcalls.get();
    }

    /** False once {@link #close()} freed the nodes (for tests). */
    boolean isOpen() {
        return arena.scope().isAlive();
    }

    /** Frees the nodes; only once no node of this pool can be in libpadata's hands. */
    void close() {
        arena.close();
    }
}
