package io.jnetmap.vale;

import io.jnetmap.vale.ctl.SwitchFileLayout;
import io.jnetmap.vale.ctl.ValeCtl;
import io.jnetmap.vale.lookup.LearningBridge;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.vale.Frames.Frame;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The switch's forwarding semantics: learning, flooding, aging, hairpin, drops and their counters, multi-slot packets. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SwitchBehaviourTest {
    private final List<Port> opened = new ArrayList<>();
    private final String sw = Names.unique("valeb");

    @AfterEach
    void closeAll() {
        for (Port p : opened) {
            p.close();
        }
        assertTrue(ValeSwitches.get(sw).isEmpty(), "the switch went away with its last port");
    }

    private Port open(String port) {
        Port p = Netmap.open(sw + ":" + port);
        opened.add(p);
        return p;
    }

    /** {@code p} sends one broadcast from {@code mac} (the switch learns where it is); the others drop it. */
    private void announce(Port p, long mac) {
        Frames.send(p, Frames.BROADCAST, mac, 1);
        for (Port o : opened) {
            if (o != p) {
                Frames.receive(o);
            }
        }
    }

    private SwitchPort port(String name) {
        return ValeSwitches.get(sw).orElseThrow().port(name).orElseThrow();
    }

    @Test
    void unknownUnicastFloodsThenLearnedAddressesGoToOnePort() {
        Port a = open("a");
        Port b = open("b");
        Port c = open("c");
        assertEquals(1, Frames.send(a, mac(2), mac(1), 1));
        assertEquals(1, Frames.receive(b).size(), "unknown destination: flooded to b");
        assertEquals(1, Frames.receive(c).size(), "and to c");
        assertEquals(0, Frames.receive(a).size(), "never back to the source");

        Frames.send(b, mac(1), mac(2), 1); // mac(1) was learned on a
        assertEquals(1, Frames.receive(a).size());
        assertEquals(0, Frames.receive(c).size(), "a learned address goes to its port only");

        Frames.send(a, mac(2), mac(1), 3); // mac(2) learned on b by now
        assertEquals(3, Frames.receive(b).size());
        assertEquals(0, Frames.receive(c).size());
        assertEquals(5, port("a").txCounter(SwitchFileLayout.TX_PACKETS) + port("b").txCounter(SwitchFileLayout.TX_PACKETS));
    }

    @Test
    void broadcastAndMulticastFloodToEveryOtherPort() {
        Port a = open("a");
        Port b = open("b");
        Port c = open("c");
        Frames.send(b, mac(1), mac(1), 1); // make mac(1) known on b: group addresses must flood regardless
        Frames.receive(a);
        Frames.receive(c);
        Frames.send(a, Frames.BROADCAST, mac(1), 2);
        Frames.send(a, 0x01005e000001L, mac(1), 3);
        assertEquals(5, Frames.receive(b).size());
        assertEquals(5, Frames.receive(c).size());
        assertEquals(0, Frames.receive(a).size());
        assertEquals(10, port("a").txCounter(SwitchFileLayout.TX_DELIVERED));
    }

    @Test
    void packetsForTheSourcePortAreDroppedAndCounted() {
        Port a = open("a");
        Port b = open("b");
        announce(a, mac(1));
        Frames.send(a, mac(1), mac(7), 4); // mac(1) lives on a itself
        assertEquals(0, Frames.receive(a).size());
        assertEquals(0, Frames.receive(b).size());
        assertEquals(4, port("a").txCounter(SwitchFileLayout.DROP_HAIRPIN));
    }

    @Test
    void noLearnSlotsAreNotLearned() {
        Port a = open("a");
        Port b = open("b");
        Port c = open("c");
        Frames.send(a, Frames.BROADCAST, mac(1), 0, 0, 1, 60, Slot.NS_NO_LEARN);
        Frames.receive(b);
        Frames.receive(c);
        Frames.send(b, mac(1), mac(2), 1);
        assertEquals(1, Frames.receive(c).size(), "mac(1) unknown: flooded, c gets it too");
        assertEquals(1, Frames.receive(a).size());
    }

    @Test
    void entriesAgeOut() {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        Port a = open("a");
        Port b = open("b");
        Port c = open("c");
        ValeSwitch s = ValeSwitches.get(sw).orElseThrow();
        s.setClock(now::get);
        s.setLookup(new LearningBridge(64, java.time.Duration.ofSeconds(10)));
        announce(a, mac(1));
        now.addAndGet(9_000_000_000L);
        Frames.send(b, mac(1), mac(2), 1);
        assertEquals(1, Frames.receive(a).size());
        assertEquals(0, Frames.receive(c).size(), "9 s later mac(1) is still known");
        now.addAndGet(2_000_000_000L);
        Frames.send(b, mac(1), mac(2), 1);
        assertEquals(1, Frames.receive(a).size());
        assertEquals(1, Frames.receive(c).size(), "11 s after it was last seen mac(1) is forgotten: flood");
    }

    @Test
    void anAddressMovesWithItsHost() {
        Port a = open("a");
        Port b = open("b");
        Port c = open("c");
        announce(a, mac(1));
        Frames.send(b, mac(1), mac(2), 1);
        assertEquals(1, Frames.receive(a).size(), "b's sends to mac(1) go to a ...");
        announce(c, mac(1)); // mac(1) now on c
        Frames.send(b, mac(1), mac(2), 2);
        assertEquals(2, Frames.receive(c).size(), "... and follow it to c at once");
        assertEquals(0, Frames.receive(a).size());
    }

    /**
     * The common batch (every packet one slot, all to one port) is filled in stretches that end where
     * either ring wraps: with rings of 13 and 29 (or 11) slots and batches of 1 to 10 frames, a stretch breaks at
     * every position. Every frame arrives whole and in order, short ones (copied as one 64-byte line)
     * and long ones alike, and the receiver's byte counter is the sum of their lengths.
     */
    @Test
    void theCommonBatchArrivesWholeAcrossTheRingsWrapPointsInCopyMode() {
        commonBatchesAcrossWrapPoints(open("a@conf:tx-slots=13,rx-slots=13"), open("b@conf:tx-slots=29,rx-slots=29"));
    }

    /** The same with the buffers swapped (the receiver shares the sender's region). */
    @Test
    void theCommonBatchArrivesWholeAcrossTheRingsWrapPointsInSwapMode() {
        commonBatchesAcrossWrapPoints(open("a@conf:tx-slots=13,rx-slots=13"), open("b@conf:tx-slots=11,rx-slots=11@share=" + sw + ":a"));
    }

    private void commonBatchesAcrossWrapPoints(Port a, Port b) {
        announce(b, mac(2));
        long seq = 0;
        long bytes = 0;
        for (int round = 0; round < 300; round++) {
            int count = 1 + round % 10;
            int len = round % 3 == 0 ? 26 + round % 39 : 26 + (round * 37) % 1489;
            assertEquals(count, Frames.send(a, mac(2), mac(1), 7, seq, count, len, 0));
            Ring r = b.rxRing(0);
            r.sync();
            int j = r.head();
            int got = 0;
            while (j != r.tail()) {
                assertEquals(len, r.len(j), "round " + round);
                assertEquals(seq + got, r.memory().get(Frames.U64, r.bufOffset(j) + 18), "round " + round + ": in order");
                assertTrue(Frames.payloadIntact(r, j), "round " + round + ": the frame arrived whole");
                got++;
                j = r.nextSlot(j);
            }
            r.advanceTo(j);
            r.sync();
            assertEquals(count, got, "round " + round + ": every frame of the batch");
            seq += count;
            bytes += (long) count * len;
        }
        assertEquals(seq, port("b").rxCounter(SwitchFileLayout.RX_PACKETS));
        assertEquals(bytes, port("b").rxCounter(SwitchFileLayout.RX_BYTES));
        assertEquals(0, port("b").rxCounter(SwitchFileLayout.RX_DROP_FULL));
    }

    @Test
    void aFullDestinationDropsAndCountsByCause() {
        Port a = open("a");
        Port b = open("b@conf:slots=8");
        announce(b, mac(2));
        assertEquals(20, Frames.send(a, mac(2), mac(1), 20));
        assertEquals(a.txRing(0).numSlots() - 1, a.txRing(0).space(), "VALE TX is synchronous: all slots back");
        List<Frame> got = Frames.receive(b);
        assertEquals(7, got.size(), "an 8-slot ring holds 7");
        for (int i = 0; i < got.size(); i++) {
            assertEquals(i, got.get(i).seq(), "the first ones, in order");
        }
        assertEquals(20, port("a").txCounter(SwitchFileLayout.TX_PACKETS));
        assertEquals(13, port("a").txCounter(SwitchFileLayout.DROP_FULL));
        assertEquals(13, port("b").rxCounter(SwitchFileLayout.RX_DROP_FULL));
        assertEquals(7, port("b").rxCounter(SwitchFileLayout.RX_PACKETS));
        assertEquals(7 * 60, port("b").rxCounter(SwitchFileLayout.RX_BYTES));
    }

    @Test
    void backPressureHoldsPacketsInTheSendersRingUntilThereIsRoom() {
        Port a = open("a@backpressure=on");
        Port b = open("b@conf:slots=8");
        announce(b, mac(2));
        Ring t = a.txRing(0);
        int n = Frames.send(a, mac(2), mac(1), 0, 0, 20, 60, 0);
        assertEquals(20, n);
        assertEquals(t.numSlots() - 1 - 13, t.space(), "13 packets wait in a's ring: tail stops before them");
        long expect = 0;
        for (int round = 0; expect < 20 && round < 100; round++) {
            for (Frame f : Frames.receive(b)) {
                assertEquals(expect++, f.seq(), "nothing lost, nothing reordered");
            }
            t.sync(); // retry what waits
        }
        assertEquals(20, expect);
        assertEquals(t.numSlots() - 1, t.space());
        assertEquals(0, port("a").drops());
        assertTrue(port("a").txCounter(SwitchFileLayout.BP_STALLS) > 0);
        assertEquals(20, port("a").txCounter(SwitchFileLayout.TX_PACKETS));
    }

    @Test
    void backPressureWithBroadcastWaitsForEveryDestination() {
        Port a = open("a@backpressure=on");
        Port b = open("b@conf:slots=4");
        Port c = open("c@conf:slots=16");
        Frames.send(a, Frames.BROADCAST, mac(1), 0, 0, 10, 60, 0);
        assertEquals(3, Frames.receive(c).size(), "c has room for 15, but a broadcast goes to all or waits");
        long[] next = new long[2];
        for (int round = 0; round < 50 && (next[0] < 10 || next[1] < 10); round++) {
            for (int k = 0; k < 2; k++) {
                for (Frame f : Frames.receive(k == 0 ? b : c)) {
                    assertEquals(k == 1 && next[1] == 0 ? 3 : next[k], f.seq(), "in order");
                    next[k] = f.seq() + 1;
                }
            }
        }
        assertEquals(10, next[0]);
        assertEquals(10, next[1]);
        assertEquals(0, port("a").drops());
    }

    @Test
    void heldPacketsGoOutWhenTheReceiverMakesRoomWithoutAnotherSyncBySender() {
        Port a = open("a@backpressure=on");
        Port b = open("b@conf:slots=8");
        announce(b, mac(2));
        assertEquals(20, Frames.send(a, mac(2), mac(1), 0, 0, 20, 60, 0));
        long expect = 0;
        for (int round = 0; round < 10 && expect < 20; round++) {
            for (Frame f : Frames.receive(b)) { // b's rxsync makes room and forwards what a holds
                assertEquals(expect++, f.seq());
            }
        }
        assertEquals(20, expect, "a's held packets left as b made room (a never synced again)");
        a.txSync();
        assertEquals(a.txRing(0).numSlots() - 1, a.txRing(0).space(), "and a sees its ring free at its next sync");
    }

    @Test
    void multiSlotPacketsTravelWholeAndIncompleteOnesWait() {
        Port a = open("a");
        Port b = open("b");
        announce(b, mac(2));
        Ring t = a.txRing(0);
        int i = t.head();
        Frames.write(t, i, mac(2), mac(1), 7, 100, 1000);
        t.setFlags(i, Slot.NS_MOREFRAG);
        Frames.write(t, t.nextSlot(i), mac(2), mac(1), 7, 101, 700);
        t.setFlags(t.nextSlot(i), Slot.NS_MOREFRAG);
        t.advanceTo(t.slotAfter(i, 2));
        t.sync();
        assertEquals(0, Frames.receive(b).size(), "the last slot says more follow: nothing goes yet");
        assertEquals(t.numSlots() - 1 - 2, t.space(), "the two slots wait in the ring");
        int k = t.slotAfter(i, 2);
        Frames.write(t, k, mac(2), mac(1), 7, 102, 300);
        t.setFlags(k, 0);
        t.advanceTo(t.nextSlot(k));
        t.sync();
        Ring r = b.rxRing(0);
        r.sync();
        assertEquals(3, r.space(), "three slots, one packet");
        int j = r.head();
        int[] lens = {1000, 700, 300};
        for (int f = 0; f < 3; f++) {
            assertEquals(lens[f], r.len(j));
            assertEquals(f < 2 ? Slot.NS_MOREFRAG : 0, r.flags(j) & Slot.NS_MOREFRAG);
            assertTrue(Frames.payloadIntact(r, j));
            j = r.nextSlot(j);
        }
        r.advanceTo(j);
        assertEquals(1, port("a").txCounter(SwitchFileLayout.TX_PACKETS));
        assertEquals(2000, port("b").rxCounter(SwitchFileLayout.RX_BYTES));
    }

    @Test
    void aMultiSlotPacketThatDoesNotFitIsDroppedWhole() {
        Port a = open("a");
        Port b = open("b@conf:slots=4");
        announce(b, mac(2));
        Frames.send(a, mac(2), mac(1), 1); // b has 3 slots: one taken
        Ring t = a.txRing(0);
        int i = t.head();
        for (int f = 0; f < 3; f++) {
            Frames.write(t, t.slotAfter(i, f), mac(2), mac(1), 1, f, 100);
            t.setFlags(t.slotAfter(i, f), f < 2 ? Slot.NS_MOREFRAG : 0);
        }
        t.advanceTo(t.slotAfter(i, 3));
        t.sync();
        List<Frame> got = Frames.receive(b);
        assertEquals(1, got.size(), "only the first packet; the three-slot one did not fit in two slots");
        assertEquals(1, port("a").txCounter(SwitchFileLayout.DROP_FULL));
        assertEquals(1, port("b").rxCounter(SwitchFileLayout.RX_PACKETS));
        Frames.send(a, mac(2), mac(1), 0, 9, 3, 60, 0);
        assertEquals(3, Frames.receive(b).size(), "the slots leased for the dropped packet were given back");
    }

    @Test
    void slotsWithInvalidBufferIndexOrLengthAreDroppedNotFollowed() {
        Port a = open("a");
        Port b = open("b");
        Ring t = a.txRing(0);
        int i = t.head();
        int[] bad = {0, 1, -7, Integer.MAX_VALUE};
        int[] saved = new int[bad.length];
        for (int k = 0; k < bad.length; k++) {
            int s = t.slotAfter(i, k);
            Frames.write(t, s, Frames.BROADCAST, mac(1), 0, k, 60);
            saved[k] = t.bufIdx(s);
            t.setBufIdx(s, bad[k]);
        }
        int s = t.slotAfter(i, bad.length);
        Frames.write(t, s, Frames.BROADCAST, mac(1), 0, 99, 60);
        t.memory().set(java.lang.foreign.ValueLayout.JAVA_SHORT, t.offset() + 1024 + 16L * s + 4, (short) 4000); // len > bufSize
        int ok = t.slotAfter(i, bad.length + 1);
        Frames.write(t, ok, Frames.BROADCAST, mac(1), 0, 5, 60);
        t.advanceTo(t.nextSlot(ok));
        t.sync();
        List<Frame> got = Frames.receive(b);
        assertEquals(1, got.size());
        assertEquals(5, got.get(0).seq());
        assertEquals(5, port("a").txCounter(SwitchFileLayout.DROP_BAD_SLOT));
        for (int k = 0; k < bad.length; k++) {
            t.setBufIdx(t.slotAfter(i, k), saved[k]); // give the port its buffers back for close
        }
    }

    @Test
    void packetsLongerThanTheDestinationsBuffersAreDropped() {
        Port a = open("a");
        Port b = open("b@conf:buf-size=1024");
        Frames.send(a, Frames.BROADCAST, mac(1), 0, 0, 1, 1500, 0);
        Frames.send(a, Frames.BROADCAST, mac(1), 0, 1, 1, 1000, 0);
        List<Frame> got = Frames.receive(b);
        assertEquals(1, got.size());
        assertEquals(1000, got.get(0).len());
        assertEquals(1, port("a").txCounter(SwitchFileLayout.DROP_TOO_LONG));
    }

    @Test
    void aReceiverHandingBackABadBufferIndexGetsAnEmptySlot() {
        Port a = open("a");
        Port b = open("b");
        Ring r = b.rxRing(0);
        int j = r.head();
        int saved = r.bufIdx(j);
        r.setBufIdx(j, 1); // reserved buffer: the switch must not write there
        Frames.send(a, Frames.BROADCAST, mac(1), 2);
        r.sync();
        assertEquals(0, r.len(j));
        assertEquals(60, r.len(r.nextSlot(j)));
        assertEquals(1, port("b").rxCounter(SwitchFileLayout.RX_BAD_SLOT));
        r.setBufIdx(j, saved);
        r.advanceTo(r.tail());
    }

    @Test
    void aUnicastBatchCopiedToOnePortArrivesInOrderAndSkipsABadBufferIndex() {
        unicastBatchToOnePort(false);
    }

    @Test
    void aUnicastBatchSwappedToOnePortArrivesInOrderAndSkipsABadBufferIndex() {
        unicastBatchToOnePort(true);
    }

    /**
     * The forwarder's counted loop (every packet of the batch one slot, all to one port): frames of
     * lengths around the short-copy limit (64 bytes) and long ones arrive in order with every byte,
     * and the slot whose buffer index the receiver broke goes out empty, counted, the others intact.
     */
    private void unicastBatchToOnePort(boolean swap) {
        Port a = open("a");
        Port b = open(swap ? "b@share=" + sw + ":a" : "b");
        announce(b, mac(2));
        Ring r = b.rxRing(0);
        int j = r.head();
        int broken = r.slotAfter(j, 3);
        int saved = r.bufIdx(broken);
        r.setBufIdx(broken, 1); // reserved buffer: the switch must not write there
        int[] lens = {60, 63, 64, 65, 14, 128, 200, 257, 1514, 2048};
        Ring t = a.txRing(0);
        int i = t.head();
        for (int k = 0; k < lens.length; k++) {
            Frames.write(t, i, mac(2), mac(1), 7, 100 + k, Math.max(lens[k], 26));
            t.setLen(i, lens[k]);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
        r.sync();
        assertEquals(lens.length, r.space(), "one slot per frame");
        for (int k = 0; k < lens.length; k++) {
            int s = r.slotAfter(j, k);
            if (s == broken) {
                assertEquals(0, r.len(s), "the slot with the bad buffer index goes out empty");
                continue;
            }
            assertEquals(lens[k], r.len(s));
            assertEquals(swap, (r.flags(s) & Slot.NS_BUF_CHANGED) != 0, "buffers move only when the ports share a region");
            if (lens[k] >= 26) {
                assertEquals(100 + k, r.memory().get(Frames.U64, r.bufOffset(s) + 18), "in order");
                assertTrue(Frames.payloadIntact(r, s), "payload of frame " + k + " (" + lens[k] + " bytes)");
            } else {
                assertEquals(mac(2), Packet.readMac(r.memory(), r.bufOffset(s)), "a 14-byte frame's destination");
            }
        }
        assertEquals(1, port("b").rxCounter(SwitchFileLayout.RX_BAD_SLOT));
        r.setBufIdx(broken, saved);
        r.advanceTo(r.tail());
        r.sync();
    }

    @Test
    void switchesAreSeparate() {
        Port a = open("a");
        String other = sw + "x";
        try (Port b = Netmap.open(other + ":b"); Port c = Netmap.open(other + ":c")) {
            Frames.send(a, Frames.BROADCAST, mac(1), 1);
            assertEquals(0, Frames.receive(b).size());
            Frames.send(c, Frames.BROADCAST, mac(1), 1);
            assertEquals(1, Frames.receive(b).size());
        }
        assertTrue(ValeSwitches.get(other).isEmpty());
    }

    @Test
    void opensOfOneNameShareThePortAndExclusiveOpensAreAlone() {
        Port a = open("a");
        Port a2 = open("a");
        Port b = open("b");
        assertEquals(2, ValeSwitches.get(sw).orElseThrow().portList().size());
        Frames.send(b, Frames.BROADCAST, mac(2), 1);
        assertEquals(1, Frames.receive(a2).size(), "the second open binds the same rings");
        assertThrows(NetmapException.PortBusy.class, () -> Netmap.open(sw + ":a/x"));
        a2.close();
        opened.remove(a2);
        assertTrue(port("a").index() >= 0, "still there while one open remains");
    }

    @Test
    void aSwitchHoldsAtMost254Ports() {
        List<Port> ports = new ArrayList<>();
        try {
            for (int i = 0; i < ValeSwitch.MAX_PORTS; i++) {
                ports.add(Netmap.open(sw + ":p" + i + "@conf:slots=4,buf-size=64,bufs=64"));
            }
            NetmapException e = assertThrows(NetmapException.class, () -> Netmap.open(sw + ":one_more@conf:slots=4,buf-size=64"));
            assertTrue(e.getMessage().contains("254"), e.getMessage());
            Frames.send(ports.get(0), Frames.BROADCAST, mac(1), 0, 0, 1, 60, 0);
            int reached = 0;
            for (Port p : ports) {
                reached += Frames.receive(p).size();
            }
            assertEquals(253, reached, "a broadcast reaches the 253 other ports");
        } finally {
            ports.forEach(Port::close);
        }
    }

    @Test
    void floodingWithNoOtherPortIsALookupDrop() {
        Port a = open("a");
        Frames.send(a, Frames.BROADCAST, mac(1), 3);
        assertEquals(3, port("a").txCounter(SwitchFileLayout.DROP_LOOKUP), "sent = delivered (none) + dropped");
    }

    @Test
    void aModuleThatThrowsDoesNotLeaveTheDestinationStuck() {
        Port a = open("a");
        Port b = open("b");
        boolean[] fail = {true};
        ValeSwitches.get(sw).orElseThrow().setLookup(new LookupModule() {
            @Override
            public int lookup(Packet p) {
                return p.srcPort() == 0 ? 1 : 0;
            }

            @Override
            public boolean rewrites() {
                return true;
            }

            @Override
            public void rewrite(java.lang.foreign.MemorySegment src, long srcOffset, java.lang.foreign.MemorySegment dst,
                                long dstOffset, int len, int dstPort, int cookie) {
                if (fail[0]) {
                    throw new IllegalStateException("module bug");
                }
            }
        });
        assertThrows(IllegalStateException.class, () -> Frames.send(a, mac(2), mac(1), 5));
        assertEquals(0, Frames.receive(b).size(), "the failed batch's lease was given back, nothing half-written shows");
        fail[0] = false;
        Frames.send(a, mac(2), mac(1), 0, 100, 4, 60, 0);
        List<Frame> got = Frames.receive(b);
        assertEquals(9, got.size(), "the destination still takes packets; the failed batch went with the next sync");
        assertEquals(0, got.get(0).seq());
        assertEquals(100, got.get(5).seq());
    }

    @Test
    void persistentPortsStayWithoutOpens() {
        SwitchPort p = SwitchAdmin.newPersistent(sw + ":vi0@conf:slots=64");
        try {
            try (Port a = Netmap.open(sw + ":vi0"); Port b = Netmap.open(sw + ":b")) {
                assertEquals(64, a.txRing(0).numSlots());
                Frames.send(b, Frames.BROADCAST, mac(1), 1);
                assertEquals(1, Frames.receive(a).size());
            }
            assertTrue(p.index() >= 0, "a persistent port outlives its opens");
            assertTrue(ValeSwitches.get(sw).isPresent());
        } finally {
            SwitchAdmin.remove(sw + ":vi0");
        }
        assertFalse(p.index() >= 0);
    }
}
