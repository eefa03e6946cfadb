/* SPDX-License-Identifier: MIT */
/**
 * padata for Java: ordered parallel execution (the Linux kernel's padata) over libpadata,
 * through the Foreign Function and Memory API. Start with
 * {@link dev.padata.OrderedGatherers#mapOrdered} for a stream, {@link dev.padata.OrderedPipeline}
 * for streaming input, {@link dev.padata.OrderedProcessor} for {@code java.util.concurrent.Flow},
 * or {@link dev.padata.Padata} for the kernel-shaped API.
 *
 * <p>The module calls restricted methods: run with {@code --enable-native-access=dev.padata}
 * (or {@code ALL-UNNAMED} on the class path).
 */
module dev.padata {
    exports dev.padata;
}
