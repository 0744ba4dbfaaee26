package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ports with several rings, and ports coming and going while traffic flows. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PortLifecycleTest {

    @Test
    void eachRingHasItsOwnOpenAndDeliversToTheSameRingIndex() {
        String sw = Names.unique("valelc");
        try (Port a0 = Netmap.open(sw + ":a-0@conf:rings=2"); Port a1 = Netmap.open(sw + ":a-1");
             Port b = Netmap.open(sw + ":b@conf:rings=2")) {
            assertEquals(1, a0.txRings());
            assertEquals(1, a1.txRings());
            assertEquals(1, a1.txRing(0).ringId(), "a-1 binds ring 1 of the same port");
            assertEquals(2, b.rxRings());
            Frames.send(a0, Frames.BROADCAST, mac(1), 0, 0, 3, 60, 0);
            Frames.send(a1, Frames.BROADCAST, mac(1), 0, 100, 5, 60, 0);
            Ring r0 = b.rxRing(0);
            Ring r1 = b.rxRing(1);
            b.rxSync();
            assertEquals(3, r0.space(), "ring 0 to ring 0");
            assertEquals(5, r1.space(), "ring 1 to ring 1");
            r0.advanceTo(r0.tail());
            r1.advanceTo(r1.tail());
            b.rxSync();
        }
    }

    @Test
    void portsComeAndGoWhileSendersFloodThem() throws Exception {
        String sw = Names.unique("valelc");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        AtomicLong sent = new AtomicLong();
        List<Thread> senders = new ArrayList<>();
        try (Port anchor = Netmap.open(sw + ":anchor")) { // keeps the switch alive throughout
            for (int s = 0; s < 2; s++) {
                int id = s;
                senders.add(Thread.ofPlatform().start(() -> {
                    try (Port p = Netmap.open(sw + ":s" + id)) {
                        long seq = 0;
                        while (!stop.get()) {
                            seq += Frames.send(p, Frames.BROADCAST, mac(id + 1), id, seq, 64, 60, 0);
                        }
                        sent.addAndGet(seq);
                    } catch (Throwable e) {
                        failed.compareAndSet(null, e);
                    }
                }));
            }
            int cycles = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < deadline && failed.get() == null) {
                // receivers appear, take what comes, and close again, under the senders' feet
                try (Port r = Netmap.open(sw + ":r" + (cycles % 3) + "@conf:slots=64")) {
                    for (int k = 0; k < 3; k++) {
                        Frames.receive(r);
                    }
                }
                cycles++;
                Frames.receive(anchor);
            }
            stop.set(true);
            for (Thread t : senders) {
                t.join();
            }
            assertNull(failed.get(), "a sender failed while ports closed under it");
            assertTrue(cycles > 10, "ports came and went " + cycles + " times");
            assertTrue(sent.get() > 0);
            assertEquals(1, ValeSwitches.get(sw).orElseThrow().portList().size(), "only the anchor is left");
        }
        assertTrue(ValeSwitches.get(sw).isEmpty());
    }

    /**
     * A receiving port that sleeps on its descriptor and closes while another thread floods the switch
     * (which signals that descriptor): neither side fails, 300 times over.
     */
    @Test
    void aSleepingReceiverClosesWhileASenderSignalsIt() throws Exception {
        String sw = Names.unique("valeclose");
        try (Port a = Netmap.open(sw + ":a"); Port b = Netmap.open(sw + ":b")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread sender = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        Frames.send(a, Frames.BROADCAST, mac(1), 8);
                        Frames.receive(b);
                    }
                } catch (Throwable t) {
                    failure.set(t);
                }
            }, "flooder");
            sender.start();
            try (io.jnetmap.poll.Poller poller = new io.jnetmap.poll.Poller(io.jnetmap.poll.WaitStrategy.block())) {
                for (int round = 0; round < 300 && failure.get() == null; round++) {
                    Port c = Netmap.open(sw + ":c");
                    poller.add(c.pollable(), io.jnetmap.poll.Pollable.IN);
                    poller.poll(TimeUnit.MICROSECONDS.toNanos(200));
                    Frames.receive(c);
                    poller.poll(TimeUnit.MICROSECONDS.toNanos(200)); // asleep, with the flag armed, as it closes
                    poller.remove(c.pollable());
                    c.close();
                }
            } finally {
                stop.set(true);
                sender.join(10_000);
            }
            assertNull(failure.get(), "the flooding thread");
        }
    }
}
