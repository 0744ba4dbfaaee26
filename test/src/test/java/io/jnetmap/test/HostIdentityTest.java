package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.examples.Bridge;
import io.jnetmap.examples.Main;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A NIC attached with its host stack keeps the namespace's connectivity: from the namespace that owns
 * NIC IF, ping (IPv4, IPv6, a secondary address) and TCP reach the peer with no configuration change
 * while {@code bridge -i netmap:IF} or {@code vale-ctl -h S:IF} runs, because TAP {@code IF^} has IF's
 * MAC, addresses and routes; afterwards IF has exactly what it had ({@code ip -j addr}/{@code ip -j route}
 * compared), also after a kill -9 of the process that held the port, once {@code info --gc} or the next
 * host-stack open has run. Needs root.
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class HostIdentityTest {
    private NetLab lab;
    private NetLab.Veth v;
    private String nic;
    private String before;

    @BeforeEach
    void configure() {
        lab = new NetLab();
        v = lab.vethPair();
        nic = v.a();
        String peer = v.b();
        // IPv6 on for both ends (NetLab turns it off by default): its addresses and routes move too
        NetLab.inNs(v.nsA(), "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/" + nic + "/disable_ipv6");
        NetLab.inNs(v.nsB(), "sh", "-c", "echo 0 > /proc/sys/net/ipv6/conf/" + peer + "/disable_ipv6");
        NetLab.inNs(v.nsA(), "ip", "addr", "add", "10.61.0.1/24", "dev", nic);
        NetLab.inNs(v.nsA(), "ip", "addr", "add", "10.61.0.5/24", "dev", nic); // a secondary
        NetLab.inNs(v.nsA(), "ip", "-6", "addr", "add", "fd61::1/64", "dev", nic, "nodad");
        NetLab.inNs(v.nsA(), "ip", "route", "add", "default", "via", "10.61.0.2");
        NetLab.inNs(v.nsA(), "ip", "route", "add", "10.62.0.0/24", "via", "10.61.0.2", "metric", "5");
        NetLab.inNs(v.nsA(), "ip", "-6", "route", "add", "default", "via", "fd61::2");
        NetLab.inNs(v.nsB(), "ip", "addr", "add", "10.61.0.2/24", "dev", peer);
        NetLab.inNs(v.nsB(), "ip", "-6", "addr", "add", "fd61::2/64", "dev", peer, "nodad");
        before = settled();
        assertTrue(before.contains("10.61.0.5") && before.contains("fd61::1") && before.contains("fe80::"), before);
    }

    @AfterEach
    void removeLab() {
        lab.close();
    }

    /** IF's link, addresses and routes in every table, as {@code ip -j} prints them, and the sysctls moving changes. */
    private String config() {
        return NetLab.inNs(v.nsA(), "sh", "-c", "ip -j addr show dev " + nic + "; ip -j route show table all dev " + nic
                + "; ip -j -6 route show table all dev " + nic + "; cd /proc/sys/net; cat ipv4/conf/" + nic + "/rp_filter ipv4/conf/"
                + nic + "/arp_ignore ipv6/conf/" + nic + "/disable_ipv6");
    }

    /** {@link #config()} once IPv6 duplicate address detection is over (no tentative address left). */
    private String settled() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String c = config();
        while (c.contains("tentative") && System.nanoTime() < deadline) {
            sleep(100);
            c = config();
        }
        sleep(300); // the local route of a link-local address follows the end of DAD
        return config();
    }

    /** After close or restore: IF's configuration comes back exactly (IPv6 DAD of its link-local aside). */
    private void assertRestored(String when) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String c = config();
        while (!c.equals(before) && System.nanoTime() < deadline) {
            sleep(200);
            c = config();
        }
        assertEquals(before, c, when + ": " + nic + " has its MAC, addresses and routes back");
        assertFalse(NetLab.inNs(v.nsA(), "ip", "-br", "link").contains(nic + "^"), "the TAP is gone");
    }

    /** While the port is open: the TAP has IF's identity, IF has none of it, and the peer answers. */
    private void assertConnectedThroughTap() throws Exception {
        String tap = nic + "^";
        String tapAddr = NetLab.inNs(v.nsA(), "ip", "addr", "show", "dev", tap);
        assertTrue(tapAddr.contains(v.macA()) && tapAddr.contains("10.61.0.1/24") && tapAddr.contains("10.61.0.5/24")
                && tapAddr.contains("fd61::1/64"), "the TAP has IF's MAC and addresses: " + tapAddr);
        String ifAddr = NetLab.inNs(v.nsA(), "ip", "addr", "show", "dev", nic);
        assertFalse(ifAddr.contains("inet"), "IF has given them up: " + ifAddr);
        assertTrue(NetLab.inNs(v.nsA(), "ip", "route", "get", "10.99.0.1").contains("via 10.61.0.2 dev " + tap),
                "the default route goes through the TAP");
        assertTrue(NetLab.inNs(v.nsA(), "ip", "route", "get", "10.62.0.7").contains("via 10.61.0.2 dev " + tap));
        assertTrue(NetLab.inNs(v.nsA(), "ip", "-6", "route", "get", "fd99::1").contains("via fd61::2 dev " + tap));
        ping("10.61.0.2");
        ping("-I", "10.61.0.5", "10.61.0.2");
        ping("-6", "fd61::2");
        tcpEcho();
    }

    private void ping(String... args) {
        List<String> cmd = new ArrayList<>(List.of("ping", "-c", "3", "-i", "0.2", "-W", "2"));
        cmd.addAll(List.of(args));
        String out = NetLab.inNs(v.nsA(), cmd.toArray(String[]::new));
        assertTrue(out.contains(" 0% packet loss") && !out.contains("DUP"), out);
    }

    /** 512 KiB from IF's namespace to a server in the peer's and back, over TCP. */
    @SuppressWarnings("try")
    private void tcpEcho() throws Exception {
        ServerSocket server;
        try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(InetAddress.getByName("10.61.0.2"), 0));
        }
        Thread echo = Thread.ofPlatform().name("echo").start(() -> {
            try (Socket s = server.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                in.transferTo(out);
            } catch (Exception ignored) {
                // the client's assertions report it
            }
        });
        byte[] data = new byte[512 * 1024];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + (i >> 9));
        }
        byte[] back = new byte[data.length];
        try (server) {
            Socket s;
            try (NetNamespace ignored = NetNamespace.enter(v.nsA())) {
                s = new Socket();
                s.setSoTimeout(20_000); // the socket is made at first use: here, in IF's namespace
            }
            try (s) {
                s.connect(new InetSocketAddress(InetAddress.getByName("10.61.0.2"), server.getLocalPort()), 10_000);
                Thread writer = Thread.ofPlatform().start(() -> {
                    try {
                        s.getOutputStream().write(data);
                        s.shutdownOutput();
                    } catch (Exception ignored) {
                        // the reader sees the missing bytes
                    }
                });
                int n = s.getInputStream().readNBytes(back, 0, back.length);
                writer.join(10_000);
                assertEquals(data.length, n, "every byte echoed over TCP");
            }
        }
        echo.join(10_000);
        assertTrue(java.util.Arrays.equals(data, back), "and the same bytes");
    }

    // ----------------------------------------------------------------------------------------------

    @ParameterizedTest(name = "backend {0}")
    @ValueSource(strings = {"xdp", "packet"})
    @SuppressWarnings("try")
    void bridgeInProcess(String backend) throws Exception {
        Bridge.Options o = Bridge.parse(new String[] {"-i", "netmap:" + nic + "@backend=" + backend});
        Port port;
        Port host;
        try (NetNamespace ignored = NetNamespace.enter(v.nsA())) {
            port = Netmap.open(o.ports().get(0));
            host = Bridge.openSecond(port, o.ports().get(1), false);
        }
        assertEquals(nic + "^", ((NicPort) host).tapName());
        AtomicBoolean stop = new AtomicBoolean();
        Thread bridge = Thread.ofPlatform().name("bridge-host-identity").start(
                () -> Bridge.run(port, host, 256, true, Bridge.DEFAULT_WAIT, stop::get, new Bridge.Counters()));
        try {
            assertConnectedThroughTap();
            assertTrue(Child.run(v.nsA(), "info").contains("in use"), "info lists the record while the port is open");
        } finally {
            stop.set(true);
            bridge.join(10_000);
            host.close(); // from this thread, in another namespace: the restore still happens in IF's
            port.close();
        }
        assertRestored("after close");
    }

    @Test
    void bridgeChildKilledThenInfoGc() throws Exception {
        Child c = Child.start(v.nsA(), "<->", "bridge", "-i", "netmap:" + nic);
        try {
            assertConnectedThroughTap();
            c.kill9();
            assertFalse(NetLab.inNs(v.nsA(), "ip", "addr", "show", "dev", nic).contains("inet "),
                    "the killed process could not give the addresses back");
            String elsewhere = Child.run(null, "info", "--gc");
            assertTrue(elsewhere.contains("STALE (owner dead; in another network namespace"), elsewhere);
            assertFalse(NetLab.inNs(v.nsA(), "ip", "addr", "show", "dev", nic).contains("inet "),
                    "info --gc from another namespace restores nothing");
            assertTrue(Child.run(v.nsA(), "info").contains("STALE (owner dead: info --gc restores it)"));
            String gc = Child.run(v.nsA(), "info", "--gc");
            assertTrue(gc.contains("gc: " + nic + ": restored 4 address(es) and 3 route(s)"), gc);
            assertRestored("after kill -9 and info --gc");
            assertFalse(Child.run(v.nsA(), "info").contains(nic + " "), "the record is gone");
        } finally {
            c.stop();
        }
    }

    @Test
    void recordOfARemovedNamespaceIsRemovedByGc() throws Exception {
        Child c = Child.start(v.nsA(), "<->", "bridge", "-i", "netmap:" + nic);
        try {
            c.kill9();
        } finally {
            c.stop();
        }
        assertTrue(Child.run(null, "info").contains(nic + " "), "the dead process's record is listed");
        lab.close(); // the namespace goes, and the interface with it
        // A namespace outlives `ip netns del` until its last user (a process still exiting, a
        // socket the kernel frees later) lets go; under load that takes a moment. Until then gc
        // rightly leaves the record, so ask again for a while.
        String gc = Child.run(null, "info", "--gc");
        for (long end = System.nanoTime() + 15_000_000_000L;
                !gc.contains("gc: " + nic + ": removed the record of dead pid") && System.nanoTime() < end; ) {
            assertTrue(gc.contains("gc: " + nic + ": left the record of dead pid"), gc);
            Thread.sleep(200);
            gc = Child.run(null, "info", "--gc");
        }
        assertTrue(gc.contains("gc: " + nic + ": removed the record of dead pid"), gc);
        assertFalse(Child.run(null, "info").contains(nic + " "), "and it is gone");
    }

    @Test
    @SuppressWarnings("try")
    void bridgeChildKilledThenNextHostOpen() throws Exception {
        Child c = Child.start(v.nsA(), "<->", "bridge", "-i", "netmap:" + nic);
        try {
            ping("10.61.0.2");
            c.kill9();
        } finally {
            c.stop();
        }
        Port host;
        try (NetNamespace ignored = NetNamespace.enter(v.nsA())) {
            host = Netmap.open("netmap:" + nic + "^");
        }
        try {
            String tapAddr = NetLab.inNs(v.nsA(), "ip", "addr", "show", "dev", nic + "^");
            assertTrue(tapAddr.contains("10.61.0.1/24") && tapAddr.contains("fd61::1/64"),
                    "the open restored the dead process's move, then moved again: " + tapAddr);
        } finally {
            try (NetNamespace ignored = NetNamespace.enter(v.nsA())) {
                host.close();
            }
        }
        assertRestored("after kill -9 and the next host-stack open");
    }

    @Test
    void valeCtlHostChild() throws Exception {
        String sw = "valehid" + ProcessHandle.current().pid() % 100000;
        Child c = Child.start(v.nsA(), "hosting " + sw, "vale-ctl", "--host", sw, "-h", sw + ":" + nic);
        try {
            assertConnectedThroughTap();
            Child.run(null, "vale-ctl", "-d", sw + ":" + nic + "^");
            Child.run(null, "vale-ctl", "-d", sw + ":" + nic);
            assertRestored("after vale-ctl -d");
        } finally {
            c.stop();
        }
    }

    // ----------------------------------------------------------------------------------------------

    /** A {@code bin/jnetmap} tool in a child JVM. */
    private record Child(Process p, Path log) {
        static Process launch(String ns, Path log, String... args) throws Exception {
            String java = ProcessHandle.current().info().command().orElse("java");
            List<String> cmd = new ArrayList<>();
            if (ns != null) {
                cmd.addAll(List.of("ip", "netns", "exec", ns)); // execs: the child's pid is the JVM's
            }
            cmd.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName()));
            cmd.addAll(List.of(args));
            return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        }

        /** Starts the tool and waits until its output contains {@code ready}. */
        static Child start(String ns, String ready, String... args) throws Exception {
            Path log = Files.createTempFile("jnetmap-hostid", ".txt");
            Child c = new Child(launch(ns, log, args), log);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.readString(log).contains(ready)) {
                if (!c.p.isAlive() || System.nanoTime() > deadline) {
                    c.stop();
                    throw new AssertionError("the tool did not start: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
            return c;
        }

        /** Runs the tool to completion; returns its output. */
        static String run(String ns, String... args) throws Exception {
            Path log = Files.createTempFile("jnetmap-hostid", ".txt");
            try {
                Process p = launch(ns, log, args);
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), "finished: " + String.join(" ", args));
                String out = Files.readString(log);
                assertEquals(0, p.exitValue(), out);
                return out;
            } finally {
                Files.deleteIfExists(log);
            }
        }

        void kill9() throws Exception {
            p.destroyForcibly(); // SIGKILL: no shutdown hook, no close
            assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        }

        void stop() throws Exception {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(log);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
