/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A job whose {@code parallel()} and {@code serial()} are C functions: it runs through
 * libpadata with no Java at all on the worker threads.
 *
 * <p>The job is a native block laid out as the C struct
 * <pre class="language-c">{@code
 * struct my_job {
 *     struct padata_priv padata;   // parallel and serial set from Java
 *     unsigned char payload[];     // payloadBytes, 8-byte aligned, zeroed
 * };
 * }</pre>
 * so the C callbacks recover their data with {@code container_of(padata, struct my_job, padata)}.
 * Each block starts on a 64-byte cache line and is followed by padding to a whole line, so two
 * jobs never share a line (they are written on different CPUs at once).
 * The parallel function must call {@code padata_do_serial(padata)} exactly once: link against
 * libpadata, or take the address from {@link #doSerialFunction()} (handy when the C library is
 * loaded without a dependency on libpadata).
 *
 * <pre>{@code
 * try (Arena arena = Arena.ofShared();                     // closed last: outlives the jobs
 *      Workqueue wq = Workqueue.create("native");
 *      Padata padata = Padata.allocPossible(wq)) {
 *     SymbolLookup lib = SymbolLookup.libraryLookup(Path.of("libmyjobs.so"), arena);
 *     NativeJob job = NativeJob.allocate(arena, lib.find("my_parallel").orElseThrow(),
 *             lib.find("my_serial").orElseThrow(), 16);
 *     job.payload().set(ValueLayout.JAVA_LONG, 0, 42L);
 *     padata.start();
 *     padata.doParallel(job, 0);
 * }                                                        // padata.close() waits for the job
 * }</pre>
 *
 * <p>Java does not see when a native job finishes; the C serial() reports that (a counter in
 * the payload, for instance). Submitting a job still in flight fails with
 * IllegalStateException.
 *
 * <p><b>Restricted:</b> {@link #allocate} takes raw function pointers that libpadata will call,
 * so, like the JDK's restricted methods, it requires native access for the module of its
 * caller ({@code --enable-native-access=<module>}, {@code ALL-UNNAMED} for the class path, or
 * the {@code Enable-Native-Access} manifest attribute); without it it throws
 * IllegalCallerException. It does not fall back to a warning: the JVM would not know the call
 * happened. Granting native access to {@code dev.padata} alone does not let other modules run
 * native code through it.
 */
public final class NativeJob {
    private static final long PARALLEL_OFFSET =
            PadataNative.PADATA_PRIV.byteOffset(MemoryLayout.PathElement.groupElement("parallel"));
    private static final long SERIAL_OFFSET =
            PadataNative.PADATA_PRIV.byteOffset(MemoryLayout.PathElement.groupElement("serial"));
    /** The alignment and size granule of a job's block (bytes). */
    static final long CACHE_LINE = 64;
    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private final MemorySegment block;
    private final MemorySegment priv;
    /** {@link #priv}'s address in the global scope: what the submitting downcalls pass. */
    private final MemorySegment handle;
    private final MemorySegment payload;
    /** The functions {@link #allocate} checked its caller for; doParallel refuses any others. */
    private final long parallelFn;
    private final long serialFn;

    private NativeJob(MemorySegment block, long payloadBytes, long parallelFn, long serialFn) {
        this.block = block;
        this.priv = block.asSlice(0, PadataNative.PADATA_PRIV.byteSize());
        this.handle = MemorySegment.ofAddress(priv.address());
        this.payload = block.asSlice(PadataNative.PADATA_PRIV.byteSize(), payloadBytes);
        this.parallelFn = parallelFn;
        this.serialFn = serialFn;
    }

    /**
     * Allocates a zeroed job in {@code arena}, which must stay open while the job is in flight.
     *
     * <p>This method is <em>restricted</em> (see the class comment): libpadata calls
     * {@code parallel} and {@code serial} as given, and a wrong pointer crashes the JVM.
     *
     * @param arena        where the job lives
     * @param parallel     {@code void (*)(struct padata_priv *)}, not NULL
     * @param serial       {@code void (*)(struct padata_priv *)}, not NULL
     * @param payloadBytes bytes after the padata_priv for the caller's data, {@code >= 0}
     * @return the new job, not in flight
     * @throws IllegalCallerException   when the caller's module has no native access
     * @throws IllegalArgumentException for a NULL function or a negative size
     */
    public static NativeJob allocate(Arena arena, MemorySegment parallel, MemorySegment serial, long payloadBytes) {
        ensureNativeAccess(WALKER.getCallerClass(), "NativeJob.allocate");
        Objects.requireNonNull(arena, "arena");
        checkFunction("parallel", parallel);
        checkFunction("serial", serial);
        if (payloadBytes < 0)
            throw new IllegalArgumentException("payloadBytes must be >= 0, not " + payloadBytes);
        long size = PadataNative.PADATA_PRIV.byteSize() + payloadBytes;
        // Whole cache lines of its own: a job is written on the submitter's, a parallel worker's
        // and a serial worker's CPU in turn, and jobs submitted one after the other run on
        // different CPUs at once. Two jobs sharing a line made every job move it between the
        // CPUs (with malloc's 16-byte alignment, whether neighbours share depends on where the
        // heap starts: the same benchmark ran at 4.9 M or 10.5 M jobs/s from one JVM to the next).
        long lines = size > Long.MAX_VALUE - (CACHE_LINE - 1) ? size : (size + CACHE_LINE - 1) & -CACHE_LINE;
        MemorySegment block = arena.allocate(lines, CACHE_LINE).asSlice(0, size);
        PadataNative.initPriv(block, parallel, serial);
        return new NativeJob(block, payloadBytes, parallel.address(), serial.address());
    }

    /**
     * What the JDK's restricted methods check: the module of the class that called
     * {@code method} must have native access (its own, not dev.padata's).
     */
    static void ensureNativeAccess(Class<?> caller, String method) {
        Module m = caller.getModule();
        if (m.isNativeAccessEnabled())
            return;
        String name = m.isNamed() ? m.getName() : "ALL-UNNAMED";
        throw new IllegalCallerException(method + " is restricted: " + caller.getName() + " in "
                + (m.isNamed() ? "module " + name : "the unnamed module")
                + " has no native access; add --enable-native-access=" + name + " to the java command line");
    }

    /**
     * Refuses to submit a job whose function pointers were rewritten (through {@link #segment()})
     * since {@link #allocate} checked its caller for them.
     */
    void checkFunctions() {
        if (priv.get(JAVA_LONG, PARALLEL_OFFSET) != parallelFn || priv.get(JAVA_LONG, SERIAL_OFFSET) != serialFn)
            throw new IllegalStateException(this + ": its parallel or serial function pointer was changed after"
                    + " allocate(); allocate a new NativeJob for other functions");
    }

    private static void checkFunction(String what, MemorySegment fn) {
        Objects.requireNonNull(fn, what);
        if (fn.address() == 0)
            throw new IllegalArgumentException(what + " function pointer is NULL");
    }

    /**
     * The address of {@code padata_do_serial}, to hand to C code that cannot link against libpadata.
     *
     * @return the function pointer {@code void (*)(struct padata_priv *)}
     */
    public static MemorySegment doSerialFunction() {
        return PadataNative.DO_SERIAL_FUNCTION;
    }

    /**
     * The whole block: the {@code struct padata_priv} at offset 0, then the payload. Its
     * function pointers must stay as allocated (doParallel checks them).
     *
     * @return the job's memory
     */
    public MemorySegment segment() {
        return block;
    }

    /**
     * The caller's bytes after the padata_priv.
     *
     * @return a slice of {@link #segment()} past the padata_priv
     */
    public MemorySegment payload() {
        return payload;
    }

    /**
     * The padata_priv's {@code info} field (free for the caller).
     *
     * @return the {@code info} field
     */
    public int info() {
        return PadataNative.privInfo(priv);
    }

    /**
     * Sets the padata_priv's {@code info} field (free for the caller).
     *
     * @param info the new value
     */
    public void setInfo(int info) {
        PadataNative.setPrivInfo(priv, info);
    }

    /**
     * The node for the submitting downcalls, in the global scope: an arena's own segment would
     * make every downcall acquire and release a shared arena (two atomics per job), which keeps
     * it open only during the call, while the job needs it until serial(). {@link #checkFunctions}
     * (before every submission) reads through the arena's segment, so a job of a closed arena is
     * still refused there (IllegalStateException) before libpadata sees it.
     */
    MemorySegment priv() {
        return handle;
    }

    @Override
    public String toString() {
        return "NativeJob@0x" + Long.toHexString(block.address());
    }
}
