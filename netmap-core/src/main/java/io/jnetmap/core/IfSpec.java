package io.jnetmap.core;

/**
 * What a port asks of its region when it opens: rings, slots and extra buffers.
 *
 * @param name        port name stored in the descriptor (at most 63 bytes)
 * @param kind        port-kind tag stored in the descriptor (defined by the port module; 0 = none)
 * @param txRings     NIC (or virtual) tx rings
 * @param rxRings     NIC (or virtual) rx rings
 * @param hostTxRings host-stack tx rings
 * @param hostRxRings host-stack rx rings
 * @param txSlots     slots per tx ring
 * @param rxSlots     slots per rx ring
 * @param extraBufs   extra buffers linked from {@code BUFS_HEAD}
 */
public record IfSpec(String name, int kind, int txRings, int rxRings, int hostTxRings, int hostRxRings,
                     int txSlots, int rxSlots, int extraBufs) {
    public IfSpec {
        check("tx-rings", txRings, 0, NetmapIfLayout.MAX_RINGS);
        check("rx-rings", rxRings, 0, NetmapIfLayout.MAX_RINGS);
        check("host-tx-rings", hostTxRings, 0, NetmapIfLayout.MAX_RINGS);
        check("host-rx-rings", hostRxRings, 0, NetmapIfLayout.MAX_RINGS);
        check("tx-slots", txSlots, 2, Geometry.MAX_SLOTS);
        check("rx-slots", rxSlots, 2, Geometry.MAX_SLOTS);
        check("extra-bufs", extraBufs, 0, Integer.MAX_VALUE);
    }

    private static void check(String name, int v, int min, int max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(name + "=" + v + " (expected: " + min + ".." + max + ")");
        }
    }

    /** A port with {@code rings} tx and rx rings of {@code slots} slots, no host rings. */
    public static IfSpec of(String name, int rings, int slots) {
        return new IfSpec(name, 0, rings, rings, 0, 0, slots, slots, 0);
    }

    public int totalRings() {
        return txRings + rxRings + hostTxRings + hostRxRings;
    }

    /** Buffers the rings and extra list take. */
    public long buffers() {
        return (long) (txRings + hostTxRings) * txSlots + (long) (rxRings + hostRxRings) * rxSlots + extraBufs;
    }
}
