/* SPDX-License-Identifier: MIT */

import dev.padata.CpuMask;
import dev.padata.CpuMaskType;
import dev.padata.Cpus;
import dev.padata.Padata;
import dev.padata.PadataBusyException;
import dev.padata.PadataJob;
import dev.padata.Workqueue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Randomized stress driver for the Java front end: the C driver
 * (native/stress/padata_stress.c) through the public Java API, plus callbacks
 * that throw and forced garbage collections.
 *
 * <pre>
 *   (cd java && mvn -q compile)
 *   java --enable-native-access=ALL-UNNAMED -cp java/target/classes \
 *        java/stress/PadataStress.java --seconds 10 --seed 3
 *   PADATA_NR_CPUS=8 java ... (8 virtual CPUs)
 * </pre>
 *
 * <p>Several submitting threads pick random cb_cpus (some invalid); parallel()
 * finishes at once, from a pool of foreign threads, or throws (the binding
 * finishes the job and reports the failure in order); serial() sometimes
 * throws, sometimes submits its job anew. A fault thread changes masks, adds
 * and removes CPUs, takes CPUs down and up, cycles stop/start and forces GCs.
 * Checked: every accepted job runs parallel() once and serial() once, on its
 * cb_cpu's worker, in FIFO order per (stream, cb_cpu); every exception reaches
 * the failure handler, a parallel() failure right before its job's serial();
 * stop() drains. Prints one summary line; exit 0 pass, 1 fail, 2 usage, 3 hang.
 */
public final class PadataStress {
    // ---- options ----
    static double seconds = 5;
    static long seed = 1;
    static int threads = 3;
    static boolean faults = true;
    static double watchdogSeconds = 20;

    // ---- counters ----
    static final AtomicLong accepted = new AtomicLong();
    static final AtomicLong resubmitted = new AtomicLong();
    static final AtomicLong busy = new AtomicLong();
    static final AtomicLong refusedState = new AtomicLong();
    static final AtomicLong refusedArg = new AtomicLong();
    static final AtomicLong serialCalls = new AtomicLong();
    static final AtomicLong serialDone = new AtomicLong();
    static final AtomicLong repeated = new AtomicLong();
    static final AtomicLong reordered = new AtomicLong();
    static final AtomicLong errors = new AtomicLong();
    static final AtomicLong gcs = new AtomicLong();
    static final AtomicLong thrownParallel = new AtomicLong();
    static final AtomicLong thrownSerial = new AtomicLong();
    static final AtomicLong reportedParallel = new AtomicLong();
    static final AtomicLong reportedSerial = new AtomicLong();
    static final AtomicLong faultsDone = new AtomicLong();
    static final String[] FAULT_NAMES = {"mask", "masks", "add", "remove", "down", "up", "stopstart", "gc"};
    static final AtomicLongArray faultCounts = new AtomicLongArray(FAULT_NAMES.length);
    static final String[] MODE_NAMES = {"now", "async", "throw-parallel", "throw-serial"};
    static final AtomicLongArray modeCounts = new AtomicLongArray(MODE_NAMES.length);
    static final AtomicInteger reports = new AtomicInteger();

    static int ncpu;
    static int streams;
    static long[] nextSeq;            // [stream * ncpu + cb]: written by the stream's thread
    static AtomicLongArray expectSeq; // [stream * ncpu + cb]: written by cb's worker
    static volatile boolean stopping;
    static volatile String phase = "run";
    static Padata padata;
    static ExecutorService foreign;
    static final double START = System.nanoTime() / 1e9;

    static void violation(AtomicLong counter, String what) {
        counter.incrementAndGet();
        if (reports.getAndIncrement() < 25)
            System.err.println("PadataStress: violation: " + what);
    }

    static final int J_IDLE = 0, J_SUBMITTED = 1, J_PARALLEL = 2, J_SERIAL = 3;
    static final int M_NOW = 0, M_ASYNC = 1, M_THROW_PARALLEL = 2, M_THROW_SERIAL = 3;

    /** Thrown on purpose by callbacks; anything else reaching the handler is an error. */
    static final class Planned extends RuntimeException {
        Planned(String what) {
            super(what, null, false, false);
        }
    }

    static final class StressJob extends PadataJob {
        final AtomicInteger state = new AtomicInteger(J_IDLE);
        final SplittableRandom rng;
        int stream;
        int cbCpu;
        long seq;
        int mode;
        volatile boolean failureReported;

        StressJob(long seed) {
            rng = new SplittableRandom(seed);
        }

        @Override
        protected void parallel() {
            if (!state.compareAndSet(J_SUBMITTED, J_PARALLEL)) {
                violation(repeated, "parallel() of " + this + " in state " + state.get());
                return;
            }
            switch (mode) {
                case M_ASYNC -> foreign.execute(this::doSerial);
                case M_THROW_PARALLEL -> {
                    thrownParallel.incrementAndGet();
                    throw new Planned("parallel of stream " + stream + " #" + seq);
                }
                default -> doSerial();
            }
        }

        @Override
        protected void serial() {
            if (!state.compareAndSet(J_PARALLEL, J_SERIAL)) {
                violation(repeated, "serial() of " + this + " in state " + state.get());
                return;
            }
            int cpu = Cpus.current();
            int cb = cbCpu;
            if (cpu != cb)
                violation(errors, "serial() for cb_cpu " + cb + " ran on CPU " + cpu);
            if (mode == M_THROW_PARALLEL && !failureReported)
                violation(errors, "parallel() failure of stream " + stream + " #" + seq
                        + " not reported before its serial()");
            int idx = stream * ncpu + cb;
            long want = expectSeq.get(idx);
            if (seq != want)
                violation(reordered, "stream " + stream + " cb_cpu " + cb + ": serial() of #" + seq + ", expected #" + want);
            expectSeq.set(idx, seq + 1);
            serialCalls.incrementAndGet();
            boolean throwNow = mode == M_THROW_SERIAL;
            if (cpu >= 0 && !stopping && rng.nextInt(100) < 10) {
                if (submit(this, threads + cpu, pickCb(rng), rng))
                    resubmitted.incrementAndGet();
            } else {
                state.set(J_IDLE);
                pool.offer(this);
            }
            serialDone.incrementAndGet();
            if (throwNow) {
                thrownSerial.incrementAndGet();
                throw new Planned("serial of cb_cpu " + cb);
            }
        }

        @Override
        public String toString() {
            return "StressJob[stream " + stream + " #" + seq + " cb " + cbCpu + "]";
        }
    }

    static final ConcurrentLinkedQueue<StressJob> pool = new ConcurrentLinkedQueue<>();
    static final AtomicLong allocated = new AtomicLong();
    static final List<StressJob> all = java.util.Collections.synchronizedList(new ArrayList<>());

    static StressJob jobGet(SplittableRandom rng) {
        StressJob j = pool.poll();
        if (j == null) {
            j = new StressJob(rng.nextLong());
            allocated.incrementAndGet();
            all.add(j);
        }
        return j;
    }

    static int pickCb(SplittableRandom rng) {
        if (rng.nextInt(64) == 0) {
            int[] wild = {-1, Integer.MIN_VALUE, Integer.MAX_VALUE, CpuMask.NR_CPUS, ncpu};
            return wild[rng.nextInt(wild.length)];
        }
        return rng.nextInt(ncpu);
    }

    /** Submits {@code j} in {@code stream}; on refusal the job goes back to the pool. */
    static boolean submit(StressJob j, int stream, int cb, SplittableRandom rng) {
        boolean inRange = cb >= 0 && cb < ncpu;
        int r = rng.nextInt(100);
        int mode = r < 60 ? M_NOW : r < 85 ? M_ASYNC : r < 93 ? M_THROW_PARALLEL : M_THROW_SERIAL;
        j.stream = stream;
        j.cbCpu = cb;
        j.seq = inRange ? nextSeq[stream * ncpu + cb] : 0;
        j.mode = mode;
        j.failureReported = false;
        j.state.set(J_SUBMITTED);
        try {
            padata.doParallel(j, cb);
        } catch (PadataBusyException e) {
            busy.incrementAndGet();
            j.state.set(J_IDLE);
            pool.offer(j);
            return false;
        } catch (IllegalStateException e) {
            refusedState.incrementAndGet();
            j.state.set(J_IDLE);
            pool.offer(j);
            return false;
        } catch (IllegalArgumentException e) {
            if (inRange && !e.getMessage().contains("cb_cpu"))
                violation(errors, "unexpected IllegalArgumentException: " + e.getMessage());
            refusedArg.incrementAndGet();
            j.state.set(J_IDLE);
            pool.offer(j);
            return false;
        }
        if (!inRange)
            violation(errors, "doParallel accepted cb_cpu " + cb);
        else
            nextSeq[stream * ncpu + cb]++;
        accepted.incrementAndGet();
        modeCounts.incrementAndGet(mode);
        return true;
    }

    static void onFailure(PadataJob job, PadataJob.Stage stage, Throwable failure) {
        if (!(failure instanceof Planned)) {
            violation(errors, stage + " failure that was not planned: " + failure);
            return;
        }
        switch (stage) {
            case PARALLEL -> {
                reportedParallel.incrementAndGet();
                ((StressJob) job).failureReported = true;
            }
            case SERIAL -> reportedSerial.incrementAndGet();
            default -> violation(errors, "failure reported for stage " + stage);
        }
    }

    // ---- faults ----

    static CpuMask randomMask(SplittableRandom rng) {
        if (rng.nextInt(8) == 0)
            return CpuMask.possible();
        CpuMask m = CpuMask.of(rng.nextInt(ncpu));
        for (int c = 0; c < ncpu; c++)
            if (rng.nextBoolean())
                m = m.with(c);
        return m;
    }

    static void fault(SplittableRandom rng) {
        int kind = rng.nextInt(FAULT_NAMES.length);
        switch (kind) {
            case 0 -> padata.setCpumask(rng.nextBoolean() ? CpuMaskType.PARALLEL : CpuMaskType.SERIAL, randomMask(rng));
            case 1 -> padata.setCpumasks(randomMask(rng), randomMask(rng));
            case 2 -> padata.addCpu(rng.nextInt(ncpu), types(rng));
            case 3 -> padata.removeCpu(rng.nextInt(ncpu), types(rng));
            case 4 -> {
                CpuMask active = CpuMask.active();
                if (active.weight() > 1) {
                    int[] a = active.toArray();
                    Cpus.down(a[rng.nextInt(a.length)]);
                }
            }
            case 5 -> Cpus.up(rng.nextInt(ncpu));
            case 6 -> {
                padata.stop();
                long done = serialDone.get();
                long acc = accepted.get();
                if (done < acc)
                    violation(errors, "stop() returned with " + (acc - done) + " accepted jobs before serial()");
                sleepNanos(rng.nextInt(1_000_000));
                startOrRepair();
            }
            default -> {
                System.gc();
                gcs.incrementAndGet();
            }
        }
        faultCounts.incrementAndGet(kind);
        if (padata.cpumask(CpuMaskType.PARALLEL).isEmpty() || padata.cpumask(CpuMaskType.SERIAL).isEmpty()) {
            sleepNanos(500_000 + rng.nextInt(1_000_000));
            padata.setCpumasks(CpuMask.possible(), CpuMask.possible());
        }
    }

    static CpuMaskType[] types(SplittableRandom rng) {
        return switch (rng.nextInt(3)) {
            case 0 -> new CpuMaskType[]{CpuMaskType.PARALLEL};
            case 1 -> new CpuMaskType[]{CpuMaskType.SERIAL};
            default -> new CpuMaskType[]{CpuMaskType.PARALLEL, CpuMaskType.SERIAL};
        };
    }

    static void startOrRepair() {
        try {
            padata.start();
        } catch (IllegalStateException e) {
            padata.setCpumasks(CpuMask.possible(), CpuMask.possible());
            padata.start();
        }
    }

    static void sleepNanos(long ns) {
        try {
            TimeUnit.NANOSECONDS.sleep(ns);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- summary, main ----

    static long lost;

    static String summary(int hangs) {
        boolean ok = hangs == 0 && lost == 0 && repeated.get() == 0 && reordered.get() == 0 && errors.get() == 0;
        StringBuilder b = new StringBuilder("PadataStress: ").append(ok ? "PASS" : "FAIL")
                .append(" cpus=").append(ncpu)
                .append(" topology=").append(Cpus.isVirtual() ? "virtual" : "real")
                .append(String.format(" seconds=%.1f", System.nanoTime() / 1e9 - START))
                .append(" seed=").append(seed).append(" threads=").append(threads)
                .append(" jobs=").append(accepted.get()).append(" resubmitted=").append(resubmitted.get())
                .append(" rejected=busy:").append(busy.get()).append(",state:").append(refusedState.get())
                .append(",arg:").append(refusedArg.get()).append(" completion=");
        for (int m = 0; m < MODE_NAMES.length; m++)
            b.append(m > 0 ? "," : "").append(MODE_NAMES[m]).append(':').append(modeCounts.get(m));
        long total = 0;
        for (int k = 0; k < FAULT_NAMES.length; k++)
            total += faultCounts.get(k);
        b.append(" faults=").append(total).append('(');
        for (int k = 0; k < FAULT_NAMES.length; k++)
            b.append(k > 0 ? "," : "").append(FAULT_NAMES[k]).append(':').append(faultCounts.get(k));
        b.append(") thrown=parallel:").append(thrownParallel.get()).append('/').append(reportedParallel.get())
                .append(",serial:").append(thrownSerial.get()).append('/').append(reportedSerial.get())
                .append(" lost=").append(lost).append(" repeated=").append(repeated.get())
                .append(" reordered=").append(reordered.get()).append(" hangs=").append(hangs)
                .append(" errors=").append(errors.get());
        return b.toString();
    }

    static void usage() {
        System.err.println("usage: PadataStress [--seconds S] [--seed X] [--threads T] [--no-faults] [--watchdog S]");
        System.exit(2);
    }

    public static void main(String[] args) throws Exception {
        for (int i = 0; i < args.length; i++) {
            try {
                switch (args[i]) {
                    case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    case "--threads" -> threads = Integer.parseInt(args[++i]);
                    case "--no-faults" -> faults = false;
                    case "--watchdog" -> watchdogSeconds = Double.parseDouble(args[++i]);
                    default -> usage();
                }
            } catch (RuntimeException e) {
                usage();
            }
        }
        if (seconds <= 0 || threads < 1 || watchdogSeconds <= 0)
            usage();

        ncpu = Cpus.count();
        streams = threads + ncpu;
        nextSeq = new long[streams * ncpu];
        expectSeq = new AtomicLongArray(streams * ncpu);
        foreign = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "stress-async");
            t.setDaemon(true);
            return t;
        });

        Thread watchdog = new Thread(() -> {
            long last = -1;
            double since = System.nanoTime() / 1e9;
            while (true) {
                sleepNanos(100_000_000);
                long p = serialDone.get() + faultsDone.get() + phase.hashCode();
                double t = System.nanoTime() / 1e9;
                if (p != last) {
                    last = p;
                    since = t;
                } else if (t - since > watchdogSeconds) {
                    System.err.printf("PadataStress: HANG: no progress for %.1f s in phase '%s'; accepted %d, serial() returned %d%n",
                            t - since, phase, accepted.get(), serialDone.get());
                    System.out.println(summary(1));
                    System.out.flush();
                    Runtime.getRuntime().halt(3);
                }
            }
        }, "stress-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();

        try (Workqueue wq = Workqueue.create("jstress")) {
            padata = Padata.allocPossible(wq);
            padata.setFailureHandler(PadataStress::onFailure);
            padata.start();

            List<Thread> subs = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                final int me = i;
                Thread t = new Thread(() -> {
                    SplittableRandom rng = new SplittableRandom(seed * 1_000_003L + me);
                    int fails = 0;
                    while (!stopping) {
                        if (submit(jobGet(rng), me, pickCb(rng), rng)) {
                            fails = 0;
                        } else if (++fails < 16) {
                            Thread.onSpinWait();
                        } else {
                            sleepNanos(20_000);
                        }
                    }
                }, "stress-submit-" + i);
                t.start();
                subs.add(t);
            }
            Thread faulter = new Thread(() -> {
                SplittableRandom rng = new SplittableRandom(seed ^ 0xfa017L);
                while (!stopping) {
                    sleepNanos(500_000 + rng.nextInt(3_000_000));
                    try {
                        fault(rng);
                    } catch (RuntimeException e) {
                        violation(errors, "fault call threw " + e);
                    }
                    faultsDone.incrementAndGet();
                }
            }, "stress-faults");
            if (faults)
                faulter.start();

            long end = System.nanoTime() + (long) (seconds * 1e9);
            while (System.nanoTime() < end)
                sleepNanos(10_000_000);

            phase = "join";
            stopping = true;
            for (Thread t : subs)
                t.join();
            if (faults)
                faulter.join();
            phase = "restore";
            for (int c = 0; c < ncpu; c++)
                Cpus.up(c);
            padata.setCpumasks(CpuMask.possible(), CpuMask.possible());
            padata.start();
            phase = "drain";
            padata.stop();
            phase = "checks";
            long calls = serialCalls.get();
            lost = Math.max(0, accepted.get() - calls);
            long missing = 0;
            for (int i = 0; i < nextSeq.length; i++)
                missing += Math.max(0, nextSeq[i] - expectSeq.get(i));
            lost = Math.max(lost, missing);
            if (lost > 0)
                violation(errors, lost + " accepted jobs never ran serial()");
            for (StressJob j : all)
                if (j.state.get() != J_IDLE)
                    violation(errors, j + " left in state " + j.state.get());
            if (reportedParallel.get() != thrownParallel.get())
                violation(errors, thrownParallel.get() + " parallel() failures, " + reportedParallel.get() + " reported");
            if (reportedSerial.get() != thrownSerial.get())
                violation(errors, thrownSerial.get() + " serial() failures, " + reportedSerial.get() + " reported");
            phase = "close";
            padata.close();
        }
        foreign.shutdown();
        foreign.awaitTermination(10, TimeUnit.SECONDS);
        String line = summary(0);
        System.out.println(line);
        System.exit(line.startsWith("PadataStress: PASS") ? 0 : 1);
    }
}
