/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class WorkTest {
    @Test
    void matchesEveryVectorOfTheSharedFile() throws IOException {
        Path vectors = TestFiles.workVectors();
        assumeTrue(Files.isRegularFile(vectors),
                "work vectors not found at " + vectors + " (set PADATA_WORK_VECTORS to the file)");
        List<String> lines = Files.readAllLines(vectors);
        int checked = 0;
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            assertEquals(3, f.length, "malformed vector line: " + line);
            long seed = Long.parseUnsignedLong(f[0]);
            int w = Integer.parseInt(f[1]);
            long digest = Long.parseUnsignedLong(f[2], 16);
            assertEquals(digest, Work.work(seed, w), () -> "seed " + f[0] + " w " + w);
            checked++;
        }
        assertTrue(checked > 0, "no vectors in " + vectors);
    }

    @Test
    void zeroBytesOfWorkIsTheOffsetBasisXorSeed() {
        assertEquals(0xcbf29ce484222325L, Work.work(0, 0));
        assertEquals(~0xcbf29ce484222325L, Work.work(-1L, 0));
    }

    @Test
    void seedsFollowTheSameWeylSequenceAsC() {
        assertEquals(0x9e3779b97f4a7c15L, Work.seed(0));
        assertEquals(2 * 0x9e3779b97f4a7c15L, Work.seed(1));
    }

    @Test
    void batchesHoldBetween2000And100000Jobs() {
        assertEquals(100_000, Work.jobsFor(0));
        assertEquals(16_666, Work.jobsFor(1000));
        assertEquals(2000, Work.jobsFor(10_000));
        assertEquals(2000, Work.jobsFor(Integer.MAX_VALUE));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Work.jobsFor(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
    }

    @Test
    void referenceFoldsSumAndXor() {
        long sum = 0;
        long xor = 0;
        for (int i = 0; i < 50; i++) {
            long h = Work.work(Work.seed(i), 33);
            sum += h;
            xor ^= h;
        }
        assertEquals(new Work.Digest(sum, xor), Work.reference(50, 33));
        assertNotEquals(Work.reference(50, 33), Work.reference(51, 33));
    }
}
