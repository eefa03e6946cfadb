/* SPDX-License-Identifier: MIT */
package dev.padata.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The three upcall stubs of the binding, created once in {@link Arena#global()}: one for a
 * job's parallel(), one for its serial(), one for cpumask notifiers.
 *
 * <p>Pointer arguments are declared as {@code long}: on LP64 targets a pointer and a 64-bit
 * integer travel in the same register, and a {@code long} spares the stub from boxing a
 * {@code MemorySegment} per call, so an upcall allocates nothing.
 *
 * <p>The static trampolines catch every {@code Throwable}: an exception escaping an upcall
 * ends the JVM. The dispatch targets catch the user's exceptions themselves and route them to
 * the failure handler; what reaches the catch here is a bug in the binding, reported on
 * stderr.
 */
public final class Upcalls {
    private Upcalls() {
    }

    /** Receives job upcalls, decoded into the owning pool and the node's tag. */
    public interface JobTarget {
        /**
         * parallel() of the job behind the node at {@code node} of pool {@code owner} tagged {@code tag}.
         *
         * @param node the node's address
         * @param owner the pool's index
         * @param tag the node's tag
         */
        void parallel(long node, int owner, long tag);

        /**
         * serial() of the job behind the node at {@code node} of pool {@code owner} tagged {@code tag}.
         *
         * @param node the node's address
         * @param owner the pool's index
         * @param tag the node's tag
         */
        void serial(long node, int owner, long tag);

        /**
         * parallel() of the {@code n} jobs whose node addresses are at {@code jobs}, in order
         * ({@code padata_set_batch}'s parallel batch): the first is the caller's, each later one
         * only once claimed ({@link PadataNative#claimBatchJob}); when a claim fails, an idle
         * worker took that job and the rest, and none of them may be touched.
         *
         * @param jobs the address of the array of node addresses
         * @param n how many, 1 to {@code PADATA_BATCH_MAX}
         * @param takeable the address of the slot that keeps the unstarted jobs takeable
         */
        void parallelBatch(long jobs, int n, long takeable);

        /**
         * serial() of each of the {@code n} jobs whose node addresses are at {@code jobs}, in
         * order ({@code padata_set_batch}'s serial batch).
         *
         * @param jobs the address of the array of node addresses
         * @param n how many, 1 to {@code PADATA_BATCH_MAX}
         */
        void serialBatch(long jobs, int n);
    }

    /** Receives notifier upcalls. */
    public interface NotifierTarget {
        /**
         * Returns a NOTIFY_* code.
         *
         * @param registration the notifier node's registration id
         * @param action the notifier action
         * @param pcpu the new parallel mask's words
         * @param cbcpu the new serial mask's words
         * @return a {@code NOTIFY_*} code
         */
        int notify(long registration, int action, long[] pcpu, long[] cbcpu);
    }

    private static volatile JobTarget jobTarget;
    private static volatile NotifierTarget notifierTarget;

    /** {@code void (*)(struct padata_priv *)} that runs a Java job's parallel(). */
    public static final MemorySegment PARALLEL_STUB;
    /** {@code void (*)(struct padata_priv *)} that runs a Java job's serial(). */
    public static final MemorySegment SERIAL_STUB;
    /** {@code notifier_fn_t} that calls a Java cpumask listener. */
    public static final MemorySegment NOTIFIER_STUB;
    /** {@code void (*)(struct padata_priv *const *, unsigned int)}: parallel() of a run of Java jobs. */
    public static final MemorySegment PARALLEL_BATCH_STUB;
    /** {@code void (*)(struct padata_priv *const *, unsigned int)}: serial() of a run of Java jobs. */
    public static final MemorySegment SERIAL_BATCH_STUB;

    static {
        // The library must be loaded (and native access checked) before the first restricted call.
        // When that failed, the stubs stay NULL (nothing can call them) rather than this class
        // failing its initialization: every downcall reports the failure itself, every time.
        MemorySegment parallel = MemorySegment.NULL;
        MemorySegment serial = MemorySegment.NULL;
        MemorySegment notifier = MemorySegment.NULL;
        MemorySegment parallelBatch = MemorySegment.NULL;
        MemorySegment serialBatch = MemorySegment.NULL;
        if (NativeLibrary.available()) {
            try {
                Linker linker = Linker.nativeLinker();
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                MethodType job = MethodType.methodType(void.class, long.class);
                parallel = linker.upcallStub(lookup.findStatic(Upcalls.class, "parallel", job),
                        FunctionDescriptor.ofVoid(JAVA_LONG), Arena.global());
                serial = linker.upcallStub(lookup.findStatic(Upcalls.class, "serial", job),
                        FunctionDescriptor.ofVoid(JAVA_LONG), Arena.global());
                notifier = linker.upcallStub(lookup.findStatic(Upcalls.class, "notifier",
                                MethodType.methodType(int.class, long.class, long.class, long.class)),
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG), Arena.global());
                MethodType batch = MethodType.methodType(void.class, long.class, int.class);
                parallelBatch = linker.upcallStub(lookup.findStatic(Upcalls.class, "parallelBatch",
                                MethodType.methodType(void.class, long.class, int.class, long.class)),
                        FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT, JAVA_LONG), Arena.global());
                serialBatch = linker.upcallStub(lookup.findStatic(Upcalls.class, "serialBatch", batch),
                        FunctionDescriptor.ofVoid(JAVA_LONG, JAVA_INT), Arena.global());
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
        PARALLEL_STUB = parallel;
        SERIAL_STUB = serial;
        NOTIFIER_STUB = notifier;
        PARALLEL_BATCH_STUB = parallelBatch;
        SERIAL_BATCH_STUB = serialBatch;
    }

    /**
     * Installs the dispatch targets; called once by the API's class initialization.
     *
     * @param jobs receives the job upcalls
     * @param notifiers receives the notifier upcalls
     */
    public static void install(JobTarget jobs, NotifierTarget notifiers) {
        jobTarget = jobs;
        notifierTarget = notifiers;
    }

    private static void parallel(long node) {
        try {
            jobTarget.parallel(node, PadataNative.jobOwnerAt(node), PadataNative.jobTagAt(node));
        } catch (Throwable t) {
            lastResort("parallel", t);
        }
    }

    private static void serial(long node) {
        try {
            jobTarget.serial(node, PadataNative.jobOwnerAt(node), PadataNative.jobTagAt(node));
        } catch (Throwable t) {
            lastResort("serial", t);
        }
    }

    private static void parallelBatch(long jobs, int n, long takeable) {
        try {
            jobTarget.parallelBatch(jobs, n, takeable);
        } catch (Throwable t) {
            lastResort("parallel batch", t);
        }
    }

    private static void serialBatch(long jobs, int n) {
        try {
            jobTarget.serialBatch(jobs, n);
        } catch (Throwable t) {
            lastResort("serial batch", t);
        }
    }

    private static int notifier(long nb, long action, long data) {
        try {
            long[] pcpu = PadataNative.cpumaskAt(data);
            long[] cbcpu = PadataNative.cpumaskAt(data + PadataNative.CPUMASK.byteSize());
            return notifierTarget.notify(PadataNative.notifierRegistrationAt(nb), (int) action, pcpu, cbcpu);
        } catch (Throwable t) {
            lastResort("notifier", t);
            return 0; // NOTIFY_DONE
        }
    }

    /**
     * Reports a binding bug caught in an upcall on stderr (never throws).
     *
     * @param where which upcall
     * @param t what it threw
     */
    public static void lastResort(String where, Throwable t) {
        try {
            System.err.println("padata: internal error in the " + where + " upcall: " + t);
            t.printStackTrace();
        } catch (Throwable ignored) {
            // Out of memory or a closed stderr: nothing left to report with.
        }
    }
}
