package io.jnetmap.middlebox;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A stateful firewall between an inside and an outside port, on the {@link Middlebox} API: a packet
 * of a tracked connection passes in both directions; any other packet is checked against the rules,
 * first match wins, no match is denied; a TCP SYN, UDP datagram or ICMP echo request that a rule allows
 * starts tracking its connection, so the replies come back (connection tracking for TCP, UDP, ICMP echo).
 * TCP connections are forgotten at RST, shortly after FIN from both sides, or when idle; UDP and ICMP
 * when idle. IPv4 and IPv6 alike (rules by either family's prefixes); non-IP frames (ARP) and IPv6
 * neighbour discovery pass. Both processors must run on one thread ({@link Middlebox.Threads#ONE}).
 */
public final class Firewall {
    /** Which way a rule applies: {@code OUT} inside to outside, {@code IN} outside to inside. */
    public enum Dir { IN, OUT, ANY }

    /**
     * A rule: {@code allow|deny in|out|any tcp|udp|icmp|ip SRC DST}, SRC and DST {@code any}, {@code A.B.C.D[/N]}
     * or {@code [IPV6[/N]]}, either with {@code :PORT} or {@code :LO-HI} (TCP, UDP), e.g.
     * {@code allow out tcp any 10.9.0.2:8080} or {@code allow out tcp any [2001:db8::/32]:443}. An address
     * limits the rule to its family; {@code icmp} is ICMP for IPv4 and ICMPv6 for IPv6.
     */
    public record Rule(boolean allow, Dir dir, int proto, Endpoint src, Endpoint dst) {
        public static Rule parse(String s) {
            String[] w = s.trim().split("\\s+");
            String expected = " (expected: allow|deny in|out|any tcp|udp|icmp|ip SRC DST; SRC, DST: any, A.B.C.D[/N] or [IPV6[/N]], "
                    + "with :PORT or :LO-HI for tcp and udp)";
            if (w.length == 6 && w[4].equals("->")) {
                w = new String[] {w[0], w[1], w[2], w[3], w[5]};
            }
            if (w.length != 5) {
                throw new IllegalArgumentException("rule \"" + s + "\"" + expected);
            }
            try {
                boolean allow = switch (w[0]) {
                    case "allow", "pass", "accept" -> true;
                    case "deny", "drop", "block" -> false;
                    default -> throw new IllegalArgumentException(w[0]);
                };
                Dir dir = Dir.valueOf(w[1].toUpperCase(Locale.ROOT));
                int proto = switch (w[2]) {
                    case "tcp" -> Ipv4.TCP;
                    case "udp" -> Ipv4.UDP;
                    case "icmp", "icmp6", "icmpv6" -> Ipv4.ICMP;
                    case "ip", "any" -> 0;
                    default -> throw new IllegalArgumentException(w[2]);
                };
                Endpoint src = Endpoint.parse(w[3]);
                Endpoint dst = Endpoint.parse(w[4]);
                if ((src.hasPorts() || dst.hasPorts()) && proto != Ipv4.TCP && proto != Ipv4.UDP) {
                    throw new IllegalArgumentException("ports");
                }
                if (src.family() != 0 && dst.family() != 0 && src.family() != dst.family()) {
                    throw new IllegalArgumentException("families");
                }
                return new Rule(allow, dir, proto, src, dst);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("rule \"" + s + "\"" + expected, e);
            }
        }

        /** {@code family}: 4 or 6, {@code hi:lo} the address (IPv4 in the low 32 bits of lo), then the packet's ports. */
        boolean matches(boolean out, int p, int family, long srcHi, long srcLo, long dstHi, long dstLo, int sp, int dp) {
            return (dir == Dir.ANY || (dir == Dir.OUT) == out) && (proto == 0 || proto == p)
                    && src.matches(family, srcHi, srcLo) && dst.matches(family, dstHi, dstLo)
                    && (proto == 0 || proto == Ipv4.ICMP || src.portIn(sp) && dst.portIn(dp));
        }
    }

    /**
     * One side of a rule: any address ({@code family} 0), an IPv4 prefix (4: value and mask in the low 32
     * bits of {@code lo}/{@code maskLo}) or an IPv6 prefix (6: 128 bits as {@code hi:lo}), and a port range.
     */
    public record Endpoint(int family, long hi, long lo, long maskHi, long maskLo, int portLo, int portHi) {
        static final Endpoint ANY = new Endpoint(0, 0, 0, 0, 0, 0, 0xffff);

        static Endpoint parse(String s) {
            String host = s;
            String ports = null;
            if (s.startsWith("[")) {
                int close = s.indexOf(']');
                if (close < 0 || close + 1 < s.length() && s.charAt(close + 1) != ':') {
                    throw new IllegalArgumentException(s);
                }
                host = s.substring(1, close);
                ports = close + 1 < s.length() ? s.substring(close + 2) : null;
            } else {
                int colon = s.indexOf(':');
                if (colon >= 0) {
                    host = s.substring(0, colon);
                    ports = s.substring(colon + 1);
                }
            }
            int lo = 0;
            int hi = 0xffff;
            if (ports != null) {
                int dash = ports.indexOf('-');
                lo = Integer.parseInt(dash < 0 ? ports : ports.substring(0, dash));
                hi = dash < 0 ? lo : Integer.parseInt(ports.substring(dash + 1));
                if (lo < 0 || hi > 0xffff || lo > hi) {
                    throw new IllegalArgumentException(ports);
                }
            }
            if (host.equals("any")) {
                return new Endpoint(0, 0, 0, 0, 0, lo, hi);
            }
            int slash = host.indexOf('/');
            String addr = slash < 0 ? host : host.substring(0, slash);
            if (s.startsWith("[")) {
                int bits = slash < 0 ? 128 : Integer.parseInt(host.substring(slash + 1));
                if (bits < 0 || bits > 128 || !addr.contains(":")) {
                    throw new IllegalArgumentException(host);
                }
                byte[] b;
                try {
                    b = java.net.InetAddress.ofLiteral(addr).getAddress();
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(host);
                }
                if (b.length != 16) {
                    throw new IllegalArgumentException(host);
                }
                long vh = 0;
                long vl = 0;
                for (int i = 0; i < 8; i++) {
                    vh = vh << 8 | b[i] & 0xff;
                    vl = vl << 8 | b[i + 8] & 0xff;
                }
                long mh = bits == 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
                long ml = bits <= 64 ? 0 : bits == 128 ? -1L : -1L << (128 - bits);
                return new Endpoint(6, vh & mh, vl & ml, mh, ml, lo, hi);
            }
            int bits = slash < 0 ? 32 : Integer.parseInt(host.substring(slash + 1));
            if (bits < 0 || bits > 32) {
                throw new IllegalArgumentException(host);
            }
            long mask = bits == 0 ? 0 : (-1L << (32 - bits)) & 0xffffffffL;
            return new Endpoint(4, 0, Ipv4.parseAddr(addr) & 0xffffffffL & mask, 0, mask, lo, hi);
        }

        boolean hasPorts() {
            return portLo != 0 || portHi != 0xffff;
        }

        boolean portIn(int p) {
            return p >= portLo && p <= portHi;
        }

        boolean matches(int fam, long h, long l) {
            return family == 0 || family == fam && (h & maskHi) == hi && (l & maskLo) == lo;
        }
    }

    /** Idle times after which a connection is forgotten. */
    public record Timeouts(long tcpNanos, long tcpClosingNanos, long udpNanos, long icmpNanos) {
        public static Timeouts defaults() {
            return new Timeouts(TimeUnit.SECONDS.toNanos(300), TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(30),
                    TimeUnit.SECONDS.toNanos(10));
        }
    }

    private static final int ETH_IPV6 = 0x86dd;
    private static final int ICMPV6 = 58;
    /** Set in the protocol of an IPv6 connection's key, so IPv4 and IPv6 keys never meet. */
    private static final int V6 = 0x100;
    private static final int FIN_ORIG = 1;
    private static final int FIN_REPLY = 2;

    private final List<Rule> rules;
    private final Timeouts timeouts;
    private final LongSupplier clock;
    private final FlowTable table;
    private final long[] ka;
    private final long[] kb;
    private final long[] seen;
    /** Per entry, an IPv6 connection's source and destination (hi, lo, hi, lo). */
    private final long[] addrs6;
    private final int[] state;
    private final int[] freeList;
    private int nFree;
    private long lastSweep;
    private volatile long passed;
    private volatile long denied;
    private volatile long tracked;

    public Firewall(List<Rule> rules, Timeouts timeouts, int maxConnections, LongSupplier clock) {
        this.rules = List.copyOf(rules);
        this.timeouts = timeouts;
        this.clock = clock;
        this.table = new FlowTable(maxConnections);
        ka = new long[maxConnections];
        kb = new long[maxConnections];
        seen = new long[maxConnections];
        addrs6 = new long[4 * maxConnections];
        state = new int[maxConnections];
        freeList = new int[maxConnections];
        java.util.Arrays.fill(kb, -1);
        for (int i = maxConnections - 1; i >= 0; i--) {
            freeList[nFree++] = i;
        }
    }

    /** Default timeouts, 65536 connections, the system clock. */
    public Firewall(List<Rule> rules) {
        this(rules, Timeouts.defaults(), 65536, System::nanoTime);
    }

    /** The processor for packets from inside (output 0: the outside port). */
    public BatchProcessor outbound() {
        return b -> process(b, true);
    }

    /** The processor for packets from outside (output 0: the inside port). */
    public BatchProcessor inbound() {
        return b -> process(b, false);
    }

    public long passed() {
        return passed;
    }

    public long denied() {
        return denied;
    }

    /** Connections tracked now. */
    public long connections() {
        return tracked;
    }

    private void process(Batch b, boolean out) {
        long now = clock.getAsLong();
        if (now - lastSweep > 1_000_000_000L) {
            sweep(now);
        }
        MemorySegment m = b.memory();
        int pass = 0;
        for (int k = 0, n = b.size(); k < n; k++) {
            if (allows(m, b.offset(k), b.len(k), out, now)) {
                pass++;
            } else {
                b.drop(k);
            }
        }
        passed += pass;
        denied += b.size() - pass;
        tracked = table.size();
    }

    /** The decision for one frame (and the connection-tracking it implies). */
    public boolean allows(MemorySegment m, long f, int len, boolean out, long now) {
        if (len < 14) {
            return false;
        }
        int etype = Ipv4.u16(m, f + 12);
        if (etype == ETH_IPV6) {
            return allows6(m, f, len, out, now);
        }
        if (etype != 0x0800) {
            return true;
        }
        if (len < Ipv4.IP + 20) {
            return false;
        }
        int proto = Ipv4.proto(m, f);
        long src = Ipv4.src(m, f) & 0xffffffffL;
        long dst = Ipv4.dst(m, f) & 0xffffffffL;
        long l4 = Ipv4.l4(m, f, len);
        int sp = 0;
        int dp = 0;
        boolean trackable = false;
        int tcpFlags = 0;
        boolean starts = false;
        if (l4 >= 0 && (proto == Ipv4.TCP || proto == Ipv4.UDP)) {
            sp = Ipv4.u16(m, l4);
            dp = Ipv4.u16(m, l4 + 2);
            trackable = true;
            if (proto == Ipv4.TCP) {
                tcpFlags = len >= l4 - f + 14 ? Ipv4.u8(m, l4 + 13) : 0;
                starts = (tcpFlags & (Ipv4.TCP_SYN | Ipv4.TCP_ACK | Ipv4.TCP_RST)) == Ipv4.TCP_SYN;
            } else {
                starts = true;
            }
        } else if (l4 >= 0 && proto == Ipv4.ICMP) {
            int type = Ipv4.u8(m, l4);
            if (type == 8 || type == 0) {
                sp = dp = Ipv4.u16(m, l4 + 4); // the echo identifier, on both sides
                trackable = true;
                starts = type == 8;
            }
        }
        return decide(out, now, 4, proto, 0, src, 0, dst, sp, dp, trackable, starts, tcpFlags);
    }

    /**
     * IPv6: the fixed header's next header only (a packet with extension headers matches rules by address
     * and {@code ip}, never by ports, and is not tracked); ICMPv6 echo is tracked as ICMP echo is, and
     * neighbour discovery passes, as ARP does for IPv4.
     */
    private boolean allows6(MemorySegment m, long f, int len, boolean out, long now) {
        if (len < 14 + 40) {
            return false;
        }
        int nh = Ipv4.u8(m, f + 20);
        long srcHi = u64(m, f + 22);
        long srcLo = u64(m, f + 30);
        long dstHi = u64(m, f + 38);
        long dstLo = u64(m, f + 46);
        long l4 = f + 54;
        int sp = 0;
        int dp = 0;
        boolean trackable = false;
        int tcpFlags = 0;
        boolean starts = false;
        int proto = nh;
        if ((nh == Ipv4.TCP && len >= 54 + 14) || (nh == Ipv4.UDP && len >= 54 + 8)) {
            sp = Ipv4.u16(m, l4);
            dp = Ipv4.u16(m, l4 + 2);
            trackable = true;
            if (nh == Ipv4.TCP) {
                tcpFlags = Ipv4.u8(m, l4 + 13);
                starts = (tcpFlags & (Ipv4.TCP_SYN | Ipv4.TCP_ACK | Ipv4.TCP_RST)) == Ipv4.TCP_SYN;
            } else {
                starts = true;
            }
        } else if (nh == ICMPV6) {
            proto = Ipv4.ICMP; // rules say icmp for both families
            int type = len >= 54 + 8 ? Ipv4.u8(m, l4) : -1;
            if (type >= 133 && type <= 137) {
                return true; // neighbour discovery
            }
            if (type == 128 || type == 129) {
                sp = dp = Ipv4.u16(m, l4 + 4);
                trackable = true;
                starts = type == 128;
            }
        }
        return decide(out, now, 6, proto, srcHi, srcLo, dstHi, dstLo, sp, dp, trackable, starts, tcpFlags);
    }

    private static long u64(MemorySegment m, long off) {
        return (long) Ipv4.u32(m, off) << 32 | Ipv4.u32(m, off + 4) & 0xffffffffL;
    }

    /**
     * Conntrack then rules, for either family. Keys: IPv4 {@code src << 32 | dst} and
     * {@code proto << 32 | sp << 16 | dp}; IPv6 a 64-bit mix of both addresses and the same word with
     * {@link #V6} set, the addresses kept beside the entry and compared on every hit (a mix that collides
     * finds no connection).
     */
    private boolean decide(boolean out, long now, int family, int proto, long srcHi, long srcLo, long dstHi, long dstLo,
                           int sp, int dp, boolean trackable, boolean starts, int tcpFlags) {
        if (!trackable) {
            return ruleAllows(out, proto, family, srcHi, srcLo, dstHi, dstLo, sp, dp);
        }
        boolean v6 = family == 6;
        long a = v6 ? key6(srcHi, srcLo, dstHi, dstLo) : srcLo << 32 | dstLo;
        long c = (long) (v6 ? V6 | proto : proto) << 32 | (long) sp << 16 | dp;
        int e = live(a, c, now);
        if (e != FlowTable.ABSENT && v6 && !sameAddrs(e, srcHi, srcLo, dstHi, dstLo)) {
            e = FlowTable.ABSENT;
        }
        boolean reply = false;
        if (e == FlowTable.ABSENT) {
            long ra = v6 ? key6(dstHi, dstLo, srcHi, srcLo) : dstLo << 32 | srcLo;
            e = live(ra, (long) (v6 ? V6 | proto : proto) << 32 | (long) dp << 16 | sp, now);
            if (e != FlowTable.ABSENT && v6 && !sameAddrs(e, dstHi, dstLo, srcHi, srcLo)) {
                e = FlowTable.ABSENT;
            }
            reply = e != FlowTable.ABSENT;
        }
        if (e != FlowTable.ABSENT) {
            seen[e] = now;
            if (proto == Ipv4.TCP) {
                if ((tcpFlags & Ipv4.TCP_RST) != 0) {
                    forget(e);
                } else if ((tcpFlags & Ipv4.TCP_FIN) != 0) {
                    state[e] |= reply ? FIN_REPLY : FIN_ORIG;
                }
            }
            return true;
        }
        if (!starts) {
            return false; // not part of a connection, and cannot start one
        }
        if (!ruleAllows(out, proto, family, srcHi, srcLo, dstHi, dstLo, sp, dp)) {
            return false;
        }
        if (v6 && table.get(a, c) != FlowTable.ABSENT) {
            return true; // another connection's mix: this one passes (a rule allowed it) untracked
        }
        int t = track(a, c, now);
        if (t >= 0 && v6) {
            addrs6[4 * t] = srcHi;
            addrs6[4 * t + 1] = srcLo;
            addrs6[4 * t + 2] = dstHi;
            addrs6[4 * t + 3] = dstLo;
        }
        return true;
    }

    private boolean sameAddrs(int e, long srcHi, long srcLo, long dstHi, long dstLo) {
        return addrs6[4 * e] == srcHi && addrs6[4 * e + 1] == srcLo && addrs6[4 * e + 2] == dstHi && addrs6[4 * e + 3] == dstLo;
    }

    private static long key6(long srcHi, long srcLo, long dstHi, long dstLo) {
        return FlowHash.mix(srcHi ^ FlowHash.mix(srcLo ^ FlowHash.mix(dstHi ^ FlowHash.mix(dstLo + 0x6))));
    }

    private boolean ruleAllows(boolean out, int proto, int family, long srcHi, long srcLo, long dstHi, long dstLo, int sp, int dp) {
        for (int i = 0, n = rules.size(); i < n; i++) {
            Rule r = rules.get(i);
            if (r.matches(out, proto, family, srcHi, srcLo, dstHi, dstLo, sp, dp)) {
                return r.allow();
            }
        }
        return false;
    }

    private int live(long a, long c, long now) {
        int e = table.get(a, c);
        if (e != FlowTable.ABSENT && now - seen[e] > timeout(e)) {
            forget(e);
            return FlowTable.ABSENT;
        }
        return e;
    }

    private long timeout(int e) {
        int proto = (int) (kb[e] >>> 32) & 0xff;
        return switch (proto) {
            case Ipv4.TCP -> state[e] == (FIN_ORIG | FIN_REPLY) ? timeouts.tcpClosingNanos() : timeouts.tcpNanos();
            case Ipv4.UDP -> timeouts.udpNanos();
            default -> timeouts.icmpNanos();
        };
    }

    /** Tracks a connection; returns its entry, or -1 if the table is full. */
    private int track(long a, long c, long now) {
        if (nFree == 0) {
            sweep(now);
            if (nFree == 0) {
                return -1; // full: the packet passes (a rule allowed it), its replies will not
            }
        }
        int e = freeList[--nFree];
        ka[e] = a;
        kb[e] = c;
        seen[e] = now;
        state[e] = 0;
        table.put(a, c, e);
        return e;
    }

    private void forget(int e) {
        table.remove(ka[e], kb[e]);
        kb[e] = -1;
        freeList[nFree++] = e;
    }

    private void sweep(long now) {
        lastSweep = now;
        for (int e = 0; e < kb.length; e++) {
            if (kb[e] != -1 && table.get(ka[e], kb[e]) == e && now - seen[e] > timeout(e)) {
                forget(e);
            }
        }
        tracked = table.size();
    }

    /** The rules, one per line. */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        for (Rule r : rules) {
            out.add(r.toString());
        }
        return out;
    }
}
