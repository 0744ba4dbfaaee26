package io.jnetmap.bench.vhost;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vhost.testing.QemuGuest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Suite {@code vhost}: two QEMU guests (Debian kernel, busybox initramfs), the kernel's {@code pktgen}
 * in the first sending 60-byte frames to the second, whose {@code rx_packets} give the rate.
 *
 * <ul>
 *   <li>{@code vhost.vm2vm.60B}: both guests on vhost-user ports of a jnetmap switch (copying between
 *       guest memory and switch buffers);</li>
 *   <li>{@code peer.tapbridge.vm2vm.60B}: the same guests on TAP devices (QEMU's userspace virtio-net)
 *       in a Linux bridge, in a network namespace.</li>
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
        try {
            String sa = dir.resolve("a.sock").toString();
            String sb = dir.resolve("b.sock").toString();
            SwitchAdmin.attach(sw + ":vma=vhost:" + sa, false);
            SwitchAdmin.attach(sw + ":vmb=vhost:" + sb, false);
            try (QemuGuest a = QemuGuest.onVhost("vma", sa, MAC_A, MEM_MB);
                 QemuGuest b = QemuGuest.onVhost("vmb", sb, MAC_B, MEM_MB)) {
                out.put("vhost.vm2vm.60B", measure(a, b, window), "Mpps");
            }
        } finally {
            ValeSwitches.get(sw).ifPresent(ValeSwitch::close);
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
