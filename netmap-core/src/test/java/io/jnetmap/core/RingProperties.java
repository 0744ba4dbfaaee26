package io.jnetmap.core;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * After any sequence of user operations on a port: the ring invariants hold, and every buffer index
 * of the region is owned by exactly one slot, the extra-buffer list, the application, or the free
 * pool: none lost, none duplicated.
 */
class RingProperties {
    /** One step a user might take, encoded as (operation, argument). */
    record Op(int kind, int arg) {
        @Override
        public String toString() {
            return List.of("send", "receive", "syncTx", "syncRx", "badHead", "badCur", "swapExtra", "swapInRing", "holdCur")
                    .get(kind) + "(" + arg + ")";
        }
    }

    @Provide
    Arbitrary<Op> ops() {
        return net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, 8), Arbitraries.integers().between(0, 40))
                .as(Op::new);
    }

    @Property(tries = 300)
    void invariantsAndBufferConservationHoldAfterAnySequence(
            @ForAll @IntRange(min = 2, max = 40) int slots,
            @ForAll @IntRange(min = 0, max = 6) int extra,
            @ForAll @Size(max = 60) List<@net.jqwik.api.From("ops") Op> ops) {
        try (LoopbackPort p = LoopbackPort.open("netmap:prop", slots, extra)) {
            Region region = p.region();
            Ring t = p.txRing(0);
            Ring r = p.rxRing(0);
            int[] held = new int[extra + 1]; // extra buffers the "application" holds
            int nheld = 0;
            long sent = 0;
            long received = 0;
            for (Op op : ops) {
                switch (op.kind) {
                    case 0 -> { // send up to arg packets
                        int k = Math.min(op.arg, t.space());
                        int h = t.head();
                        for (int i = 0; i < k; i++) {
                            t.setSlot(h, 60, 0);
                            region.memory().set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, t.bufOffset(h), sent++);
                            h = t.nextSlot(h);
                        }
                        t.advanceTo(h);
                        t.sync();
                    }
                    case 1 -> { // receive up to arg packets, checking order
                        r.sync();
                        int k = Math.min(op.arg, r.space());
                        int h = r.head();
                        for (int i = 0; i < k; i++) {
                            assertEquals(received++, region.memory().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, r.bufOffset(h)));
                            h = r.nextSlot(h);
                        }
                        r.advanceTo(h);
                        r.sync();
                    }
                    case 2 -> t.sync();
                    case 3 -> r.sync();
                    case 4 -> {
                        Ring ring = op.arg % 2 == 0 ? t : r;
                        int head = ring.head();
                        ring.setHead(ring.numSlots() + op.arg);
                        assertThrows(RingStateException.class, ring::sync);
                        assertEquals(head, ring.head());
                    }
                    case 5 -> {
                        Ring ring = op.arg % 2 == 0 ? t : r;
                        int cur = ring.cur();
                        ring.setCur(-1 - op.arg);
                        assertThrows(RingStateException.class, ring::sync);
                        assertEquals(ring.head(), ring.cur());
                        ring.setCur(cur == ring.head() ? cur : ring.head());
                    }
                    case 6 -> { // take an extra buffer, put it in a user-owned TX slot, hold the old one
                        if (t.space() > 0) {
                            int b = p.netmapIf().takeExtraBuf();
                            if (b != 0) {
                                int s = t.head();
                                held[nheld++] = t.bufIdx(s);
                                t.setBufIdx(s, b);
                                t.setFlags(s, Slot.NS_BUF_CHANGED);
                            }
                        } else if (nheld > 0) {
                            p.netmapIf().giveExtraBuf(held[--nheld]);
                        }
                    }
                    case 7 -> { // swap two user-owned TX slots
                        if (t.space() >= 2) {
                            Ring.swap(t, t.head(), t, t.nextSlot(t.head()));
                        }
                    }
                    case 8 -> { // hold received packets with cur, then let go
                        r.sync();
                        r.setCur(r.tail());
                        r.sync();
                        r.setCur(r.head());
                    }
                    default -> throw new AssertionError(op);
                }
                checkInvariants(t);
                checkInvariants(r);
                checkConservation(region, t, r, p.netmapIf(), held, nheld);
            }
            assertTrue(received <= sent);
        }
    }

    private static void checkInvariants(Ring ring) {
        int n = ring.numSlots();
        for (int v : new int[] {ring.head(), ring.cur(), ring.tail()}) {
            assertTrue(v >= 0 && v < n, ring + ": index in range");
        }
        assertTrue(ring.space() <= n - 1, ring + ": one slot always empty");
        if (ring.isTx()) {
            // cur within [head, tail]
            int d = ring.cur() - ring.head();
            assertTrue((d < 0 ? d + n : d) <= ring.space(), ring + ": cur in [head, tail]");
        }
    }

    private static void checkConservation(Region region, Ring t, Ring r, NetmapIf nifp, int[] held, int nheld) {
        Map<Integer, String> owner = new HashMap<>();
        for (Ring ring : new Ring[] {t, r}) {
            for (int i = 0; i < ring.numSlots(); i++) {
                claim(owner, ring.bufIdx(i), ring + " slot " + i);
            }
        }
        for (int b = nifp.bufsHead(), n = 0; b != 0; b = region.memory().get(java.lang.foreign.ValueLayout.JAVA_INT, region.bufOffset(b)), n++) {
            assertTrue(n < region.numBufs(), "extra list has no loop");
            claim(owner, b, "extra list");
        }
        for (int i = 0; i < nheld; i++) {
            claim(owner, held[i], "application");
        }
        for (int b = 0; b < region.numBufs(); b++) {
            boolean allocated = region.isAllocated(b);
            if (b < RegionLayout.RESERVED_BUFS) {
                assertTrue(allocated, "reserved");
            } else {
                assertEquals(allocated, owner.containsKey(b), "buffer " + b + " owned iff allocated (owner " + owner.get(b) + ")");
            }
        }
        assertEquals(region.numBufs() - RegionLayout.RESERVED_BUFS - owner.size(), region.freeBufs());
    }

    private static void claim(Map<Integer, String> owner, int b, String who) {
        String prev = owner.put(b, who);
        assertEquals(null, prev, "buffer " + b + " owned by both " + prev + " and " + who);
    }
}
