/* SPDX-License-Identifier: MIT */
/**
 * padata for Java: ordered parallel execution (the Linux kernel's padata) over libpadata,
 * through the Foreign Function and Memory API. Start with
 * {@link dev.padata.OrderedGatherers#mapOrdered} for a stream, {@link dev.padata.OrderedPipeline}
 * for streaming input, {@link dev.padata.OrderedProcessor} for {@code java.util.concurrent.Flow},
 * or {@link dev.padata.Padata} for the kernel-shaped API.
 *
 * <p>The module calls restricted methods: run with {@code --enable-native-access=dev.padata}
 * (or {@code ALL-UNNAMED} on the class path). Without it JDK 25 prints a warning and goes on;
 * with {@code --illegal-native-access=deny} every use of padata throws
 * {@code IllegalCallerException} naming that flag.
 *
 * <p>The jar carries libpadata for Linux on x86_64 with glibc 2.34 or newer. Elsewhere (another
 * OS or architecture, musl) every use of padata throws {@code UnsatisfiedLinkError} naming what
 * is supported, unless {@code -Dpadata.library.path=/path/to/libpadata.so} names a library built
 * for the machine.
 */
module dev.padata {
    requires jdk.jfr;

    exports dev.padata;
}
