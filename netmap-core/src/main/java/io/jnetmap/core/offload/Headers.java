package io.jnetmap.core.offload;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.jnetmap.core.offload.Checksums.BE16;

/**
 * Where the IP and L4 headers of an Ethernet frame are: a reusable parse result (one per thread), so
 * that parsing allocates nothing. Offsets are from the frame's first byte.
 */
public final class Headers {
    public static final int TCP = 6;
    public static final int UDP = 17;
    private static final int ETH_HLEN = 14;

    /** Offset of the IP header. */
    public int l3;
    /** Offset of the L4 header. */
    public int l4;
    /** End of the IP datagram (the frame may carry padding after it). */
    public int l3End;
    /** L4 protocol number. */
    public int proto;
    public boolean v6;
    /** An IPv4 fragment (or IPv6 with a fragment header): no L4 checksum to complete. */
    public boolean fragment;

    /** Parses {@code len} bytes at {@code frame}; false if it is not IPv4/IPv6 or is cut short. */
    public boolean parse(MemorySegment m, long frame, int len) {
        int off = ETH_HLEN;
        if (len < off) {
            return false;
        }
        int type = Short.toUnsignedInt(m.get(BE16, frame + 12));
        for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++) {
            if (len < off + 4) {
                return false;
            }
            type = Short.toUnsignedInt(m.get(BE16, frame + off + 2));
            off += 4;
        }
        l3 = off;
        fragment = false;
        if (type == 0x0800) {
            if (len < off + 20) {
                return false;
            }
            int vihl = Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, frame + off));
            int ihl = (vihl & 15) * 4;
            int total = Short.toUnsignedInt(m.get(BE16, frame + off + 2));
            if ((vihl >> 4) != 4 || ihl < 20 || total < ihl || off + total > len) {
                return false;
            }
            v6 = false;
            proto = Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, frame + off + 9));
            fragment = (Short.toUnsignedInt(m.get(BE16, frame + off + 6)) & 0x3fff) != 0;
            l4 = off + ihl;
            l3End = off + total;
            return true;
        }
        if (type == 0x86dd) {
            if (len < off + 40) {
                return false;
            }
            int payload = Short.toUnsignedInt(m.get(BE16, frame + off + 4));
            if (off + 40 + payload > len) {
                return false;
            }
            v6 = true;
            l3End = off + 40 + payload;
            int nh = Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, frame + off + 6));
            int p = off + 40;
            // hop-by-hop, routing, destination options: skip; a fragment header: no L4 work
            while (nh == 0 || nh == 43 || nh == 60 || nh == 44) {
                if (p + 8 > l3End) {
                    return false;
                }
                if (nh == 44) {
                    fragment = true;
                }
                int next = Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, frame + p));
                p += nh == 44 ? 8 : (Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, frame + p + 1)) + 1) * 8;
                nh = next;
            }
            if (p > l3End) {
                return false;
            }
            proto = nh;
            l4 = p;
            return true;
        }
        return false;
    }
}
