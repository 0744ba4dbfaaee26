package io.jnetmap.core;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Binary layout of a memory region: the published contract between every process (Java or C, see
 * {@code docs/jnetmap.h}) that maps one. All multi-byte fields are in the host's byte order
 * (little-endian on x86_64 and aarch64); every cross-reference is an offset from the start of the
 * region or an index, never an address.
 *
 * <pre>
 *   0 +--------------------------------------------------------------+
 *     | header (HEADER_SIZE = 4096)                                  |
 *     |   0 MAGIC u64 "JNETMAP1"       8 VERSION u32   12 HEADER_SIZE u32
 *     |  16 REGION_SIZE u64           24 STATE u32    28 CREATOR_PID u32
 *     |  32 IF_POOL_OFS u64   40 IF_NUM u32   44 IF_SIZE u32
 *     |  48 RING_POOL_OFS u64 56 RING_NUM u32 60 RING_SIZE u32
 *     |  64 BUF_POOL_OFS u64  72 BUF_NUM u32  76 BUF_SIZE u32
 *     |  80 BITMAP_OFS u64    88 BITMAP_SIZE u64
 *     |  96 NAME[64] (UTF-8, NUL padded)
 *     | 256 ALLOC_LOCK u64   (pid holding the allocator, 0 = free)  own line
 *     | 384 FREE_BUFS u32    (written under ALLOC_LOCK)
 *     | 512 USERS[64] i32    (pids of attached processes, 0 = empty)
 *     +--------------------------------------------------------------+
 *     | bitmaps, 64-bit words, bit set = allocated:                  |
 *     |   if bitmap (IF_NUM bits), ring bitmap (RING_NUM), buf (BUF_NUM)
 *     +---------------------------------------- (4096-aligned) ------+
 *     | if pool:   IF_NUM   x IF_SIZE   ({@link NetmapIfLayout})      |
 *     +---------------------------------------- (4096-aligned) ------+
 *     | ring pool: RING_NUM x RING_SIZE ({@link RingLayout})          |
 *     +---------------------------------------- (4096-aligned) ------+
 *     | buf pool:  BUF_NUM  x BUF_SIZE; buffers 0 and 1 are reserved  |
 *     +--------------------------------------------------------------+
 * </pre>
 *
 * A region is usable once {@code STATE} reads {@link #STATE_READY} (stored with release by its creator
 * after everything else is initialised). The allocator fields are touched only when ports open and
 * close, never per packet.
 */
public final class RegionLayout {
    /** "JNETMAP1" read as a little-endian u64. */
    public static final long MAGIC = 0x3150414d54454e4aL;
    /** Bumped on every incompatible change of any *Layout class. */
    public static final int VERSION = 2;

    public static final long MAGIC_OFFSET = 0;
    public static final long VERSION_OFFSET = 8;
    public static final long HEADER_SIZE_OFFSET = 12;
    public static final long REGION_SIZE_OFFSET = 16;
    public static final long STATE_OFFSET = 24;
    public static final long CREATOR_PID_OFFSET = 28;
    public static final long IF_POOL_OFS_OFFSET = 32;
    public static final long IF_NUM_OFFSET = 40;
    public static final long IF_SIZE_OFFSET = 44;
    public static final long RING_POOL_OFS_OFFSET = 48;
    public static final long RING_NUM_OFFSET = 56;
    public static final long RING_SIZE_OFFSET = 60;
    public static final long BUF_POOL_OFS_OFFSET = 64;
    public static final long BUF_NUM_OFFSET = 72;
    public static final long BUF_SIZE_OFFSET = 76;
    public static final long BITMAP_OFS_OFFSET = 80;
    public static final long BITMAP_SIZE_OFFSET = 88;
    public static final long NAME_OFFSET = 96;
    public static final int NAME_LENGTH = 64;
    public static final long ALLOC_LOCK_OFFSET = 256;
    public static final long FREE_BUFS_OFFSET = 384;
    public static final long USERS_OFFSET = 512;
    public static final int USERS_MAX = 64;

    public static final int HEADER_SIZE = 4096;
    public static final int STATE_INITIALIZING = 0;
    public static final int STATE_READY = 1;
    /** Buffers 0 and 1 are never handed out (as in netmap): index 0 also ends extra-buffer lists. */
    public static final int RESERVED_BUFS = 2;
    public static final long PAGE = 4096;

    private RegionLayout() {
    }

    /** The NUL-terminated UTF-8 text in the {@code max}-byte field at {@code off} of {@code m}. */
    public static String readText(MemorySegment m, long off, int max) {
        int n = 0;
        while (n < max && m.get(JAVA_BYTE, off + n) != 0) {
            n++;
        }
        return new String(m.asSlice(off, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /**
     * Writes {@code s} NUL-padded into the {@code max}-byte field at {@code off} of {@code m}; text of
     * {@code max} bytes or more (no room for the NUL) is refused.
     */
    public static void writeText(MemorySegment m, long off, int max, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length >= max) {
            throw new IllegalArgumentException("text=" + s + " of " + b.length + " bytes (expected: fewer than " + max + ")");
        }
        m.asSlice(off, max).fill((byte) 0);
        MemorySegment.copy(b, 0, m, JAVA_BYTE, off, b.length);
    }

    static long align(long v, long a) {
        return (v + a - 1) & -a;
    }

    /** Bytes of bitmap words for {@code bits} bits. */
    static long bitmapBytes(long bits) {
        return ((bits + 63) / 64) * 8;
    }
}
