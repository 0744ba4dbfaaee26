package io.jnetmap.vhost;

import io.jnetmap.core.NetmapException;

/** The vhost-user front-end (QEMU) sent something the protocol does not allow; the connection is dropped. */
public final class VhostProtocolException extends NetmapException {
    public VhostProtocolException(String message) {
        super(message);
    }
}
