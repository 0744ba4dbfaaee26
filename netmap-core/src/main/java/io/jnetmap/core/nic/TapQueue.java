package io.jnetmap.core.nic;

import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.sys.Errno;
import io.jnetmap.sys.Linux;

import java.lang.foreign.MemorySegment;

/**
 * A host-stack ring pair on one queue of a TAP device. TX: each slot becomes one {@code write} of a
 * frame, which the host stack receives as if it arrived on the TAP interface. RX: each {@code read}
 * returns one frame the host stack sent out of the interface, straight into the slot's buffer. The TAP
 * interface has no batched form of either, so this backend makes one system call per packet.
 */
final class TapQueue implements NicQueue {
    /** write: the interface is down (EIO) or the frame is malformed (EINVAL). */
    private static final int[] WRITE_TOLERATED = {Errno.EIO, Errno.EINVAL};
    /** read: the frame did not fit the buffer (EFAULT; the kernel drops it). */
    private static final int[] READ_TOLERATED = {Errno.EFAULT};

    private final String what;
    private final int fd;
    private final Region region;
    private final MemorySegment mem;
    private final int bufSize;
    private boolean closed;

    private int pendingFrom = -1;
    private long rxPackets;
    private long rxDrops;
    private long rxRepairs;
    private long txPackets;
    private long txDrops;
    private long txBad;

    TapQueue(String what, int fd, Region region) {
        this.what = what;
        this.fd = fd;
        this.region = region;
        this.mem = region.memory();
        this.bufSize = region.bufSize();
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public void txsync(Kring k) {
        if (pendingFrom < 0) {
            pendingFrom = k.hwcur;
        }
        k.hwcur = k.rhead;
        Ring ring = k.ring;
        while (pendingFrom != k.hwcur) {
            int b = ring.bufIdx(pendingFrom);
            if (region.isValidBuf(b)) {
                long r = Linux.writeAt(fd, mem, region.bufOffset(b), ring.len(pendingFrom), WRITE_TOLERATED);
                if (r == Linux.AGAIN) {
                    break;
                }
                if (r < 0) {
                    txDrops++;
                } else {
                    txPackets++;
                }
            } else {
                txBad++;
            }
            pendingFrom = k.next(pendingFrom);
        }
        k.hwtail = k.prev(pendingFrom);
    }

    @Override
    public void rxsync(Kring k) {
        k.hwcur = k.rhead;
        int last = k.prev(k.hwcur);
        Ring ring = k.ring;
        int slot = k.hwtail;
        while (slot != last) {
            int b = ring.bufIdx(slot);
            int flags = 0;
            if (!region.isValidBuf(b)) {
                b = region.allocBuf();
                rxRepairs++;
                if (b == 0) {
                    break;
                }
                ring.setBufIdx(slot, b);
                flags = Slot.NS_BUF_CHANGED;
            }
            long n = Linux.readAt(fd, mem, region.bufOffset(b), bufSize, READ_TOLERATED);
            if (n == Linux.AGAIN) {
                break;
            }
            if (n < 0) {
                rxDrops++;
                continue;
            }
            ring.setSlot(slot, (int) n, flags);
            slot = k.next(slot);
            rxPackets++;
        }
        k.hwtail = slot;
    }

    @Override
    public synchronized void addStats(NicStats.Builder into) {
        into.rxPackets += rxPackets;
        into.txPackets += txPackets;
        into.rxDrops += rxDrops;
        into.txDrops += txDrops;
        into.badSlots += rxRepairs + txBad;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Linux.close(fd);
        }
    }

    @Override
    public String toString() {
        return what + " (TAP fd " + fd + ")";
    }
}
