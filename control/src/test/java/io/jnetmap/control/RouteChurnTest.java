package io.jnetmap.control;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.vale.ValeSwitch;
import io.jnetmap.vale.ValeSwitches;
import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.L3Router;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 10,000 route changes over REST while traffic flows through the L3 router: every packet for a route
 * that never changed arrives, at the right port, exactly once (sent = received, no drop of any cause).
 */
class RouteChurnTest {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    @Test
    void tenThousandRouteUpdatesWhileTrafficFlows() throws Exception {
        String name = RestApiTest.unique("valer");
        ValeSwitch sw = ValeSwitches.create(name, new L3Router());
        try (ControlServer server = ControlServer.start("127.0.0.1", 0, null, List.of(sw));
             Port a = Netmap.open(name + ":a"); Port b = Netmap.open(name + ":b"); Port c = Netmap.open(name + ":c")) {
            Http http = new Http(server.url());
            String base = "/api/v1/switches/" + name;
            assertEquals(201, http.call("POST", base + "/routes", "{\"prefix\":\"10.9.0.0/16\",\"port\":\"b\",\"mac\":\"02:00:00:00:00:0b\"}").status());
            sw.port("a").orElseThrow().setBackPressure(true); // a full ring waits instead of dropping: conservation is exact
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            AtomicLong sent = new AtomicLong();
            long[] got = new long[2];
            AtomicBoolean txDone = new AtomicBoolean(); // set once the sender counted its last packet and flushed its ring
            Thread rx = Thread.ofPlatform().start(() -> {
                try {
                    // until the sender is done and everything it counted arrived somewhere: stopping when got reached
                    // sent while the sender was between its txsync and counting that batch lost the last batch
                    long deadline = Long.MAX_VALUE;
                    while (!txDone.get() || got[0] + got[1] < sent.get()) {
                        int n = drain(b);
                        got[0] += n;
                        got[1] += drain(c);
                        if (n == 0) {
                            Thread.yield();
                        }
                        if (txDone.get() && deadline == Long.MAX_VALUE) {
                            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                        }
                        if (System.nanoTime() > deadline) {
                            break; // the assertions below say what is missing
                        }
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            });
            Thread tx = Thread.ofPlatform().start(() -> {
                try {
                    int dst = L3Router.parseIpv4("10.9.0.1");
                    while (!stop.get()) {
                        Ring t = a.txRing(0);
                        int i = t.head();
                        int n = 0;
                        while (n < 32 && t.nextSlot(i) != t.tail()) {
                            ipv4(t, i, dst);
                            i = t.nextSlot(i);
                            n++;
                        }
                        t.advanceTo(i);
                        t.sync();
                        sent.addAndGet(n);
                        if (n == 0) {
                            Thread.yield(); // two cores are shared with the HTTP side
                        }
                    }
                    Ring t = a.txRing(0);
                    for (int k = 0; k < 200; k++) { // back-pressured packets still in the ring go out as b makes room
                        t.sync();
                        Thread.sleep(1);
                    }
                } catch (Throwable e) {
                    failed.set(e);
                } finally {
                    txDone.set(true);
                }
            });
            // 10,000 changes: routes 10.100.k.0/24 added via c and removed again, and a whole-table replace every 1,000
            for (int k = 0; k < 5000; k++) {
                String p = "10.100." + (k % 200) + ".0";
                Http.Response r = http.call("POST", base + "/routes", "{\"prefix\":\"" + p + "/24\",\"port\":\"c\",\"mac\":\"02:00:00:00:00:0c\"}");
                assertEquals(201, r.status(), r.body());
                r = http.call("DELETE", base + "/routes/" + p + "/24", null);
                assertEquals(200, r.status(), r.body());
            }
            stop.set(true);
            tx.join();
            rx.join(60_000);
            assertNull(failed.get());
            var pa = sw.port("a").orElseThrow();
            assertTrue(sent.get() > 1000, "traffic flowed: " + sent.get());
            assertEquals(pa.txCounter(SwitchFileLayout.TX_PACKETS), sent.get(), "the switch took every packet sent");
            assertEquals(0, pa.drops(), "no drop of any cause");
            assertEquals(sent.get(), got[0], "every packet of the unchanged route arrived at b");
            assertEquals(0, got[1], "none went elsewhere");
            assertEquals(1, ((io.vertx.core.json.JsonObject) http.get(base + "/routes").json()).getJsonArray("routes").size());
        } finally {
            sw.close();
        }
    }

    private static int drain(Port p) {
        Ring r = p.rxRing(0);
        r.sync();
        int n = 0;
        for (int j = r.head(); j != r.tail(); j = r.nextSlot(j)) {
            n++;
        }
        r.advanceTo(r.tail());
        r.sync();
        return n;
    }

    private static void ipv4(Ring t, int slot, int dst) {
        MemorySegment m = t.memory();
        long off = t.bufOffset(slot);
        m.set(U16, off, (short) 0x0200);
        m.set(U32, off + 2, 0xfe00);
        m.set(U16, off + 6, (short) 0x0200);
        m.set(U32, off + 8, 0x0a);
        m.set(U16, off + 12, (short) 0x0800);
        long ip = off + 14;
        m.set(U16, ip, (short) 0x4500);
        m.set(U16, ip + 2, (short) 46);
        m.set(U32, ip + 4, 0x40000000);
        m.set(ValueLayout.JAVA_BYTE, ip + 8, (byte) 64);
        m.set(ValueLayout.JAVA_BYTE, ip + 9, (byte) 17);
        m.set(U16, ip + 10, (short) 0);
        m.set(U32, ip + 12, 0xc0a80001);
        m.set(U32, ip + 16, dst);
        t.setLen(slot, 60);
    }
}
