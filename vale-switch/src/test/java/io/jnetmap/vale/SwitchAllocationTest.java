package io.jnetmap.vale;

import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Forwarding allocates nothing per packet: the bytes this thread allocates while a million packets go
 * through the switch (learning bridge, then the router behind a flow cache) stay below what one small
 * object per packet would cost. Measured with the JVM's per-thread allocation counter, not a timer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SwitchAllocationTest {
    private static long cycle(Port a, Port b, int packets) {
        Ring t = a.txRing(0);
        Ring r = b.rxRing(0);
        long got = 0;
        while (got < packets) {
            int i = t.head();
            for (int k = 0; k < 256; k++) {
                t.setSlot(i, 60, 0);
                i = t.nextSlot(i);
            }
            t.advanceTo(i);
            t.sync();
            r.sync();
            got += r.space();
            r.advanceTo(r.tail());
            r.sync();
        }
        return got;
    }

    private static void prefill(Port a, boolean ip) {
        Ring t = a.txRing(0);
        for (int i = 0; i < t.numSlots(); i++) {
            if (ip) {
                Frames.ipv4(t, i, mac(0xee), mac(1), L3Router.parseIpv4("192.168.0.1"), L3Router.parseIpv4("10.0.0.0") + i, 64, i, 60);
            } else {
                Frames.write(t, i, mac(2), mac(1), 0, i, 60);
            }
        }
    }

    private static void assertNoAllocation(Port a, Port b, boolean ip) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        prefill(a, ip);
        cycle(a, b, 300_000); // warm up: compile the loops
        long tid = Thread.currentThread().threadId();
        long before = mx.getThreadAllocatedBytes(tid);
        long packets = cycle(a, b, 1_000_000);
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        assertTrue(packets >= 1_000_000);
        assertTrue(allocated < 16 * 1024, allocated + " bytes allocated for " + packets + " packets");
    }

    @Test
    void theBridgeForwardsWithoutAllocating() {
        String sw = Names.unique("valeal");
        try (Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b")) {
            Frames.send(b, Frames.BROADCAST, mac(2), 1);
            Frames.receive(a);
            assertNoAllocation(a, b, false);
            assertEquals(0, ValeSwitches.get(sw).orElseThrow().port("a").orElseThrow().drops());
        }
    }

    @Test
    void theCachedRouterForwardsWithoutAllocating() {
        String sw = Names.unique("valeal");
        L3Router router = new L3Router();
        try (ValeSwitch s = ValeSwitches.create(sw, new FlowCache(router)); Port a = Netmap.open(sw + ":a");
             Port b = Netmap.open(sw + ":b")) {
            router.addRoute("10.0.0.0/8", router.nextHop("b", mac(2)));
            assertNoAllocation(a, b, true);
            assertEquals(0, s.port("a").orElseThrow().drops());
        }
    }
}
