package io.jnetmap.core;

/**
 * Binary layout of a slot ({@code struct netmap_slot}), 16 bytes, in a ring's slot array.
 *
 * <pre>
 *   0 BUF_IDX u32   index of the buffer in the region's pool
 *   4 LEN u16       bytes of packet data in the buffer
 *   6 FLAGS u16     NS_* flags ({@link Slot})
 *   8 PTR u64       user pointer or offset (NS_INDIRECT), opaque to most backends
 * </pre>
 *
 * The first 8 bytes read as one word are decoded by {@link SlotWord}.
 */
public final class SlotLayout {
    public static final long BUF_IDX_OFFSET = 0;
    public static final long LEN_OFFSET = 4;
    public static final long FLAGS_OFFSET = 6;
    public static final long PTR_OFFSET = 8;
    public static final int SIZE = 16;
    private static final int SHIFT = 4;

    static {
        if (1 << SHIFT != SIZE) {
            throw new ExceptionInInitializerError("SlotLayout.SHIFT must match SIZE");
        }
    }

    private SlotLayout() {
    }

    /**
     * Offset of slot {@code i} in a slot array starting at offset {@code slots} (a ring's
     * {@code base + RingLayout.SLOTS_OFFSET}); {@code i} is not checked.
     */
    public static long offset(long slots, int i) {
        return slots + ((long) i << SHIFT);
    }
}
