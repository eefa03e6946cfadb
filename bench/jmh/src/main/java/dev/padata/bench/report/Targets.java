/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.padata.bench.report.Report.fmtRate;
import static dev.padata.bench.report.Report.fmtRatio;

/**
 * The project's performance targets, evaluated on ratios measured in one run. A target whose
 * figures are missing is a MISS, never a PASS.
 */
final class Targets {
    private Targets() {
    }

    /** One target line: PASS, MISS or SKIP, what was required, and the figures behind it. */
    record Verdict(String verdict, String target, String detail) {
        Verdict(boolean pass, String target, String detail) {
            this(pass ? "PASS" : "MISS", target, detail);
        }

        String line() {
            return verdict + "  " + target + ": " + detail;
        }
    }

    /** A target about contenders that were not part of this run at all (e.g. --only c). */
    private static Verdict skipped(String target, String absent) {
        return new Verdict("SKIP", target, absent + " not part of this run");
    }

    private static String absent(Report.Model m, String... contenders) {
        for (String c : contenders) {
            if (!m.contenders().contains(c)) {
                return c;
            }
        }
        return null;
    }

    /**
     * Bytes per job below which the binding allocates nothing per job, judged at the work size
     * whose batch has the most jobs (100000 at w = 0): any per-job allocation costs at least one
     * 16-byte object per allocating job, so below 1 byte at most one job in 16 allocates, and
     * what is left is per-batch work (start, stop, the check, a few waits for room) and JMH's own
     * bookkeeping divided by the jobs of the batch.
     */
    static final double ZERO_BYTES = 1.0;

    /** The smallest object: at every other w the bytes per job must stay below it. */
    static final double ONE_OBJECT = 16.0;

    /** The streaming pure-Java contenders the lambda target compares with. */
    static final List<String> STREAMING = List.of("java-pool", "java-mapconcurrent", "java-disruptor");

    static List<Verdict> evaluate(Report.Model m) {
        List<Verdict> v = new ArrayList<>();
        for (int w : new int[] {0, 100}) {
            ratio(v, m, w, "c-padata", "tbb", 2.0, "C core ≥ 2.0× oneTBB at w=" + w);
        }
        for (int w : new int[] {1000, 10000}) {
            ratio(v, m, w, "c-padata", "tbb", 1.0, "C core ≥ 1.0× oneTBB at w=" + w);
        }
        ratio(v, m, 1000, "c-padata", "c-single", 1.7, "C core ≥ 1.7× the single-threaded C loop at w=1000");
        ratio(v, m, 10000, "c-padata", "c-single", 1.85, "C core ≥ 1.85× the single-threaded C loop at w=10000");
        ratio(v, m, 10000, "java-padata-lambda", "java-single", 1.8,
                "Java lambdas ≥ 1.8× the single-threaded Java loop at w=10000");
        for (int w : m.ws()) {
            ratio(v, m, w, "java-padata-idiomatic", "java-padata-lambda", 0.85,
                    "OrderedPipeline ≥ 0.85× Java lambdas at w=" + w);
        }
        // Issue 11's targets for the Java lambdas, also shown for OrderedPipeline.submitAll
        // (which needs a run of values in hand, 256 in the benchmark).
        javaTargets(v, m, "java-padata-lambda", "Java lambdas");
        javaTargets(v, m, "java-padata-batch", "OrderedPipeline.submitAll");
        // java-padata-native reuses its jobs (as NativeJob's Javadoc shows), so what it allocates
        // is the binding's; java-padata-lambda creates a PadataJob per item as README shows.
        zeroAlloc(v, m, "java-padata-native");
        for (int w : m.ws()) {
            ratio(v, m, w, "java-padata-native", "c-padata", 0.90,
                    "Java with native callbacks within 10% of the C contender at w=" + w);
        }
        return v;
    }

    /**
     * {@code contender} (named {@code who}) ≥ 1.0× java-stream at w = 1000 and 10000, and ≥ 2×
     * the best streaming contender (which, like padata, take items one at a time) at each
     * w ≤ 1000.
     */
    private static void javaTargets(List<Verdict> v, Report.Model m, String contender, String who) {
        for (int w : new int[] {1000, 10000}) {
            ratio(v, m, w, contender, "java-stream", 1.0,
                    who + " ≥ 1.0× parallel forEachOrdered (java-stream) at w=" + w);
        }
        for (int w : m.ws()) {
            if (w > 1000) {
                continue;
            }
            String best = null;
            double bestRate = Double.NaN;
            for (String c : STREAMING) {
                double r = m.rate(c, w);
                if (!Double.isNaN(r) && (best == null || r > bestRate)) {
                    best = c;
                    bestRate = r;
                }
            }
            String target = who + " ≥ 2× the best pure-Java streaming contender at w=" + w;
            String missing = absent(m, contender);
            if (missing != null || STREAMING.stream().noneMatch(m.contenders()::contains)) {
                v.add(skipped(target, missing != null ? missing : "the streaming contenders"));
            } else if (best == null) {
                v.add(new Verdict(false, target, "no figure for any of " + STREAMING));
            } else {
                ratio(v, m, w, contender, best, 2.0, target);
            }
        }
    }

    private static void ratio(List<Verdict> out, Report.Model m, int w, String a, String b, double min, String target) {
        if (!m.ws().contains(w)) {
            return; // not part of this sweep
        }
        String missing = absent(m, a, b);
        if (missing != null) {
            out.add(skipped(target, missing));
            return;
        }
        double ra = m.rate(a, w);
        double rb = m.rate(b, w);
        if (Double.isNaN(ra) || Double.isNaN(rb)) {
            out.add(new Verdict(false, target, "no figure for " + (Double.isNaN(ra) ? a : b)));
            return;
        }
        double r = ra / rb;
        String detail = String.format(Locale.ROOT, "%s (%s %s/s vs %s %s/s)", fmtRatio(r), a, fmtRate(ra), b, fmtRate(rb));
        double[] la = m.lineRt(a, w), lb = m.lineRt(b, w);
        if (la != null && lb != null && Math.max(la[1], lb[1]) > PLACED_APART * Math.min(la[0], lb[0])) {
            // The host ran the two CPUs at different distances for the two figures, or moved
            // them during one: no ratio.
            out.add(new Verdict("SKIP", target, detail + ", not comparable: the cache-line round trip was "
                    + span(la) + " for " + a + " and " + span(lb) + " for " + b));
            return;
        }
        out.add(new Verdict(r >= min, target, detail));
    }

    /**
     * Two figures whose cache-line round trips (Report.Model#lineRt, before and after each)
     * spread by more than this factor were measured with the host running the two CPUs at
     * different distances, or moving them during one (on the project's VM about 60 against
     * 350 ns): their ratio says nothing about the contenders.
     */
    static final double PLACED_APART = 2.0;

    private static String span(double[] ns) {
        long lo = Math.round(ns[0]), hi = Math.round(ns[1]);
        return lo == hi ? lo + " ns" : lo + "-" + hi + " ns";
    }

    private static void zeroAlloc(List<Verdict> out, Report.Model m, String c) {
        String target = "0 bytes allocated per job by the binding (" + c + ", every w)";
        if (absent(m, c) != null) {
            out.add(skipped(target, c));
            return;
        }
        StringBuilder detail = new StringBuilder();
        boolean pass = true;
        int biggest = -1;
        int most = -1;
        for (int w : m.ws()) {
            Report.Result r = m.get(c, w);
            if (r != null && r.ok() && r.jobs() > most) {
                most = r.jobs();
                biggest = w;
            }
        }
        for (int w : m.ws()) {
            Report.Result r = m.get(c, w);
            double b = r == null || !r.ok() ? Double.NaN : r.bytesPerJob();
            if (detail.length() > 0) {
                detail.append(", ");
            }
            detail.append(String.format(Locale.ROOT, "w=%d: %s", w,
                    Double.isNaN(b) ? "no figure" : String.format(Locale.ROOT, "%.3f B/job", b)));
            pass &= !Double.isNaN(b) && b < (w == biggest ? ZERO_BYTES : ONE_OBJECT);
        }
        detail.append(String.format(Locale.ROOT, " (< %.0f B/job at w=%d, whose batch has the most jobs; < %.0f B elsewhere)",
                ZERO_BYTES, biggest, ONE_OBJECT));
        out.add(new Verdict(pass, target, detail.toString()));
    }
}
