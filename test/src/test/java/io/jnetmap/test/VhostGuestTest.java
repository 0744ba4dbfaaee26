package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.sys.NetNamespace;
import io.jnetmap.vale.AttachedPort;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vhost.VhostPort;
import io.jnetmap.vhost.testing.QemuGuest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real QEMU/KVM guests (Debian kernel, busybox initramfs, virtio-net over vhost-user) on a jnetmap
 * switch: {@code vale-ctl -a valeS:vmN=vhost:PATH} attaches each guest's port. Needs root and
 * {@code /dev/kvm}; the Debian packages are installed when missing.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class VhostGuestTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);
    private static final AtomicInteger SWITCHES = new AtomicInteger();
    static Path dir;

    @BeforeAll
    static void image() throws Exception {
        assertTrue(Files.exists(Path.of("/dev/kvm")), "these tests need /dev/kvm");
        QemuGuest.ensureImage();
        dir = Files.createTempDirectory("jnetmap-vhost");
    }

    @AfterAll
    static void cleanup() throws Exception {
        QemuGuest.run(List.of("rm", "-rf", dir.toString()));
    }

    static String sock(String name) {
        return dir.resolve(name + ".sock").toString();
    }

    static AttachedPort attachVm(String sw, String name, String options) {
        List<AttachedPort> a = SwitchAdmin.attach(sw + ":" + name + "=vhost:" + sock(name) + options, false);
        assertEquals(1, a.size());
        assertEquals("vhost-user", a.get(0).backend());
        return a.get(0);
    }

    static VhostPort vhost(AttachedPort ap) {
        return (VhostPort) ap.port();
    }

    static void awaitTrue(java.util.function.BooleanSupplier c, long ms, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("not within " + ms + " ms: " + what);
            }
            Thread.sleep(5);
        }
    }

    @SuppressWarnings("try")
    static List<AttachedPort> attachNic(String sw, String nic, String ns) {
        try (NetNamespace ignored = NetNamespace.enter(ns)) {
            return SwitchAdmin.attach(sw + ":" + nic, false);
        }
    }

    static void closeSwitch(String sw) {
        ValeSwitches.get(sw).ifPresent(ValeSwitch::close);
    }

    /** (2) A guest on a switch port pings an endpoint behind the switch (a veth end in a namespace). */
    @Test
    void aGuestPingsAHostEndpointThroughTheSwitch() throws Exception {
        String sw = "valevm" + SWITCHES.incrementAndGet();
        NetLab.Veth v = NET.veth();
        try {
            attachNic(sw, v.b(), v.nsB());
            NetLab.inNs(v.nsA(), "ip", "addr", "add", "10.77.0.1/24", "dev", v.a());
            AttachedPort vm = attachVm(sw, "vm1", "");
            try (QemuGuest g = QemuGuest.onVhost("vm1", sock("vm1"), "52:54:00:77:00:02", 160)) {
                awaitTrue(() -> vhost(vm).running(), 10_000, "the guest's driver started both rings");
                g.ok("ip addr add 10.77.0.2/24 dev eth0", 10);
                String out = g.ok("ping -c 3 -W 3 10.77.0.1", 20);
                assertTrue(out.contains("3 packets received"), out);
                assertEquals(0, vhost(vm).stats().violations());
                assertTrue(vhost(vm).stats().rxPackets() >= 3 && vhost(vm).stats().txPackets() >= 3, vhost(vm).stats().toString());
            }
        } finally {
            NetLab.inNs(v.nsA(), "ip", "addr", "flush", "dev", v.a());
            closeSwitch(sw);
        }
    }

    /** (3) Two guests on one switch: ping over IPv4 and IPv6, and a TCP stream with busybox nc. */
    @Test
    @Tag("slow") // one or two guests booted, under TCG where KVM guests do not boot: with the others > 2 min
    void twoGuestsPingOverIpv4AndIpv6AndMoveATcpStream() throws Exception {
        String sw = "valevm" + SWITCHES.incrementAndGet();
        try {
            AttachedPort p1 = attachVm(sw, "vma", "");
            AttachedPort p2 = attachVm(sw, "vmb", "");
            try (QemuGuest a = QemuGuest.onVhost("vma", sock("vma"), "52:54:00:78:00:01", 160);
                 QemuGuest b = QemuGuest.onVhost("vmb", sock("vmb"), "52:54:00:78:00:02", 160)) {
                awaitTrue(() -> vhost(p1).running() && vhost(p2).running(), 10_000, "both guests' rings running");
                for (QemuGuest g : List.of(a, b)) {
                    g.ok("echo 0 > /proc/sys/net/ipv6/conf/eth0/accept_dad", 5);
                }
                a.ok("ip addr add 10.78.0.1/24 dev eth0 && ip -6 addr add fd00:78::1/64 dev eth0", 10);
                b.ok("ip addr add 10.78.0.2/24 dev eth0 && ip -6 addr add fd00:78::2/64 dev eth0", 10);
                String v4 = a.ok("ping -c 3 -W 3 10.78.0.2", 20);
                assertTrue(v4.contains("3 packets received"), v4);
                String v6 = b.ok("ping6 -c 3 -W 3 fd00:78::1", 20);
                assertTrue(v6.contains("3 packets received"), v6);
                // 2 MiB of random bytes from a to b over TCP, compared by checksum
                a.ok("dd if=/dev/urandom of=/tmp/data bs=64k count=32 2>/dev/null", 20);
                String sum = a.ok("md5sum /tmp/data", 10).trim().split("\\s+")[0];
                b.ok("setsid sh -c 'sleep 600 | nc -l -p 5001 > /tmp/got' < /dev/null > /dev/null 2>&1 &", 10); // off the console
                b.ok("sleep 0.5", 5);
                a.ok("nc -w 3 10.78.0.2 5001 < /tmp/data", 60);
                b.ok("i=0; while [ \"$(stat -c %s /tmp/got)\" != 2097152 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i+1)); done", 40);
                String size = b.ok("stat -c %s /tmp/got", 10).trim();
                String got = b.ok("md5sum /tmp/got", 10).trim().split("\\s+")[0];
                assertEquals(sum, got, "the stream arrived whole (" + size + " of 2097152 bytes); ports " + vhost(p1).stats()
                        + " / " + vhost(p2).stats() + ", failures " + p1.failure() + " / " + p2.failure());
                assertEquals(0, vhost(p1).stats().violations() + vhost(p2).stats().violations());
            }
        } finally {
            closeSwitch(sw);
        }
    }

    /**
     * (4a) The guest's kernel pktgen sends a numbered stream to a vhost port the test reads slowly, used
     * alone like any port: the port stops taking frames while its RX ring is full, the guest's queue
     * fills and pktgen waits (back-pressure): every frame arrives, in order.
     */
    @Test
    @Tag("slow") // one or two guests booted, under TCG where KVM guests do not boot: with the others > 2 min
    void aSequenceCheckedStreamUnderBackPressure() throws Exception {
        int count = 20000;
        try (VhostPort port = (VhostPort) Netmap.open("vhost:" + sock("vmp") + "@conf:slots=256");
             QemuGuest g = QemuGuest.onVhost("vmp", sock("vmp"), "52:54:00:79:00:01", 160)) {
            awaitTrue(port::running, 10_000, "rings running");
            g.ok("P=/proc/net/pktgen; echo 'add_device eth0' > $P/kpktgend_0 && echo 'count " + count + "' > $P/eth0"
                    + " && echo 'pkt_size 64' > $P/eth0 && echo 'dst 10.79.0.9' > $P/eth0"
                    + " && echo 'dst_mac 02:6a:00:00:79:09' > $P/eth0", 10);
            g.type("echo start > /proc/net/pktgen/pgctrl; echo PKTGEN-DONE");
            Ring r = port.rxRing(0);
            long next = 1; // pktgen numbers from 1
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            int rounds = 0;
            while (next <= count) {
                port.rxSync();
                for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
                    MemorySegment b = r.buffer(i);
                    if (r.len(i) >= 50 && b.get(JAVA_INT_UNALIGNED, 42) == Integer.reverseBytes(0xbe9be955)) {
                        long seq = Integer.toUnsignedLong(Integer.reverseBytes(b.get(JAVA_INT_UNALIGNED, 46)));
                        assertEquals(next, seq, "pktgen sequence in order, none lost");
                        next++;
                    }
                }
                r.advanceTo(r.tail());
                if (++rounds % 4 == 0) {
                    Thread.sleep(2); // slower than the guest: the ring fills and the guest has to wait
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("received " + next + " of " + count + "; port " + port.stats());
                }
            }
            assertEquals(0, port.stats().rxOversize() + port.stats().violations());
        }
    }

    /**
     * (4c) A guest and a pkt-gen process exchange sequence-checked streams through a switch under
     * back-pressure. Guest to process: the guest's port is attached with {@code @backpressure=on}, the
     * kernel pktgen sends numbered frames, and pkt-gen {@code rxseq} (another JVM, a port of this
     * switch) is stopped (SIGSTOP) while they come: the switch holds the guest's frames, the guest's
     * queue fills and pktgen waits, and when pkt-gen goes on every frame arrives in order. Process to
     * guest: pkt-gen {@code txseq} with {@code @backpressure=on} sends faster than the guest takes them;
     * the guest counts every frame.
     */
    @Test
    @Tag("slow") // one or two guests booted, under TCG where KVM guests do not boot: with the others > 2 min
    void aGuestAndAPktGenProcessExchangeASequenceCheckedStreamThroughTheSwitchUnderBackPressure() throws Exception {
        String sw = "valevm" + SWITCHES.incrementAndGet();
        int count = 20000;
        Process sink = null;
        Process src = null;
        try {
            AttachedPort vm = attachVm(sw, "vmq", "@backpressure=on");
            assertTrue(vm.backPressure());
            try (QemuGuest g = QemuGuest.onVhost("vmq", sock("vmq"), "52:54:00:7b:00:01", 160)) {
                awaitTrue(() -> vhost(vm).running(), 10_000, "rings running");
                g.ok("echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6", 10);
                ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
                // guest -> switch -> pkt-gen rxseq, the receiver stopped for a while
                sink = PktGenTest.startPktGen("-i", sw + ":sink", "-f", "rxseq", "-n", Integer.toString(count), "-T", "0");
                awaitTrue(() -> s.port("sink").isPresent(), 60_000, "pkt-gen's port on the switch");
                g.ok("P=/proc/net/pktgen; echo 'add_device eth0' > $P/kpktgend_0 && echo 'count " + count + "' > $P/eth0"
                        + " && echo 'pkt_size 64' > $P/eth0 && echo 'dst 10.79.0.9' > $P/eth0"
                        + " && echo 'dst_mac 02:6a:00:00:7b:09' > $P/eth0", 10);
                signal("STOP", sink);
                g.type("echo start > /proc/net/pktgen/pgctrl; echo PKTGEN-DONE");
                Thread.sleep(3000); // the sink's ring and the guest's queue fill; the switch holds the rest
                long stalls = vm.txCounter(io.jnetmap.vale.ctl.SwitchFileLayout.BP_STALLS);
                signal("CONT", sink);
                String rxOut = PktGenTest.finish(sink, 180);
                assertTrue(rxOut.contains("Received " + count + " packets"), rxOut);
                assertTrue(rxOut.contains("Sequence: lost 0 reordered 0 other 0"), rxOut);
                assertTrue(stalls > 0, "the switch held the guest's frames while pkt-gen was stopped: " + vhost(vm).stats());
                assertEquals(0, vhost(vm).stats().violations());
                // pkt-gen txseq -> switch -> guest, the sender back-pressured by the slower guest
                long before = rxPackets(g);
                src = PktGenTest.startPktGen("-i", sw + ":src@backpressure=on", "-f", "txseq", "-n", Integer.toString(count),
                        "-T", "0", "-D", "52:54:00:7b:00:01");
                String txOut = PktGenTest.finish(src, 180);
                assertTrue(txOut.contains("Sent " + count + " packets"), txOut);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                long got = rxPackets(g) - before;
                while (got < count && System.nanoTime() < end) {
                    Thread.sleep(200);
                    got = rxPackets(g) - before;
                }
                assertEquals(count, got, "frames the guest received of pkt-gen's " + count + "; port " + vhost(vm).stats());
                assertEquals(0, vhost(vm).stats().violations());
            }
        } finally {
            for (Process p : new Process[] {sink, src}) {
                if (p != null) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            }
            closeSwitch(sw);
        }
    }

    /**
     * (1) A tool opens a {@code vhost:} port like any port: pkt-gen {@code rxseq} in its own process
     * listens on {@code vhost:PATH}, a guest connects to it and its kernel pktgen sends numbered frames,
     * every one of which pkt-gen receives in order.
     */
    @Test
    @Tag("slow") // one or two guests booted, under TCG where KVM guests do not boot: with the others > 2 min
    void pktGenInItsOwnProcessReceivesAGuestsStreamOnAVhostPort() throws Exception {
        int count = 5000;
        String path = sock("vmt");
        Process rx = PktGenTest.startPktGen("-i", "vhost:" + path, "-f", "rxseq", "-T", "0");
        try {
            awaitTrue(() -> Files.exists(Path.of(path)) || !rx.isAlive(), 60_000, "pkt-gen listening on " + path);
            assertTrue(rx.isAlive(), "pkt-gen runs on vhost:" + path);
            try (QemuGuest g = QemuGuest.onVhost("vmt", path, "52:54:00:7c:00:01", 160)) {
                g.ok("P=/proc/net/pktgen; echo 'add_device eth0' > $P/kpktgend_0 && echo 'count " + count + "' > $P/eth0"
                        + " && echo 'pkt_size 64' > $P/eth0 && echo 'dst 10.79.0.9' > $P/eth0"
                        + " && echo 'dst_mac 02:6a:00:00:7c:09' > $P/eth0", 10);
                g.ok("echo start > /proc/net/pktgen/pgctrl", 120); // returns when pktgen has sent them all
                Thread.sleep(1000);
            }
            signal("TERM", rx); // pkt-gen prints its summary and exits
            assertTrue(rx.waitFor(30, TimeUnit.SECONDS), "pkt-gen exited on SIGTERM");
            String out = new String(rx.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Received (\\d+) packets[\\s\\S]*Sequence: lost (\\d+) reordered (\\d+) other (\\d+)")
                    .matcher(out);
            assertTrue(m.find(), out);
            assertEquals("0", m.group(2), out);
            assertEquals("0", m.group(3), out);
            assertEquals(count, Long.parseLong(m.group(1)) - Long.parseLong(m.group(4)), "pktgen's frames among all received: " + out);
        } finally {
            rx.destroyForcibly();
            rx.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void signal(String sig, Process p) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-" + sig, Long.toString(p.pid())).inheritIO().start().waitFor());
    }

    private static long rxPackets(QemuGuest g) throws Exception {
        String[] out = g.ok("cat /sys/class/net/eth0/statistics/rx_packets", 20).trim().split("\\s+");
        return Long.parseLong(out[out.length - 1]); // after what a background job printed (PKTGEN-DONE)
    }

    /**
     * (4b) QEMU killed with -9: its port loses the guest within 1 s, the switch goes on between its other
     * ports, and a restarted QEMU connects to the same port again.
     */
    @Test
    @Tag("slow") // one or two guests booted, under TCG where KVM guests do not boot: with the others > 2 min
    void aKilledGuestIsDroppedAndARestartedOneReconnects() throws Exception {
        String sw = "valevm" + SWITCHES.incrementAndGet();
        try (Port sink = Netmap.open(sw + ":sink"); Port other = Netmap.open(sw + ":other")) {
            AttachedPort vm = attachVm(sw, "vmk", "");
            try (QemuGuest g = QemuGuest.onVhost("vmk", sock("vmk"), "52:54:00:7a:00:01", 160)) {
                awaitTrue(() -> vhost(vm).running(), 10_000, "rings running");
                g.kill9();
                awaitTrue(() -> !vhost(vm).connected(), 1000, "port lost the killed guest");
                assertFalse(vhost(vm).running());
            }
            // the switch goes on between the other ports
            byte[] frame = new byte[60];
            frame[0] = 2;
            frame[5] = 9; // unknown unicast: flooded to every other port, the guest's port included
            frame[6] = 2;
            frame[11] = 1;
            Ring t = other.txRing(0);
            MemorySegment.copy(MemorySegment.ofArray(frame), JAVA_BYTE, 0, t.buffer(t.head()), JAVA_BYTE, 0, 60);
            t.setLen(t.head(), 60);
            t.advanceTo(t.nextSlot(t.head()));
            t.sync();
            Ring r = sink.rxRing(0);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            boolean seen = false;
            while (!seen && System.nanoTime() < end) {
                r.sync();
                for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
                    seen |= r.len(i) == 60 && r.buffer(i).get(JAVA_BYTE, 11) == 1 && r.buffer(i).get(JAVA_BYTE, 5) == 9;
                }
                r.advanceTo(r.tail());
            }
            assertTrue(seen, "other ports go on after the guest died");
            assertTrue(vm.failure() == null, "the guest's port is still attached and well: " + vm.failure());
            // a restarted QEMU connects to the same port again
            try (QemuGuest g = QemuGuest.onVhost("vmk2", sock("vmk"), "52:54:00:7a:00:01", 160)) {
                awaitTrue(() -> vhost(vm).running(), 10_000, "restarted guest's rings running");
                assertEquals(2, vhost(vm).stats().connects());
                g.ok("ip addr add 10.80.0.1/24 dev eth0", 10);
                g.sh("ping -c 2 -W 1 10.80.0.9", 10); // nobody answers; the ARP requests reach the sink
                boolean arp = false;
                end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (!arp && System.nanoTime() < end) {
                    r.sync();
                    for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
                        MemorySegment b = r.buffer(i);
                        arp |= (b.get(JAVA_BYTE, 12) & 0xff) == 0x08 && b.get(JAVA_BYTE, 13) == 0x06;
                    }
                    r.advanceTo(r.tail());
                }
                assertTrue(arp, "the restarted guest's ARP request crossed the switch");
            }
        } finally {
            closeSwitch(sw);
        }
    }
}
