/* SPDX-License-Identifier: MIT */
package dev.padata;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs in the surefire fork with PADATA_NR_CPUS=8: hotplug and mask changes under load. */
@Tag("cpus8")
class VirtualTopologyTest {
    @BeforeAll
    static void eightVirtualCpus() {
        assumeTrue(Cpus.isVirtual() && Cpus.count() == 8, "needs PADATA_NR_CPUS=8, has " + Cpus.count() + " CPUs");
    }

    /** Submits jobs with cb_cpus over the usable serial mask until told to stop; checks per-CPU order. */
    private static final class Load implements Runnable {
        final Padata p;
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicLongArray last = new AtomicLongArray(8);
        final AtomicLong violations = new AtomicLong();
        final AtomicLong submitted = new AtomicLong();
        final AtomicLong served = new AtomicLong();
        final AtomicReference<Throwable> error = new AtomicReference<>();

        Load(Padata p) {
            this.p = p;
            for (int c = 0; c < 8; c++)
                last.set(c, -1);
        }

        @Override
        public void run() {
            try {
                for (long i = 0; !stop.get(); i++) {
                    long seq = i;
                    int cb = (int) (i % 8);
                    PadataJob job = PadataJob.of(() -> { }, () -> {
                        if (last.get(cb) >= seq || Cpus.current() != cb)
                            violations.incrementAndGet();
                        last.set(cb, seq);
                        served.incrementAndGet();
                    });
                    for (;;) {
                        try {
                            p.doParallel(job, cb);
                            submitted.incrementAndGet();
                            break;
                        } catch (PadataBusyException busy) {
                            Thread.onSpinWait();
                        } catch (IllegalArgumentException notUsableNow) {
                            break; // cb taken out of the serial mask: skip this number
                        }
                        if (stop.get())
                            return;
                    }
                }
            } catch (Throwable t) {
                error.set(t);
            }
        }
    }

    @Test
    void cpuDownAndUpUnderLoadNeverLoseOrReorderAJob() throws Exception {
        try (Workqueue wq = Workqueue.create("hotplug"); Padata p = Padata.allocPossible(wq)) {
            List<String> heard = Collections.synchronizedList(new ArrayList<>());
            p.registerCpumaskNotifier((changed, pcpu, cbcpu) -> heard.add(pcpu.toString()));
            p.start();
            Load load = new Load(p);
            Thread t = Thread.ofPlatform().start(load);
            int rounds = TestSupport.scaled(20);
            for (int r = 0; r < rounds; r++) {
                int cpu = 1 + r % 7;
                Cpus.down(cpu);
                Thread.sleep(5);
                Cpus.up(cpu);
            }
            load.stop.set(true);
            t.join();
            p.stop();
            assertNull(load.error.get());
            assertEquals(0, load.violations.get());
            assertEquals(load.submitted.get(), load.served.get());
            assertEquals(2 * rounds, heard.size());
            assertEquals(CpuMask.range(0, 8), CpuMask.active());
        }
    }

    @Test
    void cpumaskChangesUnderLoadKeepTheOrder() throws Exception {
        try (Workqueue wq = Workqueue.create("masks"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            Load load = new Load(p);
            Thread t = Thread.ofPlatform().start(load);
            int rounds = TestSupport.scaled(30);
            for (int r = 0; r < rounds; r++) {
                switch (r % 4) {
                    case 0 -> p.setCpumask(CpuMaskType.PARALLEL, CpuMask.parse("0-2"));
                    case 1 -> p.removeCpu(5, CpuMaskType.SERIAL, CpuMaskType.PARALLEL);
                    case 2 -> p.addCpu(5, CpuMaskType.SERIAL, CpuMaskType.PARALLEL);
                    default -> p.setCpumasks(CpuMask.possible(), CpuMask.possible());
                }
                Thread.sleep(3);
            }
            load.stop.set(true);
            t.join();
            p.stop();
            assertNull(load.error.get());
            assertEquals(0, load.violations.get());
            assertEquals(load.submitted.get(), load.served.get());
        }
    }

    @Test
    void theLastActiveCpuCannotGoDownAndOthersComeBack() {
        for (int c = 1; c < 8; c++)
            Cpus.down(c);
        try {
            assertEquals(CpuMask.of(0), CpuMask.active());
            assertThrows(PadataBusyException.class, () -> Cpus.down(0));
            assertThrows(IllegalArgumentException.class, () -> Cpus.down(8));
        } finally {
            for (int c = 1; c < 8; c++)
                Cpus.up(c);
        }
        assertEquals(CpuMask.range(0, 8), CpuMask.active());
    }

    private static final MethodHandle SCHED_GETCPU = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("sched_getcpu").orElseThrow(), FunctionDescriptor.of(JAVA_INT));

    /** The real CPU the calling thread runs on now (glibc's sched_getcpu). */
    private static int realCpu() {
        try {
            return (int) SCHED_GETCPU.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The real CPUs libpadata maps onto: the online ones in this process's affinity, ascending. */
    private static int[] hostCpus() throws Exception {
        String allowed = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Cpus_allowed_list:")).findFirst().orElseThrow()
                .substring("Cpus_allowed_list:".length()).strip();
        CpuMask online = CpuMask.parse(Files.readString(Path.of("/sys/devices/system/cpu/online")).strip());
        return CpuMask.parse(allowed).and(online).toArray();
    }

    @Test
    void virtualCpuCRunsOnRealCpuCModuloTheHostCount() throws Exception {
        int[] host = hostCpus();
        int n = host.length;
        assertEquals(n, Cpus.hostCount());
        for (int c = 0; c < 8; c++)
            assertEquals(host[c % n], Cpus.hostCpu(c), "the real CPU of virtual CPU " + c);
        // And the workers really run there: every callback checks where it is, from the inside.
        List<String> wrong = Collections.synchronizedList(new ArrayList<>());
        AtomicLong checked = new AtomicLong();
        try (Workqueue wq = Workqueue.create("pinning"); Padata p = Padata.allocPossible(wq)) {
            p.start();
            Runnable check = () -> {
                int virtual = Cpus.current();
                int real = realCpu();
                if (virtual < 0 || real != host[virtual % n])
                    wrong.add("virtual CPU " + virtual + " ran on real CPU " + real);
                checked.incrementAndGet();
            };
            int rounds = TestSupport.scaled(50);
            for (int r = 0; r < rounds; r++)
                for (int c = 0; c < 8; c++)
                    TestSupport.submit(p, PadataJob.of(check, check), c);
            p.stop();
            assertEquals(2L * rounds * 8, checked.get());
        }
        assertEquals(List.of(), wrong);
    }
}
