/* SPDX-License-Identifier: MIT */
package dev.padata.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The upcall stub of {@code padata_mt_job.thread_fn}, created once in {@link Arena#global()}
 * beside the three of {@link Upcalls}: {@code void (*)(unsigned long start, unsigned long end,
 * void *arg)}, one call per chunk, on a padata worker or the thread that called
 * {@code padata_do_multithreaded}.
 *
 * <p>All three arguments travel as {@code long} (the pointer too, as in {@link Upcalls}), so a
 * chunk's upcall allocates nothing. The trampoline catches every {@code Throwable}; the target
 * catches the user's exceptions itself, and what reaches the catch here is a binding bug,
 * reported on stderr.
 */
public final class RangeUpcall {
    private RangeUpcall() {
    }

    /** Receives chunk upcalls. */
    public interface Target {
        /**
         * One chunk of the job whose {@code fn_arg} is {@code arg}.
         *
         * @param start first index of the chunk
         * @param end one past its last index
         * @param arg the job's {@code fn_arg}, as a number
         */
        void chunk(long start, long end, long arg);
    }

    private static volatile Target target;

    /** {@code void (*)(unsigned long, unsigned long, void *)} that runs a Java range task. */
    public static final MemorySegment STUB;

    static {
        // As in Upcalls: NULL (never called) when the library could not be loaded.
        MemorySegment stub = MemorySegment.NULL;
        if (NativeLibrary.available()) {
            try {
                stub = Linker.nativeLinker().upcallStub(MethodHandles.lookup().findStatic(RangeUpcall.class, "chunk",
                                MethodType.methodType(void.class, long.class, long.class, long.class)),
                        FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_LONG, JAVA_LONG), Arena.global());
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        STUB = stub;
    }

    /**
     * Installs the dispatch target; called once by the API's class initialization.
     *
     * @param t receives the chunk upcalls
     */
    public static void install(Target t) {
        target = t;
    }

    private static void chunk(long start, long end, long arg) {
        try {
            target.chunk(start, end, arg);
        } catch (Throwable t) {
            try {
                System.err.println("padata: internal error in the multithreaded job upcall: " + t);
                t.printStackTrace();
            } catch (Throwable ignored) {
                // Nothing left to report with.
            }
        }
    }
}
