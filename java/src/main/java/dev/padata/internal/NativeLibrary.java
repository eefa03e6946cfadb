/* SPDX-License-Identifier: MIT */
package dev.padata.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Finds libpadata and loads it once, for the life of the JVM.
 *
 * <p>Where it comes from, in order:
 * <ol>
 *   <li>the system property {@code padata.library.path}: a libpadata.so built elsewhere;</li>
 *   <li>the jar resource {@code dev/padata/native/<os>-<arch>/libpadata.so}, extracted to
 *       {@code <dir>/libpadata-<sha256 prefix>.so} where {@code <dir>} is the system property
 *       {@code padata.cache.dir}, or else {@code java.io.tmpdir/padata-<user>}. The name is
 *       content-addressed, so JVMs running different versions never overwrite each other's file
 *       and a JVM finding the file already there with the right size reuses it.</li>
 * </ol>
 *
 * <p>Loading calls a restricted method; when the JVM refuses native access the error names the
 * exact flag to add.
 */
public final class NativeLibrary {
    /** System property naming a libpadata.so to load instead of the bundled one. */
    public static final String PATH_PROPERTY = "padata.library.path";
    /** System property naming the extraction directory. */
    public static final String CACHE_PROPERTY = "padata.cache.dir";

    private static final Path PATH = locate();
    private static final SymbolLookup LOOKUP = load(PATH);

    private NativeLibrary() {
    }

    /** The file libpadata was loaded from. */
    public static Path path() {
        return PATH;
    }

    static SymbolLookup lookup() {
        return LOOKUP;
    }

    /** The JVM flag that grants this code native access, for error messages. */
    public static String nativeAccessFlag() {
        Module m = NativeLibrary.class.getModule();
        return "--enable-native-access=" + (m.isNamed() ? m.getName() : "ALL-UNNAMED");
    }

    /** The resource directory name for this platform, e.g. {@code linux-x86_64}. */
    public static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osPart = os.startsWith("linux") ? "linux" : os.replaceAll("[^a-z0-9]", "");
        String archPart = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return osPart + "-" + archPart;
    }

    private static Path locate() {
        String explicit = System.getProperty(PATH_PROPERTY);
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit).toAbsolutePath();
            if (!Files.isRegularFile(p))
                throw new UnsatisfiedLinkError(
                        "-D" + PATH_PROPERTY + "=" + explicit + " does not name a readable file");
            return p;
        }
        String resource = "/dev/padata/native/" + platform() + "/libpadata.so";
        byte[] bytes;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null)
                throw new UnsatisfiedLinkError("this padata jar has no native library for platform "
                        + platform() + " (resource " + resource + "); build libpadata for it and pass -D"
                        + PATH_PROPERTY + "=/path/to/libpadata.so");
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + " from the padata jar", e);
        }
        return extract(bytes);
    }

    private static Path extract(byte[] bytes) {
        String hash;
        try {
            hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
        String dirName = System.getProperty(CACHE_PROPERTY);
        Path dir = dirName != null && !dirName.isBlank()
                ? Path.of(dirName)
                : Path.of(System.getProperty("java.io.tmpdir"),
                        "padata-" + System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_"));
        Path target = dir.resolve("libpadata-" + hash + ".so").toAbsolutePath();
        try {
            if (Files.isRegularFile(target) && Files.size(target) == bytes.length)
                return target;
            Files.createDirectories(dir);
            // Write a private temporary file, then rename it into place: a concurrent JVM sees
            // either no file or the complete one.
            Path tmp = Files.createTempFile(dir, "libpadata-" + hash, ".tmp");
            try {
                Files.write(tmp, bytes);
                try {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract libpadata to " + target
                    + " (set -D" + CACHE_PROPERTY + " to a writable directory, or -D" + PATH_PROPERTY + ")", e);
        }
    }

    private static SymbolLookup load(Path path) {
        try {
            return SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalCallerException e) {
            throw new IllegalCallerException("padata needs native access to load " + path
                    + ": start the JVM with " + nativeAccessFlag(), e);
        } catch (IllegalArgumentException e) {
            throw new UnsatisfiedLinkError("cannot load libpadata from " + path + ": " + e.getMessage());
        }
    }
}
