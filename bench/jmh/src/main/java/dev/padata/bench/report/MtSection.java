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

/**
 * The report's "Multithreaded jobs" section, from the JSON lines of bench/c/mt_bench and
 * dev.padata.bench.MultithreadedMain ({@code "suite":"mt"}): per contender the median round time
 * with its quartiles, and the speed-up over the single loop of the same language and run.
 * Contenders whose check failed show FAIL and no figure.
 */
final class MtSection {
    private MtSection() {
    }

    /** One contender's line. */
    record Row(String contender, long n, int threads, boolean ok, String why, int rounds, double median,
               double p25, double p75) {
    }

    static List<Row> read(Path p) throws IOException {
        List<Row> rows = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            lineNo++;
            line = line.strip();
            if (!line.startsWith("{"))
                continue;
            Map<String, Object> o;
            try {
                o = Json.parseObject(line);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(p + ":" + lineNo + ": " + e.getMessage());
            }
            if (!"mt".equals(Json.str(o, "suite")))
                continue;
            rows.add(new Row(Json.str(o, "contender"), (long) Json.num(o, "n"), (int) Json.num(o, "threads"),
                    "ok".equals(Json.str(o, "check")), Json.str(o, "why"), (int) Json.num(o, "rounds"),
                    Json.num(o, "median_ms"), Json.num(o, "p25_ms"), Json.num(o, "p75_ms")));
        }
        return rows;
    }

    /** The single loop of the language of {@code contender} ("c-mt-single" or "java-mt-single"). */
    static String singleFor(String contender) {
        return contender.startsWith("java-") ? "java-mt-single" : "c-mt-single";
    }

    static String render(List<Row> rows) {
        StringBuilder b = new StringBuilder("\n## Multithreaded jobs (checksum of a large array; padata_do_multithreaded"
                + " / Padata.doMultithreaded vs a single loop, tbb::parallel_for, IntStream.parallel())\n\n");
        if (rows.isEmpty()) {
            b.append("No results (the step did not run or produced nothing; see the run log).\n");
            return b.toString();
        }
        b.append("Alternating rounds in one run per language; median round time with the interquartile range.\n\n");
        b.append("| contender | elements | threads | median ms | IQR ms | rounds | speed-up vs single loop |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            if (!r.ok()) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %d | FAIL: %s | | | |%n", r.contender(), r.n(),
                        r.threads(), r.why() == null ? "check failed" : r.why()));
                continue;
            }
            Row single = rows.stream().filter(s -> s.ok() && s.contender().equals(singleFor(r.contender())))
                    .findFirst().orElse(null);
            String speedup = single == null ? "n/a" : String.format(Locale.ROOT, "%.2fx", single.median() / r.median());
            b.append(String.format(Locale.ROOT, "| %s | %d | %d | %.3f | %.3f-%.3f | %d | %s |%n", r.contender(), r.n(),
                    r.threads(), r.median(), r.p25(), r.p75(), r.rounds(), speedup));
        }
        return b.toString();
    }

    static boolean anyFailed(List<Row> rows) {
        return rows.stream().anyMatch(r -> !r.ok());
    }
}
