/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.data.category.DefaultCategoryDataset;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.padata.bench.report.Report.fmtRate;
import static dev.padata.bench.report.Report.fmtRatio;

/**
 * The "Real workloads" part of the report: the JSON lines of bench/c's workload_bench (and of
 * any other driver writing {@code "suite":"workload"} lines), one table per (workload, size)
 * with ratios to the single loop of the same language, to oneTBB and to the unordered limit,
 * the workload targets as PASS/MISS, and a speedup-over-single chart per workload.
 */
final class Workloads {
    private Workloads() {
    }

    /** One (workload, size, contender). {@code skip}: not run (a library or tool missing). */
    record W(String workload, int size, String contender, boolean ok, boolean skip, String why, double rate,
             double min, double max, double q1, double q3, double mbPerS, int rounds, int threads, String note) {
    }

    /** Reads the lines of one file; lines of other suites are ignored. */
    static void read(Path p, List<W> out) throws IOException {
        int lineNo = 0;
        for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            lineNo++;
            line = line.strip();
            if (!line.startsWith("{")) {
                continue;
            }
            Map<String, Object> o;
            try {
                o = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(p + ":" + lineNo + ": " + e.getMessage());
            }
            if (!"workload".equals(Json.str(o, "suite"))) {
                continue;
            }
            String wl = Json.str(o, "workload");
            String c = Json.str(o, "contender");
            if (wl == null || c == null) {
                throw new IllegalArgumentException(p + ":" + lineNo + ": no workload or contender");
            }
            int size = (int) Json.num(o, "size");
            String check = Json.str(o, "check");
            int threads = (int) Json.num(o, "threads");
            if (!"ok".equals(check)) {
                out.add(new W(wl, size, c, false, "SKIP".equals(check), Json.str(o, "why"), Double.NaN, Double.NaN,
                        Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, threads, ""));
                continue;
            }
            List<String> notes = new ArrayList<>();
            if (o.containsKey("cpu_ns_per_item")) {
                notes.add(String.format(Locale.ROOT, "CPU %.0f ns/item, %.2f cores busy, %.4f context switches/item",
                        Json.num(o, "cpu_ns_per_item"), Json.num(o, "cores_busy"), Json.num(o, "csw_per_item")));
            }
            if (o.containsKey("inflight")) {
                notes.add(Json.str(o, "call") + ", in-flight limit " + Json.str(o, "inflight") + ", "
                        + Json.str(o, "lanes") + " serial CPU(s), pool " + Json.str(o, "pool")
                        + (o.containsKey("waits_per_job")
                                ? String.format(Locale.ROOT, ", %.4f waits per job", Json.num(o, "waits_per_job")) : ""));
            }
            if (o.containsKey("tokens")) {
                notes.add("oneTBB " + Json.str(o, "tbb_version") + ", " + Json.str(o, "tokens") + " tokens");
            }
            String placed = Json.lineNote(o);
            if (placed != null) {
                notes.add(placed);
            }
            if (o.containsKey("compressed_bytes")) {
                notes.add(String.format(Locale.ROOT, "ratio %.3f, level %s",
                        Json.num(o, "compressed_bytes") / Json.num(o, "bytes"), Json.str(o, "level")));
            }
            out.add(new W(wl, size, c, true, false, null, Json.num(o, "items_per_s"), Json.num(o, "items_per_s_min"),
                    Json.num(o, "items_per_s_max"), Json.num(o, "items_per_s_q1"), Json.num(o, "items_per_s_q3"),
                    Json.num(o, "mb_per_s"), (int) Json.num(o, "rounds"), threads, String.join("; ", notes)));
        }
    }

    /** The (workload, size) cases in the order they were measured. */
    private static Map<String, List<W>> cases(List<W> all) {
        Map<String, List<W>> m = new LinkedHashMap<>();
        for (W w : all) {
            m.computeIfAbsent(w.workload() + "@" + w.size(), k -> new ArrayList<>()).add(w);
        }
        return m;
    }

    private static W find(List<W> c, String contender) {
        for (W w : c) {
            if (w.contender().equals(contender)) {
                return w;
            }
        }
        return null;
    }

    private static double rate(List<W> c, String contender) {
        W w = find(c, contender);
        return w == null || !w.ok() ? Double.NaN : w.rate();
    }

    private static String single(String contender) {
        return contender.startsWith("java-") ? "java-single" : "c-single";
    }

    private static String unordered(String contender) {
        return contender.startsWith("java-") ? "java-unordered" : "c-unordered";
    }

    private static String title(W w) {
        return w.workload().equals("deflate")
                ? String.format(Locale.ROOT, "deflate, %d KiB blocks", w.size() / 1024)
                : String.format(Locale.ROOT, "%s, %d-byte packets", w.workload(), w.size());
    }

    static List<W> failures(List<W> all) {
        return all.stream().filter(w -> !w.ok() && !w.skip()).toList();
    }

    /** The Markdown section; {@code charts} are the PNG file names written beside report.md. */
    static void markdown(StringBuilder b, List<W> all, List<String> charts) {
        if (all.isEmpty()) {
            return;
        }
        b.append("\n## Real workloads\n\n");
        b.append("workload_bench: alternating rounds of every contender in one run, median of the measured rounds"
                + " (the first, unmeasured round checks every byte). × single: over the single loop of the same"
                + " language; × tbb: over oneTBB parallel_pipeline; of limit: the share of c-unordered, the same"
                + " work on every CPU with no ordering. Spread: min..max of the rounds, and the interquartile"
                + " range. CPU ns/item: the CPU time of every thread of the process per item (median of the rounds;"
                + " what a contender spends beyond the single loop's is its cost of going parallel), cores busy:"
                + " that CPU time per wall second, context switches: voluntary and not, all threads.\n");
        for (List<W> c : cases(all).values()) {
            b.append("\n### ").append(title(c.get(0))).append("\n\n");
            b.append("| contender | MB/s | items/s | spread (min..max; q1..q3) | × single | × tbb | of limit | rounds | notes |\n");
            b.append("|---|---:|---:|---|---:|---:|---:|---:|---|\n");
            for (W w : c) {
                b.append("| ").append(w.contender()).append(" | ");
                if (!w.ok()) {
                    b.append(w.skip() ? "SKIP" : "FAIL").append(" | | | | | | | ")
                            .append(w.why() == null ? "" : w.why().replace('|', '/')).append(" |\n");
                    continue;
                }
                double mbPerItem = w.mbPerS() / w.rate();
                b.append(String.format(Locale.ROOT, "%.1f", w.mbPerS())).append(" | ").append(fmtRate(w.rate()))
                        .append(" | ")
                        .append(String.format(Locale.ROOT, "%.1f..%.1f; %.1f..%.1f MB/s", w.min() * mbPerItem,
                                w.max() * mbPerItem, w.q1() * mbPerItem, w.q3() * mbPerItem))
                        .append(" | ").append(fmtRatio(w.rate() / rate(c, single(w.contender()))))
                        .append(" | ").append(fmtRatio(w.rate() / rate(c, "tbb")))
                        .append(" | ").append(fmtRatio(w.rate() / rate(c, unordered(w.contender()))))
                        .append(" | ").append(w.rounds()).append(" | ").append(w.note()).append(" |\n");
            }
        }
        for (String png : charts) {
            b.append("\n![speedup over the single loop: ").append(png).append("](").append(png).append(")\n");
        }
        b.append("\n### Targets (real workloads)\n\n```\n");
        for (Targets.Verdict v : targets(all)) {
            b.append(v.line()).append('\n');
        }
        b.append("```\n");
    }

    /** The workload targets of issue 10 as PASS/MISS; a missing figure is a MISS that says why. */
    static List<Targets.Verdict> targets(List<W> all) {
        List<Targets.Verdict> v = new ArrayList<>();
        ratio(v, all, "aes-gcm", 1400, "c-single", 1.6, "aes-gcm C ≥ 1.6× the single loop at 1400 B");
        ratio(v, all, "aes-gcm", 8000, "c-single", 1.75, "aes-gcm C ≥ 1.75× the single loop at 8000 B");
        ratio(v, all, "aes-gcm", 1400, "tbb", 1.0, "aes-gcm C ≥ 1.0× oneTBB at 1400 B");
        ratio(v, all, "aes-gcm", 8000, "tbb", 1.0, "aes-gcm C ≥ 1.0× oneTBB at 8000 B");
        List<W> d = cases(all).entrySet().stream().filter(e -> e.getKey().startsWith("deflate@"))
                .map(Map.Entry::getValue).findFirst().orElse(List.of());
        W pigz = find(d, "pigz");
        String p = pigz == null || pigz.threads() <= 0 ? "<cpus>" : Integer.toString(pigz.threads());
        ratio(v, all, "deflate", -1, "pigz", 0.95, "deflate C ≥ 0.95× pigz -p " + p + " (same input and level)");
        return v;
    }

    /** c-padata over {@code base} in the case (workload, size); size -1: the workload's only case. */
    private static void ratio(List<Targets.Verdict> out, List<W> all, String workload, int size, String base,
                              double min, String target) {
        List<W> c = cases(all).entrySet().stream()
                .filter(e -> e.getKey().equals(workload + "@" + size) || (size < 0 && e.getKey().startsWith(workload + "@")))
                .map(Map.Entry::getValue).findFirst().orElse(null);
        if (c == null) {
            out.add(new Targets.Verdict(false, target, "no figure: " + workload + " was not part of this run"));
            return;
        }
        double a = rate(c, "c-padata");
        double b = rate(c, base);
        if (Double.isNaN(a) || Double.isNaN(b)) {
            W missing = find(c, Double.isNaN(a) ? "c-padata" : base);
            String why = missing == null ? "not run" : missing.why();
            out.add(new Targets.Verdict(false, target, "no figure for " + (Double.isNaN(a) ? "c-padata" : base)
                    + (why == null ? "" : ": " + why)));
            return;
        }
        out.add(new Targets.Verdict(a / b >= min, target, String.format(Locale.ROOT, "%s (c-padata %s/s vs %s %s/s)",
                fmtRatio(a / b), fmtRate(a), base, fmtRate(b))));
    }

    /**
     * One PNG per workload, {@code workload-<name>.png} in {@code dir}: bars of the speedup over the
     * single loop, one group per size, one bar per contender, a line at 1×.
     * Return: the file names written.
     */
    static List<String> charts(List<W> all, String title, Path dir) throws IOException {
        Map<String, DefaultCategoryDataset> byWorkload = new LinkedHashMap<>();
        Map<String, List<W>> cs = cases(all);
        for (List<W> c : cs.values()) {
            for (W w : c) {
                double r = w.rate() / rate(c, single(w.contender()));
                if (!w.ok() || Double.isNaN(r) || w.contender().endsWith("-single")) {
                    continue;
                }
                String cat = w.workload().equals("deflate") ? (w.size() / 1024) + " KiB blocks" : w.size() + " B";
                byWorkload.computeIfAbsent(w.workload(), k -> new DefaultCategoryDataset()).addValue(r, w.contender(), cat);
            }
        }
        List<String> written = new ArrayList<>();
        for (Map.Entry<String, DefaultCategoryDataset> e : byWorkload.entrySet()) {
            JFreeChart chart = ChartFactory.createBarChart(title + ": " + e.getKey() + ", speedup over the single loop",
                    "", "× the single-threaded loop (same run)", e.getValue(), PlotOrientation.VERTICAL, true, false, false);
            CategoryPlot plot = chart.getCategoryPlot();
            plot.setBackgroundPaint(Color.WHITE);
            plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
            ValueMarker one = new ValueMarker(1.0, Color.DARK_GRAY, new BasicStroke(1.5f));
            plot.addRangeMarker(one);
            chart.setBackgroundPaint(Color.WHITE);
            String name = "workload-" + e.getKey().replaceAll("[^A-Za-z0-9._-]", "_") + ".png";
            ChartUtils.saveChartAsPNG(dir.resolve(name).toFile(), chart, 900, 560);
            written.add(name);
        }
        return written;
    }
}
