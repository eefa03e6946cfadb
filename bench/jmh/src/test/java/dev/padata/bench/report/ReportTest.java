/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import dev.padata.bench.Work;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportTest {
    @TempDir
    Path dir;

    private static String cLine(String contender, int w, double rate) {
        return String.format(Locale.ROOT, "{\"suite\":\"c\",\"contender\":\"%s\",\"w\":%d,\"jobs\":100,\"threads\":2,"
                + "\"check\":\"ok\",\"runs\":5,\"seconds\":1.0,\"jobs_per_s\":%.1f,\"jobs_per_s_min\":%.1f,"
                + "\"jobs_per_s_max\":%.1f,\"lat_p50_ns\":1500,\"lat_p99_ns\":20000,\"lat_p999_ns\":3000000}",
                contender, w, rate, rate * 0.9, rate * 1.1);
    }

    /** A JMH result entry in the shape of -rf json, with the jobs counter and gc.alloc.rate.norm. */
    private static String jmhEntry(String contender, int w, double jobsPerS, double bytesPerJob) {
        int n = Work.jobsFor(w);
        return String.format(Locale.ROOT, """
                {"jmhVersion":"1.37","benchmark":"dev.padata.bench.jmh.OrderedThroughput.batch","mode":"thrpt",
                 "threads":1,"forks":1,"measurementIterations":5,
                 "params":{"contender":"%s","w":"%d"},
                 "primaryMetric":{"score":%.4f,"scoreError":%.4f,"scoreConfidence":[0,0],"scoreUnit":"ops/s",
                   "rawData":[[%.6f,%.6f],[%.6f]]},
                 "secondaryMetrics":{"jobs":{"score":%.1f,"scoreError":"NaN","scoreUnit":"ops/s"},
                   "gc.alloc.rate.norm":{"score":%.4f,"scoreError":0.1,"scoreUnit":"B/op"}}}""",
                contender, w, jobsPerS / n, jobsPerS / n / 100, jobsPerS / n * 0.99, jobsPerS / n, jobsPerS / n * 1.01,
                jobsPerS, bytesPerJob * n);
    }

    private record Run(int rc, String out) {
    }

    private Run report(List<String> cLines, List<String> jmh, String... extra) throws IOException {
        Path c = dir.resolve("c.jsonl");
        Files.write(c, cLines);
        Path j = dir.resolve("jmh.json");
        Files.writeString(j, "[" + String.join(",", jmh) + "]");
        List<String> args = new ArrayList<>(List.of("--c", c.toString(), "--jmh", j.toString(), "--w", "0,100,1000,10000",
                "--out", dir.resolve("out").toString(), "--title", "test run"));
        args.addAll(List.of(extra));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int rc = Report.run(args.toArray(String[]::new), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(rc, bytes.toString(StandardCharsets.UTF_8));
    }

    /** A run where the C core is 3× TBB everywhere and Java meets every target. */
    private static List<String> goodC() {
        List<String> l = new ArrayList<>();
        for (int w : new int[] {0, 100, 1000, 10000}) {
            double single = 1e9 / (w * 1.2 + 5);
            l.add(cLine("c-single", w, single));
            l.add(cLine("tbb", w, Math.min(1e6, single * 1.9)));
            l.add(cLine("c-padata", w, w == 10000 ? single * 1.95 : 3e6));
        }
        return l;
    }

    private static List<String> goodJmh() {
        List<String> l = new ArrayList<>();
        for (int w : new int[] {0, 100, 1000, 10000}) {
            double single = 1e9 / (w * 1.2 + 5);
            l.add(jmhEntry("java-single", w, single, 0));
            l.add(jmhEntry("java-padata-lambda", w, w == 10000 ? single * 1.9 : 2.5e6, 0.01));
            l.add(jmhEntry("java-padata-native", w, w == 10000 ? single * 1.95 : 2.9e6, 0.0));
            l.add(jmhEntry("java-pool", w, 1e6, 120));
            l.add(jmhEntry("java-mapconcurrent", w, 0.5e6, 400));
            l.add(jmhEntry("java-disruptor", w, 1.1e6, 0));
            l.add(jmhEntry("java-stream", w, single * 1.8, 0));
            l.add(jmhEntry("java-padata-idiomatic", w, (w == 10000 ? single * 1.9 : 2.5e6) * 0.9, 40));
            l.add(jmhEntry("java-padata-batch", w, w == 10000 ? single * 1.95 : 2.6e6, 40));
        }
        return l;
    }

    @Test
    void aGoodRunPassesEveryTargetAndWritesTheFiles() throws IOException {
        Run r = report(goodC(), goodJmh());
        assertEquals(0, r.rc(), r.out());
        assertFalse(r.out().contains("MISS"), r.out());
        assertTrue(r.out().contains("PASS  C core ≥ 2.0× oneTBB at w=0: 3.00×"), r.out());
        assertTrue(r.out().contains("PASS  C core ≥ 1.7× the single-threaded C loop at w=1000: 3.62×"), r.out());
        assertTrue(r.out().contains("PASS  Java lambdas ≥ 2× the best pure-Java streaming contender at w=100: 2.27×"), r.out());
        assertTrue(r.out().contains("PASS  Java lambdas ≥ 1.0× parallel forEachOrdered (java-stream) at w=10000: 1.06×"), r.out());
        assertTrue(r.out().contains("PASS  OrderedPipeline ≥ 0.85× Java lambdas at w=0: 0.90×"), r.out());
        assertTrue(r.out().contains("PASS  OrderedPipeline.submitAll ≥ 2× the best pure-Java streaming contender at w=1000: 2.36×"), r.out());
        assertTrue(r.out().contains("PASS  OrderedPipeline.submitAll ≥ 1.0× parallel forEachOrdered (java-stream) at w=1000"), r.out());
        assertTrue(r.out().contains("PASS  0 bytes allocated per job by the binding (java-padata-native, every w)"), r.out());
        assertTrue(r.out().contains("| java-pool | 120.00 | 120.00 | 120.00 | 120.00 |"), r.out());
        assertTrue(r.out().contains("1.5 µs / 20.0 µs / 3.00 ms"), r.out());
        assertTrue(r.out().contains("| java-pool | 0 | 100000 | 1.00 M | 990.0 k .. 1.01 M (min..max of iterations) | 3 |"), r.out());
        assertTrue(Files.size(dir.resolve("out/throughput.png")) > 1000);
        assertEquals(r.out(), Files.readString(dir.resolve("out/report.md")));
    }

    @Test
    void aSlowCoreIsAMissNotAFailure() throws IOException {
        List<String> c = new ArrayList<>(goodC());
        c.replaceAll(l -> l.contains("\"c-padata\",\"w\":0,") ? cLine("c-padata", 0, 1.5e6) : l);
        Run r = report(c, goodJmh());
        assertEquals(0, r.rc(), r.out());
        assertTrue(r.out().contains("MISS  C core ≥ 2.0× oneTBB at w=0: 1.50×"), r.out());
    }

    /** Adds the line round trips timed before and after the figure to {@code contender}'s line at {@code w}. */
    private static void withLineRt(List<String> c, String contender, int w, String before, String after) {
        String at = "\"contender\":\"" + contender + "\",\"w\":" + w + ",";
        assertEquals(1, c.stream().filter(l -> l.contains(at)).count(), at);
        c.replaceAll(l -> l.contains(at)
                ? l.replace("}", ",\"line_rt_ns_before\":" + before + ",\"line_rt_ns_after\":" + after + "}") : l);
    }

    @Test
    void eachCFigureNotesTheLineRoundTripItWasMeasuredWith() throws IOException {
        List<String> c = new ArrayList<>(goodC());
        withLineRt(c, "c-padata", 0, "58.4", "351.0");
        Run r = report(c, goodJmh());
        assertEquals(0, r.rc(), r.out());
        assertTrue(r.out().contains("| line round trip 58 / 351 ns before / after |"), r.out());
    }

    @Test
    void aRatioOfFiguresMeasuredWithTheCpusPlacedDifferentlyIsSkipped() throws IOException {
        List<String> c = new ArrayList<>(goodC());
        withLineRt(c, "c-padata", 0, "52.0", "52.0");
        withLineRt(c, "tbb", 0, "51.0", "348.0");
        Run r = report(c, goodJmh());
        assertEquals(0, r.rc(), r.out());
        assertTrue(r.out().contains("SKIP  C core ≥ 2.0× oneTBB at w=0: 3.00× (c-padata 3.00 M/s vs tbb 1.00 M/s), "
                + "not comparable: the cache-line round trip was 52 ns for c-padata and 51-348 ns for tbb"), r.out());
        assertTrue(r.out().contains("PASS  C core ≥ 2.0× oneTBB at w=100"), r.out());
    }

    /** Round trips within 2x of each other, or on one side only, or failed (-1): judged as usual. */
    @Test
    void aRatioIsJudgedWhenThePlacementsAgreeOrAreNotKnownOnBothSides() throws IOException {
        List<String> c = new ArrayList<>(goodC());
        withLineRt(c, "c-padata", 0, "60.0", "62.0"); // w=0: within 2x
        withLineRt(c, "tbb", 0, "110.0", "104.0");
        withLineRt(c, "c-padata", 100, "58.0", "340.0"); // w=100: c-padata only
        withLineRt(c, "c-padata", 1000, "55.0", "56.0"); // w=1000: a failed probe on tbb
        withLineRt(c, "tbb", 1000, "-1.0", "-1.0");
        Run r = report(c, goodJmh());
        assertEquals(0, r.rc(), r.out());
        assertTrue(r.out().contains("PASS  C core ≥ 2.0× oneTBB at w=0"), r.out());
        assertTrue(r.out().contains("PASS  C core ≥ 2.0× oneTBB at w=100"), r.out());
        assertTrue(r.out().contains("PASS  C core ≥ 1.0× oneTBB at w=1000"), r.out());
        assertFalse(r.out().contains("-1 ns"), "a failed probe is no figure: " + r.out());
    }

    @Test
    void aFailedCheckHasNoFigureAndFailsTheRun() throws IOException {
        List<String> c = new ArrayList<>(goodC());
        c.replaceAll(l -> l.contains("\"tbb\",\"w\":100,")
                ? "{\"suite\":\"c\",\"contender\":\"tbb\",\"w\":100,\"jobs\":100,\"threads\":2,\"check\":\"FAIL\",\"why\":\"3 jobs out of order\"}"
                : l);
        Run r = report(c, goodJmh());
        assertEquals(1, r.rc(), r.out());
        assertTrue(r.out().contains("- FAIL tbb w=100: 3 jobs out of order"), r.out());
        assertTrue(r.out().contains("MISS  C core ≥ 2.0× oneTBB at w=100: no figure for tbb"), r.out());
    }

    @Test
    void anExpectedContenderWithoutResultFailsTheRun() throws IOException {
        Run r = report(goodC(), goodJmh(), "--expect", "java-gone");
        assertEquals(1, r.rc(), r.out());
        assertTrue(r.out().contains("- FAIL java-gone w=0: no result"), r.out());
    }

    @Test
    void anObjectPerJobIsAMiss() throws IOException {
        List<String> j = new ArrayList<>(goodJmh());
        j.replaceAll(e -> e.contains("\"java-padata-native\",\"w\":\"1000\"") ? jmhEntry("java-padata-native", 1000, 2.5e6, 24) : e);
        Run r = report(goodC(), j);
        assertTrue(r.out().contains("MISS  0 bytes allocated per job by the binding (java-padata-native, every w)"), r.out());
        assertTrue(r.out().contains("w=1000: 24.000 B/job"), r.out());
    }

    @Test
    void nativeCallbacksMoreThanTenPercentBehindCIsAMiss() throws IOException {
        List<String> j = new ArrayList<>(goodJmh());
        j.replaceAll(e -> e.contains("\"java-padata-native\",\"w\":\"0\"") ? jmhEntry("java-padata-native", 0, 2.6e6, 0) : e);
        Run r = report(goodC(), j);
        assertTrue(r.out().contains("MISS  Java with native callbacks within 10% of the C contender at w=0: 0.87×"), r.out());
    }

    @Test
    void targetsAboutContendersOutsideTheRunAreSkipped() throws IOException {
        Run r = report(goodC(), List.of());
        assertEquals(0, r.rc(), r.out());
        assertTrue(r.out().contains("PASS  C core ≥ 2.0× oneTBB at w=0"), r.out());
        assertTrue(r.out().contains("SKIP  Java lambdas ≥ 1.8× the single-threaded Java loop at w=10000: java-padata-lambda not part of this run"), r.out());
        assertTrue(r.out().contains("SKIP  0 bytes allocated per job by the binding (java-padata-native, every w)"), r.out());
        assertFalse(r.out().contains("MISS"), r.out());
    }

    @Test
    void badArgumentsAndBadJsonAreReported() throws IOException {
        assertThrows(IllegalArgumentException.class, () -> Report.run(new String[] {"--bogus", "x"}, System.out));
        assertThrows(IllegalArgumentException.class, () -> Report.run(new String[] {"--w", "-3"}, System.out));
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"contender\": \"c-padata\", \"w\": 0,,}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Report.run(new String[] {"--c", bad.toString()}, System.out));
        assertTrue(e.getMessage().contains("bad.jsonl:1"), e.getMessage());
    }

    @Test
    void jsonReaderHandlesTheShapesJmhWrites() {
        Object v = Json.parse("[{\"a\":[1,2.5e3,-3],\"b\":\"x\\\"y\\u0041\",\"c\":NaN,\"d\":null,\"e\":true}]");
        assertTrue(v instanceof List<?>);
        var o = (java.util.Map<?, ?>) ((List<?>) v).get(0);
        assertEquals(List.of(1.0, 2500.0, -3.0), o.get("a"));
        assertEquals("x\"yA", o.get("b"));
        assertTrue(((Double) o.get("c")).isNaN());
        assertEquals(Boolean.TRUE, o.get("e"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1} x"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1,"));
    }

    private static String idleLine(String contender, int periodUs, double cpu, double p99Ns) {
        return String.format(Locale.ROOT, "{\"bench\":\"idle\",\"contender\":\"%s\",\"period_us\":%d,"
                + "\"rate\":\"1 job / %d µs\",\"rounds\":1,\"jobs\":1000,\"jobs_per_s\":1000.0,\"cpu_pct\":%.1f,"
                + "\"cpu_pct_min\":%.1f,\"cpu_pct_max\":%.1f,\"vcsw_per_job\":2.000,\"lat_samples\":1000,"
                + "\"lat_p50_ns\":30000,\"lat_p99_ns\":%.0f,\"lat_p999_ns\":900000,\"check\":\"ok\"}",
                contender, periodUs, periodUs, cpu, cpu, cpu, p99Ns);
    }

    @Test
    void theIdleSectionJudgesCpuAndLatencyAtFixedRates() throws IOException {
        Path idle = dir.resolve("idle.jsonl");
        Files.write(idle, List.of(idleLine("c-padata", 1000, 5.8, 120e3), idleLine("c-padata", 100, 45.0, 90e3),
                idleLine("c-pool", 1000, 3.0, 60e3),
                "{\"bench\":\"idle\",\"contender\":\"c-pool\",\"period_us\":0,\"rate\":\"saturated\","
                        + "\"check\":\"FAIL\",\"why\":\"digest differs\"}"));
        Run r = report(goodC(), goodJmh(), "--idle", idle.toString());
        assertEquals(1, r.rc(), "a failed idle check fails the run: " + r.out());
        assertTrue(r.out().contains("PASS  c-padata at 1 job / 1000 µs: ≤ 10% of one core: 5.8%"), r.out());
        assertTrue(r.out().contains("PASS  c-padata at 1 job / 1000 µs: p99 submit-to-serial() ≤ 200.0 µs: 120.0 µs"), r.out());
        assertTrue(r.out().contains("MISS  c-padata at 1 job / 100 µs: ≤ 40% of one core: 45.0%"), r.out());
        assertTrue(r.out().contains("| c-pool | saturated | FAIL | | | | digest differs |"), r.out());
        assertTrue(r.out().contains("| c-padata | 1 job / 1000 µs | 5.8% | 5.8 .. 5.8 | 2.000 | 1.0 k | 30.0 µs / 120.0 µs / 900.0 µs |"), r.out());
    }

    private static String wLine(String workload, int size, String contender, double itemsPerS, int threads) {
        return String.format(Locale.ROOT, "{\"suite\":\"workload\",\"workload\":\"%s\",\"size\":%d,\"contender\":\"%s\","
                + "\"threads\":%d,\"items\":1000,\"bytes\":%d,\"check\":\"ok\",\"rounds\":5,\"seconds\":1.0,"
                + "\"items_per_s\":%.1f,\"items_per_s_min\":%.1f,\"items_per_s_max\":%.1f,\"items_per_s_q1\":%.1f,"
                + "\"items_per_s_q3\":%.1f,\"mb_per_s\":%.1f}",
                workload, size, contender, threads, 1000L * size, itemsPerS, itemsPerS * 0.9, itemsPerS * 1.1,
                itemsPerS * 0.95, itemsPerS * 1.05, itemsPerS * size / 1e6);
    }

    private static List<String> workloadLines(double padataAes1400, double padataDeflate) {
        List<String> l = new ArrayList<>();
        for (int size : new int[] {1400, 8000}) {
            l.add(wLine("aes-gcm", size, "c-single", 1e6, 1));
            l.add(wLine("aes-gcm", size, "c-padata", size == 1400 ? padataAes1400 : 1.8e6, 2));
            if (size == 1400) { // the CPU figures of workload_bench, on one line
                int last = l.size() - 1;
                l.set(last, l.get(last).replace("}", ",\"cpu_ns_per_item\":1176.4,\"cores_busy\":2.00,"
                        + "\"csw_per_item\":0.0040,\"line_rt_ns_before\":61.2,\"line_rt_ns_after\":344.9}"));
            }
            l.add(wLine("aes-gcm", size, "tbb", 1.5e6, 2));
            l.add(wLine("aes-gcm", size, "c-unordered", 1.9e6, 2));
        }
        l.add(wLine("deflate", 131072, "c-single", 100, 1));
        l.add(wLine("deflate", 131072, "c-padata", padataDeflate, 2));
        l.add(wLine("deflate", 131072, "pigz", 190, 2));
        l.add("{\"suite\":\"workload\",\"workload\":\"deflate\",\"size\":131072,\"contender\":\"tbb\",\"threads\":2,"
                + "\"items\":0,\"bytes\":0,\"check\":\"SKIP\",\"why\":\"oneTBB was not found\"}");
        return l;
    }

    @Test
    void realWorkloadsGetTablesTargetsAndCharts() throws IOException {
        Path w = dir.resolve("workloads.jsonl");
        Files.write(w, workloadLines(1.7e6, 185));
        Run r = report(goodC(), goodJmh(), "--workloads", w.toString());
        assertEquals(0, r.rc(), r.out());
        assertTrue(r.out().contains("### aes-gcm, 1400-byte packets"), r.out());
        assertTrue(r.out().contains("| c-padata | 2380.0 | 1.70 M |"), r.out());
        assertTrue(r.out().contains("| 1.70× | 1.13× | 0.89× |"), r.out());
        assertTrue(r.out().contains("| tbb | SKIP | | | | | | | oneTBB was not found |"), r.out());
        assertTrue(r.out().contains("| 5 | CPU 1176 ns/item, 2.00 cores busy, 0.0040 context switches/item; "
                + "line round trip 61 / 345 ns before / after |"), r.out());
        assertTrue(r.out().contains("PASS  aes-gcm C ≥ 1.6× the single loop at 1400 B: 1.70×"), r.out());
        assertTrue(r.out().contains("PASS  deflate C ≥ 0.95× pigz -p 2 (same input and level): 0.97×"), r.out());
        assertTrue(Files.size(dir.resolve("out/workload-aes-gcm.png")) > 1000);
        assertTrue(Files.size(dir.resolve("out/workload-deflate.png")) > 1000);
        assertTrue(Files.size(dir.resolve("out/speedup.png")) > 1000);
    }

    @Test
    void aSlowOrMissingWorkloadFigureIsAMissAndAFailedOneFailsTheRun() throws IOException {
        Path w = dir.resolve("workloads.jsonl");
        List<String> l = new ArrayList<>(workloadLines(1.2e6, 150));
        l.replaceAll(x -> x.contains("\"c-single\"") && x.contains("8000")
                ? "{\"suite\":\"workload\",\"workload\":\"aes-gcm\",\"size\":8000,\"contender\":\"c-single\","
                        + "\"threads\":1,\"items\":0,\"bytes\":0,\"check\":\"FAIL\",\"why\":\"digest differs\"}"
                : x);
        Files.write(w, l);
        Run r = report(goodC(), goodJmh(), "--workloads", w.toString());
        assertEquals(1, r.rc(), r.out());
        assertTrue(r.out().contains("MISS  aes-gcm C ≥ 1.6× the single loop at 1400 B: 1.20×"), r.out());
        assertTrue(r.out().contains("MISS  aes-gcm C ≥ 1.75× the single loop at 8000 B: no figure for c-single: digest differs"), r.out());
        assertTrue(r.out().contains("MISS  deflate C ≥ 0.95× pigz -p 2 (same input and level): 0.79×"), r.out());
    }
}
