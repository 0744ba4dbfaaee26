package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.sys.NetNamespace;
import io.jnetmap.vale.AttachedPort;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.Command;
import io.jnetmap.vale.ctl.ValeCtl;
import io.jnetmap.vxlan.VxlanPort;
import io.jnetmap.vxlan.VxlanStats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * VXLAN ports ({@code vxlan:local=,vni=,remote=}) between network namespaces standing for hosts:
 * malformed datagrams are dropped and counted; two jnetmap switches joined by VXLAN carry numbered
 * frames with none lost (in this JVM, and with pkt-gen txseq/rxseq against two {@code vale-ctl --host}
 * processes); three switches with a flood list all get a broadcast; vale-ctl attaches and detaches
 * VXLAN ports of a switch another process hosts; and a jnetmap switch interoperates with
 * Linux's vxlan device in a Linux bridge (ping both ways, a TCP transfer, MACs learned on both sides).
 * Needs root. Every namespace (and so every interface and socket) is removed at the end.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VxlanTest {
    private static final AtomicInteger SWITCHES = new AtomicInteger();

    @SuppressWarnings("try")
    private static List<AttachedPort> attach(String ns, String arg) {
        try (NetNamespace ignored = NetNamespace.enter(ns)) {
            return SwitchAdmin.attach(arg, false);
        }
    }

    private static void addr(String ns, String dev, String cidr) {
        NetLab.inNs(ns, "ip", "addr", "add", cidr, "dev", dev);
    }

    /** Sends one datagram from a plain UDP socket inside {@code ns}. */
    @SuppressWarnings("try")
    private static void sendUdp(String ns, String host, int port, byte[] payload) {
        try (NetNamespace ignored = NetNamespace.enter(ns); DatagramChannel ch = DatagramChannel.open()) {
            ch.send(ByteBuffer.wrap(payload), new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] vxlan(int flags, int reserved24, int vni, int last, byte[] inner) {
        byte[] d = new byte[8 + inner.length];
        d[0] = (byte) flags;
        d[1] = (byte) (reserved24 >>> 16);
        d[2] = (byte) (reserved24 >>> 8);
        d[3] = (byte) reserved24;
        d[4] = (byte) (vni >>> 16);
        d[5] = (byte) (vni >>> 8);
        d[6] = (byte) vni;
        d[7] = (byte) last;
        System.arraycopy(inner, 0, d, 8, inner.length);
        return d;
    }

    private static byte[] ethernet(int len) {
        byte[] f = new byte[len];
        byte[] dst = Frames.mac("02:00:00:00:00:0b");
        byte[] src = Frames.mac("02:00:00:00:00:0a");
        System.arraycopy(dst, 0, f, 0, 6);
        System.arraycopy(src, 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5;
        return f;
    }

    @Test
    void badSpecsGetClearErrors() {
        assertTrue(assertThrows(NetmapException.class, () -> Netmap.open("vxlan:vni=1,remote=10.0.0.1"))
                .getMessage().contains("local=ADDR"));
        assertTrue(assertThrows(NetmapException.class, () -> Netmap.open("vxlan:local=10.0.0.1,vni=16777216"))
                .getMessage().contains("vni=16777216 (expected: 0..16777215)"));
        assertTrue(assertThrows(NetmapException.class, () -> Netmap.open("vxlan:local=10.0.0.300,vni=1"))
                .getMessage().contains("local=10.0.0.300"));
        assertTrue(assertThrows(NetmapException.class, () -> Netmap.open("vxlan:local=10.0.0.1,vni=1,color=red"))
                .getMessage().contains("color=red"));
    }

    @Test
    void malformedDatagramsAreDroppedAndCountedAndNoneReachesAPort() {
        try (NetLab lab = new NetLab()) {
            String ns = lab.namespace();
            try (Port p = NetLab.open(ns, "vxlan:local=127.0.0.1,vni=42");
                 Port other = NetLab.open(ns, "vxlan:local=127.0.0.1,vni=43")) {
                assertTrue(assertThrows(NetmapException.class, () -> NetLab.open(ns, "vxlan:local=127.0.0.1,vni=42"))
                        .getMessage().contains("vni=42"), "one port per VNI and socket");
                byte[] frame = ethernet(60);
                sendUdp(ns, "127.0.0.1", 4789, new byte[] {8, 0, 0});                        // short
                sendUdp(ns, "127.0.0.1", 4789, vxlan(0x0c, 0, 42, 0, frame));                 // wrong flags
                sendUdp(ns, "127.0.0.1", 4789, vxlan(0x00, 0, 42, 0, frame));                 // I flag missing
                sendUdp(ns, "127.0.0.1", 4789, vxlan(0x08, 0x000100, 42, 0, frame));          // reserved bits
                sendUdp(ns, "127.0.0.1", 4789, vxlan(0x08, 0, 42, 1, frame));                 // last reserved byte
                sendUdp(ns, "127.0.0.1", 4789, vxlan(0x08, 0, 42, 0, new byte[10]));          // truncated inner frame
                sendUdp(ns, "127.0.0.1", 4789, vxlan(0x08, 0, 44, 0, frame));                 // unknown VNI
                sendUdp(ns, "127.0.0.1", 4789, vxlan(0x08, 0, 42, 0, frame));                 // good, VNI 42
                sendUdp(ns, "127.0.0.1", 4789, vxlan(0x08, 0, 43, 0, ethernet(100)));         // good, VNI 43
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                List<Integer> got = new ArrayList<>();
                List<Integer> gotOther = new ArrayList<>();
                VxlanStats s;
                do {
                    drain(p, got);
                    drain(other, gotOther);
                    s = ((VxlanPort) p).stats();
                } while ((s.badHeader() < 6 || got.size() + gotOther.size() < 2) && System.nanoTime() < deadline);
                assertEquals(List.of(60), got, "only the good frame for VNI 42 reached its port");
                assertEquals(List.of(100), gotOther, "several VNIs on one socket, each its own port");
                assertEquals(6, s.badHeader(), s.toString());
                assertEquals(1, s.unknownVni(), s.toString());
                assertEquals(1, s.decapsulated(), s.toString());
                assertEquals("127.0.0.1", ((VxlanPort) p).learned().get("02:00:00:00:00:0a"), "source MAC learned");
            }
        }
    }

    private static void drain(Port p, List<Integer> lens) {
        Ring r = p.rxRing(0);
        r.sync();
        for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
            lens.add(r.len(i));
        }
        r.advanceTo(r.tail());
    }

    @Test
    void twoSwitchesJoinedByVxlanCarryNumberedFramesWithNoneLost() {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth u = lab.vethPair();
            addr(u.nsA(), u.a(), "10.77.1.1/24");
            addr(u.nsB(), u.b(), "10.77.1.2/24");
            String swA = "valevx" + SWITCHES.incrementAndGet();
            String swB = "valevx" + SWITCHES.incrementAndGet();
            List<AttachedPort> a = attach(u.nsA(), swA + ":vx=vxlan:local=10.77.1.1,vni=7,remote=10.77.1.2");
            List<AttachedPort> b = attach(u.nsB(), swB + ":vx=vxlan:local=10.77.1.2,vni=7,remote=10.77.1.1");
            try (Port pa = Netmap.open(swA + ":p"); Port pb = Netmap.open(swB + ":q")) {
                byte[] macA = Frames.mac("02:6a:00:00:71:01");
                byte[] macB = Frames.mac("02:6a:00:00:71:02");
                // unknown at first: flooded over the flood list; then learned
                for (int round = 0; round < 20; round++) {
                    Frames.sendNumbered(pa, macB, macA, round * 500L, 500);
                    Frames.expectNumbered(pb, round * 500L, 500);
                }
                Frames.sendNumbered(pb, macA, macB, 100_000, 500);
                Frames.expectNumbered(pa, 100_000, 500);
                VxlanPort va = (VxlanPort) a.get(0).port();
                VxlanPort vb = (VxlanPort) b.get(0).port();
                assertEquals("10.77.1.1", vb.learned().get("02:6a:00:00:71:01"));
                assertEquals("10.77.1.2", va.learned().get("02:6a:00:00:71:02"));
                assertEquals(10_000, va.stats().encapsulated(), va.stats().toString());
                assertEquals(10_000, vb.stats().decapsulated(), vb.stats().toString());
                assertEquals(0, vb.stats().rxDropped());
            } finally {
                close(swA);
                close(swB);
            }
        }
    }

    @Test
    void threeSwitchesWithAFloodListAllGetABroadcastAndTooBigFramesAreCounted() {
        try (NetLab lab = new NetLab()) {
            String under = lab.namespace();
            NetLab.inNs(under, "ip", "link", "add", "br0", "type", "bridge");
            NetLab.inNs(under, "ip", "link", "set", "br0", "up");
            List<String> hosts = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                NetLab.Veth v = lab.vethPair(lab.namespace(), under);
                NetLab.inNs(under, "ip", "link", "set", v.b(), "master", "br0");
                addr(v.nsA(), v.a(), "10.77.2." + i + "/24");
                hosts.add(v.nsA());
            }
            List<String> sws = new ArrayList<>();
            List<VxlanPort> vx = new ArrayList<>();
            String[] specs = {"vxlan:local=10.77.2.1,vni=9,remote=10.77.2.2,remote=10.77.2.3",
                    "vxlan:local=10.77.2.2,vni=9,remote=10.77.2.1", "vxlan:local=10.77.2.3,vni=9,remote=10.77.2.1"};
            try {
                for (int i = 0; i < 3; i++) {
                    String sw = "valevx" + SWITCHES.incrementAndGet();
                    sws.add(sw);
                    vx.add((VxlanPort) attach(hosts.get(i), sw + ":vx=" + specs[i]).get(0).port());
                }
                try (Port x = Netmap.open(sws.get(0) + ":p"); Port y = Netmap.open(sws.get(1) + ":p");
                     Port z = Netmap.open(sws.get(2) + ":p")) {
                    byte[] bcast = ethernet(60);
                    for (int i = 0; i < 6; i++) {
                        bcast[i] = (byte) 0xff;
                    }
                    Frames.send(x, bcast);
                    assertEquals(60, Frames.receive(y, f -> f[0] == (byte) 0xff).length, "switch 2 got the broadcast");
                    assertEquals(60, Frames.receive(z, f -> f[0] == (byte) 0xff).length, "switch 3 got the broadcast");
                    assertEquals(2, vx.get(0).stats().encapsulated(), "one datagram per remote of the flood list");
                    Frames.send(x, ethernet(1500 - 36 + 1));
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    while (vx.get(0).stats().tooBig() == 0 && System.nanoTime() < deadline) {
                        Thread.onSpinWait(); // the switch forwards it to the VXLAN port
                    }
                    assertEquals(1, vx.get(0).stats().tooBig(), "larger than the underlay MTU: dropped, not fragmented");
                    assertEquals(2, vx.get(0).stats().encapsulated());
                }
            } finally {
                sws.forEach(VxlanTest::close);
            }
        }
    }

    @Test
    void aSwitchTalksToLinuxVxlanInALinuxBridge() throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth u = lab.vethPair();                      // the underlay between host A and host B
            String nsA = u.nsA();
            String nsB = u.nsB();
            addr(nsA, u.a(), "10.77.3.1/24");
            addr(nsB, u.b(), "10.77.3.2/24");
            NetLab.Veth hostA = lab.vethPair(lab.namespace(), nsA); // a machine behind the jnetmap switch
            NetLab.Veth hostB = lab.vethPair(lab.namespace(), nsB); // a machine behind the Linux bridge
            NetLab.inNs(hostA.nsA(), "ip", "link", "set", hostA.a(), "mtu", "1450");
            addr(hostA.nsA(), hostA.a(), "192.168.77.1/24");
            addr(hostB.nsA(), hostB.a(), "192.168.77.2/24");
            NetLab.inNs(nsB, "ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "4789",
                    "remote", "10.77.3.1", "local", "10.77.3.2");
            NetLab.inNs(nsB, "ip", "link", "add", "br0", "type", "bridge");
            NetLab.inNs(nsB, "ip", "link", "set", "vx0", "master", "br0");
            NetLab.inNs(nsB, "ip", "link", "set", hostB.b(), "master", "br0");
            NetLab.inNs(nsB, "ip", "link", "set", "vx0", "up");
            NetLab.inNs(nsB, "ip", "link", "set", "br0", "up");
            // until offload lands: the endpoints send complete checksums and no GSO frames
            NetLab.inNs(hostA.nsA(), "ethtool", "-K", hostA.a(), "tx", "off", "tso", "off", "gso", "off");
            NetLab.inNs(hostB.nsA(), "ethtool", "-K", hostB.a(), "tx", "off", "tso", "off", "gso", "off");
            String sw = "valevx" + SWITCHES.incrementAndGet();
            List<AttachedPort> vx = attach(nsA, sw + ":vx=vxlan:local=10.77.3.1,vni=42,remote=10.77.3.2");
            attach(nsA, sw + ":" + hostA.b());
            try {
                NetLab.inNs(hostA.nsA(), "ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.77.2");
                NetLab.inNs(hostB.nsA(), "ping", "-c", "3", "-i", "0.2", "-W", "2", "192.168.77.1");
                Process server = new ProcessBuilder("ip", "netns", "exec", hostB.nsA(), "iperf3", "-s", "-1", "-p", "5299")
                        .redirectErrorStream(true).start();
                try {
                    String out = "";
                    for (int attempt = 0; attempt < 20; attempt++) {
                        try {
                            out = NetLab.inNs(hostA.nsA(), "iperf3", "-c", "192.168.77.2", "-p", "5299", "-n", "4M");
                            break;
                        } catch (IllegalStateException e) {
                            if (!e.getMessage().contains("Connection refused")) {
                                throw e;
                            }
                            Thread.sleep(100); // the server is not listening yet
                        }
                    }
                    assertTrue(out.contains("receiver"), out);
                } finally {
                    server.destroy();
                    server.waitFor(5, TimeUnit.SECONDS);
                }
                VxlanPort port = (VxlanPort) vx.get(0).port();
                assertEquals("10.77.3.2", port.learned().get(hostB.macA()), "jnetmap learned host B's MAC behind 10.77.3.2");
                String fdb = NetLab.inNs(nsB, "bridge", "fdb", "show", "dev", "vx0");
                assertTrue(fdb.contains(hostA.macA()) && fdb.contains("dst 10.77.3.1"), fdb);
                assertTrue(port.stats().encapsulated() > 1000 && port.stats().decapsulated() > 100, port.stats().toString()); // data one way, ACKs back
                assertEquals(0, port.stats().badHeader(), port.stats().toString());
            } finally {
                close(sw);
            }
        }
    }

    @Test
    void valeCtlAttachesAndDetachesVxlanPortsOfASwitchHostedByAnotherProcess() throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth u = lab.vethPair();
            addr(u.nsA(), u.a(), "10.77.4.1/24");
            String sw = "valevxh" + SWITCHES.incrementAndGet();
            String javaCmd = ProcessHandle.current().info().command().orElse("java");
            Path log = Files.createTempFile("jnetmap-valectl", ".txt");
            Process host = new ProcessBuilder("ip", "netns", "exec", u.nsA(), javaCmd, "--enable-native-access=ALL-UNNAMED",
                    "-cp", System.getProperty("java.class.path"), "io.jnetmap.examples.Main", "vale-ctl", "--host", sw,
                    "-a", sw + ":vx=vxlan:local=10.77.4.1,vni=5,remote=10.77.4.2")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (ports(sw).stream().noneMatch(p -> p.name().equals("vx"))) {
                    if (!host.isAlive() || System.nanoTime() > deadline) {
                        fail("vale-ctl --host did not attach the vxlan port: " + Files.readString(log));
                    }
                    Thread.sleep(50);
                }
                String r = ValeCtl.remote(sw, Command.ATTACH, sw + ":vx6=vxlan:local=10.77.4.1,vni=6,remote=10.77.4.3",
                        Duration.ofSeconds(20));
                assertTrue(r.contains("vx6"), r);
                ValeCtl.PortInfo vx6 = ports(sw).stream().filter(p -> p.name().equals("vx6")).findFirst().orElseThrow();
                assertEquals("vxlan/udp+sendmmsg", vx6.backend());
                r = ValeCtl.remote(sw, Command.DETACH, sw + ":vx6", Duration.ofSeconds(20));
                assertTrue(r.startsWith("detached"), r);
                assertTrue(ports(sw).stream().noneMatch(p -> p.name().equals("vx6")));
            } finally {
                host.destroy();
                if (!host.waitFor(10, TimeUnit.SECONDS)) {
                    host.destroyForcibly();
                    host.waitFor(5, TimeUnit.SECONDS);
                }
                Files.deleteIfExists(log);
            }
        }
    }

    @Test
    void pktGenTxseqToRxseqAcrossTwoHostedSwitchesJoinedByVxlanLosesNothing() throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth u = lab.vethPair();
            addr(u.nsA(), u.a(), "10.77.5.1/24");
            addr(u.nsB(), u.b(), "10.77.5.2/24");
            String swA = "valevxh" + SWITCHES.incrementAndGet();
            String swB = "valevxh" + SWITCHES.incrementAndGet();
            List<Process> procs = new ArrayList<>();
            List<Path> logs = new ArrayList<>();
            try {
                Process hostA = tool(procs, logs, u.nsA(), "vale-ctl", "--host", swA, "-a",
                        swA + ":vx=vxlan:local=10.77.5.1,vni=3,remote=10.77.5.2");
                Process hostB = tool(procs, logs, u.nsB(), "vale-ctl", "--host", swB, "-a",
                        swB + ":vx=vxlan:local=10.77.5.2,vni=3,remote=10.77.5.1@backpressure=on");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (ports(swA).isEmpty() || ports(swB).isEmpty()) {
                    if (!hostA.isAlive() || !hostB.isAlive() || System.nanoTime() > deadline) {
                        fail("the switches did not come up: " + Files.readString(logs.get(0)) + Files.readString(logs.get(1)));
                    }
                    Thread.sleep(50);
                }
                int n = 10_000; // at 5 kpps: a rate the underlay carries even on a busy machine
                Process rx = tool(procs, logs, u.nsB(), "pkt-gen", "-i", swB + ":q", "-f", "rxseq", "-n", "" + n, "-T", "0");
                Thread.sleep(3000); // the receiver's port is attached before the first frame leaves
                Process tx = tool(procs, logs, u.nsA(), "pkt-gen", "-i", swA + ":p", "-f", "txseq", "-n", "" + n,
                        "-R", "5000", "-b", "32", "-T", "0");
                assertTrue(tx.waitFor(60, TimeUnit.SECONDS), "txseq ended");
                boolean done = rx.waitFor(30, TimeUnit.SECONDS);
                String out = Files.readString(logs.get(logs.size() - 2));
                assertTrue(done, "rxseq received all " + n + " frames: " + out + "\n" + Files.readString(logs.get(logs.size() - 1))
                        + "\n" + counters(swA) + "\n" + counters(swB) + "\n" + NetLab.inNs(u.nsB(), "grep", "^Udp:", "/proc/net/snmp")
                        + NetLab.inNs(u.nsB(), "cat", "/proc/net/softnet_stat"));
                assertTrue(out.contains("Sequence: lost 0 reordered 0"), out);
            } finally {
                for (Process p : procs) {
                    p.destroy();
                }
                for (Process p : procs) {
                    if (!p.waitFor(10, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                        p.waitFor(5, TimeUnit.SECONDS);
                    }
                }
                for (Path l : logs) {
                    Files.deleteIfExists(l);
                }
            }
        }
    }

    /** Starts {@code bin/jnetmap TOOL ARGS} (a JVM on this class path) in namespace {@code ns}, output to a log. */
    private static Process tool(List<Process> procs, List<Path> logs, String ns, String... args) throws IOException {
        Path log = Files.createTempFile("jnetmap-vxlan", ".txt");
        logs.add(log);
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns,
                ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), "io.jnetmap.examples.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        procs.add(p);
        return p;
    }

    private static String counters(String sw) {
        StringBuilder sb = new StringBuilder(sw);
        for (ValeCtl.PortInfo p : ports(sw)) {
            sb.append(" ").append(p.name()).append(" tx=").append(java.util.Arrays.toString(p.tx()))
                    .append(" rx=").append(java.util.Arrays.toString(p.rx()));
        }
        return sb.toString();
    }

    private static List<ValeCtl.PortInfo> ports(String sw) {
        return ValeCtl.find(sw).stream().filter(ValeCtl.SwitchInfo::live).flatMap(s -> s.ports().stream()).toList();
    }

    private static void close(String sw) {
        ValeSwitches.get(sw).ifPresent(ValeSwitch::close);
    }
}
