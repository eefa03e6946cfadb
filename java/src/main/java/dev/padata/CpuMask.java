/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * An immutable set of CPU numbers in {@code [0, 1024)} (the C library's {@code NR_CPUS}): the
 * Java value of a {@code struct cpumask}. Masks may name CPUs that are offline or do not exist
 * in this process; libpadata uses them once they come up.
 *
 * <pre>{@code
 * CpuMask first4 = CpuMask.parse("0-3");
 * CpuMask some = CpuMask.of(0, 2, 5);
 * assert first4.contains(2) && some.weight() == 3;
 * System.out.println(first4.or(some));   // 0-3,5
 * }</pre>
 */
public final class CpuMask {
    /** The capacity of a mask: CPUs are numbered {@code 0 .. NR_CPUS-1}. */
    public static final int NR_CPUS = PadataNative.NR_CPUS;

    private static final int WORDS = PadataNative.CPUMASK_WORDS;
    private static final CpuMask EMPTY = new CpuMask(new long[WORDS]);

    private final long[] words;

    private CpuMask(long[] words) {
        this.words = words;
    }

    static CpuMask ofWords(long[] words) {
        return new CpuMask(Arrays.copyOf(words, WORDS));
    }

    /**
     * The empty mask.
     *
     * @return a mask with no CPU
     */
    public static CpuMask empty() {
        return EMPTY;
    }

    /**
     * The mask holding exactly {@code cpus} (duplicates are fine).
     *
     * @param cpus the CPUs, each in {@code [0, NR_CPUS)}
     * @return the mask of those CPUs
     * @throws IllegalArgumentException when a CPU is negative or {@code >= NR_CPUS}
     */
    public static CpuMask of(int... cpus) {
        Objects.requireNonNull(cpus, "cpus");
        long[] w = new long[WORDS];
        for (int cpu : cpus) {
            checkCpu(cpu);
            w[cpu >>> 6] |= 1L << cpu;
        }
        return new CpuMask(w);
    }

    /**
     * CPUs {@code fromInclusive .. toExclusive-1}.
     *
     * @param fromInclusive the first CPU
     * @param toExclusive one past the last CPU
     * @return the mask of those CPUs
     * @throws IllegalArgumentException when a bound is outside {@code [0, NR_CPUS]} or {@code fromInclusive > toExclusive}
     */
    public static CpuMask range(int fromInclusive, int toExclusive) {
        if (fromInclusive < 0 || toExclusive > NR_CPUS || fromInclusive > toExclusive)
            throw new IllegalArgumentException("CPU range [" + fromInclusive + ", " + toExclusive
                    + ") is not within [0, " + NR_CPUS + ")");
        long[] w = new long[WORDS];
        for (int c = fromInclusive; c < toExclusive; c++)
            w[c >>> 6] |= 1L << c;
        return new CpuMask(w);
    }

    /**
     * Parses a CPU list such as {@code "0-3,6"} (the kernel's cpulist format, parsed by
     * libpadata's {@code cpulist_parse}); {@code ""} is the empty mask.
     *
     * @param cpulist the list, e.g. {@code "0-3,6"}
     * @return the mask it names
     * @throws IllegalArgumentException on bad syntax or a CPU {@code >= NR_CPUS}
     */
    public static CpuMask parse(String cpulist) {
        Objects.requireNonNull(cpulist, "cpulist");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = arena.allocate(PadataNative.CPUMASK);
            int rc = PadataNative.cpulistParse(arena.allocateFrom(cpulist), mask);
            if (rc == -Errno.ERANGE)
                throw new IllegalArgumentException("CPU list \"" + cpulist + "\" names a CPU >= " + NR_CPUS);
            if (rc == -Errno.EINVAL)
                throw new IllegalArgumentException("not a CPU list: \"" + cpulist + "\" (expected e.g. \"0-3,6\")");
            if (rc != 0)
                throw Errno.unexpected("cpulist_parse(\"" + cpulist + "\")", rc);
            return new CpuMask(mask.toArray(PadataNative.C_LONG));
        }
    }

    /**
     * {@code cpu_possible_mask}: the CPUs that exist in this process (system, or PADATA_NR_CPUS).
     *
     * @return the possible CPUs
     */
    public static CpuMask possible() {
        return new CpuMask(PadataNative.possibleMaskWords());
    }

    /**
     * {@code cpu_online_mask}: the CPUs the system reported online when libpadata loaded.
     *
     * @return the CPUs online at load
     */
    public static CpuMask online() {
        return new CpuMask(PadataNative.onlineMaskWords());
    }

    /**
     * {@code cpu_active_mask} now: online, in the process's affinity, not taken down by {@link Cpus#down}.
     *
     * @return the active CPUs at the time of the call
     */
    public static CpuMask active() {
        return new CpuMask(PadataNative.activeMaskWords());
    }

    /**
     * True when {@code cpu} is in the mask; false for any out-of-range int.
     *
     * @param cpu any int
     * @return whether the mask holds {@code cpu}
     */
    public boolean contains(int cpu) {
        return cpu >= 0 && cpu < NR_CPUS && (words[cpu >>> 6] & (1L << cpu)) != 0;
    }

    /**
     * The number of CPUs in the mask.
     *
     * @return the count of CPUs in the mask, 0 to {@code NR_CPUS}
     */
    public int weight() {
        int n = 0;
        for (long w : words)
            n += Long.bitCount(w);
        return n;
    }

    /**
     * True when the mask holds no CPU.
     *
     * @return whether {@link #weight()} is 0
     */
    public boolean isEmpty() {
        return weight() == 0;
    }

    /**
     * The lowest CPU, or -1 when the mask is empty.
     *
     * @return the lowest CPU, or -1
     */
    public int first() {
        return next(0);
    }

    /**
     * The lowest CPU {@code >= from}, or -1 when none.
     *
     * @param from where to start; a negative value starts at 0
     * @return the lowest CPU at or above {@code from}, or -1
     */
    public int next(int from) {
        for (int c = Math.max(from, 0); c < NR_CPUS; c++) {
            long w = words[c >>> 6] >>> c;
            if (w != 0)
                return c + Long.numberOfTrailingZeros(w);
            c |= 63; // skip to the end of this word
        }
        return -1;
    }

    /**
     * The CPUs in ascending order.
     *
     * @return a stream of the CPUs
     */
    public IntStream stream() {
        return IntStream.range(0, NR_CPUS).filter(this::contains);
    }

    /**
     * The CPUs in ascending order.
     *
     * @return a new array of the CPUs
     */
    public int[] toArray() {
        return stream().toArray();
    }

    /**
     * This mask plus {@code cpu}.
     *
     * @param cpu the CPU to add, in {@code [0, NR_CPUS)}
     * @return a new mask
     * @throws IllegalArgumentException when {@code cpu} is out of range
     */
    public CpuMask with(int cpu) {
        checkCpu(cpu);
        long[] w = words.clone();
        w[cpu >>> 6] |= 1L << cpu;
        return new CpuMask(w);
    }

    /**
     * This mask less {@code cpu}.
     *
     * @param cpu the CPU to remove, in {@code [0, NR_CPUS)}
     * @return a new mask
     * @throws IllegalArgumentException when {@code cpu} is out of range
     */
    public CpuMask without(int cpu) {
        checkCpu(cpu);
        long[] w = words.clone();
        w[cpu >>> 6] &= ~(1L << cpu);
        return new CpuMask(w);
    }

    /**
     * The CPUs in both masks ({@code cpumask_and}).
     *
     * @param other the other mask
     * @return a new mask
     */
    public CpuMask and(CpuMask other) {
        long[] w = words.clone();
        for (int i = 0; i < WORDS; i++)
            w[i] &= other.words[i];
        return new CpuMask(w);
    }

    /**
     * The CPUs in either mask ({@code cpumask_or}).
     *
     * @param other the other mask
     * @return a new mask
     */
    public CpuMask or(CpuMask other) {
        long[] w = words.clone();
        for (int i = 0; i < WORDS; i++)
            w[i] |= other.words[i];
        return new CpuMask(w);
    }

    /**
     * The CPUs in this mask and not in {@code other} ({@code cpumask_andnot}).
     *
     * @param other the mask to take away
     * @return a new mask
     */
    public CpuMask andNot(CpuMask other) {
        long[] w = words.clone();
        for (int i = 0; i < WORDS; i++)
            w[i] &= ~other.words[i];
        return new CpuMask(w);
    }

    long[] words() {
        return words;
    }

    MemorySegment toNative(Arena arena) {
        return PadataNative.cpumask(arena, words);
    }

    private static void checkCpu(int cpu) {
        if (cpu < 0 || cpu >= NR_CPUS)
            throw new IllegalArgumentException("CPU " + cpu + " is out of range [0, " + NR_CPUS + ")");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CpuMask m && Arrays.equals(words, m.words);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(words);
    }

    /** The cpulist form, e.g. {@code "0-3,6"}; {@code ""} for the empty mask. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        int c = first();
        while (c >= 0) {
            int end = c;
            while (end + 1 < NR_CPUS && contains(end + 1))
                end++;
            if (!sb.isEmpty())
                sb.append(',');
            sb.append(c);
            if (end > c)
                sb.append('-').append(end);
            c = end + 1 < NR_CPUS ? next(end + 1) : -1;
        }
        return sb.toString();
    }
}
