package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.examples.Bridge;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The bridge between two veths forwards exactly: every frame sent into one side comes out of the
 * other, once, in order, in both directions; by swapping buffers when its ports share a region and by
 * copying otherwise. Topology: [nsA] a1 ⟷ b1 [nsBR: bridge] b2 ⟷ a2 [nsB]. Needs root.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BridgeTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(0);
    private static NetLab.Veth left;
    private static NetLab.Veth right;

    @BeforeAll
    static void createTopology() {
        NetLab lab = NET.lab();
        String nsA = lab.namespace();
        String nsBr = lab.namespace();
        String nsB = lab.namespace();
        left = lab.vethPair(nsA, nsBr);
        right = lab.vethPair(nsBr, nsB);
    }


    @ParameterizedTest(name = "backend {0}, copy forced {1}")
    @CsvSource({"xdp, false", "xdp, true", "packet, false"})
    @SuppressWarnings("try")
    void forwardsEveryFrameInOrderBothWays(String backend, boolean forceCopy) throws Exception {
        Port a;
        Port b;
        try (NetNamespace ignored = NetNamespace.enter(left.nsB())) {
            a = Netmap.open("netmap:" + left.b() + "@backend=" + backend);
            b = Bridge.openSecond(a, "netmap:" + right.a() + "@backend=" + backend, forceCopy);
        }
        boolean zeroCopy = !forceCopy && a.sharesMemoryWith(b);
        assertEquals(!forceCopy, zeroCopy, "the second port shares the first one's region unless copying is forced");
        Bridge.Counters counters = new Bridge.Counters();
        AtomicBoolean stop = new AtomicBoolean();
        Thread bridge = Thread.ofPlatform().name("bridge").start(() -> Bridge.run(a, b, 256, zeroCopy, Bridge.DEFAULT_WAIT, stop::get, counters));
        try (Port s = NetLab.open(left.nsA(), "netmap:" + left.a());
             Port r = NetLab.open(right.nsB(), "netmap:" + right.b())) {
            int n = 20_000;
            pingPong(s, r, Frames.mac(right.macB()), Frames.mac(left.macA()), n);
            pingPong(r, s, Frames.mac(left.macA()), Frames.mac(right.macB()), n / 4);
            // the bridge counts a round after its packets left: give its last round a moment
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while ((counters.aToB.get() < n || counters.bToA.get() < n / 4) && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(n, counters.aToB.get());
            assertEquals(n / 4, counters.bToA.get());
            assertEquals(0, ((NicPort) r).stats().rxDrops(), ((NicPort) r).stats().toString());
        } finally {
            stop.set(true);
            bridge.join(10_000);
            b.close();
            a.close();
        }
        assertFalse(bridge.isAlive(), "the bridge stopped");
    }

    /**
     * Sends {@code n} numbered frames from {@code s} and receives them on {@code r}, at most a window
     * in flight so that no ring on the way overflows; fails on any loss, duplicate or reordering.
     */
    private static void pingPong(Port s, Port r, byte[] dst, byte[] src, int n) {
        Ring t = s.txRing(0);
        Ring rx = r.rxRing(0);
        int window = 512;
        long sent = 0;
        long received = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (received < n) {
            int room = (int) Math.min(Math.min(t.space(), n - sent), window - (sent - received));
            if (room > 0) {
                int i = t.head();
                for (int k = 0; k < room; k++) {
                    Frames.write(t, i, dst, src, sent++, 60);
                    i = t.nextSlot(i);
                }
                t.advanceTo(i);
            }
            t.sync();
            rx.sync();
            int j = rx.head();
            while (j != rx.tail()) {
                long seq = Frames.seq(rx, j);
                if (seq >= 0) {
                    assertEquals(received, seq, "frames arrive in order, none lost or repeated");
                    received++;
                }
                j = rx.nextSlot(j);
            }
            rx.advanceTo(j);
            if (System.nanoTime() > deadline) {
                fail("received " + received + " of " + n + " frames through the bridge (sent " + sent + ")");
            }
        }
        rx.sync();
        assertEquals(rx.head(), rx.tail(), "and nothing else");
    }

    /**
     * {@code bridge -i netmap:IF}: the NIC's frames go to its host stack (TAP {@code IF^}) and back, so
     * the host behind {@code IF^} answers ARP and ping that arrive on IF.
     */
    @Test
    @SuppressWarnings("try")
    void bridgesANicWithItsHostStack() throws Exception {
        NetLab.Veth v = NET.lab().vethPair(NET.lab().namespace(), NET.lab().namespace());
        Bridge.Options o = Bridge.parse(new String[] {"-i", "netmap:" + v.b()});
        Port nic;
        Port host;
        try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
            nic = Netmap.open(o.ports().get(0));
            host = Bridge.openSecond(nic, o.ports().get(1), false);
        }
        assertTrue(host.backend().equals("tap") && nic.sharesMemoryWith(host), host.backend());
        Bridge.Counters counters = new Bridge.Counters();
        AtomicBoolean stop = new AtomicBoolean();
        Thread bridge = Thread.ofPlatform().name("bridge-host").start(
                () -> Bridge.run(nic, host, 256, true, Bridge.DEFAULT_WAIT, stop::get, counters));
        byte[] ip = {10, 78, 0, 1};
        byte[] hostIp = {10, 78, 0, 2};
        byte[] mac = Frames.mac(v.macA());
        try (Port peer = NetLab.open(v.nsA(), "netmap:" + v.a())) {
            NetLab.inNs(v.nsB(), "ip", "addr", "add", "10.78.0.2/24", "dev", v.b() + "^");
            // from the far end of the veth: ARP and ping the host that sits behind the bridge
            Frames.send(peer, Frames.arpRequest(mac, ip, hostIp));
            byte[] reply = Frames.receive(peer, f -> Frames.type(f) == 0x0806 && (f[21] & 0xff) == 2);
            byte[] hostMac = Frames.slice(reply, 22, 6);
            assertTrue(Arrays.equals(hostIp, Frames.slice(reply, 28, 4)), "10.78.0.2 is at the TAP's MAC");
            Frames.send(peer, Frames.echoRequest(hostMac, mac, ip, hostIp, 0x4a4e, 1));
            byte[] pong = Frames.receive(peer, f -> Frames.type(f) == 0x0800 && f[23] == 1 && (f[34] & 0xff) == 0);
            assertTrue(Arrays.equals(hostIp, Frames.slice(pong, 26, 4)), "echo reply from the host stack");
            assertTrue(counters.aToB.get() >= 2 && counters.bToA.get() >= 2, "both ways through the bridge: "
                    + counters.aToB.get() + " / " + counters.bToA.get());
        } finally {
            stop.set(true);
            bridge.join(10_000);
            host.close();
            nic.close();
        }
    }

    @Test
    void optionsAreParsedAsNetmapsBridge() {
        Bridge.Options o = Bridge.parse(new String[] {"-i", "netmap:x", "-i", "netmap:y", "-b", "64", "-c", "-w", "2"});
        assertEquals(List.of("netmap:x", "netmap:y"), o.ports());
        assertEquals(64, o.batch());
        assertEquals(2, o.waitSec());
        assertTrue(o.forceCopy());
        assertEquals(List.of("netmap:eth1", "netmap:eth1^"), Bridge.parse(new String[] {"-i", "netmap:eth1"}).ports(),
                "one -i bridges a NIC with its host stack");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bridge.parse(new String[] {"-b", "x"}));
        assertTrue(e.getMessage().contains("'-b': 'x' is not an int"), e.getMessage()); // picocli's words, as every tool's
        e = assertThrows(IllegalArgumentException.class, () -> Bridge.parse(new String[] {"-i", "netmap:x", "-b", "0"}));
        assertTrue(e.getMessage().contains("-b 0 (expected: 1..65536)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Bridge.parse(new String[] {"-i", "pipe{1"}));
        assertTrue(e.getMessage().contains("alone (expected: netmap:IF"), e.getMessage());
    }
}
