package io.jnetmap.middlebox;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A symmetric flow hash of an Ethernet frame (netmap lb's idea, not its code): both directions of a
 * connection get the same value. IPv4 and IPv6 by addresses, plus ports for TCP, UDP and SCTP (not for
 * fragments); through 802.1Q/802.1ad tags and IP-in-IP (IPv4 or IPv6 inside either, up to three
 * levels); any other frame by its two MAC addresses. The two addresses are put in order (smaller
 * first), and the two ports too, so swapping source and destination cannot change the key; the key
 * (addresses, ports, protocol) then goes through one 64-bit finalizer. Two multiplications for the
 * addresses, two for the finalizer: the common IPv4 case costs four reads and about four multiplications.
 * Allocates nothing.
 */
public final class FlowHash {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final int ETH_IPV4 = 0x0800;
    private static final int ETH_IPV6 = 0x86dd;
    private static final int ETH_VLAN = 0x8100;
    private static final int ETH_QINQ = 0x88a8;

    private FlowHash() {
    }

    /** The hash of the frame of {@code len} bytes at {@code off} of {@code m}. */
    public static long hash(MemorySegment m, long off, int len) {
        if (len >= 42) {
            // the common case in four reads: untagged IPv4 without options, not a fragment, TCP/UDP/SCTP
            long w12 = m.get(U64, off + 12); // ethertype, version/IHL, TOS, total length, id
            if ((w12 >>> 40) == 0x08_00_45L) {
                long w20 = m.get(U64, off + 20); // flags/fragment offset, TTL, protocol, checksum, source (2 bytes)
                int proto = (int) (w20 >>> 32) & 0xff;
                if ((w20 >>> 48 & 0x3fff) == 0 && (proto == 6 || proto == 17 || proto == 132)) {
                    long addrs = m.get(U64, off + 26);
                    int ports = m.get(U32, off + 34);
                    return key(pair4(addrs >>> 32, addrs & 0xffffffffL), proto, ports >>> 16, ports & 0xffff);
                }
            }
        }
        long end = off + len;
        if (len < 14) {
            return 0;
        }
        int etype = u16(m, off + 12);
        long p = off + 14;
        while ((etype == ETH_VLAN || etype == ETH_QINQ) && p + 4 <= end) {
            etype = u16(m, p + 2);
            p += 4;
        }
        for (int depth = 0; depth < 4; depth++) {
            if (etype == ETH_IPV4 && p + 20 <= end) {
                int ihl = (m.get(ValueLayout.JAVA_BYTE, p) & 0xf) * 4;
                int proto = m.get(ValueLayout.JAVA_BYTE, p + 9) & 0xff;
                boolean fragment = (u16(m, p + 6) & 0x3fff) != 0;
                if (!fragment && depth < 3 && (proto == 4 || proto == 41)) {
                    etype = proto == 4 ? ETH_IPV4 : ETH_IPV6;
                    p += ihl;
                    continue;
                }
                long addrs = pair4(m.get(U32, p + 12) & 0xffffffffL, m.get(U32, p + 16) & 0xffffffffL);
                return finish(addrs, proto, fragment ? -1 : p + ihl, end, m);
            }
            if (etype == ETH_IPV6 && p + 40 <= end) {
                int nh = m.get(ValueLayout.JAVA_BYTE, p + 6) & 0xff;
                if (depth < 3 && (nh == 4 || nh == 41)) {
                    etype = nh == 4 ? ETH_IPV4 : ETH_IPV6;
                    p += 40;
                    continue;
                }
                long src = m.get(U64, p + 8) * K1 + m.get(U64, p + 16);
                long dst = m.get(U64, p + 24) * K1 + m.get(U64, p + 32);
                return finish(Math.min(src, dst) * K2 + Math.max(src, dst), nh, p + 40, end, m);
            }
            break;
        }
        long dstMac = m.get(U64, off) >>> 16;
        long srcMac = m.get(U64, off + 4) & 0xffff_ffff_ffffL;
        return mix(Math.min(dstMac, srcMac) * K2 + Math.max(dstMac, srcMac));
    }

    private static final long K1 = 0x9e3779b97f4a7c15L;
    private static final long K2 = 0xc2b2ae3d27d4eb4fL;

    /** Two IPv4 addresses (unsigned 32-bit values) in order, in one word. */
    private static long pair4(long a, long b) {
        return Math.min(a, b) << 32 | Math.max(a, b);
    }

    /** The hash of an address pair, the protocol and the two ports (0, 0: none), ports in order. */
    private static long key(long addrs, int proto, int portA, int portB) {
        long ports = (long) Math.min(portA, portB) << 16 | Math.max(portA, portB);
        return mix(addrs * K1 + (ports << 8 | proto));
    }

    private static long finish(long addrs, int proto, long l4, long end, MemorySegment m) {
        if (l4 >= 0 && (proto == 6 || proto == 17 || proto == 132) && l4 + 4 <= end) {
            return key(addrs, proto, u16(m, l4), u16(m, l4 + 2));
        }
        return key(addrs, proto, 0, 0);
    }

    /** Which of {@code n} buckets hash {@code h} falls in (uniform for a uniform hash). */
    public static int bucket(long h, int n) {
        return (int) (((h >>> 32) * n) >>> 32);
    }

    private static int u16(MemorySegment m, long off) {
        return Short.toUnsignedInt(m.get(U16, off));
    }

    /** splitmix64's finalizer: every input bit reaches every output bit. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
