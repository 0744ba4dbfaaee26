package io.jnetmap.core.nic;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Host-stack ports on TAP devices: frames written into {@code netmap:TAP^} reach the host's stack, and
 * its answers come back on the port's RX ring (ARP who-has → is-at, ICMP echo request → reply). Also
 * {@code netmap:IF*}: NIC rings and host rings in one port. Needs root.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HostPortTest {
    private static final byte[] OUR_MAC = Frames.mac("02:6a:00:00:00:99");
    private static final byte[] OUR_IP = {10, 77, 0, 2};
    private static final byte[] HOST_IP = {10, 77, 0, 1};

    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(0);
    private static String ns;

    @BeforeAll
    static void createNamespace() {
        ns = NET.lab().namespace();
    }

    private static Port openIn(String name) {
        return NetLab.open(ns, name);
    }

    @Test
    void theHostAnswersArpAndPingWrittenIntoItsTap() {
        String tap = NetLab.uniqueName("t");
        try (Port p = openIn("netmap:" + tap + "^")) {
            assertEquals("tap", p.backend());
            assertEquals(tap, ((NicPort) p).tapName());
            assertEquals(1, p.txRings());
            assertEquals(1, p.rxRings());
            NetLab.inNs(ns, "ip", "addr", "add", "10.77.0.1/24", "dev", tap);
            byte[] hostMac = Frames.mac(NetLab.inNs(ns, "cat", "/sys/class/net/" + tap + "/address").trim());

            Frames.send(p, Frames.arpRequest(OUR_MAC, OUR_IP, HOST_IP));
            assertEquals(p.txRing(0).numSlots() - 1, p.txRing(0).space(), "a TAP write completes in the sync");
            byte[] reply = Frames.receive(p, f -> Frames.type(f) == 0x0806 && (f[21] & 0xff) == 2);
            assertArrayEquals(OUR_MAC, Frames.slice(reply, 0, 6), "ARP reply to us");
            assertArrayEquals(hostMac, Frames.slice(reply, 22, 6), "the host says it has 10.77.0.1 at the TAP's MAC");
            assertArrayEquals(HOST_IP, Frames.slice(reply, 28, 4));

            Frames.send(p, Frames.echoRequest(hostMac, OUR_MAC, OUR_IP, HOST_IP, 0x4a4e, 7));
            byte[] pong = Frames.receive(p, f -> Frames.type(f) == 0x0800 && f[23] == 1 && (f[34] & 0xff) == 0);
            assertArrayEquals(HOST_IP, Frames.slice(pong, 26, 4), "from the host");
            assertArrayEquals(OUR_IP, Frames.slice(pong, 30, 4), "to us");
            assertEquals(0x4a4e, ((pong[38] & 0xff) << 8) | (pong[39] & 0xff), "echo id");
            assertEquals(7, ((pong[40] & 0xff) << 8) | (pong[41] & 0xff), "echo sequence");
        }
        assertFalse(NetLab.inNs(ns, "ip", "-br", "link").contains(tap), "the TAP went away with the port");
    }

    @Test
    void hostRingsAreQueuesOfAMultiQueueTap() {
        String tap = NetLab.uniqueName("t");
        try (Port all = openIn("netmap:" + tap + "^@conf:host-rings=2")) {
            assertEquals(2, all.txRings());
            assertEquals(2, all.rxRings());
            try (Port one = openIn("netmap:" + tap + "^1@conf:host-rings=2")) {
                assertEquals(1, one.rxRings());
                assertEquals(1, one.rxRing(0).ringId(), "netmap:IF^1 binds host ring 1");
            }
        }
    }

    @Test
    void starPortHasNicRingsAndHostRings() {
        NetLab.Veth v = NET.lab().vethPair(ns, ns);
        try (Port p = openIn("netmap:" + v.a() + "*")) {
            assertTrue(p.backend().startsWith("af_xdp/copy/") && p.backend().endsWith("+tap"), p.backend());
            assertEquals(2, p.txRings(), "NIC ring pair 0, then host ring pair 0");
            assertEquals(2, p.rxRings());
            assertEquals(v.a() + "^", ((NicPort) p).tapName());
            assertTrue(NetLab.inNs(ns, "ip", "-br", "link").contains(v.a() + "^"), "TAP IF^ exists while the port is open");
            // NIC TX ring 0 reaches the peer: its stack counts the frame
            long before = NetLab.counter(ns, v.b(), "rx_packets");
            Ring t = p.txRing(0);
            Frames.write(t, t.head(), Frames.mac(v.macB()), Frames.mac(v.macA()), 1, 60);
            t.advanceTo(t.nextSlot(t.head()));
            t.sync();
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (NetLab.counter(ns, v.b(), "rx_packets") == before) {
                assertTrue(System.nanoTime() < deadline, "the frame arrives at the peer");
                t.sync();
            }
        }
    }


}
