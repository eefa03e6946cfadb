/* SPDX-License-Identifier: MIT */
package dev.padata;

/** Which of an instance's two CPU masks an operation means. */
public enum CpuMaskType {
    /** CPUs that run {@code parallel()} ({@code PADATA_CPU_PARALLEL}). */
    PARALLEL(0x02),
    /** CPUs that may be named as {@code cb_cpu} and run {@code serial()} ({@code PADATA_CPU_SERIAL}). */
    SERIAL(0x01);

    final int bit;

    CpuMaskType(int bit) {
        this.bit = bit;
    }

    static int bits(CpuMaskType... types) {
        int bits = 0;
        for (CpuMaskType t : types)
            bits |= java.util.Objects.requireNonNull(t, "CpuMaskType element").bit;
        return bits;
    }
}
