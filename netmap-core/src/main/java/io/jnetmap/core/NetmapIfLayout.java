package io.jnetmap.core;

/**
 * Binary layout of an interface descriptor ({@code struct netmap_if}): one per open port, in the
 * region's if pool. Read-only for the port's user except {@code BUFS_HEAD}.
 *
 * <pre>
 *    0 NAME[64]          port name, UTF-8, NUL padded              const
 *   64 VERSION u32       {@link RegionLayout#VERSION}               const
 *   68 FLAGS u32         {@link #NI_PRIV_MEM}                       const
 *   72 TX_RINGS u32      NIC (or virtual) tx rings                  const
 *   76 RX_RINGS u32                                                 const
 *   80 HOST_TX_RINGS u32                                            const
 *   84 HOST_RX_RINGS u32                                            const
 *   88 BUFS_HEAD u32     (u) first extra buffer, list linked by the first 4 bytes of each buffer, 0 ends
 *   92 OWNER_PID u32     process that opened the port               const
 *   96 KIND u32          port kind tag, defined by the port module  const
 *  100 STATE u32         port-kind defined (e.g. "peer attached")
 *  128 RING_OFS[n] i64   offset of each ring from this descriptor, in netmap's order:
 *                        tx rings, host tx rings, rx rings, host rx rings
 * </pre>
 */
public final class NetmapIfLayout {
    public static final long NAME_OFFSET = 0;
    public static final int NAME_LENGTH = 64;
    public static final long VERSION_OFFSET = 64;
    public static final long FLAGS_OFFSET = 68;
    public static final long TX_RINGS_OFFSET = 72;
    public static final long RX_RINGS_OFFSET = 76;
    public static final long HOST_TX_RINGS_OFFSET = 80;
    public static final long HOST_RX_RINGS_OFFSET = 84;
    public static final long BUFS_HEAD_OFFSET = 88;
    public static final long OWNER_PID_OFFSET = 92;
    public static final long KIND_OFFSET = 96;
    public static final long STATE_OFFSET = 100;
    public static final long RING_OFS_OFFSET = 128;

    /** The port has a private region (nobody else can exchange buffers with it). */
    public static final int NI_PRIV_MEM = 0x1;

    /** Size of one descriptor in the if pool. */
    public static final int IF_SIZE = 1024;
    /** Rings one descriptor can list. */
    public static final int MAX_RINGS = (int) ((IF_SIZE - RING_OFS_OFFSET) / 8);

    private NetmapIfLayout() {
    }

    /** Offset of the {@code i}-th entry of RING_OFS. */
    public static long ringOfsOffset(int i) {
        return RING_OFS_OFFSET + 8L * i;
    }
}
