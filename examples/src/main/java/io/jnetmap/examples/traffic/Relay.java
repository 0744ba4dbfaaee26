package io.jnetmap.examples.traffic;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The demo's relay: moves every packet from RX ring 0 of one port to TX ring 0 of another, in batches
 * (netmap's bridge {@code rings_move}): buffers are swapped when the two ports share a region (zero copy) and copied
 * otherwise; {@code NS_MOREFRAG} travels with the slot. Waits in a {@link Poller} when there is
 * nothing to move or no room. Allocates nothing per packet.
 */
public final class Relay {
    private final Port from;
    private final Port to;
    private final WaitStrategy wait;

    public Relay(Port from, Port to, WaitStrategy wait) {
        this.from = from;
        this.to = to;
        this.wait = wait;
    }

    /** True if packets move by index swap. */
    public boolean zeroCopy() {
        return from.sharesMemoryWith(to);
    }

    public void run(Counters c, AtomicBoolean stop) {
        Ring rx = from.rxRing(0);
        Ring tx = to.txRing(0);
        boolean swap = zeroCopy();
        long idleWait = TimeUnit.MILLISECONDS.toNanos(100);
        try (Poller waitIn = new Poller(wait); Poller waitOut = new Poller(wait)) {
            waitIn.add(from.pollable(), Pollable.IN);
            waitOut.add(to.pollable(), Pollable.OUT);
            while (!stop.get()) {
                int n = Math.min(rx.space(), tx.space());
                if (n == 0) {
                    if (rx.space() == 0) {
                        waitIn.poll(idleWait);
                    } else {
                        waitOut.poll(idleWait);
                    }
                    continue;
                }
                long bytes = Ring.forward(rx, tx, n, swap);
                tx.sync();
                rx.sync();
                c.batch(n, bytes, System.nanoTime());
            }
        }
    }
}
