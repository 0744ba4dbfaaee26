package io.jnetmap.pipe;

import io.jnetmap.core.PortBrokenException;

/**
 * The other end of a pipe wrote something into shared memory that breaks the ring protocol (a buffer
 * index outside the pool, a length beyond the buffer, a tail outside the backend's slots). The end that
 * found it stops touching the peer's rings for good ("cut off"), counts the fault
 * ({@link PipePort#peerFaults()}), and every later sync of it throws this again; its pollable reports
 * {@link io.jnetmap.poll.Pollable#ERR}. Nothing was written outside the region.
 */
public final class PipeBrokenException extends PortBrokenException {
    private static final long serialVersionUID = 1L;

    public PipeBrokenException(String message) {
        super(message);
    }
}
