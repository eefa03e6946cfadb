/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;

/**
 * The CPUs of this process as libpadata sees them, and simulated CPU hotplug.
 *
 * <p>{@link #down(int)} and {@link #up(int)} change {@code cpu_active_mask}: every padata
 * instance refuses new jobs with {@link PadataBusyException} while it drains the jobs already
 * accepted, switches to its new usable masks and calls its cpumask listeners, as a real
 * hotplug would. Jobs are never lost, repeated or reordered.
 *
 * <p>The environment variable {@code PADATA_NR_CPUS=N}, read once when the library loads,
 * makes libpadata present N virtual CPUs (tests use it to run 8 or 64 CPUs on a small
 * machine).
 */
public final class Cpus {
    private Cpus() {
    }

    /**
     * {@code nr_cpu_ids}: the number of CPU ids in this process, fixed at library load.
     *
     * @return {@code nr_cpu_ids}
     */
    public static int count() {
        return PadataNative.nrCpuIds();
    }

    /**
     * The number of real CPUs in the process's affinity at library load.
     *
     * @return the number of host CPUs
     */
    public static int hostCount() {
        return PadataNative.nrHostCpus();
    }

    /**
     * True when PADATA_NR_CPUS set the topology.
     *
     * @return whether the CPU topology is virtual
     */
    public static boolean isVirtual() {
        return PadataNative.topologyIsVirtual();
    }

    /**
     * The real CPU that virtual CPU {@code cpu}'s workers are pinned to.
     *
     * @param cpu a virtual CPU
     * @return the host CPU it runs on
     * @throws IllegalArgumentException when {@code cpu} is not in {@code [0, count())}
     */
    public static int hostCpu(int cpu) {
        int rc = PadataNative.cpuToHost(cpu);
        if (rc < 0)
            throw new IllegalArgumentException("CPU " + cpu + " does not exist: CPUs are [0, " + count() + ")");
        return rc;
    }

    /**
     * The virtual CPU of the calling padata worker thread, or -1 on any other thread.
     *
     * @return the current virtual CPU, or -1
     */
    public static int current() {
        return PadataNative.currentCpu();
    }

    /**
     * Takes {@code cpu} out of the active mask ({@code cpu_down}); blocks until every padata
     * instance has drained and switched masks. Taking down a CPU that is already down is a no-op.
     *
     * @param cpu the CPU to take down
     * @throws IllegalArgumentException when the CPU does not exist or was never active in this process
     * @throws PadataBusyException      when it is the last active CPU
     * @throws IllegalStateException    when called from a padata worker thread (a callback or
     *                                  notifier), where it would wait for itself
     */
    public static void down(int cpu) {
        FlightRecorderEvents.Change jfr = FlightRecorderEvents.beginHotplug("Cpus.down(" + cpu + ")");
        int rc = PadataNative.cpuDown(cpu);
        if (jfr != null)
            jfr.end(rc);
        check("down", cpu, rc);
    }

    /**
     * Puts {@code cpu} back into the active mask ({@code cpu_up}); same draining as {@link #down}.
     *
     * @param cpu the CPU to bring back
     * @throws IllegalArgumentException when the CPU does not exist or was never active in this process
     * @throws IllegalStateException    when called from a padata worker thread
     */
    public static void up(int cpu) {
        FlightRecorderEvents.Change jfr = FlightRecorderEvents.beginHotplug("Cpus.up(" + cpu + ")");
        int rc = PadataNative.cpuUp(cpu);
        if (jfr != null)
            jfr.end(rc);
        check("up", cpu, rc);
    }

    private static void check(String op, int cpu, int rc) {
        if (rc == 0)
            return;
        if (rc == -Errno.EINVAL)
            throw new IllegalArgumentException("cpu_" + op + "(" + Integer.toUnsignedString(cpu)
                    + "): no such CPU in this process (CPUs are [0, " + count()
                    + "), the possible ones " + CpuMask.possible() + ", active now " + CpuMask.active() + ")");
        if (rc == -Errno.EBUSY)
            throw new PadataBusyException("cpu_down(" + cpu + "): CPU " + cpu
                    + " is the last active CPU (active: " + CpuMask.active() + ")");
        if (rc == -Errno.EDEADLK)
            throw new IllegalStateException("cpu_" + op + "(" + cpu + ") called from padata worker thread "
                    + Thread.currentThread().getName() + " (a callback or notifier): it would wait for itself");
        throw Errno.unexpected("cpu_" + op + "(" + cpu + ")", rc);
    }
}
