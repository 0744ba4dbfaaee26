package io.jnetmap.core.nic;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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

    private static NetLab lab;
    private static String ns;

    @BeforeAll
    static void createNamespace() {
        lab = new NetLab();
        ns = lab.namespace();
    }

    @AfterAll
    static void removeNamespace() {
        if (lab != null) {
            lab.close();
        }
    }

    @SuppressWarnings("try")
    private static Port openIn(String name) {
        try (NetNamespace ignored = NetNamespace.enter(ns)) {
            return Netmap.open(name);
        }
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

            send(p, arpRequest());
            byte[] reply = receive(p, f -> type(f) == 0x0806 && (f[21] & 0xff) == 2);
            assertArrayEquals(OUR_MAC, slice(reply, 0, 6), "ARP reply to us");
            assertArrayEquals(hostMac, slice(reply, 22, 6), "the host says it has 10.77.0.1 at the TAP's MAC");
            assertArrayEquals(HOST_IP, slice(reply, 28, 4));

            send(p, echoRequest(hostMac, 0x4a4e, 7));
            byte[] pong = receive(p, f -> type(f) == 0x0800 && f[23] == 1 && (f[34] & 0xff) == 0);
            assertArrayEquals(HOST_IP, slice(pong, 26, 4), "from the host");
            assertArrayEquals(OUR_IP, slice(pong, 30, 4), "to us");
            assertEquals(0x4a4e, ((pong[38] & 0xff) << 8) | (pong[39] & 0xff), "echo id");
            assertEquals(7, ((pong[40] & 0xff) << 8) | (pong[41] & 0xff), "echo sequence");
        }
        assertFalse(NetLab.inNs(ns, "ip", "-br", "link").contains(tap), "the TAP went away with the port");
    }

    @Test
    void starPortHasNicRingsAndHostRings() {
        NetLab.Veth v = lab.vethPair(ns, ns);
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

    private static void send(Port p, byte[] frame) {
        Ring t = p.txRing(0);
        int i = t.head();
        MemorySegment.copy(frame, 0, t.memory(), JAVA_BYTE, t.bufOffset(i), frame.length);
        t.setSlot(i, frame.length, 0);
        t.advanceTo(t.nextSlot(i));
        t.sync();
        assertEquals(t.numSlots() - 1, t.space(), "a TAP write completes in the sync");
    }

    /** Waits for a frame matching {@code what} on RX ring 0 and returns it; releases everything seen. */
    private static byte[] receive(Port p, Predicate<byte[]> what) {
        Ring r = p.rxRing(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            r.sync();
            for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
                byte[] f = r.packet(i).toArray(JAVA_BYTE);
                if (f.length >= 42 && what.test(f)) {
                    r.advanceTo(r.nextSlot(i));
                    return f;
                }
            }
            r.advanceTo(r.tail());
            Thread.onSpinWait();
        }
        return fail("no matching frame from the host within 5 s");
    }

    private static int type(byte[] f) {
        return ((f[12] & 0xff) << 8) | (f[13] & 0xff);
    }

    private static byte[] slice(byte[] b, int from, int len) {
        byte[] out = new byte[len];
        System.arraycopy(b, from, out, 0, len);
        return out;
    }

    private static byte[] arpRequest() {
        byte[] f = new byte[60];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) 0xff;
        }
        System.arraycopy(OUR_MAC, 0, f, 6, 6);
        f[12] = 0x08;
        f[13] = 0x06;
        f[15] = 1;          // htype Ethernet
        f[16] = 0x08;       // ptype IPv4
        f[18] = 6;
        f[19] = 4;
        f[21] = 1;          // who-has
        System.arraycopy(OUR_MAC, 0, f, 22, 6);
        System.arraycopy(OUR_IP, 0, f, 28, 4);
        System.arraycopy(HOST_IP, 0, f, 38, 4);
        return f;
    }

    private static byte[] echoRequest(byte[] hostMac, int id, int seq) {
        byte[] f = new byte[14 + 20 + 8 + 18];
        System.arraycopy(hostMac, 0, f, 0, 6);
        System.arraycopy(OUR_MAC, 0, f, 6, 6);
        f[12] = 0x08;
        int ip = 14;
        f[ip] = 0x45;
        int total = f.length - 14;
        f[ip + 2] = (byte) (total >> 8);
        f[ip + 3] = (byte) total;
        f[ip + 8] = 64;     // ttl
        f[ip + 9] = 1;      // ICMP
        System.arraycopy(OUR_IP, 0, f, ip + 12, 4);
        System.arraycopy(HOST_IP, 0, f, ip + 16, 4);
        putChecksum(f, ip, 20, ip + 10);
        int icmp = ip + 20;
        f[icmp] = 8;        // echo request
        f[icmp + 4] = (byte) (id >> 8);
        f[icmp + 5] = (byte) id;
        f[icmp + 6] = (byte) (seq >> 8);
        f[icmp + 7] = (byte) seq;
        for (int i = icmp + 8; i < f.length; i++) {
            f[i] = (byte) i;
        }
        putChecksum(f, icmp, f.length - icmp, icmp + 2);
        return f;
    }

    /** The Internet checksum of {@code len} bytes at {@code from}, stored big-endian at {@code at}. */
    private static void putChecksum(byte[] f, int from, int len, int at) {
        long sum = 0;
        for (int i = 0; i < len; i += 2) {
            int hi = f[from + i] & 0xff;
            int lo = i + 1 < len ? f[from + i + 1] & 0xff : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        int c = (int) ~sum & 0xffff;
        f[at] = (byte) (c >> 8);
        f[at + 1] = (byte) c;
    }
}
