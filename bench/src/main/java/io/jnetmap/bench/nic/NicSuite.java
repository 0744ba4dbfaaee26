package io.jnetmap.bench.nic;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.examples.Bridge;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.Affinity;
import io.jnetmap.sys.NetNamespace;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * Suite {@code nic}: NIC ports on veth pairs in network namespaces against C peers measured in the same
 * run, 60-byte frames, sender on CPU 0 and receiver / forwarder on CPU 1 (as in the research notes).
 *
 * <ul>
 *   <li>TX: a jnetmap generator (pkt-gen's loop: buffers written once, then only head moves) on
 *       {@code netmap:a} with each backend, and netsniff-ng's {@code trafgen}; the rate is what arrives
 *       at the other end of the veth (its {@code rx_packets}).</li>
 *   <li>RX: {@code trafgen} sends; a jnetmap receiver (busy-polling, reads 8 bytes of every frame)
 *       counts on {@code netmap:b} with each backend, against {@code tcpdump -w /dev/null}; kernel drop
 *       counters are reported as {@code nic.rx.drops}.</li>
 *   <li>Forwarding: {@code trafgen} → veth → [bridge] → veth → counter, jnetmap's {@code bridge}
 *       (AF_XDP, buffers swapped) against the Linux bridge with a static FDB entry.</li>
 *   <li>Allocation of the generator, receiver and bridge threads per packet ({@code B/op}).</li>
 * </ul>
 *
 * A missing peer is reported as a {@code # peer ... not installed} line and its figures are left out;
 * nothing is installed at run time. Needs root (namespaces, XDP).
 */
public final class NicSuite implements BenchMain.Suite {
    private static final int FRAME = 60;
    private static final int SENDER_CPU = 0;
    private static final int RECEIVER_CPU = 1;

    private double warmSec;
    private double bridgeWarmSec;
    private double windowSec;

    @Override
    public void run(boolean quick, BenchMain.Results out) throws Exception {
        // the JIT needs a while on a busy 2-vCPU machine; the forwarder's loop is the largest to compile
        warmSec = quick ? 1.0 : 2.0;
        bridgeWarmSec = quick ? 2.0 : 3.0;
        windowSec = quick ? 1.5 : 3.0;
        boolean trafgen = installed("trafgen", "netsniff-ng");
        boolean tcpdump = installed("tcpdump", "tcpdump");
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            tx(v, "xdp", out);
            tx(v, "packet", out);
            if (trafgen) {
                out.put("peer.trafgen.tx.60B", trafgenAlone(v), "Mpps");
                long drops = 0;
                drops += rx(v, "xdp", out);
                drops += rx(v, "packet", out);
                out.put("nic.rx.drops", drops, "packets");
                if (tcpdump) {
                    tcpdumpRx(v, out);
                }
            }
        }
        if (trafgen) {
            try (NetLab lab = new NetLab()) {
                String nsA = lab.namespace();
                String nsBr = lab.namespace();
                String nsB = lab.namespace();
                NetLab.Veth left = lab.vethPair(nsA, nsBr);
                NetLab.Veth right = lab.vethPair(nsBr, nsB);
                bridge(left, right, "", null, "bridge.veth.60B", out);
                if (!quick) {
                    bridge(left, right, "", "drv", "bridge.veth.drv.60B", out);
                    bridge(left, right, "@backend=packet", null, "bridge.veth.packet.60B", out);
                }
                linuxBridge(left, right, out);
            }
        }
    }

    static {
        BenchMain.ratio("nic.tx.xdp.vs.trafgen", "nic.tx.xdp.60B", "peer.trafgen.tx.60B");
        BenchMain.ratio("nic.tx.packet.vs.trafgen", "nic.tx.packet.60B", "peer.trafgen.tx.60B");
        BenchMain.ratio("nic.rx.xdp.vs.tcpdump", "nic.rx.xdp.60B", "peer.tcpdump.rx.60B");
        BenchMain.ratio("nic.rx.packet.vs.tcpdump", "nic.rx.packet.60B", "peer.tcpdump.rx.60B");
        BenchMain.ratio("bridge.veth.vs.linuxbridge", "bridge.veth.60B", "peer.linuxbridge.60B");
    }

    // ----------------------------------------------------------------------------------------------
    // TX

    /** jnetmap generator on {@code v.a()}; the figure is what arrives at {@code v.b()}. */
    private void tx(NetLab.Veth v, String backend, BenchMain.Results out) throws Exception {
        String port = "netmap:" + v.a() + "@backend=" + backend;
        byte[] dst = Frames.mac(v.macB());
        byte[] src = Frames.mac(v.macA());
        Worker w = Worker.start("tx-" + backend, v.nsA(), SENDER_CPU, port, (p, self) -> {
            Ring t = p.txRing(0);
            for (int i = 0; i < t.numSlots(); i++) {
                Frames.write(t, i, dst, src, i, FRAME);
            }
            while (!self.stop.get()) {
                int n = t.space();
                t.advanceTo(t.slotAfter(t.head(), n));
                t.sync();
                self.packets += n;
            }
        });
        Window win = measure(w, () -> NetLab.counter(v.nsB(), v.b(), "rx_packets"));
        w.finish();
        out.put("nic.tx." + backend + ".60B", win.rate(), "Mpps");
        out.put("nic.tx." + backend + ".alloc", win.bytesPerPacket(), "B/op");
        System.out.println("# " + w.backend + ": generator queued " + win.workerPackets + " frames in the window, "
                + win.counted + " arrived");
    }

    private double trafgenAlone(NetLab.Veth v) throws Exception {
        Path cfg = trafgenConfig(v.macB(), v.macA());
        Process tg = trafgen(v.nsA(), v.a(), cfg);
        try {
            sleep(warmSec);
            long c0 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
            long t0 = System.nanoTime();
            sleep(windowSec);
            long c1 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
            long t1 = System.nanoTime();
            return (c1 - c0) * 1e3 / (t1 - t0);
        } finally {
            stop(tg);
            Files.deleteIfExists(cfg);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // RX

    /** trafgen on {@code v.a()}, jnetmap receiver on {@code v.b()}; returns the kernel drops seen. */
    private long rx(NetLab.Veth v, String backend, BenchMain.Results out) throws Exception {
        String port = "netmap:" + v.b() + "@backend=" + backend;
        Worker w = Worker.start("rx-" + backend, v.nsB(), RECEIVER_CPU, port, (p, self) -> {
            Ring r = p.rxRing(0);
            long sum = 0;
            while (!self.stop.get()) {
                r.sync();
                int h = r.head();
                int tail = r.tail();
                int n = 0;
                while (h != tail) {
                    sum += r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(h));
                    h = r.nextSlot(h);
                    n++;
                }
                r.advanceTo(h);
                self.packets += n;
            }
            self.sink = sum;
        });
        Path cfg = trafgenConfig(v.macB(), v.macA());
        Process tg = trafgen(v.nsA(), v.a(), cfg);
        Window win;
        long drops0;
        long drops1;
        try {
            sleep(warmSec);
            drops0 = ((NicPort) w.port).stats().rxDrops();
            win = measure(w, null);
            drops1 = ((NicPort) w.port).stats().rxDrops();
        } finally {
            stop(tg);
            Files.deleteIfExists(cfg);
            w.finish();
        }
        out.put("nic.rx." + backend + ".60B", win.rate(), "Mpps");
        out.put("nic.rx." + backend + ".drops", drops1 - drops0, "packets");
        out.put("nic.rx." + backend + ".alloc", win.bytesPerPacket(), "B/op");
        return drops1 - drops0;
    }

    private void tcpdumpRx(NetLab.Veth v, BenchMain.Results out) throws Exception {
        Path log = Files.createTempFile("jnetmap-tcpdump", ".txt");
        Process dump = new ProcessBuilder("ip", "netns", "exec", v.nsB(), "taskset", "-c", "" + RECEIVER_CPU,
                "tcpdump", "-i", v.b(), "-w", "/dev/null", "-B", "65536", "-n", "-q")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Path cfg = trafgenConfig(v.macB(), v.macA());
        Process tg = null;
        double offered;
        try {
            sleep(1.0); // tcpdump opens its socket
            tg = trafgen(v.nsA(), v.a(), cfg);
            sleep(warmSec);
            long c0 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
            long t0 = System.nanoTime();
            sleep(windowSec);
            long c1 = NetLab.counter(v.nsB(), v.b(), "rx_packets");
            long t1 = System.nanoTime();
            offered = (c1 - c0) * 1e3 / (t1 - t0);
        } finally {
            if (tg != null) {
                stop(tg);
            }
            Files.deleteIfExists(cfg);
        }
        stop(dump);
        String text = Files.readString(log);
        Files.deleteIfExists(log);
        long captured = number(text, "(\\d+) packets? captured");
        long received = number(text, "(\\d+) packets? received by filter");
        long dropped = number(text, "(\\d+) packets? dropped by kernel");
        if (received <= 0) {
            System.out.println("# tcpdump said: " + text.strip().replace('\n', ' '));
            return;
        }
        out.put("peer.tcpdump.rx.60B", offered * captured / (double) received, "Mpps");
        out.put("peer.tcpdump.drops", dropped, "packets");
    }

    // ----------------------------------------------------------------------------------------------
    // forwarding

    /** {@code xdpMode}: null for the default, else the {@code jnetmap.xdp.mode} to open the ports with. */
    @SuppressWarnings("try")
    private void bridge(NetLab.Veth left, NetLab.Veth right, String options, String xdpMode, String name,
                        BenchMain.Results out) throws Exception {
        Port a;
        Port b;
        String saved = System.getProperty("jnetmap.xdp.mode");
        if (xdpMode != null) {
            System.setProperty("jnetmap.xdp.mode", xdpMode);
        }
        try (NetNamespace ignored = NetNamespace.enter(left.nsB())) {
            a = Netmap.open("netmap:" + left.b() + options);
            b = Bridge.openSecond(a, "netmap:" + right.a() + options, false);
        } finally {
            if (xdpMode != null) {
                if (saved == null) {
                    System.clearProperty("jnetmap.xdp.mode");
                } else {
                    System.setProperty("jnetmap.xdp.mode", saved);
                }
            }
        }
        boolean zeroCopy = a.sharesMemoryWith(b);
        Bridge.Counters counters = new Bridge.Counters();
        AtomicBoolean stop = new AtomicBoolean();
        Thread t = Thread.ofPlatform().name("bridge").start(() -> {
            Affinity.pinCurrentThread(RECEIVER_CPU);
            Bridge.run(a, b, 1024, zeroCopy, WaitStrategy.busySpin(), stop::get, counters);
        });
        Path cfg = trafgenConfig(right.macB(), left.macA());
        Process tg = trafgen(left.nsA(), left.a(), cfg);
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        double rate;
        double alloc;
        try {
            sleep(bridgeWarmSec);
            long c0 = NetLab.counter(right.nsB(), right.b(), "rx_packets");
            long f0 = counters.aToB.get();
            long m0 = mx.getThreadAllocatedBytes(t.threadId());
            long t0 = System.nanoTime();
            sleep(windowSec);
            long c1 = NetLab.counter(right.nsB(), right.b(), "rx_packets");
            long f1 = counters.aToB.get();
            long m1 = mx.getThreadAllocatedBytes(t.threadId());
            long t1 = System.nanoTime();
            rate = (c1 - c0) * 1e3 / (t1 - t0);
            alloc = f1 > f0 ? (m1 - m0) / (double) (f1 - f0) : 0;
        } finally {
            stop(tg);
            Files.deleteIfExists(cfg);
            stop.set(true);
            t.join(5000);
            b.close();
            a.close();
        }
        System.out.println("# bridge " + a.backend() + (zeroCopy ? ", zero-copy" : ", copy"));
        out.put(name, rate, "Mpps");
        out.put(name.replace(".60B", ".alloc"), alloc, "B/op");
    }

    private void linuxBridge(NetLab.Veth left, NetLab.Veth right, BenchMain.Results out) throws Exception {
        String ns = left.nsB();
        String br = NetLab.uniqueName("br");
        NetLab.inNs(ns, "ip", "link", "add", br, "type", "bridge", "stp_state", "0");
        try {
            NetLab.inNs(ns, "ip", "link", "set", left.b(), "master", br);
            NetLab.inNs(ns, "ip", "link", "set", right.a(), "master", br);
            NetLab.inNs(ns, "ip", "link", "set", br, "up");
            NetLab.inNs(ns, "bridge", "fdb", "add", right.macB(), "dev", right.a(), "master", "static");
            Path cfg = trafgenConfig(right.macB(), left.macA());
            Process tg = trafgen(left.nsA(), left.a(), cfg);
            try {
                sleep(warmSec);
                long c0 = NetLab.counter(right.nsB(), right.b(), "rx_packets");
                long t0 = System.nanoTime();
                sleep(windowSec);
                long c1 = NetLab.counter(right.nsB(), right.b(), "rx_packets");
                long t1 = System.nanoTime();
                out.put("peer.linuxbridge.60B", (c1 - c0) * 1e3 / (t1 - t0), "Mpps");
            } finally {
                stop(tg);
                Files.deleteIfExists(cfg);
            }
        } finally {
            NetLab.inNs(ns, "ip", "link", "del", br);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // measuring

    /** A figure: packets counted (by the kernel, or by the worker if no counter) over a window. */
    private record Window(long counted, long workerPackets, long nanos, long allocated) {
        double rate() {
            return counted * 1e3 / nanos;
        }

        double bytesPerPacket() {
            return workerPackets > 0 ? allocated / (double) workerPackets : 0;
        }
    }

    /** Measures a window after the warm-up; {@code counter} null: count the worker's packets. */
    private Window measure(Worker w, CounterSource counter) throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        sleep(warmSec);
        long c0 = counter != null ? counter.read() : 0;
        long p0 = w.packets;
        long m0 = mx.getThreadAllocatedBytes(w.thread.threadId());
        long t0 = System.nanoTime();
        sleep(windowSec);
        long c1 = counter != null ? counter.read() : 0;
        long p1 = w.packets;
        long m1 = mx.getThreadAllocatedBytes(w.thread.threadId());
        long t1 = System.nanoTime();
        long counted = counter != null ? c1 - c0 : p1 - p0;
        return new Window(counted, p1 - p0, t1 - t0, m1 - m0);
    }

    private interface CounterSource {
        long read();
    }

    /** A thread that opens a port in a namespace, pinned to a CPU, and runs a loop on it until stopped. */
    private static final class Worker {
        interface Loop {
            void run(Port p, Worker self);
        }

        final AtomicBoolean stop = new AtomicBoolean();
        final CountDownLatch ready = new CountDownLatch(1);
        volatile long packets;
        volatile long sink;
        volatile Port port;
        volatile String backend;
        volatile Throwable failure;
        Thread thread;

        @SuppressWarnings("try")
        static Worker start(String name, String ns, int cpu, String portName, Loop loop) throws Exception {
            Worker w = new Worker();
            w.thread = Thread.ofPlatform().name(name).start(() -> {
                try {
                    Affinity.pinCurrentThread(cpu);
                    try (NetNamespace ignored = NetNamespace.enter(ns)) {
                        w.port = Netmap.open(portName);
                    }
                    w.backend = w.port.backend();
                    w.ready.countDown();
                    loop.run(w.port, w);
                } catch (Throwable t) {
                    w.failure = t;
                    w.ready.countDown();
                } finally {
                    if (w.port != null) {
                        w.port.close();
                    }
                }
            });
            if (!w.ready.await(30, TimeUnit.SECONDS) || w.failure != null) {
                w.stop.set(true);
                throw new IllegalStateException(name + " did not start", w.failure);
            }
            return w;
        }

        void finish() throws InterruptedException {
            stop.set(true);
            thread.join(10_000);
            if (failure != null) {
                throw new IllegalStateException(thread.getName() + " failed", failure);
            }
        }
    }

    // ----------------------------------------------------------------------------------------------
    // peers

    private static boolean installed(String tool, String pkg) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        System.out.println("# peer " + tool + " not installed (apt-get install " + pkg + "): its figures are left out");
        return false;
    }

    /** A trafgen packet file: one 60-byte frame of the experimental ethertype. */
    private static Path trafgenConfig(String dstMac, String srcMac) throws IOException {
        StringBuilder sb = new StringBuilder("{ ");
        for (String mac : new String[] {dstMac, srcMac}) {
            for (String b : mac.split(":")) {
                sb.append("0x").append(b).append(", ");
            }
        }
        sb.append(String.format(Locale.ROOT, "0x%02x, 0x%02x, fill(0x5a, %d) }%n", Frames.ETHERTYPE >> 8,
                Frames.ETHERTYPE & 0xff, FRAME - 14));
        Path cfg = Files.createTempFile("jnetmap-trafgen", ".cfg");
        Files.writeString(cfg, sb.toString());
        return cfg;
    }

    /** trafgen on {@code dev} in namespace {@code ns}, one process on the sender CPU, TX ring through the qdisc path. */
    private static Process trafgen(String ns, String dev, Path cfg) throws IOException {
        return new ProcessBuilder("ip", "netns", "exec", ns, "taskset", "-c", "" + SENDER_CPU, "trafgen", "-o", dev,
                "-i", cfg.toString(), "-P", "1", "-Q", "-q").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** Stops a peer (SIGTERM: trafgen and tcpdump print their summary on it) and waits for it. */
    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static void sleep(double seconds) throws InterruptedException {
        Thread.sleep((long) (seconds * 1000));
    }
}
