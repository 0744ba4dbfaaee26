package io.jnetmap.middlebox;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Source NAT for IPv4 (NAT44, "masquerading") between an inside and an outside port, on the {@link
 * Middlebox} API. A TCP, UDP or ICMP echo packet from inside gets the outside address and a port (ICMP:
 * identifier) allocated from a range, per protocol; its replies are mapped back to the inside host.
 * Checksums (IP header, TCP/UDP with the pseudo-header, ICMP) are updated incrementally (RFC 1624).
 * Mappings expire when idle (TCP sooner after RST or FIN from both sides). The box is a router hop that
 * asks no ARP: outbound frames go to {@code gatewayMac} from {@code outsideMac}, inbound ones to the MAC
 * the inside host used, from {@code insideMac}. It answers ARP requests for its outside address (with
 * {@code outsideMac}) when the inbound processor has the outside port as its output 1, so hosts outside
 * find it without static neighbour entries. Anything else (non-IPv4, fragments, unknown replies) is
 * dropped and counted. Both processors must run on one thread ({@link Middlebox.Threads#ONE}).
 */
public final class Nat44 {
    /** Configuration: the outside address and port range, the three MACs, the idle timeouts. */
    public record Config(int outsideAddr, int portLo, int portHi, long insideMac, long outsideMac, long gatewayMac,
                         long tcpTimeoutNanos, long udpTimeoutNanos, long icmpTimeoutNanos, int maxMappings) {
        public Config {
            if (portLo < 1 || portHi > 65535 || portLo > portHi) {
                throw new IllegalArgumentException("ports=" + portLo + "-" + portHi + " (expected: 1 <= LO <= HI <= 65535)");
            }
        }

        public static Config of(int outsideAddr, long insideMac, long outsideMac, long gatewayMac) {
            return new Config(outsideAddr, 20000, 59999, insideMac, outsideMac, gatewayMac, TimeUnit.SECONDS.toNanos(300),
                    TimeUnit.SECONDS.toNanos(30), TimeUnit.SECONDS.toNanos(10), 65536);
        }

        public Config withTimeouts(long tcp, long udp, long icmp) {
            return new Config(outsideAddr, portLo, portHi, insideMac, outsideMac, gatewayMac, tcp, udp, icmp, maxMappings);
        }

        public Config withPorts(int lo, int hi) {
            return new Config(outsideAddr, lo, hi, insideMac, outsideMac, gatewayMac, tcpTimeoutNanos, udpTimeoutNanos,
                    icmpTimeoutNanos, maxMappings);
        }
    }

    private static final long CLOSING_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final int FIN_OUT = 1;
    private static final int FIN_IN = 2;

    private final Config cfg;
    private final LongSupplier clock;
    private final FlowTable outTable;
    private final FlowTable inTable;
    private final long[] outA;
    private final long[] outC;
    private final long[] inA;
    private final long[] inC;
    private final int[] inIp;
    private final int[] inPort;
    private final int[] extPort;
    private final int[] proto;
    private final long[] hostMac;
    private final long[] seen;
    private final int[] state;
    private final int[] freeList;
    private int nFree;
    /** owner[protoIndex][port]: the mapping using it, or -1. */
    private final int[][] owner = new int[3][65536];
    private final int[] nextPort = new int[3];
    private long lastSweep;
    private volatile long translated;
    private volatile long dropped;
    private volatile long mappings;
    private volatile long exhausted;
    private volatile long arpReplies;

    public Nat44(Config cfg, LongSupplier clock) {
        this.cfg = cfg;
        this.clock = clock;
        int n = cfg.maxMappings();
        outTable = new FlowTable(n);
        inTable = new FlowTable(n);
        outA = new long[n];
        outC = new long[n];
        inA = new long[n];
        inC = new long[n];
        inIp = new int[n];
        inPort = new int[n];
        extPort = new int[n];
        proto = new int[n];
        hostMac = new long[n];
        seen = new long[n];
        state = new int[n];
        freeList = new int[n];
        Arrays.fill(proto, -1);
        for (int i = n - 1; i >= 0; i--) {
            freeList[nFree++] = i;
        }
        for (int[] o : owner) {
            Arrays.fill(o, -1);
        }
        Arrays.fill(nextPort, cfg.portLo());
    }

    public Nat44(Config cfg) {
        this(cfg, System::nanoTime);
    }

    /** Packets from inside (output 0: the outside port). */
    public BatchProcessor outbound() {
        return b -> process(b, true);
    }

    /** Packets from outside (output 0: the inside port; output 1, if given: the outside port, for ARP replies). */
    public BatchProcessor inbound() {
        return b -> process(b, false);
    }

    public long translated() {
        return translated;
    }

    public long dropped() {
        return dropped;
    }

    /** ARP requests for the outside address answered. */
    public long arpReplies() {
        return arpReplies;
    }

    /** Mappings alive now. */
    public long mappings() {
        return mappings;
    }

    /** New connections refused because every port of the range was in use. */
    public long exhausted() {
        return exhausted;
    }

    private void process(Batch b, boolean out) {
        long now = clock.getAsLong();
        if (now - lastSweep > 1_000_000_000L) {
            sweep(now);
        }
        MemorySegment m = b.memory();
        int ok = 0;
        int arp = 0;
        for (int k = 0, n = b.size(); k < n; k++) {
            if (!out && b.outputs() > 1 && arpReply(m, b.offset(k), b.len(k))) {
                b.forward(k, 1); // back out where it came from
                arp++;
                continue;
            }
            if (out ? outbound(m, b.offset(k), b.len(k), now) : inbound(m, b.offset(k), b.len(k), now)) {
                ok++;
            } else {
                b.drop(k);
            }
        }
        if (arp > 0) {
            arpReplies += arp;
        }
        translated += ok;
        dropped += b.size() - ok - arp;
        mappings = outTable.size();
    }

    private static int protoIndex(int p) {
        return p == Ipv4.TCP ? 0 : p == Ipv4.UDP ? 1 : 2;
    }

    /** Translates one frame from inside in place; false: drop it. */
    public boolean outbound(MemorySegment m, long f, int len, long now) {
        long l4 = Ipv4.l4(m, f, len);
        if (l4 < 0) {
            return false;
        }
        int p = Ipv4.proto(m, f);
        int sp;
        int dp;
        int portAt;
        if (p == Ipv4.TCP || p == Ipv4.UDP) {
            sp = Ipv4.u16(m, l4);
            dp = Ipv4.u16(m, l4 + 2);
            portAt = 0;
        } else if (p == Ipv4.ICMP && Ipv4.u8(m, l4) == 8) {
            sp = dp = Ipv4.u16(m, l4 + 4);
            portAt = 4;
        } else {
            return false;
        }
        int src = Ipv4.src(m, f);
        int dst = Ipv4.dst(m, f);
        long a = (long) src << 32 | (dst & 0xffffffffL);
        long c = (long) p << 32 | (long) sp << 16 | dp;
        int e = live(outTable.get(a, c), now);
        if (e == FlowTable.ABSENT) {
            e = map(a, c, p, src, sp, dst, dp, m.get(Ipv4.U32, f + 6), Ipv4.u16(m, f + 10), now);
            if (e == FlowTable.ABSENT) {
                return false;
            }
        }
        seen[e] = now;
        tcpState(m, l4, p, e, FIN_OUT);
        Ipv4.setAddress(m, f, l4, true, cfg.outsideAddr());
        Ipv4.setL4Word(m, f, l4, portAt, extPort[e]);
        setMacs(m, f, cfg.gatewayMac(), cfg.outsideMac());
        return true;
    }

    /** Translates one frame from outside in place; false: drop it. */
    public boolean inbound(MemorySegment m, long f, int len, long now) {
        long l4 = Ipv4.l4(m, f, len);
        if (l4 < 0 || Ipv4.dst(m, f) != cfg.outsideAddr()) {
            return false;
        }
        int p = Ipv4.proto(m, f);
        int sp;
        int dp;
        int portAt;
        if (p == Ipv4.TCP || p == Ipv4.UDP) {
            sp = Ipv4.u16(m, l4);
            dp = Ipv4.u16(m, l4 + 2);
            portAt = 2;
        } else if (p == Ipv4.ICMP && Ipv4.u8(m, l4) == 0) {
            sp = dp = Ipv4.u16(m, l4 + 4);
            portAt = 4;
        } else {
            return false;
        }
        int src = Ipv4.src(m, f);
        long a = (long) src << 32 | (cfg.outsideAddr() & 0xffffffffL);
        long c = (long) p << 32 | (long) sp << 16 | dp;
        int e = live(inTable.get(a, c), now);
        if (e == FlowTable.ABSENT) {
            return false;
        }
        seen[e] = now;
        tcpState(m, l4, p, e, FIN_IN);
        Ipv4.setAddress(m, f, l4, false, inIp[e]);
        Ipv4.setL4Word(m, f, l4, portAt, inPort[e]);
        setMacs(m, f, hostMac[e], cfg.insideMac());
        return true;
    }

    /**
     * If the frame is an Ethernet ARP request for the outside address, rewrites it in place into the
     * reply ({@code outsideMac} is at the outside address), addressed to the asker, and returns true.
     */
    public boolean arpReply(MemorySegment m, long f, int len) {
        if (len < 42 || Ipv4.u16(m, f + 12) != 0x0806 || Ipv4.u32(m, f + 14) != 0x0001_0800 || Ipv4.u16(m, f + 18) != 0x0604
                || Ipv4.u16(m, f + 20) != 1 || Ipv4.u32(m, f + 38) != cfg.outsideAddr()) {
            return false;
        }
        long asker = (Ipv4.u32(m, f + 22) & 0xffffffffL) << 16 | Ipv4.u16(m, f + 26);
        int askerIp = Ipv4.u32(m, f + 28);
        setMacs(m, f, asker, cfg.outsideMac());
        Ipv4.put16(m, f + 20, 2); // reply
        Ipv4.put32(m, f + 22, (int) (cfg.outsideMac() >>> 16)); // sender: us
        Ipv4.put16(m, f + 26, (int) cfg.outsideMac());
        Ipv4.put32(m, f + 28, cfg.outsideAddr());
        Ipv4.put32(m, f + 32, (int) (asker >>> 16)); // target: the asker
        Ipv4.put16(m, f + 36, (int) asker);
        Ipv4.put32(m, f + 38, askerIp);
        return true;
    }

    private void tcpState(MemorySegment m, long l4, int p, int e, int fin) {
        if (p != Ipv4.TCP) {
            return;
        }
        int flags = Ipv4.u8(m, l4 + 13);
        if ((flags & Ipv4.TCP_RST) != 0) {
            state[e] |= FIN_OUT | FIN_IN;
        } else if ((flags & Ipv4.TCP_FIN) != 0) {
            state[e] |= fin;
        }
    }

    private static void setMacs(MemorySegment m, long f, long dstMac, long srcMac) {
        Ipv4.put32(m, f, (int) (dstMac >>> 16));
        Ipv4.put16(m, f + 4, (int) dstMac);
        Ipv4.put32(m, f + 6, (int) (srcMac >>> 16));
        Ipv4.put16(m, f + 10, (int) srcMac);
    }

    private int map(long a, long c, int p, int src, int sp, int dst, int dp, int macHi, int macLo, long now) {
        if (nFree == 0) {
            sweep(now);
            if (nFree == 0) {
                exhausted++;
                return FlowTable.ABSENT;
            }
        }
        int pi = protoIndex(p);
        int range = cfg.portHi() - cfg.portLo() + 1;
        int port = -1;
        for (int tries = 0; tries < range; tries++) {
            int cand = nextPort[pi];
            nextPort[pi] = cand == cfg.portHi() ? cfg.portLo() : cand + 1;
            int o = owner[pi][cand];
            if (o == -1 || now - seen[o] > timeout(o)) {
                if (o != -1) {
                    forget(o);
                }
                port = cand;
                break;
            }
        }
        if (port < 0) {
            exhausted++;
            return FlowTable.ABSENT;
        }
        int e = freeList[--nFree];
        outA[e] = a;
        outC[e] = c;
        inIp[e] = src;
        inPort[e] = sp;
        extPort[e] = port;
        proto[e] = p;
        hostMac[e] = ((long) macHi & 0xffffffffL) << 16 | macLo;
        seen[e] = now;
        state[e] = 0;
        inA[e] = (long) dst << 32 | (cfg.outsideAddr() & 0xffffffffL);
        inC[e] = p == Ipv4.ICMP ? (long) p << 32 | (long) port << 16 | port : (long) p << 32 | (long) dp << 16 | port;
        owner[pi][port] = e;
        outTable.put(a, c, e);
        inTable.put(inA[e], inC[e], e);
        return e;
    }

    private int live(int e, long now) {
        if (e != FlowTable.ABSENT && now - seen[e] > timeout(e)) {
            forget(e);
            return FlowTable.ABSENT;
        }
        return e;
    }

    private long timeout(int e) {
        return switch (proto[e]) {
            case Ipv4.TCP -> state[e] == (FIN_OUT | FIN_IN) ? Math.min(CLOSING_NANOS, cfg.tcpTimeoutNanos()) : cfg.tcpTimeoutNanos();
            case Ipv4.UDP -> cfg.udpTimeoutNanos();
            default -> cfg.icmpTimeoutNanos();
        };
    }

    private void forget(int e) {
        outTable.remove(outA[e], outC[e]);
        inTable.remove(inA[e], inC[e]);
        owner[protoIndex(proto[e])][extPort[e]] = -1;
        proto[e] = -1;
        freeList[nFree++] = e;
    }

    private void sweep(long now) {
        lastSweep = now;
        for (int e = 0; e < proto.length; e++) {
            if (proto[e] != -1 && now - seen[e] > timeout(e)) {
                forget(e);
            }
        }
        mappings = outTable.size();
    }

    /** {@code 02:00:00:00:00:01} as a long (48 bits). */
    public static long parseMac(String s) {
        String[] p = s.split(":");
        if (p.length != 6) {
            throw new IllegalArgumentException("MAC " + s + " (expected: six hex bytes, aa:bb:cc:dd:ee:ff)");
        }
        long v = 0;
        for (String x : p) {
            try {
                v = v << 8 | Integer.parseInt(x, 16) & 0xff;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("MAC " + s + " (expected: six hex bytes, aa:bb:cc:dd:ee:ff)");
            }
        }
        return v;
    }
}
