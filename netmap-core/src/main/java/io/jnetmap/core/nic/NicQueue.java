package io.jnetmap.core.nic;

import io.jnetmap.core.spi.Kring;

/**
 * One kernel queue behind a ring pair of a {@link NicPort}: an AF_XDP socket, an AF_PACKET socket or a
 * TAP descriptor. {@code txsync}/{@code rxsync} follow {@link Kring}'s contract and are called only by
 * the thread that owns that ring; the TX and RX sides keep separate state, so two threads may run
 * them at the same time.
 */
interface NicQueue extends AutoCloseable {
    void txsync(Kring k);

    void rxsync(Kring k);

    /** The descriptor that becomes readable / writable with the queue (for poll). */
    int fd();

    /** Adds this queue's counters to {@code into} (reads kernel statistics: not for the hot path). */
    void addStats(NicStats.Builder into);

    /** Releases the queue: after this the kernel touches none of the region's buffers. Idempotent. */
    @Override
    void close();
}
