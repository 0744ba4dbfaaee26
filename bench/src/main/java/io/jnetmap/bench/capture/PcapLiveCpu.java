package io.jnetmap.bench.capture;

import io.jnetmap.capture.Pcap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.NetNamespace;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * CPU time per packet of the Pcap API's live loop on a NIC, read through the RX slots (before) and from the kernel's
 * TPACKET_V3 blocks in place (after), beside the {@code capture} tool's reader ({@link NicPort#capture} with a handler
 * and poll(2) on the socket, minus the file): rounds alternate the three on one veth that another thread floods with
 * 60-byte frames, each round a fresh handle, warmed up, then {@code N} packets through a handler that reads a byte
 * and the length. The figure is the loop thread's CPU time (user + system: waits, syncs, copies) over the packets
 * handed to the handler, with the bytes it allocated.
 *
 * <pre>java -cp bench/target/benchmarks.jar io.jnetmap.bench.capture.PcapLiveCpu [rounds] [packets]</pre>
 */
public final class PcapLiveCpu {
    private static final com.sun.management.ThreadMXBean MX = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private PcapLiveCpu() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        long n = args.length > 1 ? Long.parseLong(args[1]) : 1_000_000;
        String[] kinds = {"slots", "blocks", "tool"};
        double[][] ns = new double[kinds.length][rounds];
        double[][] bytes = new double[kinds.length][rounds];
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            AtomicBoolean stop = new AtomicBoolean();
            Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet");
            Thread sender = Thread.ofPlatform().name("flood").daemon().start(() -> flood(tx, v, stop));
            try {
                for (String k : kinds) {
                    round(v, k, n / 5); // warm-up (JIT) of each
                }
                for (int r = 0; r < rounds; r++) {
                    for (int i = 0; i < kinds.length; i++) {
                        double[] m = round(v, kinds[(i + r) % kinds.length], n);
                        int k = (i + r) % kinds.length;
                        ns[k][r] = m[0];
                        bytes[k][r] = m[1];
                        System.out.printf(Locale.ROOT, "round %d %-6s %7.1f ns CPU/packet %8.3f B/packet%n", r, kinds[k], m[0], m[1]);
                    }
                }
            } finally {
                stop.set(true);
                sender.join(10_000);
                tx.close();
            }
        }
        for (int k = 0; k < kinds.length; k++) {
            double[] s = ns[k].clone();
            Arrays.sort(s);
            System.out.printf(Locale.ROOT, "RESULT pcap.live.%s.cpu %.1f ns/packet (median of %d, min %.1f max %.1f), %.3f B/packet%n",
                    kinds[k], median(ns[k]), rounds, s[0], s[s.length - 1], median(bytes[k]));
        }
        System.out.printf(Locale.ROOT, "RESULT pcap.live.blocks.vs.slots %.2fx (CPU per packet, slots / blocks)%n", median(ns[0]) / median(ns[1]));
        System.out.printf(Locale.ROOT, "RESULT pcap.live.blocks.vs.tool %.2fx (CPU per packet, tool / blocks)%n", median(ns[2]) / median(ns[1]));
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** One measured run of {@code kind} over {@code n} packets: ns of CPU per packet, bytes allocated per packet. */
    @SuppressWarnings("try")
    private static double[] round(NetLab.Veth v, String kind, long n) throws Exception {
        Pcap pcap;
        try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
            if (kind.equals("slots")) System.setProperty("jnetmap.pcap.read_slots", "true");
            pcap = Pcap.openLive("netmap:" + v.b(), 262144);
        } finally {
            System.clearProperty("jnetmap.pcap.read_slots");
        }
        try (pcap) {
            if (!pcap.readPath().equals(kind.equals("slots") ? "slots" : "blocks")) {
                throw new IllegalStateException(kind + ": the handle reads " + pcap.readPath());
            }
            long[] sum = new long[1];
            Pcap.Handler h = p -> sum[0] += p.segment().get(ValueLayout.JAVA_BYTE, p.offset() + 12) + p.caplen();
            ToolReader tool = kind.equals("tool") ? new ToolReader((NicPort) pcap.port()) : null;
            if (tool != null) tool.read(n / 10);
            else pcap.loop(n / 10, h); // the ring's backlog of the previous round, and the handle's first blocks
            long tid = Thread.currentThread().threadId();
            long a0 = MX.getThreadAllocatedBytes(tid);
            long c0 = MX.getCurrentThreadCpuTime();
            long got = tool != null ? tool.read(n) : pcap.loop(n, h);
            long c1 = MX.getCurrentThreadCpuTime();
            long a1 = MX.getThreadAllocatedBytes(tid);
            if (got != n || (tool == null ? sum[0] : tool.sum) == 0) {
                throw new IllegalStateException(kind + ": " + got + " of " + n);
            }
            if (tool != null) tool.close();
            return new double[] {(double) (c1 - c0) / n, (double) (a1 - a0) / n};
        }
    }

    /** The capture tool's block loop ({@code Capture.blockLoop}) without the file: NicPort.capture, poll(2) when idle. */
    private static final class ToolReader implements NicPort.CaptureHandler, AutoCloseable {
        final NicPort nic;
        final Arena arena = Arena.ofConfined();
        final MemorySegment fds = arena.allocate(8, 4);
        long count;
        long want;
        long sum;

        ToolReader(NicPort nic) {
            this.nic = nic;
            fds.set(ValueLayout.JAVA_INT, 0, nic.captureFd());
            fds.set(ValueLayout.JAVA_SHORT, 4, Linux.POLLIN);
        }

        long read(long n) {
            count = 0;
            want = n;
            while (count < want) {
                if (nic.capture(this, 8192) == 0) {
                    Linux.poll(fds, 1, 1000);
                }
            }
            return count;
        }

        @Override
        public boolean frame(MemorySegment seg, long off, int caplen, int wirelen, long ts, boolean outgoing) {
            sum += seg.get(ValueLayout.JAVA_BYTE, off + 12) + caplen;
            return ++count != want;
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** 60-byte test frames from a to b, a ring's worth at a time, until {@code stop}. */
    private static void flood(Port tx, NetLab.Veth v, AtomicBoolean stop) {
        Ring t = tx.txRing(0);
        byte[] dst = Frames.mac(v.macB());
        byte[] src = Frames.mac(v.macA());
        for (int i = 0; i < t.numSlots(); i++) {
            Frames.write(t, i, dst, src, i, 60);
        }
        while (!stop.get()) {
            int k = Math.min(t.space(), 256);
            t.advanceTo(t.slotAfter(t.head(), k));
            t.sync();
            if (k == 0) {
                Thread.onSpinWait();
            }
        }
    }
}
