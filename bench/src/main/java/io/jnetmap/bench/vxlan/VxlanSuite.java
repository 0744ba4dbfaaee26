package io.jnetmap.bench.vxlan;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NetLab;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Suite {@code vxlan}: encapsulation + decapsulation between two network namespaces joined by a veth
 * underlay, inner frames of 60 and 1450 bytes.
 *
 * <ul>
 *   <li>{@code vxlan.60B}, {@code vxlan.1450B}: a jnetmap {@code vxlan:} port in namespace A (a thread
 *       filling its TX ring and txsyncing: sendmmsg batches) to a {@code vxlan:} port in namespace B (a
 *       thread rxsyncing: recvmmsg batches); the figure is frames received per second.
 *       {@code vxlan.alloc.*}: bytes both threads allocated per frame.</li>
 *   <li>{@code peer.linuxvxlan.60B}, {@code peer.linuxvxlan.1450B}: trafgen → veth → Linux bridge + Linux
 *       {@code vxlan} device in A → the same kind of underlay → Linux {@code vxlan} + bridge in B → veth;
 *       the figure is what arrives at the last veth.</li>
 * </ul>
 * Needs root; trafgen (netsniff-ng) for the peer, which is left out with a {@code #} line if missing.
 */
public final class VxlanSuite implements BenchMain.Suite {
    private static final int[] SIZES = {60, 1450};

    static {
        BenchMain.ratio("vxlan.60B.vs.linuxvxlan", "vxlan.60B", "peer.linuxvxlan.60B");
        BenchMain.ratio("vxlan.1450B.vs.linuxvxlan", "vxlan.1450B", "peer.linuxvxlan.1450B");
    }

    private double warmSec;
    private double windowSec;

    @Override
    public void run(boolean quick, BenchMain.Results out) throws Exception {
        warmSec = quick ? 1.0 : 3.0;
        windowSec = quick ? 1.5 : 4.0;
        for (int size : SIZES) {
            try (NetLab lab = new NetLab()) {
                NetLab.Veth u = lab.vethPair();
                NetLab.inNs(u.nsA(), "ip", "addr", "add", "10.78.0.1/24", "dev", u.a());
                NetLab.inNs(u.nsB(), "ip", "addr", "add", "10.78.0.2/24", "dev", u.b());
                jnetmap(u, size, out);
            }
        }
        if (!installed("trafgen")) {
            System.out.println("# peer trafgen not installed (apt-get install netsniff-ng): peer.linuxvxlan.* left out");
            return;
        }
        for (int size : SIZES) {
            try (NetLab lab = new NetLab()) {
                NetLab.Veth u = lab.vethPair();
                NetLab.inNs(u.nsA(), "ip", "addr", "add", "10.78.0.1/24", "dev", u.a());
                NetLab.inNs(u.nsB(), "ip", "addr", "add", "10.78.0.2/24", "dev", u.b());
                NetLab.Veth src = lab.vethPair(lab.namespace(), u.nsA());
                NetLab.Veth dst = lab.vethPair(u.nsB(), lab.namespace());
                linuxEnd(u.nsA(), "10.78.0.1", "10.78.0.2", src.b());
                linuxEnd(u.nsB(), "10.78.0.2", "10.78.0.1", dst.a());
                Path cfg = trafgenConfig(frame(size, dst.macB(), src.macA()));
                Process tg = new ProcessBuilder("ip", "netns", "exec", src.nsA(), "trafgen", "-o", src.a(),
                        "-i", cfg.toString(), "-P", "1", "-Q", "-q").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                try {
                    Thread.sleep((long) (warmSec * 1000));
                    long c0 = NetLab.counter(dst.nsB(), dst.b(), "rx_packets");
                    long t0 = System.nanoTime();
                    Thread.sleep((long) (windowSec * 1000));
                    long c1 = NetLab.counter(dst.nsB(), dst.b(), "rx_packets");
                    out.put("peer.linuxvxlan." + size + "B", (c1 - c0) * 1e3 / (System.nanoTime() - t0), "Mpps");
                } finally {
                    tg.destroy();
                    if (!tg.waitFor(5, TimeUnit.SECONDS)) {
                        tg.destroyForcibly();
                    }
                    Files.deleteIfExists(cfg);
                }
            }
        }
    }

    /** Linux's end: vx0 (VNI 1, port 4789) and a bridge with {@code dev}. */
    private static void linuxEnd(String ns, String local, String remote, String dev) {
        NetLab.inNs(ns, "ip", "link", "add", "vx0", "type", "vxlan", "id", "1", "dstport", "4789", "local", local,
                "remote", remote);
        NetLab.inNs(ns, "ip", "link", "add", "br0", "type", "bridge", "stp_state", "0");
        NetLab.inNs(ns, "ip", "link", "set", "vx0", "master", "br0");
        NetLab.inNs(ns, "ip", "link", "set", dev, "master", "br0");
        NetLab.inNs(ns, "ip", "link", "set", "vx0", "up");
        NetLab.inNs(ns, "ip", "link", "set", "br0", "up");
    }

    private void jnetmap(NetLab.Veth u, int size, BenchMain.Results out) throws Exception {
        byte[] f = frame(size, "02:00:00:00:00:02", "02:00:00:00:00:01");
        try (Port a = NetLab.open(u.nsA(), "vxlan:local=10.78.0.1,vni=1,remote=10.78.0.2");
             Port b = NetLab.open(u.nsB(), "vxlan:local=10.78.0.2,vni=1,remote=10.78.0.1")) {
            Ring t = a.txRing(0);
            for (int i = 0; i < t.numSlots(); i++) {
                MemorySegment.copy(f, 0, t.memory(), JAVA_BYTE, t.bufOffset(i), size);
                t.setLen(i, size);
            }
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong received = new AtomicLong();
            Thread sender = new Thread(() -> {
                while (!stop.get()) {
                    int h = t.head();
                    for (int n = t.space(); n > 0; n--) {
                        t.setLen(h, size);
                        h = t.nextSlot(h);
                    }
                    t.advanceTo(h);
                    t.sync();
                }
            }, "vxlan-sender");
            Thread receiver = new Thread(() -> {
                Ring r = b.rxRing(0);
                long n = 0;
                while (!stop.get()) {
                    r.sync();
                    n += r.space(); // on an RX ring: the packets received, head to tail
                    r.advanceTo(r.tail());
                    received.setRelease(n);
                }
            }, "vxlan-receiver");
            sender.start();
            receiver.start();
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            try {
                Thread.sleep((long) (warmSec * 1000));
                long c0 = received.getAcquire();
                long a0 = mx.getThreadAllocatedBytes(sender.threadId()) + mx.getThreadAllocatedBytes(receiver.threadId());
                long t0 = System.nanoTime();
                Thread.sleep((long) (windowSec * 1000));
                long c1 = received.getAcquire();
                long a1 = mx.getThreadAllocatedBytes(sender.threadId()) + mx.getThreadAllocatedBytes(receiver.threadId());
                long t1 = System.nanoTime();
                out.put("vxlan." + size + "B", (c1 - c0) * 1e3 / (t1 - t0), "Mpps");
                out.put("vxlan.alloc." + size + "B", c1 > c0 ? (double) (a1 - a0) / (c1 - c0) : -1, "B/op");
            } finally {
                stop.set(true);
                sender.join(5000);
                receiver.join(5000);
                System.out.println("# " + size + "B sender   " + ((io.jnetmap.vxlan.VxlanPort) a).stats());
                System.out.println("# " + size + "B receiver " + ((io.jnetmap.vxlan.VxlanPort) b).stats());
            }
        }
    }

    /** An IPv4/UDP frame of {@code size} bytes (pkt-gen's shape). */
    private static byte[] frame(int size, String dstMac, String srcMac) {
        return io.jnetmap.bench.nic.NicSuite.pktGenFrame(size, dstMac, srcMac);
    }

    private static Path trafgenConfig(byte[] frame) throws IOException {
        StringBuilder sb = new StringBuilder("{ ");
        for (int i = 0; i < frame.length; i++) {
            sb.append(String.format(Locale.ROOT, "0x%02x%s", frame[i] & 0xff, i + 1 < frame.length ? ", " : " }\n"));
        }
        Path cfg = Files.createTempFile("jnetmap-trafgen", ".cfg");
        Files.writeString(cfg, sb.toString());
        return cfg;
    }

    private static boolean installed(String tool) {
        try {
            return new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
