package io.jnetmap.core;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Binary layout of a ring ({@code struct netmap_ring}) in the region's ring pool. (u) fields are
 * written only by the ring's user, (k) fields only by the port's backend. Words written by different
 * sides are at least 128 bytes apart, so the two never share a cache line (or an adjacent-line
 * prefetch pair).
 *
 * <pre>
 *     0 BUF_OFS i64      offset of the buffer pool from this ring (netmap's buf_ofs)  const
 *     8 NUM_SLOTS u32                                                               const
 *    12 BUF_SIZE u32                                                                const
 *    16 RING_ID u16      index of this ring among rings of its direction            const
 *    18 DIR u16          {@link #DIR_TX} or {@link #DIR_RX}                          const
 *    20 FLAGS u32        (u) {@link #NR_TIMESTAMP}, {@link #NR_FORWARD}
 *    24 IF_OFS i64       offset of the owning netmap_if from this ring               const
 *    64 USER_WAIT u32    (u) readiness the user sleeps on (Pollable IN/OUT), 0 = awake.
 *                      Read by producers at every publication, written only when the user
 *                      goes to sleep or wakes: it sits with the constants, away from HEAD/CUR,
 *                      so those checks never take the line the user writes every batch.
 *   128 HEAD u32         (u) first slot owned by the user
 *   132 CUR u32          (u) wake-up point: poll waits until tail moves past cur
 *   256 TAIL u32         (k) first slot owned by the backend
 *   264 TIMESTAMP i64    (k) CLOCK_MONOTONIC ns of the last sync when NR_TIMESTAMP is set
 *   384 BACKEND[5x128]   backend-owned words; their meaning is defined by the port kind
 *                        (a cross-process backend keeps its kring state here)
 *  1024 SLOTS[NUM_SLOTS] 16 bytes each ({@link SlotLayout})
 * </pre>
 *
 * The words that cross threads or processes outside a ring's user API have typed accessors here, with
 * the memory order in the name (JCTools): {@code lv} load volatile, {@code so} store ordered (release),
 * {@code sv} store volatile.
 */
public final class RingLayout {
    public static final long BUF_OFS_OFFSET = 0;
    public static final long NUM_SLOTS_OFFSET = 8;
    public static final long BUF_SIZE_OFFSET = 12;
    public static final long RING_ID_OFFSET = 16;
    public static final long DIR_OFFSET = 18;
    public static final long FLAGS_OFFSET = 20;
    public static final long IF_OFS_OFFSET = 24;
    public static final long HEAD_OFFSET = 128;
    public static final long CUR_OFFSET = 132;
    public static final long USER_WAIT_OFFSET = 64;
    public static final long TAIL_OFFSET = 256;
    public static final long TIMESTAMP_OFFSET = 264;
    /** Start of the backend area: five 128-byte lines at 384, 512, 640, 768, 896. */
    public static final long BACKEND_OFFSET = 384;
    public static final int BACKEND_LINES = 5;
    public static final int LINE = 128;
    public static final long SLOTS_OFFSET = 1024;

    public static final int DIR_TX = 0;
    public static final int DIR_RX = 1;

    /** Ring flag: update TIMESTAMP on every sync. */
    public static final int NR_TIMESTAMP = 0x2;
    /** Ring flag: slots released with NS_FORWARD go to the peer (NIC to host stack and back). */
    public static final int NR_FORWARD = 0x4;

    private static final VarHandle INT = JAVA_INT.varHandle();

    private RingLayout() {
    }

    /** (u) USER_WAIT of the ring at offset {@code ring} of {@code m}, read volatile: a producer's check before a wake-up. */
    public static int lvUserWait(MemorySegment m, long ring) {
        return (int) INT.getVolatile(m, ring + USER_WAIT_OFFSET);
    }

    /** (u) Stores USER_WAIT volatile: the sleeper's flag, ordered before its re-check (StoreLoad), see {@code Pollable.arm}. */
    public static void svUserWait(MemorySegment m, long ring, int interest) {
        INT.setVolatile(m, ring + USER_WAIT_OFFSET, interest);
    }

    /** (k) Stores TAIL with release: the slots the backend wrote are visible before the user sees the tail. */
    public static void soTail(MemorySegment m, long ring, int tail) {
        INT.setRelease(m, ring + TAIL_OFFSET, tail);
    }

    /** Offset of backend line {@code line} (0..4) within a ring. */
    public static long backendOffset(int line) {
        if (line < 0 || line >= BACKEND_LINES) {
            throw new IllegalArgumentException("line=" + line + " (expected: 0.." + (BACKEND_LINES - 1) + ")");
        }
        return BACKEND_OFFSET + (long) LINE * line;
    }

    /** Bytes a ring of {@code numSlots} slots occupies, rounded to a page. */
    public static long ringSize(int numSlots) {
        return RegionLayout.align(SLOTS_OFFSET + (long) SlotLayout.SIZE * numSlots, RegionLayout.PAGE);
    }
}
