package io.jnetmap.core.offload;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071) over frame bytes, and the two ways a checksum left partial by a
 * host stack gets completed: from a virtio-net header's {@code csum_start}/{@code csum_offset}
 * ({@link #complete}), or, where no header came with the frame, by recognising the partial state
 * itself ({@link #completeIfPartial}): Linux leaves the folded pseudo-header sum in the field, which a
 * finished checksum equals only by a 1-in-65536 accident, and recomputing a correct checksum rewrites
 * the same value anyway.
 */
public final class Checksums {
    static final ValueLayout.OfLong BE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt BE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfShort BE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Checksums() {
    }

    /**
     * Adds the 16-bit big-endian words of {@code len} bytes at {@code off} to {@code sum} (unfolded; an
     * odd last byte counts as its high half). Good for ranges up to 4 GiB.
     */
    public static long sum(MemorySegment m, long off, int len, long sum) {
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            long v = m.get(BE64, off + i);
            sum += (v >>> 32) + (v & 0xffff_ffffL);
        }
        if (i + 4 <= len) {
            sum += Integer.toUnsignedLong(m.get(BE32, off + i));
            i += 4;
        }
        if (i + 2 <= len) {
            sum += Short.toUnsignedInt(m.get(BE16, off + i));
            i += 2;
        }
        if (i < len) {
            sum += Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, off + i)) << 8;
        }
        return sum;
    }

    /** Folds a sum to 16 bits with end-around carry (not complemented). */
    public static int fold(long sum) {
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    /**
     * Does what a NIC does for a virtio-net header with NEEDS_CSUM: sums the frame of {@code len} bytes
     * at {@code frame} from {@code csumStart} to its end (the field already holds the pseudo-header sum)
     * and stores the complement at {@code csumStart + csumOffset}. Returns false, changing nothing, if
     * the offsets do not fit in the frame.
     */
    public static boolean complete(MemorySegment m, long frame, int len, int csumStart, int csumOffset) {
        if (csumStart >= len || csumOffset > len - csumStart - 2) {
            return false;
        }
        int c = ~fold(sum(m, frame + csumStart, len - csumStart, 0)) & 0xffff;
        m.set(BE16, frame + csumStart + csumOffset, (short) (c == 0 ? 0xffff : c));
        return true;
    }

    /** The pseudo-header sum of the parsed frame for an L4 length of {@code l4len}. */
    static long pseudo(MemorySegment m, long frame, Headers h, int l4len) {
        long s = h.v6 ? sum(m, frame + h.l3 + 8, 32, 0) : sum(m, frame + h.l3 + 12, 8, 0);
        return s + h.proto + l4len;
    }

    /**
     * Completes the TCP or UDP checksum of an Ethernet frame (IPv4 or IPv6, up to two VLAN tags) if it is
     * recognisably partial: the field holds the folded pseudo-header sum. Returns true if it rewrote the
     * field. Frames that are not TCP/UDP, IP fragments and malformed frames are left alone.
     */
    public static boolean completeIfPartial(MemorySegment m, long frame, int len, Headers h) {
        if (!h.parse(m, frame, len) || h.fragment) {
            return false;
        }
        int field;
        if (h.proto == Headers.TCP) {
            field = 16;
        } else if (h.proto == Headers.UDP) {
            field = 6;
        } else {
            return false;
        }
        int l4len = h.l3End - h.l4;
        if (l4len < field + 2) {
            return false;
        }
        long f = frame + h.l4 + field;
        long p = pseudo(m, frame, h, l4len);
        if (Short.toUnsignedInt(m.get(BE16, f)) != fold(p)) {
            return false;
        }
        m.set(BE16, f, (short) 0);
        int c = ~fold(sum(m, frame + h.l4, l4len, p)) & 0xffff;
        m.set(BE16, f, (short) (c == 0 && h.proto == Headers.UDP ? 0xffff : c));
        return true;
    }

    /** Recomputes the IPv4 header checksum of the parsed frame. */
    static void ipv4Header(MemorySegment m, long frame, Headers h) {
        long ip = frame + h.l3;
        m.set(BE16, ip + 10, (short) 0);
        m.set(BE16, ip + 10, (short) ~fold(sum(m, ip, h.l4 - h.l3, 0)));
    }
}
