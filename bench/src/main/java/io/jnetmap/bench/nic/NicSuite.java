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
 *   <li>TX: {@code bin/jnetmap pkt-gen -f tx -W} on {@code netmap:a} with each backend, and
 *       netsniff-ng's {@code trafgen} sending the same 60-byte IPv4/UDP frame; the rate is what arrives
 *       at the other end of the veth (its {@code rx_packets}).</li>
 *   <li>RX: {@code trafgen} sends frames of an experimental ethertype; a jnetmap receiver (busy-polling, reads 8 bytes of every frame)
 *       counts on {@code netmap:b} with each backend, against {@code tcpdump -w /dev/null}; kernel drop
 *       counters are reported as {@code nic.rx.drops}.</li>
 *   <li>Forwarding: {@code trafgen} → veth → [bridge] → veth → counter, jnetmap's {@code bridge}
 *       (AF_XDP, buffers swapped) against the Linux bridge with a static FDB entry.</li>
 *   <li>Allocation of the receiver and bridge threads per packet ({@code B/op}).</li>
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
        warmSec = quick ? 0.8 : 2.0;
        bridgeWarmSec = quick ? 1.5 : 3.0;
        windowSec = quick ? 1.2 : 3.0;
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

    /**
     * {@code bin/jnetmap pkt-gen -f tx} (a child JVM, as a user runs it, its packet thread busy-waiting on the sender CPU)
     * on {@code v.a()}; the figure is what arrives at {@code v.b()} in the window.
     */
    private void tx(NetLab.Veth v, String backend, BenchMain.Results out) throws Exception {
        Path log = Files.createTempFile("jnetmap-pktgen", ".txt");
        String java = ProcessHandle.current().info().command().orElse("java");
        // -a pins the packet thread only: the JIT's threads stay free to run on the other CPU
        Process gen = new ProcessBuilder("ip", "netns", "exec", v.nsA(), java,
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"),
                "io.jnetmap.examples.Main", "pkt-gen", "-i", "netmap:" + v.a() + "@backend=" + backend, "-f", "tx", "-W",
                "-a", "" + SENDER_CPU, "-T", "0", "-w", "0", "-l", "" + FRAME, "-D", v.macB(), "-S", v.macA())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        double rate;
        String text;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(log).contains("pkt-gen: tx on")) {
                if (!gen.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("pkt-gen did not start: " + Files.readString(log));
                }
                Thread.sleep(20);
            }
            rate = arrivals(v.nsB(), v.b());
        } finally {
            stop(gen);
            text = Files.readString(log);
            Files.deleteIfExists(log);
        }
        out.put("nic.tx." + backend + ".60B", rate, "Mpps");
        for (String line : text.split("\n")) {
            if (line.startsWith("pkt-gen: tx on") || line.startsWith("Speed:") || line.startsWith("Kernel:")) {
                System.out.println("# " + line);
            }
        }
    }

    /** trafgen sending what pkt-gen sends, on the same veth, on the same CPU. */
    private double trafgenAlone(NetLab.Veth v) throws Exception {
        Path cfg = trafgenConfig(pktGenFrame(v.macB(), v.macA()));
        Process tg = trafgen(v.nsA(), v.a(), cfg);
        try {
            return arrivals(v.nsB(), v.b());
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
            win = measure(w);
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
            sleep(0.5); // tcpdump opens its socket
            tg = trafgen(v.nsA(), v.a(), cfg);
            offered = arrivals(v.nsB(), v.b());
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
                out.put("peer.linuxbridge.60B", arrivals(right.nsB(), right.b()), "Mpps");
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

    /** After the warm-up, the rate (Mpps) at which frames arrive at {@code dev} in {@code ns} over a window. */
    private double arrivals(String ns, String dev) throws InterruptedException {
        sleep(warmSec);
        long c0 = NetLab.counter(ns, dev, "rx_packets");
        long t0 = System.nanoTime();
        sleep(windowSec);
        long c1 = NetLab.counter(ns, dev, "rx_packets");
        long t1 = System.nanoTime();
        return (c1 - c0) * 1e3 / (t1 - t0);
    }

    /** A figure: packets the worker counted over a window, and what its thread allocated meanwhile. */
    private record Window(long packets, long nanos, long allocated) {
        double rate() {
            return packets * 1e3 / nanos;
        }

        double bytesPerPacket() {
            return packets > 0 ? allocated / (double) packets : 0;
        }
    }

    /** Measures a window of {@code w}'s work after the warm-up. */
    private Window measure(Worker w) throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        sleep(warmSec);
        long p0 = w.packets;
        long m0 = mx.getThreadAllocatedBytes(w.thread.threadId());
        long t0 = System.nanoTime();
        sleep(windowSec);
        long p1 = w.packets;
        long m1 = mx.getThreadAllocatedBytes(w.thread.threadId());
        long t1 = System.nanoTime();
        return new Window(p1 - p0, t1 - t0, m1 - m0);
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

    /** A trafgen packet file: one 60-byte frame of the experimental ethertype (receivers' stacks drop it at once). */
    private static Path trafgenConfig(String dstMac, String srcMac) throws IOException {
        byte[] f = new byte[FRAME];
        System.arraycopy(Frames.mac(dstMac), 0, f, 0, 6);
        System.arraycopy(Frames.mac(srcMac), 0, f, 6, 6);
        f[12] = (byte) (Frames.ETHERTYPE >> 8);
        f[13] = (byte) Frames.ETHERTYPE;
        for (int i = 14; i < FRAME; i++) {
            f[i] = 0x5a;
        }
        return trafgenConfig(f);
    }

    /**
     * The 60-byte frame {@code bin/jnetmap pkt-gen -f tx} sends by default (Ethernet, IPv4 10.0.0.1 to
     * 10.1.0.1 with its checksum, UDP 1234 to 4321, zero sequence and timestamp, a letter pattern), for
     * trafgen to send the very same bytes: the receiving stack's work depends on them.
     */
    static byte[] pktGenFrame(String dstMac, String srcMac) {
        return pktGenFrame(FRAME, dstMac, srcMac);
    }

    /** pkt-gen's IPv4/UDP frame (10.0.0.1:1234 -> 10.1.0.1:4321) of {@code size} bytes. */
    public static byte[] pktGenFrame(int size, String dstMac, String srcMac) {
        byte[] b = new byte[size];
        System.arraycopy(Frames.mac(dstMac), 0, b, 0, 6);
        System.arraycopy(Frames.mac(srcMac), 0, b, 6, 6);
        b[12] = 0x08;
        b[14] = 0x45;
        b[16] = (byte) ((size - 14) >> 8);
        b[17] = (byte) (size - 14);
        b[22] = 64;
        b[23] = 17;
        byte[] ips = {10, 0, 0, 1, 10, 1, 0, 1};
        System.arraycopy(ips, 0, b, 26, 8);
        long sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
        }
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        int csum = (int) ~sum & 0xffff;
        b[24] = (byte) (csum >> 8);
        b[25] = (byte) csum;
        b[34] = (byte) (1234 >> 8);
        b[35] = (byte) 1234;
        b[36] = (byte) (4321 >> 8);
        b[37] = (byte) 4321;
        b[38] = (byte) ((size - 34) >> 8);
        b[39] = (byte) (size - 34);
        for (int i = 58; i < size; i++) {
            b[i] = (byte) ('a' + (i - 58) % 26);
        }
        return b;
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
