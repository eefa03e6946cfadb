/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Thread factories of the contenders: daemon threads named after the contender. */
final class Threads {
    private Threads() {
    }

    static ThreadFactory daemonFactory(String prefix) {
        AtomicInteger next = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + next.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
    }
}
