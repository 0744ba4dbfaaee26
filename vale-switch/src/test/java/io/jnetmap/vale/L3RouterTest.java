package io.jnetmap.vale;

import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.jnetmap.vale.Frames.U16;
import static io.jnetmap.vale.Frames.U32;
import static io.jnetmap.vale.Frames.U64;
import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The static router on a switch: next-hop rewrite, TTL and checksum, drops by cause, routes changing under traffic. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class L3RouterTest {
    private static final long MAC_B = mac(0xb);
    private static final long MAC_C = mac(0xc);
    private static final int SRC = L3Router.parseIpv4("192.168.0.1");

    private final String name = Names.unique("valer");
    private L3Router router;
    private ValeSwitch sw;
    private Port a;
    private Port b;
    private Port c;
    private int gwB;
    private int gwC;

    @BeforeEach
    void setUp() {
        router = new L3Router();
        sw = ValeSwitches.create(name, router);
        a = Netmap.open(name + ":a");
        b = Netmap.open(name + ":b");
        c = Netmap.open(name + ":c");
        gwB = router.nextHop("b", MAC_B);
        gwC = router.nextHop("c", MAC_C);
        router.update(r -> {
            r.add(L3Router.parseIpv4("10.1.0.0"), 16, gwB);
            r.add(L3Router.parseIpv4("10.1.2.0"), 24, gwC);
        });
    }

    @AfterEach
    void tearDown() {
        a.close();
        b.close();
        c.close();
        sw.close();
        assertTrue(ValeSwitches.get(name).isEmpty());
    }

    private void send(int dst, int ttl, long seq) {
        Ring t = a.txRing(0);
        int i = t.head();
        Frames.ipv4(t, i, mac(0xee), mac(0xa), SRC, dst, ttl, seq, 128);
        t.advanceTo(t.nextSlot(i));
        t.sync();
    }

    /** Checks the one packet waiting on {@code p}: rewritten for {@code nextHopMac}, TTL 63, checksum valid, payload intact. */
    private void expectRouted(Port p, long nextHopMac, int dst, long seq) {
        Ring r = p.rxRing(0);
        r.sync();
        assertEquals(1, r.space(), "one packet on " + p.name());
        int j = r.head();
        MemorySegment m = r.memory();
        long off = r.bufOffset(j);
        assertEquals(nextHopMac, Packet.readMac(m, off), "destination MAC = next hop's");
        int port = sw.port(p.name().substring(p.name().indexOf(':') + 1)).orElseThrow().index();
        assertEquals(L3Router.defaultPortMac(port), Packet.readMac(m, off + 6), "source MAC = router's port");
        assertEquals(63, m.get(ValueLayout.JAVA_BYTE, off + 22));
        assertEquals(0, Frames.checksum(m, off + 14, 20), "header checksum still valid");
        assertEquals(dst, m.get(U32, off + 30));
        assertEquals(seq, m.get(U64, off + 34));
        for (int k = 42; k < 128; k++) {
            assertEquals((byte) (seq * 7 + k), m.get(ValueLayout.JAVA_BYTE, off + k));
        }
        r.advanceTo(r.tail());
        r.sync();
    }

    @Test
    void longestPrefixPicksTheNextHopAndTheCopyIsRewritten() {
        int d1 = L3Router.parseIpv4("10.1.5.5");
        int d2 = L3Router.parseIpv4("10.1.2.9");
        send(d1, 64, 1);
        expectRouted(b, MAC_B, d1, 1);
        send(d2, 64, 2);
        expectRouted(c, MAC_C, d2, 2);
        Ring t = a.txRing(0);
        int sent = t.slotAfter(t.head(), t.numSlots() - 1);
        assertEquals(64, t.memory().get(ValueLayout.JAVA_BYTE, t.bufOffset(sent) + 22), "the sender's buffer is untouched");
        assertEquals(0, Frames.receive(a).size());
    }

    @Test
    void expiredTtlNoRouteAndNonIpAreDroppedByCause() {
        send(L3Router.parseIpv4("10.1.5.5"), 1, 1);
        send(L3Router.parseIpv4("10.1.5.5"), 0, 2);
        send(L3Router.parseIpv4("172.16.0.1"), 64, 3);
        Frames.send(a, MAC_B, mac(0xa), 4); // EtherType 0x88b5
        Ring t = a.txRing(0);
        int i = t.head();
        Frames.ipv4(t, i, MAC_B, mac(0xa), SRC, L3Router.parseIpv4("10.1.5.5"), 64, 5, 128);
        t.memory().set(ValueLayout.JAVA_BYTE, t.bufOffset(i) + 14, (byte) 0x65); // IPv6 version nibble
        t.advanceTo(t.nextSlot(i));
        t.sync();
        assertEquals(0, Frames.receive(b).size() + Frames.receive(c).size());
        SwitchPort sa = sw.port("a").orElseThrow();
        assertEquals(2, sa.txCounter(SwitchFileLayout.DROP_TTL));
        assertEquals(1, sa.txCounter(SwitchFileLayout.DROP_NO_ROUTE));
        assertEquals(5, sa.txCounter(SwitchFileLayout.DROP_NOT_IP));
    }

    @Test
    void aNextHopOnAPortThatLeftIsALookupDrop() {
        int gwX = router.nextHop("x", mac(0x99));
        router.addRoute("10.7.0.0/16", gwX);
        send(L3Router.parseIpv4("10.7.0.1"), 64, 1);
        assertEquals(1, sw.port("a").orElseThrow().txCounter(SwitchFileLayout.DROP_LOOKUP));
        try (Port x = Netmap.open(name + ":x")) {
            send(L3Router.parseIpv4("10.7.0.1"), 64, 2);
            expectRouted(x, mac(0x99), L3Router.parseIpv4("10.7.0.1"), 2);
        }
    }

    @Test
    void routesChangeWhileTrafficFlows() throws Exception {
        int dst = L3Router.parseIpv4("10.9.0.1");
        router.addRoute("10.9.0.0/16", gwB);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        long[] got = new long[2];
        Thread rx = Thread.ofPlatform().start(() -> {
            try {
                while (!stop.get()) {
                    got[0] += count(b, MAC_B);
                    got[1] += count(c, MAC_C);
                }
                got[0] += count(b, MAC_B);
                got[1] += count(c, MAC_C);
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        long sent = 0;
        for (int flip = 0; flip < 400; flip++) {
            router.addRoute("10.9.0.0/16", flip % 2 == 0 ? gwC : gwB);
            Ring t = a.txRing(0);
            int i = t.head();
            for (int k = 0; k < 16; k++) {
                Frames.ipv4(t, i, mac(0xee), mac(0xa), SRC, dst, 64, sent++, 128);
                i = t.nextSlot(i);
            }
            t.advanceTo(i);
            t.sync();
        }
        stop.set(true);
        rx.join();
        assertNull(failed.get());
        SwitchPort sa = sw.port("a").orElseThrow();
        assertEquals(sent, got[0] + got[1] + sa.txCounter(SwitchFileLayout.DROP_FULL), "every packet went to b or c or was counted");
        assertEquals(0, sa.txCounter(SwitchFileLayout.DROP_NO_ROUTE), "a route existed at every moment");
        assertTrue(got[0] > 0 && got[1] > 0, "both next hops were used: " + got[0] + ", " + got[1]);
    }

    /** Receives and checks what waits on {@code p}; every packet must be correctly rewritten for {@code mac}. */
    private static int count(Port p, long mac) {
        Ring r = p.rxRing(0);
        r.sync();
        int n = 0;
        for (int j = r.head(); j != r.tail(); j = r.nextSlot(j)) {
            long off = r.bufOffset(j);
            if (Packet.readMac(r.memory(), off) != mac || r.memory().get(ValueLayout.JAVA_BYTE, off + 22) != 63
                    || Frames.checksum(r.memory(), off + 14, 20) != 0) {
                throw new AssertionError("bad packet on " + p.name());
            }
            n++;
        }
        r.advanceTo(r.tail());
        r.sync();
        return n;
    }
}
