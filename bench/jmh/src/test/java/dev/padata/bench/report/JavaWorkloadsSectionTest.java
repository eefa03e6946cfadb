/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JavaWorkloadsSectionTest {
    @TempDir
    Path dir;

    private static String line(String workload, int size, String contender, double single, double stream) {
        return String.format(Locale.ROOT, "{\"suite\":\"java-workloads\",\"workload\":\"%s\",\"size\":%d,\"contender\":\"%s\","
                        + "\"threads\":2,\"items\":100000,\"bytes\":140000000,\"rounds\":9,\"check\":\"PASS\",\"median_s\":0.05,"
                        + "\"mb_s\":2800.0,\"ratio_single\":%.4f,\"ratio_single_min\":%.4f,\"ratio_single_max\":%.4f,"
                        + "\"ratio_single_q1\":%.4f,\"ratio_single_q3\":%.4f,\"ratio_stream\":%.4f,\"ratio_stream_min\":0.5,"
                        + "\"ratio_stream_max\":2.0,\"ratio_stream_q1\":0.9,\"ratio_stream_q3\":1.2}",
                workload, size, contender, single, single * 0.5, single * 2, single * 0.9, single * 1.1, stream);
    }

    @Test
    void targetsPassAndMissOnTheIdiomaticRatios() throws IOException {
        Path f = dir.resolve("w.jsonl");
        Files.write(f, List.of(line("aes-gcm", 1400, "java-single", 1, 0.6),
                line("aes-gcm", 1400, "java-padata-idiomatic", 1.62, 0.97),
                line("deflate", 131072, "java-padata-lambda", 1.9, 1.0)));
        JavaWorkloadsSection.Rendered r = JavaWorkloadsSection.render(f);
        assertEquals(0, r.failures(), r.markdown());
        assertTrue(r.markdown().contains("## Java real workloads"), r.markdown());
        assertTrue(r.markdown().contains("### aes-gcm 1400 B (100000 items, 140.0 MB per run, 9 rounds, 2 threads)"), r.markdown());
        assertTrue(r.markdown().contains("| java-padata-idiomatic | 2800.0 | 1.62x (1.46-1.78; 0.81-3.24) | 0.97x (0.90-1.20; 0.50-2.00) | ok |"), r.markdown());
        assertTrue(r.markdown().contains("PASS  aes-gcm 1400 B: java-padata-idiomatic (OrderedPipeline) >= 1.5x java-single: 1.62x"), r.markdown());
        assertTrue(r.markdown().contains("MISS  aes-gcm 1400 B: java-padata-idiomatic (OrderedPipeline) >= 1.0x java-stream: 0.97x"), r.markdown());
        assertTrue(r.markdown().contains("### deflate 131072 B"), r.markdown());
    }

    @Test
    void aFailedCheckGivesNoFigureAndCountsAsAFailure() throws IOException {
        Path f = dir.resolve("w.jsonl");
        Files.write(f, List.of(line("aes-gcm", 1400, "java-single", 1, 0.6),
                "{\"suite\":\"java-workloads\",\"workload\":\"aes-gcm\",\"size\":1400,\"contender\":\"java-padata-idiomatic\","
                        + "\"check\":\"FAIL\",\"error\":\"item 3 arrived where item 2 was due\"}"));
        JavaWorkloadsSection.Rendered r = JavaWorkloadsSection.render(f);
        assertEquals(1, r.failures(), r.markdown());
        assertTrue(r.markdown().contains("| java-padata-idiomatic | n/a | n/a | n/a | FAIL: item 3 arrived where item 2 was due |"), r.markdown());
        assertTrue(r.markdown().contains("MISS  aes-gcm 1400 B: java-padata-idiomatic (OrderedPipeline) >= 1.5x java-single: no figure"), r.markdown());
    }

    @Test
    void anEmptyFileIsAFailure() throws IOException {
        Path f = dir.resolve("w.jsonl");
        Files.writeString(f, "");
        assertEquals(1, JavaWorkloadsSection.render(f).failures());
    }
}
