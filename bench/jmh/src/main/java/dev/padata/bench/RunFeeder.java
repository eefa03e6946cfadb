/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import dev.padata.OrderedPipeline;

import java.util.ArrayList;
import java.util.List;

/**
 * How the {@code java-padata-batch} contenders feed their {@link OrderedPipeline}: item numbers
 * gathered into one list, refilled, handed over with {@code submitAll} every {@value #RUN}
 * items and at the last one, the way its Javadoc shows for values in hand.
 */
public final class RunFeeder {
    /** Values per {@code submitAll}. */
    public static final int RUN = 256;

    private final List<Integer> run = new ArrayList<>(RUN);

    /**
     * Adds item {@code i}; submits the list when it is full or {@code last}.
     *
     * @throws IllegalStateException when submitAll stops early (the benchmark never stops it)
     */
    public void add(OrderedPipeline<Integer, ?> pipeline, int i, boolean last) throws InterruptedException {
        run.add(i);
        if (run.size() == RUN || last) {
            if (pipeline.submitAll(run) != run.size())
                throw new IllegalStateException("java-padata-batch: submitAll stopped early");
            run.clear();
        }
    }
}
