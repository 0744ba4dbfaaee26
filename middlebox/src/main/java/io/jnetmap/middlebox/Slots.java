package io.jnetmap.middlebox;

import io.jnetmap.core.Ring;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.Slot;
import io.jnetmap.core.SlotCorruptedException;
import io.jnetmap.core.SlotLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A slot's first 8 bytes ({@link SlotLayout}: buffer index, length, flags) as one little-endian word,
 * for the middleboxes' per-packet loops: one read gives what {@link Ring#bufIdx}, {@link Ring#len} and
 * {@link Ring#flags} give in three checked accesses, one write sets them all. Buffer indices are checked
 * against the region as {@link Ring#bufOffset} checks them (a slot is shared memory: never trusted).
 */
final class Slots {
    static final long BUF_IDX = 0xffff_ffffL;
    static final long BUF_CHANGED = (long) Slot.NS_BUF_CHANGED << 48;

    static {
        if (SlotLayout.BUF_IDX_OFFSET != 0 || SlotLayout.LEN_OFFSET != 4 || SlotLayout.FLAGS_OFFSET != 6
                || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new ExceptionInInitializerError("slot layout changed: Slots reads bufIdx/len/flags as one word");
        }
    }

    private Slots() {
    }

    /** Offset of slot {@code i} of {@code r} in the region. */
    static long at(Ring r, int i) {
        return SlotLayout.offset(r.offset() + RingLayout.SLOTS_OFFSET, Objects.checkIndex(i, r.numSlots()));
    }

    static long word(MemorySegment m, long slot) {
        return m.get(ValueLayout.JAVA_LONG, slot);
    }

    static void setWord(MemorySegment m, long slot, long word) {
        m.set(ValueLayout.JAVA_LONG, slot, word);
    }

    static int len(long word) {
        return (int) (word >>> 32) & 0xffff;
    }

    /** A word with buffer {@code bufIdx}'s index (low 32 bits of it), length {@code len} and flags {@code flags} (as a word's high 16 bits). */
    static long make(long bufIdx, int len, long flags) {
        return bufIdx & BUF_IDX | (long) len << 32 | flags;
    }

    /** Offset of the buffer the word names, checked as {@link Ring#bufOffset} checks it. */
    static long bufOffset(Ring r, long word) {
        int idx = (int) word;
        if (Integer.compareUnsigned(idx, r.region().numBufs()) >= 0) {
            throw new SlotCorruptedException(r + ": a slot holds bufIdx=" + Integer.toUnsignedString(idx) + " (expected: 0.."
                    + (r.region().numBufs() - 1) + "): the ring's shared memory was overwritten");
        }
        return r.region().bufOffset(idx);
    }
}
