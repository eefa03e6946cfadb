/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuMaskTest {
    @Test
    void ofHoldsExactlyTheGivenCpus() {
        CpuMask m = CpuMask.of(0, 2, 2, 1023);
        assertEquals(3, m.weight());
        assertTrue(m.contains(0) && m.contains(2) && m.contains(1023));
        assertFalse(m.contains(1));
        assertArrayEquals(new int[] {0, 2, 1023}, m.toArray());
    }

    @Test
    void containsAnswersFalseForAnyOutOfRangeInt() {
        CpuMask m = CpuMask.range(0, CpuMask.NR_CPUS);
        assertFalse(m.contains(-1));
        assertFalse(m.contains(CpuMask.NR_CPUS));
        assertFalse(m.contains(Integer.MIN_VALUE));
        assertFalse(m.contains(Integer.MAX_VALUE));
    }

    @Test
    void ofRejectsANegativeCpuNamingIt() {
        var e = assertThrows(IllegalArgumentException.class, () -> CpuMask.of(1, -1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
    }

    @Test
    void ofRejectsACpuBeyondNrCpusNamingIt() {
        var e = assertThrows(IllegalArgumentException.class, () -> CpuMask.of(1024));
        assertTrue(e.getMessage().contains("1024"), e.getMessage());
    }

    @Test
    void ofRejectsNull() {
        assertThrows(NullPointerException.class, () -> CpuMask.of((int[]) null));
    }

    @Test
    void rangeRejectsABackwardsOrOutOfBoundsRange() {
        assertThrows(IllegalArgumentException.class, () -> CpuMask.range(3, 2));
        assertThrows(IllegalArgumentException.class, () -> CpuMask.range(-1, 2));
        assertThrows(IllegalArgumentException.class, () -> CpuMask.range(0, 1025));
    }

    @Test
    void parseReadsTheCpulistFormat() {
        assertEquals(CpuMask.of(0, 1, 2, 3, 6), CpuMask.parse("0-3,6"));
        assertEquals(CpuMask.empty(), CpuMask.parse(""));
        assertEquals(CpuMask.of(5), CpuMask.parse(" 5 \n"));
    }

    @Test
    void parseRejectsBadSyntaxQuotingTheInput() {
        for (String bad : new String[] {"x", "3-1", "1,,2", "-2", "1-"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> CpuMask.parse(bad), bad);
            assertTrue(e.getMessage().contains("\"" + bad + "\""), e.getMessage());
        }
    }

    @Test
    void parseRejectsACpuBeyondNrCpus() {
        var e = assertThrows(IllegalArgumentException.class, () -> CpuMask.parse("0,4096"));
        assertTrue(e.getMessage().contains("4096") && e.getMessage().contains("1024"), e.getMessage());
    }

    @Test
    void parseRejectsNull() {
        assertThrows(NullPointerException.class, () -> CpuMask.parse(null));
    }

    @Test
    void toStringIsTheCpulistAndAgreesWithTheCLibrary() {
        for (String list : new String[] {"", "0", "0-3,6", "1,3,5-7,1000-1023", "0-1023"}) {
            CpuMask m = CpuMask.parse(list);
            assertEquals(list, m.toString());
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(8192);
                int n = PadataNative.cpulistScnprintf(buf, 8192, m.toNative(arena));
                assertEquals(list, buf.getString(0));
                assertEquals(list.length(), n);
            }
        }
    }

    @Test
    void setOperationsReturnNewMasksAndLeaveTheOriginal() {
        CpuMask a = CpuMask.parse("0-3");
        CpuMask b = CpuMask.parse("2-5");
        assertEquals(CpuMask.parse("2-3"), a.and(b));
        assertEquals(CpuMask.parse("0-5"), a.or(b));
        assertEquals(CpuMask.parse("0-1"), a.andNot(b));
        assertEquals(CpuMask.parse("0-3,9"), a.with(9));
        assertEquals(CpuMask.parse("0,2-3"), a.without(1));
        assertEquals(CpuMask.parse("0-3"), a);
        assertThrows(IllegalArgumentException.class, () -> a.with(-5));
        assertThrows(IllegalArgumentException.class, () -> a.without(2000));
    }

    @Test
    void firstAndNextWalkTheMask() {
        CpuMask m = CpuMask.of(3, 64, 700);
        assertEquals(3, m.first());
        assertEquals(64, m.next(4));
        assertEquals(700, m.next(65));
        assertEquals(-1, m.next(701));
        assertEquals(-1, CpuMask.empty().first());
        assertTrue(CpuMask.empty().isEmpty());
    }

    @Test
    void equalMasksHaveEqualHashes() {
        assertEquals(CpuMask.of(1, 2).hashCode(), CpuMask.parse("1-2").hashCode());
        assertNotEquals(CpuMask.of(1), CpuMask.of(2));
    }

    @Test
    void systemMasksDescribeThisProcess() {
        CpuMask possible = CpuMask.possible();
        assertEquals(Cpus.count(), possible.weight());
        assertEquals(CpuMask.range(0, Cpus.count()), possible);
        assertEquals(possible, possible.or(CpuMask.online()));
        assertEquals(CpuMask.active(), CpuMask.active().and(CpuMask.online()));
        assertFalse(CpuMask.active().isEmpty());
    }
}
