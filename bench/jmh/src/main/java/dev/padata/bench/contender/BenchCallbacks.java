/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.NativeJob;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Bindings of {@code libpadata_bench_cb.so} (bench/c/bench_cb.h): the native parallel()/serial()
 * callbacks, the serial-stage sink, and the layout of {@code struct bench_job}. Loaded once from
 * {@code -Dpadata.bench.cb.library}; the layout is checked against the library's
 * {@code bench_cb_abi_query()} and the library must call the same libpadata as the Java library
 * (run with {@code -Dpadata.library.path} naming the libpadata of the same build).
 */
final class BenchCallbacks {
    private BenchCallbacks() {
    }

    /** {@code sizeof(struct padata_priv)}: the payload of a NativeJob starts here. */
    static final long PRIV_SIZE = 48;

    /**
     * The part of {@code struct bench_job} after its {@code struct padata_priv priv}:
     * <pre>
     * struct bench_job {
     *     struct padata_priv priv;   // 48 bytes, NativeJob's header
     *     struct bench_sink *sink;
     *     uint64_t index;
     *     uint64_t seed;
     *     uint64_t digest;
     *     uint64_t t_submit_ns;
     *     uint32_t w;
     *     uint32_t lane;
     *     uint32_t busy;
     *     uint32_t pad0;
     * };
     * </pre>
     */
    static final StructLayout JOB_PAYLOAD = MemoryLayout.structLayout(
            ADDRESS.withName("sink"),
            JAVA_LONG.withName("index"),
            JAVA_LONG.withName("seed"),
            JAVA_LONG.withName("digest"),
            JAVA_LONG.withName("t_submit_ns"),
            JAVA_INT.withName("w"),
            JAVA_INT.withName("lane"),
            JAVA_INT.withName("busy"),
            JAVA_INT.withName("pad0")).withName("bench_job_payload");

    static final VarHandle SINK = JOB_PAYLOAD.varHandle(groupElement("sink"));
    static final VarHandle INDEX = JOB_PAYLOAD.varHandle(groupElement("index"));
    static final VarHandle SEED = JOB_PAYLOAD.varHandle(groupElement("seed"));
    static final VarHandle T_SUBMIT = JOB_PAYLOAD.varHandle(groupElement("t_submit_ns"));
    static final VarHandle W = JOB_PAYLOAD.varHandle(groupElement("w"));
    static final VarHandle LANE = JOB_PAYLOAD.varHandle(groupElement("lane"));
    static final VarHandle BUSY = JOB_PAYLOAD.varHandle(groupElement("busy"));

    static final MemorySegment PARALLEL;
    static final MemorySegment SERIAL;
    private static final MethodHandle SINK_CREATE;
    private static final MethodHandle SINK_DESTROY;
    private static final MethodHandle SINK_RESET;
    private static final MethodHandle SINK_CHECK;
    private static final MethodHandle ABI_QUERY;
    /** Where struct bench_sink keeps lat_ns and lat_cap. */
    static final long SINK_LAT_NS;
    static final long SINK_LAT_CAP;

    static {
        String p = System.getProperty("padata.bench.cb.library", "");
        if (p.isEmpty() || !Files.isRegularFile(Path.of(p))) {
            throw new IllegalStateException("the native-callback contender needs libpadata_bench_cb.so: run with "
                    + "-Dpadata.bench.cb.library=<build>/bench/c/libpadata_bench_cb.so (scripts/bench does), now '" + p + "'");
        }
        // Load the Java library's libpadata first: the callback library's dependency on
        // libpadata.so.0 then binds to that copy (the dynamic loader matches it by soname).
        long ours = NativeJob.doSerialFunction().address();
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(p), Arena.global());
        PARALLEL = find(lib, "bench_cb_parallel");
        SERIAL = find(lib, "bench_cb_serial");
        SINK_CREATE = linker.downcallHandle(find(lib, "bench_sink_create"),
                FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        SINK_DESTROY = linker.downcallHandle(find(lib, "bench_sink_destroy"), FunctionDescriptor.ofVoid(ADDRESS));
        SINK_RESET = linker.downcallHandle(find(lib, "bench_sink_reset"), FunctionDescriptor.ofVoid(ADDRESS));
        SINK_CHECK = linker.downcallHandle(find(lib, "bench_sink_check"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT));
        ABI_QUERY = linker.downcallHandle(find(lib, "bench_cb_abi_query"), FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        MethodHandle doSerialAddress = linker.downcallHandle(find(lib, "bench_cb_do_serial_address"),
                FunctionDescriptor.of(ADDRESS));
        try {
            long theirs = ((MemorySegment) doSerialAddress.invokeExact()).address();
            if (theirs != ours) {
                throw new IllegalStateException(p + " calls another copy of libpadata than the Java library loaded"
                        + " (padata_do_serial at 0x" + Long.toHexString(theirs) + " vs 0x" + Long.toHexString(ours)
                        + "): run with -Dpadata.library.path=<the libpadata.so that " + p + " links>");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        checkLayout();
        SINK_LAT_NS = abi("offsetof(struct bench_sink, lat_ns)");
        SINK_LAT_CAP = abi("offsetof(struct bench_sink, lat_cap)");
    }

    private static MemorySegment find(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libpadata_bench_cb.so does not export " + name));
    }

    static long abi(String name) {
        try (Arena a = Arena.ofConfined()) {
            long v = (long) ABI_QUERY.invokeExact(a.allocateFrom(name));
            if (v < 0) {
                throw new IllegalStateException("libpadata_bench_cb.so does not know '" + name + "'");
            }
            return v;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The Java layout matches the C one, field by field. */
    private static void checkLayout() {
        expect("offsetof(struct bench_job, priv)", 0);
        expect("sizeof(struct bench_job)", PRIV_SIZE + JOB_PAYLOAD.byteSize());
        for (String f : new String[] {"sink", "index", "seed", "digest", "t_submit_ns", "w", "lane", "busy"}) {
            expect("offsetof(struct bench_job, " + f + ")", PRIV_SIZE + JOB_PAYLOAD.byteOffset(groupElement(f)));
        }
    }

    private static void expect(String what, long javaValue) {
        long c = abi(what);
        if (c != javaValue) {
            throw new IllegalStateException("layout mismatch: " + what + " is " + c + " in C, " + javaValue + " in Java");
        }
    }

    static MemorySegment sinkCreate(MemorySegment cpus, int lanes, long jobs, int latEvery) {
        try {
            MemorySegment s = (MemorySegment) SINK_CREATE.invokeExact(lanes, cpus, jobs, latEvery);
            if (s.address() == 0) {
                throw new OutOfMemoryError("bench_sink_create(" + lanes + " lanes, " + jobs + " jobs) failed");
            }
            return s;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void sinkDestroy(MemorySegment sink) {
        try {
            SINK_DESTROY.invokeExact(sink);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void sinkReset(MemorySegment sink) {
        try {
            SINK_RESET.invokeExact(sink);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Bytes of the reason buffer {@link #sinkCheck} needs. */
    static final int WHY_BYTES = 256;

    /** Null when the batch passed, else the sink's reason (written into {@code why}). Allocates nothing when it passes. */
    static String sinkCheck(MemorySegment sink, long jobs, long sum, long xor, MemorySegment why) {
        try {
            int rc = (int) SINK_CHECK.invokeExact(sink, jobs, sum, xor, why, WHY_BYTES);
            return rc == 0 ? null : why.getString(0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
