package io.jnetmap.core;

/**
 * Sizes of a memory region: how many interface descriptors, rings (each with room for up to
 * {@code maxSlots} slots) and buffers it holds, and the size of each buffer. Validated once, here.
 *
 * @param ifs      interface descriptors (one per open port)
 * @param rings    ring objects
 * @param maxSlots slots the largest ring may have
 * @param bufs     buffers, including the two reserved ones (0 and 1)
 * @param bufSize  bytes per buffer
 */
public record Geometry(int ifs, int rings, int maxSlots, int bufs, int bufSize) {
    public static final int DEFAULT_BUF_SIZE = 2048;
    public static final int DEFAULT_SLOTS = 1024;
    public static final int MAX_SLOTS = 1 << 16;
    /** Largest region this version creates (64 GiB). */
    public static final long MAX_REGION_SIZE = 64L << 30;

    public Geometry {
        check("ifs", ifs, 1, 4096);
        check("rings", rings, 1, 1 << 16);
        check("maxSlots", maxSlots, 2, MAX_SLOTS);
        check("bufSize", bufSize, 64, 65536);
        if (bufSize % 64 != 0) {
            throw new IllegalArgumentException("bufSize=" + bufSize + " (expected: a multiple of 64)");
        }
        check("bufs", bufs, RegionLayout.RESERVED_BUFS + 1, Integer.MAX_VALUE);
        if (regionSize(ifs, rings, maxSlots, bufs, bufSize) > MAX_REGION_SIZE) {
            throw new IllegalArgumentException("bufs=" + bufs + ", bufSize=" + bufSize + ", rings=" + rings
                    + " (expected: a region of at most " + (MAX_REGION_SIZE >> 30) + " GiB)");
        }
    }

    private static void check(String name, long v, long min, long max) {
        if (v < min || v > max) {
            throw new IllegalArgumentException(name + "=" + v + " (expected: " + min + ".." + max + ")");
        }
    }

    /**
     * A region for ports with {@code rings} rings of {@code slots} slots in total and {@code extraBufs}
     * extra buffers, plus {@code spareBufs} buffers the backend may hold outside the rings.
     */
    public static Geometry forRings(int ifs, int rings, int slots, int extraBufs, int spareBufs, int bufSize) {
        long bufs = (long) rings * slots + extraBufs + spareBufs + RegionLayout.RESERVED_BUFS;
        if (bufs > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rings=" + rings + ", slots=" + slots + ", extra-bufs=" + extraBufs
                    + " (expected: fewer than 2^31 buffers in all)");
        }
        return new Geometry(ifs, rings, slots, (int) bufs, bufSize);
    }

    /** Bytes of one ring object. */
    public long ringSize() {
        return RingLayout.ringSize(maxSlots);
    }

    /** Bytes of the whole region. */
    public long regionSize() {
        return regionSize(ifs, rings, maxSlots, bufs, bufSize);
    }

    long bitmapOffset() {
        return RegionLayout.HEADER_SIZE;
    }

    long ifBitmapOffset() {
        return bitmapOffset();
    }

    long ringBitmapOffset() {
        return ifBitmapOffset() + RegionLayout.bitmapBytes(ifs);
    }

    long bufBitmapOffset() {
        return ringBitmapOffset() + RegionLayout.bitmapBytes(rings);
    }

    long bitmapSize() {
        return RegionLayout.bitmapBytes(ifs) + RegionLayout.bitmapBytes(rings) + RegionLayout.bitmapBytes(bufs);
    }

    long ifPoolOffset() {
        return RegionLayout.align(bitmapOffset() + bitmapSize(), RegionLayout.PAGE);
    }

    long ringPoolOffset() {
        return RegionLayout.align(ifPoolOffset() + (long) ifs * NetmapIfLayout.IF_SIZE, RegionLayout.PAGE);
    }

    long bufPoolOffset() {
        return RegionLayout.align(ringPoolOffset() + (long) rings * ringSize(), RegionLayout.PAGE);
    }

    private static long regionSize(int ifs, int rings, int maxSlots, long bufs, int bufSize) {
        long bitmaps = RegionLayout.bitmapBytes(ifs) + RegionLayout.bitmapBytes(rings) + RegionLayout.bitmapBytes(bufs);
        long ifPool = RegionLayout.align(RegionLayout.HEADER_SIZE + bitmaps, RegionLayout.PAGE);
        long ringPool = RegionLayout.align(ifPool + (long) ifs * NetmapIfLayout.IF_SIZE, RegionLayout.PAGE);
        long bufPool = RegionLayout.align(ringPool + (long) rings * RingLayout.ringSize(maxSlots), RegionLayout.PAGE);
        return RegionLayout.align(bufPool + bufs * bufSize, RegionLayout.PAGE);
    }
}
