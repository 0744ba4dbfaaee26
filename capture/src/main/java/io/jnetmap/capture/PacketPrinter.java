package io.jnetmap.capture;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.ZoneId;

/**
 * One line per packet as {@code tcpdump -n -S} prints it (absolute sequence numbers; no TCP options, no
 * application protocols): Ethernet, 802.1Q/802.1ad, ARP, IPv4, IPv6, TCP with flags/seq/ack/win, UDP, ICMP,
 * ICMPv6. Appends to a reusable StringBuilder.
 */
public final class PacketPrinter {
    private static final ValueLayout.OfShort BE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt BE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final boolean timestamps;
    private final ZoneId zone;

    public PacketPrinter(boolean timestamps) {
        this.timestamps = timestamps;
        this.zone = ZoneId.systemDefault();
    }

    private MemorySegment s;
    private long base;
    private int cap;

    private int u8(int o) {
        return s.get(ValueLayout.JAVA_BYTE, base + o) & 0xff;
    }

    private int u16(int o) {
        return s.get(BE_SHORT, base + o) & 0xffff;
    }

    private long u32(int o) {
        return s.get(BE_INT, base + o) & 0xffffffffL;
    }

    private boolean have(int o, int n) {
        return o + n <= cap;
    }

    /** Appends the packet's line (without a newline) to {@code out}. */
    public void print(StringBuilder out, MemorySegment seg, long off, int caplen, int wirelen, long tsNanos) {
        s = seg;
        base = off;
        cap = caplen;
        if (timestamps) {
            var t = Instant.ofEpochSecond(tsNanos / 1_000_000_000L, tsNanos % 1_000_000_000L).atZone(zone).toLocalTime();
            out.append(String.format("%02d:%02d:%02d.%06d ", t.getHour(), t.getMinute(), t.getSecond(), t.getNano() / 1000));
        }
        if (!have(0, 14)) {
            out.append("[|ether]");
            return;
        }
        int o = 12;
        int type = u16(o);
        while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) && have(o, 6)) {
            o += 4;
            type = u16(o);
        }
        o += 2;
        switch (type) {
            case 0x0800 -> ipv4(out, o, wirelen);
            case 0x86dd -> ipv6(out, o);
            case 0x0806, 0x8035 -> arp(out, o, wirelen - o, type == 0x8035);
            default -> {
                if (type <= 1500) {
                    out.append("802.3, length ").append(type);
                } else {
                    out.append("ethertype Unknown (0x").append(String.format("%04x", type)).append("), length ").append(wirelen);
                }
            }
        }
    }

    private void mac(StringBuilder out, int o) {
        for (int i = 0; i < 6; i++) {
            if (i > 0) out.append(':');
            out.append(String.format("%02x", u8(o + i)));
        }
    }

    private void ip4(StringBuilder out, int o) {
        out.append(u8(o)).append('.').append(u8(o + 1)).append('.').append(u8(o + 2)).append('.').append(u8(o + 3));
    }

    private void ip6addr(StringBuilder out, int o) {
        byte[] a = new byte[16];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, base + o, a, 0, 16);
        try {
            String t = java.net.InetAddress.getByAddress(a).getHostAddress();
            out.append(compress(t));
        } catch (java.net.UnknownHostException e) {
            out.append('?');
        }
    }

    /** Java prints 0:0:0:0:0:0:0:1; tcpdump prints ::1 (RFC 5952: the longest run of zero groups as ::). */
    static String compress(String full) {
        String[] g = full.split(":");
        int bestStart = -1, bestLen = 0;
        for (int i = 0; i < g.length; ) {
            if (g[i].equals("0")) {
                int j = i;
                while (j < g.length && g[j].equals("0")) j++;
                if (j - i > bestLen && j - i >= 2) {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) return full;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < bestStart; i++) b.append(i > 0 ? ":" : "").append(g[i]);
        b.append("::");
        for (int i = bestStart + bestLen; i < g.length; i++) b.append(i > bestStart + bestLen ? ":" : "").append(g[i]);
        return b.toString();
    }

    private void arp(StringBuilder out, int o, int len, boolean rarp) {
        if (!have(o, 28)) {
            out.append(rarp ? "RARP" : "ARP").append(", [|arp]");
            return;
        }
        int op = u16(o + 6);
        out.append(rarp ? "RARP, " : "ARP, ");
        switch (op) {
            case 1 -> {
                out.append("Request who-has ");
                ip4(out, o + 24);
                out.append(" tell ");
                ip4(out, o + 14);
            }
            case 2 -> {
                out.append("Reply ");
                ip4(out, o + 14);
                out.append(" is-at ");
                mac(out, o + 8);
            }
            case 3 -> {
                out.append("Reverse Request who-is ");
                mac(out, o + 18);
                out.append(" tell ");
                mac(out, o + 8);
            }
            case 4 -> {
                out.append("Reverse Reply ");
                mac(out, o + 18);
                out.append(" at ");
                ip4(out, o + 24);
            }
            default -> out.append("Unknown (").append(op).append(")");
        }
        out.append(", length ").append(len);
    }

    private void ipv4(StringBuilder out, int o, int wirelen) {
        if (!have(o, 20)) {
            out.append("IP [|ip]");
            return;
        }
        int ihl = (u8(o) & 0xf) * 4;
        int total = u16(o + 2);
        int frag = u16(o + 6);
        int proto = u8(o + 9);
        out.append("IP ");
        int l4 = o + ihl;
        int l4len = total - ihl;
        boolean first = (frag & 0x1fff) == 0;
        if (first && (proto == 6 || proto == 17) && have(l4, 4)) {
            ip4(out, o + 12);
            out.append('.').append(u16(l4));
            out.append(" > ");
            ip4(out, o + 16);
            out.append('.').append(u16(l4 + 2));
            out.append(": ");
            transport(out, proto, l4, l4len);
            return;
        }
        ip4(out, o + 12);
        out.append(" > ");
        ip4(out, o + 16);
        out.append(": ");
        if (!first) {
            out.append("ip-proto-").append(proto);
            return;
        }
        if (proto == 1) {
            icmp(out, l4, l4len);
        } else {
            out.append("ip-proto-").append(proto).append(' ').append(l4len);
        }
    }

    private void ipv6(StringBuilder out, int o) {
        if (!have(o, 40)) {
            out.append("IP6 [|ip6]");
            return;
        }
        int plen = u16(o + 4);
        int next = u8(o + 6);
        int l4 = o + 40;
        int l4len = plen;
        // hop-by-hop, routing, destination options: skipped to the upper layer
        while ((next == 0 || next == 43 || next == 60) && have(l4, 2)) {
            int hl = (u8(l4 + 1) + 1) * 8;
            next = u8(l4);
            l4 += hl;
            l4len -= hl;
        }
        out.append("IP6 ");
        if ((next == 6 || next == 17) && have(l4, 4)) {
            ip6addr(out, o + 8);
            out.append('.').append(u16(l4));
            out.append(" > ");
            ip6addr(out, o + 24);
            out.append('.').append(u16(l4 + 2));
            out.append(": ");
            transport(out, next, l4, l4len);
            return;
        }
        ip6addr(out, o + 8);
        out.append(" > ");
        ip6addr(out, o + 24);
        out.append(": ");
        if (next == 58 && have(l4, 8)) {
            int t = u8(l4);
            out.append("ICMP6, ");
            switch (t) {
                case 128, 129 -> out.append(t == 128 ? "echo request" : "echo reply").append(", id ").append(u16(l4 + 4))
                        .append(", seq ").append(u16(l4 + 6));
                case 133 -> out.append("router solicitation");
                case 134 -> out.append("router advertisement");
                case 135 -> out.append("neighbor solicitation");
                case 136 -> out.append("neighbor advertisement");
                case 1 -> out.append("destination unreachable");
                case 2 -> out.append("packet too big");
                case 3 -> out.append("time exceeded in-transit");
                case 143 -> out.append("multicast listener report v2");
                default -> out.append("type ").append(t);
            }
            out.append(", length ").append(l4len);
        } else if (next == 44) {
            out.append("frag ").append(l4len);
        } else {
            out.append("ip-proto-").append(next).append(' ').append(l4len);
        }
    }

    private void transport(StringBuilder out, int proto, int l4, int l4len) {
        if (proto == 17) {
            out.append("UDP, length ").append(l4len - 8);
            return;
        }
        if (!have(l4, 20)) {
            out.append("[|tcp]");
            return;
        }
        int off = (u8(l4 + 12) >> 4) * 4;
        int flags = u8(l4 + 13);
        long seq = u32(l4 + 4), ack = u32(l4 + 8);
        int win = u16(l4 + 14);
        int data = l4len - off;
        out.append("Flags [");
        if ((flags & 0x02) != 0) out.append('S');
        if ((flags & 0x01) != 0) out.append('F');
        if ((flags & 0x08) != 0) out.append('P');
        if ((flags & 0x04) != 0) out.append('R');
        if ((flags & 0x20) != 0) out.append('U');
        if ((flags & 0x40) != 0) out.append('E');
        if ((flags & 0x80) != 0) out.append('W');
        if ((flags & 0x10) != 0) out.append('.');
        if ((flags & 0x3f & ~0x10) == 0 && (flags & 0x10) == 0) out.append("none");
        out.append("]");
        if (data > 0 || (flags & 0x07) != 0) {
            out.append(", seq ").append(seq);
            if (data > 0) out.append(':').append(seq + data);
        }
        if ((flags & 0x10) != 0) out.append(", ack ").append(ack);
        out.append(", win ").append(win);
        if (off > 20 && have(l4, off)) {
            out.append(", options [");
            int o = l4 + 20, end = l4 + off;
            boolean firstOpt = true;
            while (o < end) {
                int kind = u8(o);
                int olen = kind <= 1 ? 1 : o + 1 < end ? u8(o + 1) : 0;
                if (olen < 1 || o + olen > end) break;
                if (!firstOpt) out.append(',');
                firstOpt = false;
                switch (kind) {
                    case 0 -> out.append("eol");
                    case 1 -> out.append("nop");
                    case 2 -> out.append("mss ").append(olen == 4 ? u16(o + 2) : 0);
                    case 3 -> out.append("wscale ").append(olen == 3 ? u8(o + 2) : 0);
                    case 4 -> out.append("sackOK");
                    case 5 -> {
                        out.append("sack ").append((olen - 2) / 8);
                        for (int b = o + 2; b + 8 <= o + olen; b += 8) out.append(" {").append(u32(b)).append(':').append(u32(b + 4)).append('}');
                    }
                    case 8 -> out.append("TS val ").append(olen == 10 ? u32(o + 2) : 0).append(" ecr ").append(olen == 10 ? u32(o + 6) : 0);
                    default -> out.append("unknown-").append(kind);
                }
                if (kind == 0) break;
                o += olen;
            }
            out.append(']');
        }
        out.append(", length ").append(Math.max(data, 0));
    }

    private void icmp(StringBuilder out, int o, int len) {
        if (!have(o, 8)) {
            out.append("ICMP [|icmp]");
            return;
        }
        int t = u8(o);
        out.append("ICMP ");
        switch (t) {
            case 0, 8 -> out.append(t == 8 ? "echo request" : "echo reply").append(", id ").append(u16(o + 4)).append(", seq ").append(u16(o + 6));
            case 3 -> {
                int code = u8(o + 1);
                int in = o + 8;
                if (have(in, 24) && (code == 3 || code == 1 || code == 0)) {
                    int ihl = (u8(in) & 0xf) * 4;
                    int p = u8(in + 9);
                    if (code == 3 && (p == 6 || p == 17) && have(in + ihl, 4)) {
                        ip4(out, in + 16);
                        out.append(p == 6 ? " tcp port " : " udp port ").append(u16(in + ihl + 2)).append(" unreachable");
                    } else if (code == 1) {
                        out.append("host ");
                        ip4(out, in + 16);
                        out.append(" unreachable");
                    } else if (code == 0) {
                        out.append("net ");
                        ip4(out, in + 16);
                        out.append(" unreachable");
                    } else {
                        ip4(out, in + 16);
                        out.append(" protocol ").append(p).append(" port unreachable");
                    }
                } else {
                    out.append("unreachable code ").append(code);
                }
            }
            case 11 -> out.append("time exceeded in-transit");
            default -> out.append("type-#").append(t);
        }
        out.append(", length ").append(len);
    }
}
