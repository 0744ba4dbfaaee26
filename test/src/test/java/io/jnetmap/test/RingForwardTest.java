package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** {@link Ring#forward}, as the bridge and the demo's forwarder use it: swap within a region, copy across, never past a buffer. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RingForwardTest {
    private static String unique(String p) {
        return p + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
    }

    private static void send(Port p, int len, int flags) {
        Ring t = p.txRing(0);
        int h = t.head();
        for (int b = 0; b < len; b++) {
            t.memory().set(JAVA_BYTE, t.bufOffset(h) + b, (byte) b);
        }
        t.setSlot(h, len, flags);
        t.advanceTo(t.nextSlot(h));
        t.sync();
    }

    @Test
    void aCopyIsCutToTheSmallerBufferAndTheFlagsFollow() {
        String x = unique("fwx");
        String y = unique("fwy");
        try (Port a = Netmap.open(x + "{1"); Port b = Netmap.open(x + "}1");
             Port c = Netmap.open(y + "{1@conf:buf-size=1024"); Port d = Netmap.open(y + "}1")) {
            send(a, 1500, Slot.NS_MOREFRAG);
            send(a, 60, 0);
            Ring in = b.rxRing(0);
            in.sync();
            assertEquals(2, in.space());
            Ring out = c.txRing(0);
            int first = out.head();
            assertEquals(1024 + 60, Ring.forward(in, out, 2, false));
            assertEquals(in.tail(), in.head(), "the source head moved over both");
            assertEquals(1024, out.len(first), "cut to the destination's 1024-byte buffer");
            assertEquals(Slot.NS_MOREFRAG, out.flags(first) & Slot.NS_MOREFRAG);
            out.sync();
            Ring got = d.rxRing(0);
            got.sync();
            assertEquals(2, got.space());
            int h = got.head();
            assertEquals(1024, got.len(h));
            for (int i = 0; i < 1024; i++) {
                assertEquals((byte) i, got.memory().get(JAVA_BYTE, got.bufOffset(h) + i));
            }
            assertEquals(60, got.len(got.nextSlot(h)));
        }
    }

    @Test
    void withinARegionBuffersAreSwapped() {
        String x = unique("fws");
        try (Port a = Netmap.open(x + "{1"); Port b = Netmap.open(x + "}1")) {
            send(a, 60, 0);
            Ring in = b.rxRing(0);
            in.sync();
            Ring out = b.txRing(0);
            int i = in.head();
            int j = out.head();
            int inBuf = in.bufIdx(i);
            int outBuf = out.bufIdx(j);
            assertNotEquals(inBuf, outBuf);
            assertEquals(60, Ring.forward(in, out, 1, true));
            assertEquals(inBuf, out.bufIdx(j), "the packet's buffer moved to the TX slot");
            assertEquals(outBuf, in.bufIdx(i));
            assertEquals(60, out.len(j));
            assertEquals(Slot.NS_BUF_CHANGED, out.flags(j) & Slot.NS_BUF_CHANGED);
            assertEquals(out.nextSlot(j), out.head());
        }
    }
}
