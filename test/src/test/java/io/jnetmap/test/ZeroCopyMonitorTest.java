package io.jnetmap.test;

import io.jnetmap.core.MonitorPort;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Zero-copy monitors ({@code PORT/z}, {@code /zt}, {@code /zr}) on pipe ends and switch ports: the
 * packets pass through the monitor, in order, and go on only when it releases them; the watched port
 * stalls meanwhile; closing the monitor loses nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ZeroCopyMonitorTest {
    private static final String ID = "zm" + ProcessHandle.current().pid();

    /** Queues up to {@code n} packets numbered from {@code first} (as many as fit) and syncs; returns how many. */
    private static int send(Port p, long first, int n) {
        Ring t = p.txRing(0);
        t.sync();
        int h = t.head();
        int k = 0;
        for (; k < n && t.space() > k; k++) {
            t.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(h), first + k);
            t.setSlot(h, 60 + (int) ((first + k) % 64), 0);
            h = t.nextSlot(h);
        }
        t.advanceTo(h);
        t.sync();
        return k;
    }

    /** Takes everything {@code p} received, checking each length against its number; returns the numbers. */
    private static long[] receive(Port p) {
        Ring r = p.rxRing(0);
        r.sync();
        long[] out = new long[r.space()];
        int h = r.head();
        for (int k = 0; k < out.length; k++, h = r.nextSlot(h)) {
            out[k] = r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(h));
            assertEquals(60 + (int) (out[k] % 64), r.len(h), "length of packet " + out[k]);
        }
        r.advanceTo(h);
        r.sync();
        return out;
    }

    /** What the monitor holds now (after a sync), without releasing it. */
    private static long[] held(Port mon) {
        Ring r = mon.rxRing(0);
        r.sync();
        long[] out = new long[r.space()];
        for (int k = 0, h = r.head(); k < out.length; k++, h = r.nextSlot(h)) {
            out[k] = r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(h));
        }
        return out;
    }

    /** Releases the first {@code n} packets the monitor holds. */
    private static void release(Port mon, int n) {
        Ring r = mon.rxRing(0);
        r.advanceTo(r.slotAfter(r.head(), n));
        r.sync();
    }

    private static long[] seq(long first, int n) {
        long[] s = new long[n];
        for (int k = 0; k < n; k++) {
            s[k] = first + k;
        }
        return s;
    }

    @Test
    void sentPacketsPassThroughTheMonitorAndGoOnOnlyWhenReleased() {
        try (Port master = Netmap.open(ID + "a{1"); Port slave = Netmap.open(ID + "a}1");
             Port mon = Netmap.open(ID + "a{1/zt")) {
            assertTrue(((MonitorPort) mon).isZeroCopy());
            assertEquals(master.region(), mon.region(), "the monitor's rings live in the watched port's region");
            int space = master.txRing(0).space();
            assertEquals(10, send(master, 100, 10));
            assertEquals(0, receive(slave).length, "nothing reaches the peer before the monitor releases it");
            long[] seen = held(mon);
            assertArrayEquals(seq(100, 10), seen, "the monitor sees every packet, in order");
            Ring mr = mon.rxRing(0);
            for (int k = 0, h = mr.head(); k < 10; k++, h = mr.nextSlot(h)) {
                assertEquals(Slot.NS_TXMON, mr.flags(h) & Slot.NS_TXMON);
                assertEquals(60 + (100 + k) % 64, mr.len(h));
            }
            master.txRing(0).sync();
            assertEquals(space - 10, master.txRing(0).space(), "the sender's slots stay taken while the monitor holds them");

            release(mon, 4);
            assertArrayEquals(seq(100, 4), receive(slave), "released packets go on, in order");
            assertEquals(0, receive(slave).length);
            release(mon, 6);
            assertArrayEquals(seq(104, 6), receive(slave));
            master.txRing(0).sync();
            assertEquals(space, master.txRing(0).space(), "every slot back once the peer took them");
            assertEquals(0, ((MonitorPort) mon).drops());
        }
    }

    @Test
    void receivedPacketsReachTheUserOnlyAfterTheMonitorAsItLeftThem() {
        try (Port master = Netmap.open(ID + "b{1"); Port slave = Netmap.open(ID + "b}1");
             Port mon = Netmap.open(ID + "b}1/zr")) {
            send(master, 0, 8);
            assertEquals(0, receive(slave).length, "the receiver sees nothing the monitor has not released");
            long[] seen = held(mon);
            assertArrayEquals(seq(0, 8), seen);
            Ring mr = mon.rxRing(0);
            assertEquals(0, mr.flags(mr.head()) & Slot.NS_TXMON, "received packets carry no NS_TXMON");
            // the monitor may rewrite what it holds: packet 3 becomes packet 67 (same length class)
            int h3 = mr.slotAfter(mr.head(), 3);
            mr.memory().set(JAVA_LONG_UNALIGNED, mr.bufOffset(h3), 67L);
            release(mon, 8);
            long[] got = receive(slave);
            assertArrayEquals(new long[] {0, 1, 2, 67, 4, 5, 6, 7}, got);
        }
    }

    @Test
    void theWatchedPortStallsWhileTheMonitorHoldsThenEverythingArrivesInOrder() {
        // a 64-slot pipe and an 8-slot monitor: 7 packets at the monitor, the rest wait in the sender's ring
        try (Port master = Netmap.open(ID + "c{1@conf:slots=64"); Port slave = Netmap.open(ID + "c}1");
             Port mon = Netmap.open(ID + "c{1/z@conf:slots=8")) {
            long next = 0;
            int sent;
            while ((sent = send(master, next, 64)) > 0) {
                next += sent;
            }
            assertEquals(63, next, "the sender's ring fills up and stays full");
            assertEquals(0, receive(slave).length);
            assertEquals(7, held(mon).length, "the monitor's ring holds 7; the others wait, none dropped");
            assertEquals(0, send(master, next, 1), "the port stalls");
            // the monitor releases a packet at a time: each one, and only it, reaches the peer
            List<Long> got = new ArrayList<>();
            for (int k = 0; k < 63; k++) {
                long[] h = held(mon);
                assertEquals(k, h[0], "the monitor sees packet " + k + " next");
                release(mon, 1);
                long[] r = receive(slave);
                assertEquals(1, r.length, "one release, one packet at the peer");
                got.add(r[0]);
            }
            assertEquals(LongRange.of(0, 63), got);
            assertEquals(0, held(mon).length);
            assertEquals(0, ((MonitorPort) mon).drops());
            assertEquals(5, send(master, 500, 5), "room again");
        }
    }

    @Test
    void closingTheMonitorWhileItHoldsPacketsLosesNone() {
        try (Port master = Netmap.open(ID + "d{1"); Port slave = Netmap.open(ID + "d}1")) {
            int freeBefore = master.region().freeBufs();
            Port tmon = Netmap.open(ID + "d{1/z@conf:slots=8");
            Port rmon = Netmap.open(ID + "d}1/z@conf:slots=8");
            assertEquals(20, send(master, 0, 20));
            assertEquals(7, held(tmon).length);
            release(tmon, 3); // 3 reach the slave's RX ring and stop at its monitor
            assertEquals(0, receive(slave).length);
            assertEquals(3, held(rmon).length);
            tmon.close(); // holds 7, and 10 more wait behind it in the sender's ring
            rmon.close(); // holds 3; the other 17 are in the pipe now
            assertArrayEquals(seq(0, 20), receive(slave), "every packet, in order, after both monitors left");
            assertEquals(10, send(master, 20, 10));
            assertArrayEquals(seq(20, 10), receive(slave), "the port runs as before");
            assertEquals(freeBefore, master.region().freeBufs(), "no buffer lost or leaked in the region");
            // and a zero-copy monitor can attach again
            try (Port again = Netmap.open(ID + "d{1/zt")) {
                send(master, 30, 2);
                assertArrayEquals(seq(30, 2), held(again));
                release(again, 2);
                assertArrayEquals(seq(30, 2), receive(slave));
            }
        }
    }

    @Test
    void theWatchedPortClosingFirstLeavesTheMonitorHarmless() {
        try (Port slave = Netmap.open(ID + "g}1")) {
            Port master = Netmap.open(ID + "g{1");
            int freeBefore = slave.region().freeBufs();
            Port mon = Netmap.open(ID + "g{1/zt");
            assertEquals(5, send(master, 0, 5));
            assertEquals(5, held(mon).length);
            master.close();
            release(mon, 3); // nothing goes to a closed port's backend
            assertEquals(0, receive(slave).length);
            mon.close();
            // the end reopens (the slave kept the pipe) and runs as before, with every buffer accounted for
            try (Port again = Netmap.open(ID + "g{1")) {
                assertEquals(4, send(again, 100, 4));
                assertArrayEquals(seq(100, 4), receive(slave));
            }
            assertEquals(freeBefore, slave.region().freeBufs(), "no buffer lost or leaked in the region");
        }
    }

    @Test
    void aSwitchPortThroughItsMonitors() {
        String sw = "vale" + ID;
        try (Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b");
             Port amon = Netmap.open(sw + ":a/zt"); Port bmon = Netmap.open(sw + ":b/zr")) {
            assertEquals(5, send(a, 10, 5)); // unknown destination: flooded to b
            assertEquals(0, receive(b).length);
            assertArrayEquals(seq(10, 5), held(amon));
            release(amon, 5);
            assertEquals(0, receive(b).length, "b's own monitor holds them now");
            assertArrayEquals(seq(10, 5), held(bmon));
            release(bmon, 2);
            assertArrayEquals(seq(10, 2), receive(b));
            bmon.close();
            assertArrayEquals(seq(12, 3), receive(b));
        }
    }

    @Test
    void refusalsAreClearOneLineErrors() {
        try (Port master = Netmap.open(ID + "e{1"); Port mon = Netmap.open(ID + "e{1/z")) {
            NetmapException e = assertThrows(NetmapException.class, () -> Netmap.open(ID + "e{1/zt"));
            assertTrue(e.getMessage().contains("has a zero-copy monitor already"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            // a copy monitor next to it is fine
            try (Port copy = Netmap.open(ID + "e{1/t")) {
                assertTrue(copy.region() != master.region());
            }
        }
        String sw = "vale" + ID + "x";
        try (Port a = Netmap.open(sw + ":a")) {
            NetmapException e = assertThrows(NetmapException.class, () -> Netmap.open(sw + ":a/z@conf:slots=4096"));
            assertTrue(e.getMessage().contains("must fit in region"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    /**
     * Three threads asleep in pollers whenever they wait: a sender, the monitors of both ends relaying,
     * and a receiver. Every packet arrives, in order, through both monitors, and nobody waits for a
     * wake-up that never comes (each poll would time out after 5 s).
     */
    @Test
    void packetsFlowThroughTwoMonitorsWithEveryoneAsleepInPollers() throws Exception {
        long total = 200_000;
        try (Port master = Netmap.open(ID + "f{1"); Port slave = Netmap.open(ID + "f}1");
             Port tmon = Netmap.open(ID + "f{1/zt@conf:slots=64"); Port rmon = Netmap.open(ID + "f}1/zr@conf:slots=64")) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicLong timeouts = new AtomicLong();
            AtomicLong relayed = new AtomicLong();
            Thread sender = new Thread(() -> {
                try (Poller p = new Poller(WaitStrategy.block())) {
                    p.add(master.pollable(), Pollable.OUT);
                    long next = 0;
                    while (next < total && failure.get() == null) {
                        int n = send(master, next, (int) Math.min(32, total - next));
                        next += n;
                        if (n == 0 && p.poll(5, TimeUnit.SECONDS) == 0) {
                            timeouts.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "sender");
            Thread relay = new Thread(() -> {
                try (Poller p = new Poller(WaitStrategy.block())) {
                    p.add(tmon.pollable(), Pollable.IN);
                    p.add(rmon.pollable(), Pollable.IN);
                    long seenT = 0;
                    long seenR = 0;
                    while (seenR < total && failure.get() == null) {
                        long[] t = held(tmon);
                        for (long s : t) {
                            assertEquals(seenT++, s, "TX monitor order");
                        }
                        release(tmon, t.length);
                        long[] r = held(rmon);
                        for (long s : r) {
                            assertEquals(seenR++, s, "RX monitor order");
                        }
                        release(rmon, r.length);
                        relayed.set(seenR);
                        if (t.length == 0 && r.length == 0 && p.poll(5, TimeUnit.SECONDS) == 0) {
                            timeouts.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "monitors");
            sender.start();
            relay.start();
            long expect = 0;
            try (Poller p = new Poller(WaitStrategy.block())) {
                p.add(slave.pollable(), Pollable.IN);
                while (expect < total && failure.get() == null) {
                    long[] got = receive(slave);
                    for (long s : got) {
                        assertEquals(expect++, s, "receiver order");
                    }
                    if (got.length == 0 && p.poll(5, TimeUnit.SECONDS) == 0) {
                        timeouts.incrementAndGet();
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                failure.compareAndSet(null, new AssertionError("the receiver stopped")); // stops the others if still running
                sender.join(10_000);
                relay.join(10_000);
            }
            Throwable f = failure.get();
            assertTrue(f instanceof AssertionError && "the receiver stopped".equals(f.getMessage()), () -> "a thread failed: " + f);
            assertEquals(total, expect);
            assertEquals(total, relayed.get());
            assertEquals(0, timeouts.get(), "polls that timed out (a lost wake-up)");
        }
    }

    /** The numbers {@code [from, to)} as a list, for one readable assertion. */
    private static final class LongRange {
        static List<Long> of(long from, long to) {
            List<Long> l = new ArrayList<>();
            for (long k = from; k < to; k++) {
                l.add(k);
            }
            return l;
        }
    }
}
