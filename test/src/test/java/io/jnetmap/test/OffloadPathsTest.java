package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.core.nic.NicStats;
import io.jnetmap.core.offload.VnetHeader;
import io.jnetmap.examples.Bridge;
import io.jnetmap.sys.NetNamespace;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.Packet;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.SwitchAdmin;
import io.jnetmap.vale.ValeSwitch;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TCP and UDP between two host stacks through every kind of jnetmap path, with the kernel's default
 * offloads (veth: TX checksum, TSO/GSO on) and no ethtool command: frames leave A with partial
 * checksums and as 64 KiB super-frames, and B must accept them all. Topology:
 * [nsA] vA ⟷ vRA [nsR: path] vRB ⟷ vB [nsB]; paths: the bridge on each backend and across them, a
 * pipe-connected middlebox, a VALE switch and the L3 router with two attached NICs. Per path: 100 MiB
 * of TCP each way, every byte checked, 3000 UDP datagrams each delivered once, intact, and no
 * checksum error counted by either stack. Needs root.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class OffloadPathsTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(0);
    private static final String IP_A = "10.79.0.1";
    private static final String IP_B = "10.79.0.2";
    private static NetLab.Veth left;
    private static NetLab.Veth right;
    private static String nsR;

    @BeforeAll
    static void createTopology() {
        NetLab lab = NET.lab();
        String nsA = lab.namespace();
        nsR = lab.namespace();
        String nsB = lab.namespace();
        left = lab.vethPair(nsA, nsR);
        right = lab.vethPair(nsR, nsB);
        NetLab.inNs(nsA, "ip", "addr", "add", IP_A + "/24", "dev", left.a());
        NetLab.inNs(nsB, "ip", "addr", "add", IP_B + "/24", "dev", right.b());
        NetLab.inNs(nsA, "ip", "link", "set", "lo", "up");
        NetLab.inNs(nsB, "ip", "link", "set", "lo", "up");
        String features = NetLab.inNs(nsA, "ethtool", "-k", left.a());
        assertTrue(features.contains("tx-checksumming: on") && features.contains("tcp-segmentation-offload: on"),
                "default offloads on the endpoints:\n" + features);
    }

    @ParameterizedTest(name = "bridge, backends {0} and {1}")
    @CsvSource({"packet, packet", "xdp, xdp", "packet, xdp"})
    @SuppressWarnings("try")
    void bridge(String backendA, String backendB) throws Exception {
        // as the bridge tool opens them: virtio-net headers end to end; packet -> xdp segments in software
        String[] names = VnetHeader.endToEnd("netmap:" + left.b() + "@backend=" + backendA,
                "netmap:" + right.a() + "@backend=" + backendB);
        Port a;
        Port b;
        try (NetNamespace ignored = NetNamespace.enter(nsR)) {
            a = Netmap.open(names[0]);
            b = Bridge.openSecond(a, names[1], false);
        }
        try (Forwarders f = new Forwarders(a, b)) {
            f.start(a, b, a.sharesMemoryWith(b));
            traffic();
            NicStats sa = ((NicPort) a).stats();
            NicStats sb = ((NicPort) b).stats();
            if (backendA.equals("xdp")) {
                assertTrue(sa.csumCompleted() > 0, "AF_XDP completed A's partial checksums: " + sa);
            } else if (backendB.equals("xdp")) {
                assertTrue(sb.segmented() > 0, "AF_XDP segmented A's super-frames from the AF_PACKET port: " + sb);
            }
        }
    }

    @Test
    void pipeConnectedMiddlebox() throws Exception {
        // NIC (plain frames) <-> pipe <-> forwarder <-> pipe <-> NIC
        String p1 = "offl" + ProcessHandle.current().pid() % 10000 + "a";
        String p2 = "offl" + ProcessHandle.current().pid() % 10000 + "b";
        Port nicA = NetLab.open(nsR, "netmap:" + left.b());
        Port nicB = NetLab.open(nsR, "netmap:" + right.a());
        Port m1 = Netmap.open(p1 + "{1");
        Port s1 = Netmap.open(p1 + "}1");
        Port m2 = Netmap.open(p2 + "{1");
        Port s2 = Netmap.open(p2 + "}1");
        try (Forwarders f = new Forwarders(nicA, m1, s1, m2, s2, nicB)) {
            f.start(nicA, m1, false);
            f.start(s1, m2, s1.sharesMemoryWith(m2));
            f.start(s2, nicB, false);
            traffic();
        }
    }

    @Test
    @SuppressWarnings("try")
    void valeSwitchWithTwoAttachedNics() throws Exception {
        String sw = "valeoff" + ProcessHandle.current().pid() % 10000;
        try (NetNamespace ignored = NetNamespace.enter(nsR)) {
            SwitchAdmin.attach(sw + ":" + left.b(), false);
            SwitchAdmin.attach(sw + ":" + right.a(), false);
        }
        try {
            traffic();
        } finally {
            ValeSwitches.get(sw).ifPresent(ValeSwitch::close);
        }
    }

    @Test
    @SuppressWarnings("try")
    void l3RouterWithTwoAttachedNics() throws Exception {
        // A 10.80.1.1/24 --- [router: vRA 10.80.1.0/24, vRB 10.80.2.0/24] --- B 10.80.2.1/24
        String sw = "valel3" + ProcessHandle.current().pid() % 10000;
        L3Router router = new L3Router();
        ValeSwitches.create(sw, router);
        try {
            try (NetNamespace ignored = NetNamespace.enter(nsR)) {
                SwitchAdmin.attach(sw + ":" + left.b(), false);
                SwitchAdmin.attach(sw + ":" + right.a(), false);
            }
            router.setPortMac(left.b(), Packet.parseMac(left.macB()));
            router.setPortMac(right.a(), Packet.parseMac(right.macA()));
            router.addRoute("10.80.1.0/24", router.nextHop(left.b(), Packet.parseMac(left.macA())));
            router.addRoute("10.80.2.0/24", router.nextHop(right.a(), Packet.parseMac(right.macB())));
            route(left.nsA(), left.a(), "10.80.1.1", "10.80.2.0/24", "10.80.1.254", left.macB());
            route(right.nsB(), right.b(), "10.80.2.1", "10.80.1.0/24", "10.80.2.254", right.macA());
            try {
                traffic("10.80.2.1");
            } finally {
                unroute(left.nsA(), left.a(), "10.80.1.1", "10.80.2.0/24", "10.80.1.254");
                unroute(right.nsB(), right.b(), "10.80.2.1", "10.80.1.0/24", "10.80.2.254");
            }
        } finally {
            ValeSwitches.get(sw).ifPresent(ValeSwitch::close);
        }
    }

    private static void route(String ns, String dev, String addr, String net, String gw, String gwMac) {
        NetLab.inNs(ns, "ip", "addr", "add", addr + "/24", "dev", dev);
        NetLab.inNs(ns, "ip", "neigh", "replace", gw, "lladdr", gwMac, "dev", dev, "nud", "permanent");
        NetLab.inNs(ns, "ip", "route", "add", net, "via", gw, "dev", dev);
    }

    private static void unroute(String ns, String dev, String addr, String net, String gw) {
        NetLab.inNs(ns, "ip", "route", "del", net, "via", gw, "dev", dev);
        NetLab.inNs(ns, "ip", "neigh", "del", gw, "dev", dev);
        NetLab.inNs(ns, "ip", "addr", "del", addr + "/24", "dev", dev);
    }

    // ---------------------------------------------------------------------------------------------

    private static void traffic() {
        traffic(IP_B);
    }

    /** 100 MB of TCP each way, 3000 UDP datagrams each delivered, no checksum errors in A or B. */
    private static void traffic(String dst) {
        NetLab.run(List.of("ip", "netns", "exec", left.nsA(), "ping", "-c", "3", "-i", "0.2", "-W", "5", dst));
        tcp(dst, false);
        tcp(dst, true);
        udp(dst);
        for (String ns : List.of(left.nsA(), right.nsB())) {
            String stat = NetLab.inNs(ns, "nstat", "-asz", "TcpInCsumErrors", "UdpInCsumErrors", "IpExtInCsumErrors");
            for (String line : stat.split("\n")) {
                String[] w = line.trim().split("\\s+");
                if (w.length >= 2 && w[0].endsWith("CsumErrors")) {
                    assertEquals("0", w[1], ns + ": " + line);
                }
            }
        }
    }

    /**
     * 3000 numbered datagrams of 1..1472 bytes from a socket in A to one in B (paced, with a large
     * receive buffer): each arrives exactly once with its bytes intact.
     */
    @SuppressWarnings("try")
    private static void udp(String dst) {
        int n = 3000;
        DatagramChannel rx;
        DatagramChannel tx;
        try {
            try (NetNamespace ignored = NetNamespace.enter(right.nsB())) {
                rx = DatagramChannel.open();
                rx.setOption(StandardSocketOptions.SO_RCVBUF, 16 << 20);
                rx.bind(new InetSocketAddress(dst, 5302));
            }
            try (NetNamespace ignored = NetNamespace.enter(left.nsA())) {
                tx = DatagramChannel.open();
                tx.connect(new InetSocketAddress(dst, 5302));
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        try (rx; tx) {
            rx.configureBlocking(false);
            boolean[] seen = new boolean[n];
            int got = 0;
            ByteBuffer out = ByteBuffer.allocate(1472);
            ByteBuffer in = ByteBuffer.allocate(2048);
            for (int i = 0; i < n; i++) {
                out.clear();
                int size = Math.max(4, 1 + i * 37 % 1472);
                out.putInt(i);
                while (out.position() < size) {
                    out.put((byte) (i + out.position()));
                }
                out.flip();
                tx.write(out);
                if (i % 20 == 19) {
                    Thread.sleep(1);
                }
                got += drain(rx, in, seen);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (got < n && System.nanoTime() < deadline) {
                int d = drain(rx, in, seen);
                got += d;
                if (d == 0) {
                    Thread.sleep(5);
                }
            }
            int missing = 0;
            for (boolean b : seen) {
                missing += b ? 0 : 1;
            }
            assertEquals(0, missing, "UDP datagrams that did not arrive in B (of " + n + ")");
            assertEquals(n, got);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Takes every datagram waiting on {@code rx}, checks its bytes, marks its number; returns how many. */
    private static int drain(DatagramChannel rx, ByteBuffer in, boolean[] seen) throws IOException {
        int got = 0;
        while (true) {
            in.clear();
            if (rx.receive(in) == null) {
                return got;
            }
            in.flip();
            int i = in.getInt();
            assertTrue(i >= 0 && i < seen.length && !seen[i], "datagram " + i + " unexpected or twice");
            assertEquals(Math.max(4, 1 + i * 37 % 1472), in.limit(), "length of datagram " + i);
            while (in.hasRemaining()) {
                int pos = in.position();
                assertEquals((byte) (i + pos), in.get(), "byte " + pos + " of datagram " + i);
            }
            seen[i] = true;
            got++;
        }
    }

    /**
     * 100 MiB over one TCP connection between a socket in A and one in B ({@code reverse}: B sends),
     * every byte checked against the pattern sent.
     */
    @SuppressWarnings("try")
    private static void tcp(String dst, boolean reverse) {
        long total = 100L << 20;
        try {
            ServerSocketChannel ss;
            SocketChannel client;
            try (NetNamespace ignored = NetNamespace.enter(right.nsB())) {
                ss = ServerSocketChannel.open();
                ss.bind(new InetSocketAddress(dst, 5303));
            }
            try (NetNamespace ignored = NetNamespace.enter(left.nsA())) {
                client = SocketChannel.open();
            }
            try (ss; client) {
                client.connect(new InetSocketAddress(dst, 5303));
                try (SocketChannel server = ss.accept()) {
                    SocketChannel tx = reverse ? server : client;
                    SocketChannel rx = reverse ? client : server;
                    // own threads: the common pool may have a single worker on a small machine
                    java.util.concurrent.Executor own = r -> Thread.ofPlatform().daemon().name("tcp-io").start(r);
                    CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                        try {
                            for (long n = 0; n < total; n += PATTERN.length) {
                                ByteBuffer b = ByteBuffer.wrap(PATTERN);
                                while (b.hasRemaining()) {
                                    tx.write(b);
                                }
                            }
                            tx.shutdownOutput();
                        } catch (IOException e) {
                            throw new IllegalStateException(e);
                        }
                    }, own);
                    CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> receive(rx), own);
                    assertEquals(total, received.get(90, TimeUnit.SECONDS), "TCP bytes received");
                    sent.get(10, TimeUnit.SECONDS);
                }
            }
        } catch (IOException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("TCP " + (reverse ? "B -> A" : "A -> B") + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static final byte[] PATTERN = new byte[1 << 20];

    static {
        new java.util.Random(17).nextBytes(PATTERN);
    }

    /** Reads to end of stream, checking each byte against {@link #PATTERN}; returns the count. */
    private static long receive(SocketChannel rx) {
        byte[] buf = new byte[PATTERN.length];
        long got = 0;
        try {
            while (true) {
                int off = (int) (got % PATTERN.length);
                ByteBuffer b = ByteBuffer.wrap(buf, 0, PATTERN.length - off);
                int n = rx.read(b);
                if (n < 0) {
                    return got;
                }
                int bad = Arrays.mismatch(buf, 0, n, PATTERN, off, off + n);
                assertEquals(-1, bad, "TCP byte " + (got + bad) + " differs from what was sent");
                got += n;
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Bridge.run threads between pairs of ports; stops them and closes every port. */
    private static final class Forwarders implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();
        private final List<Port> ports;

        Forwarders(Port... ports) {
            this.ports = List.of(ports);
        }

        void start(Port a, Port b, boolean zeroCopy) {
            threads.add(Thread.ofPlatform().name("fwd-" + a.name()).start(() ->
                    Bridge.run(a, b, 256, zeroCopy, Bridge.DEFAULT_WAIT, stop::get, new Bridge.Counters())));
        }

        @Override
        public void close() {
            stop.set(true);
            try {
                for (Thread t : threads) {
                    t.join(5000);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (int i = ports.size() - 1; i >= 0; i--) {
                ports.get(i).close();
            }
        }
    }
}
