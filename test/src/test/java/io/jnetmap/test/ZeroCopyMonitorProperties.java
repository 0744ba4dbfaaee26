package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Any interleaving of sends, partial releases by two zero-copy monitors (one on each end of a pipe),
 * receives, and monitors closing and reopening: the receiver gets every packet exactly once, in order;
 * each monitor sees a run of consecutive packets; and no buffer of the region is lost or leaked.
 */
class ZeroCopyMonitorProperties {
    private static final AtomicInteger PIPE = new AtomicInteger();
    private static final String ID = "zmp" + ProcessHandle.current().pid() + "x";

    /** One step: what, and how many packets. */
    record Step(int op, int n) {
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        Arbitrary<Step> step = Arbitraries.integers().between(0, 6)
                .flatMap(op -> Arbitraries.integers().between(0, 20).map(n -> new Step(op, n)));
        return step.list().ofMinSize(1).ofMaxSize(60);
    }

    private static final class Monitor {
        final String name;
        Port port;
        /** The number the monitor's next held packet must carry, or -1 right after it (re)opened. */
        long next = -1;

        Monitor(String name) {
            this.name = name;
            this.port = Netmap.open(name);
        }

        /** Checks what it holds (consecutive, continuing its run), then releases {@code n} of them. */
        void release(int n) {
            Ring r = port.rxRing(0);
            r.sync();
            int held = r.space();
            for (int k = 0, h = r.head(); k < held; k++, h = r.nextSlot(h)) {
                long s = r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(h));
                if (k == 0 && next < 0) {
                    next = s;
                }
                assertEquals(next + k, s, name + " holds a consecutive run");
            }
            int m = Math.min(n, held);
            r.advanceTo(r.slotAfter(r.head(), m));
            r.sync();
            if (next >= 0) {
                next += m;
            }
        }

        void reopen() {
            port.close();
            port = Netmap.open(name);
            next = -1;
        }
    }

    @Property(tries = 60)
    void everyPacketArrivesOnceInOrderAndNoBufferIsLost(@ForAll("steps") List<Step> steps) {
        String parent = ID + PIPE.incrementAndGet();
        try (Port master = Netmap.open(parent + "{1@conf:slots=16"); Port slave = Netmap.open(parent + "}1")) {
            int freeBefore = master.region().freeBufs();
            Monitor t = new Monitor(parent + "{1/zt@conf:slots=8");
            Monitor r = new Monitor(parent + "}1/zr@conf:slots=8");
            long sent = 0;
            long received = 0;
            try {
                for (Step s : steps) {
                    switch (s.op()) {
                        case 0, 1 -> sent += send(master, sent, s.n());
                        case 2 -> t.release(s.n());
                        case 3 -> r.release(s.n());
                        case 4 -> received = receive(slave, received);
                        case 5 -> t.reopen();
                        default -> r.reopen();
                    }
                }
            } finally {
                t.port.close();
                r.port.close();
            }
            received = receive(slave, received);
            assertEquals(sent, received, "every packet sent arrived once both monitors left");
            assertEquals(freeBefore, master.region().freeBufs(), "buffers of the region");
        }
    }

    private static int send(Port p, long first, int n) {
        Ring t = p.txRing(0);
        t.sync();
        int h = t.head();
        int k = 0;
        for (; k < n && t.space() > k; k++) {
            t.memory().set(JAVA_LONG_UNALIGNED, t.bufOffset(h), first + k);
            t.setSlot(h, 60, 0);
            h = t.nextSlot(h);
        }
        t.advanceTo(h);
        t.sync();
        return k;
    }

    /** Receives everything there is, checking it continues at {@code expect}; returns the next expected number. */
    private static long receive(Port p, long expect) {
        Ring r = p.rxRing(0);
        for (int round = 0; round < 2; round++) { // a second sync takes what the pipe gave back room for
            r.sync();
            int h = r.head();
            for (int n = r.space(); n > 0; n--, h = r.nextSlot(h)) {
                assertEquals(expect++, r.memory().get(JAVA_LONG_UNALIGNED, r.bufOffset(h)), "the receiver's order");
            }
            r.advanceTo(h);
            r.sync();
        }
        return expect;
    }
}
