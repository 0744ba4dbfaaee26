package io.jnetmap.core.offload;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The virtio-net header ({@code struct virtio_net_hdr}, little-endian as on every modern virtio
 * device) that a port opened with {@code @vnet=10} or {@code @vnet=12} carries in front of each frame:
 *
 * <pre>
 *   flags u8@0        NEEDS_CSUM (1): the L4 checksum is still to be computed; DATA_VALID (2)
 *   gso_type u8@1     NONE 0, TCPV4 1, UDP 3 (UFO), TCPV6 4, UDP_L4 5; | ECN 0x80
 *   hdr_len u16@2     bytes of headers (Ethernet to L4) in a GSO frame
 *   gso_size u16@4    payload bytes per segment
 *   csum_start u16@6  where the checksummed range starts, from the frame's first byte
 *   csum_offset u16@8 where the result goes, from csum_start
 *   num_buffers u16@10  only in the 12-byte form (mergeable buffers); 0 here
 * </pre>
 */
public final class VnetHeader {
    public static final int LEN = 10;
    public static final int LEN_MRG = 12;
    public static final int F_NEEDS_CSUM = 1;
    public static final int F_DATA_VALID = 2;
    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    public static final int GSO_ECN = 0x80;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private VnetHeader() {
    }

    /** The header lengths a port may carry: 0 (none), 10, 12; anything else is an error. */
    public static int checkLength(int len, String what) {
        if (len != 0 && len != LEN && len != LEN_MRG) {
            throw new IllegalArgumentException(what + ": vnet=" + len + " (expected: 0, 10 or 12)");
        }
        return len;
    }

    public static int flags(MemorySegment m, long h) {
        return Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, h));
    }

    public static int gsoType(MemorySegment m, long h) {
        return Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, h + 1));
    }

    public static int hdrLen(MemorySegment m, long h) {
        return Short.toUnsignedInt(m.get(U16, h + 2));
    }

    public static int gsoSize(MemorySegment m, long h) {
        return Short.toUnsignedInt(m.get(U16, h + 4));
    }

    public static int csumStart(MemorySegment m, long h) {
        return Short.toUnsignedInt(m.get(U16, h + 6));
    }

    public static int csumOffset(MemorySegment m, long h) {
        return Short.toUnsignedInt(m.get(U16, h + 8));
    }

    /** Writes a header of {@code len} bytes (10 or 12) at {@code h}. */
    public static void set(MemorySegment m, long h, int len, int flags, int gsoType, int hdrLen, int gsoSize,
                           int csumStart, int csumOffset) {
        m.set(ValueLayout.JAVA_BYTE, h, (byte) flags);
        m.set(ValueLayout.JAVA_BYTE, h + 1, (byte) gsoType);
        m.set(U16, h + 2, (short) hdrLen);
        m.set(U16, h + 4, (short) gsoSize);
        m.set(U16, h + 6, (short) csumStart);
        m.set(U16, h + 8, (short) csumOffset);
        if (len == LEN_MRG) {
            m.set(U16, h + 10, (short) 0);
        }
    }

    /**
     * The names a forwarder between ports {@code a} and {@code b} should open so that offload state
     * travels end to end: both get {@code @vnet=12} when both are NIC ports ({@code netmap:IF},
     * {@code netmap:IF-N}) and neither names a {@code @vnet} of its own; otherwise they stay as given
     * (the ports then carry plain frames, completed and segmented where they enter).
     */
    public static String[] endToEnd(String a, String b) {
        if (plainNic(a) && plainNic(b)) {
            return new String[] {a + "@vnet=" + LEN_MRG, b + "@vnet=" + LEN_MRG};
        }
        return new String[] {a, b};
    }

    private static boolean plainNic(String name) {
        io.jnetmap.core.PortName pn = io.jnetmap.core.PortName.parse(name);
        return pn.kind().equals("netmap") && pn.option("vnet") == null
                && (pn.mode() == io.jnetmap.core.PortName.Mode.ALL_NIC || pn.mode() == io.jnetmap.core.PortName.Mode.ONE_NIC);
    }

    /** A header that asks for nothing (plain frame). */
    public static void clear(MemorySegment m, long h, int len) {
        m.asSlice(h, len).fill((byte) 0);
    }

    /** True if a frame with this header still needs work before it can leave as plain frames. */
    public static boolean pending(MemorySegment m, long h) {
        return (flags(m, h) & F_NEEDS_CSUM) != 0 || (gsoType(m, h) & ~GSO_ECN) != GSO_NONE;
    }
}
