package io.jnetmap.core.nic;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.core.offload.Checksums;
import io.jnetmap.core.offload.Headers;
import io.jnetmap.core.offload.Segmenter;
import io.jnetmap.core.offload.VnetHeader;
import io.jnetmap.sys.Errno;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;
import io.jnetmap.sys.Xdp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * One AF_XDP socket bound to one queue of an interface, serving ring pair {@code queueId} of a
 * {@link NicPort}. The region's whole buffer pool is the socket's UMEM, so the kernel writes received
 * frames straight into region buffers and transmits from them.
 *
 * <p><b>Where frames land.</b> The kernel puts a received frame {@link Xdp#XDP_PACKET_HEADROOM} bytes
 * after the address taken from the fill ring, while a netmap slot's packet starts at its buffer's first
 * byte. The UMEM is therefore registered with unaligned chunks ({@code chunk_size = bufSize}) and
 * buffer {@code b} is posted as {@code b * bufSize - 256}: the frame lands at offset 0 of buffer
 * {@code b}. (The 256 bytes before it, the tail of buffer {@code b - 1}, are headroom the kernel does
 * not write in copy mode.)
 *
 * <p><b>RX.</b> The kernel holds {@code fillSize} spare buffers (fill ring, in flight, RX ring), more than
 * the netmap ring has slots, so bursts wait in the kernel's RX ring instead of being dropped. A received
 * frame's buffer goes into the slot at {@code hwtail} (with {@link Slot#NS_BUF_CHANGED}) and the slot's
 * old buffer goes to the fill ring in its place: buffers circulate, none is copied. Which buffers the
 * kernel side holds is tracked in a bitmap, checked on every descriptor the kernel returns and freed at
 * close.
 *
 * <p><b>TX.</b> Slots {@code [hwcur, head)} become TX descriptors pointing at their buffers; one
 * {@code sendto} kick per sync (copy mode always needs it); completions are counted and move
 * {@code tail} over finished slots in order.
 *
 * <p><b>Offloads.</b> XDP says nothing about a frame's checksum state, and a frame from a local stack
 * (over veth) may carry a partial L4 checksum. rxsync completes every checksum that is recognisably
 * partial ({@link Checksums#completeIfPartial}), so the ring holds frames any stack accepts. Super-frames
 * do not reach this queue: on veth the program runs in native mode, where the kernel turns GSO off on
 * the peer. With {@code @vnet=10|12} frames land behind a zero header ({@code vnetLen} bytes into the
 * buffer); on TX a NEEDS_CSUM header is honoured in software, and a GSO super-frame (an
 * {@link Slot#NS_MOREFRAG} chain from an AF_PACKET port, say) is cut into MTU frames
 * ({@link Segmenter}) written into {@link #TX_SPARES} buffers the queue took from the region at open:
 * its slots are free at once, the spares come back with their completions.
 */
final class XskQueue implements NicQueue {
    /** Kick results that mean "try again later", not failure. */
    private static final int[] KICK_TOLERATED = {Errno.ENOBUFS, Errno.EBUSY, Errno.ENETDOWN};
    private static final long BIND_RETRY_NANOS = 3_000_000_000L;
    private static final int ETH_HLEN = 14;
    /** Region buffers an {@code @vnet} queue keeps for segments of super-frames (a few 64 KiB frames). */
    static final int TX_SPARES = 256;
    /** The longest chain gathered for segmentation: a 64 KiB IP datagram and its Ethernet header. */
    private static final int GATHER_MAX = 65536 + 64;

    final int queueId;
    private final String what;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final Region region;
    private final MemorySegment mem;
    /** Region offset of buffer 0: address 0 of the UMEM. */
    private final long umemBase;
    private final int bufSize;
    private final int numBufs;
    private final XskRing fill;
    private final XskRing comp;
    private final XskRing rx;
    private final XskRing tx;
    private final MemorySegment fillMem;
    private final MemorySegment compMem;
    private final MemorySegment rxMem;
    private final MemorySegment txMem;
    /** One bit per region buffer: held by the kernel side (posted to fill, or received and not yet taken). */
    private final long[] kernelOwned;
    /** Per TX slot: 1 if the slot went out as a descriptor (and will complete), 0 if it was skipped. */
    private final byte[] sent;
    /** False when the interface has no TX queue of this number: the kernel would ignore every descriptor. */
    private final boolean canTransmit;
    private boolean zeroCopy;
    private boolean closed;
    /** Bytes of virtio-net header in front of each frame in the port's buffers (0, 10, 12). */
    private final int vnet;
    private final Headers rxHeaders = new Headers();
    private boolean txDropChain;
    private long rxCsumDone;
    private long txCsumDone;
    private long txSegmented;
    private final int txRingSize;
    private final Segmenter segmenter = new Segmenter();
    /** @vnet queues: spare buffers for segments (a stack), and which of them the kernel holds. */
    private final int[] spares;
    private int sparesFree;
    private final long[] spareOut;
    private final MemorySegment gather;

    // RX side state (the RX ring's thread)
    private int fillProd;
    private int rxCons;
    private int rxProdSeen;
    private long rxPackets;
    private long rxBad;

    // TX side state (the TX ring's thread)
    private int txProd;
    private int compCons;
    private int credits;
    private long txPackets;
    private long txDropped;
    private long badSlots;

    private XskQueue(String what, int fd, int queueId, Region region, int fillSize, int txSize, int txSlots,
                     boolean canTransmit, int vnet) {
        this.what = what;
        this.vnet = vnet;
        this.canTransmit = canTransmit;
        this.fd = fd;
        this.queueId = queueId;
        this.region = region;
        this.mem = region.memory();
        this.umemBase = region.bufOffset(0);
        this.bufSize = region.bufSize();
        this.numBufs = region.numBufs();
        this.kernelOwned = new long[(numBufs + 63) >>> 6];
        this.sent = new byte[txSlots];
        this.txRingSize = txSize;
        int got = 0;
        int[] sp = new int[vnet != 0 ? TX_SPARES : 0];
        if (vnet != 0) {
            int head = region.allocBufList(TX_SPARES);
            while (head != 0 && got < sp.length) {
                sp[got++] = head;
                head = mem.get(JAVA_INT, region.bufOffset(head));
            }
        }
        this.spares = sp;
        this.sparesFree = got;
        this.spareOut = new long[vnet != 0 ? (numBufs + 63) >>> 6 : 0];
        this.gather = vnet != 0 ? arena.allocate(GATHER_MAX, 8) : MemorySegment.NULL;
        try (Arena a = Arena.ofConfined()) {
            registerUmem(a);
            Linux.setsockoptInt(fd, Xdp.SOL_XDP, Xdp.XDP_UMEM_FILL_RING, fillSize);
            Linux.setsockoptInt(fd, Xdp.SOL_XDP, Xdp.XDP_UMEM_COMPLETION_RING, txSize);
            Linux.setsockoptInt(fd, Xdp.SOL_XDP, Xdp.XDP_RX_RING, fillSize);
            Linux.setsockoptInt(fd, Xdp.SOL_XDP, Xdp.XDP_TX_RING, txSize);
            try {
                // one kick sends the whole TX ring instead of 32 descriptors (Linux >= 6.17)
                Linux.setsockoptInt(fd, Xdp.SOL_XDP, Xdp.XDP_MAX_TX_SKB_BUDGET, txSize);
            } catch (SyscallException e) {
                if (e.errno() != Errno.ENOPROTOOPT && e.errno() != Errno.EINVAL) {
                    throw e;
                }
            }
            MemorySegment off = a.allocate(Xdp.MMAP_OFFSETS_SIZE, 8);
            int len = Linux.getsockopt(fd, Xdp.SOL_XDP, Xdp.XDP_MMAP_OFFSETS, off);
            if (len != Xdp.MMAP_OFFSETS_SIZE) {
                throw new NetmapException(what + ": XDP_MMAP_OFFSETS returned " + len + " bytes (expected: "
                        + Xdp.MMAP_OFFSETS_SIZE + ", Linux >= 5.4 with need-wakeup flags)");
            }
            this.rx = map(off, 0, fillSize, Xdp.DESC_SIZE, Xdp.XDP_PGOFF_RX_RING);
            this.tx = map(off, 32, txSize, Xdp.DESC_SIZE, Xdp.XDP_PGOFF_TX_RING);
            this.fill = map(off, 64, fillSize, Xdp.ADDR_SIZE, Xdp.XDP_UMEM_PGOFF_FILL_RING);
            this.comp = map(off, 96, txSize, Xdp.ADDR_SIZE, Xdp.XDP_UMEM_PGOFF_COMPLETION_RING);
            this.fillMem = fill.mem;
            this.compMem = comp.mem;
            this.rxMem = rx.mem;
            this.txMem = tx.mem;
            this.fillProd = fill.producer();
            this.rxCons = rx.consumer();
            this.txProd = tx.producer();
            this.compCons = comp.consumer();
        }
    }

    /**
     * Creates the socket, registers the region's buffer pool, maps the rings, fills the fill ring with
     * {@code fillSize} spare buffers from the region and binds to {@code ifindex}/{@code queueId} in copy
     * mode with need-wakeup (retrying EBUSY while a socket closed a moment ago is torn down).
     * {@code canTransmit} false: the interface has fewer TX than RX queues and this one has none; frames
     * sent on its ring are counted as TX drops instead of waiting forever. System-call failures are
     * thrown as they are, for the caller to explain.
     */
    static XskQueue open(String what, int ifindex, int queueId, Region region, int fillSize, int txSize, int txSlots,
                         boolean canTransmit, int vnet) {
        int fd = Linux.socket(Linux.AF_XDP, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, 0);
        XskQueue q;
        try {
            q = new XskQueue(what, fd, queueId, region, fillSize, txSize, txSlots, canTransmit, vnet);
        } catch (RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
        try {
            q.postSpares(fillSize);
            q.bind(ifindex);
            return q;
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
    }

    private void registerUmem(Arena a) {
        long len = ((long) numBufs * bufSize + 4095) & ~4095L;
        if (umemBase + len > mem.byteSize()) {
            len = mem.byteSize() - umemBase;
        }
        MemorySegment reg = a.allocate(Xdp.UMEM_REG_SIZE, 8);
        reg.set(JAVA_LONG, 0, mem.address() + umemBase);
        reg.set(JAVA_LONG, 8, len);
        reg.set(JAVA_INT, 16, bufSize);
        reg.set(JAVA_INT, 20, 0);
        reg.set(JAVA_INT, 24, Xdp.XDP_UMEM_UNALIGNED_CHUNK_FLAG);
        reg.set(JAVA_INT, 28, 0);
        Linux.setsockopt(fd, Xdp.SOL_XDP, Xdp.XDP_UMEM_REG, reg, Xdp.UMEM_REG_SIZE);
    }

    private XskRing map(MemorySegment off, long which, int size, int entry, long pgoff) {
        long len = XskRing.mapLength(off, which, size, entry);
        MemorySegment m = Linux.mmap(len, Linux.PROT_READ | Linux.PROT_WRITE, Linux.MAP_SHARED | Linux.MAP_POPULATE, fd,
                pgoff, arena);
        return new XskRing(m, off, which, size, entry);
    }

    private void postSpares(int n) {
        int head = region.allocBufList(n);
        int got = 0;
        for (int b = head; b != 0; ) {
            int next = mem.get(JAVA_INT, region.bufOffset(b));
            post(b);
            got++;
            b = next;
        }
        fill.setProducer(fillProd);
        if (got < n) {
            throw new NetmapException.OutOfMemory(what + ": region " + region.name() + " had " + got
                    + " free buffers for the AF_XDP fill ring, which needs " + n + " (use @conf:bufs= for a larger region)");
        }
    }

    private void bind(int ifindex) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sxdp = a.allocate(Xdp.SOCKADDR_XDP_SIZE, 8);
            sxdp.set(JAVA_SHORT, 0, (short) Linux.AF_XDP);
            sxdp.set(JAVA_SHORT, 2, (short) (Xdp.XDP_COPY | Xdp.XDP_USE_NEED_WAKEUP));
            sxdp.set(JAVA_INT, 4, ifindex);
            sxdp.set(JAVA_INT, 8, queueId);
            long deadline = System.nanoTime() + BIND_RETRY_NANOS;
            while (true) {
                try {
                    Linux.bind(fd, sxdp, Xdp.SOCKADDR_XDP_SIZE);
                    break;
                } catch (SyscallException e) {
                    // a socket on this queue closed a moment ago is torn down asynchronously
                    if (e.errno() != Errno.EBUSY || System.nanoTime() > deadline) {
                        throw new SyscallException("bind(AF_XDP, ifindex=" + ifindex + ", queue=" + queueId + ")", e.errno());
                    }
                    sleepMillis(20);
                }
            }
            zeroCopy = (Linux.getsockoptInt(fd, Xdp.SOL_XDP, Xdp.XDP_OPTIONS) & Xdp.XDP_OPTIONS_ZEROCOPY) != 0;
        }
    }

    private static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetmapException("interrupted while binding an AF_XDP socket", e);
        }
    }

    boolean zeroCopy() {
        return zeroCopy;
    }

    @Override
    public int fd() {
        return fd;
    }

    // ----------------------------------------------------------------------------------------------
    // kernel ownership of buffers

    private boolean owned(int b) {
        return (kernelOwned[b >>> 6] & (1L << b)) != 0;
    }

    private void setOwned(int b) {
        kernelOwned[b >>> 6] |= 1L << b;
    }

    private void clearOwned(int b) {
        kernelOwned[b >>> 6] &= ~(1L << b);
    }

    /** Puts buffer {@code b} on the fill ring (the caller publishes the producer). */
    private void post(int b) {
        long e = fill.entry(fillProd);
        fillMem.set(JAVA_LONG, e, (long) b * bufSize - Xdp.XDP_PACKET_HEADROOM + vnet);
        fillProd++;
        setOwned(b);
    }

    // ----------------------------------------------------------------------------------------------
    // RX

    @Override
    public void rxsync(Kring k) {
        k.hwcur = k.rhead;
        int last = k.prev(k.hwcur);
        int room = k.distance(k.hwtail, last);
        if (room == 0) {
            return;
        }
        int avail = rxProdSeen - rxCons;
        if (avail == 0) {
            rxProdSeen = rx.producer();
            avail = rxProdSeen - rxCons;
            if (avail == 0) {
                if (fill.needWakeup()) {
                    Linux.recv(fd, MemorySegment.NULL, 0, Linux.MSG_DONTWAIT);
                }
                return;
            }
        }
        int n = Math.min(room, avail);
        Ring ring = k.ring;
        int slot = k.hwtail;
        int delivered = 0;
        for (int i = 0; i < n; i++) {
            long d = rx.entry(rxCons + i);
            long addr = rxMem.get(JAVA_LONG, d);
            int len = rxMem.get(JAVA_INT, d + 8);
            long data = (addr & Xdp.XSK_UNALIGNED_BUF_ADDR_MASK) + (addr >>> Xdp.XSK_UNALIGNED_BUF_OFFSET_SHIFT);
            long b = data / bufSize;
            if (data % bufSize != vnet || b < 2 || b >= numBufs || !owned((int) b) || len > bufSize - vnet) {
                rxBad++; // not a buffer we posted: never put it in a slot
                continue;
            }
            int buf = (int) b;
            clearOwned(buf);
            int old = ring.bufIdx(slot);
            long at = region.bufOffset(buf);
            if (Checksums.completeIfPartial(mem, at + vnet, len, rxHeaders)) {
                rxCsumDone++;
            }
            if (vnet != 0) {
                VnetHeader.clear(mem, at, vnet);
            }
            ring.setBufIdx(slot, buf);
            ring.setSlot(slot, len + vnet, Slot.NS_BUF_CHANGED);
            if (region.isValidBuf(old) && !owned(old)) {
                post(old);
            } else {
                rxBad++; // the user left a bad index in a released slot: the kernel gets one spare less
            }
            slot = k.next(slot);
            delivered++;
        }
        rxCons += n;
        // the kernel freed one fill entry per descriptor it produced, so there is room for every post
        fill.setProducer(fillProd);
        rx.setConsumer(rxCons);
        k.hwtail = slot;
        rxPackets += delivered;
        if (fill.needWakeup()) {
            Linux.recv(fd, MemorySegment.NULL, 0, Linux.MSG_DONTWAIT);
        }
    }

    // ----------------------------------------------------------------------------------------------
    // TX

    @Override
    public void txsync(Kring k) {
        int n = k.distance(k.hwcur, k.rhead);
        if (!canTransmit) {
            txDropped += n;
            k.hwcur = k.rhead;
            k.hwtail = k.prev(k.hwcur);
            return;
        }
        if (vnet != 0) {
            txsyncVnet(k);
        } else if (n > 0) {
            Ring ring = k.ring;
            int slot = k.hwcur;
            int queued = 0;
            for (int i = 0; i < n; i++) {
                int b = ring.bufIdx(slot);
                int len = ring.len(slot) - vnet;
                boolean chained = txDropChain || (ring.flags(slot) & Slot.NS_MOREFRAG) != 0;
                txDropChain = (ring.flags(slot) & Slot.NS_MOREFRAG) != 0;
                if (region.isValidBuf(b) && len >= ETH_HLEN && !chained) {
                    if (vnet != 0) {
                        txOffload(region.bufOffset(b), len);
                    }
                    long d = tx.entry(txProd);
                    txMem.set(JAVA_LONG, d, (long) b * bufSize + vnet);
                    txMem.set(JAVA_INT, d + 8, len);
                    txMem.set(JAVA_INT, d + 12, 0);
                    txProd++;
                    sent[slot] = 1;
                    queued++;
                } else {
                    sent[slot] = 0; // the kernel would consume it without completing it: keep it out
                    badSlots++;
                }
                slot = k.next(slot);
            }
            tx.setProducer(txProd);
            k.hwcur = k.rhead;
            txPackets += queued;
        }
        if (txProd != tx.consumer() && tx.needWakeup()) {
            Linux.kick(fd, Linux.MSG_DONTWAIT, KICK_TOLERATED);
        }
        reclaim(k);
    }

    /**
     * TX of an {@code @vnet} port: a frame in one buffer goes out from it (its checksum completed if
     * the header asks); a chain or a GSO frame is gathered, segmented into spare buffers and its slots
     * are done. Stops (for a later sync) at a chain not complete yet, or when spares or TX descriptors
     * run short.
     */
    private void txsyncVnet(Kring k) {
        Ring ring = k.ring;
        int slot = k.hwcur;
        int queued = 0;
        while (slot != k.rhead) {
            int b = ring.bufIdx(slot);
            int len = ring.len(slot) - vnet;
            boolean more = (ring.flags(slot) & Slot.NS_MOREFRAG) != 0;
            int gso = region.isValidBuf(b) && len >= 0 ? VnetHeader.gsoType(mem, region.bufOffset(b)) & ~VnetHeader.GSO_ECN : 0;
            if (!more && gso == VnetHeader.GSO_NONE) {
                if (txRingSize - (txProd - tx.consumer()) == 0) {
                    break;
                }
                if (region.isValidBuf(b) && len >= ETH_HLEN) {
                    txOffload(region.bufOffset(b), len);
                    queueTx(b, vnet, len);
                    sent[slot] = 1;
                    queued++;
                } else {
                    sent[slot] = 0;
                    badSlots++;
                }
                slot = k.next(slot);
                continue;
            }
            int end = slot;
            int total = 0;
            boolean ok = true;
            boolean complete = false;
            while (end != k.rhead) {
                int eb = ring.bufIdx(end);
                int el = ring.len(end) - (end == slot ? vnet : 0);
                boolean emore = (ring.flags(end) & Slot.NS_MOREFRAG) != 0;
                if (!region.isValidBuf(eb) || el < 0 || ring.len(end) > bufSize || total + el > GATHER_MAX) {
                    ok = false;
                } else {
                    MemorySegment.copy(mem, region.bufOffset(eb) + (end == slot ? vnet : 0), gather, total, el);
                    total += el;
                }
                end = k.next(end);
                if (!emore) {
                    complete = true;
                    break;
                }
            }
            if (!complete) {
                break; // the rest of the chain comes with a later sync
            }
            int segs = 0;
            if (ok) {
                long h = region.bufOffset(b);
                segs = gso == VnetHeader.GSO_NONE ? 1
                        : segmenter.begin(gather, 0, total, gso, VnetHeader.gsoSize(mem, h));
                int segLen = gso == VnetHeader.GSO_NONE ? total : segmenter.segmentLength();
                if (segs <= 0 || segLen > bufSize || segs > spares.length) {
                    ok = false;
                } else if (segs > sparesFree || txRingSize - (txProd - tx.consumer()) < segs) {
                    break; // wait for completions to bring spares and descriptors back
                } else if (gso == VnetHeader.GSO_NONE
                        && (VnetHeader.flags(mem, h) & VnetHeader.F_NEEDS_CSUM) != 0) {
                    Checksums.complete(gather, 0, total, VnetHeader.csumStart(mem, h), VnetHeader.csumOffset(mem, h));
                }
            }
            for (int s = slot; s != end; s = k.next(s)) {
                sent[s] = 0; // copied out: the slots are free once hwtail passes them
            }
            if (!ok) {
                badSlots++;
                slot = end;
                continue;
            }
            for (int i = 0; i < segs; i++) {
                int sb = spares[--sparesFree];
                spareOut[sb >>> 6] |= 1L << sb;
                long at = region.bufOffset(sb);
                int sl;
                if (gso == VnetHeader.GSO_NONE) {
                    MemorySegment.copy(gather, 0, mem, at, total);
                    sl = total;
                } else {
                    sl = segmenter.next(mem, at);
                }
                queueTx(sb, 0, sl);
            }
            queued += segs;
            if (gso != VnetHeader.GSO_NONE) {
                txSegmented++;
            }
            slot = end;
        }
        tx.setProducer(txProd);
        k.hwcur = slot;
        txPackets += queued;
    }

    /** Queues a TX descriptor for {@code len} bytes at {@code off} in buffer {@code b}. */
    private void queueTx(int b, int off, int len) {
        long d = tx.entry(txProd);
        txMem.set(JAVA_LONG, d, (long) b * bufSize + off);
        txMem.set(JAVA_INT, d + 8, len);
        txMem.set(JAVA_INT, d + 12, 0);
        txProd++;
    }

    /** Completes the checksum a frame's header asks for (the header sits at {@code at}). */
    private void txOffload(long at, int len) {
        if ((VnetHeader.flags(mem, at) & VnetHeader.F_NEEDS_CSUM) != 0
                && Checksums.complete(mem, at + vnet, len, VnetHeader.csumStart(mem, at), VnetHeader.csumOffset(mem, at))) {
            txCsumDone++;
        }
    }

    /** Counts completions and moves {@code hwtail} over the slots they finish, in order. */
    private void reclaim(Kring k) {
        int done = comp.producer() - compCons;
        if (done > 0) {
            if (spares.length != 0) {
                // a spare's completion frees the spare, not a slot
                for (int i = 0; i < done; i++) {
                    long b = (compMem.get(JAVA_LONG, comp.entry(compCons + i)) & Xdp.XSK_UNALIGNED_BUF_ADDR_MASK) / bufSize;
                    int sb = (int) b;
                    if (b < numBufs && (spareOut[sb >>> 6] & 1L << sb) != 0) {
                        spareOut[sb >>> 6] &= ~(1L << sb);
                        spares[sparesFree++] = sb;
                    } else {
                        credits++;
                    }
                }
            } else {
                credits += done;
            }
            compCons += done;
            comp.setConsumer(compCons);
        }
        int t = k.hwtail;
        int end = k.hwcur;
        while (true) {
            int next = k.next(t);
            if (next == end) {
                break;
            }
            if (sent[next] != 0) {
                if (credits == 0) {
                    break;
                }
                credits--;
            }
            t = next;
        }
        k.hwtail = t;
    }

    // ----------------------------------------------------------------------------------------------

    @Override
    public void addStats(NicStats.Builder into) {
        into.rxPackets += rxPackets;
        into.txPackets += txPackets;
        into.badSlots += badSlots + rxBad;
        into.csumCompleted += rxCsumDone + txCsumDone;
        into.segmented += txSegmented;
        into.txDrops += txDropped;
        if (closed) {
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(Xdp.STATISTICS_SIZE, 8);
            Linux.getsockopt(fd, Xdp.SOL_XDP, Xdp.XDP_STATISTICS, st);
            long rxDropped = st.get(JAVA_LONG, 0);
            long rxRingFull = st.get(JAVA_LONG, 24);
            long fillEmpty = st.get(JAVA_LONG, 32);
            // in copy mode a frame that found the fill ring empty counts in rx_dropped as well
            into.rxDrops += rxDropped + rxRingFull + (zeroCopy ? fillEmpty : 0);
            into.txDrops += st.get(JAVA_LONG, 16);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // after close the kernel no longer writes into the UMEM; then its buffers are ours to free
        Linux.close(fd);
        arena.close();
        int head = 0;
        for (int w = 0; w < kernelOwned.length; w++) {
            long bits = kernelOwned[w];
            while (bits != 0) {
                int b = (w << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
                mem.set(JAVA_INT, region.bufOffset(b), head);
                head = b;
            }
            kernelOwned[w] = 0;
        }
        for (int w = 0; w < spareOut.length; w++) {
            long bits = spareOut[w];
            while (bits != 0) {
                spares[sparesFree++] = (w << 6) + Long.numberOfTrailingZeros(bits);
                bits &= bits - 1;
            }
            spareOut[w] = 0;
        }
        for (int i = 0; i < sparesFree; i++) {
            mem.set(JAVA_INT, region.bufOffset(spares[i]), head);
            head = spares[i];
        }
        sparesFree = 0;
        region.freeBufList(head);
    }

    @Override
    public String toString() {
        return what + " queue " + queueId + " (AF_XDP fd " + fd + (zeroCopy ? ", zero-copy" : ", copy") + ")";
    }
}
