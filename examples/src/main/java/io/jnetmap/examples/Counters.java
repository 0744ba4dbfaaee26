package io.jnetmap.examples;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What a traffic loop has done, written by the loop's thread once per batch (release stores) and read
 * by a reporter on another thread (acquire loads). Nothing here allocates.
 */
final class Counters {
    private final AtomicLong packets = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong reordered = new AtomicLong();
    private final AtomicLong rttSum = new AtomicLong();
    private final AtomicLong rtts = new AtomicLong();
    private final AtomicLong first = new AtomicLong();
    private final AtomicLong last = new AtomicLong();

    /** A batch of {@code n} packets and {@code b} bytes handled at {@code now} (System.nanoTime). */
    void batch(int n, long b, long now) {
        if (first.get() == 0) {
            first.lazySet(now);
        }
        last.lazySet(now);
        packets.lazySet(packets.get() + n);
        bytes.lazySet(bytes.get() + b);
        batches.lazySet(batches.get() + 1);
    }

    /** Sequence errors found in a batch: packets missing, packets older than expected. */
    void seqErrors(long missing, long older) {
        if (missing != 0) {
            lost.lazySet(lost.get() + missing);
        }
        if (older != 0) {
            reordered.lazySet(reordered.get() + older);
        }
    }

    void rtt(long ns) {
        rttSum.lazySet(rttSum.get() + ns);
        rtts.lazySet(rtts.get() + 1);
    }

    long packets() {
        return packets.get();
    }

    long bytes() {
        return bytes.get();
    }

    long batches() {
        return batches.get();
    }

    long lost() {
        return lost.get();
    }

    long reordered() {
        return reordered.get();
    }

    long rttSum() {
        return rttSum.get();
    }

    long rtts() {
        return rtts.get();
    }

    /** System.nanoTime of the first batch (0 = none yet). */
    long firstNs() {
        return first.get();
    }

    /** System.nanoTime of the last batch. */
    long lastNs() {
        return last.get();
    }
}
