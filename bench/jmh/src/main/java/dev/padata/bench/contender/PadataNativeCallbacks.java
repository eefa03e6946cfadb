/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.NativeJob;
import dev.padata.PadataStats;
import dev.padata.bench.Work;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/**
 * {@code java-padata-native}: the Java API submitting {@link NativeJob}s whose parallel() and
 * serial() are the C callbacks of {@code libpadata_bench_cb.so} (the very code of the C
 * contender): no Java runs on the padata workers. The benchmark thread fills each
 * {@code struct bench_job} through the declared layout and submits it; the C serial() checks
 * the order per lane, folds the digest into the native sink and clears the job's busy word,
 * which the submitter reads with an acquire load before reusing the job (NativeJob's Javadoc:
 * the C serial() reports completions). The ring holds one job more than the in-flight limit
 * per lane ({@link PadataBase}), so the job taken next has always finished: the submitter waits only in
 * {@code doParallel(job, cbCpu, maxWait)}, the library's wait, and a busy job at its turn
 * fails the batch instead of being waited for.
 */
public final class PadataNativeCallbacks extends PadataBase {
    /** Longer than any batch: a submission that cannot get in within it is a failure. */
    private static final Duration MAX_WAIT = Duration.ofMinutes(5);
    private final Arena arena = Arena.ofShared();
    private final NativeJob[] pool;
    private final MemorySegment[] payloads;
    private final MemorySegment cpus;
    private final MemorySegment why;
    private MemorySegment sink;
    private int latEvery;
    private long busy;
    private boolean closed;

    public PadataNativeCallbacks(Config config) {
        super(config, "jnative");
        try {
            pool = new NativeJob[poolSize];
            payloads = new MemorySegment[poolSize];
            for (int i = 0; i < poolSize; i++) {
                pool[i] = NativeJob.allocate(arena, BenchCallbacks.PARALLEL, BenchCallbacks.SERIAL,
                        BenchCallbacks.JOB_PAYLOAD.byteSize());
                payloads[i] = pool[i].payload();
            }
            cpus = arena.allocateFrom(ValueLayout.JAVA_INT, lanes);
            why = arena.allocate(BenchCallbacks.WHY_BYTES);
            sink = BenchCallbacks.sinkCreate(cpus, lanes.length, n, 0);
        } catch (RuntimeException | Error e) {
            super.close();
            arena.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return "java-padata-native";
    }

    @Override
    public void sampleLatency(int every) {
        BenchCallbacks.sinkDestroy(sink);
        sink = BenchCallbacks.sinkCreate(cpus, lanes.length, n, every);
        latEvery = every;
    }

    @Override
    public long[] latencySamples() {
        if (latEvery == 0) {
            return new long[0];
        }
        MemorySegment s = sink.reinterpret(BenchCallbacks.SINK_LAT_CAP + 8);
        long cap = s.get(ValueLayout.JAVA_LONG, BenchCallbacks.SINK_LAT_CAP);
        MemorySegment lat = s.get(ValueLayout.ADDRESS, BenchCallbacks.SINK_LAT_NS).reinterpret(cap * 8);
        return lat.toArray(ValueLayout.JAVA_LONG);
    }

    @Override
    public void runBatch() {
        MemorySegment sk = sink;
        BenchCallbacks.sinkReset(sk);
        padata.start();
        PadataStats before = padata.stats();
        int slot = 0;
        for (int i = 0; i < n; i++) {
            NativeJob job = pool[slot];
            MemorySegment p = payloads[slot];
            // Pairs with the release store of busy at the end of bench_cb_serial().
            if ((int) BenchCallbacks.BUSY.getAcquire(p, 0L) != 0) {
                padata.stop();
                throw new IllegalStateException("java-padata-native: job " + i + " found ring slot " + slot
                        + " still in flight: more than the in-flight limit (" + padata.maxInflight()
                        + ") of its lane's jobs were accepted");
            }
            if (++slot == poolSize) {
                slot = 0;
            }
            int lane = i % lanes.length;
            boolean sampled = latEvery > 0 && i % latEvery == 0;
            BenchCallbacks.SINK.set(p, 0L, sk);
            BenchCallbacks.INDEX.set(p, 0L, (long) i);
            BenchCallbacks.SEED.set(p, 0L, Work.seed(i));
            BenchCallbacks.W.set(p, 0L, w);
            BenchCallbacks.LANE.set(p, 0L, lane);
            BenchCallbacks.T_SUBMIT.set(p, 0L, 0L);
            BenchCallbacks.BUSY.setRelease(p, 0L, 1);
            if (sampled) {
                BenchCallbacks.T_SUBMIT.set(p, 0L, System.nanoTime());
            }
            boolean queued;
            try {
                queued = padata.doParallel(job, lanes[lane], MAX_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                padata.stop();
                throw new IllegalStateException("java-padata-native interrupted", e);
            }
            if (!queued) {
                padata.stop();
                throw new IllegalStateException("java-padata-native: job " + i + " found no room in " + MAX_WAIT);
            }
        }
        padata.stop();
        busy = padata.stats().busy() - before.busy();
        String failure = BenchCallbacks.sinkCheck(sk, n, reference.sum(), reference.xor(), why);
        if (failure != null) {
            throw new IllegalStateException("java-padata-native w=" + w + ": " + failure);
        }
    }

    /** The submissions of the last batch that padata answered busy, so the submitter waited in the library. */
    @Override
    public long busyRetries() {
        return busy;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        super.close(); // waits for every accepted job before the memory goes
        BenchCallbacks.sinkDestroy(sink);
        arena.close();
    }
}
