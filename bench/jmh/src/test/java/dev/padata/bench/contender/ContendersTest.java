/* SPDX-License-Identifier: MIT */
package dev.padata.bench.contender;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContendersTest {
    @Test
    void listsEveryContenderOnceSingleThreadedFirst() {
        List<String> names = Contenders.names();
        assertEquals("java-single", names.get(0));
        assertEquals(names.size(), names.stream().distinct().count());
        assertEquals(10, names.size());
    }

    @Test
    void anUnknownNameIsRejectedWithTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Contenders.create("java-nope", Contender.Config.of(0, 10, 1)));
        assertTrue(e.getMessage().contains("java-nope") && e.getMessage().contains("java-pool"), e.getMessage());
    }

    @Test
    void configRejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> Contender.Config.of(-1, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> Contender.Config.of(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Contender.Config.of(0, 10, 0));
    }
}
