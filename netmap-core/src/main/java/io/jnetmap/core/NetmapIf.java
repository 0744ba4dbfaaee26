package io.jnetmap.core;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * View of an interface descriptor ({@link NetmapIfLayout}): the port's name, ring counts, where its
 * rings are, and the head of its extra-buffer list. Immutable after the port opened, except
 * {@link #bufsHead()}.
 */
public final class NetmapIf {
    private static final VarHandle INT = JAVA_INT.varHandle();
    private final Region region;
    private final long offset;

    NetmapIf(Region region, long offset) {
        this.region = region;
        this.offset = offset;
    }

    public Region region() {
        return region;
    }

    /** Offset of this descriptor in its region (how other processes refer to it). */
    public long offset() {
        return offset;
    }

    public String name() {
        return region.readString(offset + NetmapIfLayout.NAME_OFFSET, NetmapIfLayout.NAME_LENGTH);
    }

    private int i32(long field) {
        return region.memory().get(JAVA_INT, offset + field);
    }

    public int flags() {
        return i32(NetmapIfLayout.FLAGS_OFFSET);
    }

    public int txRings() {
        return i32(NetmapIfLayout.TX_RINGS_OFFSET);
    }

    public int rxRings() {
        return i32(NetmapIfLayout.RX_RINGS_OFFSET);
    }

    public int hostTxRings() {
        return i32(NetmapIfLayout.HOST_TX_RINGS_OFFSET);
    }

    public int hostRxRings() {
        return i32(NetmapIfLayout.HOST_RX_RINGS_OFFSET);
    }

    public int totalRings() {
        return txRings() + hostTxRings() + rxRings() + hostRxRings();
    }

    public int ownerPid() {
        return i32(NetmapIfLayout.OWNER_PID_OFFSET);
    }

    public int kind() {
        return i32(NetmapIfLayout.KIND_OFFSET);
    }

    /** Port-kind defined state word (acquire). */
    public int state() {
        return (int) INT.getAcquire(region.memory(), offset + NetmapIfLayout.STATE_OFFSET);
    }

    /** Sets the port-kind defined state word (release). */
    public void setState(int state) {
        INT.setRelease(region.memory(), offset + NetmapIfLayout.STATE_OFFSET, state);
    }

    /**
     * Region offset of ring {@code i} in netmap's order (tx, host tx, rx, host rx). Checked against the
     * ring pool: a descriptor corrupted by another process cannot point outside it.
     */
    public long ringOffset(int i) {
        int n = totalRings();
        if (i < 0 || i >= n) {
            throw new IndexOutOfBoundsException("ring " + i + " (expected: 0.." + (n - 1) + ")");
        }
        long ringOfs = offset + region.memory().get(JAVA_LONG, offset + NetmapIfLayout.ringOfsOffset(i));
        long rel = ringOfs - region.ringPoolOffset();
        Geometry g = region.geometry();
        if (rel < 0 || rel % g.ringSize() != 0 || rel / g.ringSize() >= g.rings()) {
            throw new NetmapException.LayoutMismatch("interface " + name() + ": ring " + i + " offset " + ringOfs
                    + " is not a ring of region " + region.name());
        }
        return ringOfs;
    }

    /** Region offset of tx ring {@code i} (host tx rings follow the NIC ones). */
    public long txRingOffset(int i) {
        return ringOffset(i);
    }

    /** Region offset of rx ring {@code i} (host rx rings follow the NIC ones). */
    public long rxRingOffset(int i) {
        return ringOffset(txRings() + hostTxRings() + i);
    }

    /** (u) First extra buffer (0 = none); each buffer's first 4 bytes hold the next index. */
    public int bufsHead() {
        return i32(NetmapIfLayout.BUFS_HEAD_OFFSET);
    }

    public void setBufsHead(int bufIdx) {
        region.memory().set(JAVA_INT, offset + NetmapIfLayout.BUFS_HEAD_OFFSET, bufIdx);
    }

    /** Takes the first extra buffer off the list; 0 if the list is empty. Not thread-safe. */
    public int takeExtraBuf() {
        int b = bufsHead();
        if (b == 0) {
            return 0;
        }
        if (!region.isValidBuf(b)) {
            throw new NetmapException.LayoutMismatch("interface " + name() + ": extra buffer list holds invalid index " + b);
        }
        MemorySegment mem = region.memory();
        setBufsHead(mem.get(JAVA_INT, region.bufOffset(b)));
        return b;
    }

    /** Puts {@code bufIdx} at the front of the extra-buffer list. Not thread-safe. */
    public void giveExtraBuf(int bufIdx) {
        if (!region.isValidBuf(bufIdx)) {
            throw new IllegalArgumentException("bufIdx=" + bufIdx + " (expected: 2.." + (region.numBufs() - 1) + ")");
        }
        region.memory().set(JAVA_INT, region.bufOffset(bufIdx), bufsHead());
        setBufsHead(bufIdx);
    }

    @Override
    public String toString() {
        return "NetmapIf[" + name() + " @" + offset + " in " + region.name() + "]";
    }
}
