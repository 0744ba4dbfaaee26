package io.jnetmap.core.offload;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checksum completion and GSO segmentation against frames built here, whose checksums are computed by
 * an independent byte-at-a-time reference (RFC 1071 over byte arrays), for TCP and UDP over IPv4 and
 * IPv6.
 */
class OffloadProperties {
    private static final int ETH = 14;

    /** A frame as a host stack builds it: headers, payload, L4 checksum complete or partial. */
    record Frame(byte[] bytes, int l3, int l4, boolean v6, boolean tcp, int hdrLen) {
        int field() {
            return l4 + (tcp ? 16 : 6);
        }
    }

    static Frame build(long seed, boolean v6, boolean tcp, int payload, boolean partial) {
        Random r = new Random(seed);
        int l3 = ETH;
        int l4 = l3 + (v6 ? 40 : 20);
        int tcpOpts = tcp && r.nextBoolean() ? 12 : 0;
        int hdrLen = l4 + (tcp ? 20 + tcpOpts : 8);
        byte[] b = new byte[hdrLen + payload];
        r.nextBytes(b);
        put16(b, 12, v6 ? 0x86dd : 0x0800);
        int proto = tcp ? 6 : 17;
        int l4len = b.length - l4;
        if (v6) {
            b[l3] = 0x60;
            put16(b, l3 + 4, l4len);
            b[l3 + 6] = (byte) proto;
        } else {
            b[l3] = 0x45;
            put16(b, l3 + 2, b.length - l3);
            put16(b, l3 + 6, 0x4000); // DF, not a fragment
            b[l3 + 9] = (byte) proto;
            put16(b, l3 + 10, 0);
            put16(b, l3 + 10, ~refFold(refSum(b, l3, 20, 0)) & 0xffff);
        }
        if (tcp) {
            b[l4 + 12] = (byte) ((20 + tcpOpts) / 4 << 4);
            b[l4 + 13] = (byte) (0x10 | 0x08 | 0x01 | 0x80); // ACK PSH FIN CWR
        } else {
            put16(b, l4 + 4, l4len);
        }
        Frame f = new Frame(b, l3, l4, v6, tcp, hdrLen);
        int field = f.field();
        long pseudo = refPseudo(b, l3, l4, v6, proto, l4len);
        if (partial) {
            put16(b, field, refFold(pseudo));
        } else {
            put16(b, field, 0);
            int c = ~refFold(refSum(b, l4, l4len, pseudo)) & 0xffff;
            put16(b, field, c == 0 && !tcp ? 0xffff : c);
        }
        return f;
    }

    // ---------------------------------------------------------------------------------------------
    // the independent reference

    static long refSum(byte[] b, int off, int len, long init) {
        long s = init;
        for (int i = 0; i < len; i += 2) {
            int hi = b[off + i] & 0xff;
            int lo = i + 1 < len ? b[off + i + 1] & 0xff : 0;
            s += (hi << 8) | lo;
        }
        return s;
    }

    static int refFold(long s) {
        while ((s >> 16) != 0) {
            s = (s & 0xffff) + (s >> 16);
        }
        return (int) s;
    }

    static long refPseudo(byte[] b, int l3, int l4, boolean v6, int proto, int l4len) {
        return (v6 ? refSum(b, l3 + 8, 32, 0) : refSum(b, l3 + 12, 8, 0)) + proto + l4len;
    }

    /** True if the L4 checksum of the frame (IP lengths as written) verifies. */
    static boolean l4Valid(byte[] b, int l3, int l4, boolean v6, boolean tcp) {
        int l4len = v6 ? get16(b, l3 + 4) : get16(b, l3 + 2) - (l4 - l3);
        return refFold(refSum(b, l4, l4len, refPseudo(b, l3, l4, v6, tcp ? 6 : 17, l4len))) == 0xffff;
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >> 8);
        b[at + 1] = (byte) v;
    }

    static int get16(byte[] b, int at) {
        return (b[at] & 0xff) << 8 | b[at + 1] & 0xff;
    }

    static int get32(byte[] b, int at) {
        return get16(b, at) << 16 | get16(b, at + 2);
    }

    // ---------------------------------------------------------------------------------------------

    @Property(tries = 400)
    void partialChecksumIsCompletedToTheReference(@ForAll long seed, @ForAll boolean v6, @ForAll boolean tcp,
                                                  @ForAll @IntRange(min = 0, max = 1500) int payload) {
        Frame full = build(seed, v6, tcp, payload, false);
        Frame part = build(seed, v6, tcp, payload, true);
        MemorySegment m = MemorySegment.ofArray(part.bytes().clone());
        assertTrue(Checksums.completeIfPartial(m, 0, part.bytes().length, new Headers()));
        assertArrayEquals(full.bytes(), m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));

        MemorySegment n = MemorySegment.ofArray(part.bytes().clone());
        assertTrue(Checksums.complete(n, 0, part.bytes().length, part.l4(), part.field() - part.l4()));
        assertTrue(l4Valid(n.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), part.l3(), part.l4(), v6, tcp));
    }

    @Property(tries = 400)
    void completeFrameStaysValid(@ForAll long seed, @ForAll boolean v6, @ForAll boolean tcp,
                                 @ForAll @IntRange(min = 0, max = 1500) int payload) {
        Frame full = build(seed, v6, tcp, payload, false);
        MemorySegment m = MemorySegment.ofArray(full.bytes().clone());
        Checksums.completeIfPartial(m, 0, full.bytes().length, new Headers());
        // left alone, or (when its checksum happens to equal the pseudo-header sum) rewritten to itself
        assertArrayEquals(full.bytes(), m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @Property(tries = 300)
    void superFrameIsCutIntoValidSegments(@ForAll long seed, @ForAll boolean v6, @ForAll boolean tcp,
                                          @ForAll @IntRange(min = 1, max = 65000) int payloadWanted,
                                          @ForAll @IntRange(min = 200, max = 1460) int mss) {
        int hdrMax = ETH + 40 + 32;
        int payload = Math.min(payloadWanted, 65535 - hdrMax);
        Frame sf = build(seed, v6, tcp, payload, true);
        byte[] src = sf.bytes();
        Segmenter seg = new Segmenter();
        int gso = tcp ? (v6 ? VnetHeader.GSO_TCPV6 : VnetHeader.GSO_TCPV4) : VnetHeader.GSO_UDP_L4;
        int n = seg.begin(MemorySegment.ofArray(src), 0, src.length, gso, mss);
        assertEquals(Math.max(1, (payload + mss - 1) / mss), n);
        MemorySegment dst = MemorySegment.ofArray(new byte[2048]);
        byte[] joined = new byte[payload];
        int at = 0;
        int seq0 = get32(src, sf.l4() + 4);
        int id0 = get16(src, sf.l3() + 4);
        for (int k = 0; k < n; k++) {
            assertEquals(n - k, seg.remaining());
            int len = seg.next(dst, 0);
            byte[] s = Arrays.copyOf(dst.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), len);
            int plen = len - sf.hdrLen();
            assertEquals(Math.min(mss, payload - k * mss), plen);
            assertTrue(plen <= mss);
            if (v6) {
                assertEquals(len - sf.l3() - 40, get16(s, sf.l3() + 4));
            } else {
                assertEquals(len - sf.l3(), get16(s, sf.l3() + 2));
                assertEquals((id0 + k) & 0xffff, get16(s, sf.l3() + 4));
                assertEquals(0xffff, refFold(refSum(s, sf.l3(), 20, 0)), "IPv4 header checksum");
            }
            assertTrue(l4Valid(s, sf.l3(), sf.l4(), v6, tcp), "L4 checksum of segment " + k);
            if (tcp) {
                assertEquals(seq0 + k * mss, get32(s, sf.l4() + 4));
                int flags = s[sf.l4() + 13] & 0xff;
                assertEquals(k == n - 1, (flags & 0x01) != 0, "FIN only on the last");
                assertEquals(k == n - 1, (flags & 0x08) != 0, "PSH only on the last");
                assertEquals(k == 0, (flags & 0x80) != 0, "CWR only on the first");
            } else {
                assertEquals(8 + plen, get16(s, sf.l4() + 4));
            }
            System.arraycopy(s, sf.hdrLen(), joined, at, plen);
            at += plen;
        }
        assertEquals(0, seg.remaining());
        assertArrayEquals(Arrays.copyOfRange(src, sf.hdrLen(), src.length), joined);
    }

    @Property(tries = 50)
    void nonIpFramesAreLeftAlone(@ForAll long seed) {
        byte[] b = new byte[100];
        new Random(seed).nextBytes(b);
        put16(b, 12, 0x0806); // ARP
        byte[] copy = b.clone();
        assertFalse(Checksums.completeIfPartial(MemorySegment.ofArray(b), 0, b.length, new Headers()));
        assertEquals(Segmenter.NOT_SEGMENTABLE, new Segmenter().begin(MemorySegment.ofArray(b), 0, b.length,
                VnetHeader.GSO_TCPV4, 1000));
        assertArrayEquals(copy, b);
    }
}
