package io.jnetmap.core.nic;

import io.jnetmap.core.Ring;

import java.lang.foreign.MemorySegment;
import java.util.HexFormat;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * Ethernet frames for tests: a header, an experimental ethertype ({@link #ETHERTYPE}, which receiving
 * stacks drop right away) and a sequence number with its complement, so a receiver can tell test
 * frames from anything else and check order.
 */
public final class Frames {
    /** IEEE local experimental ethertype 1. */
    public static final int ETHERTYPE = 0x88b5;
    /** Where the sequence number sits (after the 14-byte header and 2 bytes of padding). */
    public static final int SEQ_OFFSET = 16;

    private Frames() {
    }

    /** "02:6a:00:00:01:02" as 6 bytes. */
    public static byte[] mac(String text) {
        return HexFormat.ofDelimiter(":").parseHex(text);
    }

    /** Writes a {@code len}-byte test frame with sequence number {@code seq} into the slot and sets its length. */
    public static void write(Ring ring, int slot, byte[] dst, byte[] src, long seq, int len) {
        MemorySegment m = ring.memory();
        long off = ring.bufOffset(slot);
        MemorySegment.copy(dst, 0, m, JAVA_BYTE, off, 6);
        MemorySegment.copy(src, 0, m, JAVA_BYTE, off + 6, 6);
        m.set(JAVA_SHORT_UNALIGNED, off + 12, Short.reverseBytes((short) ETHERTYPE));
        m.set(JAVA_SHORT_UNALIGNED, off + 14, (short) 0);
        m.set(JAVA_LONG_UNALIGNED, off + SEQ_OFFSET, seq);
        m.set(JAVA_LONG_UNALIGNED, off + SEQ_OFFSET + 8, ~seq);
        for (int i = SEQ_OFFSET + 16; i + 4 <= len; i += 4) {
            m.set(JAVA_INT_UNALIGNED, off + i, 0x5a5a5a5a);
        }
        ring.setSlot(slot, len, 0);
    }

    /** The sequence number of a test frame in the slot, or -1 if it holds something else. */
    public static long seq(Ring ring, int slot) {
        if (ring.len(slot) < SEQ_OFFSET + 16) {
            return -1;
        }
        MemorySegment m = ring.memory();
        long off = ring.bufOffset(slot);
        if (Short.reverseBytes(m.get(JAVA_SHORT_UNALIGNED, off + 12)) != (short) ETHERTYPE) {
            return -1;
        }
        long seq = m.get(JAVA_LONG_UNALIGNED, off + SEQ_OFFSET);
        return m.get(JAVA_LONG_UNALIGNED, off + SEQ_OFFSET + 8) == ~seq ? seq : -1;
    }
}
