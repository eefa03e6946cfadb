/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.SubmissionPublisher;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** OrderedProcessor's own behaviour; OrderedProcessorTckTest runs the Reactive Streams TCK on it. */
class OrderedProcessorTest {
    /** An upstream driven by the test: counts what was requested, sends on the test thread. */
    static final class Upstream implements Flow.Subscription {
        final AtomicLong requested = new AtomicLong();
        volatile boolean cancelled;
        Flow.Subscriber<? super Integer> subscriber;

        void attach(Flow.Subscriber<? super Integer> s) {
            subscriber = s;
            s.onSubscribe(this);
        }

        @Override
        public void request(long n) {
            requested.addAndGet(n);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    /** A downstream that requests only when told and records everything. */
    static class Downstream implements Flow.Subscriber<Integer> {
        final List<Integer> items = Collections.synchronizedList(new ArrayList<>());
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final CountDownLatch done = new CountDownLatch(1);
        volatile boolean completed;
        volatile Flow.Subscription subscription;

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
        }

        @Override
        public void onNext(Integer item) {
            items.add(item);
        }

        @Override
        public void onError(Throwable t) {
            error.set(t);
            done.countDown();
        }

        @Override
        public void onComplete() {
            completed = true;
            done.countDown();
        }

        void awaitDone() throws InterruptedException {
            assertTrue(done.await(60, TimeUnit.SECONDS), "no terminal signal; got " + items);
        }
    }

    private static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().toList();
    }

    @Test
    void requestsUpstreamByCapacityAndHonoursDownstreamDemand() throws Exception {
        var p = OrderedProcessor.<Integer, Integer>builder(x -> x * 10).capacity(8).name("demand").build();
        var down = new Downstream();
        p.subscribe(down);
        var up = new Upstream();
        up.attach(p);
        assertEquals(8, up.requested.get(), "the first request is the capacity");
        for (int i = 0; i < 8; i++)
            up.subscriber.onNext(i);
        TestSupport.await("the 8 items to be processed", 30_000, () -> p.pipeline().completed() == 8);
        assertEquals(List.of(), down.items, "no result without demand");
        assertEquals(8, up.requested.get(), "no more from upstream while the results are not delivered");

        down.subscription.request(3);
        TestSupport.await("3 results", 30_000, () -> down.items.size() == 3);
        assertEquals(List.of(0, 10, 20), down.items);
        long owed = up.requested.get() - 8;
        assertTrue(owed <= 3, "at most the delivered number is requested again, got " + owed);

        down.subscription.request(Long.MAX_VALUE);
        TestSupport.await("all 8 results", 30_000, () -> down.items.size() == 8);
        assertEquals(range(0, 8).stream().map(x -> x * 10).toList(), down.items);
        assertTrue(up.requested.get() - 8 <= 8, "never more than capacity outstanding");
        up.subscriber.onComplete();
        down.awaitDone();
        assertTrue(down.completed);
        assertTrue(p.awaitReleased(60_000), "the padata instance is released on completion");
        assertTrue(p.pipeline().padata().isClosed());
    }

    @Test
    void itemsBeyondWhatWasRequestedAreAProtocolError() throws Exception {
        var p = OrderedProcessor.<Integer, Integer>builder(x -> x).capacity(2).build();
        var down = new Downstream();
        p.subscribe(down);
        var up = new Upstream();
        up.attach(p);
        for (int i = 0; i < 3; i++)
            up.subscriber.onNext(i);
        down.awaitDone();
        assertInstanceOf(IllegalStateException.class, down.error.get());
        assertTrue(down.error.get().getMessage().contains("rule 1.1"), down.error.get().getMessage());
        assertTrue(up.cancelled);
    }

    @Test
    void resultsArePublishedInUpstreamOrder() throws Exception {
        int n = TestSupport.scaled(50_000);
        var p = OrderedProcessor.<Integer, Integer>builder(x -> {
            long h = x;
            for (int i = 0; i < (x * 7919) % 3000; i++)
                h = h * 31 + i;
            return h == 7 ? -1 : x;
        }).capacity(64).build();
        var down = new Downstream() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                super.onSubscribe(s);
                s.request(Long.MAX_VALUE);
            }
        };
        p.subscribe(down);
        try (var pub = new SubmissionPublisher<Integer>()) {
            pub.subscribe(p);
            for (int i = 0; i < n; i++)
                pub.submit(i);
        }
        down.awaitDone();
        assertNull(down.error.get());
        assertEquals(range(0, n), down.items);
    }

    @Test
    void aFailureUnderTheErrorPolicyEndsTheStreamInOrderWithItsCause() throws Exception {
        IllegalStateException boom = new IllegalStateException("boom at 5");
        AtomicInteger calls = new AtomicInteger();
        var p = OrderedProcessor.<Integer, Integer>builder(x -> {
            calls.incrementAndGet();
            if (x == 5)
                throw boom;
            return x;
        }).capacity(4).build();
        var down = new Downstream();
        p.subscribe(down);
        down.subscription.request(Long.MAX_VALUE);
        var up = new Upstream();
        up.attach(p);
        int sent = 0;
        while (!up.cancelled && sent < 1000) {
            if (up.requested.get() > sent)
                up.subscriber.onNext(sent++);
            else
                Thread.onSpinWait();
        }
        down.awaitDone();
        assertSame(boom, down.error.get());
        assertEquals(range(0, 5), down.items);
        assertTrue(up.cancelled, "the upstream is cancelled");
        assertTrue(sent <= 5 + 4 + 1, "no more than the capacity after the failing item was requested: " + sent);
        assertTrue(p.awaitReleased(60_000));
    }

    @Test
    void aFailureUnderTheSkipPolicyIsReportedInOrderAndTheStreamGoesOn() throws Exception {
        List<String> reported = Collections.synchronizedList(new ArrayList<>());
        var p = OrderedProcessor.<Integer, Integer>builder(x -> {
                    if (x % 10 == 3)
                        throw new IllegalArgumentException("bad " + x);
                    return x;
                })
                .failurePolicy(OrderedProcessor.FailurePolicy.SKIP)
                .failureHandler((x, e) -> reported.add(x + ":" + e.getMessage()))
                .capacity(8).build();
        var down = new Downstream();
        p.subscribe(down);
        down.subscription.request(Long.MAX_VALUE);
        try (var pub = new SubmissionPublisher<Integer>()) {
            pub.subscribe(p);
            for (int i = 0; i < 100; i++)
                pub.submit(i);
        }
        down.awaitDone();
        assertTrue(down.completed, "skipped failures do not end the stream: " + down.error.get());
        assertEquals(range(0, 100).stream().filter(x -> x % 10 != 3).toList(), down.items);
        assertEquals(range(0, 10).stream().map(k -> (10 * k + 3) + ":bad " + (10 * k + 3)).toList(), reported);
    }

    @Test
    void aNullResultIsAFailure() throws Exception {
        var p = OrderedProcessor.<Integer, Integer>create(x -> x == 2 ? null : x);
        var down = new Downstream();
        p.subscribe(down);
        down.subscription.request(10);
        try (var pub = new SubmissionPublisher<Integer>()) {
            pub.subscribe(p);
            for (int i = 0; i < 5; i++)
                pub.submit(i);
        }
        down.awaitDone();
        assertInstanceOf(NullPointerException.class, down.error.get());
        assertEquals(List.of(0, 1), down.items);
    }

    @Test
    void cancelStopsTheUpstreamSkipsQueuedWorkAndReleasesTheInstance() throws Exception {
        // One parallel CPU other than the callback CPU (the first active one), so the stuck item
        // holds back the items queued behind it but not the delivery of the results before it.
        int last = -1;
        for (int c = 0; c < CpuMask.NR_CPUS; c++)
            if (CpuMask.active().contains(c))
                last = c;
        assumeTrue(CpuMask.active().weight() >= 2, "needs two active CPUs");
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        var p = OrderedProcessor.<Integer, Integer>builder(x -> {
            calls.incrementAndGet();
            if (x >= 3) {
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return x;
        }).capacity(16).parallelCpus(CpuMask.of(last)).build();
        var down = new Downstream() {
            @Override
            public void onNext(Integer item) {
                super.onNext(item);
                if (items.size() == 3)
                    subscription.cancel();
            }
        };
        p.subscribe(down);
        down.subscription.request(Long.MAX_VALUE);
        var up = new Upstream();
        up.attach(p);
        for (int i = 0; i < 16; i++)
            up.subscriber.onNext(i);
        TestSupport.await("the upstream to be cancelled", 30_000, () -> up.cancelled);
        gate.countDown();
        assertTrue(p.awaitReleased(60_000), "the padata instance is released after cancel");
        assertEquals(List.of(0, 1, 2), down.items);
        assertTrue(calls.get() < 16, "items queued behind the cancel were skipped, ran " + calls.get());
        up.subscriber.onNext(99);   // rule 2.8: items after cancel are dropped quietly
        assertEquals(List.of(0, 1, 2), down.items);
        assertNull(down.error.get());
        assertTrue(p.pipeline().padata().isClosed());
    }

    @Test
    void anUpstreamErrorIsPassedOnAtOnceWithoutDemand() throws Exception {
        var p = OrderedProcessor.<Integer, Integer>create(x -> x);
        var down = new Downstream();
        p.subscribe(down);
        var up = new Upstream();
        up.attach(p);
        up.subscriber.onNext(1);
        RuntimeException failure = new RuntimeException("upstream broke");
        up.subscriber.onError(failure);
        down.awaitDone();
        assertSame(failure, down.error.get());
        assertEquals(List.of(), down.items);
        assertTrue(p.awaitReleased(60_000));
    }

    @Test
    void aSecondSubscriberIsRejectedWithOnError() throws Exception {
        var p = OrderedProcessor.<Integer, Integer>create(x -> x);
        p.subscribe(new Downstream());
        var second = new Downstream();
        p.subscribe(second);
        second.awaitDone();
        assertInstanceOf(IllegalStateException.class, second.error.get());
    }

    @Test
    void requestOfZeroIsAnError() throws Exception {
        var p = OrderedProcessor.<Integer, Integer>create(x -> x);
        var down = new Downstream();
        p.subscribe(down);
        var up = new Upstream();
        up.attach(p);
        down.subscription.request(0);
        down.awaitDone();
        assertInstanceOf(IllegalArgumentException.class, down.error.get());
        assertTrue(up.cancelled);
    }

    @Test
    void theBuilderChecksItsArguments() {
        assertThrows(NullPointerException.class, () -> OrderedProcessor.create(null));
        var b = OrderedProcessor.<Integer, Integer>builder(x -> x);
        assertThrows(IllegalArgumentException.class, () -> b.capacity(0));
        assertThrows(IllegalArgumentException.class, () -> b.capacity(Padata.MAX_INFLIGHT_LIMIT));
        assertThrows(NullPointerException.class, () -> b.failurePolicy(null));
        assertThrows(NullPointerException.class, () -> b.failureHandler(null));
        assertThrows(NullPointerException.class, () -> b.parallelCpus(null));
        assertThrows(IllegalArgumentException.class, () -> b.name(""));
        var p = b.build();
        assertThrows(NullPointerException.class, () -> p.subscribe(null));
        assertThrows(NullPointerException.class, () -> p.onSubscribe(null));
        assertThrows(NullPointerException.class, () -> p.onNext(null));
        assertThrows(NullPointerException.class, () -> p.onError(null));
    }
}
