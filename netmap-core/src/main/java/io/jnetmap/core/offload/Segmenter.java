package io.jnetmap.core.offload;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.jnetmap.core.offload.Checksums.BE16;
import static io.jnetmap.core.offload.Checksums.BE32;

/**
 * Software GSO: cuts one TCP or UDP super-frame (IPv4 or IPv6, as a host stack hands it out with a
 * virtio-net header saying {@code gso_type} and {@code gso_size}) into frames that each carry at most
 * {@code gso_size} payload bytes, with what a NIC's segmentation writes: IP total/payload length, IPv4
 * ids counting up from the super-frame's and a fresh IPv4 header checksum, TCP sequence numbers, FIN
 * and PSH only on the last segment and CWR only on the first, UDP lengths, and complete L4 checksums.
 *
 * <p>Use: {@link #begin} once per super-frame, then {@link #next} once per segment into a destination
 * of at least {@link #segmentLength} bytes. One instance per thread; nothing is allocated.
 */
public final class Segmenter {
    /** {@link #begin}: the frame is not one this class can segment (not TCP/UDP over IP, bad sizes). */
    public static final int NOT_SEGMENTABLE = -1;

    private final Headers h = new Headers();
    private MemorySegment src;
    private long frame;
    private int hdrLen;
    private int payload;
    private int mss;
    private int count;
    private int index;
    private boolean tcp;
    private int ipId;
    private int seq;

    /**
     * Starts on the super-frame of {@code len} bytes at {@code frame} with virtio-net {@code gsoType}
     * (TCPV4, TCPV6 or UDP_L4, ECN bit ignored) and {@code gsoSize}. Returns the number of segments it
     * will produce (1 when the payload fits one), or {@link #NOT_SEGMENTABLE}.
     */
    public int begin(MemorySegment m, long frame, int len, int gsoType, int gsoSize) {
        int type = gsoType & ~VnetHeader.GSO_ECN;
        if (gsoSize <= 0 || !h.parse(m, frame, len) || h.fragment) {
            return NOT_SEGMENTABLE;
        }
        if ((type == VnetHeader.GSO_TCPV4 || type == VnetHeader.GSO_TCPV6) && h.proto == Headers.TCP) {
            if (h.l3End < h.l4 + 20) {
                return NOT_SEGMENTABLE;
            }
            int doff = (Byte.toUnsignedInt(m.get(ValueLayout.JAVA_BYTE, frame + h.l4 + 12)) >>> 4) * 4;
            if (doff < 20) {
                return NOT_SEGMENTABLE;
            }
            hdrLen = h.l4 + doff;
            tcp = true;
            seq = m.get(BE32, frame + h.l4 + 4);
        } else if (type == VnetHeader.GSO_UDP_L4 && h.proto == Headers.UDP) {
            hdrLen = h.l4 + 8;
            tcp = false;
        } else {
            return NOT_SEGMENTABLE;
        }
        if (hdrLen > h.l3End) {
            return NOT_SEGMENTABLE;
        }
        this.src = m;
        this.frame = frame;
        this.payload = h.l3End - hdrLen;
        this.mss = gsoSize;
        this.ipId = h.v6 ? 0 : Short.toUnsignedInt(m.get(BE16, frame + h.l3 + 4));
        this.index = 0;
        this.count = Math.max(1, (payload + mss - 1) / mss);
        return count;
    }

    /** The longest segment {@link #next} writes for the current super-frame. */
    public int segmentLength() {
        return hdrLen + Math.min(mss, payload);
    }

    /** Segments left to write. */
    public int remaining() {
        return count - index;
    }

    /** Writes the next segment at {@code dst}; returns its length in bytes. */
    public int next(MemorySegment dst, long at) {
        if (index >= count) {
            throw new IllegalStateException("no segment left (" + count + " written)");
        }
        int k = index++;
        int from = k * mss;
        int plen = Math.min(mss, payload - from);
        MemorySegment.copy(src, frame, dst, at, hdrLen);
        MemorySegment.copy(src, frame + hdrLen + from, dst, at + hdrLen, plen);
        long ip = at + h.l3;
        if (h.v6) {
            dst.set(BE16, ip + 4, (short) (hdrLen - h.l3 - 40 + plen));
        } else {
            dst.set(BE16, ip + 2, (short) (hdrLen - h.l3 + plen));
            dst.set(BE16, ip + 4, (short) (ipId + k));
            dst.set(BE16, ip + 10, (short) 0);
            dst.set(BE16, ip + 10, (short) ~Checksums.fold(Checksums.sum(dst, ip, h.l4 - h.l3, 0)));
        }
        long l4 = at + h.l4;
        int l4len = hdrLen - h.l4 + plen;
        int field;
        if (tcp) {
            dst.set(BE32, l4 + 4, seq + from);
            int flags = Byte.toUnsignedInt(dst.get(ValueLayout.JAVA_BYTE, l4 + 13));
            if (k != count - 1) {
                flags &= ~0x09; // FIN, PSH: the last segment's
            }
            if (k != 0) {
                flags &= ~0x80; // CWR: the first segment's
            }
            dst.set(ValueLayout.JAVA_BYTE, l4 + 13, (byte) flags);
            field = 16;
        } else {
            dst.set(BE16, l4 + 4, (short) l4len);
            field = 6;
        }
        dst.set(BE16, l4 + field, (short) 0);
        long s = Checksums.pseudo(dst, at, h, l4len);
        int c = ~Checksums.fold(Checksums.sum(dst, l4, l4len, s)) & 0xffff;
        dst.set(BE16, l4 + field, (short) (c == 0 && !tcp ? 0xffff : c));
        return hdrLen + plen;
    }
}
