package io.jnetmap.middlebox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The symmetric flow hash on every kind of frame it parses: both directions equal, distinct flows spread. */
class FlowHashTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    /** A frame: kind 0 IPv4/UDP, 1 IPv4/TCP in two VLAN tags, 2 IPv6/TCP, 3 IPv4/UDP inside IPv6, 4 ARP (MACs only). */
    static int frame(MemorySegment m, int kind, long[] a, long[] b, int pa, int pb, boolean reverse) {
        m.fill((byte) 0);
        long[] s = reverse ? b : a;
        long[] d = reverse ? a : b;
        int sp = reverse ? pb : pa;
        int dp = reverse ? pa : pb;
        m.set(U64, 0, (d[0] & 0xffff_ffff_ffffL) << 16);
        m.set(U64, 4, (m.get(U64, 4) & 0xffff_0000_0000_0000L) | (s[0] & 0xffff_ffff_ffffL));
        long p = 12;
        if (kind == 1) {
            m.set(U16, p, (short) 0x88a8);
            m.set(U16, p + 4, (short) 0x8100);
            p += 8;
        }
        if (kind == 4) {
            m.set(U16, p, (short) 0x0806);
            return 60;
        }
        if (kind == 2 || kind == 3) {
            m.set(U16, p, (short) 0x86dd);
            p += 2;
            m.set(ValueLayout.JAVA_BYTE, p, (byte) 0x60);
            m.set(ValueLayout.JAVA_BYTE, p + 6, (byte) (kind == 2 ? 6 : 4));
            m.set(U64, p + 8, s[0]);
            m.set(U64, p + 16, s[1]);
            m.set(U64, p + 24, d[0]);
            m.set(U64, p + 32, d[1]);
            p += 40;
            if (kind == 2) {
                m.set(U16, p, (short) sp);
                m.set(U16, p + 2, (short) dp);
                return (int) p + 20;
            }
        } else {
            m.set(U16, p, (short) 0x0800);
            p += 2;
        }
        m.set(ValueLayout.JAVA_BYTE, p, (byte) 0x45);
        m.set(ValueLayout.JAVA_BYTE, p + 9, (byte) (kind == 1 ? 6 : 17));
        m.set(U32, p + 12, (int) s[1]);
        m.set(U32, p + 16, (int) d[1]);
        m.set(U16, p + 20, (short) sp);
        m.set(U16, p + 22, (short) dp);
        return (int) p + 28;
    }

    @Test
    void bothDirectionsHashAlikeAndDistinctFlowsSpread() {
        MemorySegment m = MemorySegment.ofArray(new byte[128]);
        SplittableRandom rnd = new SplittableRandom(5);
        int flows = 10_000;
        int buckets = 16;
        for (int kind = 0; kind < 5; kind++) {
            int[] count = new int[buckets];
            Set<Long> seen = new HashSet<>();
            for (int f = 0; f < flows; f++) {
                long[] a = {rnd.nextLong(), rnd.nextLong()};
                long[] b = {rnd.nextLong(), rnd.nextLong()};
                int pa = rnd.nextInt(1 << 16);
                int pb = rnd.nextInt(1 << 16);
                long h = FlowHash.hash(m, 0, frame(m, kind, a, b, pa, pb, false));
                assertEquals(h, FlowHash.hash(m, 0, frame(m, kind, a, b, pa, pb, true)), "kind " + kind + " flow " + f + ": both directions");
                seen.add(h);
                count[FlowHash.bucket(h, buckets)]++;
            }
            assertTrue(seen.size() > flows - 3, "kind " + kind + ": " + (flows - seen.size()) + " collisions among " + flows + " flows");
            // chi-square, 15 degrees of freedom: above 37.7 has probability 0.001 for a uniform hash
            double e = (double) flows / buckets;
            double chi = 0;
            for (int c : count) {
                chi += (c - e) * (c - e) / e;
            }
            assertTrue(chi < 37.7, "kind " + kind + ": chi-square " + chi);
        }
    }

    @Test
    void portsCountOnlyForTcpUdpSctpAndNotInFragments() {
        MemorySegment m = MemorySegment.ofArray(new byte[128]);
        long[] a = {1, 0x0a000001};
        long[] b = {2, 0x0a000002};
        int len = frame(m, 0, a, b, 1000, 53, false);
        long udp = FlowHash.hash(m, 0, len);
        assertTrue(udp != FlowHash.hash(m, 0, frame(m, 0, a, b, 1001, 53, false)), "another source port, another flow");
        frame(m, 0, a, b, 1000, 53, false);
        m.set(U16, 20, (short) 0x2001); // more fragments: the ports may not be there
        long frag = FlowHash.hash(m, 0, len);
        frame(m, 0, a, b, 1001, 54, false);
        m.set(U16, 20, (short) 0x2001);
        assertEquals(frag, FlowHash.hash(m, 0, len), "fragments of one address pair hash alike whatever their bytes");
    }
}
