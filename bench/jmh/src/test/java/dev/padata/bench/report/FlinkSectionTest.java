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

class FlinkSectionTest {
    @TempDir
    Path dir;

    private static String line(int w, int p, String mode, double rate, double ratio) {
        return String.format(Locale.ROOT, "{\"suite\":\"flink\",\"w\":%d,\"parallelism\":%d,\"mode\":\"%s\",\"elements\":1000,"
                + "\"capacity\":256,\"rounds\":3,\"check\":\"PASS\",\"elements_s\":%.1f,\"us_per_element\":%.4f,"
                + "\"ratio_map\":%.4f,\"ratio_map_min\":%.4f,\"ratio_map_max\":%.4f,\"rates\":[1.0]}",
                w, p, mode, rate, 1e6 / rate, ratio, ratio * 0.9, ratio * 1.1);
    }

    @Test
    void rendersRatiosAndTheOverheadOverMap() throws IOException {
        Path f = dir.resolve("flink.jsonl");
        Files.write(f, List.of(line(0, 1, "map", 1e6, 1), line(0, 1, "padata", 250e3, 0.25), line(0, 1, "orderedWait", 200e3, 0.2),
                line(5000, 1, "map", 150e3, 1), line(5000, 1, "padata", 270e3, 1.8)));
        JavaWorkloadsSection.Rendered r = FlinkSection.render(f);
        assertEquals(0, r.failures(), r.markdown());
        assertTrue(r.markdown().contains("| 5000 | 1 | padata | 270.0 k | 3.70 | 1.80x (1.62-1.98) | ok |"), r.markdown());
        assertTrue(r.markdown().contains("p=1 padata       +3.00 µs/element"), r.markdown());
        assertTrue(r.markdown().contains("p=1 orderedWait  +4.00 µs/element"), r.markdown());
    }

    @Test
    void aFailedCheckHasNoFigure() throws IOException {
        Path f = dir.resolve("flink.jsonl");
        Files.write(f, List.of(line(0, 1, "map", 1e6, 1),
                "{\"suite\":\"flink\",\"w\":0,\"parallelism\":1,\"mode\":\"padata\",\"check\":\"FAIL\",\"error\":\"element 7 arrived twice\"}"));
        JavaWorkloadsSection.Rendered r = FlinkSection.render(f);
        assertEquals(1, r.failures());
        assertTrue(r.markdown().contains("| 0 | 1 | padata | n/a | n/a | n/a | FAIL: element 7 arrived twice |"), r.markdown());
        assertTrue(r.markdown().contains("p=1 padata       n/a (no figure)"), r.markdown());
    }

    @Test
    void aMissingFileIsAFailureNotAnError() throws IOException {
        JavaWorkloadsSection.Rendered r = FlinkSection.render(dir.resolve("absent.jsonl"));
        assertEquals(1, r.failures());
        assertTrue(r.markdown().contains("No result"), r.markdown());
        assertEquals(1, JavaWorkloadsSection.render(dir.resolve("absent.jsonl")).failures());
    }
}
