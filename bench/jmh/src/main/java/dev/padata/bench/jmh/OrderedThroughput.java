/* SPDX-License-Identifier: MIT */
package dev.padata.bench.jmh;

import dev.padata.bench.Work;
import dev.padata.bench.contender.Contender;
import dev.padata.bench.contender.Contenders;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Throughput of the Java contenders: one benchmark operation is one batch of
 * {@link Work#jobsFor(int)} jobs, checked for order and digests (a failed check throws, and JMH
 * then reports no score for that pair). The {@code jobs} secondary result is the throughput in
 * jobs per second; with {@code -prof gc}, {@code gc.alloc.rate.norm} divided by the batch size
 * is the number of bytes allocated per job.
 *
 * <pre>
 * java -jar bench/jmh/target/benchmarks.jar OrderedThroughput -p contender=java-pool -p w=1000 -prof gc
 * </pre>
 * The padata contenders need {@code -Dpadata.bench.cb.library=.../libpadata_bench_cb.so} (native
 * callbacks) and find libpadata the way the library does ({@code -Dpadata.library.path}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class OrderedThroughput {
    @Param({"java-single", "java-padata-lambda", "java-padata-native", "java-padata-idiomatic", "java-padata-batch", "java-padata-gatherer",
            "java-pool", "java-stream", "java-mapconcurrent", "java-disruptor"})
    public String contender;

    @Param({"0", "100", "1000", "10000"})
    public int w;

    private Contender c;

    /** Jobs processed; JMH reports it as a rate next to the batch rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Jobs {
        public long jobs;

        @Setup(Level.Iteration)
        public void clear() {
            jobs = 0;
        }
    }

    @Setup(Level.Trial)
    public void open() {
        c = Contenders.create(contender, Contender.Config.of(w));
    }

    @TearDown(Level.Trial)
    public void close() {
        c.close();
    }

    @Benchmark
    public void batch(Jobs counter) {
        c.runBatch();
        counter.jobs += Work.jobsFor(w);
    }
}
