/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/** Padding before {@link Room}'s fields, so the submit gate's line is never theirs. */
@SuppressWarnings("unused")
abstract class RoomPadBefore {
    long p0, p1, p2, p3, p4, p5, p6, p7;
}

/** The fields of {@link Room}. */
abstract class RoomFields extends RoomPadBefore {
    /** Submitters parked in {@link Room#await}; the serial trampoline reads it once per job. */
    volatile int parked;
    /** Jobs still to leave serial() before the parked submitters are woken. */
    volatile int countdown;
}

/**
 * Where submitters wait for room in a full instance ({@code doParallel(job, cbCpu, maxWait)}).
 *
 * <p>Cost when nobody waits: the serial trampoline reads {@link #parked} (a line nobody writes
 * then, so it stays shared in every CPU's cache). While someone waits, the serial trampoline
 * counts jobs down and wakes every waiter with one notifyAll when a batch of them (half
 * of the in-flight limit, at least one) has left serial(): not once per job. A waiter whose
 * retry still finds the instance full (libpadata drops its in-flight count just after serial()
 * returns) parks again; timed waits bound every park, so a wake-up that never comes (no Java
 * job in flight, a mask change, native jobs) costs at most one back-off slice.
 *
 * <p>The monitor is private; parking and waking allocate nothing.
 */
final class Room extends RoomFields {
    private static final VarHandle PARKED;
    private static final VarHandle COUNTDOWN;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            PARKED = l.findVarHandle(RoomFields.class, "parked", int.class);
            COUNTDOWN = l.findVarHandle(RoomFields.class, "countdown", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    long q0, q1, q2, q3, q4, q5, q6, q7;

    private final Object monitor = new Object();

    /**
     * Parks the caller for at most {@code nanos}, or until a batch of jobs has left serial().
     *
     * @param capacity the instance's in-flight limit, which sizes the batch
     * @param nanos    the longest park
     * @throws InterruptedException when interrupted while parked
     */
    void await(int capacity, long nanos) throws InterruptedException {
        synchronized (monitor) {
            // The volatile write of parked (seq-cst, like the trampoline's volatile read of it) comes
            // before the caller's next submission attempt reads libpadata's count: a job that
            // leaves after that attempt failed sees parked != 0 and counts down.
            COUNTDOWN.setVolatile(this, Math.max(1, capacity / 2));
            PARKED.getAndAdd(this, 1);
            try {
                TimeUnit.NANOSECONDS.timedWait(monitor, nanos);
            } finally {
                PARKED.getAndAdd(this, -1);
            }
        }
    }

    /** The serial trampoline's hook: one volatile read when nobody waits. */
    void jobLeft() {
        if (parked != 0 && (int) COUNTDOWN.getAndAdd(this, -1) == 1)
            wakeAll();
    }

    /** {@link #jobLeft()} for {@code n} jobs at once (a serial batch): wakes when the countdown crosses zero. */
    void jobsLeft(int n) {
        if (parked != 0) {
            int before = (int) COUNTDOWN.getAndAdd(this, -n);
            if (before > 0 && before - n <= 0)
                wakeAll();
        }
    }

    /** Wakes every parked submitter. */
    void wakeAll() {
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }
}
