/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import dev.padata.bench.OrderCheck;
import dev.padata.bench.Work;

import java.util.concurrent.locks.LockSupport;

/**
 * {@code java-disruptor}: an LMAX Disruptor 4 ring; one work handler per CPU, handler {@code k}
 * computing the events whose sequence is {@code k} modulo the handler count (sharding), then a
 * serial handler gated on all of them that sees the events in sequence order. The benchmark
 * thread is the single producer. Ring size 1024 (padata's default in-flight limit); wait
 * strategy {@code -Dbench.disruptor.wait=blocking|yielding}, default blocking: with more threads
 * than CPUs a spinning consumer starves the others.
 */
public final class DisruptorPipeline extends Contender {
    static final int RING = 1024;

    private final Disruptor<Event> disruptor;
    private final RingBuffer<Event> ring;
    private final OrderCheck check = new OrderCheck("java-disruptor");
    private final SerialHandler serial = new SerialHandler();

    /** One slot of the ring, reused: written by the producer, then a worker, then the serial stage. */
    static final class Event {
        long index;
        int w;
        long digest;
    }

    private static final class WorkHandler implements EventHandler<Event> {
        private final int shard;
        private final int shards;

        WorkHandler(int shard, int shards) {
            this.shard = shard;
            this.shards = shards;
        }

        @Override
        public void onEvent(Event e, long sequence, boolean endOfBatch) {
            if (sequence % shards == shard) {
                e.digest = Work.work(Work.seed(e.index), e.w);
            }
        }
    }

    private final class SerialHandler implements EventHandler<Event> {
        /** Jobs of the current batch seen; written by the serial thread only. */
        private long seen;
        private volatile long target = Long.MAX_VALUE;
        private volatile Thread waiter;
        private volatile boolean done;

        @Override
        public void onEvent(Event e, long sequence, boolean endOfBatch) {
            check.accept(e.index, e.digest);
            if (++seen == target) {
                done = true; // publishes the check's writes to the waiter
                LockSupport.unpark(waiter);
            }
        }

        void arm(long jobs, Thread t) {
            done = false;
            waiter = t;
            // Events still to come belong to this batch only; seen counts from the last batch's end.
            target = seen + jobs;
        }

        void await() {
            while (!done) {
                LockSupport.park(this);
            }
        }
    }

    public DisruptorPipeline(Config config) {
        super(config);
        String waitName = System.getProperty("bench.disruptor.wait", "blocking");
        WaitStrategy wait = switch (waitName) {
            case "blocking" -> new BlockingWaitStrategy();
            case "yielding" -> new YieldingWaitStrategy();
            default -> throw new IllegalArgumentException("bench.disruptor.wait must be blocking or yielding, not " + waitName);
        };
        disruptor = new Disruptor<>(Event::new, RING, Threads.daemonFactory("java-disruptor"), ProducerType.SINGLE, wait);
        @SuppressWarnings("unchecked")
        EventHandler<Event>[] workers = new EventHandler[threads];
        for (int k = 0; k < threads; k++) {
            workers[k] = new WorkHandler(k, threads);
        }
        disruptor.handleEventsWith(workers).then(serial);
        ring = disruptor.start();
    }

    @Override
    public String name() {
        return "java-disruptor";
    }

    @Override
    public void runBatch() {
        // The previous batch has fully drained (await), so the serial thread is idle here.
        check.reset();
        serial.arm(n, Thread.currentThread());
        for (int i = 0; i < n; i++) {
            long seq = ring.next();
            Event e = ring.get(seq);
            e.index = i;
            e.w = w;
            ring.publish(seq);
        }
        serial.await();
        verify(check);
    }

    @Override
    public void close() {
        disruptor.halt();
    }
}
