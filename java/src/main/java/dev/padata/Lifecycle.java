/* SPDX-License-Identifier: MIT */
package dev.padata;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Stops the native workers while the JVM is still alive: a shutdown hook closes every padata
 * instance (waiting for its accepted jobs, whose callbacks still work during shutdown), then
 * every workqueue (joining its threads). libpadata itself never joins anything from
 * {@code atexit}, so {@code System.exit} cannot hang in native code.
 *
 * <p>The hook gives up after {@code padata.shutdown.timeout.ms} (default 5000) milliseconds: a
 * job that never calls doSerial(), or {@code System.exit} called from inside a callback (whose
 * serial() can then never return), must not keep the JVM from exiting. What is left is reported
 * on stderr and reclaimed by the operating system.
 */
final class Lifecycle {
    private Lifecycle() {
    }

    /** Private: no code outside can hold it (a class object's monitor is anyone's). */
    private static final Object LOCK = new Object();
    private static final Set<Padata> INSTANCES = new LinkedHashSet<>();   // guarded by LOCK
    private static final Set<Workqueue> QUEUES = new LinkedHashSet<>();   // guarded by LOCK
    private static boolean hooked;                                          // guarded by LOCK

    static void ensureHook() {
        synchronized (LOCK) {
            if (hooked)
                return;
            Runtime.getRuntime().addShutdownHook(new Thread(Lifecycle::shutdown, "padata-shutdown"));
            hooked = true;
        }
    }

    static void opened(Padata p) {
        synchronized (LOCK) {
            ensureHook();
            INSTANCES.add(p);
        }
    }

    static void opened(Workqueue q) {
        synchronized (LOCK) {
            ensureHook();
            QUEUES.add(q);
        }
    }

    /** The instances open now (a copy), for the Flight Recorder events. */
    static java.util.List<Padata> liveInstances() {
        synchronized (LOCK) {
            return java.util.List.copyOf(INSTANCES);
        }
    }

    static void closed(Padata p) {
        synchronized (LOCK) {
            INSTANCES.remove(p);
        }
    }

    static void closed(Workqueue q) {
        synchronized (LOCK) {
            QUEUES.remove(q);
        }
    }

    private static void shutdown() {
        long timeoutMs = Long.getLong("padata.shutdown.timeout.ms", 5000);
        Thread closer = new Thread(Lifecycle::closeAll, "padata-shutdown-closer");
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(TimeUnit.MILLISECONDS.toMillis(timeoutMs));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closer.isAlive())
            System.err.println("padata: shutdown gave up after " + timeoutMs + " ms waiting for jobs in flight"
                    + " (a job that never called doSerial(), or System.exit() from a callback?); exiting anyway");
    }

    private static void closeAll() {
        List<Padata> instances;
        List<Workqueue> queues;
        synchronized (LOCK) {
            instances = new ArrayList<>(INSTANCES);
            queues = new ArrayList<>(QUEUES);
        }
        for (Padata p : instances) {
            try {
                p.close();
            } catch (RuntimeException e) {
                System.err.println("padata: shutdown could not close " + p + ": " + e.getMessage());
            }
        }
        for (Workqueue q : queues) {
            try {
                q.close();
            } catch (RuntimeException e) {
                System.err.println("padata: shutdown could not close " + q + ": " + e.getMessage());
            }
        }
    }
}
