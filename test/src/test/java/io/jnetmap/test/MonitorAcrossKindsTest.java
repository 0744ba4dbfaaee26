package io.jnetmap.test;

import io.jnetmap.core.MonitorPort;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Copy monitors opened by name ({@code PORT/t}, {@code PORT/r}) on pipe ends and switch ports. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MonitorAcrossKindsTest {
    private static void send(Port p, long first, int n) {
        Ring t = p.txRing(0);
        int h = t.head();
        for (int k = 0; k < n; k++) {
            t.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(h), first + k);
            t.setSlot(h, 60, 0);
            h = t.nextSlot(h);
        }
        t.advanceTo(h);
        t.sync();
    }

    private static long[] receive(Port p) {
        Ring r = p.rxRing(0);
        r.sync();
        long[] out = new long[r.space()];
        int h = r.head();
        for (int k = 0; k < out.length; k++, h = r.nextSlot(h)) {
            out[k] = r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(h));
        }
        r.advanceTo(h);
        r.sync();
        return out;
    }

    @Test
    void aPipeEndWatchedFromBothSides() {
        String parent = "mon" + ProcessHandle.current().pid();
        try (Port master = Netmap.open(parent + "{1"); Port slave = Netmap.open(parent + "}1");
             Port tmon = Netmap.open(parent + "{1/t"); Port rmon = Netmap.open(parent + "}1/r")) {
            assertInstanceOf(MonitorPort.class, tmon);
            assertTrue(tmon.backend().contains("pipe"), tmon.backend());
            send(master, 1000, 10);
            long[] sent = receive(tmon);
            assertEquals(10, sent.length);
            assertEquals(1000L, sent[0]);
            assertEquals(Slot.NS_TXMON, tmon.rxRing(0).flags(0) & Slot.NS_TXMON);
            assertEquals(10, receive(slave).length, "the pipe itself delivers everything");
            long[] got = receive(rmon);
            assertEquals(10, got.length);
            assertEquals(1009L, got[9]);
        }
    }

    @Test
    void aSwitchPortWatched() {
        String sw = "valemon" + ProcessHandle.current().pid();
        try (Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b"); Port mon = Netmap.open(sw + ":a/t")) {
            send(a, 5, 4); // unknown destination: flooded to b
            assertEquals(4, receive(mon).length);
            assertEquals(4, receive(b).length);
        }
    }

    /**
     * A monitor closed while the watched port's thread is copying into it and signalling it: neither
     * side fails, and the monitor's eventfd is never signalled while or after it closes.
     */
    @Test
    void aMonitorClosesWhileTheWatchedPortIsBusy() throws Exception {
        String parent = "monc" + ProcessHandle.current().pid();
        try (Port master = Netmap.open(parent + "{1"); Port slave = Netmap.open(parent + "}1")) {
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            Thread busy = new Thread(() -> {
                try {
                    long seq = 0;
                    while (!stop.get()) {
                        send(master, seq, 8);
                        seq += 8;
                        receive(slave);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "watched");
            busy.start();
            try (io.jnetmap.poll.Poller poller = new io.jnetmap.poll.Poller(io.jnetmap.poll.WaitStrategy.block())) {
                for (int round = 0; round < 300 && failure.get() == null; round++) {
                    Port mon = Netmap.open(parent + "{1/t");
                    poller.add(mon.pollable(), io.jnetmap.poll.Pollable.IN);
                    poller.poll(TimeUnit.MICROSECONDS.toNanos(200)); // arms the need-wake-up flag, sleeps, is signalled
                    poller.remove(mon.pollable());
                    mon.close();
                }
            } finally {
                stop.set(true);
                busy.join(10_000);
            }
            assertEquals(null, failure.get(), "the watched port's thread");
        }
    }
}
