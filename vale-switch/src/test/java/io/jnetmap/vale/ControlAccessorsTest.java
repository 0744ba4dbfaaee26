package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.lookup.LearningBridge;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the control plane reads from a switch without touching its data path: ring occupancy, the flow
 * cache's hits, the router's routes.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlAccessorsTest {

    @Test
    void ringOccupancyOfAVirtualPort() {
        String sw = Names.unique("valeoc");
        try (ValeSwitch s = ValeSwitches.create(sw, new LearningBridge()); Port a = Netmap.open(sw + ":a");
             Port b = Netmap.open(sw + ":b")) {
            SwitchPort pb = s.port("b").orElseThrow();
            assertEquals(b.rxRing(0).numSlots() - 1, pb.ringCapacity());
            assertEquals(0, pb.ringOccupancy());
            Frames.send(a, Frames.BROADCAST, mac(1), 5);
            assertEquals(5, pb.ringOccupancy(), "delivered, not taken");
            Ring r = b.rxRing(0);
            r.sync();
            assertEquals(5, pb.ringOccupancy(), "seen by the user, not released");
            r.advanceTo(r.slotAfter(r.head(), 2));
            assertEquals(3, pb.ringOccupancy(), "two released (the head the user wrote)");
            r.sync();
            Frames.send(a, Frames.BROADCAST, mac(1), 4);
            assertEquals(7, pb.ringOccupancy());
            Frames.receive(b);
            assertEquals(0, pb.ringOccupancy());
            assertEquals(0, s.port("a").orElseThrow().ringOccupancy(), "nothing for a");
        }
    }

    @Test
    void ringOccupancyOfAnAttachedPort() throws Exception {
        String sw = Names.unique("valeoc");
        PairPort[] pair = PairPort.open("wire" + sw, 64);
        try (ValeSwitch s = ValeSwitches.create(sw, new LearningBridge()); Port a = Netmap.open(sw + ":a")) {
            AttachedPort ap = s.attach(pair[0], AttachOptions.defaults().withName("eth9").withSpin(0));
            assertEquals(63, ap.ringCapacity());
            Frames.send(a, Frames.BROADCAST, mac(1), 6);
            assertEquals(6, ap.ringOccupancy(), "delivered into the port's TX ring; its peer released nothing");
            assertEquals(6, Frames.receive(pair[1]).size());
            Frames.send(a, Frames.BROADCAST, mac(1), 1); // the next sync reclaims what the peer released
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (ap.ringOccupancy() != 1 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, ap.ringOccupancy(), "only the frame the peer has not released");
            s.detach("eth9");
            assertEquals(0, ap.ringOccupancy(), "a port that left holds nothing");
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }

    @Test
    void flowCacheHitsAreLookupsMinusMisses() {
        String sw = Names.unique("valeoc");
        FlowCache fc = new FlowCache(new LearningBridge());
        try (ValeSwitch s = ValeSwitches.create(sw, fc); Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b")) {
            assertEquals(0, fc.hits());
            Frames.send(b, Frames.BROADCAST, mac(2), 1);
            Frames.send(a, mac(2), mac(1), 10);
            Frames.send(a, mac(2), mac(1), 10);
            Frames.send(b, mac(1), mac(2), 10);
            long lookups = s.port("a").orElseThrow().txCounter(SwitchFileLayout.TX_PACKETS)
                    + s.port("b").orElseThrow().txCounter(SwitchFileLayout.TX_PACKETS);
            assertEquals(31, lookups);
            assertEquals(lookups, fc.hits() + fc.misses(), "every lookup the switch made is a hit or a miss");
            assertTrue(fc.hits() >= 20, "hits=" + fc.hits() + " misses=" + fc.misses());
            long h = fc.hits();
            long m = fc.misses();
            Frames.send(a, mac(2), mac(1), 7);
            assertEquals(h + 7, fc.hits(), "the same flow again: hits only");
            assertEquals(m, fc.misses());
        }
    }

    @Test
    void routeListShowsEveryRouteWithItsNextHop() {
        L3Router r = new L3Router();
        int b = r.nextHop("b", mac(0xb));
        int c = r.nextHop("c", mac(0xc));
        r.addRoute("10.2.0.0/16", c);
        r.addRoute("10.1.0.0/16", b);
        r.addRoute("10.1.0.0/24", c);
        r.addRoute("192.168.1.7/32", b);
        r.addRoute("0.0.0.0/0", c);
        List<L3Router.Route> list = r.routeList();
        assertEquals(5, r.routes());
        assertEquals(List.of(new L3Router.Route(0, 0, c, "c", mac(0xc)),
                new L3Router.Route(L3Router.parseIpv4("10.1.0.0"), 16, b, "b", mac(0xb)),
                new L3Router.Route(L3Router.parseIpv4("10.1.0.0"), 24, c, "c", mac(0xc)),
                new L3Router.Route(L3Router.parseIpv4("10.2.0.0"), 16, c, "c", mac(0xc)),
                new L3Router.Route(L3Router.parseIpv4("192.168.1.7"), 32, b, "b", mac(0xb))), list,
                "ordered by prefix (unsigned) then length");
        assertTrue(r.removeRoute(L3Router.parseIpv4("10.1.0.0"), 24));
        assertFalse(r.routeList().stream().anyMatch(x -> x.len() == 24));
        assertEquals(4, r.routes());
        r.addRoute("10.2.0.0/16", b); // replaced
        assertEquals(b, r.routeList().stream().filter(x -> x.prefix() == L3Router.parseIpv4("10.2.0.0")).findFirst().orElseThrow().hop());
        assertEquals(4, r.routeList().size());
    }
}
