/* SPDX-License-Identifier: MIT */
package dev.padata.internal;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.LongBinaryOperator;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The parallel batch trampoline's claim ({@link PadataNative#claimBatchJob}) against libpadata's
 * {@code padata_batch_claim} on the same memory: a run of three job nodes linked through
 * {@code priv.next} and a takeable slot, claimed in order, then a taken (NULL) slot, and a node
 * that is not the next one (refused, the slot untouched).
 */
class BatchClaimTest {
    private static final long NODE = PadataNative.JOB_NODE_STRIDE;

    /** Runs the claim sequence with {@code claim} (1 mine, 0 taken; -22 or a throw for a wrong node). */
    private static void sequence(String who, LongBinaryOperator claim, boolean javaThrows) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment nodes = arena.allocate(3 * NODE, NODE);
            MemorySegment slot = arena.allocate(JAVA_LONG);
            long a = nodes.address(), b = a + NODE, c = b + NODE;
            long next = PadataNative.JOB_NODE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("priv"));
            nodes.set(JAVA_LONG, next, b); // a->next = b (next is priv's first field)
            nodes.set(JAVA_LONG, NODE + next, c); // b->next = c
            nodes.set(JAVA_LONG, 2 * NODE + next, 0L); // c->next = NULL
            // The worker has started a; b and c are takeable.
            slot.set(JAVA_LONG, 0, b);
            if (javaThrows)
                assertThrows(IllegalStateException.class, () -> claim.applyAsLong(slot.address(), c), who);
            else
                assertEquals(-22, claim.applyAsLong(slot.address(), c), who + ": c is not the next one");
            assertEquals(b, slot.get(JAVA_LONG, 0), who + ": a refused claim takes nothing");
            assertEquals(1, claim.applyAsLong(slot.address(), b), who + ": b");
            assertEquals(c, slot.get(JAVA_LONG, 0), who + ": c stays takeable");
            assertEquals(1, claim.applyAsLong(slot.address(), c), who + ": c");
            assertEquals(0, slot.get(JAVA_LONG, 0), who + ": nothing after c");
            // An idle worker took the rest (exchanged the slot with NULL): the next claim fails.
            slot.set(JAVA_LONG, 0, 0L);
            assertEquals(0, claim.applyAsLong(slot.address(), c), who + ": taken");
            assertEquals(0, slot.get(JAVA_LONG, 0), who + ": a failed claim leaves no PADATA_BATCH_CLAIMING behind");
        }
    }

    @Test
    void theTrampolinesClaimDoesWhatPadataBatchClaimDoes() {
        assumeTrue(NativeLibrary.available(), "libpadata not loaded");
        sequence("padata_batch_claim", PadataNative::batchClaim, false);
        sequence("claimBatchJob", (slot, node) -> PadataNative.claimBatchJob(slot, node) ? 1 : 0, true);
    }

    @Test
    void theTrampolinesClaimRefusesWhatIsNoJobAndTakesNothing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(JAVA_LONG);
            slot.set(JAVA_LONG, 0, 0L);
            assertThrows(IllegalStateException.class, () -> PadataNative.claimBatchJob(slot.address(), 0L));
            assertThrows(IllegalStateException.class,
                    () -> PadataNative.claimBatchJob(slot.address(), PadataNative.BATCH_CLAIMING));
            assertEquals(0, slot.get(JAVA_LONG, 0), "the slot is untouched");
        }
    }

    @Test
    void padataBatchClaimRefusesNullArguments() {
        assumeTrue(NativeLibrary.available(), "libpadata not loaded");
        assertEquals(-22, PadataNative.batchClaim(0L, 64L));
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(-22, PadataNative.batchClaim(arena.allocate(JAVA_LONG).address(), 0L));
        }
    }
}
