/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import dev.padata.bench.Work;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns one harness run into a report: reads the C benches' JSON lines, JMH's JSON and the
 * Java latency lines, and writes a Markdown report (throughput, ratios to oneTBB and to the
 * single-threaded loop of the same language, latency percentiles, bytes per job, the PASS/MISS
 * targets) to stdout and {@code <out>/report.md}, and the chart {@code <out>/throughput.png}.
 *
 * <pre>
 * java -cp benchmarks.jar dev.padata.bench.report.Report --c c.jsonl --jmh jmh.json \
 *      --java-lat java-lat.jsonl --expect c-padata,tbb,... --w 0,100,1000,10000 --out DIR
 * </pre>
 * Exit status: 0; 1 when a contender failed its check or an expected result is missing (no
 * figure is shown for it); 2 on bad arguments or unreadable input. Missed targets are reported,
 * not failures.
 */
public final class Report {
    private Report() {
    }

    /** One (contender, w) of the run. NaN marks a figure that does not exist. */
    record Result(String contender, int w, double jobsPerS, double low, double high, String spreadKind,
                  int runs, int jobs, boolean ok, String why,
                  double p50, double p99, double p999, double bytesPerJob, String note,
                  double lineRtMin, double lineRtMax) {
        Result withLatency(double a, double b, double c) {
            return new Result(contender, w, jobsPerS, low, high, spreadKind, runs, jobs, ok, why, a, b, c, bytesPerJob, note,
                    lineRtMin, lineRtMax);
        }

        static Result failed(String contender, int w, String why) {
            return new Result(contender, w, Double.NaN, Double.NaN, Double.NaN, "", 0, 0, false, why,
                    Double.NaN, Double.NaN, Double.NaN, Double.NaN, "", Double.NaN, Double.NaN);
        }
    }

    static final String USAGE = """
            usage: Report [--c FILE]... [--jmh FILE] [--java-lat FILE] [--keyed FILE] [--mt FILE] [--idle FILE]
                          [--workloads FILE]... [--java-workloads FILE] [--flink FILE] [--expect LIST] [--w LIST]
                          [--title TEXT] [--env KEY=VALUE]... [--out DIR] [--no-chart]
              --c FILE        JSON lines of padata_bench / tbb_bench (repeatable)
              --jmh FILE      JMH result (-rf json) of OrderedThroughput
              --java-lat FILE JSON lines of dev.padata.bench.LatencyMain
              --keyed FILE    JSON lines of dev.padata.bench.KeyedMain (a section of its own)
              --java-workloads FILE  JSON lines of dev.padata.bench.workload.WorkloadMain
              --flink FILE    JSON lines of dev.padata.flink.examples.OrderedMapBenchmark
              --mt FILE       JSON lines of mt_bench and MultithreadedMain (multithreaded jobs)
              --idle FILE     JSON lines of bench/c/idle_bench (the idle-cost section)
              --workloads FILE JSON lines of the real workloads ("suite":"workload"; repeatable)
              --expect LIST   contenders that must have a figure at every w (comma separated)
              --w LIST        work sizes of the sweep (default: those found)
              --out DIR       write DIR/report.md, DIR/throughput.png, DIR/speedup.png and
                              DIR/workload-<name>.png
            """;

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        int rc;
        try {
            rc = run(args, System.out);
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("report: " + e.getMessage());
            rc = 2;
        }
        System.exit(rc);
    }

    static int run(String[] args, PrintStream terminal) throws IOException {
        List<Path> cFiles = new ArrayList<>();
        List<Path> workloadFiles = new ArrayList<>();
        Path jmh = null;
        Path javaLat = null;
        Path keyed = null;
        Path javaWorkloads = null;
        Path flink = null;
        Path mt = null;
        Path idle = null;
        Path out = null;
        List<String> expect = new ArrayList<>();
        Set<Integer> ws = new TreeSet<>();
        String title = "padata cross-language benchmark";
        Map<String, String> env = new LinkedHashMap<>();
        boolean chart = true;

        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) {
                terminal.print(USAGE);
                return 0;
            }
            if (a.equals("--no-chart")) {
                chart = false;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value\n" + USAGE);
            }
            String v = args[++i];
            switch (a) {
                case "--c" -> cFiles.add(Path.of(v));
                case "--jmh" -> jmh = Path.of(v);
                case "--java-lat" -> javaLat = Path.of(v);
                case "--keyed" -> keyed = Path.of(v);
                case "--java-workloads" -> javaWorkloads = Path.of(v);
                case "--flink" -> flink = Path.of(v);
                case "--mt" -> mt = Path.of(v);
                case "--idle" -> idle = Path.of(v);
                case "--workloads" -> workloadFiles.add(Path.of(v));
                case "--out" -> out = Path.of(v);
                case "--title" -> title = v;
                case "--expect" -> {
                    for (String s : v.split(",")) {
                        if (!s.isBlank()) {
                            expect.add(s.trim());
                        }
                    }
                }
                case "--w" -> {
                    for (String s : v.split(",")) {
                        ws.add(parseW(s.trim()));
                    }
                }
                case "--env" -> {
                    int eq = v.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("--env needs KEY=VALUE, not '" + v + "'");
                    }
                    env.put(v.substring(0, eq), v.substring(eq + 1));
                }
                default -> throw new IllegalArgumentException("unknown option " + a + "\n" + USAGE);
            }
        }

        Map<String, Result> results = new LinkedHashMap<>();
        for (Path p : cFiles) {
            readLines(p, results, false);
        }
        if (jmh != null) {
            readJmh(jmh, results);
        }
        if (javaLat != null) {
            readLines(javaLat, results, true);
        }
        if (ws.isEmpty()) {
            for (Result r : results.values()) {
                ws.add(r.w());
            }
        }
        for (String c : expect) {
            for (int w : ws) {
                results.putIfAbsent(key(c, w), Result.failed(c, w,
                        "no result: the benchmark did not finish or failed its check (see the run log)"));
            }
        }

        List<Workloads.W> workloads = new ArrayList<>();
        for (Path p : workloadFiles) {
            if (Files.exists(p)) {
                Workloads.read(p, workloads);
            }
        }

        Model model = new Model(results, new ArrayList<>(ws), expect);
        List<String> workloadCharts = List.of();
        if (out != null) {
            Files.createDirectories(out);
            if (chart) {
                Chart.write(model, title, out.resolve("throughput.png"));
                Chart.writeSpeedup(model, title, out.resolve("speedup.png"));
                workloadCharts = Workloads.charts(workloads, title, out);
            }
        }
        StringBuilder md = new StringBuilder(Markdown.render(model, title, env));
        if (out != null && chart) {
            md.append("\n![speedup of the FNV sweep over the single loop of the same language](speedup.png)\n");
        }
        KeyedSection.Rendered keyedSection = keyed == null ? null : KeyedSection.render(keyed);
        if (keyedSection != null) {
            md.append(keyedSection.markdown());
        }
        List<MtSection.Row> mtRows = mt == null ? List.of() : MtSection.read(mt);
        if (mt != null) {
            md.append(MtSection.render(mtRows));
        }
        List<IdleReport.Line> idleLines = idle == null ? List.of() : IdleReport.read(idle);
        if (idle != null) {
            md.append(IdleReport.render(idleLines));
        }
        Workloads.markdown(md, workloads, workloadCharts);
        int sectionFailures = 0;
        if (javaWorkloads != null) {
            JavaWorkloadsSection.Rendered jw = JavaWorkloadsSection.render(javaWorkloads);
            md.append(jw.markdown());
            sectionFailures += jw.failures();
        }
        if (flink != null) {
            JavaWorkloadsSection.Rendered fl = FlinkSection.render(flink);
            md.append(fl.markdown());
            sectionFailures += fl.failures();
        }
        terminal.print(md);
        if (out != null) {
            Files.writeString(out.resolve("report.md"), md, StandardCharsets.UTF_8);
        }
        return model.failures().isEmpty() && (keyedSection == null || keyedSection.ok())
                && !MtSection.anyFailed(mtRows) && IdleReport.failures(idleLines).isEmpty()
                && Workloads.failures(workloads).isEmpty() && sectionFailures == 0 ? 0 : 1;
    }

    static String key(String contender, int w) {
        return contender + "@" + w;
    }

    private static int parseW(String s) {
        try {
            int w = Integer.parseInt(s);
            if (w < 0) {
                throw new NumberFormatException();
            }
            return w;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad work size '" + s + "'");
        }
    }

    /** C bench lines (or, with {@code latencyOnly}, Java latency lines merged into JMH results). */
    static void readLines(Path p, Map<String, Result> results, boolean latencyOnly) throws IOException {
        int lineNo = 0;
        for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            lineNo++;
            line = line.strip();
            if (!line.startsWith("{")) {
                continue; // progress or log lines that ended up in the file
            }
            Map<String, Object> o;
            try {
                o = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(p + ":" + lineNo + ": " + e.getMessage());
            }
            String c = Json.str(o, "contender");
            int w = (int) Json.num(o, "w");
            if (c == null || w < 0) {
                throw new IllegalArgumentException(p + ":" + lineNo + ": no contender or w");
            }
            boolean ok = "ok".equals(Json.str(o, "check"));
            String k = key(c, w);
            if (latencyOnly) {
                Result r = results.get(k);
                if (!ok) {
                    results.put(k, Result.failed(c, w, "latency run: " + Json.str(o, "why")));
                } else if (r != null && r.ok()) {
                    results.put(k, r.withLatency(Json.num(o, "lat_p50_ns"), Json.num(o, "lat_p99_ns"), Json.num(o, "lat_p999_ns")));
                }
                continue;
            }
            if (!ok) {
                results.put(k, Result.failed(c, w, Json.str(o, "why")));
                continue;
            }
            String note = "";
            if (o.containsKey("inflight")) {
                note = "in-flight limit " + Json.str(o, "inflight") + ", " + Json.str(o, "lanes") + " serial CPUs";
            } else if (o.containsKey("tokens")) {
                String v = Json.str(o, "tbb_version");
                note = (v != null ? "oneTBB " + v + ", " : "") + Json.str(o, "tokens") + " tokens, "
                        + Json.str(o, "threads") + " threads";
            }
            String placed = Json.lineNote(o);
            if (placed != null) {
                note = note.isEmpty() ? placed : note + "; " + placed;
            }
            results.put(k, new Result(c, w, Json.num(o, "jobs_per_s"), Json.num(o, "jobs_per_s_min"),
                    Json.num(o, "jobs_per_s_max"), "min..max of runs", (int) Json.num(o, "runs"), (int) Json.num(o, "jobs"),
                    true, null, Json.num(o, "lat_p50_ns"), Json.num(o, "lat_p99_ns"), Json.num(o, "lat_p999_ns"), Double.NaN, note,
                    Json.lineRtMin(o), Json.lineRtMax(o)));
        }
    }

    /** JMH's JSON: jobs/s from the "jobs" counter, bytes per job from gc.alloc.rate.norm. */
    static void readJmh(Path p, Map<String, Result> results) throws IOException {
        String text = Files.readString(p, StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            return; // JMH writes nothing when every benchmark failed
        }
        Object root = Json.parse(text);
        if (!(root instanceof List<?> list)) {
            throw new IllegalArgumentException(p + ": expected a JMH result array");
        }
        for (Object item : list) {
            @SuppressWarnings("unchecked")
            Map<String, Object> b = (Map<String, Object>) item;
            Map<String, Object> params = Json.obj(b, "params");
            String c = Json.str(params, "contender");
            String wText = Json.str(params, "w");
            if (c == null || wText == null) {
                continue; // some other benchmark
            }
            int w = parseW(wText);
            int n = Work.jobsFor(w);
            Map<String, Object> primary = Json.obj(b, "primaryMetric");
            Map<String, Object> secondary = Json.obj(b, "secondaryMetrics");
            Map<String, Object> alloc = Json.obj(secondary, "gc.alloc.rate.norm");
            // One operation is one batch of n jobs: jobs/s = batches/s * n. The figure is the
            // median of the measured iterations (as the C benches report the median of runs).
            List<Double> its = new ArrayList<>();
            if (primary != null && primary.get("rawData") instanceof List<?> forks) {
                for (Object fork : forks) {
                    if (fork instanceof List<?> l) {
                        for (Object x : l) {
                            if (x instanceof Double d) {
                                its.add(d * n);
                            }
                        }
                    }
                }
            }
            if (its.isEmpty()) {
                its.add(Json.num(primary, "score") * n);
            }
            its.sort(null);
            results.put(key(c, w), new Result(c, w, median(its), its.get(0), its.get(its.size() - 1),
                    "min..max of iterations", its.size(), n, true, null,
                    Double.NaN, Double.NaN, Double.NaN, alloc == null ? Double.NaN : Json.num(alloc, "score") / n,
                    alloc == null ? "" : String.format(Locale.ROOT, "%.0f B allocated per batch", Json.num(alloc, "score")),
                    Double.NaN, Double.NaN));
        }
    }

    static double median(List<Double> sorted) {
        int k = sorted.size();
        return k % 2 == 1 ? sorted.get(k / 2) : (sorted.get(k / 2 - 1) + sorted.get(k / 2)) / 2;
    }

    /** The results of a run with the lookups the renderers need. */
    record Model(Map<String, Result> results, List<Integer> ws, List<String> expected) {
        Result get(String contender, int w) {
            return results.get(key(contender, w));
        }

        /**
         * The cache-line round trips timed before and after the figure (the C benches), the
         * faster first, or null when the figure has none.
         */
        double[] lineRt(String contender, int w) {
            Result r = get(contender, w);
            return r == null || Double.isNaN(r.lineRtMin()) ? null : new double[] {r.lineRtMin(), r.lineRtMax()};
        }

        /** Throughput, or NaN when there is no valid figure. */
        double rate(String contender, int w) {
            Result r = get(contender, w);
            return r == null || !r.ok() ? Double.NaN : r.jobsPerS();
        }

        /** Contenders in report order: C first, then TBB, then Java, then anything else. */
        List<String> contenders() {
            Set<String> names = new LinkedHashSet<>();
            for (String c : List.of("c-padata", "tbb", "c-single")) {
                if (results.values().stream().anyMatch(r -> r.contender().equals(c))) {
                    names.add(c);
                }
            }
            for (String c : expected) {
                names.add(c);
            }
            for (Result r : results.values()) {
                names.add(r.contender());
            }
            return new ArrayList<>(names);
        }

        List<Result> failures() {
            return results.values().stream().filter(r -> !r.ok()).toList();
        }

        /** The single-threaded loop of the contender's language. */
        static String singleFor(String contender) {
            return contender.startsWith("java-") ? "java-single" : "c-single";
        }
    }

    static String fmtRate(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.2f M", v / 1e6);
        }
        if (v >= 1e3) {
            return String.format(Locale.ROOT, "%.1f k", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    static String fmtRatio(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f×", v);
    }

    static String fmtNs(double ns) {
        if (Double.isNaN(ns)) {
            return "n/a";
        }
        if (ns >= 1e6) {
            return String.format(Locale.ROOT, "%.2f ms", ns / 1e6);
        }
        if (ns >= 1e3) {
            return String.format(Locale.ROOT, "%.1f µs", ns / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f ns", ns);
    }
}
