package io.jnetmap.vale;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Test frames: Ethernet headers and IPv4 packets written into buffers. */
final class Frames {
    static final long BROADCAST = 0xffffffffffffL;
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Frames() {
    }

    /** Writes destination, source and EtherType at {@code off}. */
    static void ethernet(MemorySegment m, long off, long dst, long src, int type) {
        Packet.writeMac(m, off, dst);
        Packet.writeMac(m, off + 6, src);
        m.set(U16, off + 12, (short) type);
    }
}
