/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.padata.bench.report.Report.fmtNs;
import static dev.padata.bench.report.Report.fmtRate;

/**
 * The idle-cost section of the report, from the JSON lines of bench/c/idle_bench (scripts/bench
 * writes them to raw/idle.jsonl): process CPU per wall second and submit-to-serial() latency at
 * fixed submission rates, padata against a plain thread pool, and the targets of docs/contract.md
 * section 6 (one job per ms: at most 10% of one core and p99 at most 200 µs; one job per 100 µs:
 * at most 40% of one core).
 */
final class IdleReport {
    private IdleReport() {
    }

    /** One (contender, period) line; {@code ok} false means the check failed (no figures). */
    record Line(String contender, long periodUs, String rate, boolean ok, String why, double cpuPct,
                double cpuMin, double cpuMax, double csPerJob, double jobsPerS, double p50, double p99,
                double p999) {
    }

    /** The lines of @p (lines not starting with '{' are skipped); IllegalArgumentException on bad JSON. */
    static List<Line> read(Path p) throws IOException {
        List<Line> out = new ArrayList<>();
        int lineNo = 0;
        for (String s : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            lineNo++;
            s = s.strip();
            if (!s.startsWith("{")) {
                continue;
            }
            Map<String, Object> o;
            try {
                o = Json.parseObject(s);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(p + ":" + lineNo + ": " + e.getMessage());
            }
            String c = Json.str(o, "contender");
            double period = Json.num(o, "period_us");
            if (c == null || Double.isNaN(period)) {
                throw new IllegalArgumentException(p + ":" + lineNo + ": no contender or period_us");
            }
            out.add(new Line(c, (long) period, Json.str(o, "rate"), "ok".equals(Json.str(o, "check")),
                    Json.str(o, "why"), Json.num(o, "cpu_pct"), Json.num(o, "cpu_pct_min"),
                    Json.num(o, "cpu_pct_max"), Json.num(o, "vcsw_per_job"), Json.num(o, "jobs_per_s"),
                    Json.num(o, "lat_p50_ns"), Json.num(o, "lat_p99_ns"), Json.num(o, "lat_p999_ns")));
        }
        return out;
    }

    /** Lines whose check failed. */
    static List<Line> failures(List<Line> lines) {
        return lines.stream().filter(l -> !l.ok()).toList();
    }

    /** The Markdown section: a table, the PASS/MISS lines, and what skews the figures. */
    static String render(List<Line> lines) {
        StringBuilder b = new StringBuilder();
        b.append("\n## Idle cost (bench/c/idle_bench: fixed submission rates)\n\n");
        b.append("| contender | rate | CPU, % of one core | spread | ctx switches / job | jobs/s"
                + " | latency p50 / p99 / p99.9 |\n|---|---|---:|---|---:|---:|---|\n");
        for (Line l : lines) {
            b.append("| ").append(l.contender()).append(" | ").append(l.rate()).append(" | ");
            if (!l.ok()) {
                b.append("FAIL | | | | ").append(l.why()).append(" |\n");
                continue;
            }
            b.append(String.format(Locale.ROOT, "%.1f%% | %.1f .. %.1f | %.3f | %s | %s / %s / %s |\n",
                    l.cpuPct(), l.cpuMin(), l.cpuMax(), l.csPerJob(), fmtRate(l.jobsPerS()),
                    fmtNs(l.p50()), fmtNs(l.p99()), fmtNs(l.p999())));
        }
        b.append("\nCPU is the process's user + system time per wall second over the measured window (all"
                + " threads: the submitter too); latency runs from the submit call to the start of the"
                + " in-order stage (serial() for padata). Other load on the machine lowers the CPU a"
                + " spinning worker gets and inflates the latency tails; the context switches per job"
                + " (parks and blocking waits) are the least skewed figure. Saturated latency is mostly"
                + " queueing.\n\n```\n");
        for (Targets.Verdict v : targets(lines)) {
            b.append(v.line()).append('\n');
        }
        b.append("```\n");
        return b.toString();
    }

    static List<Targets.Verdict> targets(List<Line> lines) {
        List<Targets.Verdict> v = new ArrayList<>();
        cpu(v, lines, 1000, 10.0);
        p99(v, lines, 1000, 200e3);
        cpu(v, lines, 100, 40.0);
        return v;
    }

    private static Line find(List<Line> lines, long periodUs) {
        return lines.stream().filter(l -> l.contender().equals("c-padata") && l.periodUs() == periodUs)
                .findFirst().orElse(null);
    }

    private static void cpu(List<Targets.Verdict> out, List<Line> lines, long periodUs, double max) {
        String target = String.format(Locale.ROOT, "c-padata at 1 job / %d µs: ≤ %.0f%% of one core", periodUs, max);
        Line l = find(lines, periodUs);
        if (l == null || !l.ok()) {
            out.add(new Targets.Verdict(false, target, l == null ? "no figure" : "check failed"));
            return;
        }
        out.add(new Targets.Verdict(l.cpuPct() <= max, target,
                String.format(Locale.ROOT, "%.1f%% (%.1f .. %.1f)", l.cpuPct(), l.cpuMin(), l.cpuMax())));
    }

    private static void p99(List<Targets.Verdict> out, List<Line> lines, long periodUs, double maxNs) {
        String target = String.format(Locale.ROOT, "c-padata at 1 job / %d µs: p99 submit-to-serial() ≤ %s",
                periodUs, fmtNs(maxNs));
        Line l = find(lines, periodUs);
        if (l == null || !l.ok()) {
            out.add(new Targets.Verdict(false, target, l == null ? "no figure" : "check failed"));
            return;
        }
        out.add(new Targets.Verdict(l.p99() <= maxNs, target, fmtNs(l.p99()) + " (load-skewed)"));
    }
}
