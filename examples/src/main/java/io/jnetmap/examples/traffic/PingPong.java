package io.jnetmap.examples.traffic;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import org.HdrHistogram.Histogram;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * pkt-gen's {@code ping} and {@code pong}. Ping sends one numbered, timestamped frame on TX ring 0,
 * waits for it to come back on any RX ring, and records the round-trip time in a histogram
 * (a reply missing for a second counts as lost). Pong sends every frame it receives back with source
 * and destination swapped, moving the buffer when the rings share memory and copying otherwise.
 * Neither allocates per packet.
 */
public final class PingPong {
    private static final long REPLY_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);

    private PingPong() {
    }

    /** Sends {@code count} pings (0 = until stopped); round-trip times go to {@code rtt} (ns). */
    public static void ping(Port port, Frame frame, WaitStrategy wait, long count, Counters c, Histogram rtt, AtomicBoolean stop) {
        check(port);
        Ring t = port.txRing(0);
        int nrx = port.rxRings();
        int len = frame.length();
        try (Poller out = new Poller(wait); Poller in = new Poller(wait)) {
            out.add(port.pollable(), Pollable.OUT);
            in.add(port.pollable(), Pollable.IN);
            for (long seq = 0; !stop.get() && (count == 0 || seq < count); seq++) {
                while (t.space() == 0 && !stop.get()) {
                    out.poll(REPLY_TIMEOUT_NS);
                }
                int i = t.head();
                MemorySegment m = t.memory();
                long off = t.bufOffset(i);
                frame.writeTo(m, off);
                Frame.writeSeq(m, off, seq);
                long sent = System.nanoTime();
                Frame.writeTimestamp(m, off, sent);
                t.setSlot(i, len, 0);
                t.advanceTo(t.nextSlot(i));
                t.sync();
                boolean answered = false;
                while (!answered && !stop.get() && System.nanoTime() - sent < REPLY_TIMEOUT_NS) {
                    if (in.poll(REPLY_TIMEOUT_NS) == 0) {
                        continue;
                    }
                    for (int r = 0; r < nrx; r++) {
                        Ring rx = port.rxRing(r);
                        int h = rx.head();
                        while (h != rx.tail()) {
                            long roff = rx.bufOffset(h);
                            if (Frame.readSeq(rx.memory(), roff) == seq) {
                                long ns = System.nanoTime() - Frame.readTimestamp(rx.memory(), roff);
                                rtt.recordValue(Math.max(0, Math.min(ns, rtt.getHighestTrackableValue())));
                                c.rtt(ns);
                                c.batch(1, len, System.nanoTime());
                                answered = true;
                            }
                            h = rx.nextSlot(h);
                        }
                        rx.advanceTo(h);
                    }
                }
                if (!answered) {
                    c.seqErrors(1, 0);
                }
            }
            port.rxSync();
        }
    }

    /** Answers every frame until stopped or {@code count} answered (0 = no limit). */
    public static void pong(Port port, WaitStrategy wait, long count, Counters c, AtomicBoolean stop) {
        check(port);
        Ring t = port.txRing(0);
        int nrx = port.rxRings();
        boolean zeroCopy = port.rxRing(0).region() == t.region();
        long idleWait = TimeUnit.MILLISECONDS.toNanos(100);
        try (Poller in = new Poller(wait); Poller out = new Poller(wait)) {
            in.add(port.pollable(), Pollable.IN);
            out.add(port.pollable(), Pollable.OUT);
            long done = 0;
            while (!stop.get() && (count == 0 || done < count)) {
                int did = 0;
                long bytes = 0;
                for (int r = 0; r < nrx; r++) {
                    Ring rx = port.rxRing(r);
                    int h = rx.head();
                    int n = Math.min(rx.space(), t.space());
                    int j = t.head();
                    for (int k = 0; k < n; k++) {
                        int len = rx.len(h);
                        if (zeroCopy) {
                            Ring.swap(rx, h, t, j);
                        } else {
                            MemorySegment.copy(rx.memory(), rx.bufOffset(h), t.memory(), t.bufOffset(j), len);
                        }
                        Frame.swapAddresses(t.memory(), t.bufOffset(j));
                        t.setSlot(j, len, t.flags(j) & Slot.NS_BUF_CHANGED);
                        bytes += len;
                        h = rx.nextSlot(h);
                        j = t.nextSlot(j);
                    }
                    rx.advanceTo(h);
                    t.advanceTo(j);
                    did += n;
                }
                if (did > 0) {
                    t.sync();
                    port.rxSync();
                    done += did;
                    c.batch(did, bytes, System.nanoTime());
                } else if (t.space() == 0) {
                    out.poll(idleWait);
                } else {
                    in.poll(idleWait);
                }
            }
        }
    }

    private static void check(Port port) {
        if (port.txRings() == 0 || port.rxRings() == 0) {
            throw new IllegalArgumentException("port " + port.name() + " binds " + port.txRings() + " TX and " + port.rxRings()
                    + " RX rings (expected: both, to send and receive)");
        }
    }
}
