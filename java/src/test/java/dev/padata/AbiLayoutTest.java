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
    void everyPublicLayoutIsChecked() {
        for (GroupLayout l : PadataNative.publicLayouts())
            assertMatchesC(l);
    }

    @Test
    void aJobNodeIsOneCacheLineWithTheTagAfterThePriv() {
        assertEquals(PadataNative.JOB_NODE_STRIDE, PadataNative.JOB_NODE.byteSize());
        assertEquals(PadataNative.PADATA_PRIV.byteSize(), PadataNative.JOB_NODE.byteOffset(groupElement("tag")));
    }

    @Test
    void unknownQueriesAnswerMinusOne() {
        assertEquals(-1, PadataNative.abiQuery("sizeof(struct no_such_thing)"));
        assertEquals(-1, PadataNative.abiQuery(""));
    }
}
