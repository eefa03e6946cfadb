/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Forked JVMs: System.exit with workers running, and refused native access. */
class ProcessExitTest {
    /** Child main: starts busy workers, then exits in the way args[0] names. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Workqueue wq = Workqueue.create("exit");
            Padata p = Padata.allocPossible(wq);
            p.start();
            String mode = args[0];
            if (mode.equals("load")) {
                System.out.println("loaded " + Cpus.count());
                return;
            }
            Thread submitter = Thread.ofPlatform().daemon().start(() -> {
                for (long i = 0; ; i++) {
                    try {
                        PadataJob job = mode.equals("exit-in-serial") && i == 2_000
                                ? PadataJob.of(() -> { }, () -> System.exit(0))
                                : PadataJob.async(j -> {
                                    long h = 0;
                                    for (int k = 0; k < 2000; k++)
                                        h = h * 31 + k;
                                    if (h == 42)
                                        System.out.print("");
                                    j.doSerial();
                                }, () -> { });
                        TestSupport.submit(p, job, 0);
                    } catch (IllegalStateException closed) {
                        return;
                    }
                }
            });
            Thread.sleep(300);
            System.out.println("running");
            if (mode.equals("exit"))
                System.exit(0);
            submitter.join();
        }
    }

    private static Process fork(List<String> jvmArgs, String mode) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        String cache = System.getProperty("padata.cache.dir");
        if (cache != null)
            cmd.add("-Dpadata.cache.dir=" + cache);
        cmd.add(Child.class.getName());
        cmd.add(mode);
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Waits for the child; the limits are generous because JVM start-up is slow on a loaded 2-core box. */
    private static String finish(Process p, int seconds) throws Exception {
        boolean exited = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!exited)
            p.destroyForcibly().waitFor();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(exited, "the child did not exit within " + seconds + " s; output:\n" + out);
        return out;
    }

    @Test
    void systemExitWithWorkersRunningEndsTheJvmWithinSeconds() throws Exception {
        Process p = fork(List.of("--enable-native-access=ALL-UNNAMED"), "exit");
        // Time from "running" (workers busy, System.exit next) to the end of the process.
        var reader = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        boolean running = false;
        for (String line; !running && (line = reader.readLine()) != null; ) {
            seen.append(line).append('\n');
            running = line.equals("running");
        }
        long t0 = System.nanoTime();
        boolean exited = p.waitFor(15, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (!exited)
            p.destroyForcibly().waitFor();
        seen.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        String out = seen.toString();
        // Without "running" the child never had busy workers when it exited: nothing was tested.
        assertTrue(running, "the child never reported busy workers; output:\n" + out);
        assertTrue(exited, "System.exit with workers running did not end the JVM within 15 s; output:\n" + out);
        assertTrue(ms < 10_000, "exit took " + ms + " ms");
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void systemExitFromInsideACallbackStillEndsTheJvm() throws Exception {
        Process p = fork(List.of("--enable-native-access=ALL-UNNAMED", "-Dpadata.shutdown.timeout.ms=1000"), "exit-in-serial");
        String out = finish(p, 60);
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void refusedNativeAccessNamesTheFlagToAdd() throws Exception {
        Process p = fork(List.of("--illegal-native-access=deny"), "load");
        String out = finish(p, 20);
        assertTrue(p.exitValue() != 0, out);
        assertTrue(out.contains("--enable-native-access=ALL-UNNAMED"), out);
    }

    @Test
    void aLibraryBuiltElsewhereLoadsThroughTheSystemProperty() throws Exception {
        String path = dev.padata.internal.NativeLibrary.path().toString();
        Process p = fork(List.of("--enable-native-access=ALL-UNNAMED", "-Dpadata.library.path=" + path), "load");
        String out = finish(p, 20);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("loaded " + Cpus.count()), out);
        Process bad = fork(List.of("--enable-native-access=ALL-UNNAMED",
                "-Dpadata.library.path=" + path + File.separator + "nope"), "load");
        out = finish(bad, 20);
        assertTrue(bad.exitValue() != 0 && out.contains("padata.library.path"), out);
    }
}
