package io.jnetmap.vale;

import java.lang.foreign.MemorySegment;

/**
 * A switch's forwarding decision (mSwitch's lookup module): the packet and its source port in, a
 * destination out. One module instance serves one switch; it is called concurrently by every thread
 * that forwards through the switch (each port's sender, each attached port's polling thread), so its
 * state must tolerate concurrent readers and writers.
 *
 * <p>{@link #lookup} returns a port index ({@code 0 .. }{@link ValeSwitch#MAX_PORTS}{@code -1}), {@link #BROADCAST}
 * (every port but the source), {@link #NO_PORT} (drop), or one of the drop codes {@link #DROP_TTL},
 * {@link #DROP_NO_ROUTE}, {@link #DROP_NOT_IP} (drop, counted under that cause). The switch never sends
 * a packet back to its source port, whatever the module says.
 *
 * <p>A module that changes packets (a router rewriting MAC addresses and TTL) does so in
 * {@link #rewrite}, which the switch calls on the destination's copy of the packet: the sender's
 * buffer is never modified (a sender may keep a template in it, as pkt-gen does).
 *
 * <p>The shipped modules ({@code io.jnetmap.vale.lookup}: the learning bridge, an IPv4 router, a
 * flow cache) use nothing but this interface and {@link Packet}, as any other module can.
 *
 * <p>Modules whose decisions may be cached by a flow cache ({@code io.jnetmap.vale.lookup.FlowCache}) must decide from the fields the
 * cache keys on (source port, Ethernet addresses and type, IPv4 addresses, protocol, ports, and
 * whether the TTL is at most 1) and their own state, and must bump {@link #version()} whenever that
 * state changes a decision.
 */
public interface LookupModule {
    /** Destination: every port of the switch except the source (netmap's NM_BDG_BROADCAST). */
    int BROADCAST = 254;
    /** Destination: none; the packet is dropped and counted as a lookup drop (netmap's NM_BDG_NOPORT). */
    int NO_PORT = 255;
    /** Drop: the IPv4 TTL would reach 0. */
    int DROP_TTL = 256;
    /** Drop: no route to the destination address. */
    int DROP_NO_ROUTE = 257;
    /** Drop: not an IPv4 packet, or its header is malformed. */
    int DROP_NOT_IP = 258;

    /**
     * Where {@code p} goes. Called once per packet (on its first slot, which holds the headers); may
     * store a value for {@link #rewrite} with {@link Packet#setCookie(int)}.
     */
    int lookup(Packet p);

    /**
     * The switch called {@link #lookup} {@code n} times for the batch it just looked up (by this same
     * thread): for a module that counts lookups per batch rather than per packet (the flow cache's hits).
     */
    default void batchLookups(int n) {
    }

    /** Whether {@link #rewrite} must be called for every delivered packet. */
    default boolean rewrites() {
        return false;
    }

    /**
     * Changes the copy of the packet delivered to destination port {@code dstPort}: the first slot's
     * {@code len} bytes at {@code dstOffset} in {@code dst}. The sender's packet, as the lookup saw it,
     * is at {@code srcOffset} in {@code src}: read headers there (the copy's bytes were just written,
     * and reading them back can stall). When the buffer moved instead of being copied, both name the
     * same bytes. {@code cookie} is what {@link #lookup} set.
     */
    default void rewrite(MemorySegment src, long srcOffset, MemorySegment dst, long dstOffset, int len, int dstPort,
                         int cookie) {
    }

    /** Changes whenever the module's state changes a decision (for a flow cache); 0 if it never does. */
    default long version() {
        return 0;
    }

    /** Port {@code port} joined the switch as {@code name}. Called under the switch's configuration lock. */
    default void portAttached(int port, String name) {
    }

    /** Port {@code port} left the switch; forget what refers to it. Called under the configuration lock. */
    default void portDetached(int port) {
    }

    /** A short name for listings ({@code vale-ctl}). */
    default String name() {
        return getClass().getSimpleName();
    }
}
