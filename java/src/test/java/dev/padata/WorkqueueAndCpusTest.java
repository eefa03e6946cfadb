/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.NativeLibrary;
import org.junit.jupiter.api.Test;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkqueueAndCpusTest {
    @Test
    void createRejectsAnEmptyNameOrOneWithNul() {
        assertThrows(IllegalArgumentException.class, () -> Workqueue.create(""));
        var e = assertThrows(IllegalArgumentException.class, () -> Workqueue.create("a\0b"));
        assertTrue(e.getMessage().contains("NUL"), e.getMessage());
        assertThrows(NullPointerException.class, () -> Workqueue.create(null));
    }

    @Test
    void aWorkqueueInUseCannotBeClosedAndDoubleCloseIsHarmless() {
        Workqueue wq = Workqueue.create("wqtest");
        Padata p = Padata.allocPossible(wq);
        var e = assertThrows(IllegalStateException.class, wq::close);
        assertTrue(e.getMessage().contains("wqtest") && e.getMessage().contains("1 padata"), e.getMessage());
        p.close();
        wq.flush();
        wq.close();
        wq.close();
        assertTrue(wq.isClosed());
        assertThrows(IllegalStateException.class, wq::flush);
        e = assertThrows(IllegalStateException.class, () -> Padata.allocPossible(wq));
        assertTrue(e.getMessage().contains("closed workqueue \"wqtest\""), e.getMessage());
    }

    @Test
    void cpuCountsDescribeTheTopology() {
        assertEquals(CpuMask.possible().weight(), Cpus.count());
        assertTrue(Cpus.hostCount() >= 1);
        for (int c = 0; c < Cpus.count(); c++)
            assertTrue(Cpus.hostCpu(c) >= 0);
        var e = assertThrows(IllegalArgumentException.class, () -> Cpus.hostCpu(Cpus.count()));
        assertTrue(e.getMessage().contains("CPU " + Cpus.count()), e.getMessage());
        assertEquals(-1, Cpus.current(), "the test thread is no padata worker");
        assertEquals(System.getenv("PADATA_NR_CPUS") != null, Cpus.isVirtual());
    }

    @Test
    void cpuDownAndUpRejectACpuThatDoesNotExistNamingIt() {
        for (int bad : new int[] {Cpus.count(), 4096}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Cpus.down(bad));
            assertTrue(e.getMessage().contains("cpu_down(" + bad + ")"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Cpus.up(bad));
            assertTrue(e.getMessage().contains("cpu_up(" + bad + ")"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Cpus.down(-1));
    }

    @Test
    void theLastActiveCpuCannotGoDown() {
        CpuMask before = CpuMask.active();
        int last = before.first();
        try {
            before.stream().filter(c -> c != last).forEach(Cpus::down);
            assertEquals(CpuMask.of(last), CpuMask.active());
            var e = assertThrows(PadataBusyException.class, () -> Cpus.down(last));
            assertTrue(e.getMessage().contains("CPU " + last), e.getMessage());
            Cpus.up(last); // already up: a no-op
            assertEquals(CpuMask.of(last), CpuMask.active());
        } finally {
            before.stream().forEach(Cpus::up);
        }
        assertEquals(before, CpuMask.active());
    }

    @Test
    void theModuleExportsOnlyItsApiPackage() {
        Path classes = Path.of(System.getProperty("padata.test.classes", "target/classes"));
        ModuleDescriptor d = ModuleFinder.of(classes).findAll().iterator().next().descriptor();
        assertEquals("dev.padata", d.name());
        assertEquals(Set.of("dev.padata"),
                d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()));
        assertTrue(d.packages().contains("dev.padata.internal"));
    }

    @Test
    void theBundledLibraryIsExtractedUnderAContentAddressedName() throws Exception {
        Path p = NativeLibrary.path();
        assertTrue(Files.isRegularFile(p), p.toString());
        if (System.getProperty(NativeLibrary.PATH_PROPERTY) == null) {
            assertTrue(p.getFileName().toString().matches("libpadata-[0-9a-f]{24}\\.so"), p.toString());
            byte[] bundled;
            try (var in = NativeLibrary.class.getResourceAsStream(
                    "/dev/padata/native/" + NativeLibrary.platform() + "/libpadata.so")) {
                bundled = in.readAllBytes();
            }
            assertEquals(bundled.length, Files.size(p));
        }
        assertFalse(NativeLibrary.nativeAccessFlag().isEmpty());
    }
}
