/* SPDX-License-Identifier: MIT */
package dev.padata;

/**
 * A snapshot of a padata instance's statistics ({@code struct padata_stats}, filled by
 * {@code padata_get_stats}), returned by {@link Padata#stats()}. The core keeps the counts where
 * it writes anyway (per CPU, by that CPU's worker) and sums them on each call, so they cost the
 * jobs nothing; a snapshot taken while jobs run may have fields off from one another by the jobs
 * finishing meanwhile. After {@link Padata#stop()} returned they are exact:
 * {@code accepted() == completed()}.
 *
 * @param accepted          jobs accepted since allocation (completed plus in flight)
 * @param completed         jobs whose {@code serial()} returned
 * @param busy              submissions refused with {@link PadataBusyException}: the core's
 *                          {@code -EBUSY} answers (in-flight limit, mask change in progress) and
 *                          the binding's own refusals when every job slot is taken
 * @param reorderDepth      finished jobs held in the reorder stage now, waiting for an earlier job
 * @param reorderDepthMax   the highest reorder depth seen, never below any {@code reorderDepth}
 *                          reported
 * @param inFlight          jobs accepted whose {@code serial()} has not returned
 * @param limit             the in-flight limit ({@link Padata#setMaxInflight})
 * @param waitingSubmitters threads waiting in the core for room to submit
 */
public record PadataStats(long accepted, long completed, long busy, long reorderDepth, long reorderDepthMax,
                          long inFlight, int limit, int waitingSubmitters) {
}
