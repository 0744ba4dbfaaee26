package io.jnetmap.middlebox;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A stateful IPv4 firewall between an inside and an outside port, on the {@link Middlebox} API: a packet
 * of a tracked connection passes in both directions; any other packet is checked against the rules,
 * first match wins, no match is denied; a TCP SYN, UDP datagram or ICMP echo request that a rule allows
 * starts tracking its connection, so the replies come back (connection tracking for TCP, UDP, ICMP echo).
 * TCP connections are forgotten at RST, shortly after FIN from both sides, or when idle; UDP and ICMP
 * when idle. Non-IP frames (ARP) pass; IPv6 is denied (the rules are IPv4). Both processors must run on
 * one thread ({@link Middlebox.Threads#ONE}).
 */
public final class Firewall {
    /** Which way a rule applies: {@code OUT} inside to outside, {@code IN} outside to inside. */
    public enum Dir { IN, OUT, ANY }

    /**
     * A rule: {@code allow|deny in|out|any tcp|udp|icmp|ip SRC DST}, SRC and DST {@code any}, {@code A.B.C.D[/N]},
     * either with {@code :PORT} or {@code :LO-HI} (TCP, UDP), e.g. {@code allow out tcp any 10.9.0.2:8080}.
     */
    public record Rule(boolean allow, Dir dir, int proto, int srcNet, int srcMask, int srcLo, int srcHi,
                       int dstNet, int dstMask, int dstLo, int dstHi) {
        public static Rule parse(String s) {
            String[] w = s.trim().split("\\s+");
            String expected = " (expected: allow|deny in|out|any tcp|udp|icmp|ip SRC DST; SRC, DST: any or A.B.C.D[/N], "
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
                    case "icmp" -> Ipv4.ICMP;
                    case "ip", "any" -> 0;
                    default -> throw new IllegalArgumentException(w[2]);
                };
                int[] src = endpoint(w[3]);
                int[] dst = endpoint(w[4]);
                if ((src[2] != 0 || dst[3] != 0xffff || dst[2] != 0 || src[3] != 0xffff) && proto != Ipv4.TCP && proto != Ipv4.UDP) {
                    throw new IllegalArgumentException("ports");
                }
                return new Rule(allow, dir, proto, src[0], src[1], src[2], src[3], dst[0], dst[1], dst[2], dst[3]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("rule \"" + s + "\"" + expected, e);
            }
        }

        /** net, mask, port lo, port hi */
        private static int[] endpoint(String s) {
            String host = s;
            int lo = 0;
            int hi = 0xffff;
            int colon = s.indexOf(':');
            if (colon >= 0) {
                host = s.substring(0, colon);
                String ports = s.substring(colon + 1);
                int dash = ports.indexOf('-');
                lo = Integer.parseInt(dash < 0 ? ports : ports.substring(0, dash));
                hi = dash < 0 ? lo : Integer.parseInt(ports.substring(dash + 1));
                if (lo < 0 || hi > 0xffff || lo > hi) {
                    throw new IllegalArgumentException(ports);
                }
            }
            if (host.equals("any")) {
                return new int[] {0, 0, lo, hi};
            }
            int slash = host.indexOf('/');
            int bits = slash < 0 ? 32 : Integer.parseInt(host.substring(slash + 1));
            if (bits < 0 || bits > 32) {
                throw new IllegalArgumentException(host);
            }
            int mask = bits == 0 ? 0 : -1 << (32 - bits);
            return new int[] {Ipv4.parseAddr(slash < 0 ? host : host.substring(0, slash)) & mask, mask, lo, hi};
        }

        boolean matches(boolean out, int p, int src, int dst, int sp, int dp) {
            return (dir == Dir.ANY || (dir == Dir.OUT) == out) && (proto == 0 || proto == p)
                    && (src & srcMask) == srcNet && (dst & dstMask) == dstNet
                    && (proto == 0 || proto == Ipv4.ICMP || sp >= srcLo && sp <= srcHi && dp >= dstLo && dp <= dstHi);
        }
    }

    /** Idle times after which a connection is forgotten. */
    public record Timeouts(long tcpNanos, long tcpClosingNanos, long udpNanos, long icmpNanos) {
        public static Timeouts defaults() {
            return new Timeouts(TimeUnit.SECONDS.toNanos(300), TimeUnit.SECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(30),
                    TimeUnit.SECONDS.toNanos(10));
        }
    }

    private static final int FIN_ORIG = 1;
    private static final int FIN_REPLY = 2;

    private final List<Rule> rules;
    private final Timeouts timeouts;
    private final LongSupplier clock;
    private final FlowTable table;
    private final long[] ka;
    private final long[] kb;
    private final long[] seen;
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
        if (etype != 0x0800) {
            return etype != 0x86dd;
        }
        if (len < Ipv4.IP + 20) {
            return false;
        }
        int proto = Ipv4.proto(m, f);
        int src = Ipv4.src(m, f);
        int dst = Ipv4.dst(m, f);
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
        if (trackable) {
            long a = (long) src << 32 | (dst & 0xffffffffL);
            long c = (long) proto << 32 | (long) sp << 16 | dp;
            int e = live(a, c, now);
            boolean reply = false;
            if (e == FlowTable.ABSENT) {
                e = live((long) dst << 32 | (src & 0xffffffffL), (long) proto << 32 | (long) dp << 16 | sp, now);
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
            if (!ruleAllows(out, proto, src, dst, sp, dp)) {
                return false;
            }
            track(a, c, now);
            return true;
        }
        return ruleAllows(out, proto, src, dst, sp, dp);
    }

    private boolean ruleAllows(boolean out, int proto, int src, int dst, int sp, int dp) {
        for (int i = 0, n = rules.size(); i < n; i++) {
            Rule r = rules.get(i);
            if (r.matches(out, proto, src, dst, sp, dp)) {
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
        int proto = (int) (kb[e] >>> 32);
        return switch (proto) {
            case Ipv4.TCP -> state[e] == (FIN_ORIG | FIN_REPLY) ? timeouts.tcpClosingNanos() : timeouts.tcpNanos();
            case Ipv4.UDP -> timeouts.udpNanos();
            default -> timeouts.icmpNanos();
        };
    }

    private void track(long a, long c, long now) {
        if (nFree == 0) {
            sweep(now);
            if (nFree == 0) {
                return; // full: the packet passes (a rule allowed it), its replies will not
            }
        }
        int e = freeList[--nFree];
        ka[e] = a;
        kb[e] = c;
        seen[e] = now;
        state[e] = 0;
        table.put(a, c, e);
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
