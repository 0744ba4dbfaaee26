package io.jnetmap.core;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RingIndex}, {@link SlotLayout#offset} and {@link SlotWord} against the arithmetic written out. */
class SlotVocabularyTest {

    @Test
    void ringIndexAgreesWithModuloArithmetic() {
        for (int n : new int[] {2, 3, 7, 8, 31}) {
            for (int i = 0; i < n; i++) {
                assertEquals((i + 1) % n, RingIndex.next(i, n));
                assertEquals((i + n - 1) % n, RingIndex.prev(i, n));
                for (int k = 0; k <= n; k++) {
                    assertEquals((i + k) % n, RingIndex.advance(i, k, n));
                }
                for (int j = 0; j < n; j++) {
                    assertEquals(Math.floorMod(j - i, n), RingIndex.distance(i, j, n));
                    for (int x = -1; x <= n; x++) {
                        boolean expected = x >= 0 && x < n && Math.floorMod(x - i, n) <= Math.floorMod(j - i, n);
                        assertEquals(expected, RingIndex.within(i, x, j, n), "within(" + i + ", " + x + ", " + j + ", " + n + ")");
                    }
                }
            }
        }
    }

    @Test
    void slotWordDecodesWhatTheFieldsHold() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(4 * SlotLayout.SIZE, 8);
            long s = SlotLayout.offset(0, 3);
            assertEquals(3L * SlotLayout.SIZE, s);
            m.set(JAVA_INT, s + SlotLayout.BUF_IDX_OFFSET, 0xfedc_ba98);
            m.set(JAVA_SHORT, s + SlotLayout.LEN_OFFSET, (short) 1514);
            m.set(JAVA_SHORT, s + SlotLayout.FLAGS_OFFSET, (short) (Slot.NS_MOREFRAG | 0x8000));
            long w = m.get(JAVA_LONG_UNALIGNED, s);
            assertEquals(0xfedc_ba98, SlotWord.bufIdx(w));
            assertEquals(1514, SlotWord.len(w));
            assertEquals(Slot.NS_MOREFRAG | 0x8000, SlotWord.flags(w));
            assertEquals(w, SlotWord.of(0xfedc_ba98, 1514, Slot.NS_MOREFRAG | 0x8000));
            assertTrue((w & SlotWord.flagBits(Slot.NS_MOREFRAG)) != 0);
            assertFalse((w & SlotWord.flagBits(Slot.NS_BUF_CHANGED)) != 0);

            long changed = SlotWord.withBufIdx(w | SlotWord.flagBits(Slot.NS_BUF_CHANGED), 7);
            m.set(JAVA_LONG_UNALIGNED, s, changed);
            assertEquals(7, m.get(JAVA_INT, s + SlotLayout.BUF_IDX_OFFSET));
            assertEquals(1514, Short.toUnsignedInt(m.get(JAVA_SHORT, s + SlotLayout.LEN_OFFSET)));
            assertEquals(Slot.NS_MOREFRAG | Slot.NS_BUF_CHANGED | 0x8000,
                    Short.toUnsignedInt(m.get(JAVA_SHORT, s + SlotLayout.FLAGS_OFFSET)));
            assertEquals(SlotWord.bufIdx(SlotWord.BUF_IDX_MASK), -1);
            assertEquals(0, SlotWord.len(SlotWord.BUF_IDX_MASK) | SlotWord.flags(SlotWord.BUF_IDX_MASK));

            m.set(JAVA_INT, s + SlotLayout.LEN_OFFSET, SlotWord.lenFlags(60, Slot.NS_REPORT));
            assertEquals(60, Short.toUnsignedInt(m.get(JAVA_SHORT, s + SlotLayout.LEN_OFFSET)));
            assertEquals(Slot.NS_REPORT, Short.toUnsignedInt(m.get(JAVA_SHORT, s + SlotLayout.FLAGS_OFFSET)));
        }
    }
}
