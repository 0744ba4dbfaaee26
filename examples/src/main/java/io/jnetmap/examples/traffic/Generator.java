package io.jnetmap.examples.traffic;

import io.jnetmap.core.Port;
import io.jnetmap.core.PortBrokenException;
import io.jnetmap.core.Ring;
import io.jnetmap.core.RingLayout;
import io.jnetmap.core.Slot;
import io.jnetmap.core.SlotLayout;
import io.jnetmap.core.SlotWord;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * pkt-gen's {@code tx} and {@code txseq}: fills the TX rings of a port with the test frame in bursts,
 * one sync per burst and ring, waiting in a {@link Poller} when the rings are full. By default a
 * buffer is written once and then only the slot's length is set, as netmap's pkt-gen does ({@link
 * #fill}); txseq also numbers every packet (one sequence per ring), {@code copy} writes every packet
 * whole. Allocates nothing per packet.
 */
public final class Generator {
    private final Port port;
    private final Frame frame;
    private final int burst;
    private final boolean seq;
    private final boolean copy;
    private final WaitStrategy wait;
    private final int len;
    /** One bit per buffer of the port's region: the frame was written into that buffer ({@link #fill}). */
    private final long[] written;
    private final int numBufs;
    private final long pool;
    private final long bufSize;
    /**
     * The NS_BUF_CHANGED bits of a slot word for a port whose TX slots may come back with a buffer
     * that carried other data (a NIC's or switch's pool: rewritten then, as netmap's pkt-gen does); 0
     * on a pipe, whose every trip sets the flag on the same few buffers ({@link #fill}).
     */
    private final long changedBit;

    /** A generator that writes each buffer once (no {@code copy}): see {@link #Generator(Port, Frame, int, boolean, boolean, WaitStrategy)}. */
    public Generator(Port port, Frame frame, int burst, boolean seq, WaitStrategy wait) {
        this(port, frame, burst, seq, false, wait);
    }

    /**
     * A generator of {@code frame} on every TX ring of {@code port}, {@code burst} packets per sync;
     * {@code seq}: number every packet (txseq); {@code copy}: write the whole frame into every buffer
     * before it is sent, not only into buffers never written (for a receiver that writes into the
     * buffers it releases).
     */
    public Generator(Port port, Frame frame, int burst, boolean seq, boolean copy, WaitStrategy wait) {
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
        this.copy = copy;
        this.wait = wait;
        this.len = frame.length();
        this.numBufs = port.txRing(0).region().numBufs();
        this.written = new long[(numBufs + 63) >>> 6];
        this.pool = port.txRing(0).region().bufOffset(0);
        this.bufSize = port.txRing(0).bufSize();
        this.changedBit = port.backend().equals("pipe") ? 0 : SlotWord.flagBits(Slot.NS_BUF_CHANGED);
    }

    /**
     * The default fill, as netmap's pkt-gen: per packet one load and one store of the slot word (its
     * {@code len} set, its flags cleared), and the frame written only into a buffer this generator
     * never wrote (a bit per buffer index) or one flagged {@link Slot#NS_BUF_CHANGED} on a port that
     * is not a pipe. On a pipe a buffer that comes back holds the frame still: the pipe swaps
     * buffers between the two ends at every trip (and flags every one), but they are the same few
     * buffers, which the receiver only reads (in netmap the two ends of a pipe share their buffers
     * and pkt-gen writes each once); a receiver that writes into them, or passes them on by zero-copy
     * swaps, needs {@code copy}. A bad {@code bufIdx} throws ({@link Ring#bufOffset}).
     */
    private void fill(Ring t, int head, int n) {
        MemorySegment m = t.memory();
        long slots = t.offset() + RingLayout.SLOTS_OFFSET;
        long[] w = written;
        int i = head;
        for (int k = 0; k < n; k++) {
            long so = SlotLayout.offset(slots, i);
            long word = m.get(JAVA_LONG_UNALIGNED, so);
            int b = SlotWord.bufIdx(word);
            if (Integer.compareUnsigned(b, numBufs) >= 0 || (w[b >>> 6] & (1L << b)) == 0 || (word & changedBit) != 0) {
                frame.writeTo(m, bufOffset(t, i, b));
                w[b >>> 6] |= 1L << b;
            }
            m.set(JAVA_LONG_UNALIGNED, so, SlotWord.of(b, len, 0));
            i = t.nextSlot(i);
        }
    }

    /** The offset of buffer {@code b}, read from slot {@code i} of {@code t}: throws if it is outside the pool. */
    private long bufOffset(Ring t, int i, int b) {
        if (Integer.compareUnsigned(b, numBufs) >= 0) {
            t.bufOffset(i); // throws SlotCorruptedException, which says what the slot holds
            throw new IllegalStateException("slot " + i + " of " + t + " changed under the generator");
        }
        return pool + (long) b * bufSize;
    }

    /**
     * The fill with per-packet work: {@code copy} writes the whole frame into every buffer, {@code seq}
     * numbers every packet (from {@code s}, returned advanced) and writes the whole frame into every
     * buffer flagged {@link Slot#NS_BUF_CHANGED} on any port (a pipe's too: a numbered stream is
     * checked frame by frame, so it does not rely on what a receiver left in a buffer).
     */
    private long fillWriting(Ring t, int head, int n, long s) {
        MemorySegment m = t.memory();
        long[] w = written;
        int i = head;
        for (int k = 0; k < n; k++) {
            int b = t.bufIdx(i);
            long off = bufOffset(t, i, b);
            if (copy || (w[b >>> 6] & (1L << b)) == 0 || (t.flags(i) & Slot.NS_BUF_CHANGED) != 0) {
                frame.writeTo(m, off);
                w[b >>> 6] |= 1L << b;
            }
            if (seq) {
                Frame.writeSeq(m, off, s++);
            }
            t.setSlot(i, len, 0);
            i = t.nextSlot(i);
        }
        return s;
    }

    /** Sends {@code count} packets (0 = until stopped) at up to {@code ratePps} (0 = as fast as possible). */
    public void run(long count, long ratePps, Counters c, AtomicBoolean stop) {
        int nrings = port.txRings();
        Ring[] rings = new Ring[nrings];
        long[] seqs = new long[nrings];
        for (int r = 0; r < nrings; r++) {
            rings[r] = port.txRing(r);
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
                    int i = t.head();
                    long s = seqs[r];
                    if (copy || seq) {
                        s = fillWriting(t, i, n, s);
                    } else {
                        fill(t, i, n);
                    }
                    i = t.slotAfter(i, n);
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
