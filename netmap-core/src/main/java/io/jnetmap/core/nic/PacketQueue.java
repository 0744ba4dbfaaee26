package io.jnetmap.core.nic;

import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.sys.Errno;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The AF_PACKET backend of a NIC ring pair: one raw socket bound to the interface, with a TPACKET_V3
 * receive ring and {@code sendmmsg} for transmission straight from region buffers.
 *
 * <p><b>RX.</b> The kernel fills blocks of the mapped ring (several frames per block, each behind a
 * {@code tpacket3_hdr}) and hands a block over when it is full or {@code retireMs} after its first
 * frame. rxsync copies frames from ready blocks into the slots at {@code hwtail} and returns a block
 * once every frame of it was copied. The socket ignores outgoing frames, so the RX ring shows what the
 * interface received, as a NIC ring does.
 *
 * <pre>
 *   tpacket_req3 (28)        block_size, block_nr, frame_size, frame_nr, retire_blk_tov, sizeof_priv, feature_req_word
 *   tpacket_block_desc       version@0, offset_to_priv@4, block_status@8, num_pkts@12, offset_to_first_pkt@16
 *   tpacket3_hdr (48)        tp_next_offset@0, tp_sec@4, tp_nsec@8, tp_snaplen@12, tp_len@16, tp_status@20,
 *                            tp_mac u16@24, tp_net u16@26
 *   sockaddr_ll (20)         family u16@0, protocol u16be@2, ifindex s32@4, ...
 *   mmsghdr (64)             msg_name@0, msg_namelen@8, msg_iov@16, msg_iovlen@24, msg_control@32,
 *                            msg_controllen@40, msg_flags@48, msg_len@56;  iovec (16): base@0, len@8
 * </pre>
 *
 * <p><b>TX.</b> txsync takes every new slot and sends them with one {@code sendmmsg} per batch of up to
 * {@link #VLEN} frames, the iovecs pointing into the region (the kernel copies each frame once). Slots
 * the kernel could not take yet (EAGAIN) wait for the next sync; frames it refuses (ENOBUFS, EMSGSIZE,
 * a link that is down) are counted as TX drops.
 */
final class PacketQueue implements NicQueue {
    static final int SOL_PACKET = 263;
    static final int PACKET_RX_RING = 5;
    static final int PACKET_STATISTICS = 6;
    static final int PACKET_VERSION = 10;
    static final int PACKET_IGNORE_OUTGOING = 23;
    static final int TPACKET_V3 = 2;
    static final int ETH_P_ALL = 0x0003;
    static final int TP_STATUS_KERNEL = 0;
    static final int TP_STATUS_USER = 1;
    /** Frames per sendmmsg (the kernel's UIO_MAXIOV). */
    static final int VLEN = 1024;
    private static final int MMSG_SIZE = 64;
    private static final int IOV_SIZE = 16;
    private static final int FRAME_SIZE = 2048;
    private static final int[] TX_TOLERATED = {Errno.ENOBUFS, Errno.EMSGSIZE, Errno.EINVAL, Errno.ENETDOWN, Errno.ENXIO};
    private static final VarHandle INT = JAVA_INT.varHandle();

    private final String what;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final Region region;
    private final MemorySegment mem;
    private final int bufSize;
    private final MemorySegment blocks;
    private final int blockSize;
    private final int blockNr;
    private final MemorySegment msgs;
    private final MemorySegment iovs;
    private final int[] slotOf;
    private final int vlen;
    private boolean closed;

    // RX state
    private int block;
    private int pktsLeft;
    private long pktOff;
    private long rxPackets;
    private long rxRepairs;
    private long rxDrops;
    private long rxTruncated;

    // TX state
    private int pendingFrom = -1;
    private long txPackets;
    private long txDrops;
    private long txBad;

    private PacketQueue(String what, int fd, Region region, int blockSize, int blockNr, int retireMs, int txSlots) {
        this.what = what;
        this.fd = fd;
        this.region = region;
        this.mem = region.memory();
        this.bufSize = region.bufSize();
        this.blockSize = blockSize;
        this.blockNr = blockNr;
        this.vlen = Math.min(VLEN, txSlots);
        try (Arena a = Arena.ofConfined()) {
            Linux.setsockoptInt(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V3);
            MemorySegment req = a.allocate(28, 4);
            req.set(JAVA_INT, 0, blockSize);
            req.set(JAVA_INT, 4, blockNr);
            req.set(JAVA_INT, 8, FRAME_SIZE);
            req.set(JAVA_INT, 12, blockSize / FRAME_SIZE * blockNr);
            req.set(JAVA_INT, 16, retireMs);
            Linux.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, req, 28);
            try {
                Linux.setsockoptInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
            } catch (SyscallException e) {
                if (e.errno() != Errno.ENOPROTOOPT) {
                    throw e;
                }
            }
        }
        this.blocks = Linux.mmap((long) blockSize * blockNr, Linux.PROT_READ | Linux.PROT_WRITE,
                Linux.MAP_SHARED | Linux.MAP_POPULATE, fd, 0, arena);
        this.msgs = arena.allocate((long) MMSG_SIZE * vlen, 8);
        this.iovs = arena.allocate((long) IOV_SIZE * vlen, 8);
        this.slotOf = new int[vlen];
        for (int i = 0; i < vlen; i++) {
            long m = (long) i * MMSG_SIZE;
            msgs.set(JAVA_LONG, m + 16, iovs.address() + (long) i * IOV_SIZE);
            msgs.set(JAVA_LONG, m + 24, 1L);
        }
    }

    /**
     * Opens the socket, maps a receive ring of {@code blockNr} blocks of {@code blockSize} bytes and binds
     * to {@code ifindex} for every protocol. System-call failures are thrown as they are.
     */
    static PacketQueue open(String what, int ifindex, Region region, int blockSize, int blockNr, int retireMs, int txSlots) {
        // protocol 0: receives nothing until bound to the interface, so no foreign frames get in
        int fd = Linux.socket(Linux.AF_PACKET, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, 0);
        PacketQueue q;
        try {
            q = new PacketQueue(what, fd, region, blockSize, blockNr, retireMs, txSlots);
        } catch (RuntimeException e) {
            Linux.close(fd);
            throw e;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sll = a.allocate(20, 4);
            sll.set(JAVA_SHORT, 0, (short) Linux.AF_PACKET);
            sll.set(JAVA_SHORT, 2, Short.reverseBytes((short) ETH_P_ALL));
            sll.set(JAVA_INT, 4, ifindex);
            Linux.bind(fd, sll, 20);
            return q;
        } catch (RuntimeException e) {
            q.close();
            throw e;
        }
    }

    @Override
    public int fd() {
        return fd;
    }

    // ----------------------------------------------------------------------------------------------
    // RX

    @Override
    public void rxsync(Kring k) {
        k.hwcur = k.rhead;
        int last = k.prev(k.hwcur);
        int room = k.distance(k.hwtail, last);
        Ring ring = k.ring;
        int slot = k.hwtail;
        int got = 0;
        while (got < room) {
            if (pktsLeft == 0) {
                long b = (long) block * blockSize;
                if (((int) INT.getAcquire(blocks, b + 8) & TP_STATUS_USER) == 0) {
                    break;
                }
                pktsLeft = blocks.get(JAVA_INT, b + 12);
                pktOff = b + blocks.get(JAVA_INT, b + 16);
                if (pktsLeft == 0) {
                    releaseBlock();
                    continue;
                }
            }
            int snap = blocks.get(JAVA_INT, pktOff + 12);
            int mac = Short.toUnsignedInt(blocks.get(JAVA_SHORT, pktOff + 24));
            int len = snap;
            if (len > bufSize) {
                len = bufSize;
                rxTruncated++;
            }
            int buf = ring.bufIdx(slot);
            int flags = 0;
            if (!region.isValidBuf(buf)) {
                // the user left a bad index in a released slot: give the slot a fresh buffer
                buf = region.allocBuf();
                rxRepairs++;
                flags = Slot.NS_BUF_CHANGED;
            }
            if (buf != 0) {
                MemorySegment.copy(blocks, pktOff + mac, mem, region.bufOffset(buf), len);
                ring.setBufIdx(slot, buf);
                ring.setSlot(slot, len, flags);
                slot = k.next(slot);
                got++;
            } else {
                rxDrops++;
            }
            pktOff += blocks.get(JAVA_INT, pktOff);
            if (--pktsLeft == 0) {
                releaseBlock();
            }
        }
        k.hwtail = slot;
        rxPackets += got;
    }

    private void releaseBlock() {
        // ordered store -> the kernel refills the block only after we are done reading it
        INT.setRelease(blocks, (long) block * blockSize + 8, TP_STATUS_KERNEL);
        block = block + 1 == blockNr ? 0 : block + 1;
    }

    // ----------------------------------------------------------------------------------------------
    // TX

    @Override
    public void txsync(Kring k) {
        if (pendingFrom < 0) {
            pendingFrom = k.hwcur;
        }
        k.hwcur = k.rhead;
        Ring ring = k.ring;
        long base = mem.address();
        while (pendingFrom != k.hwcur) {
            int cnt = 0;
            int s = pendingFrom;
            while (s != k.hwcur && cnt < vlen) {
                int b = ring.bufIdx(s);
                if (region.isValidBuf(b)) {
                    long iov = (long) cnt * IOV_SIZE;
                    iovs.set(JAVA_LONG, iov, base + region.bufOffset(b));
                    iovs.set(JAVA_LONG, iov + 8, ring.len(s));
                    slotOf[cnt++] = s;
                } else {
                    txBad++;
                }
                s = k.next(s);
            }
            if (cnt == 0) {
                pendingFrom = s;
                break;
            }
            int r = Linux.sendmmsg(fd, msgs, cnt, Linux.MSG_DONTWAIT, TX_TOLERATED);
            if (r == Linux.AGAIN) {
                pendingFrom = slotOf[0];
                break;
            }
            if (r < 0) {
                txDrops++; // the kernel refused the first frame: it is lost, go on with the rest
                pendingFrom = k.next(slotOf[0]);
                continue;
            }
            txPackets += r;
            pendingFrom = r == cnt ? s : slotOf[r];
        }
        // the kernel copied every frame it accepted: those slots are free again
        k.hwtail = k.prev(pendingFrom);
    }

    // ----------------------------------------------------------------------------------------------

    @Override
    public synchronized void addStats(NicStats.Builder into) {
        if (!closed) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment st = a.allocate(12, 4);
                Linux.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, st);
                rxDrops += Integer.toUnsignedLong(st.get(JAVA_INT, 4)); // counters reset on every read
            }
        }
        into.rxPackets += rxPackets;
        into.txPackets += txPackets;
        into.rxDrops += rxDrops;
        into.txDrops += txDrops;
        into.badSlots += rxRepairs + rxTruncated + txBad;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Linux.close(fd);
        arena.close();
    }

    @Override
    public String toString() {
        return what + " (AF_PACKET fd " + fd + ", TPACKET_V3 " + blockNr + " x " + (blockSize >> 10) + " KiB)";
    }

    /**
     * Attaches a classic BPF socket filter ({@code count} {@code struct sock_filter} at {@code filter}) in
     * libpcap's sequence: a drop-all filter first, then the ring drained of what arrived unfiltered, then the
     * filter, so that no frame the filter rejects is delivered.
     */
    synchronized void attachFilter(MemorySegment filter, int count) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dropAll = a.allocate(8, 8); // { BPF_RET | BPF_K, 0, 0, 0 }
            dropAll.set(JAVA_SHORT, 0, (short) 0x06);
            attachSocketFilter(a, dropAll, 1);
            while ((((int) INT.getAcquire(blocks, (long) block * blockSize + 8)) & TP_STATUS_USER) != 0) {
                releaseBlock();
            }
            pktsLeft = 0;
            attachSocketFilter(a, filter, count);
        }
    }

    private void attachSocketFilter(Arena a, MemorySegment filter, int count) {
        MemorySegment fprog = a.allocate(16, 8); // struct sock_fprog { u16 len; struct sock_filter *filter; }
        fprog.set(JAVA_SHORT, 0, (short) count);
        fprog.set(JAVA_LONG, 8, filter.address());
        Linux.setsockopt(fd, Linux.SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16);
    }

    static final int SO_ATTACH_FILTER = 26;
}
