/* SPDX-License-Identifier: MIT */
package dev.padata.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrderCheckTest {
    private static final int N = 10;
    private static final int W = 17;
    private static final Work.Digest REF = Work.reference(N, W);

    private static void feed(OrderCheck c, int... order) {
        for (int i : order) {
            c.accept(i, Work.work(Work.seed(i), W));
        }
    }

    @Test
    void acceptsABatchInOrder() {
        OrderCheck c = new OrderCheck("t");
        feed(c, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertDoesNotThrow(() -> c.verify(N, W, REF));
        assertEquals(N, c.count());
    }

    @Test
    void lanesMayInterleaveButEachStaysInOrder() {
        OrderCheck c = new OrderCheck("t", 3);
        feed(c, 1, 2, 0, 3, 5, 4, 7, 6, 8, 9);
        assertDoesNotThrow(() -> c.verify(N, W, REF));
    }

    @Test
    void rejectsAJobOutOfOrderNamingIt() {
        OrderCheck c = new OrderCheck("contender-x");
        feed(c, 0, 1, 3, 2, 4, 5, 6, 7, 8, 9);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.verify(N, W, REF));
        assertTrue(e.getMessage().contains("contender-x"), e.getMessage());
        assertTrue(e.getMessage().contains("first bad job 3"), e.getMessage());
    }

    @Test
    void rejectsAMissingJob() {
        OrderCheck c = new OrderCheck("t");
        feed(c, 0, 1, 2, 3, 4, 5, 6, 7, 8);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.verify(N, W, REF));
        assertTrue(e.getMessage().contains("9 jobs reached the serial stage, expected 10"), e.getMessage());
    }

    @Test
    void rejectsAWrongDigest() {
        OrderCheck c = new OrderCheck("t");
        feed(c, 0, 1, 2, 3, 4, 5, 6, 7, 8);
        c.accept(9, 42);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.verify(N, W, REF));
        assertTrue(e.getMessage().contains("reference"), e.getMessage());
    }

    @Test
    void resetForgetsThePreviousBatch() {
        OrderCheck c = new OrderCheck("t", 2);
        feed(c, 0, 2, 1);
        c.reset();
        assertEquals(0, c.count());
        feed(c, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertDoesNotThrow(() -> c.verify(N, W, REF));
    }

    @Test
    void rejectsZeroLanes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new OrderCheck("t", 0));
        assertTrue(e.getMessage().contains("0"), e.getMessage());
    }
}
