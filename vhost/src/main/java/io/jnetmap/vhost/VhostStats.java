package io.jnetmap.vhost;

/**
 * Counters of a {@link VhostPort}.
 *
 * @param connects           front-end connections accepted (or made)
 * @param disconnects        connections ended (front-end gone, protocol error, guest cut off)
 * @param violations         times the guest broke the virtio rules and was cut off
 * @param rxPackets          frames the guest transmitted, now on the port's RX ring
 * @param txPackets          frames delivered into the guest's receive buffers
 * @param txDropsNoGuest     frames sent while no guest was running (link down)
 * @param txDropsSmallBuffer frames dropped because a receive chain was too small (no mergeable buffers)
 * @param txBad              TX slots with an invalid buffer index or length
 * @param rxOversize         guest frames larger than the port's buffers, dropped
 * @param calls              interrupts sent to the guest (call eventfd writes)
 * @param features           virtio features the front-end acknowledged
 * @param mtu                MTU the front-end set (0: none)
 */
public record VhostStats(long connects, long disconnects, long violations, long rxPackets, long txPackets,
                         long txDropsNoGuest, long txDropsSmallBuffer, long txBad, long rxOversize, long calls,
                         long features, int mtu) {
}
