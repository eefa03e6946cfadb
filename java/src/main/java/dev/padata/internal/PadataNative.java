/* SPDX-License-Identifier: MIT */
package dev.padata.internal;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One-to-one bindings of libpadata, in the shape jextract would generate: one
 * {@code static final MethodHandle} per C function, each called through a static method with
 * {@code invokeExact}, and the public struct layouts declared once with their C definition.
 *
 * <p>Thread rules are the C library's (see {@code native/include/padata/*.h}). Only calls that
 * are tiny, never block and never call back use {@link Linker.Option#critical(boolean)}.
 *
 * <p>This package is not exported: nothing outside the module sees a {@code MethodHandle} or
 * a raw address.
 */
public final class PadataNative {
    private PadataNative() {
    }

    // Load the library first: it is where an unsupported platform or a refused native access is
    // reported. When it failed, nothing below makes a restricted call or throws: every downcall
    // throws NativeLibrary's failure instead, on the first call and every later one, rather than
    // this class failing its initialization (which turns every later use into NoClassDefFoundError).
    private static final boolean LOADED = NativeLibrary.available();

    private static final Linker LINKER = LOADED ? Linker.nativeLinker() : null;

    // ---- layouts ---------------------------------------------------------------------------

    /** {@code unsigned long}: 64 bits on every LP64 platform this library supports. */
    public static final ValueLayout.OfLong C_LONG = JAVA_LONG;

    /** {@code NR_CPUS} in padata/cpumask.h (AbiLayoutTest compares it with the library's). */
    public static final int NR_CPUS = 1024;

    /**
     * <pre>
     * struct cpumask {
     *     unsigned long bits[NR_CPUS / 64];
     * };
     * </pre>
     */
    public static final StructLayout CPUMASK = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(NR_CPUS / 64, C_LONG).withName("bits")).withName("cpumask");

    /** Words in a cpumask. */
    public static final int CPUMASK_WORDS = NR_CPUS / 64;

    /**
     * <pre>
     * struct padata_priv {
     *     struct padata_priv *next;
     *     struct parallel_data *pd;
     *     unsigned int seq_nr;
     *     int cb_cpu;
     *     int info;
     *     unsigned int state;
     *     void (*parallel)(struct padata_priv *padata);
     *     void (*serial)(struct padata_priv *padata);
     * };
     * </pre>
     * No padding: every pointer falls on an 8-byte boundary.
     */
    public static final StructLayout PADATA_PRIV = MemoryLayout.structLayout(
            ADDRESS.withName("next"),
            ADDRESS.withName("pd"),
            JAVA_INT.withName("seq_nr"),
            JAVA_INT.withName("cb_cpu"),
            JAVA_INT.withName("info"),
            JAVA_INT.withName("state"),
            ADDRESS.withName("parallel"),
            ADDRESS.withName("serial")).withName("padata_priv");

    /**
     * <pre>
     * struct work_struct {
     *     unsigned long data;
     *     struct work_struct *entry_next;
     *     struct workqueue_struct *wq;
     *     work_func_t func;
     * };
     * </pre>
     */
    public static final StructLayout WORK_STRUCT = MemoryLayout.structLayout(
            C_LONG.withName("data"),
            ADDRESS.withName("entry_next"),
            ADDRESS.withName("wq"),
            ADDRESS.withName("func")).withName("work_struct");

    /**
     * <pre>
     * struct notifier_block {
     *     notifier_fn_t notifier_call;
     *     struct notifier_block *next;
     *     int priority;
     *     // 4 bytes of tail padding
     * };
     * </pre>
     */
    public static final StructLayout NOTIFIER_BLOCK = MemoryLayout.structLayout(
            ADDRESS.withName("notifier_call"),
            ADDRESS.withName("next"),
            JAVA_INT.withName("priority"),
            MemoryLayout.paddingLayout(4)).withName("notifier_block");

    /**
     * <pre>
     * struct padata_cpumask {
     *     cpumask_var_t pcpu;    // struct cpumask[1]
     *     cpumask_var_t cbcpu;
     * };
     * </pre>
     */
    public static final StructLayout PADATA_CPUMASK = MemoryLayout.structLayout(
            CPUMASK.withName("pcpu"),
            CPUMASK.withName("cbcpu")).withName("padata_cpumask");

    /**
     * <pre>
     * struct padata_mt_job {
     *     void (*thread_fn)(unsigned long start, unsigned long end, void *arg);
     *     void *fn_arg;
     *     unsigned long start;
     *     unsigned long size;
     *     unsigned long align;
     *     unsigned long min_chunk;
     *     int max_threads;
     *     // 4 bytes of tail padding
     * };
     * </pre>
     */
    public static final StructLayout PADATA_MT_JOB = MemoryLayout.structLayout(
            ADDRESS.withName("thread_fn"),
            ADDRESS.withName("fn_arg"),
            C_LONG.withName("start"),
            C_LONG.withName("size"),
            C_LONG.withName("align"),
            C_LONG.withName("min_chunk"),
            JAVA_INT.withName("max_threads"),
            MemoryLayout.paddingLayout(4)).withName("padata_mt_job");

    /**
     * The native node of one Java job: a padata_priv followed by the words the upcall
     * trampolines use to find the Java job. One cache line, so neighbouring nodes in a pool
     * never share a line.
     * <pre>
     * struct java_job_node {
     *     struct padata_priv priv;
     *     uint64_t tag;     // generation &lt;&lt; 32 | slot while bound, | 0xffffffff while free
     *     int32_t owner;    // index of the owning pool in the dispatcher's table
     *     // 12 bytes of padding to 64
     * };
     * </pre>
     */
    public static final StructLayout JOB_NODE = MemoryLayout.structLayout(
            PADATA_PRIV.withName("priv"),
            JAVA_LONG.withName("tag"),
            JAVA_INT.withName("owner"),
            MemoryLayout.paddingLayout(4)).withName("java_job_node");

    /** Stride and alignment of job nodes in a pool. */
    public static final long JOB_NODE_STRIDE = 64;

    /**
     * A notifier_block followed by the registration id the notifier trampoline dispatches on.
     * <pre>
     * struct java_notifier_node {
     *     struct notifier_block nb;
     *     int64_t registration;
     * };
     * </pre>
     */
    public static final StructLayout NOTIFIER_NODE = MemoryLayout.structLayout(
            NOTIFIER_BLOCK.withName("nb"),
            JAVA_LONG.withName("registration")).withName("java_notifier_node");

    private static final VarHandle PRIV_INFO = PADATA_PRIV.varHandle(groupElement("info"));
    private static final VarHandle PRIV_PARALLEL = PADATA_PRIV.varHandle(groupElement("parallel"));
    private static final VarHandle PRIV_SERIAL = PADATA_PRIV.varHandle(groupElement("serial"));
    private static final VarHandle NODE_TAG = JOB_NODE.varHandle(groupElement("tag"));
    private static final VarHandle NODE_OWNER = JOB_NODE.varHandle(groupElement("owner"));
    private static final VarHandle NB_CALL = NOTIFIER_BLOCK.varHandle(groupElement("notifier_call"));
    private static final VarHandle NB_PRIORITY = NOTIFIER_BLOCK.varHandle(groupElement("priority"));
    private static final long NOTIFIER_REGISTRATION_OFFSET = NOTIFIER_NODE.byteOffset(groupElement("registration"));

    /** All of memory, for reading the words behind an address an upcall received as a long. */
    private static final MemorySegment EVERYTHING = LOADED ? MemorySegment.NULL.reinterpret(Long.MAX_VALUE) : MemorySegment.NULL;

    // ---- functions -------------------------------------------------------------------------

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        if (!LOADED)
            return unavailable(fd, options);
        MemorySegment address = NativeLibrary.lookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "libpadata at " + NativeLibrary.path() + " does not export " + name
                        + "; it is older or newer than this jar"));
        return LINKER.downcallHandle(address, fd, options);
    }

    /**
     * A handle of the type {@code downcallHandle(address, fd, options)} would have, which throws
     * NativeLibrary's failure each time it is called.
     */
    private static MethodHandle unavailable(FunctionDescriptor fd, Linker.Option... options) {
        MethodType type = fd.toMethodType();
        if (fd.returnLayout().filter(l -> l instanceof GroupLayout).isPresent())
            throw new AssertionError("no binding returns a struct by value");
        if (Arrays.asList(options).contains(ERRNO))
            type = type.insertParameterTypes(0, MemorySegment.class);
        try {
            MethodHandle failure = MethodHandles.lookup().findStatic(NativeLibrary.class, "failure",
                    MethodType.methodType(Throwable.class));
            MethodHandle thrower = MethodHandles.collectArguments(
                    MethodHandles.throwException(type.returnType(), Throwable.class), 0, failure);
            return MethodHandles.dropArguments(thrower, 0, type.parameterList());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** Throws NativeLibrary's failure unless the library is loaded. */
    private static void requireLoaded() {
        if (!LOADED)
            NativeLibrary.require();
    }

    private static MemorySegment symbol(String name) {
        if (!LOADED)
            return MemorySegment.NULL;
        return NativeLibrary.lookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "libpadata at " + NativeLibrary.path() + " does not export " + name));
    }

    private static final Linker.Option CRITICAL = Linker.Option.critical(false);
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle CAPTURED_ERRNO = CAPTURE_LAYOUT.varHandle(groupElement("errno"));

    private static final MethodHandle CREATE_WORKQUEUE =
            downcall("padata_create_workqueue", FunctionDescriptor.of(ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle DESTROY_WORKQUEUE =
            downcall("padata_destroy_workqueue", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle FLUSH_WORKQUEUE =
            downcall("padata_flush_workqueue", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle PADATA_ALLOC =
            downcall("padata_alloc", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle PADATA_FREE =
            downcall("padata_free", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle PADATA_START =
            downcall("padata_start", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle PADATA_STOP =
            downcall("padata_stop", FunctionDescriptor.ofVoid(ADDRESS));
    // Not critical: lock-free, but it queues work and may wake a worker.
    private static final MethodHandle PADATA_DO_PARALLEL =
            downcall("padata_do_parallel", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    // Not critical, as padata_do_parallel; the array is a global-scope handle (no arena to acquire).
    private static final MethodHandle PADATA_DO_PARALLEL_MANY =
            downcall("padata_do_parallel_many", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle PADATA_DO_PARALLEL_WAIT =
            downcall("padata_do_parallel_wait", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle PADATA_DO_SERIAL =
            downcall("padata_do_serial", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle PADATA_SET_BATCH =
            downcall("padata_set_batch", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    // Also what makes a libpadata older than the three-argument parallel batch fail to load here
    // (its batch call would hand claimBatchJob a garbage slot).
    private static final MethodHandle PADATA_BATCH_CLAIM =
            downcall("padata_batch_claim", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PADATA_ALLOC_SHELL =
            downcall("padata_alloc_shell", FunctionDescriptor.of(ADDRESS, ADDRESS), ERRNO);
    private static final MethodHandle PADATA_FREE_SHELL =
            downcall("padata_free_shell", FunctionDescriptor.ofVoid(ADDRESS));
    // Not critical, as padata_do_parallel.
    private static final MethodHandle PADATA_DO_PARALLEL_SHELL =
            downcall("padata_do_parallel_shell", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    // Not critical: it may sleep (on a futex) up to its timeout.
    private static final MethodHandle PADATA_DO_PARALLEL_SHELL_WAIT =
            downcall("padata_do_parallel_shell_wait", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle PADATA_SET_CPUMASKS =
            downcall("padata_set_cpumasks", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle PADATA_SET_CPUMASK =
            downcall("padata_set_cpumask", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle PADATA_ADD_CPU =
            downcall("padata_add_cpu", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle PADATA_REMOVE_CPU =
            downcall("padata_remove_cpu", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle PADATA_REGISTER_NOTIFIER =
            downcall("padata_register_cpumask_notifier", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle PADATA_UNREGISTER_NOTIFIER =
            downcall("padata_unregister_cpumask_notifier", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle PADATA_SET_MAX_INFLIGHT =
            downcall("padata_set_max_inflight", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle PADATA_GET_MAX_INFLIGHT =
            downcall("padata_get_max_inflight", FunctionDescriptor.of(JAVA_INT, ADDRESS), CRITICAL);
    private static final MethodHandle PADATA_GET_CPUMASK =
            downcall("padata_get_cpumask", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle PADATA_TEST_SET_SEQ =
            downcall("padata_test_set_seq", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    // Not critical: blocks until every chunk has run, and calls back into Java per chunk.
    private static final MethodHandle PADATA_DO_MULTITHREADED =
            downcall("padata_do_multithreaded", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle PADATA_ABI_QUERY =
            downcall("padata_abi_query", FunctionDescriptor.of(JAVA_LONG, ADDRESS), CRITICAL);
    private static final MethodHandle CPULIST_PARSE =
            downcall("padata_cpulist_parse", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), CRITICAL);
    private static final MethodHandle CPULIST_SCNPRINTF =
            downcall("padata_cpulist_scnprintf", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS), CRITICAL);
    // Not critical: takes the hotplug lock, which cpu_down() may hold for a while.
    private static final MethodHandle PADATA_CPU_ACTIVE_SNAPSHOT =
            downcall("padata_cpu_active_snapshot", FunctionDescriptor.ofVoid(ADDRESS));
    private static final MethodHandle CPU_DOWN =
            downcall("padata_cpu_down", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle CPU_UP =
            downcall("padata_cpu_up", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PADATA_CPU_TO_HOST =
            downcall("padata_cpu_to_host", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CRITICAL);
    private static final MethodHandle PADATA_NR_HOST_CPUS =
            downcall("padata_nr_host_cpus", FunctionDescriptor.of(JAVA_INT), CRITICAL);
    private static final MethodHandle PADATA_TOPOLOGY_IS_VIRTUAL =
            downcall("padata_topology_is_virtual", FunctionDescriptor.of(JAVA_BOOLEAN), CRITICAL);
    private static final MethodHandle PADATA_CURRENT_CPU =
            downcall("padata_current_cpu", FunctionDescriptor.of(JAVA_INT), CRITICAL);

    /** {@code padata_do_serial}, for native callbacks that cannot link against libpadata. */
    public static final MemorySegment DO_SERIAL_FUNCTION = symbol("padata_do_serial");

    private static final AddressLayout MASK_POINTER = LOADED ? ADDRESS.withTargetLayout(CPUMASK) : ADDRESS;
    private static final int NR_CPU_IDS = LOADED ? symbol("padata_nr_cpu_ids").reinterpret(4).get(JAVA_INT, 0) : 0;
    private static final MemorySegment POSSIBLE_MASK = LOADED
            ? symbol("padata_cpu_possible_mask").reinterpret(8).get(MASK_POINTER, 0) : MemorySegment.NULL;
    private static final MemorySegment ONLINE_MASK = LOADED
            ? symbol("padata_cpu_online_mask").reinterpret(8).get(MASK_POINTER, 0) : MemorySegment.NULL;

    /**
     * The errno of a failed constructor call; see {@link #captureSegment(Arena)}.
     *
     * @param capture a buffer from {@link #captureSegment(Arena)}
     * @return the errno the call left
     */
    public static int capturedErrno(MemorySegment capture) {
        return (int) CAPTURED_ERRNO.get(capture, 0L);
    }

    /**
     * A buffer for the errno of {@code create_workqueue} and {@code padata_alloc}.
     *
     * @param arena where the buffer lives
     * @return a buffer for {@code Linker.Option.captureCallState("errno")}
     */
    public static MemorySegment captureSegment(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    private static Error unexpected(Throwable t) {
        if (t instanceof Error e)
            return e;
        if (t instanceof RuntimeException r)
            throw r;
        return new AssertionError("a downcall threw a checked exception", t);
    }

    /**
     * Calls {@code create_workqueue}; see its kernel-doc in {@code native/include}.
     *
     * @param capture the errno buffer from {@link #captureSegment(Arena)}
     * @param name a NUL-terminated name
     * @return what {@code create_workqueue} returns
     */
    public static MemorySegment createWorkqueue(MemorySegment capture, MemorySegment name) {
        try {
            return (MemorySegment) CREATE_WORKQUEUE.invokeExact(capture, name);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code destroy_workqueue}; see its kernel-doc in {@code native/include}.
     *
     * @param wq the workqueue ({@code struct workqueue_struct *})
     */
    public static void destroyWorkqueue(MemorySegment wq) {
        try {
            DESTROY_WORKQUEUE.invokeExact(wq);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code flush_workqueue}; see its kernel-doc in {@code native/include}.
     *
     * @param wq the workqueue ({@code struct workqueue_struct *})
     */
    public static void flushWorkqueue(MemorySegment wq) {
        try {
            FLUSH_WORKQUEUE.invokeExact(wq);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_alloc}; see its kernel-doc in {@code native/include}.
     *
     * @param capture the errno buffer from {@link #captureSegment(Arena)}
     * @param wq the workqueue ({@code struct workqueue_struct *})
     * @param pcpu the parallel cpumask
     * @param cbcpu the serial cpumask
     * @return what {@code padata_alloc} returns
     */
    public static MemorySegment padataAlloc(MemorySegment capture, MemorySegment wq, MemorySegment pcpu,
                                            MemorySegment cbcpu) {
        try {
            return (MemorySegment) PADATA_ALLOC.invokeExact(capture, wq, pcpu, cbcpu);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_free}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     */
    public static void padataFree(MemorySegment pinst) {
        try {
            PADATA_FREE.invokeExact(pinst);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_start}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @return what {@code padata_start} returns
     */
    public static int padataStart(MemorySegment pinst) {
        try {
            return (int) PADATA_START.invokeExact(pinst);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_stop}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     */
    public static void padataStop(MemorySegment pinst) {
        try {
            PADATA_STOP.invokeExact(pinst);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_do_parallel_wait}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance
     * @param priv the job's {@code struct padata_priv}
     * @param cbCpu the serial CPU
     * @param timeoutMs how long to sleep for room at most, in ms
     * @return what {@code padata_do_parallel_wait} returns
     */
    public static int doParallelWait(MemorySegment pinst, MemorySegment priv, int cbCpu, int timeoutMs) {
        try {
            return (int) PADATA_DO_PARALLEL_WAIT.invokeExact(pinst, priv, cbCpu, timeoutMs);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_do_parallel}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param priv the job ({@code struct padata_priv *})
     * @param cbCpu the CPU for serial()
     * @return what {@code padata_do_parallel} returns
     */
    public static int doParallel(MemorySegment pinst, MemorySegment priv, int cbCpu) {
        try {
            return (int) PADATA_DO_PARALLEL.invokeExact(pinst, priv, cbCpu);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_do_parallel_many}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param jobs an array of {@code n} job pointers ({@code struct padata_priv *const[]})
     * @param n how many
     * @param cbCpu the CPU for serial()
     * @return what {@code padata_do_parallel_many} returns: how many were accepted, or a
     *         negative errno
     */
    public static int doParallelMany(MemorySegment pinst, MemorySegment jobs, int n, int cbCpu) {
        try {
            return (int) PADATA_DO_PARALLEL_MANY.invokeExact(pinst, jobs, n, cbCpu);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_alloc_shell}; see its kernel-doc in {@code native/include}.
     *
     * @param capture a buffer from {@link #captureSegment(Arena)}, receives errno
     * @param pinst the instance ({@code struct padata_instance *})
     * @return the shell ({@code struct padata_shell *}), or {@code NULL} (errno in {@code capture})
     */
    public static MemorySegment allocShell(MemorySegment capture, MemorySegment pinst) {
        try {
            return (MemorySegment) PADATA_ALLOC_SHELL.invokeExact(capture, pinst);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_free_shell}; see its kernel-doc in {@code native/include}.
     *
     * @param ps the shell ({@code struct padata_shell *})
     */
    public static void freeShell(MemorySegment ps) {
        try {
            PADATA_FREE_SHELL.invokeExact(ps);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_do_parallel_shell}; see its kernel-doc in {@code native/include}.
     *
     * @param ps the shell ({@code struct padata_shell *})
     * @param priv the job ({@code struct padata_priv *})
     * @param cbCpu the CPU for serial()
     * @return what {@code padata_do_parallel_shell} returns
     */
    public static int doParallelShell(MemorySegment ps, MemorySegment priv, int cbCpu) {
        try {
            return (int) PADATA_DO_PARALLEL_SHELL.invokeExact(ps, priv, cbCpu);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_do_parallel_shell_wait}; see its kernel-doc in {@code native/include}.
     *
     * @param ps the shell ({@code struct padata_shell *})
     * @param priv the job ({@code struct padata_priv *})
     * @param cbCpu the CPU for serial()
     * @param timeoutMs how long to sleep at most while the shell is busy, in milliseconds
     * @return what {@code padata_do_parallel_shell_wait} returns
     */
    public static int doParallelShellWait(MemorySegment ps, MemorySegment priv, int cbCpu, int timeoutMs) {
        try {
            return (int) PADATA_DO_PARALLEL_SHELL_WAIT.invokeExact(ps, priv, cbCpu, timeoutMs);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_do_serial}; see its kernel-doc in {@code native/include}.
     *
     * @param priv the job ({@code struct padata_priv *})
     */
    public static void doSerial(MemorySegment priv) {
        try {
            PADATA_DO_SERIAL.invokeExact(priv);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_set_cpumasks}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param pcpu the parallel cpumask
     * @param cbcpu the serial cpumask
     * @return what {@code padata_set_cpumasks} returns
     */
    public static int setCpumasks(MemorySegment pinst, MemorySegment pcpu, MemorySegment cbcpu) {
        try {
            return (int) PADATA_SET_CPUMASKS.invokeExact(pinst, pcpu, cbcpu);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_set_cpumask}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param type a {@code PADATA_CPU_*} mask type
     * @param mask a cpumask
     * @return what {@code padata_set_cpumask} returns
     */
    public static int setCpumask(MemorySegment pinst, int type, MemorySegment mask) {
        try {
            return (int) PADATA_SET_CPUMASK.invokeExact(pinst, type, mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_add_cpu}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param cpu a CPU number
     * @param mask a cpumask
     * @return what {@code padata_add_cpu} returns
     */
    public static int addCpu(MemorySegment pinst, int cpu, int mask) {
        try {
            return (int) PADATA_ADD_CPU.invokeExact(pinst, cpu, mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_remove_cpu}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param cpu a CPU number
     * @param mask a cpumask
     * @return what {@code padata_remove_cpu} returns
     */
    public static int removeCpu(MemorySegment pinst, int cpu, int mask) {
        try {
            return (int) PADATA_REMOVE_CPU.invokeExact(pinst, cpu, mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_register_cpumask_notifier}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param nb the {@code struct notifier_block *}
     * @return what {@code padata_register_cpumask_notifier} returns
     */
    public static int registerNotifier(MemorySegment pinst, MemorySegment nb) {
        try {
            return (int) PADATA_REGISTER_NOTIFIER.invokeExact(pinst, nb);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_unregister_cpumask_notifier}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param nb the {@code struct notifier_block *}
     * @return what {@code padata_unregister_cpumask_notifier} returns
     */
    public static int unregisterNotifier(MemorySegment pinst, MemorySegment nb) {
        try {
            return (int) PADATA_UNREGISTER_NOTIFIER.invokeExact(pinst, nb);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_set_max_inflight}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param limit the in-flight limit
     * @return what {@code padata_set_max_inflight} returns
     */
    public static int setMaxInflight(MemorySegment pinst, int limit) {
        try {
            return (int) PADATA_SET_MAX_INFLIGHT.invokeExact(pinst, limit);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_set_batch}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param parallel the parallel() function marking the class, or NULL
     * @param parallelBatch its batch function, or NULL
     * @param serial the serial() function marking the class, or NULL
     * @param serialBatch its batch function, or NULL
     * @return what {@code padata_set_batch} returns: 0, -EINVAL or -EBUSY
     */
    public static int setBatch(MemorySegment pinst, MemorySegment parallel, MemorySegment parallelBatch,
                               MemorySegment serial, MemorySegment serialBatch) {
        try {
            return (int) PADATA_SET_BATCH.invokeExact(pinst, parallel, parallelBatch, serial, serialBatch);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * The job pointer at index {@code i} of a batch callback's array (an upcall's argument).
     *
     * @param jobs the array's address
     * @param i the index, below the batch's count
     * @return the node's address
     */
    public static long batchJobAt(long jobs, int i) {
        return EVERYTHING.get(JAVA_LONG, jobs + 8L * i);
    }

    /** A pointer-sized word of native memory, for atomic access through {@link #EVERYTHING}. */
    private static final VarHandle WORD = JAVA_LONG.varHandle();
    /** Where a node's {@code priv.next} is (the link {@code padata_batch_claim} reads). */
    private static final long NODE_NEXT_OFFSET = JOB_NODE.byteOffset(groupElement("priv"))
            + PADATA_PRIV.byteOffset(groupElement("next"));

    /** {@code PADATA_BATCH_CLAIMING}: what the takeable slot holds while its worker claims a job. */
    public static final long BATCH_CLAIMING = 1L;

    /**
     * {@code padata_batch_claim(takeable, node)} without a downcall: its two operations on the
     * parallel batch's {@code takeable} slot (the calling worker's own line while nobody steals).
     * Compare-and-swap the slot from the node to {@code PADATA_BATCH_CLAIMING} (a witness of NULL:
     * an idle worker took this job and every one after it); then, the job being ours and not
     * started, store its {@code next} at once with release (the jobs after it stay takeable; pairs
     * with the acquire CAS of a stealing worker). The slot never reads NULL while jobs are left in
     * it, so an idle worker looking at it before it sleeps cannot miss them.
     *
     * @param takeable the batch call's {@code takeable} argument
     * @param node the next job of the run: the array's entry after the last one claimed
     * @return true when the job is the caller's to run; false when it was taken (run none of the rest)
     * @throws IllegalStateException when {@code node} is 0, {@code PADATA_BATCH_CLAIMING} or not the next takeable job
     *     (nothing is taken)
     */
    public static boolean claimBatchJob(long takeable, long node) {
        if (node == 0 || node == BATCH_CLAIMING)
            throw new IllegalStateException("padata_batch_claim: 0x" + Long.toHexString(node) + " is not a job");
        // The link first, so nothing that could throw stands between the CAS and the store (a
        // marker left in the slot stops the instance: libpadata aborts). Safe to read early: when
        // the CAS succeeds nobody took the node (only this worker writes a non-NULL value to the
        // slot), so its link was stable; when it fails the value is dropped, and a job node is
        // the binding's own pool memory, readable even after another worker took it.
        long rest = (long) WORD.get(EVERYTHING, node + NODE_NEXT_OFFSET);
        long v = (long) WORD.compareAndExchange(EVERYTHING, takeable, node, BATCH_CLAIMING);
        if (v == node) {
            WORD.setRelease(EVERYTHING, takeable, rest);
            return true;
        }
        if (v == 0)
            return false;
        throw new IllegalStateException("padata_batch_claim: node 0x" + Long.toHexString(node)
                + " is not the next takeable job (0x" + Long.toHexString(v) + ")");
    }

    /**
     * Calls {@code padata_batch_claim}; see its kernel-doc in {@code native/include}. (The batch
     * trampoline does the same in Java, {@link #claimBatchJob}; tests compare the two.)
     *
     * @param takeable the address of the takeable slot
     * @param node the job's address
     * @return what {@code padata_batch_claim} returns: 1, 0 or -EINVAL
     */
    public static int batchClaim(long takeable, long node) {
        try {
            return (int) PADATA_BATCH_CLAIM.invokeExact(takeable, node);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_get_max_inflight}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @return what {@code padata_get_max_inflight} returns
     */
    public static int getMaxInflight(MemorySegment pinst) {
        try {
            return (int) PADATA_GET_MAX_INFLIGHT.invokeExact(pinst);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_get_cpumask}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param out the {@code struct padata_cpumask} to fill
     * @return what {@code padata_get_cpumask} returns
     */
    public static int getCpumask(MemorySegment pinst, MemorySegment out) {
        try {
            return (int) PADATA_GET_CPUMASK.invokeExact(pinst, out);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_test_set_seq}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param seq the next sequence number
     * @return what {@code padata_test_set_seq} returns
     */
    public static int testSetSeq(MemorySegment pinst, int seq) {
        try {
            return (int) PADATA_TEST_SET_SEQ.invokeExact(pinst, seq);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_do_multithreaded}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param job a {@link #PADATA_MT_JOB}
     * @return what {@code padata_do_multithreaded} returns
     */
    public static int doMultithreaded(MemorySegment pinst, MemorySegment job) {
        try {
            return (int) PADATA_DO_MULTITHREADED.invokeExact(pinst, job);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code padata_abi_query(name)}: a size or offset from the C compiler's view, or -1.
     *
     * @param name a struct name, e.g. {@code "padata_priv"}
     * @return its size and alignment as {@code padata_abi_query} packs them
     */
    public static long abiQuery(String name) {
        try (Arena arena = Arena.ofConfined()) {
            return (long) PADATA_ABI_QUERY.invokeExact(arena.allocateFrom(name));
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code cpulist_parse}; see its kernel-doc in {@code native/include}.
     *
     * @param text a NUL-terminated CPU list
     * @param mask a cpumask
     * @return what {@code cpulist_parse} returns
     */
    public static int cpulistParse(MemorySegment text, MemorySegment mask) {
        try {
            return (int) CPULIST_PARSE.invokeExact(text, mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code cpulist_scnprintf}; see its kernel-doc in {@code native/include}.
     *
     * @param buf the output buffer
     * @param len the size of {@code buf}
     * @param mask a cpumask
     * @return what {@code cpulist_scnprintf} returns
     */
    public static int cpulistScnprintf(MemorySegment buf, int len, MemorySegment mask) {
        try {
            return (int) CPULIST_SCNPRINTF.invokeExact(buf, len, mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_cpu_active_snapshot}; see its kernel-doc in {@code native/include}.
     *
     * @param mask a cpumask
     */
    public static void cpuActiveSnapshot(MemorySegment mask) {
        try {
            PADATA_CPU_ACTIVE_SNAPSHOT.invokeExact(mask);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code cpu_down}; see its kernel-doc in {@code native/include}.
     *
     * @param cpu a CPU number
     * @return what {@code cpu_down} returns
     */
    public static int cpuDown(int cpu) {
        try {
            return (int) CPU_DOWN.invokeExact(cpu);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code cpu_up}; see its kernel-doc in {@code native/include}.
     *
     * @param cpu a CPU number
     * @return what {@code cpu_up} returns
     */
    public static int cpuUp(int cpu) {
        try {
            return (int) CPU_UP.invokeExact(cpu);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_cpu_to_host}; see its kernel-doc in {@code native/include}.
     *
     * @param cpu a CPU number
     * @return what {@code padata_cpu_to_host} returns
     */
    public static int cpuToHost(int cpu) {
        try {
            return (int) PADATA_CPU_TO_HOST.invokeExact(cpu);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_nr_host_cpus}; see its kernel-doc in {@code native/include}.
     *
     * @return what {@code padata_nr_host_cpus} returns
     */
    public static int nrHostCpus() {
        try {
            return (int) PADATA_NR_HOST_CPUS.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * Calls {@code padata_topology_is_virtual}; see its kernel-doc in {@code native/include}.
     *
     * @return what {@code padata_topology_is_virtual} returns
     */
    public static boolean topologyIsVirtual() {
        try {
            return (boolean) PADATA_TOPOLOGY_IS_VIRTUAL.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * The virtual CPU of the calling workqueue worker, or -1 on any other thread.
     *
     * @return the virtual CPU, or -1
     */
    public static int currentCpu() {
        try {
            return (int) PADATA_CURRENT_CPU.invokeExact();
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * {@code nr_cpu_ids}: fixed at library load.
     *
     * @return {@code nr_cpu_ids}
     */
    public static int nrCpuIds() {
        requireLoaded();
        return NR_CPU_IDS;
    }

    /**
     * The words of {@code cpu_possible_mask} (never changes after load).
     *
     * @return the mask's words
     */
    public static long[] possibleMaskWords() {
        requireLoaded();
        return POSSIBLE_MASK.toArray(JAVA_LONG);
    }

    /**
     * The words of {@code cpu_online_mask} (never changes after load).
     *
     * @return the mask's words
     */
    public static long[] onlineMaskWords() {
        requireLoaded();
        return ONLINE_MASK.toArray(JAVA_LONG);
    }

    /**
     * A consistent copy of {@code cpu_active_mask}.
     *
     * @return the mask's words
     */
    public static long[] activeMaskWords() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(CPUMASK);
            cpuActiveSnapshot(mask);
            return mask.toArray(JAVA_LONG);
        }
    }

    /**
     * A native cpumask in {@code arena} holding {@code words}.
     *
     * @param arena where the mask lives
     * @param words the bits, word 0 first; extra words are ignored
     * @return the new mask
     */
    public static MemorySegment cpumask(Arena arena, long[] words) {
        MemorySegment mask = arena.allocate(CPUMASK);
        MemorySegment.copy(words, 0, mask, JAVA_LONG, 0, Math.min(words.length, CPUMASK_WORDS));
        return mask;
    }

    /**
     * The usable masks of {@code pinst}: {pcpu words, cbcpu words}, or null on error.
     *
     * @param pinst the instance
     * @return the two masks' words, or null when {@code padata_get_cpumask} failed
     */
    public static long[][] usableMasks(MemorySegment pinst) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(PADATA_CPUMASK);
            if (getCpumask(pinst, out) != 0)
                return null;
            return new long[][] {
                    out.asSlice(0, CPUMASK.byteSize()).toArray(JAVA_LONG),
                    out.asSlice(CPUMASK.byteSize(), CPUMASK.byteSize()).toArray(JAVA_LONG)};
        }
    }

    /**
     * Reads a native cpumask at a raw address (a notifier's data).
     *
     * @param address the mask's address
     * @return its words
     */
    public static long[] cpumaskAt(long address) {
        return EVERYTHING.asSlice(address, CPUMASK.byteSize()).toArray(JAVA_LONG);
    }

    // ---- job and notifier nodes -------------------------------------------------------------

    /**
     * Fills a zeroed node for a Java job owned by pool {@code owner}.
     *
     * @param node the node
     * @param owner the pool's index
     * @param parallel the parallel() stub
     * @param serial the serial() stub
     */
    public static void initJobNode(MemorySegment node, int owner, MemorySegment parallel, MemorySegment serial) {
        PRIV_PARALLEL.set(node, 0L, parallel);
        PRIV_SERIAL.set(node, 0L, serial);
        NODE_OWNER.set(node, 0L, owner);
    }

    /**
     * Writes the tag of a node before its submission.
     *
     * @param node the node
     * @param tag {@code generation << 32 | slot}
     */
    public static void setJobTag(MemorySegment node, long tag) {
        NODE_TAG.set(node, 0L, tag);
    }

    /**
     * The tag of a node, read with acquire semantics.
     *
     * @param node the node
     * @return its tag
     */
    public static long jobTagAcquire(MemorySegment node) {
        return (long) NODE_TAG.getAcquire(node, 0L);
    }

    /**
     * Writes the tag of a node with release semantics.
     *
     * @param node the node
     * @param tag the new tag
     */
    public static void setJobTagRelease(MemorySegment node, long tag) {
        NODE_TAG.setRelease(node, 0L, tag);
    }

    /**
     * Compares and sets the tag of a node (volatile semantics).
     *
     * @param node the node
     * @param expected the tag it must have
     * @param tag the new tag
     * @return whether it had {@code expected} and now has {@code tag}
     */
    public static boolean casJobTag(MemorySegment node, long expected, long tag) {
        return NODE_TAG.compareAndSet(node, 0L, expected, tag);
    }

    /**
     * {@link #jobTagAcquire} by raw address: no bounds, alignment or arena check (the caller
     * guarantees the node is live and aligned), for the submit and serial hot paths.
     *
     * @param address the node's address
     * @return the tag
     */
    public static long jobTagAcquireAt(long address) {
        return (long) NODE_TAG.getAcquire(EVERYTHING, address);
    }

    /**
     * {@link #setJobTagRelease} by raw address (see {@link #jobTagAcquireAt}).
     *
     * @param address the node's address
     * @param tag the new tag
     */
    public static void setJobTagReleaseAt(long address, long tag) {
        NODE_TAG.setRelease(EVERYTHING, address, tag);
    }

    /**
     * {@link #casJobTag} by raw address (see {@link #jobTagAcquireAt}).
     *
     * @param address the node's address
     * @param expected the tag expected
     * @param tag the new tag
     * @return whether the tag was {@code expected} and is now {@code tag}
     */
    public static boolean casJobTagAt(long address, long expected, long tag) {
        return NODE_TAG.compareAndSet(EVERYTHING, address, expected, tag);
    }

    /**
     * The tag of the node at a raw address (an upcall's argument).
     *
     * @param address the node's address
     * @return its tag
     */
    public static long jobTagAt(long address) {
        return (long) NODE_TAG.get(EVERYTHING, address);
    }

    /**
     * The owner of the node at a raw address (an upcall's argument).
     *
     * @param address the node's address
     * @return its owner
     */
    public static int jobOwnerAt(long address) {
        return (int) NODE_OWNER.get(EVERYTHING, address);
    }

    /**
     * Sets the callbacks of a native padata_priv.
     *
     * @param priv the padata_priv
     * @param parallel its parallel callback
     * @param serial its serial callback
     */
    public static void initPriv(MemorySegment priv, MemorySegment parallel, MemorySegment serial) {
        PRIV_PARALLEL.set(priv, 0L, parallel);
        PRIV_SERIAL.set(priv, 0L, serial);
    }

    /**
     * The {@code info} field of a padata_priv.
     *
     * @param priv the padata_priv
     * @return its {@code info}
     */
    public static int privInfo(MemorySegment priv) {
        return (int) PRIV_INFO.get(priv, 0L);
    }

    /**
     * Sets the {@code info} field of a padata_priv.
     *
     * @param priv the padata_priv
     * @param info the new value
     */
    public static void setPrivInfo(MemorySegment priv, int info) {
        PRIV_INFO.set(priv, 0L, info);
    }

    /**
     * Fills a zeroed notifier node.
     *
     * @param node the node
     * @param call the notifier stub
     * @param priority the chain priority
     * @param registration the id the stub dispatches on
     */
    public static void initNotifierNode(MemorySegment node, MemorySegment call, int priority, long registration) {
        NB_CALL.set(node, 0L, call);
        NB_PRIORITY.set(node, 0L, priority);
        node.set(JAVA_LONG, NOTIFIER_REGISTRATION_OFFSET, registration);
    }

    /**
     * The registration id of the notifier node at a raw address.
     *
     * @param address the node's address
     * @return its registration id
     */
    public static long notifierRegistrationAt(long address) {
        return EVERYTHING.get(JAVA_LONG, address + NOTIFIER_REGISTRATION_OFFSET);
    }

    // ---- statistics (SPEC section 9) ---------------------------------------------------------

    /**
     * <pre>
     * struct padata_stats {
     *     uint64_t accepted;
     *     uint64_t completed;
     *     uint64_t busy;
     *     uint32_t reorder_depth;
     *     uint32_t reorder_depth_max;
     *     uint32_t in_flight;
     *     uint32_t limit;
     *     uint32_t waiting_submitters;
     *     // 4 bytes of padding to 48
     * };
     * </pre>
     */
    public static final StructLayout PADATA_STATS = MemoryLayout.structLayout(
            JAVA_LONG.withName("accepted"),
            JAVA_LONG.withName("completed"),
            JAVA_LONG.withName("busy"),
            JAVA_INT.withName("reorder_depth"),
            JAVA_INT.withName("reorder_depth_max"),
            JAVA_INT.withName("in_flight"),
            JAVA_INT.withName("limit"),
            JAVA_INT.withName("waiting_submitters"),
            MemoryLayout.paddingLayout(4)).withName("padata_stats");

    private static final String[] PADATA_STATS_FIELDS = {
            "accepted", "completed", "busy", "reorder_depth", "reorder_depth_max", "in_flight", "limit",
            "waiting_submitters"};

    private static final MethodHandle PADATA_GET_STATS =
            downcall("padata_get_stats", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    /**
     * Calls {@code padata_get_stats}; see its kernel-doc in {@code native/include}.
     *
     * @param pinst the instance ({@code struct padata_instance *})
     * @param out the {@code struct padata_stats} to fill
     * @return what {@code padata_get_stats} returns: 0, or -EINVAL for NULL arguments
     */
    public static int getStats(MemorySegment pinst, MemorySegment out) {
        try {
            return (int) PADATA_GET_STATS.invokeExact(pinst, out);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * The fields of a filled {@code struct padata_stats}, in declaration order, the 32-bit ones
     * unsigned.
     *
     * @param st the struct, laid out as {@link #PADATA_STATS}
     * @return accepted, completed, busy, reorder_depth, reorder_depth_max, in_flight, limit,
     *         waiting_submitters
     */
    public static long[] statsValues(MemorySegment st) {
        long[] v = new long[PADATA_STATS_FIELDS.length];
        for (int i = 0; i < v.length; i++) {
            long off = PADATA_STATS.byteOffset(groupElement(PADATA_STATS_FIELDS[i]));
            v[i] = i < 3 ? st.get(JAVA_LONG, off) : Integer.toUnsignedLong(st.get(JAVA_INT, off));
        }
        return v;
    }

    /**
     * Every layout checked against padata_abi_query, by C struct name.
     *
     * @return the layouts of padata_priv, work_struct, notifier_block, cpumask, padata_cpumask,
     *         padata_mt_job and padata_stats
     */
    public static GroupLayout[] publicLayouts() {
        return new GroupLayout[] {PADATA_PRIV, WORK_STRUCT, NOTIFIER_BLOCK, CPUMASK, PADATA_CPUMASK, PADATA_MT_JOB,
                PADATA_STATS};
    }
}
