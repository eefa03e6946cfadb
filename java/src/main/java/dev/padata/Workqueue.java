/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A libpadata workqueue: one native worker thread per CPU ({@link Cpus#count()} of them),
 * pinned, named {@code <name>/<cpu>}, parked when idle. Padata instances run their jobs on it;
 * when a worker first calls into Java it takes the Java name {@code padata-<name>/<cpu>}.
 *
 * <p>{@link #close()} runs what is still queued, stops and joins the workers. It is refused
 * while a {@link Padata} instance still uses the queue. Workqueues left open are closed by a
 * shutdown hook while the JVM is still alive, after the padata instances. The queue never locks
 * its own monitor, so user code may synchronize on it freely.
 */
public final class Workqueue implements AutoCloseable {
    /**
     * Test hook: runs in flush() after the open check, before the native flush, to widen the
     * window in which close() runs against a flush.
     */
    static volatile Runnable testBeforeNativeFlush;

    private final String name;
    private final MemorySegment wq;
    /** Guards the fields below; private, so user code synchronizing on a Workqueue blocks nothing. */
    private final Object lock = new Object();
    private int users;          // open Padata instances on this queue; guarded by lock
    private int flushing;       // threads inside flush()'s native call; guarded by lock
    private boolean closed;     // guarded by lock

    private Workqueue(String name, MemorySegment wq) {
        this.name = name;
        this.wq = wq;
    }

    /**
     * Creates a workqueue and starts its workers ({@code create_workqueue}).
     *
     * @param name names the worker threads (the native name is cut to 15 bytes)
     * @return the new workqueue, open until {@link #close()}
     * @throws IllegalArgumentException when the name is empty or holds a NUL character
     * @throws IllegalStateException    when the threads cannot be created, or when called from
     *                                  a padata worker thread
     * @throws OutOfMemoryError         when libpadata runs out of memory
     */
    public static Workqueue create(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.indexOf('\0') >= 0)
            throw new IllegalArgumentException("workqueue name must be non-empty and without NUL: \"" + name + "\"");
        Lifecycle.ensureHook();
        MemorySegment wq;
        int errno;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = PadataNative.captureSegment(arena);
            wq = PadataNative.createWorkqueue(capture, arena.allocateFrom(name));
            errno = PadataNative.capturedErrno(capture);
        }
        if (wq.equals(MemorySegment.NULL)) {
            if (errno == Errno.ENOMEM)
                throw new OutOfMemoryError("create_workqueue(\"" + name + "\"): out of native memory");
            throw new IllegalStateException("create_workqueue(\"" + name + "\") failed: " + Errno.name(errno)
                    + (errno == Errno.EAGAIN ? " (worker threads could not be created)" : ""));
        }
        Workqueue q = new Workqueue(name, wq);
        Lifecycle.opened(q);
        return q;
    }

    /**
     * The name given to {@link #create}.
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Waits until every work item queued before the call has run ({@code flush_workqueue}).
     * A close() that begins meanwhile waits for it.
     *
     * @throws IllegalStateException after {@link #close()} began
     */
    public void flush() {
        synchronized (lock) {
            checkOpen("flush()");
            flushing++;
        }
        try {
            Runnable hook = testBeforeNativeFlush;
            if (hook != null)
                hook.run();
            PadataNative.flushWorkqueue(wq);
        } finally {
            synchronized (lock) {
                if (--flushing == 0)
                    lock.notifyAll();
            }
        }
    }

    MemorySegment handle() {
        return wq;
    }

    void addUser() {
        synchronized (lock) {
            checkOpen("padata allocation");
            users++;
        }
    }

    void removeUser() {
        synchronized (lock) {
            users--;
        }
    }

    private void checkOpen(String what) {
        if (closed)
            throw new IllegalStateException(what + " on closed workqueue \"" + name + "\"");
    }

    /**
     * True once {@link #close()} has run.
     *
     * @return whether the workqueue is closed
     */
    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /**
     * Runs what is still queued, stops and joins the workers, frees the queue; first waits for
     * the flush() calls in progress. A second call does nothing.
     *
     * @throws IllegalStateException when a padata instance still uses the queue, or when called
     *                               from one of its own workers (it would join itself)
     */
    @Override
    public void close() {
        boolean interrupted = false;
        synchronized (lock) {
            if (closed)
                return;
            if (users > 0)
                throw new IllegalStateException("workqueue \"" + name + "\" is still used by " + users
                        + " padata instance(s); close them first");
            if (Dispatcher.onWorkerOf(this))
                throw new IllegalStateException("workqueue \"" + name + "\" cannot be closed from its own worker "
                        + Thread.currentThread().getName() + ": it would join itself");
            closed = true;
            // No new flush() can begin (closed is set); wait (releasing the lock) for those that
            // began, since destroy_workqueue frees what flush_workqueue reads.
            while (flushing > 0) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        PadataNative.destroyWorkqueue(wq);
        Lifecycle.closed(this);
        if (interrupted)
            Thread.currentThread().interrupt();
    }

    @Override
    public String toString() {
        return "Workqueue[" + name + (isClosed() ? ", closed]" : "]");
    }
}
