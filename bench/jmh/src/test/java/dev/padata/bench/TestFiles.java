/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the tests find files that live outside this module. */
public final class TestFiles {
    private TestFiles() {
    }

    /**
     * The shared work vectors: {@code $PADATA_WORK_VECTORS}, else
     * {@code <repo root>/../shared/work-vectors.txt}.
     */
    public static Path workVectors() {
        String env = System.getenv("PADATA_WORK_VECTORS");
        if (env != null && !env.isEmpty()) {
            return Path.of(env);
        }
        String root = System.getProperty("padata.repo.root", "../..");
        return Path.of(root).toAbsolutePath().normalize().resolveSibling("shared").resolve("work-vectors.txt");
    }

    /** libpadata_bench_cb.so from {@code -Dpadata.bench.cb.library}, when it names a file. */
    public static Optional<Path> benchCallbackLibrary() {
        String p = System.getProperty("padata.bench.cb.library", "");
        if (p.isEmpty() || !Files.isRegularFile(Path.of(p))) {
            return Optional.empty();
        }
        return Optional.of(Path.of(p));
    }

    /** The message of a skipped native test. */
    public static String noCallbackLibrary() {
        return "libpadata_bench_cb.so not available: build it with scripts/bench (or cmake target padata_bench_cb) "
                + "and pass -Dpadata.bench.cb.library=<path>, now '" + System.getProperty("padata.bench.cb.library", "") + "'";
    }
}
