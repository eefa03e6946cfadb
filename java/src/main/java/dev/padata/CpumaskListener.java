/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.util.Set;

/**
 * Told about every change of an instance's usable masks (a user change or a hotplug), after
 * the change, with no job in flight. Runs on the thread that made the change: the caller of
 * {@link Padata#setCpumasks} and friends, or of {@link Cpus#down}/{@link Cpus#up}. Mask changes
 * of the same instance from inside it fail with IllegalStateException. An exception it throws
 * reaches the instance's {@link Padata.FailureHandler} with stage
 * {@link PadataJob.Stage#NOTIFIER}.
 */
@FunctionalInterface
public interface CpumaskListener {
    /**
     * Called after the instance's usable masks changed.
     *
     * @param changed  which masks changed
     * @param parallel the new usable parallel mask
     * @param serial   the new usable serial mask
     */
    void cpumaskChanged(Set<CpuMaskType> changed, CpuMask parallel, CpuMask serial);
}
