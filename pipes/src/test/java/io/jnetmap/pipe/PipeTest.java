package io.jnetmap.pipe;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.EventFd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What pipes add to the ring contract, in one process: back-pressure, fragments, zero copy, lifecycle, bad peers, wake-ups. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PipeTest {
    static final int SLOTS = 16;

    String parent;
    PipePort master;
    PipePort slave;

    @BeforeEach
    void open() {
        parent = Pipes.uniqueParent();
        master = Pipes.open(parent + "{1@conf:pipes=2,slots=" + SLOTS + ",extra-bufs=4");
        slave = Pipes.open(parent + "}1");
    }

    @AfterEach
    void close() {
        if (master != null) {
            master.close();
        }
        if (slave != null) {
            slave.close();
        }
        assertFalse(Pipes.regionExists(parent), "the last end to close removed the parent's region");
    }

    /** Fills up to {@code n} TX slots with sequence numbers from {@code seq} and syncs; returns how many. */
    static int send(Ring t, int n, long seq, int flags) {
        if (t.space() < n) {
            t.sync(); // learn about slots released since the last sync
        }
        int k = Math.min(n, t.space());
        int i = t.head();
        for (int c = 0; c < k; c++) {
            t.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(i), seq + c);
            t.setSlot(i, 60, flags);
            i = t.nextSlot(i);
        }
        t.advanceTo(i);
        t.sync();
        return k;
    }

    /** Receives what is there, checks sequence numbers from {@code seq}, releases; returns how many. */
    static int receive(Ring r, long seq) {
        r.sync();
        int n = 0;
        for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
            assertEquals(seq + n, r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(i)), "in order, none lost");
            n++;
        }
        r.advanceTo(r.tail());
        r.sync();
        return n;
    }

    @Test
    void netmapKnowsOpenPortsByNameUntilTheyClose() {
        assertSame(master, Netmap.findOpen(parent + "{1"));
        assertSame(slave, Netmap.findOpen(parent + "}1@conf:slots=4"), "options are not part of the name");
        master.close();
        assertNull(Netmap.findOpen(parent + "{1"), "a closed port is forgotten without telling Netmap");
        master = Pipes.open(parent + "{1");
        assertSame(master, Netmap.findOpen(parent + "{1"), "a reopen under the same name is found");
    }

    @Test
    void backPressureNeverDrops() {
        Ring t = master.txRing(0);
        Ring r = slave.rxRing(0);
        assertEquals(SLOTS - 1, send(t, 100, 0, 0));
        assertEquals(0, t.space(), "the sender's ring is full");
        t.sync();
        assertEquals(0, t.space(), "and stays full until the receiver releases");
        r.sync();
        assertEquals(SLOTS - 1, r.space(), "everything arrived");
        // release 5 of them
        r.advanceTo(r.slotAfter(r.head(), 5));
        r.sync();
        t.sync();
        assertEquals(5, t.space(), "the sender gets exactly the released slots back");
        assertEquals(5, send(t, 100, SLOTS - 1, 0));
        r.sync();
        int n = 0;
        for (int i = r.head(); i != r.tail(); i = r.nextSlot(i)) {
            assertEquals(5 + n, r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(i)));
            n++;
        }
        assertEquals(SLOTS - 1, n);
    }

    @Test
    void theSenderFillsItsRingBeforeThePeerOpensAndItAllArrives() {
        slave.close();
        slave = null;
        assertFalse(master.peerOpen());
        Ring t = master.txRing(0);
        assertEquals(SLOTS - 1, send(t, 100, 0, 0));
        assertEquals(0, t.space(), "nobody releases: the sender waits");
        slave = Pipes.open(parent + "}1");
        assertTrue(master.peerOpen());
        assertEquals(SLOTS - 1, receive(slave.rxRing(0), 0), "the late receiver finds the whole ring");
        t.sync();
        assertEquals(SLOTS - 1, t.space());
    }

    @Test
    void onlyCompletePacketsArrive() {
        Ring t = master.txRing(0);
        Ring r = slave.rxRing(0);
        send(t, 1, 100, 0);
        send(t, 2, 200, Slot.NS_MOREFRAG);
        r.sync();
        assertEquals(1, r.space(), "the first packet, not the unfinished one");
        send(t, 1, 300, 0);
        r.sync();
        assertEquals(4, r.space(), "the 3-slot packet arrived whole");
        int i = r.nextSlot(r.head());
        assertEquals(Slot.NS_MOREFRAG, r.flags(i) & Slot.NS_MOREFRAG);
        assertEquals(Slot.NS_MOREFRAG, r.flags(r.nextSlot(i)) & Slot.NS_MOREFRAG);
        assertEquals(0, r.flags(r.slotAfter(i, 2)) & Slot.NS_MOREFRAG);
        assertEquals(300, r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(r.slotAfter(i, 2))));
    }

    @Test
    void buffersTravelByIndex() {
        Ring t = master.txRing(0);
        Ring r = slave.rxRing(0);
        int slot = t.head();
        int sent = t.bufIdx(slot);
        int waiting = r.bufIdx(slot);
        send(t, 1, 7, 0);
        r.sync();
        assertEquals(sent, r.bufIdx(slot), "the receiver holds the sender's very buffer");
        assertEquals(waiting, t.bufIdx(slot), "and the sender got the receiver's released one");
        assertTrue((r.flags(slot) & Slot.NS_BUF_CHANGED) != 0);
        assertTrue((t.flags(slot) & Slot.NS_BUF_CHANGED) != 0);
        assertTrue(master.sharesMemoryWith(slave));
        assertEquals("pipe", master.backend());
    }

    @Test
    void anEndHasOneUser() {
        NetmapException.PortBusy e = assertThrows(NetmapException.PortBusy.class, () -> Pipes.open(parent + "{1"));
        assertTrue(e.getMessage().contains("already open in this process"), e.getMessage());
        assertEquals(parent + "}1", master.peerName());
        assertTrue(master.isMaster());
        assertFalse(slave.isMaster());
    }

    @Test
    void anEndCanCloseAndReopenWhileThePeerStays() {
        Ring t = master.txRing(0);
        assertEquals(5, send(t, 5, 0, 0));
        slave.close();
        Region region = master.region();
        assertTrue(region.findIf(parent + "}1").isPresent(), "the peer's descriptor lives while this end is open");
        slave = Pipes.open(parent + "}1");
        assertEquals(5, receive(slave.rxRing(0), 0), "packets waiting in the pipe survive the receiver's reopen");
        assertEquals(3, send(t, 3, 5, 0));
        assertEquals(3, receive(slave.rxRing(0), 5));
    }

    @Test
    void closingBothEndsFreesEveryBuffer() {
        Region region = master.region();
        String other = parent + "{2";
        try (PipePort m2 = Pipes.open(other)) {
            int free = region.freeBufs();
            send(master.txRing(0), 7, 0, 0);
            master.close();
            master = null;
            assertEquals(free, region.freeBufs(), "one end closed: the pipe holds its buffers");
            slave.close();
            slave = null;
            assertEquals(free + 2 * (2 * SLOTS + 4), region.freeBufs(), "both closed: rings and extra buffers returned");
            assertTrue(region.findIf(parent + "{1").isEmpty());
            assertTrue(m2.region().findIf(other).isPresent());
        }
    }

    @Test
    void aPeerWritingABadReleasedBufferIsCutOff() {
        Ring t = master.txRing(0);
        Ring r = slave.rxRing(0);
        send(t, 3, 0, 0);
        receive(r, 0);
        // the receiver (as a malicious process would) puts garbage into a slot it released
        int slot = r.head();
        r.setBufIdx(slot, 1_000_000);
        int mine = t.bufIdx(slot);
        long before = PipePort.totalPeerFaults();
        PipeBrokenException e = assertThrows(PipeBrokenException.class, () -> send(t, 1, 3, 0));
        assertTrue(e.getMessage().contains("bufIdx=1000000"), e.getMessage());
        assertEquals(1_000_000, r.bufIdx(slot), "the peer's slot is left as the peer wrote it");
        assertEquals(mine, t.bufIdx(slot), "and the sender keeps its buffer: it is in one slot only");
        assertTrue(e.getMessage().contains("cut"), e.getMessage());
        assertEquals(1, master.peerFaults());
        assertEquals(before + 1, PipePort.totalPeerFaults());
        assertEquals(e.getMessage(), master.brokenReason());
        assertThrows(PipeBrokenException.class, t::sync, "and stays cut off");
        assertEquals(Pollable.ERR, master.pollable().pollNow(Pollable.OUT));
        r.setBufIdx(slot, 2); // let close account buffers sanely (not required for safety)
    }

    @Test
    void aBadReleasedBufferInsideABatchCutsOffWithoutHandingOverTheBadSlot() {
        Ring t = master.txRing(0);
        Ring r = slave.rxRing(0);
        send(t, 3, 0, 0);
        receive(r, 0);
        int first = r.head();
        int bad = r.nextSlot(r.nextSlot(first)); // the third slot of the next batch
        r.setBufIdx(bad, 0); // reserved, never a packet buffer
        int mine = t.bufIdx(bad);
        PipeBrokenException e = assertThrows(PipeBrokenException.class, () -> send(t, 4, 3, 0));
        assertTrue(e.getMessage().contains("released RX slot " + bad + " with bufIdx=0"), e.getMessage());
        assertEquals(0, r.bufIdx(bad), "the peer's slot is left as the peer wrote it");
        assertEquals(mine, t.bufIdx(bad), "and the sender keeps that buffer");
        r.sync();
        assertEquals(first, r.tail(), "nothing was published to the receiver");
        r.setBufIdx(bad, 2); // let close account buffers sanely (not required for safety)
    }

    @Test
    void aPeerPublishingATailOutsideTheBackendsSlotsIsCutOff() {
        Ring r = slave.rxRing(0);
        long ring = r.offset();
        // out of the ring, and backwards over packets the receiver still holds (5 delivered, none released)
        for (int bad : new int[] {SLOTS, -1, 3}) {
            try (PipePort m = Pipes.open(parent + "{2"); PipePort s = Pipes.open(parent + "}2")) {
                Ring rx = s.rxRing(0);
                send(m.txRing(0), 5, 0, 0);
                rx.sync();
                assertEquals(5, rx.space());
                rx.memory().set(JAVA_INT, rx.offset() + PipeLayout.PIPE_TAIL_OFFSET, bad);
                PipeBrokenException e = assertThrows(PipeBrokenException.class, rx::sync);
                assertTrue(e.getMessage().contains("tail of RX ring 0 to " + bad + " (expected: 5..15"), e.getMessage());
                assertEquals(1, s.peerFaults());
                assertEquals(Pollable.ERR, s.pollable().pollNow(Pollable.IN));
            }
        }
        assertEquals(0, r.memory().get(JAVA_INT, ring + PipeLayout.PIPE_TAIL_OFFSET), "the other pipe was not touched");
    }

    @Test
    void aPeerDeliveringAnOversizedLengthIsCutOff() {
        Ring t = master.txRing(0);
        Ring r = slave.rxRing(0);
        int slot = t.head();
        send(t, 2, 0, 0);
        // the sender rewrites a delivered slot behind the receiver's back
        r.memory().set(java.lang.foreign.ValueLayout.JAVA_SHORT, r.offset() + 1024 + 16L * slot + 4, (short) 4000);
        PipeBrokenException e = assertThrows(PipeBrokenException.class, r::sync);
        assertTrue(e.getMessage().contains("len=4000"), e.getMessage());
        assertEquals(1, slave.peerFaults());
        assertEquals(0, master.peerFaults(), "the sender found nothing wrong");
    }

    @Test
    void busyEndsMakeNoSystemCallAndASleepingEndIsWoken() throws Exception {
        int packets = 200_000;
        CompletableFuture<Long> rx = CompletableFuture.supplyAsync(() -> {
            Ring r = slave.rxRing(0);
            long got = 0;
            while (got < packets) {
                got += receive(r, got);
            }
            return got;
        });
        Ring t = master.txRing(0);
        long sent = 0;
        while (sent < packets) {
            sent += send(t, (int) Math.min(8, packets - sent), sent, 0);
        }
        assertEquals(packets, rx.get(30, TimeUnit.SECONDS));
        assertEquals(0, master.wakeupsSent(), "nobody slept: no wake-up system call");
        assertEquals(0, slave.wakeupsSent());

        // now the receiver sleeps in a Poller: one packet wakes it, with one system call
        CompletableFuture<Integer> sleeper = CompletableFuture.supplyAsync(() -> {
            try (Poller p = new Poller(WaitStrategy.block())) {
                p.add(slave.pollable(), Pollable.IN);
                int n = p.poll(TimeUnit.SECONDS.toNanos(20));
                return n == 1 ? p.readyEvents(0) : -1;
            }
        });
        Ring r = slave.rxRing(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (r.userWait() == 0) {
            assertTrue(System.nanoTime() < deadline, "the receiver armed its flag");
            Thread.onSpinWait();
        }
        send(t, 1, packets, 0);
        assertEquals(Pollable.IN, sleeper.get(10, TimeUnit.SECONDS));
        assertEquals(1, master.wakeupsSent(), "exactly one wake-up for the sleeping receiver");
        assertEquals(0, master.wakeupFailures(), master.wakeupFailure());
    }

    @Test
    void aReceiverBlockedOnAnIdlePipeUsesNoCpu() throws Exception {
        java.util.concurrent.atomic.AtomicLong tid = new java.util.concurrent.atomic.AtomicLong();
        CompletableFuture<Integer> sleeper = CompletableFuture.supplyAsync(() -> {
            tid.set(io.jnetmap.sys.Linux.gettid());
            try (Poller p = new Poller(WaitStrategy.spinThenBlock(java.time.Duration.ofMillis(2)))) {
                p.add(slave.pollable(), Pollable.IN);
                return p.poll(TimeUnit.SECONDS.toNanos(20));
            }
        });
        Ring r = slave.rxRing(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (r.userWait() == 0) {
            assertTrue(System.nanoTime() < deadline, "the receiver went to sleep");
            Thread.onSpinWait();
        }
        long before = Pipes.cpuTicks(tid.get());
        Thread.sleep(500);
        long used = Pipes.cpuTicks(tid.get()) - before;
        send(master.txRing(0), 1, 0, 0);
        assertEquals(1, sleeper.get(10, TimeUnit.SECONDS));
        assertTrue(used <= 5, "the blocked receiver used " + used + " clock ticks (1/100 s) in 500 ms");
    }

    @Test
    void aSenderWaitingForRoomIsWokenWhenTheReceiverReleases() throws Exception {
        Ring t = master.txRing(0);
        send(t, SLOTS, 0, 0);
        CompletableFuture<Integer> sleeper = CompletableFuture.supplyAsync(() -> {
            try (Poller p = new Poller(WaitStrategy.block())) {
                p.add(master.pollable(), Pollable.OUT);
                return p.poll(TimeUnit.SECONDS.toNanos(20)) == 1 ? p.readyEvents(0) : -1;
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.userWait() == 0) {
            assertTrue(System.nanoTime() < deadline, "the sender armed its flag");
            Thread.onSpinWait();
        }
        receive(slave.rxRing(0), 0);
        assertEquals(Pollable.OUT, sleeper.get(10, TimeUnit.SECONDS));
        assertEquals(1, slave.wakeupsSent());
    }

    @Test
    void aPollerServesPipeEndsAndPlainDescriptorsTogether() {
        try (EventFd plain = EventFd.create(); Poller p = new Poller(WaitStrategy.spinThenBlock(java.time.Duration.ofMillis(1)))) {
            Pollable fd = Pollable.ofFd(plain.fd());
            p.add(slave.pollable(), Pollable.IN);
            p.add(master.pollable(), Pollable.OUT);
            p.add(fd, Pollable.IN);
            assertEquals(1, p.poll(Poller.NOW), "the master has room");
            assertEquals(master.pollable(), p.ready(0));
            p.setInterest(master.pollable(), Pollable.IN);
            assertEquals(0, p.poll(TimeUnit.MILLISECONDS.toNanos(20)));
            send(master.txRing(0), 3, 0, 0);
            plain.signal();
            assertEquals(2, p.poll(TimeUnit.SECONDS.toNanos(5)));
            assertNotEquals(p.ready(0), p.ready(1));
            for (int k = 0; k < 2; k++) {
                assertEquals(Pollable.IN, p.readyEvents(k));
            }
        }
    }

    @Test
    void ringKOfOneEndFeedsRingKOfTheOther() {
        String other = Pipes.uniqueParent(); // a parent's region is shaped by its first pipe: this one has more rings
        try (PipePort m = Pipes.open(other + "{1@conf:pipes=1,tx-rings=3,rx-rings=2,slots=" + SLOTS);
             PipePort s = Pipes.open(other + "}1")) {
            assertEquals(3, m.txRings());
            assertEquals(2, m.rxRings());
            assertEquals(2, s.txRings(), "the other end mirrors the ring counts");
            assertEquals(3, s.rxRings());
            for (int k = 0; k < 3; k++) {
                assertEquals(k + 1, send(m.txRing(k), k + 1, 100 * k, 0));
            }
            for (int k = 0; k < 3; k++) {
                assertEquals(k + 1, receive(s.rxRing(k), 100 * k), "ring " + k + " carries what ring " + k + " sent");
            }
            assertEquals(4, send(s.txRing(1), 4, 500, 0));
            assertEquals(0, receive(m.rxRing(0), 0));
            assertEquals(4, receive(m.rxRing(1), 500));
        }
        assertFalse(Pipes.regionExists(other));
    }

    @Test
    void conflictingGeometryAndFullParentsSayWhatToDo() {
        NetmapException e = assertThrows(NetmapException.class, () -> Pipes.open(parent + "{3@conf:slots=" + (SLOTS * 4)));
        assertTrue(e.getMessage().contains("slots=" + SLOTS * 4) && e.getMessage().contains("sized when the first"), e.getMessage());
        try (PipePort m2 = Pipes.open(parent + "{2")) {
            NetmapException.OutOfMemory full = assertThrows(NetmapException.OutOfMemory.class, () -> Pipes.open(parent + "{3"));
            assertTrue(full.getMessage().contains("@conf:pipes=N"), full.getMessage());
            assertTrue(m2.isMaster());
        }
    }
}
