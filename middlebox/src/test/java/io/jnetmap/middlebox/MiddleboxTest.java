package io.jnetmap.middlebox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The API itself: forward, drop and copy decisions, counters, and a thread per ring. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MiddleboxTest {
    @Test
    void forwardsDropsAndCopiesAsDecidedAndCountsThem() throws Exception {
        String p = LoadBalancerTest.parent("mb");
        try (Port send = Netmap.open(p + "{0@conf:pipes=3,bufs=20000"); Port in = Netmap.open(p + "}0");
             Port out0 = Netmap.open(p + "{1"); Port recv0 = Netmap.open(p + "}1");
             Port out1 = Netmap.open(p + "{2"); Port recv1 = Netmap.open(p + "}2");
             // the test sends everything before it reads: overflow buffers hold what the pipes cannot
             Middlebox box = Middlebox.builder().overflow(4096).input(in, List.of(out0, out1), b -> {
                 for (int k = 0; k < b.size(); k++) {
                     long tag = Frames.tag(b.memory(), b.offset(k));
                     if (tag % 3 == 0) {
                         b.drop(k);                  // multiples of 3: nowhere
                     } else if (tag % 3 == 1) {
                         b.copy(k, 1);               // 1 mod 3: a copy to output 1, the packet to output 0
                     } else {
                         b.forward(k, 1);            // 2 mod 3: output 1 only
                     }
                 }
             }).start()) {
            int n = 3000;
            Frames.send(send, n, (m, off, i) -> Frames.udp(m, off, 1, 2, 3, 4, i));
            List<Long> got0 = new ArrayList<>();
            List<Long> got1 = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while ((got0.size() < n / 3 || got1.size() < 2 * n / 3) && System.nanoTime() < deadline) {
                Frames.drain(recv0, got0::add);
                Frames.drain(recv1, got1::add);
            }
            List<Long> want0 = new ArrayList<>();
            List<Long> want1 = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                if (i % 3 == 1) {
                    want0.add(i);
                }
                if (i % 3 != 0) {
                    want1.add(i);
                }
            }
            assertEquals(want0, got0);
            assertEquals(want1, got1);
            assertEquals(n, box.received(0));
            assertEquals(n / 3, box.dropped(0));
            assertEquals(n / 3, box.sent(0));
            assertEquals(2 * n / 3, box.sent(1));
            assertTrue(in.sharesMemoryWith(out0), "pipes of one parent: forwarded by swap");
            assertNull(box.failure());
        }
    }

    @Test
    void aThreadPerRingMovesEveryRingAndTwoThreadsNeverShareATxRing() throws Exception {
        String p = LoadBalancerTest.parent("mr");
        try (Port send = Netmap.open(p + "{0@conf:pipes=2,rings=2,bufs=30000"); Port in = Netmap.open(p + "}0");
             Port out = Netmap.open(p + "{1@conf:rings=2"); Port recv = Netmap.open(p + "}1")) {
            assertEquals(2, in.rxRings());
            try (Middlebox box = Middlebox.builder().threads(Middlebox.Threads.PER_RING).overflow(10_000)
                    .input(in, List.of(out), b -> { }).start()) {
                int n = 5000;
                for (int r = 0; r < 2; r++) {
                    Ring t = send.txRing(r);
                    int sent = 0;
                    while (sent < n) {
                        t.sync();
                        int j = t.head();
                        for (int k = Math.min(t.space(), n - sent); k > 0; k--, sent++) {
                            Frames.udp(t.memory(), t.bufOffset(j), 1, 2, 3, 4, (long) r << 32 | sent);
                            t.setLen(j, Frames.LEN);
                            j = t.nextSlot(j);
                        }
                        t.advanceTo(j);
                        t.sync();
                    }
                }
                long[] next = new long[2];
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (next[0] + next[1] < 2L * n && System.nanoTime() < deadline) {
                    for (int r = 0; r < 2; r++) {
                        Ring rx = recv.rxRing(r);
                        rx.sync();
                        for (int j = rx.head(); j != rx.tail(); j = rx.nextSlot(j)) {
                            long tag = Frames.tag(rx.memory(), rx.bufOffset(j));
                            assertEquals((long) r << 32 | next[r], tag, "ring " + r + " in order");
                            next[r]++;
                        }
                        rx.advanceTo(rx.tail());
                    }
                }
                assertEquals(n, next[0]);
                assertEquals(n, next[1]);
                assertEquals(2L * n, box.received(0));
                assertNull(box.failure());
            }
            // two inputs of one ring each into one output ring, each on its own thread: refused
            assertThrows(IllegalArgumentException.class, () -> Middlebox.builder().threads(Middlebox.Threads.PER_RING)
                    .input(in, List.of(out), b -> { }).input(recv, List.of(out), b -> { }).start());
        }
    }
}
