package io.jnetmap.pipe;

import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * After any sequence of sends, receives, syncs and buffer swaps on both directions of a pipe: every
 * buffer the pipe started with is in exactly one slot of the four rings or one extra-buffer list (none
 * lost, none duplicated, all valid), and every direction delivers complete packets in order, each once.
 */
class PipeProperties {
    /** One step: operation, argument, direction (0: master to slave, 1: slave to master). */
    record Op(int kind, int arg, int dir) {
        @Override
        public String toString() {
            return List.of("send", "sendFragments", "receive", "syncTx", "syncRx", "swapExtraTx", "swapExtraRx").get(kind)
                    + "(" + arg + (dir == 0 ? ", m>s" : ", s>m") + ")";
        }
    }

    @Provide
    Arbitrary<Op> ops() {
        return Combinators.combine(Arbitraries.integers().between(0, 6), Arbitraries.integers().between(0, 12),
                Arbitraries.integers().between(0, 1)).as(Op::new);
    }

    /** Per direction: next sequence number to send, next expected, fragments still open. */
    static final class Flow {
        long sent;
        long received;
    }

    @Property(tries = 150)
    void buffersAreConservedAndPacketsArriveOnceInOrder(
            @ForAll @IntRange(min = 2, max = 12) int slots,
            @ForAll @IntRange(min = 1, max = 3) int extra,
            @ForAll @Size(max = 60) List<@From("ops") Op> ops) {
        String parent = Pipes.uniqueParent();
        try (PipePort m = Pipes.open(parent + "{1@conf:pipes=1,slots=" + slots + ",extra-bufs=" + extra);
             PipePort s = Pipes.open(parent + "}1")) {
            Region region = m.region();
            List<Integer> initial = buffers(m, s);
            Flow[] flows = {new Flow(), new Flow()};
            for (Op op : ops) {
                PipePort from = op.dir == 0 ? m : s;
                PipePort to = op.dir == 0 ? s : m;
                Ring t = from.txRing(0);
                Ring r = to.rxRing(0);
                Flow f = flows[op.dir];
                switch (op.kind) {
                    case 0, 1 -> { // a packet of 1 slot, or of up to arg slots with NS_MOREFRAG on all but the last
                        int frags = op.kind == 0 ? 1 : Math.max(1, op.arg);
                        int k = Math.min(frags, t.space());
                        int h = t.head();
                        for (int i = 0; i < k; i++) {
                            region.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(h), f.sent);
                            boolean last = i == frags - 1;
                            t.setSlot(h, 60, last ? 0 : Slot.NS_MOREFRAG);
                            if (last) {
                                f.sent++;
                            }
                            h = t.nextSlot(h);
                        }
                        t.advanceTo(h);
                        t.sync();
                    }
                    case 2 -> { // receive up to arg slots, checking complete packets in order
                        r.sync();
                        int k = Math.min(op.arg, r.space());
                        for (int i = 0; i < k; i++) {
                            check(r, r.head(), region, f);
                            r.advanceTo(r.nextSlot(r.head()));
                        }
                        r.sync();
                    }
                    case 3 -> t.sync();
                    case 4 -> r.sync();
                    case 5 -> swapExtra(from.netmapIf(), t);
                    case 6 -> { // zero-copy forwarding of one received slot: its buffer leaves, an extra one takes its place
                        if (r.space() > 0) {
                            check(r, r.head(), region, f);
                            swapExtra(to.netmapIf(), r);
                            r.advanceTo(r.nextSlot(r.head()));
                            r.sync();
                        }
                    }
                    default -> throw new AssertionError(op);
                }
                if (r.space() > 0) {
                    // whatever the receiver sees is a whole packet: its last slot is not a fragment
                    assertEquals(0, r.flags(r.slotAfter(r.head(), r.space() - 1)) & Slot.NS_MOREFRAG,
                            "only complete packets are published");
                }
                assertTrue(f.received <= f.sent);
                List<Integer> now = buffers(m, s);
                assertEquals(initial, now, "after " + op + ": the pipe holds exactly the buffers it started with");
            }
            assertEquals(0, m.peerFaults() + s.peerFaults());
        }
        assertFalse(Pipes.regionExists(parent));
    }

    /**
     * The same invariants with one direction, rings of up to 300 slots and batches as large as the ring (the
     * sizes a throughput user syncs, which wrap and straddle cache lines): positive steps send that many slots
     * in one txsync (every third a fragment, so a batch may end inside a packet), negative ones receive that many.
     */
    @Property(tries = 60)
    void largeBatchesConserveBuffersAndDeliverInOrder(
            @ForAll @IntRange(min = 33, max = 300) int slots,
            @ForAll @Size(max = 20) List<@IntRange(min = -300, max = 300) Integer> steps) {
        String parent = Pipes.uniqueParent();
        try (PipePort m = Pipes.open(parent + "{1@conf:pipes=1,slots=" + slots);
             PipePort s = Pipes.open(parent + "}1")) {
            Region region = m.region();
            List<Integer> initial = buffers(m, s);
            Ring t = m.txRing(0);
            Ring r = s.rxRing(0);
            Flow f = new Flow();
            long frags = 0;
            for (int step : steps) {
                if (step >= 0) {
                    t.sync();
                    int k = Math.min(step, t.space());
                    int h = t.head();
                    for (int i = 0; i < k; i++) {
                        boolean more = frags++ % 3 == 1;
                        region.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(h), f.sent);
                        t.setSlot(h, 60, more ? Slot.NS_MOREFRAG : 0);
                        if (!more) {
                            f.sent++;
                        }
                        h = t.nextSlot(h);
                    }
                    t.advanceTo(h);
                    t.sync();
                } else {
                    r.sync();
                    int k = Math.min(-step, r.space());
                    for (int i = 0; i < k; i++) {
                        check(r, r.head(), region, f);
                        r.advanceTo(r.nextSlot(r.head()));
                    }
                    r.sync();
                }
                if (r.space() > 0) {
                    assertEquals(0, r.flags(r.slotAfter(r.head(), r.space() - 1)) & Slot.NS_MOREFRAG,
                            "only complete packets are published");
                }
                assertTrue(f.received <= f.sent);
                assertEquals(initial, buffers(m, s), "after step " + step + ": the pipe holds exactly the buffers it started with");
            }
            assertEquals(0, m.peerFaults() + s.peerFaults());
        }
        assertFalse(Pipes.regionExists(parent));
    }

    /** Checks a received slot: the last slot of a packet carries its number. */
    private static void check(Ring r, int h, Region region, Flow f) {
        if ((r.flags(h) & Slot.NS_MOREFRAG) == 0) {
            assertEquals(f.received, region.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(h)),
                    "the last fragment carries the packet's number, in order");
            f.received++;
        }
    }

    /** Swaps the buffer of the ring's first user-owned slot with an extra buffer, as zero-copy forwarding does. */
    private static void swapExtra(NetmapIf nifp, Ring ring) {
        if (ring.space() == 0) {
            return;
        }
        int slot = ring.head();
        int extra = nifp.takeExtraBuf();
        if (extra == 0) {
            return;
        }
        nifp.giveExtraBuf(ring.bufIdx(slot));
        ring.setBufIdx(slot, extra);
        ring.setFlags(slot, ring.flags(slot) | Slot.NS_BUF_CHANGED);
    }

    /** Every buffer index in the four rings and both extra lists, sorted; each must be valid. */
    private static List<Integer> buffers(PipePort m, PipePort s) {
        List<Integer> out = new ArrayList<>();
        Region region = m.region();
        for (PipePort p : new PipePort[] {m, s}) {
            for (Ring ring : new Ring[] {p.txRing(0), p.rxRing(0)}) {
                for (int i = 0; i < ring.numSlots(); i++) {
                    out.add(ring.bufIdx(i));
                }
            }
            for (int b = p.netmapIf().bufsHead(); b != 0; b = region.memory().get(JAVA_INT, region.bufOffset(b))) {
                out.add(b);
            }
        }
        for (int b : out) {
            assertTrue(region.isValidBuf(b) && region.isAllocated(b), "buffer " + b + " is a valid allocated buffer");
        }
        Collections.sort(out);
        for (int i = 1; i < out.size(); i++) {
            assertTrue(!out.get(i).equals(out.get(i - 1)), "buffer " + out.get(i) + " is held twice");
        }
        return out;
    }
}
