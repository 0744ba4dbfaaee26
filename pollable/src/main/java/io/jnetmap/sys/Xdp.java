package io.jnetmap.sys;

/**
 * AF_XDP constants and structure layouts ({@code linux/if_xdp.h}), as measured on Linux 6.18. The
 * ring offsets inside the mmapped areas are never hard-coded: read them with
 * {@link #XDP_MMAP_OFFSETS}.
 *
 * <pre>
 *   struct sockaddr_xdp (16)   family u16@0, flags u16@2, ifindex u32@4, queue_id u32@8, shared_umem_fd u32@12
 *   struct xdp_umem_reg (32)   addr u64@0, len u64@8, chunk_size u32@16, headroom u32@20, flags u32@24,
 *                              tx_metadata_len u32@28 (must be 0)
 *   struct xdp_mmap_offsets    rx@0, tx@32, fr@64, cr@96, each {producer, consumer, desc, flags} u64
 *   struct xdp_desc (16)       addr u64@0, len u32@8, options u32@12
 *   struct xdp_statistics (48) rx_dropped, rx_invalid_descs, tx_invalid_descs, rx_ring_full,
 *                              rx_fill_ring_empty_descs, tx_ring_empty_descs (u64 each)
 * </pre>
 */
public final class Xdp {
    public static final int SOL_XDP = 283;

    // setsockopt / getsockopt names
    public static final int XDP_MMAP_OFFSETS = 1;
    public static final int XDP_RX_RING = 2;
    public static final int XDP_TX_RING = 3;
    public static final int XDP_UMEM_REG = 4;
    public static final int XDP_UMEM_FILL_RING = 5;
    public static final int XDP_UMEM_COMPLETION_RING = 6;
    public static final int XDP_STATISTICS = 7;
    public static final int XDP_OPTIONS = 8;
    /** Descriptors one TX kick may send in copy mode (Linux >= 6.17; older kernels: ENOPROTOOPT). */
    public static final int XDP_MAX_TX_SKB_BUDGET = 9;

    // bind flags
    public static final int XDP_SHARED_UMEM = 1;
    public static final int XDP_COPY = 1 << 1;
    public static final int XDP_ZEROCOPY = 1 << 2;
    public static final int XDP_USE_NEED_WAKEUP = 1 << 3;

    /** xdp_umem_reg.flags: fill addresses need not be chunk aligned. */
    public static final int XDP_UMEM_UNALIGNED_CHUNK_FLAG = 1;
    /** Ring flags word: the kernel needs a system call to make progress on this ring. */
    public static final int XDP_RING_NEED_WAKEUP = 1;
    /** XDP_OPTIONS bit: the socket runs in zero-copy mode. */
    public static final int XDP_OPTIONS_ZEROCOPY = 1;

    // mmap page offsets of the four rings
    public static final long XDP_PGOFF_RX_RING = 0;
    public static final long XDP_PGOFF_TX_RING = 0x80000000L;
    public static final long XDP_UMEM_PGOFF_FILL_RING = 0x100000000L;
    public static final long XDP_UMEM_PGOFF_COMPLETION_RING = 0x180000000L;

    /** Headroom the kernel keeps in front of every received frame. */
    public static final int XDP_PACKET_HEADROOM = 256;
    /** Unaligned-chunk addresses carry the data offset in their top 16 bits. */
    public static final int XSK_UNALIGNED_BUF_OFFSET_SHIFT = 48;
    public static final long XSK_UNALIGNED_BUF_ADDR_MASK = (1L << XSK_UNALIGNED_BUF_OFFSET_SHIFT) - 1;

    public static final int SOCKADDR_XDP_SIZE = 16;
    public static final int UMEM_REG_SIZE = 32;
    public static final int MMAP_OFFSETS_SIZE = 128;
    public static final int RING_OFFSET_SIZE = 32;
    public static final int DESC_SIZE = 16;
    public static final int ADDR_SIZE = 8;
    public static final int STATISTICS_SIZE = 48;

    private Xdp() {
    }
}
