package io.jnetmap.bench.vhost;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vhost.testing.QemuGuest;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Suite {@code vhost}: two QEMU guests (Debian kernel, busybox initramfs), the kernel's {@code pktgen}
 * in the first sending 60-byte frames to the second, whose {@code rx_packets} give the rate.
 *
 * <ul>
 *   <li>{@code vhost.vm2vm.60B}: both guests on vhost-user ports of a jnetmap switch (copying between
 *       guest memory and switch buffers);</li>
 *   <li>{@code peer.tapbridge.vm2vm.60B}: the same guests on TAP devices (QEMU's userspace virtio-net)
 *       in a Linux bridge, in a network namespace;</li>
 *   <li>{@code vhost.vm2pktgen.60B}: a third guest on a switch port, pkt-gen {@code rx} in another process
 *       on another port of that switch; {@code vhost.vm2pktgen.60B.alloc}: bytes the switch's datapath
 *       threads allocated per frame.</li>
 * </ul>
 *
 * Guests run under KVM when a KVM guest boots here, else under TCG (then the figures say little; the
 * suite prints which). Needs root.
 */
public final class VhostSuite implements BenchMain.Suite {
    private static final String MAC_A = "52:54:00:be:00:01";
    private static final String MAC_B = "52:54:00:be:00:02";
    private static final int MEM_MB = 256;

    @Override
    public void run(boolean quick, BenchMain.Results out) throws Exception {
        double window = quick ? 3 : 10;
        QemuGuest.ensureImage();
        System.out.println("# vhost: guests under " + QemuGuest.accel()
                + (QemuGuest.accelReason() == null ? "" : " (" + QemuGuest.accelReason() + ")"));
        Path dir = Files.createTempDirectory("jnetmap-bench-vhost");
        String sw = "valebench";
        String sw2 = "valebench2";
        try {
            String sa = dir.resolve("a.sock").toString();
            String sb = dir.resolve("b.sock").toString();
            SwitchAdmin.attach(sw + ":vma=vhost:" + sa, false);
            SwitchAdmin.attach(sw + ":vmb=vhost:" + sb, false);
            try (QemuGuest a = QemuGuest.onVhost("vma", sa, MAC_A, MEM_MB);
                 QemuGuest b = QemuGuest.onVhost("vmb", sb, MAC_B, MEM_MB)) {
                out.put("vhost.vm2vm.60B", measure(a, b, window), "Mpps");
            }
            // guest -> switch -> a pkt-gen process (rx) on the host; bytes the switch's threads allocate per frame
            // (a switch of its own: the first one's bridge table has learned the MACs at the first guests' ports)
            String sc = dir.resolve("c.sock").toString();
            SwitchAdmin.attach(sw2 + ":vmc=vhost:" + sc, false);
            try (QemuGuest c = QemuGuest.onVhost("vmc", sc, MAC_A, MEM_MB)) {
                guestToPktGen(c, sw2, window, out);
            }
        } finally {
            ValeSwitches.get(sw).ifPresent(ValeSwitch::close);
            ValeSwitches.get(sw2).ifPresent(ValeSwitch::close);
            QemuGuest.run(List.of("rm", "-rf", dir.toString()));
        }
        try (NetLab lab = new NetLab()) {
            String ns = lab.namespace();
            NetLab.inNs(ns, "ip", "link", "add", "br0", "type", "bridge");
            NetLab.inNs(ns, "ip", "link", "set", "br0", "up");
            try (QemuGuest a = new QemuGuest("tapa", ns, List.of(), "tap,id=n0,ifname=tapa,script=no,downscript=no", MAC_A, MEM_MB);
                 QemuGuest b = new QemuGuest("tapb", ns, List.of(), "tap,id=n0,ifname=tapb,script=no,downscript=no", MAC_B, MEM_MB)) {
                for (String t : List.of("tapa", "tapb")) {
                    NetLab.inNs(ns, "ip", "link", "set", t, "master", "br0");
                    NetLab.inNs(ns, "ip", "link", "set", t, "up");
                }
                out.put("peer.tapbridge.vm2vm.60B", measure(a, b, window), "Mpps");
            }
        }
        out.ratio("vhost.vs.tapbridge.vm2vm.60B", "vhost.vm2vm.60B", "peer.tapbridge.vm2vm.60B");
    }

    private static final Pattern SPEED = Pattern.compile("(?m)^\\s*([\\d.]+) s .*?(\\d+) pkts"); // pkt-gen's line per interval: time, packets in it

    /**
     * pktgen in {@code g} sends 60-byte frames through switch {@code sw} to pkt-gen {@code rx} in another
     * process (a port of the switch): reports pkt-gen's mean rate over {@code window} s, and the bytes
     * the switch's datapath threads in this process allocated per frame meanwhile.
     */
    private static void guestToPktGen(QemuGuest g, String sw, double window, BenchMain.Results out) throws Exception {
        ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
        Process rx = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"), "io.jnetmap.examples.Main",
                "pkt-gen", "-i", sw + ":sink", "-f", "rx", "-T", "500").redirectErrorStream(true).start();
        try {
            StringBuffer said = new StringBuffer();
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try {
                    var r = new java.io.BufferedReader(new java.io.InputStreamReader(rx.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
                    String l;
                    while ((l = r.readLine()) != null) {
                        said.append(l).append('\n');
                    }
                } catch (java.io.IOException ignored) {
                    // ended
                }
            });
            long end = System.nanoTime() + 60_000_000_000L;
            while (s.port("sink").isEmpty()) {
                if (System.nanoTime() > end || !rx.isAlive()) {
                    throw new IllegalStateException("pkt-gen's port did not appear on " + sw + ": " + said);
                }
                Thread.sleep(20);
            }
            g.ok("P=/proc/net/pktgen; echo 'add_device eth0' > $P/kpktgend_0 && echo 'count 0' > $P/eth0"
                    + " && echo 'pkt_size 60' > $P/eth0 && echo 'delay 0' > $P/eth0 && echo 'dst 10.0.0.2' > $P/eth0"
                    + " && echo 'dst_mac " + MAC_B + "' > $P/eth0", 20);
            g.type("echo start > /proc/net/pktgen/pgctrl &");
            Thread.sleep(1500); // warm-up
            var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            // the switch's datapath threads: the guest port's poller and the pkt-gen port's remote binding
            List<Thread> sw0 = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("vale-poll-" + sw + ":") || t.getName().startsWith("vale-remote-" + sw + ":")).toList();
            if (sw0.size() != 2) {
                throw new IllegalStateException("expected the switch's two datapath threads, found " + sw0);
            }
            long a0 = 0;
            for (Thread t : sw0) {
                a0 += Math.max(0, mx.getThreadAllocatedBytes(t.threadId()));
            }
            long f0 = s.port("vmc").orElseThrow().txCounter(io.jnetmap.vale.ctl.SwitchFileLayout.TX_PACKETS);
            int from = said.length();
            Thread.sleep((long) (window * 1000));
            long f1 = s.port("vmc").orElseThrow().txCounter(io.jnetmap.vale.ctl.SwitchFileLayout.TX_PACKETS);
            long a1 = 0;
            for (Thread t : sw0) {
                a1 += Math.max(0, mx.getThreadAllocatedBytes(t.threadId()));
            }
            String lines = said.substring(from);
            g.ok("echo stop > /proc/net/pktgen/pgctrl", 20);
            double t0 = -1;
            double t1 = -1;
            long pkts = 0;
            var m = SPEED.matcher(lines);
            while (m.find()) {
                double t = Double.parseDouble(m.group(1));
                if (t0 < 0) {
                    t0 = t; // the window starts at the first report in it
                } else {
                    pkts += Long.parseLong(m.group(2));
                    t1 = t;
                }
            }
            if (t1 <= t0) {
                throw new IllegalStateException("pkt-gen reported no rate: " + said);
            }
            out.put("vhost.vm2pktgen.60B", pkts / (t1 - t0) / 1e6, "Mpps");
            out.put("vhost.vm2pktgen.60B.alloc", f1 > f0 ? (double) (a1 - a0) / (f1 - f0) : 0, "B/op");
            reader.interrupt();
        } finally {
            rx.destroyForcibly();
            rx.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** pktgen in {@code a} sends 60-byte frames to {@code b}; returns b's receive rate over {@code window} s. */
    private static double measure(QemuGuest a, QemuGuest b, double window) throws Exception {
        a.ok("P=/proc/net/pktgen; echo 'add_device eth0' > $P/kpktgend_0 && echo 'count 0' > $P/eth0"
                + " && echo 'pkt_size 60' > $P/eth0 && echo 'delay 0' > $P/eth0 && echo 'dst 10.0.0.2' > $P/eth0"
                + " && echo 'dst_mac " + MAC_B + "' > $P/eth0", 20);
        a.type("echo start > /proc/net/pktgen/pgctrl &");
        Thread.sleep(1500); // warm-up
        long r0 = rxPackets(b);
        long t0 = System.nanoTime();
        Thread.sleep((long) (window * 1000));
        long r1 = rxPackets(b);
        long t1 = System.nanoTime();
        a.ok("echo stop > /proc/net/pktgen/pgctrl", 20);
        return (r1 - r0) / ((t1 - t0) / 1e9) / 1e6;
    }

    private static long rxPackets(QemuGuest g) throws Exception {
        return Long.parseLong(g.ok("cat /sys/class/net/eth0/statistics/rx_packets", 20).trim().split("\\s+")[0]);
    }
}
