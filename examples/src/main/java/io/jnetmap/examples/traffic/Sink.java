package io.jnetmap.examples.traffic;

import io.jnetmap.core.Port;
import io.jnetmap.core.PortBrokenException;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * pkt-gen's {@code rx} and {@code rxseq}: takes every packet of every RX ring of a port, one sync per
 * batch, waiting in a {@link Poller} when the rings are empty; rxseq checks the sequence numbers
 * {@link Generator} wrote (one sequence per ring) and counts packets missing (a jump forward) and
 * packets reordered (a number older than expected); frames that are not pkt-gen's ({@link
 * Frame#isOurs}: a link's own traffic) are counted as {@code other}, never as reordered. Allocates
 * nothing per packet.
 */
public final class Sink {
    private final Port port;
    private final boolean seq;
    private final WaitStrategy wait;

    public Sink(Port port, boolean seq, WaitStrategy wait) {
        if (port.rxRings() == 0) {
            throw new IllegalArgumentException("port " + port.name() + " has no RX rings bound (expected: at least one to receive on)");
        }
        this.port = port;
        this.seq = seq;
        this.wait = wait;
    }

    /** Receives {@code count} packets (0 = until stopped). */
    public void run(long count, Counters c, AtomicBoolean stop) {
        int nrings = port.rxRings();
        Ring[] rings = new Ring[nrings];
        long[] expect = new long[nrings];
        for (int r = 0; r < nrings; r++) {
            rings[r] = port.rxRing(r);
        }
        long idleWait = TimeUnit.MILLISECONDS.toNanos(100);
        try (Poller poller = new Poller(wait)) {
            poller.add(port.pollable(), Pollable.IN);
            long got = 0;
            while (!stop.get() && (count == 0 || got < count)) {
                int did = 0;
                long bytes = 0;
                long missing = 0;
                long older = 0;
                long foreign = 0;
                for (int r = 0; r < nrings; r++) {
                    Ring ring = rings[r];
                    int h = ring.head();
                    int n = ring.space();
                    if (count != 0) {
                        n = (int) Math.min(n, count - got - did);
                    }
                    MemorySegment m = ring.memory();
                    long e = expect[r];
                    for (int k = 0; k < n; k++) {
                        int len = ring.len(h);
                        bytes += len;
                        if (seq) {
                            long off = ring.bufOffset(h);
                            long s = Frame.isOurs(m, off, len) ? Frame.readSeq(m, off) : -1;
                            if (s < 0) {
                                foreign++;
                            } else if (s == e) {
                                e++;
                            } else if (s > e) {
                                missing += s - e;
                                e = s + 1;
                            } else {
                                older++;
                            }
                        }
                        h = ring.nextSlot(h);
                    }
                    expect[r] = e;
                    ring.advanceTo(h);
                    did += n;
                }
                if (did > 0) {
                    got += did;
                    c.batch(did, bytes, System.nanoTime());
                    if (seq) {
                        c.seqErrors(missing, older);
                        c.other(foreign);
                    }
                    port.rxSync(); // gives the slots back and brings more
                } else if (poller.poll(idleWait) > 0 && (poller.readyEvents(0) & Pollable.ERR) != 0) {
                    port.rxSync(); // throws what broke the port (its peer died, or broke the rules)
                    throw new PortBrokenException("port " + port.name() + " reports an error");
                }
            }
            port.rxSync();
        }
    }
}
