/* SPDX-License-Identifier: MIT */
package dev.padata;

/**
 * One chunk of a multithreaded job ({@link Padata#doMultithreaded}): process the indexes
 * {@code [start, end)}.
 *
 * <p>Runs on a worker thread of the instance's workqueue or on the thread that called
 * {@code doMultithreaded}, many chunks at once, each chunk exactly once. It must not wait for
 * another chunk or for a cpumask change of the instance; from inside it, the calls a padata
 * callback may not make (cpumask changes, {@code close()}, a nested {@code doMultithreaded})
 * throw {@link IllegalStateException}. An exception it throws does not stop the other chunks:
 * {@code doMultithreaded} rethrows it once every chunk has finished.
 */
@FunctionalInterface
public interface RangeTask {
    /**
     * Processes the indexes from {@code start} (inclusive) to {@code end} (exclusive).
     *
     * @param start the first index of the chunk
     * @param end one past the last index of the chunk
     */
    void run(long start, long end);
}
