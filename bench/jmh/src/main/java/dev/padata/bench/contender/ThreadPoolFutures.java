/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

import java.util.ArrayDeque;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * {@code java-pool}: a fixed thread pool of one thread per CPU; the benchmark thread submits
 * each job and keeps at most {@link #WINDOW} futures in flight, consuming them in submission
 * order (the serial stage runs on the submitter). Job objects are recycled; the pool allocates
 * a FutureTask and a queue node per job.
 */
public final class ThreadPoolFutures extends Contender {
    /** Futures in flight, as padata's default in-flight limit. */
    static final int WINDOW = 1024;

    private final ExecutorService pool;
    private final Job[] jobs = new Job[WINDOW];
    private final ArrayDeque<Future<Job>> window = new ArrayDeque<>(WINDOW);
    private final OrderCheck check = new OrderCheck("java-pool");

    private static final class Job implements Callable<Job> {
        long index;
        int w;
        long digest;

        @Override
        public Job call() {
            digest = Work.work(Work.seed(index), w);
            return this;
        }
    }

    public ThreadPoolFutures(Config config) {
        super(config);
        pool = Executors.newFixedThreadPool(threads, Threads.daemonFactory("java-pool"));
        for (int i = 0; i < WINDOW; i++) {
            jobs[i] = new Job();
        }
    }

    @Override
    public String name() {
        return "java-pool";
    }

    @Override
    public void runBatch() {
        check.reset();
        try {
            for (int i = 0; i < n; i++) {
                if (window.size() == WINDOW) {
                    consume(window.poll().get());
                }
                // The slot's previous job was consumed WINDOW submissions ago.
                Job job = jobs[i % WINDOW];
                job.index = i;
                job.w = w;
                window.add(pool.submit(job));
            }
            while (!window.isEmpty()) {
                consume(window.poll().get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("java-pool interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("java-pool job failed", e.getCause());
        }
        verify(check);
    }

    private void consume(Job job) {
        check.accept(job.index, job.digest);
    }

    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
