package io.jnetmap.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnetmap.core.nic.NetLab;
import io.jnetmap.examples.Main;
import io.jnetmap.sys.NetNamespace;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The firewall and the NAT tools as a user runs them, between two veths in a namespace of their own,
 * carrying real TCP (Java sockets in the client's and the server's namespaces), UDP and ping.
 *
 * <pre>
 *   nsC: cA 10.9.0.1 ── cB ┐ nsM: firewall / nat ┌ sB ── sA (10.9.0.2 | 192.168.77.2) :nsS
 * </pre>
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MiddleboxNamespaceTest {
    private NetLab lab;
    private NetLab.Veth inside;
    private NetLab.Veth outside;
    private final List<AutoCloseable> closing = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> peers = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void lab() {
        lab = new NetLab();
        String nsC = lab.namespace();
        String nsM = lab.namespace();
        String nsS = lab.namespace();
        inside = lab.vethPair(nsC, nsM);    // a = cA (client), b = cB (box)
        outside = lab.vethPair(nsS, nsM);   // a = sA (server), b = sB (box)
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (int i = closing.size() - 1; i >= 0; i--) {
            try {
                closing.get(i).close();
            } catch (Exception ignored) {
                // best effort: the namespaces go next anyway
            }
        }
        lab.close();
    }

    private LbAcrossProcessesTest.Tool box(String prefix, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", inside.nsB(),
                ProcessHandle.current().info().command().orElse("java"), "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC",
                "-Xmx128m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        LbAcrossProcessesTest.Tool t = new LbAcrossProcessesTest.Tool(prefix, cmd);
        closing.add(t::kill);
        t.awaitLine();
        return t;
    }

    /** A TCP echo server on addr:port in namespace ns; it records each peer's address. */
    private void echoServer(String ns, String addr, int port) throws Exception {
        ServerSocket server;
        try (NetNamespace ignored = NetNamespace.enter(ns)) {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(addr, port));
        }
        closing.add(server);
        Thread.ofPlatform().daemon().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    peers.add(s.getInetAddress().getHostAddress());
                    s.getInputStream().transferTo(s.getOutputStream());
                } catch (Exception e) {
                    // closed at the end of the test, or a client that gave up
                }
            }
        });
    }

    /** A UDP echo server; records each peer's address. */
    private void udpEcho(String ns, String addr, int port) throws Exception {
        DatagramSocket s;
        try (NetNamespace ignored = NetNamespace.enter(ns)) {
            s = new DatagramSocket(new InetSocketAddress(addr, port));
        }
        closing.add(s);
        Thread.ofPlatform().daemon().start(() -> {
            byte[] buf = new byte[2048];
            while (!s.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    peers.add(p.getAddress().getHostAddress());
                    s.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                } catch (Exception e) {
                    return;
                }
            }
        });
    }

    /** Connects from ns to addr:port and echoes 200 KB through it (many segments both ways). */
    private static void tcpEcho(String ns, String addr, int port, int timeoutMs) throws Exception {
        Socket s = new Socket();
        try (NetNamespace ignored = NetNamespace.enter(ns)) {
            s.connect(new InetSocketAddress(addr, port), timeoutMs);
        }
        try (s) {
            s.setSoTimeout(20_000);
            byte[] data = new byte[200_000];
            new Random(port).nextBytes(data);
            OutputStream out = s.getOutputStream();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    out.write(data);
                    s.shutdownOutput();
                } catch (Exception e) {
                    // the read below fails too
                }
            });
            InputStream in = s.getInputStream();
            byte[] back = in.readAllBytes();
            writer.join(20_000);
            assertArrayEquals(data, back, "echoed through the box");
        }
    }

    private static String udpRoundTrip(String ns, String addr, int port, int timeoutMs) throws Exception {
        DatagramSocket s;
        try (NetNamespace ignored = NetNamespace.enter(ns)) {
            s = new DatagramSocket();
        }
        try (s) {
            s.setSoTimeout(timeoutMs);
            byte[] msg = ("hello " + port).getBytes();
            s.send(new DatagramPacket(msg, msg.length, InetAddress.getByName(addr), port));
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            s.receive(p);
            return new String(p.getData(), 0, p.getLength());
        }
    }

    private static boolean ping(String ns, String addr) {
        try {
            NetLab.inNs(ns, "ping", "-c", "1", "-W", "2", addr);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private static long counter(String out, String name) {
        Matcher m = Pattern.compile(name + " (\\d+)").matcher(out);
        assertTrue(m.find(), name + " in: " + out);
        return Long.parseLong(m.group(1));
    }

    @Test
    void firewallPassesAllowedConnectionsAndTheirRepliesAndBlocksTheRest() throws Exception {
        String nsC = inside.nsA();
        String nsS = outside.nsA();
        NetLab.inNs(nsC, "ip", "addr", "add", "10.9.0.1/24", "dev", inside.a());
        NetLab.inNs(nsS, "ip", "addr", "add", "10.9.0.2/24", "dev", outside.a());
        // IPv6 as well: the hosts find each other by neighbour discovery through the firewall
        NetLab.inNs(nsC, "sysctl", "-qw", "net.ipv6.conf." + inside.a() + ".disable_ipv6=0"); // NetLab's veths start without IPv6
        NetLab.inNs(nsS, "sysctl", "-qw", "net.ipv6.conf." + outside.a() + ".disable_ipv6=0");
        NetLab.inNs(nsC, "ip", "-6", "addr", "add", "fd00:9::1/64", "dev", inside.a(), "nodad");
        NetLab.inNs(nsS, "ip", "-6", "addr", "add", "fd00:9::2/64", "dev", outside.a(), "nodad");
        LbAcrossProcessesTest.Tool fw = box("firewall: ", "firewall", "-i", "netmap:" + inside.b(), "-i", "netmap:" + outside.b(),
                "-r", "allow out tcp any 10.9.0.2:8080", "-r", "allow out udp 10.9.0.0/24 10.9.0.2:5353", "-r", "allow out icmp any any",
                "-r", "allow out tcp [fd00:9::/64] [fd00:9::2]:8080");
        echoServer(nsS, "10.9.0.2", 8080);
        echoServer(nsS, "10.9.0.2", 8081);
        echoServer(nsC, "10.9.0.1", 9090);
        udpEcho(nsS, "10.9.0.2", 5353);
        udpEcho(nsS, "10.9.0.2", 5354);

        tcpEcho(nsC, "10.9.0.2", 8080, 10_000);                                   // allowed, replies pass
        assertThrows(SocketTimeoutException.class, () -> tcpEcho(nsC, "10.9.0.2", 8081, 1500)); // no rule
        assertThrows(SocketTimeoutException.class, () -> tcpEcho(nsS, "10.9.0.1", 9090, 1500)); // nothing in
        assertEquals("hello 5353", udpRoundTrip(nsC, "10.9.0.2", 5353, 5000));
        assertThrows(SocketTimeoutException.class, () -> udpRoundTrip(nsC, "10.9.0.2", 5354, 1500));
        assertTrue(ping(nsC, "10.9.0.2"), "ping out and its reply");
        assertTrue(!ping(nsS, "10.9.0.1"), "no ping in");
        tcpEcho(nsC, "10.9.0.2", 8080, 10_000);                                   // and again, a new connection
        echoServer(nsS, "fd00:9::2", 8080);
        echoServer(nsS, "fd00:9::2", 8081);
        echoServer(nsC, "fd00:9::1", 9090);
        tcpEcho(nsC, "fd00:9::2", 8080, 10_000);                                  // IPv6: allowed, replies pass
        assertThrows(SocketTimeoutException.class, () -> tcpEcho(nsC, "fd00:9::2", 8081, 1500)); // no rule
        assertThrows(SocketTimeoutException.class, () -> tcpEcho(nsS, "fd00:9::1", 9090, 1500)); // nothing in
        assertTrue(ping(nsC, "fd00:9::2"), "ICMPv6 echo out and its reply");
        assertTrue(!ping(nsS, "fd00:9::1"), "no ICMPv6 echo in");

        fw.stop();
        String out = fw.finish(30);
        assertTrue(counter(out, "passed") > 100, out);
        assertTrue(counter(out, "denied") >= 8, out);
    }

    @Test
    void natCarriesTcpUdpAndPingOutWithTheOutsideAddressAndDropsUnsolicitedTraffic() throws Exception {
        String nsC = inside.nsA();
        String nsS = outside.nsA();
        NetLab.inNs(nsC, "ip", "addr", "add", "10.9.0.1/24", "dev", inside.a());
        NetLab.inNs(nsC, "ip", "neigh", "add", "10.9.0.254", "lladdr", inside.macB(), "dev", inside.a(), "nud", "permanent");
        NetLab.inNs(nsC, "ip", "route", "add", "default", "via", "10.9.0.254");
        NetLab.inNs(nsS, "ip", "addr", "add", "192.168.77.2/24", "dev", outside.a());
        // no neighbour entry for the NAT's outside address: the server finds it by ARP, which the NAT answers
        LbAcrossProcessesTest.Tool nat = box("nat: ", "nat", "-i", "netmap:" + inside.b(), "-i", "netmap:" + outside.b(),
                "-A", "192.168.77.1", "-g", outside.macA());
        echoServer(nsS, "192.168.77.2", 8080);
        udpEcho(nsS, "192.168.77.2", 5353);

        tcpEcho(nsC, "192.168.77.2", 8080, 10_000);
        tcpEcho(nsC, "192.168.77.2", 8080, 10_000);
        assertEquals("hello 5353", udpRoundTrip(nsC, "192.168.77.2", 5353, 5000));
        assertTrue(ping(nsC, "192.168.77.2"), "ping through the NAT");
        assertEquals(List.of("192.168.77.1", "192.168.77.1", "192.168.77.1"), List.copyOf(peers), "the server saw the outside address");
        assertThrows(SocketTimeoutException.class, () -> tcpEcho(nsS, "192.168.77.1", 22, 1500), "unsolicited traffic is dropped");

        nat.stop();
        String out = nat.finish(30);
        assertTrue(counter(out, "translated") > 100, out);
        assertTrue(counter(out, "mappings") >= 3, out);
        assertTrue(counter(out, "arp-replies") >= 1, out);
        assertTrue(NetLab.inNs(nsS, "ip", "neigh", "show", "192.168.77.1").contains(outside.macB()), "the server learnt the NAT's MAC by ARP");
    }
}
