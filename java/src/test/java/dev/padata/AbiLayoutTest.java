/* SPDX-License-Identifier: MIT */
package dev.padata;

import dev.padata.internal.PadataNative;
import org.junit.jupiter.api.Test;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AbiLayoutTest {
    private static void assertMatchesC(GroupLayout layout) {
        String struct = "struct " + layout.name().orElseThrow();
        assertEquals(PadataNative.abiQuery("sizeof(" + struct + ")"), layout.byteSize(), "sizeof(" + struct + ")");
        int fields = 0;
        for (MemoryLayout member : layout.memberLayouts()) {
            if (member instanceof PaddingLayout)
                continue;
            String field = member.name().orElseThrow();
            String query = "offsetof(" + struct + ", " + field + ")";
            assertEquals(PadataNative.abiQuery(query), layout.byteOffset(groupElement(field)), query);
            fields++;
        }
        assertTrue(fields > 0);
    }

    @Test
    void padataPrivMatchesTheCompilersLayout() {
        assertMatchesC(PadataNative.PADATA_PRIV);
    }

    @Test
    void workStructMatchesTheCompilersLayout() {
        assertMatchesC(PadataNative.WORK_STRUCT);
    }

    @Test
    void notifierBlockMatchesTheCompilersLayout() {
        assertMatchesC(PadataNative.NOTIFIER_BLOCK);
    }

    @Test
    void cpumaskMatchesTheCompilersLayout() {
        assertMatchesC(PadataNative.CPUMASK);
    }

    @Test
    void padataCpumaskMatchesTheCompilersLayout() {
        assertMatchesC(PadataNative.PADATA_CPUMASK);
    }

    @Test
    void padataStatsMatchesTheCompilersLayout() {
        assertMatchesC(PadataNative.PADATA_STATS);
    }

    @Test
    void padataMtJobMatchesTheCompilersLayout() {
        assertMatchesC(PadataNative.PADATA_MT_JOB);
    }

    @Test
    void everyPublicLayoutIsChecked() {
        for (GroupLayout l : PadataNative.publicLayouts())
            assertMatchesC(l);
    }

    @Test
    void aJobNodeIsOneCacheLineWithTheTagAfterThePriv() {
        assertEquals(PadataNative.JOB_NODE_STRIDE, PadataNative.JOB_NODE.byteSize());
        assertEquals(PadataNative.PADATA_PRIV.byteSize(), PadataNative.JOB_NODE.byteOffset(groupElement("tag")));
    }

    /**
     * The constants the Java side repeats as compile-time constants (array sizes, defaults,
     * mask bits) are the values libpadata.so was compiled with: a change to one of the C
     * headers fails here instead of silently disagreeing.
     */
    @Test
    void constantsRepeatedInJavaMatchTheC() {
        assertEquals(PadataNative.abiQuery("NR_CPUS"), PadataNative.NR_CPUS, "PadataNative.NR_CPUS");
        assertEquals(PadataNative.abiQuery("NR_CPUS"), CpuMask.NR_CPUS, "CpuMask.NR_CPUS");
        assertEquals(PadataNative.abiQuery("MAX_OBJ_NUM"), Padata.DEFAULT_MAX_INFLIGHT, "Padata.DEFAULT_MAX_INFLIGHT");
        assertEquals(PadataNative.abiQuery("PADATA_MAX_INFLIGHT_LIMIT"), Padata.MAX_INFLIGHT_LIMIT,
                "Padata.MAX_INFLIGHT_LIMIT");
        assertEquals(PadataNative.abiQuery("PADATA_BATCH_MAX"), Padata.BATCH_MAX, "Padata.BATCH_MAX");
        assertEquals(PadataNative.abiQuery("PADATA_BATCH_CLAIMING"), PadataNative.BATCH_CLAIMING,
                "PadataNative.BATCH_CLAIMING");
        assertEquals(PadataNative.abiQuery("PADATA_CPU_SERIAL"), CpuMaskType.SERIAL.bit, "CpuMaskType.SERIAL");
        assertEquals(PadataNative.abiQuery("PADATA_CPU_PARALLEL"), CpuMaskType.PARALLEL.bit, "CpuMaskType.PARALLEL");
    }

    @Test
    void unknownQueriesAnswerMinusOne() {
        assertEquals(-1, PadataNative.abiQuery("sizeof(struct no_such_thing)"));
        assertEquals(-1, PadataNative.abiQuery(""));
    }
}
