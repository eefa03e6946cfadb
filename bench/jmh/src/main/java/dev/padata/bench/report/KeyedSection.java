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
 * The report section of the shells demo ({@code dev.padata.bench.KeyedMain}, raw/keyed.jsonl):
 * fast-key throughput through a global-order pipeline and a keyedBy one, per round and as
 * medians, with the keyed/global ratio. A round that failed its check shows no figure and makes
 * the section a failure.
 */
final class KeyedSection {
    private KeyedSection() {
    }

    /** What the section found: its Markdown, and whether every round passed its check. */
    record Rendered(String markdown, boolean ok) {
    }

    static Rendered render(Path file) throws IOException {
        StringBuilder b = new StringBuilder("\n## Order per key: one slow key in many (KeyedMain)\n\n");
        if (!Files.isRegularFile(file)) {
            b.append("No result: ").append(file.getFileName()).append(" is missing (the step did not run or failed).\n");
            return new Rendered(b.toString(), false);
        }
        List<Map<String, Object>> rounds = new ArrayList<>();
        Map<String, Object> summary = null;
        boolean ok = true;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            line = line.strip();
            if (!line.startsWith("{"))
                continue;
            Map<String, Object> o = Json.parseObject(line);
            if (!"java-keyed".equals(Json.str(o, "suite")))
                continue;
            if (!"OK".equals(Json.str(o, "check")))
                ok = false;
            if (o.containsKey("summary"))
                summary = o;
            else
                rounds.add(o);
        }
        if (summary == null) {
            b.append("No summary line in ").append(file.getFileName()).append(": no round pair passed its checks.\n");
            return new Rendered(b.toString(), false);
        }
        b.append(String.format(Locale.ROOT,
                "One key in %d sleeps %d ms in the function (a slow call holding its worker); the others hash a"
                        + " few bytes. Values go round-robin over the keys from one thread through an OrderedPipeline"
                        + " in one global order, and through the same pipeline with keyedBy(key).lanes(%d). Each round"
                        + " submits for a fixed time and then drains; the figure is the fast keys' values per second."
                        + " Per key, order and every result are checked against a single loop.%n%n",
                (long) Json.num(summary, "keys"), (long) Json.num(summary, "slow_ms"), (long) Json.num(summary, "lanes")));
        b.append("| | global order | keyedBy | keyed / global |\n| --- | --- | --- | --- |\n");
        b.append(String.format(Locale.ROOT, "| median of %d rounds | %s | %s | %s (min %s, max %s) |%n",
                (long) Json.num(summary, "rounds"), Report.fmtRate(Json.num(summary, "global_fast_per_s")),
                Report.fmtRate(Json.num(summary, "keyed_fast_per_s")), Report.fmtRatio(Json.num(summary, "ratio")),
                Report.fmtRatio(Json.num(summary, "ratio_min")), Report.fmtRatio(Json.num(summary, "ratio_max"))));
        for (Map<String, Object> r : rounds) {
            if (!"OK".equals(Json.str(r, "check")))
                b.append(String.format(Locale.ROOT, "| round %d, %s | check FAILED: %s | | |%n",
                        (long) Json.num(r, "round"), Json.str(r, "contender"), Json.str(r, "why")));
        }
        if (!ok)
            b.append("\nA round failed its check: its figure is left out.\n");
        return new Rendered(b.toString(), ok);
    }
}
