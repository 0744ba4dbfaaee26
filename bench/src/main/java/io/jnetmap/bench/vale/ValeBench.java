package io.jnetmap.bench.vale;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.bench.Result;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.vale.LookupModule;
import io.jnetmap.vale.SwitchPort;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.ThreadParams;
import org.openjdk.jmh.runner.options.TimeValue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The switch's forwarding rate, two ways. Port {@code a} sends batches of {@link #BATCH} packets
 * (buffers filled once with the frame, as pkt-gen does; each packet costs the sender a slot write); its
 * txsync forwards them (lookup, lease, copy or swap, publish).
 *
 * <ul>
 *   <li><b>Per sending core</b> (the plain names, {@code vale.copy.2p.60B}; VALE's published figures are
 *       of this kind): the sender runs on one thread, and one other thread busy-polls every receiver
 *       (rxsync, release everything) — the two threads of one JMH {@code @Group}. The figure is the rate
 *       of packets <i>delivered</i> to the receivers ({@code delivered}, counted by the receiving
 *       thread), with the switch's default drop semantics (no back-pressure): what the receiver did not
 *       make room for in time is dropped and counted, and reported beside it as {@code ….drops} (Mpps
 *       of drops, from the sender's drop counters).</li>
 *   <li><b>One thread</b> ({@code ….1t}): sender, forwarding and receivers in turn on one thread, every
 *       receiver drained after each batch; a run that drops anything fails, so every counted packet was
 *       delivered.</li>
 * </ul>
 * Results in millions of packets per second (Gbit/s for 1514-byte frames).
 *
 * <p>Topologies: 2 ports (copy: private regions; swap: the receiver opened with {@code @share=});
 * 4 and 8 ports (one sender, its frames addressed round-robin to the other ports, learned);
 * broadcast to 3 ports (each frame delivered 3 times; the rate counts frames sent); the L3 router
 * with 1k and 100k random routes (frames to 4096 routed addresses, rewritten on the way), also behind
 * a flow cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ValeBench {
    static final int BATCH = 512;

    /**
     * Suite {@code vale}: every benchmark here, each topology per sending core and on one thread;
     * {@code --quick} (under a minute) only the per-sending-core figures and the allocation check.
     */
    public static void suite(boolean quick, BenchMain.Results out) throws Exception {
        BenchMain.ratio("vale.copy.2p.60B.vs.c", "vale.copy.2p.60B", "limit.vale.copy.2p.60B");
        BenchMain.ratio("vale.swap.2p.60B.vs.c", "vale.swap.2p.60B", "limit.vale.swap.2p.60B");
        BenchMain.ratio("vale.copy.2p.1514B.vs.c", "vale.copy.2p.1514B", "limit.vale.copy.2p.1514B");
        ValeCpu.suite(quick, out); // CPU time per packet, C and jnetmap in turn: holds on a shared machine
        io.jnetmap.bench.limit.CLimits.vale(quick, out); // the C references first, in the same run
        String include = quick ? "io\\.jnetmap\\.bench\\.vale\\.ValeBench\\.(copy2p60OneThread|[a-z0-9]+)$" : "io\\.jnetmap\\.bench\\.vale\\..*";
        BenchMain.jmh(include, quick, true, out, (q, opt) -> {
            if (q) {
                opt.warmupIterations(1).warmupTime(TimeValue.milliseconds(500))
                        .measurementIterations(3).measurementTime(TimeValue.milliseconds(500));
            }
        });
        explainDrops(out);
        warnDrops(out, "copy.2p.60B", 1);
        warnDrops(out, "swap.2p.60B", 1);
        warnDrops(out, "copy.2p.1514B", 1514 * 8 / 1000.0);
    }

    /**
     * A two-thread figure counts delivered packets: when its receiving thread fell behind (descheduled
     * on a busy machine), the sender drops most of what it forwards and the figure measures the
     * scheduler. C reference and jnetmap alike: a {@code ….vs.c} ratio is only meaningful when neither
     * dropped much (the 2026-12-06 run compared jnetmap's 169 Gbit/s with a C figure of 28.7 whose
     * receiver had lost its CPU). {@code perPps}: the figure's unit per Mpps (Gbit/s for 1514 B).
     */
    static void warnDrops(BenchMain.Results out, String g, double perPps) {
        for (String name : new String[] {"vale." + g, "limit.vale." + g}) {
            Double delivered = out.get(name);
            Double drops = out.get(name + ".drops");
            if (delivered == null || drops == null) {
                continue;
            }
            double sent = delivered / perPps + drops;
            if (sent > 0 && drops / sent > 0.1) {
                out.warn("WARNING " + name + ": " + Math.round(100 * drops / sent) + " % of the packets sent were dropped"
                        + " (the receiving thread fell behind): " + name.replace("limit.", "") + ".vs.c compares"
                        + " the scheduler, not the path; see vale." + g + ".cpu.vs.c (CPU time per packet, one thread)");
            }
        }
    }

    /** Says why a two-thread figure dropped packets: the receiving thread fell behind, or something else. */
    static void explainDrops(BenchMain.Results out) {
        for (String g : new String[] {"copy.2p.60B", "copy.2p.1514B", "swap.2p.60B", "copy.4p.60B", "copy.8p.60B",
                "bcast.4p.60B", "l3.1k.60B", "l3.100k.60B", "l3fc.100k.60B"}) {
            Double drops = out.get("vale." + g + ".drops");
            Double full = out.get("vale." + g + ".drops.full");
            if (drops == null || drops <= 0) {
                continue;
            }
            double f = full == null ? 0 : full;
            System.out.println("# vale." + g + ".drops: " + BenchMain.Results.format(drops) + " Mpps dropped; "
                    + BenchMain.Results.format(f) + " Mpps because the receiving thread fell behind (the destination"
                    + " ring was full when a batch came: the receiver was descheduled or slower than the sender)"
                    + (drops - f > 1e-9 ? ", " + BenchMain.Results.format(drops - f)
                    + " Mpps for other causes (lookup found no port, bad slots: a bug in the bench)" : ""));
        }
    }
    static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static int switches;

    /** A switch with one sender and some receivers, frames pre-written into every buffer. */
    public abstract static class Topology {
        ValeSwitch sw;
        Port a;
        final List<Port> receivers = new ArrayList<>();
        Ring tx;
        Ring[] rx;
        int len;
        /** Frame for TX slot i (index into templates), so addresses vary per slot. */
        long[] dstMacs;
        /** The sender as the switch sees it (its drop counters). */
        SwitchPort sp;
        /** Sender's drop count at its last look (two-thread runs: written by the sending thread only). */
        long lastDrops;

        /** True where drops fail the run (one thread: everything must be delivered). */
        boolean strict() {
            return true;
        }

        abstract int ports();

        String receiverOptions(String swName) {
            return "";
        }

        LookupModule lookup() {
            return null;
        }

        int frameLength() {
            return 60;
        }

        /** Writes the frame for slot {@code i} at {@code off}. */
        void frame(MemorySegment m, long off, int i) {
            long dst = dstMacs[i % dstMacs.length];
            writeMac(m, off, dst);
            writeMac(m, off + 6, 0x020000000001L);
            m.set(U16, off + 12, (short) 0x88b5);
        }

        @Setup(Level.Trial)
        public void setup() {
            String name = "valebench" + (++switches) + "p" + ProcessHandle.current().pid();
            LookupModule l = lookup();
            if (l != null) {
                sw = ValeSwitches.create(name, l);
            }
            len = frameLength();
            a = Netmap.open(name + ":a");
            for (int p = 1; p < ports(); p++) {
                receivers.add(Netmap.open(name + ":r" + p + receiverOptions(name)));
            }
            if (sw == null) {
                sw = ValeSwitches.get(name).orElseThrow();
            }
            tx = a.txRing(0);
            rx = receivers.stream().map(r -> r.rxRing(0)).toArray(Ring[]::new);
            dstMacs = new long[ports() - 1];
            for (int p = 1; p < ports(); p++) {
                dstMacs[p - 1] = 0x020000000100L + p;
                // each receiver announces its address so that the bridge learns it
                Ring t = receivers.get(p - 1).txRing(0);
                int i = t.head();
                MemorySegment m = t.memory();
                writeMac(m, t.bufOffset(i), 0xffffffffffffL);
                writeMac(m, t.bufOffset(i) + 6, dstMacs[p - 1]);
                m.set(U16, t.bufOffset(i) + 12, (short) 0x88b5);
                t.setSlot(i, 60, 0);
                t.advanceTo(t.nextSlot(i));
                t.sync();
            }
            prefill();
            drain();
            sp = sw.port("a").orElseThrow();
            lastDrops = sp.drops();
            lastFullDrops = sp.txCounter(SwitchFileLayout.DROP_FULL);
        }

        /** Every buffer of every ring holds a frame (index swaps move buffers between rings). */
        void prefill() {
            List<Ring> rings = new ArrayList<>();
            rings.add(tx);
            rings.add(a.rxRing(0));
            for (Port r : receivers) {
                rings.add(r.txRing(0));
                rings.add(r.rxRing(0));
            }
            for (Ring r : rings) {
                for (int i = 0; i < r.numSlots(); i++) {
                    frame(r.memory(), r.bufOffset(i), i);
                }
            }
        }

        void drain() {
            for (Ring r : rx) {
                r.sync();
                r.advanceTo(r.tail());
                r.sync();
            }
            Ring own = a.rxRing(0);
            own.sync();
            own.advanceTo(own.tail());
            own.sync();
        }

        /** Sends a batch and lets every receiver take it. */
        final int cycle() {
            send();
            int got = 0;
            for (Ring r : rx) {
                r.sync();
                got += r.space();
                r.advanceTo(r.tail());
                r.sync();
            }
            return got;
        }

        /** Sends a batch: {@link #BATCH} slots, one txsync (which forwards them). */
        final void send() {
            Ring t = tx;
            int i = t.head();
            int l = len;
            for (int k = 0; k < BATCH; k++) {
                t.setSlot(i, l, 0);
                i = t.nextSlot(i);
            }
            t.advanceTo(i);
            t.sync();
        }

        /** Sender's drops for a full destination ring at its last look (sending thread only). */
        long lastFullDrops;

        /** Sender's drops for a full destination since the last call: the receiver fell behind (sending thread only). */
        final long newFullDrops() {
            long d = sp.txCounter(SwitchFileLayout.DROP_FULL);
            long n = d - lastFullDrops;
            lastFullDrops = d;
            return n;
        }

        /** Sender's drops since the last call (sending thread only). */
        final long newDrops() {
            long d = sp.drops();
            long n = d - lastDrops;
            lastDrops = d;
            return n;
        }

        /** One receiving round: rxsync every receiver, release what arrived (at the next rxsync). */
        final int receive() {
            int got = 0;
            for (Ring r : rx) {
                r.sync();
                int n = r.space();
                if (n != 0) {
                    r.advanceTo(r.tail());
                    got += n;
                }
            }
            return got;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            long drops = sp.drops();
            long sent = sp.txCounter(0);
            a.close();
            receivers.forEach(Port::close);
            if (sw.isExplicit()) {
                sw.close();
            }
            if (drops != 0 && strict()) {
                throw new IllegalStateException("the switch dropped " + drops + " of " + sent
                        + " packets: the figure would count packets that were not delivered");
            }
        }
    }

    static void writeMac(MemorySegment m, long off, long mac) {
        m.set(U16, off, (short) (mac >>> 32));
        m.set(U32, off + 2, (int) mac);
    }

    @State(Scope.Thread)
    public static class Copy2 extends Topology {
        @Override
        int ports() {
            return 2;
        }
    }

    @State(Scope.Thread)
    public static class Copy2Big extends Copy2 {
        @Override
        int frameLength() {
            return 1514;
        }
    }

    @State(Scope.Thread)
    public static class Swap2 extends Copy2 {
        @Override
        String receiverOptions(String swName) {
            return "@share=" + swName + ":a";
        }
    }

    @State(Scope.Thread)
    public static class Copy4 extends Topology {
        @Override
        int ports() {
            return 4;
        }
    }

    @State(Scope.Thread)
    public static class Copy8 extends Topology {
        @Override
        int ports() {
            return 8;
        }
    }

    @State(Scope.Thread)
    public static class Bcast4 extends Copy4 {
        @Override
        void frame(MemorySegment m, long off, int i) {
            super.frame(m, off, i);
            writeMac(m, off, 0xffffffffffffL);
        }
    }

    /** The router with {@link #routes()} random routes, all through next hops on port r1. */
    public abstract static class Routed extends Topology {
        int[] addresses;
        L3Router router;

        abstract int routes();

        boolean cached() {
            return false;
        }

        @Override
        int ports() {
            return 2;
        }

        @Override
        LookupModule lookup() {
            router = new L3Router();
            Random rnd = new Random(42);
            int[] hops = new int[16];
            for (int h = 0; h < hops.length; h++) {
                hops[h] = router.nextHop("r1", 0x020000000200L + h);
            }
            addresses = new int[4096];
            int n = routes();
            router.update(e -> {
                for (int k = 0; k < n; k++) {
                    int len = 16 + rnd.nextInt(9); // /16 .. /24, as most of a real table
                    int prefix = rnd.nextInt();
                    e.add(prefix, len, hops[rnd.nextInt(hops.length)]);
                    if (k < addresses.length) {
                        addresses[k] = (prefix & (-1 << (32 - len))) | (rnd.nextInt() & ~(-1 << (32 - len)));
                    }
                }
            });
            for (int k = n; k < addresses.length; k++) {
                addresses[k] = addresses[k % n];
            }
            return cached() ? new FlowCache(router) : router;
        }

        @Override
        void frame(MemorySegment m, long off, int i) {
            writeMac(m, off, 0x0200000000feL);
            writeMac(m, off + 6, 0x020000000001L);
            m.set(U16, off + 12, (short) 0x0800);
            long ip = off + 14;
            m.set(U16, ip, (short) 0x4500);
            m.set(U16, ip + 2, (short) (len - 14));
            m.set(U32, ip + 4, 0);
            m.set(ValueLayout.JAVA_BYTE, ip + 8, (byte) 64);
            m.set(ValueLayout.JAVA_BYTE, ip + 9, (byte) 17);
            m.set(U16, ip + 10, (short) 0);
            m.set(U32, ip + 12, 0xc0a80001);
            m.set(U32, ip + 16, addresses[i % addresses.length]);
            long sum = 0;
            for (int b = 0; b < 20; b += 2) {
                sum += m.get(U16, ip + b) & 0xffff;
            }
            sum = (sum & 0xffff) + (sum >>> 16);
            sum = (sum & 0xffff) + (sum >>> 16);
            m.set(U16, ip + 10, (short) ~sum);
            m.set(U16, ip + 20, (short) 1234);
            m.set(U16, ip + 22, (short) 5678);
        }

        @Override
        void prefill() {
            // only the sender's buffers: the router rewrites copies, the sender's frames keep TTL 64
            for (int i = 0; i < tx.numSlots(); i++) {
                frame(tx.memory(), tx.bufOffset(i), i);
            }
        }
    }

    @State(Scope.Thread)
    public static class Routed1k extends Routed {
        @Override
        int routes() {
            return 1_000;
        }
    }

    @State(Scope.Thread)
    public static class Routed100k extends Routed {
        @Override
        int routes() {
            return 100_000;
        }
    }

    @State(Scope.Thread)
    public static class Cached100k extends Routed100k {
        @Override
        boolean cached() {
            return true;
        }
    }

    // ----------------------------------------------------------------------------------------------
    // one thread: send a batch, every receiver takes it, repeat

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.copy.2p.60B.1t", unit = "Mpps")
    @Result(name = "vale.alloc", unit = "B/op", metric = "gc.alloc.rate.norm")
    public int copy2p60OneThread(Copy2 s) {
        return s.cycle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.copy.2p.1514B.1t", unit = "Gbps", scale = 1514 * 8 / 1000.0)
    public int copy2p1514OneThread(Copy2Big s) {
        return s.cycle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.swap.2p.60B.1t", unit = "Mpps")
    public int swap2p60OneThread(Swap2 s) {
        return s.cycle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.copy.4p.60B.1t", unit = "Mpps")
    public int copy4p60OneThread(Copy4 s) {
        return s.cycle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.copy.8p.60B.1t", unit = "Mpps")
    public int copy8p60OneThread(Copy8 s) {
        return s.cycle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.bcast.4p.60B.1t", unit = "Mpps")
    public int bcast4p60OneThread(Bcast4 s) {
        return s.cycle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.l3.1k.60B.1t", unit = "Mpps")
    public int l3routes1kOneThread(Routed1k s) {
        return s.cycle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.l3.100k.60B.1t", unit = "Mpps")
    public int l3routes100kOneThread(Routed100k s) {
        return s.cycle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    @Result(name = "vale.l3fc.100k.60B.1t", unit = "Mpps")
    public int l3cached100kOneThread(Cached100k s) {
        return s.cycle();
    }

    // ----------------------------------------------------------------------------------------------
    // per sending core: the sender on one thread, every receiver polled by a second one

    /** Per-thread counts, summed over the group by JMH: the figures are rates of these. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counts {
        /** Packets the sender handed to txsync. */
        public long sent;
        /** Packets the receiving thread took out of the receivers' rings (a broadcast counts per copy). */
        public long delivered;
        /** Packets the switch dropped (sender's drop counters, every cause). */
        public long dropped;
        /** Of {@link #dropped}: because the destination ring was full (the receiving thread fell behind). */
        public long droppedFull;
        /** Receiving rounds that found nothing. */
        public long emptyPolls;

        @Setup(Level.Iteration)
        public void clear() {
            sent = 0;
            delivered = 0;
            dropped = 0;
            droppedFull = 0;
            emptyPolls = 0;
        }

        /** The sender and the receiving thread each on a CPU of their own, so the receiver keeps its CPU. */
        @Setup(Level.Trial)
        public void pin(ThreadParams tp) {
            BenchMain.pinGroupThread(tp.getGroupThreadIndex());
        }
    }

    static int send(Topology s, Counts c) {
        s.send();
        c.sent += BATCH;
        c.dropped += s.newDrops();
        c.droppedFull += s.newFullDrops();
        return BATCH;
    }

    static int receive(Topology s, Counts c) {
        int n = s.receive();
        if (n == 0) {
            c.emptyPolls++;
        }
        c.delivered += n;
        return n;
    }

    @State(Scope.Group)
    public static class Copy2G extends Copy2 {
        @Override
        boolean strict() {
            return false;
        }
    }

    @State(Scope.Group)
    public static class Copy2BigG extends Copy2Big {
        @Override
        boolean strict() {
            return false;
        }
    }

    @State(Scope.Group)
    public static class Swap2G extends Swap2 {
        @Override
        boolean strict() {
            return false;
        }
    }

    @State(Scope.Group)
    public static class Copy4G extends Copy4 {
        @Override
        boolean strict() {
            return false;
        }
    }

    @State(Scope.Group)
    public static class Copy8G extends Copy8 {
        @Override
        boolean strict() {
            return false;
        }
    }

    @State(Scope.Group)
    public static class Bcast4G extends Bcast4 {
        @Override
        boolean strict() {
            return false;
        }
    }

    @State(Scope.Group)
    public static class Routed1kG extends Routed1k {
        @Override
        boolean strict() {
            return false;
        }
    }

    @State(Scope.Group)
    public static class Routed100kG extends Routed100k {
        @Override
        boolean strict() {
            return false;
        }
    }

    @State(Scope.Group)
    public static class Cached100kG extends Cached100k {
        @Override
        boolean strict() {
            return false;
        }
    }

    @Benchmark
    @Group("copy2p60")
    @Result(name = "vale.copy.2p.60B", unit = "Mpps", metric = "delivered")
    @Result(name = "vale.copy.2p.60B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.copy.2p.60B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int copy2p60(Copy2G s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("copy2p60")
    public int copy2p60Receiver(Copy2G s, Counts c) {
        return receive(s, c);
    }

    @Benchmark
    @Group("copy2p1514")
    @Result(name = "vale.copy.2p.1514B", unit = "Gbps", scale = 1514 * 8 / 1000.0, metric = "delivered")
    @Result(name = "vale.copy.2p.1514B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.copy.2p.1514B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int copy2p1514(Copy2BigG s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("copy2p1514")
    public int copy2p1514Receiver(Copy2BigG s, Counts c) {
        return receive(s, c);
    }

    @Benchmark
    @Group("swap2p60")
    @Result(name = "vale.swap.2p.60B", unit = "Mpps", metric = "delivered")
    @Result(name = "vale.swap.2p.60B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.swap.2p.60B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int swap2p60(Swap2G s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("swap2p60")
    public int swap2p60Receiver(Swap2G s, Counts c) {
        return receive(s, c);
    }

    @Benchmark
    @Group("copy4p60")
    @Result(name = "vale.copy.4p.60B", unit = "Mpps", metric = "delivered")
    @Result(name = "vale.copy.4p.60B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.copy.4p.60B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int copy4p60(Copy4G s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("copy4p60")
    public int copy4p60Receiver(Copy4G s, Counts c) {
        return receive(s, c);
    }

    @Benchmark
    @Group("copy8p60")
    @Result(name = "vale.copy.8p.60B", unit = "Mpps", metric = "delivered")
    @Result(name = "vale.copy.8p.60B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.copy.8p.60B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int copy8p60(Copy8G s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("copy8p60")
    public int copy8p60Receiver(Copy8G s, Counts c) {
        return receive(s, c);
    }

    /** Frames sent per second: each is delivered 3 times, so the delivered copies count a third each. */
    @Benchmark
    @Group("bcast4p60")
    @Result(name = "vale.bcast.4p.60B", unit = "Mpps", scale = 1 / 3.0, metric = "delivered")
    @Result(name = "vale.bcast.4p.60B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.bcast.4p.60B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int bcast4p60(Bcast4G s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("bcast4p60")
    public int bcast4p60Receiver(Bcast4G s, Counts c) {
        return receive(s, c);
    }

    @Benchmark
    @Group("l3routes1k")
    @Result(name = "vale.l3.1k.60B", unit = "Mpps", metric = "delivered")
    @Result(name = "vale.l3.1k.60B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.l3.1k.60B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int l3routes1k(Routed1kG s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("l3routes1k")
    public int l3routes1kReceiver(Routed1kG s, Counts c) {
        return receive(s, c);
    }

    @Benchmark
    @Group("l3routes100k")
    @Result(name = "vale.l3.100k.60B", unit = "Mpps", metric = "delivered")
    @Result(name = "vale.l3.100k.60B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.l3.100k.60B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int l3routes100k(Routed100kG s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("l3routes100k")
    public int l3routes100kReceiver(Routed100kG s, Counts c) {
        return receive(s, c);
    }

    @Benchmark
    @Group("l3cached100k")
    @Result(name = "vale.l3fc.100k.60B", unit = "Mpps", metric = "delivered")
    @Result(name = "vale.l3fc.100k.60B.drops", unit = "Mpps", metric = "dropped")
    @Result(name = "vale.l3fc.100k.60B.drops.full", unit = "Mpps", metric = "droppedFull")
    public int l3cached100k(Cached100kG s, Counts c) {
        return send(s, c);
    }

    @Benchmark
    @Group("l3cached100k")
    public int l3cached100kReceiver(Cached100kG s, Counts c) {
        return receive(s, c);
    }
}
