/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * NativeJob's raw function pointers are a restricted operation of the caller's module.
 *
 * <p>How the caller is made to lack native access while dev.padata has it: the forked JVM puts
 * dev.padata on the module path and grants {@code --enable-native-access=dev.padata} only; the
 * application ({@code padatatest.NativeAccessApp}) is on the class path, in the unnamed module.
 * {@code --illegal-native-access=deny} keeps the JVM from granting the unnamed module access
 * on its own (the default "warn" mode grants it at the module's first restricted call). The
 * surefire JVM itself cannot serve: it runs everything on the class path with ALL-UNNAMED
 * enabled, so the library and the tests share one module there.
 */
class NativeAccessTest {
    private static Process fork(String nativeAccess, String... args) throws Exception {
        Path classes = Path.of(System.getProperty("padata.test.classes", "target/classes"));
        Path testClasses = Path.of(padatatest.NativeAccessApp.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("--module-path");
        cmd.add(classes.toString());
        cmd.add("--add-modules");
        cmd.add("dev.padata");
        cmd.add("--enable-native-access=" + nativeAccess);
        cmd.add("--illegal-native-access=deny");
        cmd.add("-cp");
        cmd.add(testClasses.toString());
        for (String property : List.of("padata.cache.dir", "padata.library.path")) {
            String value = System.getProperty(property);
            if (value != null)
                cmd.add("-D" + property + "=" + value);
        }
        cmd.add(padatatest.NativeAccessApp.class.getName());
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static String finish(Process p) throws Exception {
        boolean exited = p.waitFor(60, TimeUnit.SECONDS);
        if (!exited)
            p.destroyForcibly().waitFor();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(exited, "the child did not exit within 60 s; output:\n" + out);
        return out;
    }

    @Test
    void aCallerWithoutNativeAccessCannotHandFunctionPointersToLibpadata() throws Exception {
        Process p = fork("dev.padata", "submit");
        String out = finish(p);
        assertEquals(0, p.exitValue(), "the child died (abort() ran on a padata worker?); output:\n" + out);
        assertTrue(out.contains("caller module native access: false"), out);
        assertTrue(out.contains("refused: NativeJob.allocate is restricted"), out);
        assertTrue(out.contains("--enable-native-access=ALL-UNNAMED"), out);
        assertTrue(!out.contains("allocated"), out);
    }

    @Test
    void aCallerWithNativeAccessMayAllocateANativeJob() throws Exception {
        Process p = fork("dev.padata,ALL-UNNAMED"); // allocates, never submits
        String out = finish(p);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("caller module native access: true") && out.contains("allocated"), out);
    }

    @Test
    void aNativeJobWhoseFunctionPointersWereRewrittenIsNotSubmitted() {
        try (Arena arena = Arena.ofShared(); Workqueue wq = Workqueue.create("rewrite");
             Padata padata = Padata.allocPossible(wq)) {
            MemorySegment fn = NativeJob.doSerialFunction();
            NativeJob job = NativeJob.allocate(arena, fn, fn, 8);
            long parallelOffset = dev.padata.internal.PadataNative.PADATA_PRIV
                    .byteOffset(MemoryLayout.PathElement.groupElement("parallel"));
            job.segment().set(ADDRESS, parallelOffset, MemorySegment.ofAddress(fn.address() + 1));
            padata.start();
            var e = assertThrows(IllegalStateException.class, () -> padata.doParallel(job, 0));
            assertTrue(e.getMessage().contains("changed after allocate()"), e.getMessage());
        }
    }
}
