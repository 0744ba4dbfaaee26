package io.jnetmap.capture;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/** Frames for the equivalence tests: every protocol and corner the filter language looks at. */
final class Packets {
    static final byte[] MAC_A = {2, 0, 0, 0, 0, 1}, MAC_B = {2, 0, 0, 0, 0, 2}, BCAST = {-1, -1, -1, -1, -1, -1},
            MCAST = {1, 0, 0x5e, 0, 0, 1}, MAC_X = {1, 2, 3, 4, 5, 6};

    private Packets() {
    }

    static final class B {
        final ByteArrayOutputStream o = new ByteArrayOutputStream();

        B u8(int v) {
            o.write(v);
            return this;
        }

        B u16(int v) {
            return u8(v >> 8).u8(v);
        }

        B u32(int v) {
            return u16(v >>> 16).u16(v);
        }

        B bytes(byte[] b) {
            o.writeBytes(b);
            return this;
        }

        B zeros(int n) {
            return bytes(new byte[n]);
        }

        byte[] done() {
            return o.toByteArray();
        }
    }

    static int ip(int a, int b, int c, int d) {
        return a << 24 | b << 16 | c << 8 | d;
    }

    static byte[] eth(byte[] dst, byte[] src, int... tags) {
        B b = new B().bytes(dst).bytes(src);
        for (int t : tags) {
            if ((t & 0xffff0000) == 0 || (t & 0xffff0000) == TYPE_ONLY) {
                b.u16(t & 0xffff);
            } else {
                b.u16(t >>> 16).u16(t & 0xffff);
            }
        }
        return b.done();
    }

    static byte[] cat(byte[]... parts) {
        B b = new B();
        for (byte[] p : parts) b.bytes(p);
        return b.done();
    }

    static byte[] ipv4(int proto, int src, int dst, int fragWord, int ihlWords, byte[] payload) {
        B b = new B().u8(0x40 | ihlWords).u8(0).u16(ihlWords * 4 + payload.length).u16(0x1234).u16(fragWord).u8(64).u8(proto).u16(0)
                .u32(src).u32(dst);
        b.zeros((ihlWords - 5) * 4);
        return b.bytes(payload).done();
    }

    static byte[] l4(int sport, int dport, int flags, int extra) {
        return new B().u16(sport).u16(dport).u32(1000).u32(2000).u8(0x50).u8(flags).u16(512).u32(0).zeros(extra).done();
    }

    static byte[] ipv6(int next, byte[] src, byte[] dst, byte[] payload) {
        return new B().u32(0x60000000).u16(payload.length).u8(next).u8(64).bytes(src).bytes(dst).bytes(payload).done();
    }

    static byte[] v6(int last) {
        byte[] a = new byte[16];
        a[0] = (byte) 0xfe;
        a[1] = (byte) 0x80;
        a[15] = (byte) last;
        return a;
    }

    static byte[] arp(int op, byte[] sha, int spa, byte[] tha, int tpa) {
        return new B().u16(1).u16(0x800).u8(6).u8(4).u16(op).bytes(sha).u32(spa).bytes(tha).u32(tpa).done();
    }

    /** The generated corner cases. */
    static List<byte[]> corpus() {
        List<byte[]> out = new ArrayList<>();
        int[] hosts = {ip(10, 0, 0, 1), ip(10, 0, 0, 2), ip(192, 168, 1, 7), ip(1, 1, 1, 1), ip(224, 0, 0, 5), ip(255, 255, 255, 255), 0};
        int[] ports = {80, 443, 53, 22, 7, 15, 20, 1024, 65535};
        byte[][] macs = {MAC_A, MAC_B, BCAST, MCAST, MAC_X};
        int[][] vlanStacks = {{}, {0x8100000a}, {0x81000014}, {0x88a8000a, 0x81000003}, {0x9100000a}};
        int[] protos = {6, 17, 132, 1, 2, 103, 112, 50, 51, 47};
        int i = 0;
        for (int[] tags : vlanStacks) {
            for (int p : protos) {
                for (int k = 0; k < 4; k++) {
                    int s = hosts[(i + k) % hosts.length], d = hosts[(i * 3 + k + 1) % hosts.length];
                    int sp = ports[(i + k) % ports.length], dp = ports[(i * 7 + 2 * k) % ports.length];
                    int flags = new int[] {0x02, 0x12, 0x10, 0x11, 0x04, 0x18}[(i + k) % 6];
                    int frag = k == 3 ? 0x00b9 : k == 2 ? 0x2000 : 0x4000;
                    int ihl = k == 1 ? 6 : 5;
                    byte[] payload = p == 1 ? new B().u8(k == 0 ? 8 : k == 1 ? 0 : 3).u8(k).u16(0).u32(0x12345678).done()
                            : l4(sp, dp, flags, k * 5);
                    byte[] mac1 = macs[(i + k) % macs.length], mac2 = macs[(i + 2) % macs.length];
                    out.add(cat(eth(mac1, mac2, tagsPlus(tags, 0x800)), ipv4(p, s, d, frag, ihl, payload)));
                    i++;
                }
                // IPv6, with and without a fragment header and a hop-by-hop header
                byte[] pay = p == 1 ? new B().u8(128).u8(0).u16(0).u32(7).done() : l4(ports[i % ports.length], ports[(i + 3) % ports.length], 0x02, 0);
                int next = p == 1 ? 58 : p;
                out.add(cat(eth(MAC_A, MAC_B, tagsPlus(tags, 0x86dd)), ipv6(next, v6(1), v6(2), pay)));
                out.add(cat(eth(MCAST, MAC_A, tagsPlus(tags, 0x86dd)), ipv6(44, v6(2), new byte[] {(byte) 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                        cat(new B().u8(next).u8(0).u16(0).u32(1).done(), pay))));
                out.add(cat(eth(MAC_B, MAC_A, tagsPlus(tags, 0x86dd)), ipv6(0, v6(3), v6(1), cat(new B().u8(next).u8(0).zeros(6).done(), pay))));
            }
            out.add(cat(eth(BCAST, MAC_A, tagsPlus(tags, 0x806)), arp(1, MAC_A, hosts[0], new byte[6], hosts[1])));
            out.add(cat(eth(MAC_A, MAC_B, tagsPlus(tags, 0x806)), arp(2, MAC_B, hosts[1], MAC_A, hosts[0])));
            out.add(cat(eth(BCAST, MAC_X, tagsPlus(tags, 0x8035)), arp(3, MAC_X, hosts[2], MAC_X, hosts[3])));
        }
        // MPLS: one and two labels, then IPv4 / IPv6
        out.add(cat(eth(MAC_A, MAC_B, 0x8847), new B().u32(5 << 12 | 0x100 | 64).done(), ipv4(6, hosts[0], hosts[1], 0x4000, 5, l4(80, 1024, 2, 0))));
        out.add(cat(eth(MAC_A, MAC_B, 0x8847), new B().u32(7 << 12 | 64).u32(5 << 12 | 0x100 | 64).done(), ipv4(17, hosts[0], hosts[1], 0, 5, l4(53, 53, 0, 0))));
        out.add(cat(eth(MAC_A, MAC_B, 0x8847), new B().u32(5 << 12 | 0x100 | 64).done(), ipv6(6, v6(1), v6(2), l4(443, 80, 0x12, 0))));
        // 802.3 / LLC frames
        out.add(cat(eth(MAC_A, MAC_B, 46), new B().u8(0x42).u8(0x42).u8(3).zeros(43).done()));
        out.add(cat(eth(MAC_A, MAC_B, 46), new B().u8(0x64).u8(0x64).u8(3).zeros(43).done()));
        out.add(cat(eth(MAC_A, MAC_B, 46), new B().u8(0x06).u8(0x06).u8(3).zeros(43).done()));
        // other ethertypes, runts and truncated headers
        out.add(cat(eth(MAC_A, MAC_B, 0x88cc), new byte[40]));
        out.add(cat(eth(MAC_A, MAC_B, 0x0800), new byte[] {0x45, 0, 0, 20}));
        out.add(cat(eth(MAC_A, MAC_B, 0x86dd), new byte[] {0x60, 0}));
        out.add(new byte[] {1, 2, 3});
        out.add(cat(eth(MAC_A, MAC_B, 0x0800), ipv4(6, hosts[0], hosts[1], 0, 5, new byte[] {0, 80})));
        // big frames
        out.add(cat(eth(MAC_A, MAC_B, 0x0800), ipv4(17, hosts[2], hosts[3], 0, 5, cat(l4(9, 9, 0, 0), new byte[1400]))));
        return out;
    }

    private static int[] tagsPlus(int[] tags, int type) {
        int[] r = new int[tags.length + 1];
        System.arraycopy(tags, 0, r, 0, tags.length);
        r[tags.length] = TYPE_ONLY | type;
        return r;
    }

    static final int TYPE_ONLY = 0x7fff0000;
}
