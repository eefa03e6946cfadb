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
        List<Map<String, Object>> failedRounds = new ArrayList<>();
        List<Map<String, Object>> summaries = new ArrayList<>();
        boolean ok = true;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            line = line.strip();
            if (!line.startsWith("{"))
                continue;
            Map<String, Object> o = Json.parseObject(line);
            if (!"java-keyed".equals(Json.str(o, "suite")))
                continue;
            if (!"OK".equals(Json.str(o, "check"))) {
                ok = false;
                if (!o.containsKey("summary"))
                    failedRounds.add(o);
            }
            if (o.containsKey("summary"))
                summaries.add(o);
        }
        if (summaries.isEmpty()) {
            b.append("No summary line in ").append(file.getFileName()).append(": no round pair passed its checks.\n");
            return new Rendered(b.toString(), false);
        }
        Map<String, Object> first = summaries.get(0);
        b.append(String.format(Locale.ROOT,
                "One key in %d is slow (%d ms), the others hash a few bytes; values go round-robin over the keys"
                        + " from one thread, in one global order and keyed over %d lanes. Each round submits for a"
                        + " fixed time, then drains; the figure is the fast keys' values per second, rounds alternate"
                        + " the contenders, and per key the order and every result are checked against a single loop."
                        + " *pipeline*: OrderedPipeline vs keyedBy(key).lanes(%d), the slow function sleeping on its"
                        + " worker (the sleeping workers bound both when CPUs are few). *shells*: Padata.doParallel vs"
                        + " PadataShell lanes, the slow job completed by a timer thread (no worker held).%n%n",
                (long) Json.num(first, "keys"), (long) Json.num(first, "slow_ms"), (long) Json.num(first, "lanes"),
                (long) Json.num(first, "lanes")));
        b.append("| scenario | global order | keyed | keyed / global (median, min-max of rounds) |\n"
                + "| --- | --- | --- | --- |\n");
        for (Map<String, Object> m : summaries)
            b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s (%s-%s, %d rounds) |%n",
                    Json.str(m, "scenario"), Report.fmtRate(Json.num(m, "global_fast_per_s")),
                    Report.fmtRate(Json.num(m, "keyed_fast_per_s")), Report.fmtRatio(Json.num(m, "ratio")),
                    Report.fmtRatio(Json.num(m, "ratio_min")), Report.fmtRatio(Json.num(m, "ratio_max")),
                    (long) Json.num(m, "rounds")));
        for (Map<String, Object> r : failedRounds)
            b.append(String.format(Locale.ROOT, "%nRound %d of %s/%s failed its check (%s): no figure.%n",
                    (long) Json.num(r, "round"), Json.str(r, "scenario"), Json.str(r, "contender"), Json.str(r, "why")));
        return new Rendered(b.toString(), ok);
    }
}
