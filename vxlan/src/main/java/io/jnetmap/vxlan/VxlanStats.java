package io.jnetmap.vxlan;

/**
 * Counters of one VXLAN port. {@code badHeader} and {@code unknownVni} belong to the UDP socket the
 * port shares with the other VNIs on the same local address and port (a bad datagram has no VNI to
 * charge), so every port of that socket reports the same values.
 *
 * @param encapsulated datagrams sent (a flooded frame counts once per remote)
 * @param decapsulated frames received for this VNI and put on the port's RX ring
 * @param badHeader    datagrams dropped for their VXLAN header or length: shorter than 8 bytes, flags
 *                     other than I, reserved bits set, inner frame shorter than an Ethernet header,
 *                     truncated by the receive buffer
 * @param unknownVni   datagrams for a VNI no port of the socket serves
 * @param noRemote     frames dropped for want of a destination (unknown MAC and an empty flood list)
 * @param tooBig       frames dropped because their datagram would exceed the underlay MTU (or the
 *                     port's buffers on receive)
 * @param rxDropped    frames dropped because the port's RX ring was full
 * @param txErrors     datagrams the kernel refused (no route, no buffer space)
 */
public record VxlanStats(long encapsulated, long decapsulated, long badHeader, long unknownVni, long noRemote,
                         long tooBig, long rxDropped, long txErrors) {
}
