package io.jnetmap.core.nic;

/**
 * Counters of a {@link NicPort}, summed over its queues since it opened.
 *
 * @param rxPackets packets delivered into RX rings
 * @param txPackets packets handed to the kernel for transmission
 * @param rxDrops   packets the kernel dropped before they reached an RX ring: AF_XDP {@code rx_dropped +
 *                  rx_ring_full} (copy mode counts a frame that found the fill ring empty in
 *                  {@code rx_dropped}), AF_PACKET {@code tp_drops}, TAP frames too large for a buffer
 * @param txDrops   packets the kernel refused (ENOBUFS, EMSGSIZE, a link that is down …)
 * @param badSlots  slots with an invalid buffer index (skipped on TX, given a fresh buffer on RX),
 *                  frames truncated to the buffer size, descriptors the kernel returned that were not ours
 * @param csumCompleted L4 checksums a local stack left partial, completed in software (RX of ports
 *                  without {@code @vnet}, AF_XDP RX, AF_XDP TX of NEEDS_CSUM headers)
 * @param segmented GSO super-frames cut into MTU frames in software (AF_PACKET RX of ports without
 *                  {@code @vnet}, AF_XDP TX of {@code @vnet} ports)
 */
public record NicStats(long rxPackets, long txPackets, long rxDrops, long txDrops, long badSlots,
                       long csumCompleted, long segmented) {

    /** Accumulates the counters of several queues. */
    static final class Builder {
        long rxPackets;
        long txPackets;
        long rxDrops;
        long txDrops;
        long badSlots;
        long csumCompleted;
        long segmented;

        NicStats build() {
            return new NicStats(rxPackets, txPackets, rxDrops, txDrops, badSlots, csumCompleted, segmented);
        }
    }
}
