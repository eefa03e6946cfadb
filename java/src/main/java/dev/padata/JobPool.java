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
 * slot {@code i}; its {@code tag} word is the slot's state: {@code generation << 32 | i} while
 * a job is bound to it, {@code generation << 32 | FREE} while it is free. A submitter takes a
 * free slot with one CAS on that word (to RESERVED, the generation moved on), stores the job in
 * {@code jobs[i]} and publishes the bound tag; the serial trampoline checks that the node it
 * was handed is slot {@code i}'s own node and bound, then frees it with one release store. A
 * stale or copied native pointer therefore never reaches a job that is not its own.
 *
 * <p>Why this shape: the slot's state lives in the node, a line the job's submission and both
 * of its callbacks write anyway, so taking and freeing a slot moves no other line between
 * CPUs. Only submitters write {@code jobs[]} and the cursor (a hint where to look next, racy on
 * purpose: the CAS decides). {@code jobs[i]} keeps the last job bound to slot {@code i} until
 * the slot's next use (at most {@code capacity} jobs stay reachable this way), so the serial
 * worker never writes a line of that array. Nothing here allocates after construction.
 *
 * <p>Slots in use never exceed the native in-flight count (a slot is freed when serial()
 * begins, the native count drops when it returns), so a pool as large as the instance's limit
 * only runs dry when concurrent submitters race past it.
 *
 * <p>Every pool starts its generations {@code 2^16} past the previous pool's start (they only
 * tell stale reports apart now; the node's address decides).
 *
 * <p>The nodes live in the pool's own arena, freed by {@link #close()} when the instance is
 * freed or when setMaxInflight() replaces the pool and none of its jobs is in flight.
 */
final class JobPool {
    private static final VarHandle JOBS = MethodHandles.arrayElementVarHandle(PadataJob[].class);
    private static final AtomicInteger GENERATION_START = new AtomicInteger();
    /** Low half of a free slot's tag. */
    static final int FREE = -1;
    /** Low half of a slot's tag between a submitter's CAS and its bind. */
    static final int RESERVED = -2;

    final int owner;
    final Padata padata;
    /**
     * The instance's {@link Room}, read by every serial upcall: kept here so that a worker never
     * reads the {@link Padata} object per job, whose line the submitters write twice per job
     * (the submit gate).
     */
    final Room room;
    final int capacity;
    private final Arena arena = Arena.ofShared();
    /** Upcalls whose tag did not match a live job of this pool (see {@link Dispatcher}). */
    private final AtomicLong staleUpcalls = new AtomicLong();
    private final MemorySegment[] nodes;
    /** The nodes' addresses as zero-length segments of the global scope: see {@link #handle}. */
    private final MemorySegment[] handles;
    private final long base;
    /**
     * Slot {@code i}'s job is at {@code jobs[i << spread]}: one slot per 64-byte line (16
     * compressed references) where the pool is small enough. Slots are taken in turn, so with
     * 16 slots to a line the submitter's store for the next job and a worker's read of the
     * previous one hit the same line and moved it between CPUs on every job.
     */
    private final int spread;
    private static final int SPREAD = 4;
    /** Above this capacity slots are packed (a 2^20-slot pool would take 64 MiB spread). */
    private static final int SPREAD_MAX_CAPACITY = 1 << 14;
    private final PadataJob[] jobs;
    /**
     * Where the next submitter starts looking, at {@link #CURSOR} in an array of its own so that
     * its line is not the one of this object's fields, which every upcall reads. Written by
     * submitters only, racy on purpose (the CAS on the slot decides).
     */
    private final int[] cursor = new int[32];
    private static final int CURSOR = 16;

    JobPool(int owner, Padata padata, int capacity) {
        this.owner = owner;
        this.padata = padata;
        this.room = padata.room();
        this.capacity = capacity;
        MemorySegment block = arena.allocate(PadataNative.JOB_NODE_STRIDE * capacity, PadataNative.JOB_NODE_STRIDE);
        base = block.address();
        nodes = new MemorySegment[capacity];
        handles = new MemorySegment[capacity];
        spread = capacity <= SPREAD_MAX_CAPACITY ? SPREAD : 0;
        jobs = new PadataJob[capacity << spread];
        long gen = GENERATION_START.getAndAdd(1 << 16);
        for (int i = 0; i < capacity; i++) {
            nodes[i] = block.asSlice(i * PadataNative.JOB_NODE_STRIDE, PadataNative.JOB_NODE.byteSize());
            PadataNative.initJobNode(nodes[i], owner, Upcalls.PARALLEL_STUB, Upcalls.SERIAL_STUB);
            PadataNative.setJobTag(nodes[i], gen << 32 | (FREE & 0xffffffffL));
            handles[i] = MemorySegment.ofAddress(nodes[i].address());
        }
        // Published with the pool (Dispatcher's volatile table, Padata's volatile pool field).
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

    /** A free slot, reserved for the caller, or -1 when none. Any thread; one CAS when the cursor's slot is free. */
    int acquire() {
        int start = cursor[CURSOR];
        if (start >= capacity)
            start = 0;
        int slot = start;
        do {
            long a = address(slot);
            long t = PadataNative.jobTagAcquireAt(a);
            if ((int) t == FREE
                    && PadataNative.casJobTagAt(a, t, ((t >>> 32) + 1) << 32 | (RESERVED & 0xffffffffL))) {
                cursor[CURSOR] = slot + 1;
                return slot;
            }
            if (++slot == capacity)
                slot = 0;
        } while (slot != start);
        return -1;
    }

    /** Binds {@code job} to the reserved {@code slot} and tags the node; returns the node to submit. */
    MemorySegment bind(int slot, PadataJob job) {
        JOBS.setRelease(jobs, slot << spread, job);
        long a = address(slot);
        long t = PadataNative.jobTagAcquireAt(a);
        // Release: the job store above happens before an upcall that reads the bound tag.
        PadataNative.setJobTagReleaseAt(a, (t >>> 32) << 32 | slot);
        return nodes[slot];
    }

    /**
     * The job behind the node at {@code address} carrying {@code tag}, or null when the node is
     * not one of this pool's bound nodes (a free slot, a copy, a stale pointer).
     */
    PadataJob lookup(long address, long tag) {
        int slot = (int) tag;
        if (slot < 0 || slot >= capacity || address != base + slot * PadataNative.JOB_NODE_STRIDE)
            return null;
        return (PadataJob) JOBS.getAcquire(jobs, slot << spread);
    }

    /** The slot whose {@link #handle} is {@code node}. */
    int slotOf(MemorySegment node) {
        return (int) ((node.address() - base) / PadataNative.JOB_NODE_STRIDE);
    }

    /** Frees {@code slot} (one release store into its node). */
    void retire(int slot) {
        long a = address(slot);
        long t = PadataNative.jobTagAcquireAt(a);
        // Release: pairs with the acquire read in acquire(); the job is done with the slot.
        PadataNative.setJobTagReleaseAt(a, (t >>> 32) << 32 | (FREE & 0xffffffffL));
    }

    /**
     * Slot {@code slot}'s node address. The hot paths (acquire, bind, retire) access the tag by
     * address, without the arena segment's bounds and liveness checks: the pool's arena closes
     * only once no submitter is inside the instance's submit gate and no job is in flight.
     */
    private long address(int slot) {
        return base + (long) slot * PadataNative.JOB_NODE_STRIDE;
    }

    /** Where the next acquire() starts looking (for tests). */
    int cursorForTest() {
        return cursor[CURSOR];
    }

    /** Test hook: the next acquire() starts looking at {@code slot}. */
    void testSetCursor(int slot) {
        cursor[CURSOR] = slot;
    }

    /** Slots currently free (a snapshot, for tests). */
    int freeCount() {
        int n = 0;
        for (int i = 0; i < capacity; i++)
            if ((int) PadataNative.jobTagAcquire(nodes[i]) == FREE)
                n++;
        return n;
    }

    /** True when every slot is free. Only meaningful once nobody can acquire a slot any more. */
    boolean isIdle() {
        return freeCount() == capacity;
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
