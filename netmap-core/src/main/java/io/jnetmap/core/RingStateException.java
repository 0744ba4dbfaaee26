package io.jnetmap.core;

/**
 * A sync found {@code head} or {@code cur} outside the range netmap allows (the user broke the ring
 * protocol). As in netmap's {@code nm_txsync_prologue}, nothing reached the backend: the ring was reset
 * to the backend's state ({@code head = cur =} the last accepted head, {@code tail =} the backend's
 * tail) before this was thrown, so the port stays usable.
 */
public final class RingStateException extends NetmapException {
    private static final long serialVersionUID = 1L;

    public RingStateException(String message) {
        super(message);
    }
}
