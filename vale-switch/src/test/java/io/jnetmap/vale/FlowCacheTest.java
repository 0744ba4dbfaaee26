package io.jnetmap.vale;

import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.lookup.FlowCache;
import io.jnetmap.vale.lookup.L3Router;
import io.jnetmap.vale.lookup.LearningBridge;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The flow cache answers what its module would, asks the module only on a miss, and is invalidated by its version. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FlowCacheTest {

    /** A module whose decision is a function of the frame's destination MAC, counting its calls. */
    static final class Counting implements LookupModule {
        final AtomicLong calls = new AtomicLong();
        final AtomicLong version = new AtomicLong();

        @Override
        public int lookup(Packet p) {
            calls.incrementAndGet();
            p.setCookie((int) (p.dstMac() * 31 + version.get()));
            return (int) (p.dstMac() % 7);
        }

        @Override
        public long version() {
            return version.get();
        }
    }

    private static Packet frame(MemorySegment m, long dst, long src, int srcPort) {
        Frames.ethernet(m, 0, dst, src, 0x88b5);
        Packet p = new Packet();
        p.mem = m;
        p.offset = 0;
        p.len = 60;
        p.srcPort = srcPort;
        return p;
    }

    @Test
    void hitsSkipTheModuleAndMissesAskIt() {
        Counting inner = new Counting();
        FlowCache fc = new FlowCache(inner, 64);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(64);
            for (int round = 0; round < 3; round++) {
                for (int f = 0; f < 8; f++) {
                    Packet p = frame(m, mac(f), mac(100), 1);
                    assertEquals((int) (mac(f) % 7), fc.lookup(p));
                    assertEquals((int) (mac(f) * 31), p.cookie(), "the cookie comes with the cached decision");
                }
            }
            assertEquals(8, inner.calls.get(), "one module call per flow");
            frame(m, mac(1), mac(100), 2);
            fc.lookup(frame(m, mac(1), mac(100), 2));
            assertEquals(9, inner.calls.get(), "another source port is another flow");
            inner.version.incrementAndGet();
            Packet p = frame(m, mac(1), mac(100), 1);
            fc.lookup(p);
            assertEquals(10, inner.calls.get(), "a new module version invalidates");
            assertEquals((int) (mac(1) * 31 + 1), p.cookie());
        }
    }

    @Test
    void concurrentReadersAndWritersNeverSeeAHalfWrittenEntry() throws Exception {
        Counting inner = new Counting();
        FlowCache fc = new FlowCache(inner, 16); // tiny: flows collide and overwrite each other constantly
        AtomicReference<String> error = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment m = arena.allocate(64);
                    java.util.Random rnd = new java.util.Random(seed);
                    for (int i = 0; i < 300_000 && error.get() == null; i++) {
                        long dst = mac(rnd.nextInt(200));
                        Packet p = frame(m, dst, mac(100), 3);
                        int d = fc.lookup(p);
                        if (d != dst % 7 || p.cookie() != (int) (dst * 31)) {
                            error.set("flow " + dst + " got " + d + "/" + p.cookie());
                        }
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertNull(error.get());
        assertTrue(fc.misses() < 4 * 300_000, "some lookups hit");
    }

    @Test
    void inFrontOfTheLearningBridgeItFollowsLearningAndMoves() {
        String sw = Names.unique("valefc");
        FlowCache fc = new FlowCache(new LearningBridge());
        try (ValeSwitch s = ValeSwitches.create(sw, fc); Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b");
             Port c = Netmap.open(sw + ":c")) {
            Frames.send(b, mac(1), mac(2), 2);
            assertEquals(2, Frames.receive(a).size(), "unknown: flooded to a");
            assertEquals(2, Frames.receive(c).size(), "and to c");
            Frames.send(a, Frames.BROADCAST, mac(1), 1); // mac(1) learned on a
            Frames.receive(b);
            Frames.receive(c);
            Frames.send(b, mac(1), mac(2), 3);
            assertEquals(3, Frames.receive(a).size());
            assertEquals(0, Frames.receive(c).size(), "the flooding decision was not reused after learning");
            Frames.send(c, Frames.BROADCAST, mac(1), 1); // mac(1) moves to c
            Frames.receive(a);
            Frames.receive(b);
            Frames.send(b, mac(1), mac(2), 2);
            assertEquals(2, Frames.receive(c).size());
            assertEquals(0, Frames.receive(a).size());
        }
    }

    @Test
    void inFrontOfTheRouterRouteChangesAndTtlAreHonoured() {
        String sw = Names.unique("valefc");
        L3Router router = new L3Router();
        FlowCache fc = new FlowCache(router);
        try (ValeSwitch s = ValeSwitches.create(sw, fc); Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b");
             Port c = Netmap.open(sw + ":c")) {
            int gwB = router.nextHop("b", mac(0xb));
            int gwC = router.nextHop("c", mac(0xc));
            router.addRoute("10.0.0.0/8", gwB);
            int dst = L3Router.parseIpv4("10.2.3.4");
            send(a, dst, 64, 5);
            assertEquals(5, Frames.receive(b).size());
            long missesBefore = fc.misses();
            send(a, dst, 64, 5);
            assertEquals(5, Frames.receive(b).size());
            assertEquals(missesBefore, fc.misses(), "the same flow hits");
            router.addRoute("10.2.0.0/16", gwC);
            send(a, dst, 64, 5);
            assertEquals(5, Frames.receive(c).size(), "a new route is used at once");
            send(a, dst, 1, 2);
            assertEquals(0, Frames.receive(c).size());
            assertEquals(2, s.port("a").orElseThrow().txCounter(SwitchFileLayout.DROP_TTL), "TTL 1 is its own flow");
        }
    }

    private static void send(Port a, int dst, int ttl, int n) {
        Ring t = a.txRing(0);
        int i = t.head();
        for (int k = 0; k < n; k++) {
            Frames.ipv4(t, i, mac(0xee), mac(0xa), L3Router.parseIpv4("192.168.0.1"), dst, ttl, k, 100);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
    }
}
