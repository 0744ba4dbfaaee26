package io.jnetmap.core;

/**
 * A slot of a ring holds a buffer index outside the region's pool: the ring's shared memory was
 * overwritten (by a peer process, or by a bug writing through {@link Ring#memory()}). Thrown instead
 * of touching memory outside the pool; the message names the ring, the slot and the value.
 */
public final class SlotCorruptedException extends PortBrokenException {
    private static final long serialVersionUID = 1L;

    public SlotCorruptedException(String message) {
        super(message);
    }
}
