/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import dev.padata.CpuMask;
import dev.padata.OrderedPipeline;
import dev.padata.Padata;
import dev.padata.PadataJob;
import dev.padata.PadataShell;
import dev.padata.Workqueue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The shells demo (issue 12, docs/contract.md section 7): one key in {@code --keys} is slow
 * ({@code --slow-ms}, like a slow remote call; the others hash a few bytes), and values are
 * submitted round-robin over the keys from one thread. Two scenarios, each with a global-order
 * and a keyed contender, built only from the public API as the README shows it:
 * <ul>
 *   <li>{@code pipeline}: an {@link OrderedPipeline} in one global order ({@code global}) and the
 *       same with {@code keyedBy(key).lanes(L)} ({@code keyed}). The slow function sleeps on its
 *       worker, so besides the order it holds a worker: with few CPUs the sleeping workers, not
 *       the order, bound both contenders.</li>
 *   <li>{@code shells}: the kernel-shaped API; a slow job returns from parallel() and a timer
 *       thread calls doSerial() {@code --slow-ms} later (an asynchronous completion, holding no
 *       worker). {@code global} submits with {@link Padata#doParallel}, {@code keyed} into one of
 *       L {@link PadataShell}s by key hash; a busy answer is retried after a short park.</li>
 * </ul>
 * Rounds alternate the contenders; each round submits for {@code --round-ms}, then waits until
 * every result was delivered, and reports the fast keys' values per second over that span.
 * The consumer checks, per key, that values arrive in submission order and that every result is
 * what a single loop computes for its value; a round that fails a check prints
 * {@code "check":"FAIL"} and no figure. Prints JSON lines on stdout: one per (round,
 * contender), then a summary with medians and the keyed/global ratio (median, min, max of the
 * per-round ratios). Exit 1 when a check failed.
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.padata.bench.KeyedMain \
 *      --rounds 3 --round-ms 1000 --keys 100 --slow-ms 10 --lanes 16
 * </pre>
 */
public final class KeyedMain {
    /** The waiting submit's limit: a day, i.e. wait as long as it takes. */
    private KeyedMain() {
    }

    /** The fast keys' work, and the reference result a single loop computes. */
    static long work(long value) {
        long h = value * 0x9E3779B97F4A7C15L;
        for (int i = 0; i < 64; i++)
            h = (h ^ (h >>> 29)) * 0xBF58476D1CE4E5B9L + i;
        return h;
    }

    /** A value: its key and its position in the whole run (submission order). */
    record Item(int key, long seq) {
    }

    /** A result: the value and what the function computed for it on a worker. */
    record Done(Item in, long value) {
    }

    /** What the consumer sees of one contender: per-key order, result checks, counts. */
    static final class Checker {
        final long[] lastSeq;
        final AtomicLong fastDelivered = new AtomicLong();
        volatile String failure;

        Checker(int keys) {
            lastSeq = new long[keys];
            Arrays.fill(lastSeq, -1);
        }

        /** The consumer: calls never overlap (the pipeline guarantees it; plain fields suffice). */
        void accept(Item in, long result, int slowKey) {
            if (in.seq() <= lastSeq[in.key()] && failure == null)
                failure = "key " + in.key() + ": value " + in.seq() + " after " + lastSeq[in.key()];
            lastSeq[in.key()] = in.seq();
            if (result != work(in.seq()) && failure == null)
                failure = "value " + in.seq() + ": result differs from the single loop's";
            if (in.key() != slowKey)
                fastDelivered.incrementAndGet();
        }
    }

    /** One contender: submits a value (blocking or retrying while full), waits until all are delivered. */
    interface Contender extends AutoCloseable {
        void submit(Item it) throws InterruptedException;

        void drain() throws InterruptedException;

        @Override
        void close();
    }

    record Pipe(String scenario, String name, Contender c, Checker checker) {
    }

    static Contender ofPipeline(OrderedPipeline<Item, Done> p) {
        return new Contender() {
            public void submit(Item it) throws InterruptedException {
                p.submit(it);
            }

            public void drain() throws InterruptedException {
                p.awaitIdle();
            }

            public void close() {
                p.close();
            }
        };
    }

    /** The shells scenario's contender: global (lanes == 0) or keyed over {@code lanes} shells. */
    static Contender ofShells(String name, int lanes, Checker checker, int slowKey, long slowNanos,
                              ScheduledExecutorService timer) {
        Workqueue wq = Workqueue.create("keyed-" + name);
        Padata padata = Padata.allocPossible(wq);
        padata.start();
        PadataShell[] shells = new PadataShell[lanes];
        for (int i = 0; i < lanes; i++)
            shells[i] = padata.allocShell();
        int cb = CpuMask.active().first();
        AtomicLong submitted = new AtomicLong(), delivered = new AtomicLong();
        return new Contender() {
            public void submit(Item it) {
                long[] result = new long[1];
                PadataJob job = PadataJob.async(j -> {
                    if (it.key() == slowKey) {
                        result[0] = work(it.seq());
                        timer.schedule(j::doSerial, slowNanos, TimeUnit.NANOSECONDS);
                    } else {
                        result[0] = work(it.seq());
                        j.doSerial();
                    }
                }, () -> {
                    checker.accept(it, result[0], slowKey);
                    delivered.incrementAndGet();
                });
                submitted.incrementAndGet();
                try {
                    if (lanes == 0)
                        padata.doParallelWaiting(job, cb);
                    else
                        shells[Math.floorMod(Integer.hashCode(it.key()) * 0x9E3779B9, lanes)].doParallelWaiting(job, cb);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while submitting", e);
                }
            }

            public void drain() {
                while (delivered.get() != submitted.get())
                    LockSupport.parkNanos(100_000);
            }

            public void close() {
                for (PadataShell s : shells)
                    s.close();
                padata.close();
                wq.close();
            }
        };
    }

    public static void main(String[] args) throws Exception {
        int rounds = 3, roundMs = 1000, keys = 100, slowMs = 10, lanes = 16, warmupMs = 300;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                System.out.println("usage: KeyedMain [--rounds N] [--round-ms MS] [--warmup-ms MS] [--keys K]"
                        + " [--slow-ms MS] [--lanes L]");
                return;
            }
            if (i + 1 >= args.length)
                usage("option " + a + " needs a value");
            String v = args[++i];
            try {
                switch (a) {
                    case "--rounds" -> rounds = Integer.parseInt(v);
                    case "--round-ms" -> roundMs = Integer.parseInt(v);
                    case "--warmup-ms" -> warmupMs = Integer.parseInt(v);
                    case "--keys" -> keys = Integer.parseInt(v);
                    case "--slow-ms" -> slowMs = Integer.parseInt(v);
                    case "--lanes" -> lanes = Integer.parseInt(v);
                    default -> usage("unknown option " + a);
                }
            } catch (NumberFormatException e) {
                usage("bad value '" + v + "' for " + a);
            }
        }
        if (rounds < 1 || roundMs < 1 || warmupMs < 0 || keys < 2 || slowMs < 0 || lanes < 1)
            usage("--rounds, --round-ms >= 1, --keys >= 2, --lanes >= 1, --slow-ms, --warmup-ms >= 0 required");

        final int slowKey = 0;
        final long slowNanos = TimeUnit.MILLISECONDS.toNanos(slowMs);
        List<Pipe> pipes = new ArrayList<>();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keyed-timer");
            t.setDaemon(true);
            return t;
        });
        for (String name : List.of("global", "keyed")) {
            Checker checker = new Checker(keys);
            var b = OrderedPipeline.<Item, Done>builder(it -> {
                        if (it.key() == slowKey)
                            LockSupport.parkNanos(slowNanos); // a slow call: the worker waits
                        return new Done(it, work(it.seq()));
                    })
                    .name("keyed-" + name);
            if (name.equals("keyed"))
                b.keyedBy(Item::key).lanes(lanes);
            // The consumer recomputes each result in a single loop's way and compares.
            b.consumer(d -> checker.accept(d.in(), d.value(), slowKey));
            pipes.add(new Pipe("pipeline", name, ofPipeline(b.build()), checker));
        }
        for (String name : List.of("global", "keyed")) {
            Checker checker = new Checker(keys);
            pipes.add(new Pipe("shells", name, ofShells(name, name.equals("keyed") ? lanes : 0, checker, slowKey,
                    slowNanos, timer), checker));
        }

        long seq = 0;
        boolean failed = false;
        try {
            for (Pipe p : pipes) // warm-up, not reported
                seq = runRound(p, seq, keys, warmupMs);
            for (String scenario : List.of("pipeline", "shells")) {
                List<Pipe> pair = pipes.stream().filter(p -> p.scenario().equals(scenario)).toList();
                List<Double> globalRates = new ArrayList<>(), keyedRates = new ArrayList<>(), ratios = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    double[] rate = new double[2];
                    // Alternate which contender goes first, so drift over the run hits both alike.
                    for (int k = 0; k < 2; k++) {
                        int idx = (r % 2 == 0) ? k : 1 - k;
                        Pipe p = pair.get(idx);
                        long before = p.checker().fastDelivered.get();
                        long t0 = System.nanoTime();
                        seq = runRound(p, seq, keys, roundMs);
                        double secs = (System.nanoTime() - t0) / 1e9;
                        long fast = p.checker().fastDelivered.get() - before;
                        String fail = p.checker().failure;
                        if (fail != null) {
                            failed = true;
                            rate[idx] = Double.NaN;
                            System.out.printf(Locale.ROOT, "{\"suite\":\"java-keyed\",\"scenario\":\"%s\",\"contender\":\"%s\","
                                            + "\"round\":%d,\"check\":\"FAIL\",\"why\":\"%s\"}%n",
                                    scenario, p.name(), r, fail.replace("\"", "'"));
                        } else {
                            rate[idx] = fast / secs;
                            System.out.printf(Locale.ROOT, "{\"suite\":\"java-keyed\",\"scenario\":\"%s\",\"contender\":\"%s\","
                                            + "\"round\":%d,\"fast_per_s\":%.1f,\"fast\":%d,\"seconds\":%.3f,\"check\":\"OK\"}%n",
                                    scenario, p.name(), r, rate[idx], fast, secs);
                        }
                    }
                    if (!Double.isNaN(rate[0]) && !Double.isNaN(rate[1])) {
                        globalRates.add(rate[0]);
                        keyedRates.add(rate[1]);
                        ratios.add(rate[1] / rate[0]);
                    }
                }
                if (!ratios.isEmpty()) {
                    System.out.printf(Locale.ROOT,
                            "{\"suite\":\"java-keyed\",\"scenario\":\"%s\",\"summary\":true,\"keys\":%d,\"slow_ms\":%d,"
                                    + "\"lanes\":%d,\"rounds\":%d,\"global_fast_per_s\":%.1f,\"keyed_fast_per_s\":%.1f,"
                                    + "\"ratio\":%.3f,\"ratio_min\":%.3f,\"ratio_max\":%.3f,\"cpus\":%d,\"check\":\"%s\"}%n",
                            scenario, keys, slowMs, lanes, ratios.size(), median(globalRates), median(keyedRates),
                            median(ratios), ratios.stream().mapToDouble(d -> d).min().orElse(Double.NaN),
                            ratios.stream().mapToDouble(d -> d).max().orElse(Double.NaN),
                            Runtime.getRuntime().availableProcessors(), failed ? "FAIL" : "OK");
                }
            }
        } finally {
            for (Pipe p : pipes)
                p.c().close();
            timer.shutdownNow();
        }
        System.exit(failed ? 1 : 0);
    }

    /** Submits values round-robin over the keys for {@code ms}, then waits until all are delivered. */
    private static long runRound(Pipe p, long seq, int keys, int ms) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (System.nanoTime() < end) {
            for (int i = 0; i < 64; i++, seq++)
                p.c().submit(new Item((int) (seq % keys), seq));
        }
        p.c().drain();
        return seq;
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(d -> d).sorted().toArray();
        int n = a.length;
        return n % 2 == 1 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    }

    private static void usage(String why) {
        System.err.println("KeyedMain: " + why + " (try --help)");
        System.exit(2);
    }
}
