package io.jnetmap.vale;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Test frames: Ethernet headers with a tag and sequence number, written into and read from rings. */
public final class Frames {
    static final long BROADCAST = 0xffffffffffffL;
    public static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** EtherType of test frames (local experimental). */
    static final int TYPE = 0x88b5;

    private Frames() {
    }

    /** A locally administered unicast MAC ending in {@code n}. */
    static long mac(int n) {
        return 0x020000000000L | n;
    }

    /** Writes destination, source and EtherType at {@code off}. */
    static void ethernet(MemorySegment m, long off, long dst, long src, int type) {
        Packet.writeMac(m, off, dst);
        Packet.writeMac(m, off + 6, src);
        m.set(U16, off + 12, (short) type);
    }

    /**
     * Writes an IPv4 frame of {@code len} bytes at slot {@code slot}: Ethernet header, a 20-byte IPv4
     * header (UDP, valid checksum) from {@code src} to {@code dst} with TTL {@code ttl}, then {@code seq}
     * and a pattern derived from it.
     */
    static void ipv4(Ring t, int slot, long dstMac, long srcMac, int src, int dst, int ttl, long seq, int len) {
        MemorySegment m = t.memory();
        long off = t.bufOffset(slot);
        ethernet(m, off, dstMac, srcMac, 0x0800);
        long ip = off + 14;
        m.set(U16, ip, (short) 0x4500);
        m.set(U16, ip + 2, (short) (len - 14));
        m.set(U16, ip + 4, (short) seq);
        m.set(U16, ip + 6, (short) 0x4000);
        m.set(ValueLayout.JAVA_BYTE, ip + 8, (byte) ttl);
        m.set(ValueLayout.JAVA_BYTE, ip + 9, (byte) 17);
        m.set(U16, ip + 10, (short) 0);
        m.set(U32, ip + 12, src);
        m.set(U32, ip + 16, dst);
        m.set(U16, ip + 10, (short) checksum(m, ip, 20));
        m.set(U64, off + 34, seq);
        for (int b = 42; b < len; b++) {
            m.set(ValueLayout.JAVA_BYTE, off + b, (byte) (seq * 7 + b));
        }
        t.setLen(slot, len);
    }

    /** The Internet checksum of {@code n} bytes at {@code off} (0 over a header with a valid checksum). */
    public static int checksum(MemorySegment m, long off, int n) {
        long sum = 0;
        for (int i = 0; i < n; i += 2) {
            sum += m.get(U16, off + i) & 0xffff;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    /** A received frame: addresses, the tag and sequence number at bytes 14..25, length, flags. */
    record Frame(long dst, long src, int tag, long seq, int len, int flags) {
    }

    /**
     * Sends up to {@code count} frames of {@code len} bytes (tag {@code tag}, sequence numbers from
     * {@code seq}) with slot flags {@code flags}; returns how many the TX ring had room for.
     */
    static int send(Port p, long dst, long src, int tag, long seq, int count, int len, int flags) {
        Ring t = p.txRing(0);
        int i = t.head();
        int n = Math.min(count, t.space());
        for (int k = 0; k < n; k++) {
            write(t, i, dst, src, tag, seq + k, len);
            t.setFlags(i, flags);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
        return n;
    }

    static int send(Port p, long dst, long src, int count) {
        return send(p, dst, src, 0, 0, count, 60, 0);
    }

    static void write(Ring t, int slot, long dst, long src, int tag, long seq, int len) {
        MemorySegment m = t.memory();
        long off = t.bufOffset(slot);
        ethernet(m, off, dst, src, TYPE);
        m.set(U32, off + 14, tag);
        m.set(U64, off + 18, seq);
        for (int b = 26; b < len; b++) {
            m.set(ValueLayout.JAVA_BYTE, off + b, (byte) (seq + b));
        }
        t.setLen(slot, len);
    }

    /** rxsync, then takes and releases every frame waiting on RX ring 0. */
    static List<Frame> receive(Port p) {
        Ring r = p.rxRing(0);
        r.sync();
        List<Frame> out = new ArrayList<>();
        int j = r.head();
        while (j != r.tail()) {
            MemorySegment m = r.memory();
            long off = r.bufOffset(j);
            int len = r.len(j);
            out.add(len >= 26 ? new Frame(Packet.readMac(m, off), Packet.readMac(m, off + 6), m.get(U32, off + 14),
                    m.get(U64, off + 18), len, r.flags(j)) : new Frame(-1, -1, -1, -1, len, r.flags(j)));
            j = r.nextSlot(j);
        }
        r.advanceTo(j);
        r.sync();
        return out;
    }

    /** True if the payload bytes after the header are what {@link #write} put there. */
    static boolean payloadIntact(Ring r, int slot) {
        MemorySegment m = r.memory();
        long off = r.bufOffset(slot);
        long seq = m.get(U64, off + 18);
        for (int b = 26; b < r.len(slot); b++) {
            if (m.get(ValueLayout.JAVA_BYTE, off + b) != (byte) (seq + b)) {
                return false;
            }
        }
        return true;
    }
}
