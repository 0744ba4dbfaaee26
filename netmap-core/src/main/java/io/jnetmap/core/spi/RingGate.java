package io.jnetmap.core.spi;

/**
 * What a ring's packets must pass through before they continue: a zero-copy monitor ({@code /z}).
 * Attached with {@link Kring#setGate}; while it is, every sync of the ring is {@link #sync(Kring)}
 * instead of {@link Kring#plainSync()}. The gate runs the sync itself from Kring's {@code gate*}
 * pieces (prologue, taps, backend, epilogue), under a lock of its own, because the gate's other side
 * (the monitor's user) moves the same slots from another thread: the backend sees only the slots the
 * gate let through, and the user's {@code tail} covers only what the gate gave back.
 */
public interface RingGate {
    /** The sync of {@code k} (whose port is open), on the ring's own thread. */
    void sync(Kring k);

    /**
     * {@code k}'s port is closing (called at the start of its close, before anything is freed): the gate
     * must not touch {@code k}, its backend or its wake-up descriptor once this returns.
     */
    void portClosing(Kring k);
}
