/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report section of the Java real workloads ({@code dev.padata.bench.workload.WorkloadMain},
 * {@code "suite":"java-workloads"} JSON lines): per workload and packet/block size, each
 * contender's median throughput and its per-round ratios to {@code java-single} and
 * {@code java-stream} (median, interquartile range and range over the rounds), and issue 11's
 * aes-gcm targets as PASS/MISS. Named "Java real workloads" so that it stays apart from the C
 * side's section of the same workloads.
 */
final class JavaWorkloadsSection {
    private JavaWorkloadsSection() {
    }

    /** What was rendered and how many contenders failed a check or produced no figure. */
    record Rendered(String markdown, int failures) {
    }

    static Rendered render(Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String line : Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.<String>of()) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> o = Json.parseObject(line);
            if ("java-workloads".equals(Json.str(o, "suite"))) {
                rows.add(o);
            }
        }
        StringBuilder b = new StringBuilder("\n## Java real workloads (WorkloadMain: aes-gcm via javax.crypto, deflate via java.util.zip)\n\n");
        int failures = 0;
        if (rows.isEmpty()) {
            b.append("No result: WorkloadMain did not run or printed nothing (see the run log).\n");
            return new Rendered(b.toString(), 1);
        }
        b.append("Throughput is the median over alternating rounds (the order of the contenders rotates each round);"
                + " ratios are per round (runs of the same round), given as median (interquartile range; lowest-highest)."
                + " Every run checked order and digest against the single loop; deflate's gzip stream is byte-identical"
                + " to the single loop's, which `gzip -d` read back. java-unordered has no order: the hardware's limit."
                + " Java crypto timings swing widely here: read the ranges before the medians.\n\n");
        Map<String, List<Map<String, Object>>> byWorkload = new LinkedHashMap<>();
        for (Map<String, Object> o : rows) {
            byWorkload.computeIfAbsent(Json.str(o, "workload") + " " + Json.str(o, "size") + " B", k -> new ArrayList<>()).add(o);
        }
        for (Map.Entry<String, List<Map<String, Object>>> e : byWorkload.entrySet()) {
            List<Map<String, Object>> ws = e.getValue();
            Map<String, Object> first = ws.stream().filter(o -> "PASS".equals(Json.str(o, "check"))).findFirst().orElse(null);
            b.append("### ").append(e.getKey());
            if (first != null) {
                b.append(String.format(Locale.ROOT, " (%s items, %.1f MB per run, %s rounds, %s threads)",
                        Json.str(first, "items"), Json.num(first, "bytes") / 1e6, Json.str(first, "rounds"), Json.str(first, "threads")));
            }
            b.append("\n\n| contender | MB/s | × java-single | × java-stream | check |\n| --- | ---: | ---: | ---: | --- |\n");
            for (Map<String, Object> o : ws) {
                boolean ok = "PASS".equals(Json.str(o, "check"));
                if (!ok) {
                    failures++;
                    b.append("| ").append(Json.str(o, "contender")).append(" | n/a | n/a | n/a | FAIL: ")
                            .append(Json.str(o, "error")).append(" |\n");
                    continue;
                }
                b.append(String.format(Locale.ROOT, "| %s | %.1f | %s | %s | ok |%n", Json.str(o, "contender"),
                        Json.num(o, "mb_s"), ratio(o, "ratio_single"), ratio(o, "ratio_stream")));
            }
            b.append('\n');
        }
        b.append("Targets (issue 11, same run):\n\n```\n");
        Map<String, Object> idiom = find(rows, "aes-gcm", "1400", "java-padata-idiomatic");
        b.append(target(idiom, "ratio_single", 1.5, "aes-gcm 1400 B: java-padata-idiomatic (OrderedPipeline) >= 1.5x java-single"));
        b.append(target(idiom, "ratio_stream", 1.0, "aes-gcm 1400 B: java-padata-idiomatic (OrderedPipeline) >= 1.0x java-stream"));
        Map<String, Object> batch = find(rows, "aes-gcm", "1400", "java-padata-batch");
        if (batch != null) {
            b.append(target(batch, "ratio_single", 1.5, "aes-gcm 1400 B: java-padata-batch (OrderedPipeline.submitAll) >= 1.5x java-single"));
            b.append(target(batch, "ratio_stream", 1.0, "aes-gcm 1400 B: java-padata-batch (OrderedPipeline.submitAll) >= 1.0x java-stream"));
        }
        b.append("```\n");
        return new Rendered(b.toString(), failures);
    }

    private static Map<String, Object> find(List<Map<String, Object>> rows, String workload, String size, String contender) {
        for (Map<String, Object> o : rows) {
            if (workload.equals(Json.str(o, "workload")) && size.equals(Json.str(o, "size")) && contender.equals(Json.str(o, "contender"))) {
                return o;
            }
        }
        return null;
    }

    private static String ratio(Map<String, Object> o, String key) {
        double m = Json.num(o, key);
        if (Double.isNaN(m)) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%.2fx (%.2f-%.2f; %.2f-%.2f)", m, Json.num(o, key + "_q1"), Json.num(o, key + "_q3"),
                Json.num(o, key + "_min"), Json.num(o, key + "_max"));
    }

    /** A PASS/MISS line; no figure (absent, failed) is a MISS. */
    private static String target(Map<String, Object> o, String key, double want, String what) {
        double v = o == null || !"PASS".equals(Json.str(o, "check")) ? Double.NaN : Json.num(o, key);
        if (Double.isNaN(v)) {
            return "MISS  " + what + ": no figure\n";
        }
        return String.format(Locale.ROOT, "%s  %s: %.2fx (interquartile %.2f-%.2f)%n", v >= want ? "PASS" : "MISS", what, v,
                Json.num(o, key + "_q1"), Json.num(o, key + "_q3"));
    }
}
