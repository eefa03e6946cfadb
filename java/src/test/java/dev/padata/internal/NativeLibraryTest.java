/* SPDX-License-Identifier: MIT */
package dev.padata.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The extraction cache (planted or corrupted files and directories) and the platform check. */
class NativeLibraryTest {
    private static final List<String> X86 = List.of("linux-x86_64");

    private static byte[] bundled() throws Exception {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(
                "/dev/padata/native/" + NativeLibrary.platform() + "/libpadata.so")) {
            assumeTrue(in != null, "no bundled library (padata.library.path build)");
            return in.readAllBytes();
        }
    }

    private static Path privateDir(Path parent, String name) throws Exception {
        return Files.createDirectory(parent.resolve(name),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    private static long filesIn(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void aZeroFilledCachedLibraryIsReplacedNotReused(@TempDir Path tmp) throws Exception {
        byte[] lib = bundled();
        Path dir = privateDir(tmp, "cache");
        for (boolean strict : new boolean[] {false, true}) {
            Path first = NativeLibrary.extract(lib, dir, strict);
            assertEquals(dir, first.getParent());
            Files.write(first, new byte[lib.length]); // same size, wrong bytes
            Path again = NativeLibrary.extract(lib, dir, strict);
            assertEquals(first, again);
            assertArrayEquals(lib, Files.readAllBytes(again), "a corrupted cached library was reused");
            assertEquals(1, filesIn(dir), "no temporary file left behind");
        }
    }

    @Test
    void aWorldWritableCacheDirectoryIsNotUsed(@TempDir Path tmp) throws Exception {
        byte[] lib = bundled();
        Path dir = privateDir(tmp, "open");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        for (boolean strict : new boolean[] {false, true}) {
            Path p = NativeLibrary.extract(lib, dir, strict);
            assertNotEquals(dir, p.getParent(), "extracted into a world-writable directory");
            assertArrayEquals(lib, Files.readAllBytes(p));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p.getParent())));
        }
        assertEquals(0, filesIn(dir));
        // Writable by no one else is enough; the default directory is then made 0700.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(dir, NativeLibrary.extract(lib, dir, false).getParent());
        assertEquals("rwxr-xr-x", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals(dir, NativeLibrary.extract(lib, dir, true).getParent());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    @Test
    void aCacheDirectoryOwnedByAnotherUserIsNotUsed(@TempDir Path tmp) throws Exception {
        assumeTrue(Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid")),
                "only root can give a directory to another user");
        byte[] lib = bundled();
        Path dir = privateDir(tmp, "theirs");
        Files.setAttribute(dir, "unix:uid", 65534);
        for (boolean strict : new boolean[] {false, true}) {
            Path p = NativeLibrary.extract(lib, dir, strict);
            assertNotEquals(dir, p.getParent(), "extracted into another user's directory");
            assertArrayEquals(lib, Files.readAllBytes(p));
        }
        assertEquals(0, filesIn(dir));
    }

    @Test
    void aSymbolicLinkIsNotTakenForTheDefaultDirectory(@TempDir Path tmp) throws Exception {
        byte[] lib = bundled();
        Path real = privateDir(tmp, "real");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        assertNotEquals(link, NativeLibrary.extract(lib, link, true).getParent());
        assertEquals(0, filesIn(real));
    }

    @Test
    void theSupportedPlatformsAreNamedWhenTheJarHasNoneForThisOne() {
        assertNull(NativeLibrary.unsupported("Linux", "amd64", "glibc", "2.34", X86));
        assertNull(NativeLibrary.unsupported("Linux", "amd64", "glibc", "2.41", X86));
        assertNull(NativeLibrary.unsupported("Linux", "amd64", "glibc", "3.0", X86));
        for (String[] c : new String[][] {
                {"Mac OS X", "aarch64", "glibc", null, "Mac OS X on aarch64"},
                {"Windows 11", "amd64", "glibc", null, "Windows 11 on amd64"},
                {"Linux", "aarch64", "glibc", "2.36", "Linux on aarch64"},
                {"Linux", "riscv64", "glibc", "2.36", "Linux on riscv64"},
                {"Linux", "amd64", "musl", null, "C library musl"},
                {"Linux", "amd64", "glibc", "2.31", "glibc 2.31"},
                {"Linux", "amd64", "glibc", "2.9", "glibc 2.9"}}) {
            String why = NativeLibrary.unsupported(c[0], c[1], c[2], c[3], X86);
            assertNotNull(why, String.join(" ", c));
            assertTrue(why.contains("linux-x86_64 with glibc 2.34 or newer"), why);
            assertTrue(why.contains(c[4]), why);
            assertTrue(why.contains("-Dpadata.library.path="), why);
        }
        assertTrue(NativeLibrary.bundledPlatforms().contains(NativeLibrary.platform())
                || System.getProperty(NativeLibrary.PATH_PROPERTY) != null);
    }

    // ---- forked JVMs -------------------------------------------------------------------------

    /** Child main: args[0] "load" loads and prints the path; "other-os" pretends to run on FreeBSD. */
    public static final class Child {
        public static void main(String[] args) {
            if (args[0].equals("other-os"))
                System.setProperty("os.name", "FreeBSD");
            for (int i = 1; i <= 3; i++) {
                try {
                    System.out.println("loaded " + NativeLibrary.path() + " cpus " + dev.padata.Cpus.count());
                    return;
                } catch (Throwable t) {
                    System.out.println("call " + i + ": " + t.getClass().getName() + ": " + t.getMessage());
                }
                try {
                    dev.padata.Workqueue.create("x").close();
                } catch (Throwable t) {
                    System.out.println("call " + i + "b: " + t.getClass().getName() + ": " + t.getMessage());
                }
            }
            System.exit(3);
        }
    }

    private static String fork(List<String> jvmArgs, String mode) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmArgs);
        String cp = System.getProperty("java.class.path", "");
        String mp = System.getProperty("jdk.module.path");
        cmd.add("-cp");
        cmd.add(mp == null ? cp : cp + File.pathSeparator + mp);
        cmd.add(Child.class.getName());
        cmd.add(mode);
        return run(cmd);
    }

    /** The child as a modular application: dev.padata on the module path, the child patched in. */
    private static String forkModule(List<String> jvmArgs, String mode) throws Exception {
        Path classes = Path.of(System.getProperty("padata.test.classes", "target/classes")).toAbsolutePath();
        List<String> cmd = new ArrayList<>(jvmArgs);
        cmd.addAll(List.of("--module-path", classes.toString(),
                "--patch-module", "dev.padata=" + classes.resolveSibling("test-classes"),
                "-m", "dev.padata/" + Child.class.getName(), mode));
        return run(cmd);
    }

    private static String run(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        String cache = System.getProperty(NativeLibrary.CACHE_PROPERTY);
        if (cache != null)
            cmd.add("-D" + NativeLibrary.CACHE_PROPERTY + "=" + cache);
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean exited = p.waitFor(60, TimeUnit.SECONDS);
        if (!exited)
            p.destroyForcibly().waitFor();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(exited, "the child did not exit; output:\n" + out);
        return "exit " + p.exitValue() + "\n" + out;
    }

    @Test
    void aJvmStartsAfterItsCachedLibraryWasZeroFilled(@TempDir Path tmp) throws Exception {
        bundled();
        Path dir = privateDir(tmp, "cache");
        String out = fork(List.of("-Dpadata.cache.dir=" + dir), "load");
        assertTrue(out.startsWith("exit 0\n"), out);
        Path lib;
        try (Stream<Path> s = Files.list(dir)) {
            lib = s.filter(f -> f.getFileName().toString().endsWith(".so")).findFirst().orElseThrow();
        }
        Files.write(lib, new byte[(int) Files.size(lib)]);
        out = fork(List.of("-Dpadata.cache.dir=" + dir), "load");
        assertTrue(out.startsWith("exit 0\n") && out.contains("loaded " + lib), out);
    }

    @Test
    void aLibraryWithAnotherBatchClaimIsRefusedWithAClearErrorOnEveryCall() throws Exception {
        // Not libpadata at all (no padata_abi_query): what a libpadata from before the
        // PADATA_BATCH_CLAIMING protocol looks like to the check, which answers -1 for it.
        Path other = Path.of("/lib/x86_64-linux-gnu/libm.so.6");
        assumeTrue(Files.isRegularFile(other), "no " + other);
        String out = fork(List.of("-Dpadata.library.path=" + other), "load");
        assertTrue(out.startsWith("exit 3\n"), out);
        List<String> calls = out.lines().filter(l -> l.startsWith("call ")).map(l -> l.substring(l.indexOf(": ") + 2)).toList();
        assertEquals(6, calls.size(), out);
        for (String c : calls) {
            assertTrue(c.startsWith("java.lang.UnsatisfiedLinkError: "), out);
            assertTrue(c.contains("libpadata at " + other + " is older than this binding"), out);
            assertTrue(c.contains("PADATA_BATCH_CLAIMING = -1"), out);
        }
    }

    @Test
    void anUnsupportedPlatformGivesTheSameClearErrorOnEveryCall() throws Exception {
        bundled();
        String out = fork(List.of(), "other-os");
        assertTrue(out.startsWith("exit 3\n"), out);
        List<String> calls = out.lines().filter(l -> l.startsWith("call ")).map(l -> l.substring(l.indexOf(": ") + 2)).toList();
        assertEquals(6, calls.size(), out);
        for (String c : calls) {
            assertEquals(calls.get(0), c, "a later call reported something else:\n" + out);
            assertTrue(c.startsWith("java.lang.UnsatisfiedLinkError: "), out);
            assertTrue(c.contains("supports only linux-x86_64 with glibc 2.34 or newer, not FreeBSD on amd64"), out);
        }
        assertFalse(out.contains("NoClassDefFoundError"), out);
    }

    // What the README says about --enable-native-access on JDK 25, checked on the module path.

    @Test
    void onJdk25sDefaultAMissingFlagOnlyPrintsTheJdksWarning() throws Exception {
        bundled();
        String out = forkModule(List.of(), "load");
        assertTrue(out.startsWith("exit 0\n") && out.contains("loaded "), out);
        assertTrue(out.contains("WARNING: A restricted method in java.lang.foreign.Linker has been called"), out);
        assertTrue(out.contains("WARNING: Use --enable-native-access=dev.padata to avoid a warning"), out);
        out = forkModule(List.of("--enable-native-access=dev.padata"), "load");
        assertTrue(out.startsWith("exit 0\n") && !out.contains("WARNING"), out);
    }

    @Test
    void withNativeAccessDeniedEveryCallNamesTheFlagToAdd() throws Exception {
        bundled();
        String out = forkModule(List.of("--illegal-native-access=deny"), "load");
        assertTrue(out.startsWith("exit 3\n"), out);
        List<String> calls = out.lines().filter(l -> l.startsWith("call ")).map(l -> l.substring(l.indexOf(": ") + 2)).toList();
        assertEquals(6, calls.size(), out);
        for (String c : calls)
            assertEquals("java.lang.IllegalCallerException: padata needs native access to load libpadata:"
                    + " start the JVM with --enable-native-access=dev.padata", c, out);
    }
}
