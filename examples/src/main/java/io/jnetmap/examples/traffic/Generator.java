package io.jnetmap.examples.traffic;

import io.jnetmap.core.Port;
import io.jnetmap.core.PortBrokenException;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * pkt-gen's {@code tx} and {@code txseq}: fills the TX rings of a port with the test frame in bursts,
 * one sync per burst and ring, waiting in a {@link Poller} when the rings are full. A slot's buffer is
 * written only when it changed ({@link Slot#NS_BUF_CHANGED}) or was never written, as netmap's pkt-gen
 * does; txseq also numbers every packet (one sequence per ring). Allocates nothing per packet.
 */
public final class Generator {
    private final Port port;
    private final Frame frame;
    private final int burst;
    private final boolean seq;
    private final WaitStrategy wait;

    public Generator(Port port, Frame frame, int burst, boolean seq, WaitStrategy wait) {
        if (port.txRings() == 0) {
            throw new IllegalArgumentException("port " + port.name() + " has no TX rings bound (expected: at least one to send on)");
        }
        if (frame.length() > port.txRing(0).bufSize()) {
            throw new IllegalArgumentException("len=" + frame.length() + " (expected: at most the buffer size, "
                    + port.txRing(0).bufSize() + ")");
        }
        this.port = port;
        this.frame = frame;
        this.burst = burst;
        this.seq = seq;
        this.wait = wait;
    }

    /** Sends {@code count} packets (0 = until stopped) at up to {@code ratePps} (0 = as fast as possible). */
    public void run(long count, long ratePps, Counters c, AtomicBoolean stop) {
        int nrings = port.txRings();
        Ring[] rings = new Ring[nrings];
        boolean[][] written = new boolean[nrings][];
        long[] seqs = new long[nrings];
        for (int r = 0; r < nrings; r++) {
            rings[r] = port.txRing(r);
            written[r] = new boolean[rings[r].numSlots()];
        }
        int len = frame.length();
        long idleWait = TimeUnit.MILLISECONDS.toNanos(100);
        try (Poller poller = new Poller(wait)) {
            poller.add(port.pollable(), Pollable.OUT);
            long start = System.nanoTime();
            long sent = 0;
            while (!stop.get() && (count == 0 || sent < count)) {
                long allowed = count == 0 ? Long.MAX_VALUE : count - sent;
                if (ratePps > 0) {
                    long due = (long) ((System.nanoTime() - start) * (ratePps / 1e9)) + 1 - sent;
                    if (due <= 0) {
                        pace(start, sent, ratePps);
                        continue;
                    }
                    allowed = Math.min(allowed, due);
                }
                int did = 0;
                for (int r = 0; r < nrings && did < allowed; r++) {
                    Ring t = rings[r];
                    int n = (int) Math.min(Math.min(burst, t.space()), allowed - did);
                    if (n <= 0) {
                        continue;
                    }
                    MemorySegment m = t.memory();
                    boolean[] w = written[r];
                    long s = seqs[r];
                    int i = t.head();
                    for (int k = 0; k < n; k++) {
                        long off = t.bufOffset(i);
                        if (!w[i] || (t.flags(i) & Slot.NS_BUF_CHANGED) != 0) {
                            frame.writeTo(m, off);
                            w[i] = true;
                        }
                        if (seq) {
                            Frame.writeSeq(m, off, s++);
                        }
                        t.setSlot(i, len, 0);
                        i = t.nextSlot(i);
                    }
                    seqs[r] = s;
                    t.advanceTo(i);
                    t.sync();
                    did += n;
                    c.batch(n, (long) n * len, System.nanoTime());
                }
                sent += did;
                if (did == 0 && poller.poll(idleWait) > 0 && (poller.readyEvents(0) & Pollable.ERR) != 0) {
                    // (the poll syncs the TX rings: slots the receiver released come back)
                    port.txSync(); // throws what broke the port (its peer died, or broke the rules)
                    throw new PortBrokenException("port " + port.name() + " reports an error");
                }
            }
            drain(rings, poller, stop);
        }
    }

    /**
     * As netmap's pkt-gen before it exits: waits until the TX rings have sent what was put in them (a
     * back-pressured port holds frames there while the receiver is slow, and closing the port would
     * drop them), for as long as the rings make progress (at most {@link #DRAIN_QUIET_NS} without any).
     */
    private void drain(Ring[] rings, Poller poller, AtomicBoolean stop) {
        long quietSince = System.nanoTime();
        long tails = -1;
        while (!stop.get()) {
            long t = 0;
            boolean pending = false;
            for (Ring r : rings) {
                pending |= r.txPending();
                t += r.tail();
            }
            if (!pending) {
                return;
            }
            long now = System.nanoTime();
            if (t != tails) {
                tails = t;
                quietSince = now;
            } else if (now - quietSince > DRAIN_QUIET_NS) {
                return;
            }
            if (poller.poll(TimeUnit.MILLISECONDS.toNanos(10)) > 0 && (poller.readyEvents(0) & Pollable.ERR) != 0) {
                port.txSync(); // throws what broke the port
                throw new PortBrokenException("port " + port.name() + " reports an error");
            }
            port.txSync();
            LockSupport.parkNanos(100_000); // the ring has room, so poll does not wait: do not spin
        }
    }

    /** How long {@link #drain} waits for TX rings that make no progress. */
    private static final long DRAIN_QUIET_NS = TimeUnit.SECONDS.toNanos(5);

    /** Waits until the next packet is due at {@code ratePps}. */
    private static void pace(long start, long sent, long ratePps) {
        long next = start + (long) ((sent + 1) * (1e9 / ratePps));
        long left = next - System.nanoTime();
        if (left > 100_000) {
            LockSupport.parkNanos(left - 50_000);
        } else {
            Thread.onSpinWait();
        }
    }
}
