package io.jnetmap.middlebox;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.function.LongConsumer;

/** Test frames: Ethernet + IPv4 + UDP, 60 bytes, a 64-bit tag at offset 42 (where pkt-gen keeps its sequence). */
final class Frames {
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final int LEN = 60;
    static final int TAG = 42;

    private Frames() {
    }

    static void udp(MemorySegment m, long off, int srcIp, int dstIp, int sport, int dport, long tag) {
        m.asSlice(off, LEN).fill((byte) 0);
        m.set(U32, off, 0x02000000);
        m.set(U16, off + 4, (short) 2);
        m.set(U32, off + 6, 0x02000000);
        m.set(U16, off + 10, (short) 1);
        m.set(U16, off + 12, (short) 0x0800);
        m.set(ValueLayout.JAVA_BYTE, off + 14, (byte) 0x45);
        m.set(U16, off + 16, (short) (LEN - 14));
        m.set(ValueLayout.JAVA_BYTE, off + 22, (byte) 64);
        m.set(ValueLayout.JAVA_BYTE, off + 23, (byte) 17);
        m.set(U32, off + 26, srcIp);
        m.set(U32, off + 30, dstIp);
        m.set(U16, off + 34, (short) sport);
        m.set(U16, off + 36, (short) dport);
        m.set(U16, off + 38, (short) (LEN - 34));
        m.set(U64, off + TAG, tag);
    }

    static long tag(MemorySegment m, long off) {
        return m.get(U64, off + TAG);
    }

    /** A writer of frames into TX ring 0 of {@code port}: blocks (spinning on txsync) while the ring is full. */
    interface FrameWriter {
        void write(MemorySegment m, long off, long i);
    }

    static void send(Port port, long count, FrameWriter w) {
        Ring t = port.txRing(0);
        long i = 0;
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (i < count) {
            int room = t.space();
            if (room == 0) {
                t.sync();
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("sender stuck at " + i + " of " + count);
                }
                Thread.onSpinWait();
                continue;
            }
            int j = t.head();
            int n = (int) Math.min(room, count - i);
            for (int k = 0; k < n; k++) {
                w.write(t.memory(), t.bufOffset(j), i++);
                t.setLen(j, LEN);
                j = t.nextSlot(j);
            }
            t.advanceTo(j);
            t.sync();
        }
    }

    /** Drains RX ring 0 of {@code port}, giving every packet's tag to {@code each}; returns how many. */
    static int drain(Port port, LongConsumer each) {
        Ring r = port.rxRing(0);
        r.sync();
        int n = 0;
        for (int j = r.head(); j != r.tail(); j = r.nextSlot(j)) {
            each.accept(tag(r.memory(), r.bufOffset(j)));
            n++;
        }
        r.advanceTo(r.tail());
        r.sync();
        return n;
    }
}
