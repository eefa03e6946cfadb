/* SPDX-License-Identifier: MIT */
package dev.padata.bench.jmh;

import dev.padata.BreakdownProbe;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;

/**
 * What one Java job costs at each step from {@code doParallel} to the end of {@code serial()},
 * each step alone on one thread (so without the cache-line moves of a running pipeline, which
 * the README's table counts by inspection and {@code OrderedThroughput} measures as a whole):
 *
 * <pre>
 * java -jar bench/jmh/target/benchmarks.jar Breakdown -prof gc
 * </pre>
 *
 * Steps: the submission gate (two atomics on the instance), the Java half of a submission
 * (claim, slot, bind, and its undo), a trivial downcall and padata_do_parallel's downcall on a
 * stopped instance, the parallel upcall's Java side, doSerial()'s claim, the serial upcall's
 * Java side (which also retires the slot and routes failures), and a ThreadLocal lookup (what
 * the trampolines used to pay per upcall). The upcall crossing itself (native thread into
 * Java, about 27 ns here) cannot be taken from a Java thread and is not included.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Thread)
public class Breakdown {
    private static final VarHandle GATE;

    static {
        try {
            GATE = MethodHandles.lookup().findVarHandle(Breakdown.class, "gate", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private BreakdownProbe probe;
    private long node;
    private final ThreadLocal<Object> local = new ThreadLocal<>();
    @SuppressWarnings("unused")
    private volatile int gate;

    @Setup(Level.Trial)
    public void open() {
        probe = new BreakdownProbe();
        node = probe.bindInFlight();
        local.set(new Object());
    }

    @TearDown(Level.Trial)
    public void close() {
        probe.close();
    }

    /** The submission gate's enter (CAS) and exit (getAndAdd), as Padata.doParallel does them. */
    @Benchmark
    public int s1Gate() {
        int g = (int) GATE.getVolatile(this);
        GATE.compareAndSet(this, g, g + 1);
        return (int) GATE.getAndAdd(this, -1);
    }

    /** Claim, slot, bind, in flight; then retire and idle (the slot's way back, done by serial()). */
    @Benchmark
    public void s2ClaimSlotUndo() {
        probe.claimSlotAndUndo();
    }

    /** The FFM downcall alone (libpadata's per-thread CPU). */
    @Benchmark
    public int s3TrivialDowncall() {
        return probe.trivialDowncall();
    }

    /** padata_do_parallel's downcall on a stopped instance: crossing plus the core's entry checks. */
    @Benchmark
    public int s3DoParallelDowncall() {
        return probe.doParallelDowncallStopped();
    }

    /** The parallel upcall's Java side, callback empty. */
    @Benchmark
    public void s4ParallelUpcallJava() throws Throwable {
        probe.parallelUpcall(node);
    }

    /** doSerial()'s claim (its downcall is padata_do_serial, the core's). */
    @Benchmark
    public boolean s5DoSerialClaim() {
        boolean ok = probe.doSerialClaim();
        probe.reInFlight();
        return ok;
    }

    /**
     * A whole job's Java bookkeeping, started from a job in flight: doSerial claim, serial
     * upcall (retire, idle), submission half (claim, slot, bind), parallel upcall.
     */
    @Benchmark
    public void s6WholeJobJava() throws Throwable {
        probe.doSerialClaim();
        probe.serialUpcall(node);
        node = probe.bindInFlight();
        probe.parallelUpcall(node);
    }

    /** The node decode the upcalls start with (owner and tag from the node's raw address). */
    @Benchmark
    public long s4NodeDecode() {
        return probe.decode(node);
    }

    /** The serial half only: doSerial claim, serial upcall, then claim/slot/bind (no parallel upcall). */
    @Benchmark
    public void s6SerialAndSubmitJava() throws Throwable {
        probe.doSerialClaim();
        probe.serialUpcall(node);
        node = probe.bindInFlight();
    }

    /** One ThreadLocal lookup of a set value. */
    @Benchmark
    public Object s7ThreadLocal() {
        return local.get();
    }
}
