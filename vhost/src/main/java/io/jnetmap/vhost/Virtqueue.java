package io.jnetmap.vhost;

import io.jnetmap.sys.EventFd;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * One split virtqueue in guest memory, served from the device side (virtio 1.x, 2.7):
 *
 * <pre>
 * desc   [num] { u64 addr (guest-physical); u32 len; u16 flags (NEXT 1, WRITE 2, INDIRECT 4); u16 next }   16 B each
 * avail        { u16 flags (NO_INTERRUPT 1); u16 idx; u16 ring[num]; u16 used_event }                  driver writes
 * used         { u16 flags (NO_NOTIFY 1); u16 idx; { u32 id; u32 len } ring[num]; u16 avail_event }    device writes
 * </pre>
 *
 * Everything the guest writes is untrusted and checked before use: the avail index may run at most
 * {@code num} ahead, heads and {@code next} links are below {@code num}, a chain has at most {@code num}
 * descriptors (no loops), every buffer lies inside one region of the memory table, buffers point the
 * right way (WRITE for receive, not for transmit), no INDIRECT (not negotiated). A break of these rules
 * throws {@link GuestViolation}. Indices are u16 counters kept in ints.
 *
 * <p>Ordering: the avail index is read with acquire before the entries it covers; the used index is
 * published with release after the used elements; a full fence separates our publication from the
 * read of the guest's suppression word (and the guest's from ours: the virtio barrier pairs).
 *
 * <p>Configuration fields are set by the control thread and everything is used under the port's
 * device lock.
 */
final class Virtqueue {
    static final int DESC_F_NEXT = 1;
    static final int DESC_F_WRITE = 2;
    static final int DESC_F_INDIRECT = 4;
    static final int USED_F_NO_NOTIFY = 1;
    static final int AVAIL_F_NO_INTERRUPT = 1;
    static final int MAX_SIZE = 32768;
    /** Result of {@link #popFrame}: the frame did not fit a buffer and was dropped. */
    static final int OVERSIZE = -1;

    private static final VarHandle U16 = JAVA_SHORT.varHandle();

    final int index;

    // configuration (control thread)
    int num;
    long descUva;
    long availUva;
    long usedUva;
    boolean addrSet;
    int base;
    boolean enabled;
    boolean kickSet;
    EventFd kick;
    EventFd call;

    // running state
    boolean started;
    private boolean eventIdx;
    private GuestMemory mem;
    private MemorySegment desc;
    private MemorySegment avail;
    private MemorySegment used;
    private long dOff;
    private long aOff;
    private long uOff;
    private int mask;
    /** Next avail entry to consume (u16). */
    int lastAvail;
    /** Next used entry to write (u16); published as used.idx by {@link #publishUsed()}. */
    private int usedIdx;
    private int publishedUsed;
    /** used.idx when the guest was last considered for an interrupt (event index's "old"). */
    private int signalled;

    // scratch of the chains being walked: buffers (region, offset, length), per chain its head and end
    private int[] eReg = new int[0];
    private long[] eOff = new long[0];
    private long[] eLen = new long[0];
    private int entries;
    private int[] chainHead = new int[0];
    private int[] chainEnd = new int[0];
    private int[] chainWritten = new int[0];
    private int cursorE;
    private long cursorOff;

    long calls;

    Virtqueue(int index) {
        this.index = index;
    }

    /** Sets the size (SET_VRING_NUM): a power of two up to 32768, as split queues must be. */
    void setNum(int n) {
        if (n <= 0 || n > MAX_SIZE || (n & (n - 1)) != 0) {
            throw new VhostProtocolException("SET_VRING_NUM " + index + ": num=" + n + " (expected: a power of two 1.." + MAX_SIZE + ")");
        }
        num = n;
        if (eReg.length < n) {
            eReg = new int[n];
            eOff = new long[n];
            eLen = new long[n];
            chainHead = new int[n];
            chainEnd = new int[n];
            chainWritten = new int[n];
        }
    }

    /** Whether the ring has all it needs to start (memory, size, addresses, a kick, enabled). */
    boolean startable(GuestMemory m) {
        return m != null && num > 0 && addrSet && kickSet && enabled;
    }

    /**
     * Resolves the ring addresses in {@code m} and starts serving at {@link #base} (or, on a new memory
     * table while running, where the ring stood). Throws {@link VhostProtocolException} for rings outside
     * the table or misaligned.
     */
    void start(GuestMemory m, boolean withEventIdx) {
        int dr = m.regionOfUva(descUva, 16L * num);
        int ar = m.regionOfUva(availUva, 6 + 2L * num);
        int ur = m.regionOfUva(usedUva, 6 + 8L * num);
        if (dr < 0 || ar < 0 || ur < 0 || (descUva & 15) != 0 || (availUva & 1) != 0 || (usedUva & 3) != 0) {
            started = false;
            throw new VhostProtocolException("vring " + index + ": desc=0x" + Long.toHexString(descUva) + " avail=0x"
                    + Long.toHexString(availUva) + " used=0x" + Long.toHexString(usedUva) + " for num=" + num
                    + " (expected: inside the memory table, aligned 16/2/4)");
        }
        boolean resume = started;
        mem = m;
        desc = m.segment(dr);
        dOff = m.offsetOfUva(dr, descUva);
        avail = m.segment(ar);
        aOff = m.offsetOfUva(ar, availUva);
        used = m.segment(ur);
        uOff = m.offsetOfUva(ur, usedUva);
        mask = num - 1;
        eventIdx = withEventIdx;
        if (!resume) {
            lastAvail = base & 0xffff;
            usedIdx = lastAvail;
            publishedUsed = lastAvail;
            signalled = lastAvail;
        }
        started = true;
        disableNotify();
    }

    /** Stops serving (GET_VRING_BASE, disconnect, cut-off); returns where the next avail entry is. */
    int stop() {
        started = false;
        mem = null;
        desc = avail = used = null;
        return lastAvail;
    }

    /** Entries the guest made available that we have not consumed; checked against {@code num}. */
    int availCount() {
        int idx = (short) U16.getAcquire(avail, aOff + 2) & 0xffff;
        int n = (idx - lastAvail) & 0xffff;
        if (n > num) {
            throw new GuestViolation("vring " + index + ": avail.idx=" + idx + " is " + n + " entries ahead of "
                    + lastAvail + " (expected: at most num=" + num + ")");
        }
        return n;
    }

    private int popHead() {
        int h = avail.get(JAVA_SHORT_UNALIGNED, aOff + 4 + 2L * (lastAvail & mask)) & 0xffff;
        if (h >= num) {
            throw new GuestViolation("vring " + index + ": avail.ring[" + (lastAvail & mask) + "]=" + h
                    + " (expected: a descriptor index below num=" + num + ")");
        }
        lastAvail = (lastAvail + 1) & 0xffff;
        return h;
    }

    /** Walks the chain at {@code head}, appending its buffers to the scratch; returns its byte count. */
    private long walk(int head, boolean write) {
        int i = head;
        int n = 0;
        long total = 0;
        while (true) {
            if (++n > num) {
                throw new GuestViolation("vring " + index + ": descriptor chain from " + head + " is longer than num="
                        + num + " (a loop)");
            }
            long at = dOff + 16L * i;
            long addr = desc.get(JAVA_LONG_UNALIGNED, at);
            long len = desc.get(JAVA_INT_UNALIGNED, at + 8) & 0xffffffffL;
            int flags = desc.get(JAVA_SHORT_UNALIGNED, at + 12) & 0xffff;
            int next = desc.get(JAVA_SHORT_UNALIGNED, at + 14) & 0xffff;
            if ((flags & DESC_F_INDIRECT) != 0) {
                throw new GuestViolation("vring " + index + ": descriptor " + i + " is INDIRECT (not negotiated)");
            }
            if (((flags & DESC_F_WRITE) != 0) != write) {
                throw new GuestViolation("vring " + index + ": descriptor " + i + (write ? " is not device-writable in a receive chain"
                        : " is device-writable in a transmit chain"));
            }
            if (len != 0) {
                int r = mem.regionOfGpa(addr, len);
                if (r < 0) {
                    throw new GuestViolation("vring " + index + ": descriptor " + i + " addr=0x" + Long.toHexString(addr)
                            + " len=" + len + " (expected: inside the memory table)");
                }
                if (entries == eReg.length) {
                    throw new GuestViolation("vring " + index + ": more than num=" + num + " descriptors for one packet");
                }
                eReg[entries] = r;
                eOff[entries] = mem.offsetOfGpa(r, addr);
                eLen[entries] = len;
                entries++;
                total += len;
            }
            if ((flags & DESC_F_NEXT) == 0) {
                return total;
            }
            if (next >= num) {
                throw new GuestViolation("vring " + index + ": descriptor " + i + " next=" + next
                        + " (expected: below num=" + num + ")");
            }
            i = next;
        }
    }

    private void addUsed(int head, int len) {
        long at = uOff + 4 + 8L * (usedIdx & mask);
        used.set(JAVA_INT_UNALIGNED, at, head);
        used.set(JAVA_INT_UNALIGNED, at + 4, len);
        usedIdx = (usedIdx + 1) & 0xffff;
    }

    /**
     * Transmit side (the guest sends): consumes one available chain and copies its frame, the bytes after
     * the {@code hdrLen}-byte virtio-net header, to {@code dst} at {@code dstOff}. Returns the frame
     * length, or {@link #OVERSIZE} if it exceeds {@code cap} (chain consumed, frame dropped). The caller
     * checked {@link #availCount()}.
     */
    int popFrame(MemorySegment dst, long dstOff, int cap, int hdrLen) {
        entries = 0;
        int head = popHead();
        long total = walk(head, false);
        if (total < hdrLen) {
            throw new GuestViolation("vring " + index + ": a transmit chain of " + total + " bytes, shorter than the "
                    + hdrLen + "-byte virtio-net header");
        }
        addUsed(head, 0);
        long frame = total - hdrLen;
        if (frame > cap) {
            return OVERSIZE;
        }
        long skip = hdrLen;
        long out = dstOff;
        for (int e = 0; e < entries; e++) {
            long l = eLen[e];
            long o = eOff[e];
            if (skip >= l) {
                skip -= l;
                continue;
            }
            o += skip;
            l -= skip;
            skip = 0;
            MemorySegment.copy(mem.segment(eReg[e]), o, dst, out, l);
            out += l;
        }
        return (int) frame;
    }

    /**
     * Receive side (the guest receives): writes {@code hdr} ({@code hdrLen} bytes; its {@code num_buffers}
     * set here) and the frame {@code src[srcOff, +len)} into available chains, several with mergeable
     * buffers. Returns 1 when delivered, 0 when the guest has not posted room enough (nothing consumed),
     * -1 when, without mergeable buffers, the chain was too small (consumed, frame dropped).
     */
    int deliver(MemorySegment src, long srcOff, int len, MemorySegment hdr, int hdrLen, boolean mergeable) {
        int have = availCount();
        if (have == 0) {
            return 0;
        }
        long need = hdrLen + (long) len;
        int startAvail = lastAvail;
        entries = 0;
        int chains = 0;
        long cap = 0;
        while (cap < need) {
            if (chains == have) {
                lastAvail = startAvail; // not enough room yet: leave every chain to the next try
                return 0;
            }
            int head = popHead();
            cap += walk(head, true);
            chainHead[chains] = head;
            chainEnd[chains] = entries;
            chainWritten[chains] = 0;
            chains++;
            if (!mergeable) {
                break;
            }
        }
        if (cap < need) {
            addUsed(chainHead[0], 0);
            return -1;
        }
        if (hdrLen >= 12) {
            hdr.set(JAVA_SHORT_UNALIGNED, 10, (short) chains);
        }
        cursorE = 0;
        cursorOff = 0;
        copyIn(hdr, 0, hdrLen, chains);
        copyIn(src, srcOff, len, chains);
        for (int c = 0; c < chains; c++) {
            addUsed(chainHead[c], chainWritten[c]);
        }
        return 1;
    }

    /** Copies {@code n} bytes to the scratch buffers from the cursor on, counting bytes per chain. */
    private void copyIn(MemorySegment s, long so, long n, int chains) {
        int chain = 0;
        while (chain < chains && chainEnd[chain] <= cursorE) {
            chain++;
        }
        while (n > 0) {
            long room = eLen[cursorE] - cursorOff;
            long k = Math.min(room, n);
            MemorySegment.copy(s, so, mem.segment(eReg[cursorE]), eOff[cursorE] + cursorOff, k);
            chainWritten[chain] += (int) k;
            so += k;
            n -= k;
            cursorOff += k;
            if (cursorOff == eLen[cursorE]) {
                cursorE++;
                cursorOff = 0;
                while (chain < chains - 1 && chainEnd[chain] <= cursorE) {
                    chain++;
                }
            }
        }
    }

    /** Publishes the used entries written since the last call (one release store). */
    void publishUsed() {
        if (usedIdx != publishedUsed) {
            U16.setRelease(used, uOff + 2, (short) usedIdx);
            publishedUsed = usedIdx;
        }
    }

    /**
     * Interrupts the guest if it asked to be (event index: it wants a call once used.idx passes
     * used_event; else unless it set NO_INTERRUPT). Returns true if the call eventfd was written.
     */
    boolean notifyGuest() {
        if (publishedUsed == signalled) {
            return false;
        }
        VarHandle.fullFence(); // used.idx before the read of the guest's wish (pairs with the driver's barrier)
        boolean need;
        if (eventIdx) {
            int ev = avail.get(JAVA_SHORT_UNALIGNED, aOff + 4 + 2L * num) & 0xffff;
            need = ((publishedUsed - ev - 1) & 0xffff) < ((publishedUsed - signalled) & 0xffff);
        } else {
            need = (avail.get(JAVA_SHORT_UNALIGNED, aOff) & AVAIL_F_NO_INTERRUPT) == 0;
        }
        signalled = publishedUsed;
        EventFd c = call;
        if (need && c != null) {
            c.signal();
            calls++;
            return true;
        }
        return false;
    }

    /** Asks the guest to kick once it makes a new entry available (we are about to sleep), then fences. */
    void enableNotify() {
        if (eventIdx) {
            used.set(JAVA_SHORT_UNALIGNED, uOff + 4 + 8L * num, (short) lastAvail);
        } else {
            used.set(JAVA_SHORT_UNALIGNED, uOff, (short) 0);
        }
        VarHandle.fullFence(); // the wish before the re-check of avail.idx that follows (pairs with the driver's)
    }

    /** Tells the guest not to kick (we are awake and will look anyway). With event index: leave avail_event behind. */
    void disableNotify() {
        if (!eventIdx) {
            used.set(JAVA_SHORT_UNALIGNED, uOff, (short) USED_F_NO_NOTIFY);
        }
    }

    /** Forgets the configuration (disconnect, RESET_OWNER); descriptors are closed by the caller. */
    void reset() {
        stop();
        num = 0;
        addrSet = false;
        base = 0;
        enabled = false;
        kickSet = false;
        lastAvail = 0;
    }
}
