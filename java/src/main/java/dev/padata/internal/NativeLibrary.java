/* SPDX-License-Identifier: MIT */
package dev.padata.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Finds libpadata and loads it once, for the life of the JVM.
 *
 * <p>Where it comes from, in order:
 * <ol>
 *   <li>the system property {@code padata.library.path}: a libpadata.so built elsewhere, loaded
 *       as it is on any platform;</li>
 *   <li>the jar resource {@code dev/padata/native/<os>-<arch>/libpadata.so}, on a supported
 *       platform only (the jar of the default build carries {@code linux-x86_64}, which needs
 *       glibc 2.34 or newer), extracted to {@code <dir>/libpadata-<sha256 prefix>.so}.</li>
 * </ol>
 *
 * <p>The extraction directory {@code <dir>} is the system property {@code padata.cache.dir}, or
 * else {@code java.io.tmpdir/padata-<user>}. Either is used only if it is owned by this process's
 * user and writable by no one else; the default one must also be a directory, not a symbolic link,
 * and is made mode 0700 (as padata creates it) if it is not. Otherwise the library goes to a
 * fresh private directory, deleted at exit. A file already there is reused only if its SHA-256
 * is the bundled library's; else it is replaced atomically (written beside it, then renamed).
 *
 * <p>Nothing here throws from a class initializer: when the library cannot be loaded (an
 * unsupported platform, a refused native access, an unwritable or {@code noexec} directory),
 * {@link #path()} and every downcall throw a new error with the same message, on the first call
 * and on every later one.
 */
public final class NativeLibrary {
    /** System property naming a libpadata.so to load instead of the bundled one. */
    public static final String PATH_PROPERTY = "padata.library.path";
    /** System property naming the extraction directory. */
    public static final String CACHE_PROPERTY = "padata.cache.dir";

    /** The oldest glibc the bundled library runs on (its newest versioned symbol is GLIBC_2.34). */
    static final int[] MIN_GLIBC = {2, 34};
    /** Every platform a padata jar may carry a library for. */
    private static final List<String> KNOWN_PLATFORMS = List.of("linux-x86_64", "linux-aarch64");

    private static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");

    /** What loading gave: a library, or the failure every use reports. */
    private record State(Path path, SymbolLookup lookup, Throwable failure) {
    }

    private static final State STATE = init();

    private NativeLibrary() {
    }

    /**
     * The file libpadata was loaded from.
     *
     * @return the absolute path of the loaded library
     * @throws UnsatisfiedLinkError if the library cannot be loaded on this platform or from its
     *         directory (the message says why and what to set)
     * @throws IllegalCallerException if the JVM refuses this module native access (the message
     *         names the flag to add)
     */
    public static Path path() {
        require();
        return STATE.path();
    }

    static SymbolLookup lookup() {
        require();
        return STATE.lookup();
    }

    /** Whether the library is loaded; when false, {@link #failure()} says why. */
    static boolean available() {
        return STATE.failure() == null;
    }

    /** Throws {@link #failure()} unless the library is loaded. */
    static void require() {
        if (STATE.failure() != null)
            throw sneaky(failure());
    }

    /**
     * A new throwable of the loading failure's class, with its message, caused by it: the same
     * report on every call, never a {@code NoClassDefFoundError}.
     */
    static Throwable failure() {
        Throwable first = STATE.failure();
        if (first == null)
            throw new IllegalStateException("libpadata is loaded");
        Throwable again = first instanceof IllegalCallerException
                ? new IllegalCallerException(first.getMessage())
                : new UnsatisfiedLinkError(first.getMessage());
        again.initCause(first);
        return again;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }

    /**
     * The JVM flag that grants this code native access, for error messages.
     *
     * @return {@code --enable-native-access=dev.padata} on the module path, else
     *         {@code --enable-native-access=ALL-UNNAMED}
     */
    public static String nativeAccessFlag() {
        Module m = NativeLibrary.class.getModule();
        return "--enable-native-access=" + (m.isNamed() ? m.getName() : "ALL-UNNAMED");
    }

    /**
     * The resource directory name for this platform, e.g. {@code linux-x86_64}.
     *
     * @return {@code <os>-<arch>} from the system properties {@code os.name} and {@code os.arch}
     */
    public static String platform() {
        return platform(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    static String platform(String osName, String osArch) {
        String os = osName.toLowerCase(Locale.ROOT);
        String arch = osArch.toLowerCase(Locale.ROOT);
        String osPart = os.startsWith("linux") ? "linux" : os.replaceAll("[^a-z0-9]", "");
        String archPart = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return osPart + "-" + archPart;
    }

    private static String resource(String platform) {
        return "/dev/padata/native/" + platform + "/libpadata.so";
    }

    /** The platforms this jar carries a library for. */
    static List<String> bundledPlatforms() {
        List<String> out = new ArrayList<>();
        for (String p : KNOWN_PLATFORMS)
            if (NativeLibrary.class.getResource(resource(p)) != null)
                out.add(p);
        return out;
    }

    /**
     * Why the bundled library cannot run here, or null if it can.
     *
     * @param osName  {@code os.name}
     * @param osArch  {@code os.arch}
     * @param libc    the C library's name, {@code glibc}, {@code musl} or another
     * @param libcVersion its version, e.g. {@code 2.36}, or null if unknown
     * @param bundled the platforms the jar carries, e.g. {@code [linux-x86_64]}
     */
    static String unsupported(String osName, String osArch, String libc, String libcVersion, List<String> bundled) {
        String platform = platform(osName, osArch);
        String supported = "padata's jar supports only " + (bundled.isEmpty() ? "(no platform: it carries no library)"
                : String.join(", ", bundled)) + " with glibc " + MIN_GLIBC[0] + "." + MIN_GLIBC[1] + " or newer";
        String remedy = "; build libpadata for this system and pass -D" + PATH_PROPERTY + "=/path/to/libpadata.so";
        if (!bundled.contains(platform))
            return supported + ", not " + osName + " on " + osArch + " (" + platform + ")" + remedy;
        if (!"glibc".equals(libc))
            return supported + ", not the C library " + libc + " (Alpine and other musl systems are not supported)" + remedy;
        if (libcVersion != null && older(libcVersion, MIN_GLIBC))
            return supported + ", not glibc " + libcVersion + remedy;
        return null;
    }

    private static boolean older(String version, int[] min) {
        String[] parts = version.split("[^0-9]+");
        for (int i = 0; i < min.length; i++) {
            int v;
            try {
                v = i < parts.length ? Integer.parseInt(parts[i]) : 0;
            } catch (NumberFormatException e) {
                return false; // unparsable: let the loader decide
            }
            if (v != min[i])
                return v < min[i];
        }
        return false;
    }

    private static State init() {
        try {
            Path p = locate();
            return new State(p, load(p), null);
        } catch (UnsatisfiedLinkError | IllegalCallerException e) {
            return new State(null, null, e);
        } catch (RuntimeException e) {
            UnsatisfiedLinkError u = new UnsatisfiedLinkError("cannot load libpadata: " + e);
            u.initCause(e);
            return new State(null, null, u);
        }
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
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        List<String> bundled = bundledPlatforms();
        String why = unsupported(os, arch, "glibc", null, bundled);
        if (why == null) {
            String[] libc = libc();
            why = unsupported(os, arch, libc[0], libc[1], bundled);
        }
        if (why != null)
            throw new UnsatisfiedLinkError(why);
        String resource = resource(platform());
        byte[] bytes;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw linkError("cannot read " + resource + " from the padata jar", e);
        }
        try {
            String dirName = System.getProperty(CACHE_PROPERTY);
            return dirName != null && !dirName.isBlank()
                    ? extract(bytes, Path.of(dirName).toAbsolutePath(), false)
                    : extract(bytes, defaultCacheDir(), true);
        } catch (IOException e) {
            throw linkError("cannot extract libpadata (set -D" + CACHE_PROPERTY
                    + " to a writable directory, or -D" + PATH_PROPERTY + "): " + e, e);
        }
    }

    /**
     * Refuses a libpadata whose batch claim differs from this binding's: the parallel trampoline
     * claims jobs by itself ({@link PadataNative#claimBatchJob}), with a CAS to
     * {@code PADATA_BATCH_CLAIMING}, and a library from before that protocol (its stealers
     * exchange the slot) would take the marker for a job. Such a library answers -1 (or has no
     * {@code padata_abi_query}).
     */
    private static void checkProtocol(SymbolLookup lookup, Path path) {
        MemorySegment query = lookup.find("padata_abi_query").orElse(null);
        long claiming = -1;
        if (query != null) {
            MethodHandle h = Linker.nativeLinker().downcallHandle(query,
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
            try (Arena arena = Arena.ofConfined()) {
                claiming = (long) h.invokeExact(arena.allocateFrom("PADATA_BATCH_CLAIMING"));
            } catch (Throwable t) {
                throw linkError("cannot query libpadata at " + path + ": " + t, t);
            }
        }
        if (claiming != PadataNative.BATCH_CLAIMING)
            throw new UnsatisfiedLinkError("libpadata at " + path + " is older than this binding (its parallel batch"
                    + " claim is not the one the binding uses: PADATA_BATCH_CLAIMING = " + claiming
                    + "); use the library built with it");
    }

    private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError(message);
        e.initCause(cause);
        return e;
    }

    /**
     * The C library of this process: {@code {"glibc", "2.36"}}, {@code {"musl", null}} or
     * {@code {"unknown", null}}. Calling gnu_get_libc_version is a restricted call: a refused native
     * access is reported here, with the flag to add.
     */
    private static String[] libc() {
        Linker linker = Linker.nativeLinker();
        var fn = linker.defaultLookup().find("gnu_get_libc_version");
        if (fn.isPresent()) {
            try {
                var h = linker.downcallHandle(fn.get(), FunctionDescriptor.of(ValueLayout.ADDRESS));
                MemorySegment s = (MemorySegment) h.invokeExact();
                return new String[] {"glibc", s.reinterpret(64).getString(0)};
            } catch (IllegalCallerException e) {
                throw accessRefused("load libpadata", e);
            } catch (Throwable t) {
                return new String[] {"glibc", null};
            }
        }
        try {
            String maps = Files.readString(Path.of("/proc/self/maps"));
            return new String[] {maps.contains("musl") ? "musl" : "unknown (not glibc)", null};
        } catch (IOException | RuntimeException e) {
            return new String[] {"unknown (not glibc)", null};
        }
    }

    private static IllegalCallerException accessRefused(String what, IllegalCallerException e) {
        return new IllegalCallerException("padata needs native access to " + what
                + ": start the JVM with " + nativeAccessFlag(), e);
    }

    private static Path defaultCacheDir() {
        return Path.of(System.getProperty("java.io.tmpdir"),
                "padata-" + System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_")).toAbsolutePath();
    }

    /**
     * Extracts {@code bytes} under a content-addressed name, in {@code dir} if it is safe to use
     * (see the class comment) or else in a fresh private directory; reuses a file already there
     * only if its content is {@code bytes}. Package-private for the tests.
     *
     * @param strict apply the default directory's rules (mode exactly 0700, no link) rather than
     *        those of a {@code padata.cache.dir} (owned by the user, writable by no one else)
     * @return the path of a file whose content is {@code bytes}
     */
    static Path extract(byte[] bytes, Path dir, boolean strict) throws IOException {
        byte[] digest = sha256(bytes);
        String name = "libpadata-" + java.util.HexFormat.of().formatHex(digest, 0, 12) + ".so";
        Path use = usableDir(dir, strict) ? dir : freshPrivateDir();
        Path target = use.resolve(name);
        if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
                && Arrays.equals(sha256(Files.readAllBytes(target)), digest))
            return target;
        // A missing, planted or corrupted file: write a private temporary file, then rename it
        // into place, so a concurrent JVM sees either the old file or the complete new one.
        Path tmp = Files.createTempFile(use, name, ".tmp");
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
        if (!use.equals(dir))
            target.toFile().deleteOnExit();
        return target;
    }

    /**
     * Whether {@code dir} (created 0700 if missing) is owned by this process's user and writable
     * by no one else; with {@code strict}, also a real directory, not a link, which is then made
     * mode 0700 if it is not already.
     */
    static boolean usableDir(Path dir, boolean strict) throws IOException {
        if (Files.notExists(dir, LinkOption.NOFOLLOW_LINKS)) {
            try {
                Files.createDirectories(dir.getParent());
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
                Files.setPosixFilePermissions(dir, PRIVATE_DIR); // the umask may have cut it
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // Another JVM made it: check it like any existing one.
            }
        }
        LinkOption[] follow = strict ? new LinkOption[] {LinkOption.NOFOLLOW_LINKS} : new LinkOption[0];
        if (!Files.isDirectory(dir, follow))
            return false;
        Object owner = Files.getAttribute(dir, "unix:uid", follow);
        if (!owner.equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid")))
            return false;
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, follow);
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE))
            return false;
        if (strict && !perms.equals(PRIVATE_DIR)) {
            // Ours and writable by no one else (e.g. made under a umask by an older padata):
            // nothing can have been planted in it, so it is safe to make private and use.
            Files.setPosixFilePermissions(dir, PRIVATE_DIR);
        }
        return true;
    }

    private static Path freshPrivateDir() throws IOException {
        Path d = Files.createTempDirectory("padata-", PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
        d.toFile().deleteOnExit(); // registered first, so it runs after the file's deletion
        return d;
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    private static SymbolLookup load(Path path) {
        try {
            SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global());
            checkProtocol(lookup, path);
            return lookup;
        } catch (IllegalCallerException e) {
            throw accessRefused("load " + path, e);
        } catch (IllegalArgumentException e) {
            String hint = System.getProperty(PATH_PROPERTY) != null ? ""
                    : "; if " + path.getParent() + " is on a noexec file system (a common setting for /tmp),"
                    + " set -D" + CACHE_PROPERTY + " to a directory on one that allows executables";
            throw linkError("cannot load libpadata from " + path + ": " + e.getMessage() + hint, e);
        }
    }
}
