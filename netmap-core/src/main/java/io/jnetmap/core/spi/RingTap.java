package io.jnetmap.core.spi;

import io.jnetmap.core.Ring;

/**
 * Something that sees a ring's packets as they pass a sync, without taking part in it: a copy
 * monitor ({@code /r}, {@code /t}). Attached with {@link Kring#addTap}; called on the thread that
 * syncs the ring, so it must be quick and never wait for its own consumer (it drops instead).
 */
public interface RingTap {
    /**
     * Slots {@code [from, to)} of {@code ring} hold packets: on a TX ring as the user hands them over
     * (before the backend moves them), on an RX ring as the backend brings them (before the user sees
     * them). {@code extraFlags} are NS_* flags to mark copies with ({@code NS_TXMON} for TX).
     */
    void copy(Ring ring, int from, int to, int extraFlags);
}
