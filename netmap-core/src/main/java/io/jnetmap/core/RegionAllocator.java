package io.jnetmap.core;

import io.jnetmap.core.spi.PidLock;
import io.jnetmap.sys.Linux;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The allocator of a {@link Region}: bitmaps of interface descriptors, rings and buffers in the
 * region's header area ({@link RegionLayout}), changed only under {@code ALLOC_LOCK} (a {@link PidLock}:
 * this JVM's threads and other processes). Open/close time only; nothing here runs per packet.
 */
final class RegionAllocator {
    private static final int PID = Linux.getpid();
    private final Region region;
    private final String name;
    private final MemorySegment mem;
    private final Geometry geometry;
    private final long ifPool;
    private final long ringPool;
    private final long ringSize;
    private final long bufPool;
    private final int bufSize;
    private final int bufs;
    private final long ifBitmap;
    private final long ringBitmap;
    private final long bufBitmap;
    /** ALLOC_LOCK: serialises allocation among this JVM's threads and other processes. */
    private final PidLock allocLock;
    /** Where the next buffer search starts (guarded by the lock; per process, a hint only). */
    private int bufHint;

    RegionAllocator(Region region, MemorySegment mem, Geometry g) {
        this.region = region;
        this.name = region.name();
        this.mem = mem;
        this.geometry = g;
        this.ifPool = g.ifPoolOffset();
        this.ringPool = g.ringPoolOffset();
        this.ringSize = g.ringSize();
        this.bufPool = g.bufPoolOffset();
        this.bufSize = g.bufSize();
        this.bufs = g.bufs();
        this.ifBitmap = g.ifBitmapOffset();
        this.ringBitmap = g.ringBitmapOffset();
        this.bufBitmap = g.bufBitmapOffset();
        this.allocLock = new PidLock(mem, RegionLayout.ALLOC_LOCK_OFFSET, "region " + name + ": allocator lock");
    }

    /** A fresh region's bitmaps: buffers 0 and 1 are reserved, permanently "allocated"; FREE_BUFS counts the rest. */
    void initialize() {
        setBit(bufBitmap, 0);
        setBit(bufBitmap, 1);
        mem.set(JAVA_INT, RegionLayout.FREE_BUFS_OFFSET, bufs - RegionLayout.RESERVED_BUFS);
    }

    private boolean isValidBuf(int bufIdx) {
        return bufIdx >= RegionLayout.RESERVED_BUFS && bufIdx < bufs;
    }

    private long bufOffset(int bufIdx) {
        return bufPool + (long) bufIdx * bufSize;
    }

    /** Runs {@code body} holding the region's allocator lock (this JVM's threads and other processes). */
    <T> T locked(Supplier<T> body) {
        allocLock.lock(10, TimeUnit.SECONDS);
        try {
            return body.get();
        } finally {
            allocLock.unlock();
        }
    }

    /**
     * Allocates an interface descriptor with its rings and one buffer per slot, plus
     * {@code spec.extraBufs()} extra buffers linked from {@code BUFS_HEAD}.
     */
    NetmapIf allocIf(IfSpec spec) {
        return locked(() -> allocIfLocked(spec));
    }

    private NetmapIf allocIfLocked(IfSpec spec) {
        int nrings = spec.totalRings();
        if (nrings > NetmapIfLayout.MAX_RINGS) {
            throw new IllegalArgumentException("rings=" + nrings + " (expected: at most " + NetmapIfLayout.MAX_RINGS + " per port)");
        }
        int maxSlots = geometry.maxSlots();
        if (spec.txSlots() > maxSlots || spec.rxSlots() > maxSlots) {
            throw new IllegalArgumentException("slots=" + Math.max(spec.txSlots(), spec.rxSlots())
                    + " (expected: at most " + maxSlots + " in region " + name + ")");
        }
        long needBufs = (long) (spec.txRings() + spec.hostTxRings()) * spec.txSlots()
                + (long) (spec.rxRings() + spec.hostRxRings()) * spec.rxSlots() + spec.extraBufs();
        int freeBufs = mem.get(JAVA_INT, RegionLayout.FREE_BUFS_OFFSET);
        if (needBufs > freeBufs) {
            throw new NetmapException.OutOfMemory("region " + name + " has " + freeBufs + " free buffers, port "
                    + spec.name() + " needs " + needBufs + " (use @conf:bufs= or a larger region)");
        }
        int ifIdx = findClear(ifBitmap, geometry.ifs(), 0);
        if (ifIdx < 0) {
            throw new NetmapException.OutOfMemory("region " + name + " has no free interface descriptor (ifs="
                    + geometry.ifs() + ")");
        }
        int[] ringIdx = new int[nrings];
        int from = 0;
        for (int i = 0; i < nrings; i++) {
            ringIdx[i] = findClear(ringBitmap, geometry.rings(), from);
            if (ringIdx[i] < 0) {
                throw new NetmapException.OutOfMemory("region " + name + " has no room for " + nrings + " more rings (rings="
                        + geometry.rings() + ")");
            }
            from = ringIdx[i] + 1;
        }
        setBit(ifBitmap, ifIdx);
        for (int r : ringIdx) {
            setBit(ringBitmap, r);
        }
        long ifOfs = ifPool + (long) ifIdx * NetmapIfLayout.IF_SIZE;
        mem.asSlice(ifOfs, NetmapIfLayout.IF_SIZE).fill((byte) 0);
        RegionLayout.writeText(mem, ifOfs + NetmapIfLayout.NAME_OFFSET, NetmapIfLayout.NAME_LENGTH, spec.name());
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.VERSION_OFFSET, RegionLayout.VERSION);
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.FLAGS_OFFSET, region.isShared() ? 0 : NetmapIfLayout.NI_PRIV_MEM);
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.TX_RINGS_OFFSET, spec.txRings());
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.RX_RINGS_OFFSET, spec.rxRings());
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.HOST_TX_RINGS_OFFSET, spec.hostTxRings());
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.HOST_RX_RINGS_OFFSET, spec.hostRxRings());
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.OWNER_PID_OFFSET, PID);
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.KIND_OFFSET, spec.kind());
        int ntx = spec.txRings() + spec.hostTxRings();
        for (int i = 0; i < nrings; i++) {
            boolean tx = i < ntx;
            int id = tx ? i : i - ntx;
            int slots = tx ? spec.txSlots() : spec.rxSlots();
            long ringOfs = ringPool + (long) ringIdx[i] * ringSize;
            initRing(ringOfs, ifOfs, id, tx, slots);
            mem.set(JAVA_LONG, ifOfs + NetmapIfLayout.ringOfsOffset(i), ringOfs - ifOfs);
        }
        int head = 0;
        for (int i = 0; i < spec.extraBufs(); i++) {
            int b = allocBufLocked();
            mem.set(JAVA_INT, bufOffset(b), head);
            head = b;
        }
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.BUFS_HEAD_OFFSET, head);
        return new NetmapIf(region, ifOfs);
    }

    private void initRing(long ringOfs, long ifOfs, int id, boolean tx, int slots) {
        mem.asSlice(ringOfs, RingLayout.SLOTS_OFFSET).fill((byte) 0);
        mem.set(JAVA_LONG, ringOfs + RingLayout.BUF_OFS_OFFSET, bufPool - ringOfs);
        mem.set(JAVA_INT, ringOfs + RingLayout.NUM_SLOTS_OFFSET, slots);
        mem.set(JAVA_INT, ringOfs + RingLayout.BUF_SIZE_OFFSET, bufSize);
        mem.set(JAVA_SHORT, ringOfs + RingLayout.RING_ID_OFFSET, (short) id);
        mem.set(JAVA_SHORT, ringOfs + RingLayout.DIR_OFFSET, (short) (tx ? RingLayout.DIR_TX : RingLayout.DIR_RX));
        mem.set(JAVA_LONG, ringOfs + RingLayout.IF_OFS_OFFSET, ifOfs - ringOfs);
        // TX: every slot but one is free for the user; RX: empty
        mem.set(JAVA_INT, ringOfs + RingLayout.TAIL_OFFSET, tx ? slots - 1 : 0);
        for (int s = 0; s < slots; s++) {
            long slot = SlotLayout.offset(ringOfs + RingLayout.SLOTS_OFFSET, s);
            mem.set(JAVA_INT, slot + SlotLayout.BUF_IDX_OFFSET, allocBufLocked());
            mem.set(JAVA_SHORT, slot + SlotLayout.LEN_OFFSET, (short) 0);
            mem.set(JAVA_SHORT, slot + SlotLayout.FLAGS_OFFSET, (short) 0);
            mem.set(JAVA_LONG, slot + SlotLayout.PTR_OFFSET, 0L);
        }
    }

    /**
     * Frees an interface descriptor, its rings, the buffer of every slot and the extra-buffer list
     * {@code BUFS_HEAD} points to now (netmap's rule). Indices that are invalid or already free (a
     * corrupted ring or list) are skipped and counted in the result, never freed twice.
     *
     * @return the number of bad buffer references skipped
     */
    int freeIf(NetmapIf nifp) {
        if (nifp.region() != region) {
            throw new IllegalArgumentException("interface " + nifp.name() + " belongs to region " + nifp.region().name()
                    + ", not " + name);
        }
        return locked(() -> freeIfLocked(nifp));
    }

    private int freeIfLocked(NetmapIf nifp) {
        long ifOfs = nifp.offset();
        int ifIdx = (int) ((ifOfs - ifPool) / NetmapIfLayout.IF_SIZE);
        if (!testBit(ifBitmap, ifIdx)) {
            return 0; // already freed (by the peer of a shared port, for instance)
        }
        int bad = 0;
        int nrings = nifp.totalRings();
        for (int i = 0; i < nrings; i++) {
            long ringOfs = nifp.ringOffset(i);
            int ringIdx = (int) ((ringOfs - ringPool) / ringSize);
            int slots = mem.get(JAVA_INT, ringOfs + RingLayout.NUM_SLOTS_OFFSET);
            for (int s = 0; s < slots; s++) {
                int b = mem.get(JAVA_INT, SlotLayout.offset(ringOfs + RingLayout.SLOTS_OFFSET, s));
                if (!freeBufLocked(b)) {
                    bad++;
                }
            }
            clearBit(ringBitmap, ringIdx);
        }
        bad += freeListLocked(nifp.bufsHead());
        mem.set(JAVA_INT, ifOfs + NetmapIfLayout.BUFS_HEAD_OFFSET, 0);
        clearBit(ifBitmap, ifIdx);
        return bad;
    }

    /** Frees a buffer list linked through the first 4 bytes of each buffer; returns bad links skipped. */
    private int freeListLocked(int head) {
        int bad = 0;
        int b = head;
        for (int n = 0; b != 0 && n < bufs; n++) {
            if (!isValidBuf(b)) {
                return bad + 1;
            }
            int next = mem.get(JAVA_INT, bufOffset(b));
            if (!freeBufLocked(b)) {
                return bad + 1; // already free: a loop or a shared tail; stop rather than walk garbage
            }
            b = next;
        }
        return bad;
    }

    /** Allocates one buffer; returns its index, or 0 if the pool is empty. */
    int allocBuf() {
        return locked(() -> {
            int free = mem.get(JAVA_INT, RegionLayout.FREE_BUFS_OFFSET);
            return free == 0 ? 0 : allocBufLocked();
        });
    }

    /** Returns buffer {@code bufIdx} to the pool; false if it is invalid or already free. */
    boolean freeBuf(int bufIdx) {
        return locked(() -> freeBufLocked(bufIdx));
    }

    /**
     * Allocates up to {@code n} buffers as a list linked through their first 4 bytes (0 ends it), for a
     * port's extra buffers. Returns the head, or 0 if none could be had.
     */
    int allocBufList(int n) {
        return locked(() -> {
            int head = 0;
            int free = mem.get(JAVA_INT, RegionLayout.FREE_BUFS_OFFSET);
            for (int i = 0; i < Math.min(n, free); i++) {
                int b = allocBufLocked();
                mem.set(JAVA_INT, bufOffset(b), head);
                head = b;
            }
            return head;
        });
    }

    /** Frees a list made by {@link #allocBufList}; returns the number of bad links skipped. */
    int freeBufList(int head) {
        return locked(() -> freeListLocked(head));
    }

    private int allocBufLocked() {
        int b = findClear(bufBitmap, bufs, bufHint);
        if (b < 0) {
            b = findClear(bufBitmap, bufs, 0);
        }
        if (b < 0) {
            throw new NetmapException.OutOfMemory("region " + name + " has no free buffers (bufs=" + bufs + ")");
        }
        setBit(bufBitmap, b);
        bufHint = b + 1 < bufs ? b + 1 : 0;
        mem.set(JAVA_INT, RegionLayout.FREE_BUFS_OFFSET, mem.get(JAVA_INT, RegionLayout.FREE_BUFS_OFFSET) - 1);
        return b;
    }

    private boolean freeBufLocked(int b) {
        if (!isValidBuf(b) || !testBit(bufBitmap, b)) {
            return false;
        }
        clearBit(bufBitmap, b);
        mem.set(JAVA_INT, RegionLayout.FREE_BUFS_OFFSET, mem.get(JAVA_INT, RegionLayout.FREE_BUFS_OFFSET) + 1);
        return true;
    }

    /** True if the pool's bitmap marks {@code bufIdx} as allocated (for checks and tests). */
    boolean isAllocated(int bufIdx) {
        return bufIdx >= 0 && bufIdx < bufs && testBit(bufBitmap, bufIdx);
    }

    /** The interface descriptors currently allocated in this region. */
    List<NetmapIf> interfaces() {
        return locked(() -> {
            List<NetmapIf> out = new ArrayList<>();
            for (int i = 0; i < geometry.ifs(); i++) {
                if (testBit(ifBitmap, i)) {
                    out.add(new NetmapIf(region, ifPool + (long) i * NetmapIfLayout.IF_SIZE));
                }
            }
            return out;
        });
    }

    /** The descriptor at {@code offset} (as stored by a peer); checked to be an allocated descriptor. */
    NetmapIf ifAt(long offset) {
        long rel = offset - ifPool;
        if (rel < 0 || rel % NetmapIfLayout.IF_SIZE != 0 || rel / NetmapIfLayout.IF_SIZE >= geometry.ifs()
                || !testBit(ifBitmap, (int) (rel / NetmapIfLayout.IF_SIZE))) {
            throw new IllegalArgumentException("offset=" + offset + " (expected: an allocated interface descriptor of region "
                    + name + ")");
        }
        return new NetmapIf(region, offset);
    }

    /** Lowest clear bit at or after {@code from}, wrapping around; -1 if every bit is set. */
    private int findClear(long bitmap, int nbits, int from) {
        if (from < 0 || from >= nbits) {
            from = 0;
        }
        int words = (nbits + 63) >>> 6;
        int w0 = from >>> 6;
        long below = (1L << (from & 63)) - 1; // bits of word w0 that lie before 'from'
        for (int k = 0; k <= words; k++) {
            int w = (w0 + k) % words;
            long word = mem.get(JAVA_LONG, bitmap + 8L * w);
            if (k == 0) {
                word |= below;
            } else if (k == words) {
                word |= ~below;
            }
            if (word != -1L) {
                int bit = (w << 6) + Long.numberOfTrailingZeros(~word);
                if (bit < nbits) {
                    return bit;
                }
            }
        }
        return -1;
    }

    private boolean testBit(long bitmap, int i) {
        return (mem.get(JAVA_LONG, bitmap + 8L * (i >>> 6)) & (1L << (i & 63))) != 0;
    }

    private void setBit(long bitmap, int i) {
        long off = bitmap + 8L * (i >>> 6);
        mem.set(JAVA_LONG, off, mem.get(JAVA_LONG, off) | (1L << (i & 63)));
    }

    private void clearBit(long bitmap, int i) {
        long off = bitmap + 8L * (i >>> 6);
        mem.set(JAVA_LONG, off, mem.get(JAVA_LONG, off) & ~(1L << (i & 63)));
    }
}
