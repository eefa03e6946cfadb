/* SPDX-License-Identifier: MIT */
package dev.padata.flink;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.LatencyMarker;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.tasks.mailbox.Mail;
import org.apache.flink.streaming.runtime.tasks.mailbox.TaskMailbox;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The operator alone, driven step by step through Flink's operator test harness. */
class OperatorHarnessTest {
    /** Elements wait in fn until the test opens the gate (a padata worker blocks, not the task). */
    static volatile CountDownLatch gate = new CountDownLatch(0);

    static final MapFunction<Long, Long> GATED = v -> {
        gate.await();
        return v * 10;
    };

    static OneInputStreamOperatorTestHarness<Long, Long> harness(int capacity) throws Exception {
        var h = new OneInputStreamOperatorTestHarness<>(new PadataOperatorFactory<>(GATED, capacity), LongSerializer.INSTANCE);
        h.setup(LongSerializer.INSTANCE);
        return h;
    }

    /** Runs the operator's mails (the result hand-offs) on this thread, the harness's task thread. */
    static void runMailsUntil(OneInputStreamOperatorTestHarness<?, ?> h, BooleanSupplier done) throws Exception {
        TaskMailbox mailbox = h.getTaskMailbox();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!done.getAsBoolean()) {
            Optional<Mail> mail = mailbox.tryTake(TaskMailbox.MIN_PRIORITY);
            if (mail.isPresent())
                mail.get().run();
            else if (System.nanoTime() > deadline)
                throw new AssertionError("no progress; output so far: " + h.getOutput());
            else
                Thread.onSpinWait();
        }
    }

    @Test
    void watermarksAndLatencyMarkersWaitForTheRecordsBeforeThem() throws Exception {
        gate = new CountDownLatch(1);
        try (var h = harness(8)) {
            h.open();
            LatencyMarker marker = new LatencyMarker(5, new OperatorID(), 0);
            h.processElement(1L, 100);
            h.processWatermark(new Watermark(100));
            h.getOneInputOperator().processLatencyMarker(marker);
            h.processElement(2L, 200);
            h.processWatermark(new Watermark(200));
            runMailsUntil(h, () -> true);
            try {
                assertTrue(h.getOutput().isEmpty(), "nothing may pass the first record while it runs: " + h.getOutput());
            } finally {
                gate.countDown(); // also on failure: close() finishes what is in flight
            }
            runMailsUntil(h, () -> h.getOutput().size() == 5);
            List<Object> want = List.of(new StreamRecord<>(10L, 100), new Watermark(100), marker,
                    new StreamRecord<>(20L, 200), new Watermark(200));
            assertEquals(want, new ArrayList<>(h.getOutput()));
        }
    }

    @Test
    void snapshotHoldsTheElementsInFlightAndRestoreSubmitsThemAgain() throws Exception {
        gate = new CountDownLatch(1);
        OperatorSubtaskState state;
        try (var h = harness(8)) {
            h.open();
            h.processElement(1L, 1);
            h.processElement(2L, 2);
            h.processWatermark(new Watermark(2));
            h.processElement(3L, 3);
            try {
                state = h.snapshot(1, 1);
                assertTrue(h.getOutput().isEmpty());
            } finally {
                gate.countDown(); // lets close() finish the calls in flight; their results are never emitted
            }
        }

        // Restored with a smaller capacity than it held: open() waits for room while submitting.
        gate = new CountDownLatch(0);
        try (var h = harness(2)) {
            h.initializeState(state);
            h.open();
            runMailsUntil(h, () -> h.getOutput().size() == 4);
            List<Object> want = List.of(new StreamRecord<>(10L, 1), new StreamRecord<>(20L, 2), new Watermark(2),
                    new StreamRecord<>(30L, 3));
            assertEquals(want, new ArrayList<>(h.getOutput()));
        }
    }

    @Test
    void fullQueueHoldsBackTheNextElementUntilTheHeadIsEmitted() throws Exception {
        gate = new CountDownLatch(1);
        try (var h = harness(2)) {
            h.open();
            h.processElement(1L, 1);
            h.processElement(2L, 2);
            // The third must wait in processElement (parked in the mailbox's yield) until the head
            // is out; the gate opens only once this thread is seen parked there.
            Thread task = Thread.currentThread();
            Thread opener = new Thread(() -> {
                while (task.getState() != Thread.State.WAITING && task.getState() != Thread.State.TIMED_WAITING)
                    Thread.onSpinWait();
                gate.countDown();
            });
            opener.setDaemon(true);
            opener.start();
            try {
                h.processElement(3L, 3);
                assertEquals(new StreamRecord<>(10L, 1), h.getOutput().peek(), "room was made by emitting the head");
            } finally {
                gate.countDown();
            }
            h.endInput();
            assertEquals(List.of(new StreamRecord<>(10L, 1), new StreamRecord<>(20L, 2), new StreamRecord<>(30L, 3)),
                    new ArrayList<>(h.getOutput()));
        }
    }
}
