/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

/** {@code java-single}: the jobs folded in a plain loop on the benchmark thread. */
public final class JavaSingle extends Contender {
    private final OrderCheck check = new OrderCheck("java-single");

    public JavaSingle(Config config) {
        super(config);
    }

    @Override
    public String name() {
        return "java-single";
    }

    @Override
    public void runBatch() {
        check.reset();
        for (int i = 0; i < n; i++) {
            check.accept(i, Work.work(Work.seed(i), w));
        }
        verify(check);
    }
}
