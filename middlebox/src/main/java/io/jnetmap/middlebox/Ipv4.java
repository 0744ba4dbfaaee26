package io.jnetmap.middlebox;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Reading and rewriting IPv4 frames in place (untagged Ethernet), with RFC 1624 incremental checksum
 * updates: what the firewall and the NAT need, nothing allocated.
 */
public final class Ipv4 {
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMP = 1;
    public static final int IP = 14;
    public static final int TCP_FIN = 0x01;
    public static final int TCP_SYN = 0x02;
    public static final int TCP_RST = 0x04;
    public static final int TCP_ACK = 0x10;

    private Ipv4() {
    }

    public static int u8(MemorySegment m, long off) {
        return m.get(ValueLayout.JAVA_BYTE, off) & 0xff;
    }

    public static int u16(MemorySegment m, long off) {
        return Short.toUnsignedInt(m.get(U16, off));
    }

    public static int u32(MemorySegment m, long off) {
        return m.get(U32, off);
    }

    public static void put16(MemorySegment m, long off, int v) {
        m.set(U16, off, (short) v);
    }

    public static void put32(MemorySegment m, long off, int v) {
        m.set(U32, off, v);
    }

    /** The L4 header offset of the IPv4 frame at {@code f}, or -1 if it is not a whole, unfragmented IPv4 packet with ports to read. */
    public static long l4(MemorySegment m, long f, int len) {
        if (len < IP + 20 || u16(m, f + 12) != 0x0800) {
            return -1;
        }
        int vihl = u8(m, f + IP);
        int ihl = (vihl & 0xf) * 4;
        if (vihl >>> 4 != 4 || ihl < 20 || len < IP + ihl + 8 || (u16(m, f + IP + 6) & 0x3fff) != 0) {
            return -1;
        }
        return f + IP + ihl;
    }

    public static boolean isIpv4(MemorySegment m, long f, int len) {
        return len >= IP + 20 && u16(m, f + 12) == 0x0800;
    }

    public static int proto(MemorySegment m, long f) {
        return u8(m, f + IP + 9);
    }

    public static int src(MemorySegment m, long f) {
        return u32(m, f + IP + 12);
    }

    public static int dst(MemorySegment m, long f) {
        return u32(m, f + IP + 16);
    }

    /** One's-complement checksum update for a 16-bit field going from {@code old} to {@code now} (RFC 1624 eqn. 3). */
    public static int csumUpdate16(int csum, int old, int now) {
        int s = (~csum & 0xffff) + (~old & 0xffff) + (now & 0xffff);
        s = (s & 0xffff) + (s >>> 16);
        s = (s & 0xffff) + (s >>> 16);
        return ~s & 0xffff;
    }

    public static int csumUpdate32(int csum, int old, int now) {
        return csumUpdate16(csumUpdate16(csum, old >>> 16, now >>> 16), old & 0xffff, now & 0xffff);
    }

    /** Where the L4 checksum is for {@code proto} (relative to the L4 header), or -1. */
    public static int l4ChecksumOffset(int proto) {
        return switch (proto) {
            case TCP -> 16;
            case UDP -> 6;
            case ICMP -> 2;
            default -> -1;
        };
    }

    /** Rewrites the source (or destination) address, fixing the IP checksum and the TCP/UDP pseudo-header checksum. */
    public static void setAddress(MemorySegment m, long f, long l4, boolean source, int addr) {
        long at = f + IP + (source ? 12 : 16);
        int old = u32(m, at);
        put32(m, at, addr);
        put16(m, f + IP + 10, csumUpdate32(u16(m, f + IP + 10), old, addr));
        int proto = proto(m, f);
        if (l4 >= 0 && (proto == TCP || proto == UDP)) {
            long c = l4 + l4ChecksumOffset(proto);
            int cs = u16(m, c);
            if (proto == UDP && cs == 0) {
                return; // no checksum
            }
            cs = csumUpdate32(cs, old, addr);
            put16(m, c, proto == UDP && cs == 0 ? 0xffff : cs);
        }
    }

    /** Rewrites the 16-bit word at {@code l4 + at} (a port, an ICMP identifier), fixing the L4 checksum. */
    public static void setL4Word(MemorySegment m, long f, long l4, int at, int v) {
        int old = u16(m, l4 + at);
        put16(m, l4 + at, v);
        int proto = proto(m, f);
        long c = l4 + l4ChecksumOffset(proto);
        int cs = u16(m, c);
        if (proto == UDP && cs == 0) {
            return;
        }
        cs = csumUpdate16(cs, old, v);
        put16(m, c, proto == UDP && cs == 0 ? 0xffff : cs);
    }

    /** The full checksum of {@code len} bytes (for tests and for building packets). */
    public static int checksum(MemorySegment m, long off, int len) {
        long s = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            s += u16(m, off + i);
        }
        if ((len & 1) != 0) {
            s += u8(m, off + len - 1) << 8;
        }
        while (s >>> 16 != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) ~s & 0xffff;
    }

    public static String addr(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xff) + "." + (a >>> 8 & 0xff) + "." + (a & 0xff);
    }

    /** {@code a.b.c.d} as an int; throws IllegalArgumentException. */
    public static int parseAddr(String s) {
        String[] p = s.split("\\.");
        if (p.length != 4) {
            throw new IllegalArgumentException("address " + s + " (expected: a.b.c.d)");
        }
        int v = 0;
        for (String x : p) {
            int b;
            try {
                b = Integer.parseInt(x);
            } catch (NumberFormatException e) {
                b = -1;
            }
            if (b < 0 || b > 255) {
                throw new IllegalArgumentException("address " + s + " (expected: a.b.c.d, each 0..255)");
            }
            v = v << 8 | b;
        }
        return v;
    }
}
