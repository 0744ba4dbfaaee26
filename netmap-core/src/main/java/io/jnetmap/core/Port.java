package io.jnetmap.core;

import io.jnetmap.poll.Pollable;

/**
 * An open port: NIC, host stack, switch port, pipe end or monitor, all with the same API. Rings and
 * buffers live in {@link #region()}; the port's descriptor is {@link #netmapIf()}. Obtain one with
 * {@link Netmap#open(String)}.
 *
 * <p>Ring indices here count the rings this open bound ({@code netmap:eth0-2} binds one pair, so
 * {@code txRing(0)} is hardware ring 2; see {@link Ring#ringId()}). One thread per ring, as in netmap.
 */
public interface Port extends AutoCloseable {
    /** The name as given to {@link Netmap#open(String)}. */
    String name();

    PortName portName();

    /**
     * What moves the packets, always visible so nobody is fooled by a silent fallback: {@code "pipe"},
     * {@code "vale"}, {@code "af_xdp/copy"}, {@code "af_packet/tpacket_v3"}, {@code "tap"} …
     */
    String backend();

    /** The memory region of rings and buffers. Two ports can swap buffers iff their regions are the same object. */
    Region region();

    /** This port's interface descriptor in {@link #region()}. */
    NetmapIf netmapIf();

    /** Number of TX rings bound by this open. */
    int txRings();

    /** Number of RX rings bound by this open. */
    int rxRings();

    Ring txRing(int i);

    Ring rxRing(int i);

    /** txsync of every bound TX ring (netmap's NIOCTXSYNC). */
    void txSync();

    /** rxsync of every bound RX ring (netmap's NIOCRXSYNC). */
    void rxSync();

    /** This port's readiness, backed by a real descriptor, for a {@code Poller} or any epoll loop. */
    Pollable pollable();

    /** True if buffers can move between this port and {@code other} by index swap (same region). */
    default boolean sharesMemoryWith(Port other) {
        return region() == other.region();
    }

    boolean isClosed();

    /** Idempotent. Returns the port's buffers (ring slots and the extra-buffer list) to the region. */
    @Override
    void close();
}
