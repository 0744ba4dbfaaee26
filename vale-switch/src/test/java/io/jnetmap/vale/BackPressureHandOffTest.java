package io.jnetmap.vale;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.jnetmap.vale.Frames.mac;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A back-pressured sender's packets, once handed to the switch by a txsync, reach the receiver even if
 * the sender never syncs again (a sender that stops or closes): the receiver's release forwards them.
 * The race this checks: the receiver releases room while the sender's txsync, which found the
 * destination full a moment before, still holds its pending slots; the hand-over must not be lost
 * between the two threads. Many short rounds on small rings make the race frequent.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BackPressureHandOffTest {
    private static final long RECEIVER = mac(2);

    @Test
    void packetsHandedToTheSwitchArriveAfterTheSenderStopsSyncing() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        int rounds = 0;
        while (System.nanoTime() < deadline || rounds < 20) {
            round(Names.unique("valebp"), 600 + (rounds % 7) * 37);
            rounds++;
        }
    }

    private static void round(String sw, int n) throws Exception {
        try (Port b = Netmap.open(sw + ":b@conf:slots=32"); Port a = Netmap.open(sw + ":a@backpressure=on@conf:slots=64")) {
            Frames.send(b, Frames.BROADCAST, RECEIVER, 1); // the switch learns where the receiver is
            Frames.receive(a);
            AtomicLong received = new AtomicLong();
            Thread rx = new Thread(() -> {
                Ring r = b.rxRing(0);
                long stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (received.get() < n && System.nanoTime() < stopAt) {
                    r.sync();
                    int got = r.space();
                    r.advanceTo(r.tail());
                    received.addAndGet(got);
                    Thread.onSpinWait();
                }
            }, "bp-receiver");
            rx.start();
            int sent = 0;
            while (sent < n) {
                sent += Frames.send(a, RECEIVER, mac(1), 0, sent, n - sent, 60, 0);
            }
            // the last txsync above handed every packet to the switch; this thread never syncs again
            rx.join(10_000);
            assertEquals(n, received.get(), "packets delivered after the sender stopped syncing (switch " + sw + ")");
        }
    }
}
