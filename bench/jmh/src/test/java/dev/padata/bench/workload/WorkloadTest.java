/* SPDX-License-Identifier: MIT */
package dev.padata.bench.workload;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every contender of WorkloadMain produces the single loop's outputs, in order, on both workloads. */
class WorkloadTest {
    @TempDir
    Path dir;

    private static byte[] text(int size) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < size; i++) {
            b.append("line ").append(i).append(": the quick brown fox jumps over the lazy dog ").append(i * 7919 % 1000).append('\n');
        }
        return b.substring(0, size).getBytes(StandardCharsets.US_ASCII);
    }

    private static void sameAsSingle(Workload wl) {
        Workload.Sink ref = wl.newSink();
        try (Runner single = Runner.open("java-single", 2)) {
            single.run(wl, ref);
        }
        ref.check();
        for (String name : Runner.NAMES) {
            try (Runner r = Runner.open(name, 2)) {
                for (int round = 0; round < 2; round++) {
                    Workload.Sink s = wl.newSink();
                    r.run(wl, s);
                    if (r.ordered()) {
                        s.check();
                        assertEquals(ref.ordered(), s.ordered(), name);
                        if (wl instanceof DeflateWorkload d) {
                            d.checkStream(s, name);
                        }
                    } else {
                        assertEquals(ref.unordered(), r.unorderedDigest(), name);
                    }
                }
            }
        }
    }

    /** A failed contender's report line names the item's exception, not only "an item failed". */
    @Test
    void aFailureSaysWhatTheItemThrew() {
        RuntimeException e = new IllegalStateException("an item failed",
                new IllegalStateException("sealing packet 3 failed", new java.security.InvalidKeyException("bad key")));
        assertEquals("an item failed: java.lang.IllegalStateException: sealing packet 3 failed"
                + ": java.security.InvalidKeyException: bad key", WorkloadMain.why(e));
        assertEquals("plain", WorkloadMain.why(new IllegalStateException("plain")));
        RuntimeException a = new RuntimeException("a"), b = new RuntimeException("b");
        a.initCause(b);
        b.initCause(a);
        assertEquals("a: java.lang.RuntimeException: b", WorkloadMain.why(a), "a loop of causes ends");
    }

    @Test
    void aesGcmContendersMatchTheSingleLoop() {
        AesGcmWorkload wl = new AesGcmWorkload(1400, 3000);
        sameAsSingle(wl);
        assertEquals(1416, wl.process(0).bytes().length, "ciphertext and 16-byte tag");
    }

    @Test
    void deflateContendersMatchTheSingleLoopAndTheStreamReadsBack() throws Exception {
        byte[] in = text(DeflateWorkload.BLOCK * 9 + 1234);
        DeflateWorkload wl = new DeflateWorkload(in);
        Workload.Sink s = wl.newSink();
        try (Runner single = Runner.open("java-single", 2)) {
            single.run(wl, s);
        }
        wl.checkStream(s, "java-single");
        assertTrue(wl.verify(dir).contains("GZIPInputStream"));
        try (GZIPInputStream z = new GZIPInputStream(new ByteArrayInputStream(Files.readAllBytes(dir.resolve("deflate-java.gz"))))) {
            assertArrayEquals(in, z.readAllBytes());
        }
        sameAsSingle(wl);
    }

    @Test
    void aSinkSeesItemsOutOfOrder() {
        AesGcmWorkload wl = new AesGcmWorkload(64, 3);
        Workload.Sink s = wl.newSink();
        s.accept(wl.process(0));
        s.accept(wl.process(2));
        s.accept(wl.process(1));
        IllegalStateException e = assertThrows(IllegalStateException.class, s::check);
        assertTrue(e.getMessage().contains("item 2 arrived where item 1 was due"), e.getMessage());
    }

    @Test
    void theDeflateInputIsMadeOnceAndCached() throws IOException {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.writeString(root.resolve("a.txt"), "alpha\n".repeat(1000));
        Files.write(root.resolve("b.gz"), new byte[] {0x1f, (byte) 0x8b, 0});
        Path cache = dir.resolve("cache/in.txt");
        byte[] a = DeflateWorkload.input(cache, root, 300_000);
        assertEquals(300_000, a.length);
        assertTrue(new String(a, 0, 200, StandardCharsets.UTF_8).contains("a.txt <=="));
        Files.delete(root.resolve("a.txt"));
        assertArrayEquals(a, DeflateWorkload.input(cache, root, 300_000), "read from the cache");
    }
}
