package io.jnetmap.core;

import io.jnetmap.core.internal.CoreAccess;
import io.jnetmap.core.spi.Kring;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A netmap ring ({@link RingLayout}) as its user sees it: {@code head}, {@code cur}, {@code tail},
 * the slots, and the buffers they point to. The user owns slots {@code [head, tail)}; the backend owns
 * {@code [tail, head)}; one slot always stays empty.
 *
 * <p>TX: fill slots from {@code head}, advance {@code head} (and {@code cur}) past them, call
 * {@link #sync()}; {@code tail} advances as slots free up. RX: {@link #sync()} advances {@code tail}
 * over new packets; process slots from {@code head} and advance {@code head} to give them back.
 * {@code cur} is the wake-up point for poll: it waits until {@code tail} moves past {@code cur}.
 *
 * <p>None of these methods allocates or makes a system call, except {@link #sync()}, which makes at
 * most one per batch (backend-dependent). A ring belongs to one thread at a time, as in netmap.
 * Slot and buffer indices are checked (a corrupted {@code bufIdx} cannot reach outside the buffer
 * pool), so a bad index is an exception, never a stray write.
 */
public final class Ring {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final VarHandle LONG = JAVA_LONG.varHandle();

    static {
        CoreAccess.setRings((region, offset, kring) -> {
            Ring r = new Ring(region, offset);
            r.kring = kring;
            return r;
        });
    }

    private final Region region;
    private final MemorySegment mem;
    private final long base;
    private final long slots;
    private final long bufPool;
    private final int numSlots;
    private final int bufSize;
    private final int numBufs;
    private final boolean tx;
    private final int ringId;
    /** The backend's side of this ring, which runs {@link #sync()}; null for a bare view (tests). */
    private Kring kring;

    Ring(Region region, long base) {
        this.region = region;
        this.mem = region.memory();
        this.base = base;
        this.slots = base + RingLayout.SLOTS_OFFSET;
        this.bufPool = region.bufOffset(0);
        this.numSlots = mem.get(JAVA_INT, base + RingLayout.NUM_SLOTS_OFFSET);
        this.bufSize = mem.get(JAVA_INT, base + RingLayout.BUF_SIZE_OFFSET);
        this.numBufs = region.numBufs();
        this.tx = mem.get(JAVA_SHORT, base + RingLayout.DIR_OFFSET) == RingLayout.DIR_TX;
        this.ringId = mem.get(JAVA_SHORT, base + RingLayout.RING_ID_OFFSET);
        if (numSlots < 2 || numSlots > region.geometry().maxSlots() || bufSize != region.bufSize()) {
            throw new NetmapException.LayoutMismatch("ring at offset " + base + " of region " + region.name()
                    + " has numSlots=" + numSlots + ", bufSize=" + bufSize + " (expected: 2.."
                    + region.geometry().maxSlots() + " slots of " + region.bufSize() + " bytes)");
        }
    }

    // ----------------------------------------------------------------------------------------------
    // identity

    public Region region() {
        return region;
    }

    /** Offset of this ring in its region. */
    public long offset() {
        return base;
    }

    public int numSlots() {
        return numSlots;
    }

    public int bufSize() {
        return bufSize;
    }

    public boolean isTx() {
        return tx;
    }

    /** Index of this ring among the rings of its direction (host rings follow the NIC rings). */
    public int ringId() {
        return ringId;
    }

    // ----------------------------------------------------------------------------------------------
    // head / cur / tail

    /** (u) First slot owned by the user. */
    public int head() {
        return (int) INT.getAcquire(mem, base + RingLayout.HEAD_OFFSET);
    }

    /** (u) Wake-up point for poll. */
    public int cur() {
        return (int) INT.getAcquire(mem, base + RingLayout.CUR_OFFSET);
    }

    /** (k) First slot owned by the backend. */
    public int tail() {
        return (int) INT.getAcquire(mem, base + RingLayout.TAIL_OFFSET);
    }

    /** Sets {@code head}; the slots before it go to the backend at the next sync. */
    public void setHead(int head) {
        // ordered store -> slot contents written before are visible to whoever syncs the ring
        INT.setRelease(mem, base + RingLayout.HEAD_OFFSET, head);
    }

    public void setCur(int cur) {
        INT.setRelease(mem, base + RingLayout.CUR_OFFSET, cur);
    }

    /** Sets {@code head} and {@code cur} to {@code slot}: the usual way to hand slots back. */
    public void advanceTo(int slot) {
        INT.setRelease(mem, base + RingLayout.CUR_OFFSET, slot);
        INT.setRelease(mem, base + RingLayout.HEAD_OFFSET, slot);
    }

    /** The slot after {@code i} (no power-of-two assumption). */
    public int nextSlot(int i) {
        return RingIndex.next(i, numSlots);
    }

    /** {@code i + n} modulo the ring size, for {@code 0 <= n <= numSlots}. */
    public int slotAfter(int i, int n) {
        return RingIndex.advance(i, n, numSlots);
    }

    /** Slots the user owns: {@code tail - head} modulo the ring size (netmap's {@code nm_ring_space}). */
    public int space() {
        return RingIndex.distance(head(), tail(), numSlots);
    }

    /** True if the user owns no slot ({@code head == tail}). */
    public boolean isEmpty() {
        return head() == tail();
    }

    /** TX only: slots handed to the backend that it has not finished with ({@code nm_tx_pending}). */
    public boolean txPending() {
        return nextSlot(tail()) != head();
    }

    /** (u) Ring flags: {@link RingLayout#NR_TIMESTAMP}, {@link RingLayout#NR_FORWARD}. */
    public int ringFlags() {
        return mem.get(JAVA_INT, base + RingLayout.FLAGS_OFFSET);
    }

    public void setRingFlags(int flags) {
        mem.set(JAVA_INT, base + RingLayout.FLAGS_OFFSET, flags);
    }

    /** (k) System.nanoTime() of the last sync, if {@link RingLayout#NR_TIMESTAMP} is set. */
    public long timestamp() {
        return (long) LONG.getAcquire(mem, base + RingLayout.TIMESTAMP_OFFSET);
    }

    /**
     * (u) The readiness the ring's user sleeps on (0 = awake), read volatile. Written by the port's
     * {@code Pollable} when the user arms it; read by producers before waking it.
     */
    public int userWait() {
        return RingLayout.lvUserWait(mem, base);
    }

    // ----------------------------------------------------------------------------------------------
    // slots

    private long slot(int i) {
        return SlotLayout.offset(slots, Objects.checkIndex(i, numSlots));
    }

    public int bufIdx(int slot) {
        return mem.get(JAVA_INT, slot(slot) + SlotLayout.BUF_IDX_OFFSET);
    }

    public void setBufIdx(int slot, int bufIdx) {
        mem.set(JAVA_INT, slot(slot) + SlotLayout.BUF_IDX_OFFSET, bufIdx);
    }

    /** Packet length in the slot's buffer (u16). */
    public int len(int slot) {
        return Short.toUnsignedInt(mem.get(JAVA_SHORT, slot(slot) + SlotLayout.LEN_OFFSET));
    }

    public void setLen(int slot, int len) {
        if (len < 0 || len > bufSize) {
            throw new IllegalArgumentException("len=" + len + " (expected: 0.." + bufSize + ")");
        }
        mem.set(JAVA_SHORT, slot(slot) + SlotLayout.LEN_OFFSET, (short) len);
    }

    /** NS_* flags ({@link Slot}). */
    public int flags(int slot) {
        return Short.toUnsignedInt(mem.get(JAVA_SHORT, slot(slot) + SlotLayout.FLAGS_OFFSET));
    }

    public void setFlags(int slot, int flags) {
        mem.set(JAVA_SHORT, slot(slot) + SlotLayout.FLAGS_OFFSET, (short) flags);
    }

    public long ptr(int slot) {
        return mem.get(JAVA_LONG, slot(slot) + SlotLayout.PTR_OFFSET);
    }

    public void setPtr(int slot, long ptr) {
        mem.set(JAVA_LONG, slot(slot) + SlotLayout.PTR_OFFSET, ptr);
    }

    /** Sets length and flags of a slot in one call (a TX fill). */
    public void setSlot(int slot, int len, int flags) {
        if (len < 0 || len > bufSize) {
            throw new IllegalArgumentException("len=" + len + " (expected: 0.." + bufSize + ")");
        }
        long s = slot(slot);
        mem.set(JAVA_SHORT, s + SlotLayout.LEN_OFFSET, (short) len);
        mem.set(JAVA_SHORT, s + SlotLayout.FLAGS_OFFSET, (short) flags);
    }

    // ----------------------------------------------------------------------------------------------
    // buffers

    /** The whole region: the slot's buffer is at {@link #bufOffset(int)} in it. */
    public MemorySegment memory() {
        return mem;
    }

    /**
     * Offset in {@link #memory()} of the buffer under {@code slot}. Throws if the slot holds an index
     * outside the pool (a corrupted slot: {@link SlotCorruptedException}), so the offset is always inside a buffer.
     */
    public long bufOffset(int slot) {
        int idx = bufIdx(slot);
        if (Integer.compareUnsigned(idx, numBufs) >= 0) {
            throw new SlotCorruptedException(this + ": slot " + slot + " holds bufIdx=" + Integer.toUnsignedString(idx)
                    + " (expected: 0.." + (numBufs - 1) + "): the ring's shared memory was overwritten");
        }
        return bufPool + (long) idx * bufSize;
    }

    /** The buffer under {@code slot}, {@link #bufSize()} bytes (allocates a view; hot paths use {@link #bufOffset}). */
    public MemorySegment buffer(int slot) {
        return mem.asSlice(bufOffset(slot), bufSize);
    }

    /** The packet in {@code slot}: its buffer's first {@link #len(int)} bytes. */
    public MemorySegment packet(int slot) {
        return mem.asSlice(bufOffset(slot), len(slot));
    }

    /** Copies {@code len} bytes from {@code src} into the slot's buffer and sets the slot's length. */
    public void copyIn(int slot, MemorySegment src, long srcOffset, int len) {
        long dst = bufOffset(slot);
        setLen(slot, len);
        MemorySegment.copy(src, srcOffset, mem, dst, len);
    }

    /** Copies the slot's packet ({@link #len(int)} bytes) into {@code dst}; returns the length. */
    public int copyOut(int slot, MemorySegment dst, long dstOffset) {
        int len = len(slot);
        MemorySegment.copy(mem, bufOffset(slot), dst, dstOffset, len);
        return len;
    }

    /**
     * Forwards the {@code n} packets at {@code src.head()} to {@code dst.head()} and advances both
     * heads (both rings must have {@code n} slots available): by buffer swap ({@link #swap}, the rings
     * share a region) when {@code swap}, else by copying each packet, cut to what fits a buffer of
     * either ring. Lengths and {@link Slot#NS_MOREFRAG} follow the packets; the destination slot keeps
     * {@link Slot#NS_BUF_CHANGED} if set. Returns the bytes forwarded. Allocates nothing.
     */
    public static long forward(Ring src, Ring dst, int n, boolean swap) {
        int i = src.head();
        int j = dst.head();
        int fits = Math.min(src.bufSize(), dst.bufSize());
        long bytes = 0;
        for (int k = 0; k < n; k++) {
            int len = Math.min(src.len(i), fits);
            if (swap) {
                swap(src, i, dst, j);
            } else {
                MemorySegment.copy(src.mem, src.bufOffset(i), dst.mem, dst.bufOffset(j), len);
            }
            dst.setSlot(j, len, src.flags(i) & Slot.NS_MOREFRAG | dst.flags(j) & Slot.NS_BUF_CHANGED);
            bytes += len;
            i = src.nextSlot(i);
            j = dst.nextSlot(j);
        }
        src.advanceTo(i);
        dst.advanceTo(j);
        return bytes;
    }

    /**
     * Zero copy: exchanges the buffers under slot {@code i} of {@code a} and slot {@code j} of
     * {@code b} and sets {@link Slot#NS_BUF_CHANGED} on both. Lengths are left alone (copy the length
     * with {@link #setLen} when forwarding). The rings must share a region.
     */
    public static void swap(Ring a, int i, Ring b, int j) {
        if (a.region != b.region) {
            throw new IllegalArgumentException("swap needs rings of one region (" + a.region.name() + " vs "
                    + b.region.name() + "): copy instead");
        }
        long sa = a.slot(i);
        long sb = b.slot(j);
        MemorySegment m = a.mem;
        int ia = m.get(JAVA_INT, sa);
        m.set(JAVA_INT, sa, m.get(JAVA_INT, sb));
        m.set(JAVA_INT, sb, ia);
        m.set(JAVA_SHORT, sa + SlotLayout.FLAGS_OFFSET,
                (short) (m.get(JAVA_SHORT, sa + SlotLayout.FLAGS_OFFSET) | Slot.NS_BUF_CHANGED));
        m.set(JAVA_SHORT, sb + SlotLayout.FLAGS_OFFSET,
                (short) (m.get(JAVA_SHORT, sb + SlotLayout.FLAGS_OFFSET) | Slot.NS_BUF_CHANGED));
    }

    // ----------------------------------------------------------------------------------------------
    // sync

    /**
     * txsync (TX ring) or rxsync (RX ring) of this ring alone. Validates {@code head}/{@code cur} as
     * netmap's {@code nm_*sync_prologue} does: a bad value resets the ring and throws
     * {@link RingStateException}, and the backend never sees it.
     */
    public void sync() {
        Kring k = kring;
        if (k == null) {
            throw new IllegalStateException(this + " belongs to no open port: only a port's own rings can sync");
        }
        k.sync();
    }

    @Override
    public String toString() {
        return (tx ? "tx" : "rx") + " ring " + ringId + " [head=" + head() + " cur=" + cur() + " tail=" + tail()
                + " of " + numSlots + "]";
    }
}
