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
import java.util.TreeSet;

/**
 * The report section of the Flink operator's benchmark
 * ({@code dev.padata.flink.examples.OrderedMapBenchmark}, {@code "suite":"flink"} JSON lines):
 * per w and parallelism, the plain {@code map}, {@code AsyncDataStream.orderedWait} over a pool
 * and {@code PadataStreams.orderedMap}, as elements/s and as per-round ratios to the plain map;
 * at {@code w = 0} the per-element cost of each, whose difference to the plain map is the
 * overhead a function must outweigh.
 */
final class FlinkSection {
    private FlinkSection() {
    }

    static JavaWorkloadsSection.Rendered render(Path file) throws IOException {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String line : Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.<String>of()) {
            if (!line.isBlank()) {
                Map<String, Object> o = Json.parseObject(line);
                if ("flink".equals(Json.str(o, "suite"))) {
                    rows.add(o);
                }
            }
        }
        StringBuilder b = new StringBuilder("\n## Flink operator (OrderedMapBenchmark: map vs orderedWait vs PadataStreams.orderedMap)\n\n");
        if (rows.isEmpty()) {
            b.append("No result: OrderedMapBenchmark did not run or printed nothing (see the run log).\n");
            return new JavaWorkloadsSection.Rendered(b.toString(), 1);
        }
        b.append("One MiniCluster (1 task manager, 2 slots), `work(seed, w)` as the function, 256 in flight per subtask;"
                + " elements/s from the first to the last element at the sink, median over alternating rounds; ratios to the"
                + " plain `map` of the same parallelism, per round: median (lowest-highest). Every job checked order and"
                + " hashes per subtask in the sink.\n\n");
        b.append("| w | parallelism | mode | elements/s | µs/element | × map | check |\n| ---: | ---: | --- | ---: | ---: | ---: | --- |\n");
        int failures = 0;
        for (Map<String, Object> o : rows) {
            String head = "| " + Json.str(o, "w") + " | " + Json.str(o, "parallelism") + " | " + Json.str(o, "mode") + " | ";
            if (!"PASS".equals(Json.str(o, "check"))) {
                failures++;
                b.append(head).append("n/a | n/a | n/a | FAIL: ").append(Json.str(o, "error")).append(" |\n");
                continue;
            }
            b.append(head).append(String.format(Locale.ROOT, "%s | %.2f | %s | ok |%n", Report.fmtRate(Json.num(o, "elements_s")),
                    Json.num(o, "us_per_element"), ratio(o)));
        }
        TreeSet<Integer> ps = new TreeSet<>();
        for (Map<String, Object> o : rows) {
            ps.add((int) Json.num(o, "parallelism"));
        }
        b.append("\nPer-element overhead over a plain `map` (w = 0, µs of wall time per element and subtask chain):\n\n```\n");
        for (int p : ps) {
            Map<String, Object> map = find(rows, 0, p, "map");
            for (String mode : List.of("orderedWait", "padata")) {
                Map<String, Object> o = find(rows, 0, p, mode);
                if (map == null || o == null) {
                    b.append(String.format(Locale.ROOT, "p=%d %-12s n/a (no figure)%n", p, mode));
                } else {
                    b.append(String.format(Locale.ROOT, "p=%d %-12s %+.2f µs/element%n", p, mode,
                            Json.num(o, "us_per_element") - Json.num(map, "us_per_element")));
                }
            }
        }
        b.append("```\n");
        return new JavaWorkloadsSection.Rendered(b.toString(), failures);
    }

    private static Map<String, Object> find(List<Map<String, Object>> rows, int w, int p, String mode) {
        for (Map<String, Object> o : rows) {
            if ("PASS".equals(Json.str(o, "check")) && Json.num(o, "w") == w && Json.num(o, "parallelism") == p
                    && mode.equals(Json.str(o, "mode"))) {
                return o;
            }
        }
        return null;
    }

    private static String ratio(Map<String, Object> o) {
        double m = Json.num(o, "ratio_map");
        return Double.isNaN(m) ? "n/a" : String.format(Locale.ROOT, "%.2fx (%.2f-%.2f)", m, Json.num(o, "ratio_map_min"), Json.num(o, "ratio_map_max"));
    }
}
