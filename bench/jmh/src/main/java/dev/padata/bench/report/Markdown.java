/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.padata.bench.report.Report.fmtNs;
import static dev.padata.bench.report.Report.fmtRate;
import static dev.padata.bench.report.Report.fmtRatio;

/** Renders a {@link Report.Model} as the Markdown report. */
final class Markdown {
    private Markdown() {
    }

    static String render(Report.Model m, String title, Map<String, String> env) {
        StringBuilder b = new StringBuilder();
        List<String> cs = m.contenders();
        b.append("# ").append(title).append("\n\n");
        if (!env.isEmpty()) {
            for (Map.Entry<String, String> e : env.entrySet()) {
                b.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
            }
            b.append('\n');
        }

        b.append("## Throughput (jobs/s, median of the measured runs or JMH iterations)\n\n");
        table(b, m, cs, (c, w) -> fmtRate(m.rate(c, w)));
        b.append("\n## Ratio to oneTBB (same w, same run)\n\n");
        table(b, m, cs, (c, w) -> fmtRatio(m.rate(c, w) / m.rate("tbb", w)));
        b.append("\n## Ratio to the single-threaded loop of the same language (c-single / java-single)\n\n");
        table(b, m, cs, (c, w) -> fmtRatio(m.rate(c, w) / m.rate(Report.Model.singleFor(c), w)));

        // The gatherer one-liner has no per-job hook to time (as java-mapconcurrent): no latency row.
        List<String> latency = cs.stream().filter(c -> c.contains("padata") && !c.equals("java-padata-gatherer")).toList();
        if (!latency.isEmpty()) {
            b.append("\n## Latency per job, accepted by padata_do_parallel() to start of serial() (p50 / p99 / p99.9)\n\n");
            table(b, m, latency, (c, w) -> {
                Report.Result r = m.get(c, w);
                if (r == null || !r.ok() || Double.isNaN(r.p50())) {
                    return "n/a";
                }
                return fmtNs(r.p50()) + " / " + fmtNs(r.p99()) + " / " + fmtNs(r.p999());
            });
            b.append("\nSampled on every 16th job, in separate runs from the throughput figures for the Java"
                    + " contenders (LatencyMain). With the pipeline full, the latency is about the jobs in flight"
                    + " divided by the throughput. java-padata-idiomatic is timed from its blocking submit(),"
                    + " so the wait for room counts.\n");
        }

        List<String> java = cs.stream().filter(c -> c.startsWith("java-")).toList();
        if (!java.isEmpty()) {
            b.append("\n## Bytes allocated per job (JMH -prof gc: gc.alloc.rate.norm / jobs per batch)\n\n");
            b.append("Below 1 B/job nothing is allocated per job (an object is at least 16 bytes): the rest is"
                    + " per-batch work and JMH bookkeeping spread over the batch.\n\n");
            table(b, m, java, (c, w) -> {
                Report.Result r = m.get(c, w);
                return r == null || !r.ok() || Double.isNaN(r.bytesPerJob()) ? "n/a"
                        : String.format(Locale.ROOT, "%.2f", r.bytesPerJob());
            });
        }

        b.append("\n## Targets\n\n```\n");
        for (Targets.Verdict v : Targets.evaluate(m)) {
            b.append(v.line()).append('\n');
        }
        b.append("```\n");

        List<Report.Result> failures = m.failures();
        b.append("\n## Correctness\n\n");
        if (failures.isEmpty()) {
            b.append("Every contender passed its order and digest check at every w.\n");
        } else {
            b.append("These failed their check (or produced no result) and have no figure:\n\n");
            for (Report.Result r : failures) {
                b.append("- FAIL ").append(r.contender()).append(" w=").append(r.w()).append(": ")
                        .append(r.why() == null ? "(no reason given)" : r.why()).append('\n');
            }
        }

        b.append("\n## Details\n\n| contender | w | jobs/batch | jobs/s | spread | runs | notes |\n");
        b.append("|---|---:|---:|---:|---|---:|---|\n");
        for (String c : cs) {
            for (int w : m.ws()) {
                Report.Result r = m.get(c, w);
                if (r == null || !r.ok()) {
                    continue;
                }
                b.append("| ").append(c).append(" | ").append(w).append(" | ").append(r.jobs()).append(" | ")
                        .append(fmtRate(r.jobsPerS())).append(" | ")
                        .append(fmtRate(r.low())).append(" .. ").append(fmtRate(r.high())).append(" (")
                        .append(r.spreadKind()).append(") | ").append(r.runs()).append(" | ")
                        .append(r.note()).append(" |\n");
            }
        }
        return b.toString();
    }

    interface Cell {
        String at(String contender, int w);
    }

    private static void table(StringBuilder b, Report.Model m, List<String> rows, Cell cell) {
        b.append("| contender |");
        for (int w : m.ws()) {
            b.append(" w=").append(w).append(" |");
        }
        b.append("\n|---|");
        for (int i = 0; i < m.ws().size(); i++) {
            b.append("---:|");
        }
        b.append('\n');
        for (String c : rows) {
            b.append("| ").append(c).append(" |");
            for (int w : m.ws()) {
                Report.Result r = m.get(c, w);
                b.append(' ').append(r != null && !r.ok() ? "FAIL" : cell.at(c, w)).append(" |");
            }
            b.append('\n');
        }
    }
}
