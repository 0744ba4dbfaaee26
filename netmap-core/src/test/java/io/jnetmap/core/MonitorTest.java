package io.jnetmap.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Copy monitors on the loopback backend: what they see, what they lose, and that the watched port is unaffected. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MonitorTest {
    private static void send(Ring t, long first, int n, int flags) {
        int h = t.head();
        for (int k = 0; k < n; k++) {
            t.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(h), first + k);
            t.setSlot(h, 60 + k, flags);
            h = t.nextSlot(h);
        }
        t.advanceTo(h);
        t.sync();
    }

    /** Receives everything on {@code r}, returning the sequence numbers (and checking NS_TXMON against {@code txmon}). */
    private static long[] drain(Ring r, Boolean txmon) {
        r.sync();
        long[] out = new long[r.space()];
        int h = r.head();
        for (int k = 0; k < out.length; k++) {
            out[k] = r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(h));
            if (txmon != null) {
                assertEquals(txmon, (r.flags(h) & Slot.NS_TXMON) != 0, "NS_TXMON on slot " + h);
            }
            h = r.nextSlot(h);
        }
        r.advanceTo(h);
        r.sync();
        return out;
    }

    @Test
    void txMonitorSeesWhatIsSentWithTxmonAndTheLength() {
        try (LoopbackPort p = LoopbackPort.open("netmap:mon0", 64, 0);
             MonitorPort m = MonitorPort.open(PortName.parse("netmap:mon0/t"), p)) {
            assertEquals(0, m.txRings());
            assertEquals(1, m.rxRings());
            assertTrue(m.backend().startsWith("monitor of loopback"), m.backend());
            send(p.txRing(0), 100, 5, 0);
            Ring mr = m.rxRing(0);
            mr.sync();
            assertEquals(5, mr.space());
            for (int k = 0, h = mr.head(); k < 5; k++, h = mr.nextSlot(h)) {
                assertEquals(60 + k, mr.len(h));
            }
            assertEquals(100L, drain(mr, true)[0]);
            // the watched port delivered everything, untouched by the monitor
            long[] got = drain(p.rxRing(0), null);
            assertEquals(5, got.length);
            assertEquals(104L, got[4]);
        }
    }

    @Test
    void rxMonitorSeesWhatArrivesAndRtSeesBoth() {
        try (LoopbackPort p = LoopbackPort.open("netmap:mon1", 64, 0);
             MonitorPort r = MonitorPort.open(PortName.parse("netmap:mon1/r"), p);
             MonitorPort rt = MonitorPort.open(PortName.parse("netmap:mon1/rt"), p)) {
            send(p.txRing(0), 7, 3, 0);
            assertEquals(0, drain(r.rxRing(0), false).length, "nothing received yet");
            drain(p.rxRing(0), null);
            long[] seen = drain(r.rxRing(0), false);
            assertEquals(3, seen.length);
            assertEquals(9L, seen[2]);
            long[] both = drain(rt.rxRing(0), null);
            assertEquals(6, both.length, "3 as sent and 3 as received");
        }
    }

    @Test
    void aFullMonitorLosesTheExcessAndTheWatchedPortGoesOn() {
        try (LoopbackPort p = LoopbackPort.open("netmap:mon2", 64, 0);
             MonitorPort m = MonitorPort.open(PortName.parse("netmap:mon2/t@conf:slots=8"), p)) {
            send(p.txRing(0), 0, 20, 0);
            assertEquals(20, drain(p.rxRing(0), null).length);
            assertEquals(7, drain(m.rxRing(0), true).length, "an 8-slot ring holds 7");
            assertEquals(13, m.drops());
            send(p.txRing(0), 20, 3, 0);
            assertEquals(3, drain(m.rxRing(0), true).length, "room again once released");
        }
    }

    @Test
    void multiSlotPacketsAreCopiedWholeOrNotAtAll() {
        try (LoopbackPort p = LoopbackPort.open("netmap:mon3", 64, 0);
             MonitorPort m = MonitorPort.open(PortName.parse("netmap:mon3/t@conf:slots=4"), p)) {
            Ring t = p.txRing(0);
            int h = t.head();
            for (int k = 0; k < 5; k++) { // a 2-slot packet, then a 3-slot packet
                t.setSlot(h, 10, k == 1 || k == 4 ? 0 : Slot.NS_MOREFRAG);
                h = t.nextSlot(h);
            }
            t.advanceTo(h);
            t.sync();
            Ring mr = m.rxRing(0);
            mr.sync();
            assertEquals(2, mr.space(), "the first packet fits (3 free slots), the second (3 slots) no longer does");
            assertEquals(Slot.NS_MOREFRAG | Slot.NS_TXMON, mr.flags(mr.head()));
            assertEquals(Slot.NS_TXMON, mr.flags(mr.nextSlot(mr.head())));
            assertEquals(1, m.drops());
        }
    }

    @Test
    void closingTheMonitorDetachesIt() {
        try (LoopbackPort p = LoopbackPort.open("netmap:mon4", 64, 0)) {
            MonitorPort m = MonitorPort.open(PortName.parse("netmap:mon4/t"), p);
            m.close();
            send(p.txRing(0), 0, 3, 0); // no copy into a closed monitor
            assertEquals(3, drain(p.rxRing(0), null).length);
        }
    }

    @Test
    void zeroCopyMonitorsAndMissingTargetsAreClearErrors() {
        try (LoopbackPort p = LoopbackPort.open("netmap:mon5", 8, 0)) {
            NetmapException e = assertThrows(NetmapException.class, () -> MonitorPort.open(PortName.parse("netmap:mon5/z"), p));
            assertTrue(e.getMessage().contains("zero-copy monitors (/z) need a port kind"), e.getMessage());
            assertTrue(e.getMessage().contains("not loopback; use a copy monitor"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), "one line");
        }
        NetmapException e = assertThrows(NetmapException.class, () -> Netmap.open("netmap:nosuchport9/r"));
        assertTrue(e.getMessage().contains("netmap:nosuchport9 is not open in this process"), e.getMessage());
        assertEquals("monitor", PortName.parse("pipe{1/t").kind());
        assertEquals("pipe{1", PortName.parse("pipe{1/t@conf:slots=8").monitored());
    }
}
