/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class AllocationAndNativeJobTest {
    /** Resubmits itself until done; records the worker threads it ran on. */
    static final class Spin extends PadataJob {
        final AtomicLong served;
        final Set<Long> threads;
        volatile boolean record = true;

        Spin(AtomicLong served, Set<Long> threads) {
            this.served = served;
            this.threads = threads;
        }

        @Override
        protected void parallel() {
            if (record)
                threads.add(Thread.currentThread().threadId());
            doSerial();
        }

        @Override
        protected void serial() {
            if (record)
                threads.add(Thread.currentThread().threadId());
            served.incrementAndGet();
        }
    }

    private static long run(Padata p, Spin[] jobs, long from, long n, int[] cpus) {
        long submitted = from;
        for (long i = 0; i < n; i++, submitted++) {
            Spin job = jobs[(int) (submitted % jobs.length)];
            while (job.isInFlight())
                Thread.yield(); // two cores: leave them to the workers
            p.doParallel(job, cpus[(int) (submitted % cpus.length)]);
        }
        return submitted;
    }

    @Test
    void theBindingAllocatesNothingPerJobInSteadyState() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported() && mx.isThreadAllocatedMemoryEnabled());
        try (Workqueue wq = Workqueue.create("alloc"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            AtomicLong served = new AtomicLong();
            Set<Long> threads = ConcurrentHashMap.newKeySet();
            Spin[] jobs = new Spin[256];
            for (int i = 0; i < jobs.length; i++)
                jobs[i] = new Spin(served, threads);
            int[] cpus = p.cpumask(CpuMaskType.SERIAL).toArray();
            long submitted = run(p, jobs, 0, TestSupport.scaled(300_000), cpus); // warm up, JIT included
            long target = submitted;
            TestSupport.await("warm-up", 60_000, () -> served.get() == target);
            for (Spin s : jobs)
                s.record = false;
            threads.add(Thread.currentThread().threadId());
            long[] ids = threads.stream().mapToLong(Long::longValue).toArray();
            long n = TestSupport.scaled(200_000);
            long before = Arrays.stream(mx.getThreadAllocatedBytes(ids)).sum();
            long end = run(p, jobs, submitted, n, cpus);
            TestSupport.await("measured run", 60_000, () -> served.get() == end);
            long after = Arrays.stream(mx.getThreadAllocatedBytes(ids)).sum();
            double perJob = (after - before) / (double) n;
            // A few stray bytes (a late JIT deoptimization) are tolerated; one object per job is not.
            assertTrue(perJob < 0.5, "allocated " + (after - before) + " bytes over " + n + " jobs on "
                    + ids.length + " threads: " + perJob + " bytes per job");
        }
    }

    private static final String CB_LIBRARY = System.getProperty("padata.test.cb.library", "");

    @Test
    void nativeJobsRunInOrderWithNoUpcallAtAll() throws Throwable {
        assumeTrue(Files.isRegularFile(Path.of(CB_LIBRARY)),
                "test callback library not built: " + CB_LIBRARY + " (mvn builds it in process-test-classes)");
        try (Arena arena = Arena.ofShared()) {
            SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(CB_LIBRARY), arena);
            Linker linker = Linker.nativeLinker();
            MethodHandle init = linker.downcallHandle(lib.find("testcb_init").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));
            MethodHandle served = linker.downcallHandle(lib.find("testcb_served").orElseThrow(), FunctionDescriptor.of(JAVA_LONG));
            MethodHandle misordered = linker.downcallHandle(lib.find("testcb_misordered").orElseThrow(), FunctionDescriptor.of(JAVA_LONG));
            MethodHandle checksum = linker.downcallHandle(lib.find("testcb_checksum").orElseThrow(), FunctionDescriptor.of(JAVA_LONG));
            init.invokeExact(NativeJob.doSerialFunction());
            MemorySegment parallel = lib.find("testcb_parallel").orElseThrow();
            MemorySegment serial = lib.find("testcb_serial").orElseThrow();

            int threadsBefore = ManagementFactory.getThreadMXBean().getThreadCount();
            long expected = 0;
            int n = TestSupport.scaled(200_000);
            try (Workqueue wq = Workqueue.create("nativeonly"); Padata p = Padata.allocPossible(wq)) {
                p.start();
                NativeJob[] jobs = new NativeJob[128];
                for (int i = 0; i < jobs.length; i++)
                    jobs[i] = NativeJob.allocate(arena, parallel, serial, 24);
                for (long i = 0; i < n; i++) {
                    while ((long) served.invokeExact() <= i - jobs.length)
                        Thread.onSpinWait();
                    NativeJob job = jobs[(int) (i % jobs.length)];
                    job.payload().set(JAVA_LONG, 0, i);
                    job.payload().set(JAVA_LONG, 8, i * 3 + 1);
                    for (;;) {
                        try {
                            p.doParallel(job, 0);
                            break;
                        } catch (PadataBusyException busy) {
                            Thread.onSpinWait();
                        }
                    }
                    long v = (i * 3 + 1) * 0x9e3779b97f4a7c15L;
                    expected = expected * 31 + (v ^ (v >>> 29));
                }
                p.stop();
                assertEquals(n, (long) served.invokeExact());
                assertEquals(0L, (long) misordered.invokeExact());
                assertEquals(expected, (long) checksum.invokeExact());
                // An upcall attaches the native worker to the JVM as a thread named padata-<wq>/<cpu>.
                boolean attached = Thread.getAllStackTraces().keySet().stream()
                        .anyMatch(t -> t.getName().startsWith("padata-nativeonly"));
                assertFalse(attached, "a native-only workqueue's worker entered Java");
                assertEquals(threadsBefore, ManagementFactory.getThreadMXBean().getThreadCount());
            }
        }
    }

    @Test
    void aNativeJobStillInFlightCannotBeSubmittedAgain() throws Throwable {
        assumeTrue(Files.isRegularFile(Path.of(CB_LIBRARY)), "test callback library not built: " + CB_LIBRARY);
        try (Arena arena = Arena.ofShared(); Workqueue wq = Workqueue.create("nativebusy");
             Padata p = Padata.allocPossible(wq)) {
            SymbolLookup lib = SymbolLookup.libraryLookup(Path.of(CB_LIBRARY), arena);
            // parallel() that never calls padata_do_serial: use the serial function for both, so
            // the job stays in flight until we finish it by hand.
            MemorySegment serialFn = lib.find("testcb_serial").orElseThrow();
            MethodHandle init = Linker.nativeLinker().downcallHandle(lib.find("testcb_init").orElseThrow(),
                    FunctionDescriptor.ofVoid(ADDRESS));
            init.invokeExact(NativeJob.doSerialFunction());
            NativeJob job = NativeJob.allocate(arena, serialFn, serialFn, 24);
            job.setInfo(7);
            assertEquals(7, job.info());
            p.start();
            p.doParallel(job, 0);
            var e = assertThrows(IllegalStateException.class, () -> p.doParallel(job, 0));
            assertTrue(e.getMessage().contains("still in flight"), e.getMessage());
            MethodHandle doSerial = Linker.nativeLinker().downcallHandle(NativeJob.doSerialFunction(),
                    FunctionDescriptor.ofVoid(ADDRESS));
            doSerial.invokeExact(job.segment());
        }
    }

    @Test
    void aNativeJobOfAClosedArenaIsRefusedBeforeLibpadataSeesIt() throws Throwable {
        // The submitting downcalls pass a global-scope alias of the node (no arena acquire per
        // job); the function check before them still reads through the arena's segment.
        try (Workqueue wq = Workqueue.create("nativeclosed"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            Arena arena = Arena.ofShared();
            MemorySegment fn = NativeJob.doSerialFunction();
            NativeJob job = NativeJob.allocate(arena, fn, fn, 8);
            arena.close();
            assertThrows(IllegalStateException.class, () -> p.doParallel(job, 0));
            assertThrows(IllegalStateException.class, () -> p.doParallel(job, 0, java.time.Duration.ofSeconds(1)));
            assertThrows(IllegalStateException.class, () -> p.doParallelWaiting(job, 0));
            assertEquals(0, p.stats().accepted(), "nothing reached libpadata");
        }
    }

    @Test
    void nativeJobAllocationRejectsNullFunctionsAndNegativeSizes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment fn = NativeJob.doSerialFunction();
            var e = assertThrows(IllegalArgumentException.class, () -> NativeJob.allocate(arena, MemorySegment.NULL, fn, 0));
            assertTrue(e.getMessage().contains("parallel"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> NativeJob.allocate(arena, fn, MemorySegment.NULL, 0));
            assertTrue(e.getMessage().contains("serial"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> NativeJob.allocate(arena, fn, fn, -8));
            assertTrue(e.getMessage().contains("-8"), e.getMessage());
            assertThrows(NullPointerException.class, () -> NativeJob.allocate(null, fn, fn, 0));
            NativeJob ok = NativeJob.allocate(arena, fn, fn, 40);
            assertEquals(40, ok.payload().byteSize());
            assertEquals(48 + 40, ok.segment().byteSize());
        }
    }

    /**
     * Each native job lives on cache lines of its own: jobs submitted one after the other are
     * written on different CPUs at once, and neighbours sharing a line moved it between the CPUs
     * on every job (java-padata-native ran at 4.9 M or 10.5 M jobs/s from one JVM to the next,
     * by where malloc's 16-byte-aligned blocks happened to fall). Mixed payload sizes, so that
     * 16-byte alignment alone cannot land every block on a line boundary.
     */
    @Test
    void nativeJobsDoNotShareACacheLineWithOneAnother() {
        long line = 64;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment fn = NativeJob.doSerialFunction();
            long[] sizes = {1, 17, 33, 49, 100, 8, 24};
            MemorySegment[] blocks = new MemorySegment[4 * sizes.length];
            for (int i = 0; i < blocks.length; i++) {
                long payload = sizes[i % sizes.length];
                blocks[i] = NativeJob.allocate(arena, fn, fn, payload).segment();
                assertEquals(48 + payload, blocks[i].byteSize(), "the segment is the job, not its padding");
                assertEquals(0, blocks[i].address() % line, "job " + i + " at 0x" + Long.toHexString(blocks[i].address()));
            }
            Arrays.sort(blocks, (a, b) -> Long.compareUnsigned(a.address(), b.address()));
            for (int i = 1; i < blocks.length; i++) {
                long endLine = (blocks[i - 1].address() + blocks[i - 1].byteSize() + line - 1) / line;
                assertTrue(blocks[i].address() / line >= endLine, "jobs at 0x" + Long.toHexString(blocks[i - 1].address())
                        + " and 0x" + Long.toHexString(blocks[i].address()) + " share a cache line");
            }
        }
    }
}
