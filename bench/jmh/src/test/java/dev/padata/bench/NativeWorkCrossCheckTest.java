/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The C workload (bench/c/work.c, through libpadata_bench_cb.so) and {@link Work} give the same
 * digest for the same seeds: a range of small seeds, random 64-bit seeds, and work sizes across
 * the table's wrap.
 */
class NativeWorkCrossCheckTest {
    private static Arena arena;
    private static MethodHandle nativeWork;

    @BeforeAll
    static void load() {
        var lib = TestFiles.benchCallbackLibrary();
        assumeTrue(lib.isPresent(), TestFiles::noCallbackLibrary);
        arena = Arena.ofShared();
        SymbolLookup lookup = SymbolLookup.libraryLookup(lib.get(), arena);
        nativeWork = Linker.nativeLinker().downcallHandle(lookup.find("bench_work_export").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    }

    @AfterAll
    static void unload() {
        if (arena != null) {
            arena.close();
        }
    }

    private static long c(long seed, int w) throws Throwable {
        return (long) nativeWork.invokeExact(seed, w);
    }

    @Test
    void sameDigestsForTheSeedsOfTheBenchmarkJobs() throws Throwable {
        for (int w : new int[] {0, 1, 2, 100, 1000}) {
            for (long i = 0; i < 3000; i++) {
                long seed = Work.seed(i);
                assertEquals(c(seed, w), Work.work(seed, w), "job " + i + " w " + w);
            }
        }
    }

    @Test
    void sameDigestsForRandomSeedsAndSizesAcrossTheTableWrap() throws Throwable {
        SplittableRandom rnd = new SplittableRandom(20240601);
        for (int k = 0; k < 300; k++) {
            long seed = rnd.nextLong();
            int w = rnd.nextInt(70_001);
            assertEquals(c(seed, w), Work.work(seed, w), "seed " + Long.toUnsignedString(seed) + " w " + w);
        }
        for (long seed : new long[] {0, 0x7fff, 0x8000, -1L, Long.MIN_VALUE}) {
            assertEquals(c(seed, 65_537), Work.work(seed, 65_537), "seed " + Long.toUnsignedString(seed));
        }
    }

    @Test
    void libraryPathIsTheOneUnderTest() {
        Path p = TestFiles.benchCallbackLibrary().orElseThrow();
        assertEquals("libpadata_bench_cb.so", p.getFileName().toString());
    }
}
