package io.jnetmap.core;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * netmap's ring semantics, written once and run against every port kind by subclassing (pipes, VALE
 * ports, NIC ports, host ports, the core's loopback). A subclass supplies a {@link Fixture}: a sending
 * port and a receiving port (possibly the same one) such that what is sent on {@code tx()} TX ring 0
 * arrives on {@code rx()} RX ring 0.
 *
 * <p>Rings have {@link #slots()} slots, by default 13: not a power of two, so every index computation
 * must wrap by comparison.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class RingContractTest {
    /** Ports under test. */
    public interface Fixture extends AutoCloseable {
        Port tx();

        Port rx();

        @Override
        void close();

        /** The fixture of two open ports (or one, as both): closing it closes them. */
        static Fixture of(Port tx, Port rx) {
            return new Fixture() {
                @Override
                public Port tx() {
                    return tx;
                }

                @Override
                public Port rx() {
                    return rx;
                }

                @Override
                public void close() {
                    try {
                        tx.close();
                    } finally {
                        if (rx != tx) {
                            rx.close();
                        }
                    }
                }
            };
        }
    }

    /** Opens the ports, with rings of {@code slots} slots and at least 4 extra buffers on {@code tx()}. */
    protected abstract Fixture open(int slots) throws Exception;

    /** Ring size used by the suite. */
    protected int slots() {
        return 13;
    }

    /** Whether buffers travel by index (the receiver sees the sender's bufIdx). */
    protected boolean zeroCopy() {
        return false;
    }

    /** How long to wait for packets to arrive on asynchronous backends. */
    protected long arrivalTimeoutMs() {
        return 5_000;
    }

    /** Packet length used by the suite (NIC ports need a valid Ethernet frame size). */
    protected int packetLength() {
        return 60;
    }

    /** Writes the frame for sequence number {@code seq} (backends needing real Ethernet headers override). */
    protected void writePacket(Ring ring, int slot, long seq) {
        MemorySegment m = ring.memory();
        long off = ring.bufOffset(slot);
        int len = packetLength();
        for (int i = 0; i < len; i += 4) {
            m.set(JAVA_INT_UNALIGNED, off + i, 0x5a5a5a5a);
        }
        m.set(JAVA_LONG_UNALIGNED, off + payloadOffset(), seq);
        m.set(JAVA_LONG_UNALIGNED, off + payloadOffset() + 8, ~seq);
        ring.setSlot(slot, len, 0);
    }

    /** Where the sequence number lives in a packet. */
    protected int payloadOffset() {
        return 16;
    }

    /** The sequence number in a received packet, or -1 if it is not a packet of this suite. */
    protected long readSeq(Ring ring, int slot) {
        if (ring.len(slot) < payloadOffset() + 16) {
            return -1;
        }
        MemorySegment m = ring.memory();
        long off = ring.bufOffset(slot);
        long seq = m.get(JAVA_LONG_UNALIGNED, off + payloadOffset());
        long check = m.get(JAVA_LONG_UNALIGNED, off + payloadOffset() + 8);
        return check == ~seq ? seq : -1;
    }

    protected Fixture f;
    private long nextSeq;
    private long expectSeq;

    @BeforeEach
    void openFixture() throws Exception {
        f = open(slots());
    }

    @AfterEach
    void closeFixture() {
        if (f != null) {
            f.close();
        }
    }

    private Ring txr() {
        return f.tx().txRing(0);
    }

    private Ring rxr() {
        return f.rx().rxRing(0);
    }

    /** Sends up to {@code n} packets (as many as the TX ring has room for); returns how many. */
    protected int send(int n) {
        Ring t = txr();
        int head = t.head();
        int room = t.space();
        int k = Math.min(n, room);
        for (int i = 0; i < k; i++) {
            writePacket(t, head, nextSeq++);
            head = t.nextSlot(head);
        }
        t.advanceTo(head);
        t.sync();
        return k;
    }

    /** Receives exactly {@code n} packets of this suite in order (waiting up to the arrival timeout), releasing them. */
    protected void receiveInOrder(int n) {
        Ring r = rxr();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(arrivalTimeoutMs());
        int got = 0;
        while (got < n) {
            r.sync();
            int head = r.head();
            while (head != r.tail() && got < n) {
                long seq = readSeq(r, head);
                if (seq >= 0) {
                    assertEquals(expectSeq, seq, "packets arrive in order, none lost");
                    expectSeq++;
                    got++;
                }
                head = r.nextSlot(head);
            }
            r.advanceTo(head);
            if (got < n) {
                // a back-pressured sender may need another sync to push what waits in its ring
                txr().sync();
                if (System.nanoTime() > deadline) {
                    fail("received " + got + " of " + n + " packets within " + arrivalTimeoutMs() + " ms");
                }
                Thread.onSpinWait();
            }
        }
        r.sync();
    }

    /** Pushes TX until every slot is back with the user (tail == head - 1). */
    private void drainTx() {
        Ring t = txr();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(arrivalTimeoutMs());
        while (t.space() != t.numSlots() - 1) {
            t.sync();
            rxr().sync();
            if (System.nanoTime() > deadline) {
                fail("TX ring did not drain: " + t);
            }
            Thread.onSpinWait();
        }
    }

    /**
     * After a reset, tail is the backend's: it may have moved forward (slots completed meanwhile) but
     * never past the slot before head.
     */
    private static void assertTailMovedForwardAtMostTo(Ring ring, int oldTail, int head) {
        int n = ring.numSlots();
        int moved = Math.floorMod(ring.tail() - oldTail, n);
        int limit = Math.floorMod(head - 1 - oldTail, n);
        assertTrue(moved <= limit || ring.tail() == oldTail, ring + ": tail moved from " + oldTail + " past head " + head);
    }

    @Test
    void txRingStartsWithAllButOneSlotForTheUser() {
        Ring t = txr();
        assertEquals(slots(), t.numSlots());
        assertEquals(t.head(), t.cur());
        assertEquals(t.numSlots() - 1, t.space(), "one slot always stays empty");
        assertEquals(t.tail(), t.slotAfter(t.head(), t.numSlots() - 1));
    }

    @Test
    void rxRingStartsEmpty() {
        Ring r = rxr();
        r.sync();
        assertEquals(0, r.space());
        assertTrue(r.isEmpty());
        assertEquals(r.head(), r.tail());
    }

    @Test
    void everySlotHoldsADistinctValidBuffer() {
        Set<Integer> seen = new HashSet<>();
        for (Ring ring : new Ring[] {txr(), rxr()}) {
            for (int i = 0; i < ring.numSlots(); i++) {
                int b = ring.bufIdx(i);
                assertTrue(ring.region().isValidBuf(b), "slot " + i + " holds valid buffer " + b);
                assertTrue(ring.region().isAllocated(b), "buffer " + b + " is allocated");
                if (ring.region() == txr().region() || ring == txr()) {
                    assertTrue(seen.add(b), "buffer " + b + " is in one slot only");
                }
            }
        }
    }

    @Test
    void packetsWrapAroundTheRingInOrder() {
        int total = 5 * slots() + 3;
        int sent = 0;
        int batch = 1;
        while (sent < total) {
            int k = send(Math.min(batch, total - sent));
            receiveInOrder(k);
            sent += k;
            batch = batch % (slots() - 1) + 1; // every batch size from 1 to numSlots-1
        }
        drainTx();
        assertEquals(slots() - 1, txr().space());
    }

    @Test
    void oneSlotStaysEmptyWhenTheRingIsFull() {
        Ring t = txr();
        int k = send(slots() + 10);
        assertEquals(slots() - 1, k, "at most numSlots-1 packets fit");
        receiveInOrder(k);
        drainTx();
    }

    @Test
    void syncLeavesUserOwnedSlotsAlone() {
        Ring t = txr();
        // hand over 3 packets, keep the rest of [head, tail) filled with markers the backend must not touch
        int sentHead = t.head();
        send(3);
        int head = t.head();
        assertEquals(t.slotAfter(sentHead, 3), head);
        int owned = t.space();
        int[] bufs = new int[owned];
        int s = head;
        for (int i = 0; i < owned; i++) {
            bufs[i] = t.bufIdx(s);
            t.setSlot(s, 7, 0);
            s = t.nextSlot(s);
        }
        t.sync();
        s = head;
        for (int i = 0; i < Math.min(owned, t.space()); i++) {
            assertEquals(bufs[i], t.bufIdx(s), "user-owned TX slot " + s + " keeps its buffer");
            assertEquals(7, t.len(s), "user-owned TX slot " + s + " keeps its length");
            s = t.nextSlot(s);
        }
        receiveInOrder(3);
    }

    @Test
    void receivedPacketsStayUntilReleased() {
        send(4);
        Ring r = rxr();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(arrivalTimeoutMs());
        while (r.space() < 4) {
            r.sync();
            txr().sync();
            assertTrue(System.nanoTime() < deadline, "4 packets arrive");
        }
        int head = r.head();
        long first = readSeq(r, head);
        int firstBuf = r.bufIdx(head);
        send(2); // more traffic while the user holds the first packets
        r.sync();
        r.sync();
        assertEquals(head, r.head());
        assertEquals(firstBuf, r.bufIdx(head), "a slot the user owns keeps its buffer across syncs");
        assertEquals(first, readSeq(r, head), "and its contents");
        receiveInOrder(6);
    }

    @Test
    void releasingRxSlotsGivesThemBack() {
        int k = send(slots() - 1);
        receiveInOrder(k);
        Ring r = rxr();
        assertEquals(r.head(), r.tail(), "everything received was released");
        // room for a full ring again
        drainTx();
        assertEquals(slots() - 1, send(slots() - 1));
        receiveInOrder(slots() - 1);
    }

    @Test
    void cursorBeyondHeadHoldsPacketsWithoutReleasing() {
        send(3);
        Ring r = rxr();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(arrivalTimeoutMs());
        while (r.space() < 3) {
            r.sync();
            txr().sync();
            assertTrue(System.nanoTime() < deadline, "3 packets arrive");
        }
        int head = r.head();
        r.setCur(r.tail()); // seen everything, keep it: head stays
        r.sync();
        assertEquals(head, r.head());
        assertTrue(r.space() >= 3, "held packets are still the user's");
        r.setCur(head);
        receiveInOrder(3);
    }

    @Test
    void txHeadOutOfRangeResetsTheRingAndFails() {
        send(2);
        receiveInOrder(2);
        Ring t = txr();
        int head = t.head();
        int tail = t.tail();
        for (int bad : new int[] {t.numSlots(), -1, Integer.MAX_VALUE}) {
            t.setHead(bad);
            RingStateException e = assertThrows(RingStateException.class, t::sync);
            assertTrue(e.getMessage().contains("head=" + bad), e.getMessage());
            assertEquals(head, t.head(), "head reset");
            assertEquals(head, t.cur(), "cur reset");
            assertTailMovedForwardAtMostTo(t, tail, head);
            tail = t.tail();
        }
        // the backend is unharmed: traffic goes on
        assertEquals(3, send(3));
        receiveInOrder(3);
    }

    @Test
    void txHeadOutsideTheUsersSlotsFailsWhileTheBackendHoldsSlots() {
        // fill the receiver, then queue more: a back-pressured backend keeps these, so tail lags head
        int first = send(slots() - 1);
        int more = send(3);
        Ring t = txr();
        int head = t.head();
        int tail = t.tail();
        if (t.nextSlot(tail) != head) {
            int backwards = head == 0 ? t.numSlots() - 1 : head - 1;
            t.setHead(backwards);
            assertThrows(RingStateException.class, t::sync, "head may not move backwards");
            assertEquals(head, t.head());
            t.setHead(t.nextSlot(tail));
            t.setCur(t.nextSlot(tail));
            assertThrows(RingStateException.class, t::sync, "head may not enter the backend's slots");
            assertEquals(head, t.head());
            assertEquals(head, t.cur());
            assertTailMovedForwardAtMostTo(t, tail, head);
        }
        receiveInOrder(first + more);
        drainTx();
    }

    @Test
    void curOutsideHeadToTailFails() {
        Ring t = txr();
        int head = t.head();
        t.setCur(t.numSlots() + 5);
        RingStateException e = assertThrows(RingStateException.class, t::sync);
        assertTrue(e.getMessage().contains("cur="), e.getMessage());
        assertEquals(head, t.cur());
        assertEquals(1, send(1));
        receiveInOrder(1);
    }

    @Test
    void rxHeadPastTailFails() {
        send(2);
        receiveInOrder(2);
        Ring r = rxr();
        r.sync();
        int head = r.head();
        int tail = r.tail();
        r.setHead(r.slotAfter(tail, 2));
        assertThrows(RingStateException.class, r::sync);
        assertEquals(head, r.head());
        assertTailMovedForwardAtMostTo(r, tail, head);
        r.setHead(r.numSlots() * 2);
        assertThrows(RingStateException.class, r::sync);
        assertEquals(2, send(2));
        receiveInOrder(2);
    }

    @Test
    void swapSetsBufChangedOnBothSlotsAndTheSwappedBufferTravels() {
        Ring t = txr();
        int a = t.head();
        int b = t.nextSlot(a);
        int bufA = t.bufIdx(a);
        int bufB = t.bufIdx(b);
        Ring.swap(t, a, t, b);
        assertEquals(bufB, t.bufIdx(a));
        assertEquals(bufA, t.bufIdx(b));
        assertTrue((t.flags(a) & Slot.NS_BUF_CHANGED) != 0);
        assertTrue((t.flags(b) & Slot.NS_BUF_CHANGED) != 0);

        // an extra buffer swapped into a slot carries the packet
        NetmapIf nifp = f.tx().netmapIf();
        int extra = nifp.takeExtraBuf();
        assertTrue(t.region().isValidBuf(extra), "the sender has extra buffers");
        int slot = t.head();
        int old = t.bufIdx(slot);
        t.setBufIdx(slot, extra);
        t.setFlags(slot, Slot.NS_BUF_CHANGED);
        writePacket(t, slot, nextSeq++);
        t.setFlags(slot, t.flags(slot) | Slot.NS_BUF_CHANGED);
        nifp.giveExtraBuf(old);
        t.advanceTo(t.nextSlot(slot));
        t.sync();
        Ring r = rxr();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(arrivalTimeoutMs());
        int found = -1;
        while (found < 0) {
            r.sync();
            for (int s = r.head(); s != r.tail(); s = r.nextSlot(s)) {
                if (readSeq(r, s) == nextSeq - 1) {
                    found = s;
                }
            }
            assertTrue(System.nanoTime() < deadline, "the swapped-in buffer's packet arrives");
        }
        if (zeroCopy()) {
            assertEquals(extra, r.bufIdx(found), "zero copy: the receiver gets the very buffer");
            assertTrue((r.flags(found) & Slot.NS_BUF_CHANGED) != 0, "and is told its slot's buffer changed");
        }
        expectSeq = nextSeq - 1;
        r.advanceTo(r.nextSlot(found));
        r.sync();
        expectSeq = nextSeq;
    }

    @Test
    void swapAcrossRegionsIsRefused() {
        LoopbackPort other = LoopbackPort.open("netmap:other", 4, 0);
        try {
            if (other.region() != txr().region()) {
                assertThrows(IllegalArgumentException.class, () -> Ring.swap(txr(), 0, other.txRing(0), 0));
            }
        } finally {
            other.close();
        }
    }

    @Test
    void sliceAccessorsAreBoundedByTheRing() {
        Ring t = txr();
        assertThrows(IndexOutOfBoundsException.class, () -> t.bufIdx(t.numSlots()));
        assertThrows(IndexOutOfBoundsException.class, () -> t.len(-1));
        assertThrows(IllegalArgumentException.class, () -> t.setLen(0, t.bufSize() + 1));
        int slot = t.head();
        int saved = t.bufIdx(slot);
        t.setBufIdx(slot, -5);
        assertThrows(SlotCorruptedException.class, () -> t.bufOffset(slot));
        t.setBufIdx(slot, saved);
    }

    @Test
    void syncAfterCloseFails() {
        Ring t = txr();
        f.tx().close();
        assertTrue(f.tx().isClosed());
        assertThrows(NetmapException.Closed.class, t::sync);
        f.tx().close(); // idempotent
    }

    @Test
    void backendIsVisible() {
        assertNotEquals("", f.tx().backend());
        assertNotEquals(null, f.rx().backend());
    }
}
