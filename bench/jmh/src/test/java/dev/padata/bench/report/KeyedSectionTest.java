/* SPDX-License-Identifier: MIT */
package dev.padata.bench.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report section of KeyedMain's raw/keyed.jsonl. */
class KeyedSectionTest {
    @TempDir
    Path dir;

    private static final String SUMMARY = "{\"suite\":\"java-keyed\",\"scenario\":\"shells\",\"summary\":true,\"keys\":100,"
            + "\"slow_ms\":10,\"lanes\":16,\"rounds\":3,\"global_fast_per_s\":94001.8,\"keyed_fast_per_s\":804918.0,"
            + "\"ratio\":8.870,\"ratio_min\":5.536,\"ratio_max\":12.139,\"cpus\":2,\"check\":\"OK\"}";

    @Test
    void aSummaryBecomesARowWithItsRatio() throws IOException {
        Path f = dir.resolve("keyed.jsonl");
        Files.writeString(f, "progress line\n" + SUMMARY + "\n");
        KeyedSection.Rendered r = KeyedSection.render(f);
        assertTrue(r.ok());
        assertTrue(r.markdown().contains("| shells |"), r.markdown());
        assertTrue(r.markdown().contains(Report.fmtRatio(8.870)), r.markdown());
    }

    @Test
    void aFailedCheckOrAMissingFileIsAFailure() throws IOException {
        Path f = dir.resolve("keyed.jsonl");
        Files.writeString(f, "{\"suite\":\"java-keyed\",\"scenario\":\"shells\",\"contender\":\"keyed\",\"round\":1,"
                + "\"check\":\"FAIL\",\"why\":\"key 3: value 9 after 12\"}\n" + SUMMARY.replace("\"OK\"", "\"FAIL\"") + "\n");
        KeyedSection.Rendered r = KeyedSection.render(f);
        assertFalse(r.ok());
        assertTrue(r.markdown().contains("failed its check"), r.markdown());
        assertFalse(KeyedSection.render(dir.resolve("absent.jsonl")).ok());
    }
}
