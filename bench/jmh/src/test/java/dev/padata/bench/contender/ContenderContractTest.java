/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.bench.TestFiles;
import dev.padata.bench.Work;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What every contender promises: batches of jobs pass their order and digest check, one after
 * another, at several work sizes; a wrong reference makes the batch throw (the check is real);
 * close() is idempotent. One subclass per contender.
 */
abstract class ContenderContractTest {
    /** The contender under test. */
    abstract String name();

    /** True when the contender measures latency (the padata ones). */
    boolean measuresLatency() {
        return name().contains("padata");
    }

    /** Skips, with the reason, when something the contender needs is not built. */
    void assumeAvailable() {
    }

    private Contender open(int w, int n) {
        assumeAvailable();
        return Contenders.create(name(), Contender.Config.of(w, n, Runtime.getRuntime().availableProcessors()));
    }

    @Test
    void consecutiveBatchesPassTheirCheckAtSeveralWorkSizes() {
        for (int w : new int[] {0, 100, 1000}) {
            try (Contender c = open(w, 3000)) {
                assertEquals(name(), c.name());
                for (int b = 0; b < 3; b++) {
                    assertDoesNotThrow(c::runBatch, "batch " + b + " at w=" + w);
                }
            }
        }
    }

    @Test
    void aBatchWhoseDigestsDoNotMatchTheReferenceThrows() {
        assumeAvailable();
        Work.Digest real = Work.reference(500, 10);
        Contender.Config wrong = new Contender.Config(10, 500, new Work.Digest(real.sum() + 1, real.xor()),
                Runtime.getRuntime().availableProcessors());
        try (Contender c = Contenders.create(name(), wrong)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, c::runBatch);
            assertTrue(e.getMessage().contains(name()), e.getMessage());
        }
    }

    @Test
    void batchesOfOneJobWork() {
        try (Contender c = open(5, 1)) {
            assertDoesNotThrow(c::runBatch);
            assertDoesNotThrow(c::runBatch);
        }
    }

    @Test
    void latencyIsSampledByThePadataContendersOnly() {
        try (Contender c = open(100, 2000)) {
            if (!measuresLatency()) {
                assertThrows(UnsupportedOperationException.class, () -> c.sampleLatency(4));
                assertEquals(0, c.latencySamples().length);
                return;
            }
            c.sampleLatency(4);
            c.runBatch();
            long[] lat = c.latencySamples();
            long recorded = Arrays.stream(lat).filter(x -> x > 0).count();
            assertEquals(500, recorded, "every 4th of 2000 jobs has a latency sample");
            c.sampleLatency(0);
            c.runBatch();
            assertEquals(0, Arrays.stream(c.latencySamples()).filter(x -> x > 0).count());
        }
    }

    @Test
    void closeTwiceIsHarmless() {
        Contender c = open(0, 10);
        c.runBatch();
        c.close();
        assertDoesNotThrow(c::close);
    }

    static void assumeCallbackLibrary() {
        assumeTrue(TestFiles.benchCallbackLibrary().isPresent(), TestFiles::noCallbackLibrary);
    }
}

class JavaSingleTest extends ContenderContractTest {
    String name() {
        return "java-single";
    }
}

class ThreadPoolFuturesTest extends ContenderContractTest {
    String name() {
        return "java-pool";
    }
}

class ParallelStreamTest extends ContenderContractTest {
    String name() {
        return "java-stream";
    }
}

class MapConcurrentTest extends ContenderContractTest {
    String name() {
        return "java-mapconcurrent";
    }
}

class DisruptorPipelineTest extends ContenderContractTest {
    String name() {
        return "java-disruptor";
    }
}

class PadataLambdasTest extends ContenderContractTest {
    String name() {
        return "java-padata-lambda";
    }
}

class PadataNativeCallbacksTest extends ContenderContractTest {
    String name() {
        return "java-padata-native";
    }

    @Override
    void assumeAvailable() {
        assumeCallbackLibrary();
    }

    /**
     * The waiting for room is the library's: at a limit of 4 the submitter (about 0.1 µs per
     * job) outruns two workers at w = 10000 (about 11 µs per job), so padata answers busy and
     * doParallel(job, cbCpu, maxWait) waits. The contender once kept a ring smaller than the
     * limit and slept on its own futex half a ring ahead: the core never filled (0 busy), and
     * users get no such wait.
     */
    @Test
    void theSubmitterWaitsInTheLibraryNotInTheBenchmark() {
        assumeAvailable();
        String key = "bench.padata.inflight";
        String saved = System.getProperty(key);
        System.setProperty(key, "4");
        long busy = 0;
        try (Contender c = Contenders.create(name(), Contender.Config.of(10000, 3000, 2))) {
            for (int b = 0; b < 3; b++) {
                assertDoesNotThrow(c::runBatch, "batch " + b);
                busy += c.busyRetries();
            }
        } finally {
            if (saved == null)
                System.clearProperty(key);
            else
                System.setProperty(key, saved);
        }
        assertTrue(busy > 0, "9000 jobs at a limit of 4 never found padata full: the benchmark waits on its own");
    }
}

class PadataGathererTest extends ContenderContractTest {
    String name() {
        return "java-padata-gatherer";
    }

    /** A one-line stream has no hook for per-job latency, like java-mapconcurrent. */
    @Override
    boolean measuresLatency() {
        return false;
    }
}

class PadataIdiomaticTest extends ContenderContractTest {
    String name() {
        return "java-padata-idiomatic";
    }
}
