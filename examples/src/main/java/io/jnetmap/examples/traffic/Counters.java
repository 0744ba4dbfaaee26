package io.jnetmap.examples.traffic;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a traffic loop has done, written by the loop's thread once per batch (release stores) and read
 * by a reporter on another thread (acquire loads). Nothing here allocates.
 */
public final class Counters {
    private final AtomicLong packets = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong reordered = new AtomicLong();
    private final AtomicLong other = new AtomicLong();
    private final AtomicLong rttSum = new AtomicLong();
    private final AtomicLong rtts = new AtomicLong();
    private final AtomicLong first = new AtomicLong();
    private final AtomicLong last = new AtomicLong();

    /** A batch of {@code n} packets and {@code b} bytes handled at {@code now} (System.nanoTime). */
    public void batch(int n, long b, long now) {
        if (first.get() == 0) {
            first.lazySet(now);
        }
        last.lazySet(now);
        packets.lazySet(packets.get() + n);
        bytes.lazySet(bytes.get() + b);
        batches.lazySet(batches.get() + 1);
    }

    /** Sequence errors found in a batch: packets missing, packets older than expected. */
    public void seqErrors(long missing, long older) {
        if (missing != 0) {
            lost.lazySet(lost.get() + missing);
        }
        if (older != 0) {
            reordered.lazySet(reordered.get() + older);
        }
    }

    /** Frames in a batch that are not pkt-gen's (a link's IPv6 neighbour discovery ...): not sequence-checked. */
    public void other(long n) {
        if (n != 0) {
            other.lazySet(other.get() + n);
        }
    }

    public void rtt(long ns) {
        rttSum.lazySet(rttSum.get() + ns);
        rtts.lazySet(rtts.get() + 1);
    }

    public long packets() {
        return packets.get();
    }

    public long bytes() {
        return bytes.get();
    }

    public long batches() {
        return batches.get();
    }

    public long lost() {
        return lost.get();
    }

    public long reordered() {
        return reordered.get();
    }

    /** Frames received that were not pkt-gen's ({@link Frame#isOurs}). */
    public long other() {
        return other.get();
    }

    public long rttSum() {
        return rttSum.get();
    }

    public long rtts() {
        return rtts.get();
    }

    /** System.nanoTime of the first batch (0 = none yet). */
    public long firstNs() {
        return first.get();
    }

    /** System.nanoTime of the last batch. */
    public long lastNs() {
        return last.get();
    }
}
