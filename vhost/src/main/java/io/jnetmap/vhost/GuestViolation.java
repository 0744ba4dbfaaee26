package io.jnetmap.vhost;

/**
 * The guest wrote something into its rings that the virtio rules forbid (a descriptor index out of
 * range, a chain loop, a buffer outside the memory table, an avail index that jumps too far): the
 * port cuts the guest off and counts it. Internal: never leaves the port.
 */
final class GuestViolation extends RuntimeException {
    GuestViolation(String message) {
        super(message, null, false, false);
    }
}
