/* SPDX-License-Identifier: MIT */
package dev.padata;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingStream;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The Flight Recorder events, seen the way a user sees them: through a recording. */
class FlightRecorderTest {
    private static final String CHANGE = "dev.padata.CpumaskChange";

    /** Records CpumaskChange events while {@code action} runs; returns them once {@code expected} arrived. */
    private static List<RecordedEvent> record(int expected, ThrowingRunnable action) throws Exception {
        List<RecordedEvent> seen = new CopyOnWriteArrayList<>();
        CountDownLatch got = new CountDownLatch(expected);
        try (RecordingStream rs = new RecordingStream()) {
            rs.enable(CHANGE);
            rs.setMaxAge(Duration.ofMinutes(1));
            rs.onEvent(CHANGE, e -> {
                seen.add(e);
                got.countDown();
            });
            rs.startAsync();
            action.run();
            // The stream delivers what was committed at its next flush (about a second).
            assertTrue(got.await(60, TimeUnit.SECONDS), "saw only " + seen.size() + " of " + expected + " events: " + seen);
        }
        return seen;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void aMaskChangeByTheApiIsRecordedWithOldAndNewMasksAndItsDrain() throws Exception {
        try (Workqueue wq = Workqueue.create("jfr-api"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            CpuMask before = p.cpumask(CpuMaskType.PARALLEL);
            CpuMask serial = p.cpumask(CpuMaskType.SERIAL);
            List<RecordedEvent> events = record(1, () -> p.setCpumask(CpuMaskType.PARALLEL, CpuMask.of(0)));
            RecordedEvent e = events.get(0);
            assertEquals(FlightRecorderEvents.name(p), e.getString("instance"));
            assertEquals("setCpumask(PARALLEL, \"0\")", e.getString("trigger"));
            assertEquals(before.toString(), e.getString("oldParallel"));
            assertEquals("0", e.getString("newParallel"));
            assertEquals(serial.toString(), e.getString("oldSerial"));
            assertEquals(serial.toString(), e.getString("newSerial"));
            assertEquals(0, e.getInt("result"));
            assertTrue(e.getDuration("drain").toNanos() > 0, e.toString());
        }
    }

    @Test
    void aRefusedChangeIsRecordedWithItsErrno() throws Exception {
        try (Workqueue wq = Workqueue.create("jfr-refused"); Padata p = Padata.allocPossible(wq)) {
            List<RecordedEvent> events = record(1, () -> {
                try {
                    p.addCpu(Cpus.count() + 5, CpuMaskType.PARALLEL);
                } catch (IllegalArgumentException expected) {
                    // -EINVAL: what the event must show
                }
            });
            assertEquals(-Errno.EINVAL, events.get(0).getInt("result"));
            assertEquals(events.get(0).getString("oldParallel"), events.get(0).getString("newParallel"));
        }
    }

    @Test
    void hotplugIsRecordedForEveryInstanceItChanges() throws Exception {
        assumeTrue(CpuMask.active().weight() >= 2, "needs two active CPUs");
        int cpu = CpuMask.active().toArray()[1];
        try (Workqueue wq = Workqueue.create("jfr-hotplug"); Padata a = Padata.allocPossible(wq);
             Padata b = Padata.alloc(wq, CpuMask.of(cpu), CpuMask.of(cpu))) {
            List<RecordedEvent> events = record(2, () -> {
                Cpus.down(cpu);
                Cpus.up(cpu);
            });
            List<RecordedEvent> down = events.stream().filter(e -> e.getString("trigger").equals("Cpus.down(" + cpu + ")")).toList();
            // b's masks hold only the CPU taken down: unusable (empty) until it comes back.
            assertTrue(down.stream().anyMatch(e -> e.getString("instance").equals(FlightRecorderEvents.name(a))
                    && !e.getString("newParallel").contains(Integer.toString(cpu)) ), events.toString());
            assertTrue(down.stream().anyMatch(e -> e.getString("instance").equals(FlightRecorderEvents.name(b))
                    && e.getString("oldParallel").equals(Integer.toString(cpu)) && e.getString("newParallel").isEmpty()), events.toString());
        }
    }
}
