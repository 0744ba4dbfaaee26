package io.jnetmap.vale;

import io.jnetmap.core.Ring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A stream from one attached port into another with back-pressure on the sending one, as between two
 * processes (each remote port is an attached pipe end): the receiving port's TX ring fills all the
 * time, so the sender's packets wait for room again and again. Each time, the receiver's release must
 * wake the sender at once; a wake-up that is lost or late leaves the sender asleep until its poll
 * timeout (100 ms), which held such a stream at ~20 Kpps across processes and at ~600 pps here (the
 * receiving port's polling thread slept waiting only for IN, so nobody reclaimed its TX ring until a
 * timeout). 20 000 packets through 64-slot rings then take over 30 s; woken properly they take about
 * 2 s on a busy 2-core machine and well under 1 s on a quiet one, so the bound (20 s) fails on the bug
 * without being timing-fragile.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AttachedBackPressureRateTest {
    private static final int N = 20_000;

    @Test
    void aBackPressuredStreamBetweenAttachedPortsIsNotPacedByTimeouts() throws Exception {
        String sw = Names.unique("valeabr");
        PairPort[] wa = PairPort.open("wa" + sw, 64);
        PairPort[] wb = PairPort.open("wb" + sw, 64);
        ValeSwitch s = ValeSwitches.create(sw, new io.jnetmap.vale.lookup.LearningBridge());
        try {
            s.attach(wa[0], AttachOptions.defaults().withName("a").withBackPressure(true).withSpin(0));
            s.attach(wb[0], AttachOptions.defaults().withName("b").withSpin(0));
            // the switch learns where the receiver is
            Frames.send(wb[1], Frames.BROADCAST, mac(2), 1);
            long learnBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (Frames.receive(wa[1]).isEmpty() && System.nanoTime() < learnBy) {
                Thread.onSpinWait();
            }
            AtomicLong received = new AtomicLong();
            AtomicLong badSeq = new AtomicLong(-1);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Thread rx = Thread.ofPlatform().name("abr-receiver").start(() -> {
                Ring r = wb[1].rxRing(0);
                long expect = 0;
                while (expect < N && System.nanoTime() < deadline) {
                    r.sync();
                    int j = r.head();
                    while (j != r.tail()) {
                        long seq = r.memory().get(Frames.U64, r.bufOffset(j) + 18);
                        if (seq != expect && badSeq.get() < 0) {
                            badSeq.set(expect);
                        }
                        expect++;
                        j = r.nextSlot(j);
                    }
                    r.advanceTo(j);
                    received.set(expect);
                }
                r.sync();
            });
            long t0 = System.nanoTime();
            long sent = 0;
            while (sent < N && System.nanoTime() < deadline) {
                int k = Frames.send(wa[1], mac(2), mac(1), 0, sent, (int) Math.min(32, N - sent), 60, 0);
                sent += k;
                if (k == 0) {
                    Thread.onSpinWait();
                }
            }
            rx.join(TimeUnit.SECONDS.toMillis(70));
            double secs = (System.nanoTime() - t0) / 1e9;
            SwitchPort a = s.port("a").orElseThrow();
            long stalls = a.txCounter(io.jnetmap.vale.ctl.SwitchFileLayout.BP_STALLS);
            System.out.printf("attached back-pressure stream: %d packets in %.3f s (%.0f pps), %d stalls%n",
                    received.get(), secs, received.get() / secs, stalls);
            assertEquals(N, received.get(), "every packet arrives (back-pressure drops nothing)");
            assertEquals(-1, badSeq.get(), "in order");
            assertEquals(0, a.drops());
            assertTrue(stalls > 50, "the receiver's ring filled and made the sender wait (" + stalls + " stalls)");
            assertTrue(secs < 20, N + " packets took " + secs + " s with " + stalls
                    + " stalls: a back-pressured sender waits for a timeout instead of being woken");
        } finally {
            s.close();
            for (PairPort p : new PairPort[] {wa[0], wa[1], wb[0], wb[1]}) {
                p.close();
            }
        }
    }
}
