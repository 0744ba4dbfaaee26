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

    /** Sequence errors and foreign frames of the current batch ({@link #checkSeq}). */
    private long missing;
    private long older;
    private long foreign;

    /**
     * The default receive, as netmap's pkt-gen: the bytes of {@code n} slots from {@code h}, one length
     * read per packet. (A method of its own, as {@link #checkSeq}: a hot loop inside the long-running
     * {@link #run} would only ever be compiled on-stack, a method called per batch is compiled whole.)
     */
    private static long bytes(Ring ring, int h, int n) {
        long bytes = 0;
        for (int k = 0; k < n; k++) {
            bytes += ring.len(h);
            h = ring.nextSlot(h);
        }
        return bytes;
    }

    /** rxseq: checks the sequence numbers of {@code n} slots from {@code h}, expecting {@code e}; returns the next expected. */
    private long checkSeq(Ring ring, int h, int n, long e) {
        MemorySegment m = ring.memory();
        for (int k = 0; k < n; k++) {
            long off = ring.bufOffset(h);
            int len = ring.len(h);
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
            h = ring.nextSlot(h);
        }
        return e;
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
                missing = 0;
                older = 0;
                foreign = 0;
                for (int r = 0; r < nrings; r++) {
                    Ring ring = rings[r];
                    int h = ring.head();
                    int n = ring.space();
                    if (count != 0) {
                        n = (int) Math.min(n, count - got - did);
                    }
                    if (seq) {
                        expect[r] = checkSeq(ring, h, n, expect[r]);
                    }
                    bytes += bytes(ring, h, n);
                    h = ring.slotAfter(h, n);
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
