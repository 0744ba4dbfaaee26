package io.jnetmap.core.nic;

import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.core.offload.Checksums;
import io.jnetmap.core.offload.Segmenter;
import io.jnetmap.core.offload.VnetHeader;
import io.jnetmap.sys.Errno;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
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
 * interface received, as a NIC ring does; a passive capture ({@link #setPassiveCapture}) sees them too.
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
 *
 * <p><b>Offloads.</b> The socket always runs with {@code PACKET_VNET_HDR} (which works with the mapped
 * <p><b>Timestamps.</b> Each RX slot's {@code ptr} (opaque on RX elsewhere) receives the frame's kernel
 * receive time, {@code tp_sec * 10^9 + tp_nsec} nanoseconds since the epoch (V3 {@code tpacket3_hdr}
 * sec@4 nsec@8, V2 {@code tpacket2_hdr} sec@16 nsec@20), on every slot of a chain or of a segmented
 * super-frame; {@link NicPort#rxTimestamps(int)} says which rings carry them.
 *
 * <p>TPACKET_V2 and V3 rings: the kernel writes the 10-byte virtio-net header just before each frame's MAC
 * header), so a frame from a local stack comes with its state: checksum still partial, or a GSO
 * super-frame of up to 64 KiB. A port opened with {@code @vnet=10|12} gets that header in front of each
 * frame and super-frames as {@link Slot#NS_MOREFRAG} chains, and hands headers back on TX, where the
 * kernel completes checksums and segments; it receives through a TPACKET_V2 ring, each frame visible at
 * once (a V3 block is handed over only when full or timed out, at least a jiffy later, which holds back
 * every TCP ACK), super-frames read whole from the socket ({@code PACKET_COPY_THRESH}). A port without it gets plain frames: partial checksums completed and
 * super-frames cut into MTU frames here ({@link Segmenter}); its TX frames go out behind a zero header.
 */
final class PacketQueue implements NicQueue {
    static final int SOL_PACKET = 263;
    static final int PACKET_RX_RING = 5;
    static final int PACKET_STATISTICS = 6;
    static final int PACKET_VERSION = 10;
    static final int PACKET_IGNORE_OUTGOING = 23;
    static final int PACKET_VNET_HDR = 15;
    /** Longest chain (slots of one frame) taken on TX: a 64 KiB frame in 2 KiB buffers is 33. */
    static final int MAX_FRAGS = 64;
    static final int TPACKET_V2 = 1;
    static final int TPACKET_V3 = 2;
    static final int PACKET_COPY_THRESH = 7;
    static final int SO_RCVBUFFORCE = 33;
    /** TPACKET_V2 status: the frame did not fit its ring frame; the whole of it waits on the socket. */
    static final int TP_STATUS_COPY = 2;
    /** Receive buffer for those frames (super-frames): about 250 of 64 KiB. */
    static final int COPY_RCVBUF = 32 << 20;
    static final int ETH_P_ALL = 0x0003;
    static final int TP_STATUS_KERNEL = 0;
    static final int TP_STATUS_USER = 1;
    /** tp_vlan_tci holds the tag the kernel took off the frame (rx VLAN offload). */
    static final int TP_STATUS_VLAN_VALID = 1 << 4;
    /** tp_vlan_tpid holds that tag's TPID (else 0x8100). */
    static final int TP_STATUS_VLAN_TPID_VALID = 1 << 6;
    /** sll_pkttype of a frame this host sent. */
    static final int PACKET_OUTGOING = 4;
    static final int ETH_P_8021Q = 0x8100;
    /** Frames per sendmmsg (the kernel's UIO_MAXIOV). */
    static final int VLEN = 1024;
    private static final int MMSG_SIZE = 64;
    private static final int IOV_SIZE = 16;
    private static final int FRAME_SIZE = 2048;
    private static final int[] TX_TOLERATED = {Errno.ENOBUFS, Errno.EMSGSIZE, Errno.EINVAL, Errno.ENETDOWN, Errno.ENXIO};
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final ValueLayout.OfShort JAVA_SHORT_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private final String what;
    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final Region region;
    private final MemorySegment mem;
    private final int bufSize;
    /** The mapped receive ring; replaced when a passive capture rebuilds it ({@link #setPassiveCapture}). */
    private MemorySegment blocks;
    /** Owns the mapping of {@link #blocks}: closing it unmaps the ring. */
    private Arena ringArena = Arena.ofShared();
    /** Bytes per block and blocks of the receive ring (a passive capture may rebuild it with larger blocks, same total). */
    private int blockSize;
    private int blockNr;
    /** The kernel's block retire timeout of the current ring, in ms. */
    private int retireMs;
    private final MemorySegment msgs;
    private final MemorySegment iovs;
    private final int[] slotOf;
    private final int vlen;
    /** The port's header length in buffers (0, 10 or 12); the socket's is always 10. */
    private final int vnet;
    private final MemorySegment zeroHdr;
    private final int[] nextOf;
    private final Segmenter segmenter = new Segmenter();
    private boolean closed;
    /** A passive capture ({@link #setPassiveCapture}): outgoing frames seen and flagged, stripped VLAN tags put back. */
    private boolean capture;

    /** TPACKET_V2 (one frame per slot, visible at once) instead of V3 (blocks, visible when retired). */
    private final boolean v2;
    /** V2: a msghdr and its iovecs for recvmsg of a super-frame straight into a chain of buffers. */
    private final MemorySegment rxMsg;
    /** V2: the next ring frame to look at. */
    private int frameIdx;

    // RX state
    private int block;
    private int pktsLeft;
    private long pktOff;
    private long rxPackets;
    private long rxRepairs;
    private long rxDrops;
    private long rxTruncated;
    private long rxCsumDone;
    private long rxSegmented;
    private long rxBadGso;

    // TX state
    private int pendingFrom = -1;
    private long txPackets;
    private long txDrops;
    private long txBad;

    private PacketQueue(String what, int fd, Region region, int blockSize, int blockNr, int retireMs, int txSlots,
                        int vnet) {
        this.what = what;
        this.vnet = vnet;
        this.v2 = vnet != 0;
        this.fd = fd;
        this.region = region;
        this.mem = region.memory();
        this.bufSize = region.bufSize();
        this.blockSize = blockSize;
        this.blockNr = blockNr;
        this.retireMs = retireMs;
        this.vlen = Math.min(VLEN, txSlots);
        try (Arena a = Arena.ofConfined()) {
            Linux.setsockoptInt(fd, SOL_PACKET, PACKET_VERSION, v2 ? TPACKET_V2 : TPACKET_V3);
            Linux.setsockoptInt(fd, SOL_PACKET, PACKET_VNET_HDR, 1); // before the ring: EBUSY after
            if (v2) {
                // frames longer than a ring frame (super-frames) are queued whole on the socket as well
                Linux.setsockoptInt(fd, SOL_PACKET, PACKET_COPY_THRESH, 1);
                try {
                    Linux.setsockoptInt(fd, Linux.SOL_SOCKET, SO_RCVBUFFORCE, COPY_RCVBUF);
                } catch (SyscallException e) {
                    Linux.setsockoptInt(fd, Linux.SOL_SOCKET, Linux.SO_RCVBUF, COPY_RCVBUF); // capped by rmem_max
                }
            }
            setRing(a, blockNr, retireMs);
            try {
                Linux.setsockoptInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
            } catch (SyscallException e) {
                if (e.errno() != Errno.ENOPROTOOPT) {
                    throw e;
                }
            }
        }
        this.blocks = mapRing();
        this.msgs = arena.allocate((long) MMSG_SIZE * vlen, 8);
        this.iovs = arena.allocate((long) IOV_SIZE * iovPool(vlen), 8);
        this.zeroHdr = arena.allocate(VnetHeader.LEN_MRG, 8);
        this.slotOf = new int[vlen];
        this.nextOf = new int[vlen];
        this.rxMsg = arena.allocate(MMSG_SIZE + (long) IOV_SIZE * (MAX_FRAGS + 1), 8);
    }

    /** PACKET_RX_RING: {@code nr} blocks ({@code 0}: free the ring) handed over {@code retire} ms after their first frame at the latest. */
    private void setRing(Arena a, int nr, int retire) {
        MemorySegment req = a.allocate(28, 4);
        if (nr > 0) {
            req.set(JAVA_INT, 0, blockSize);
            req.set(JAVA_INT, 4, nr);
            req.set(JAVA_INT, 8, FRAME_SIZE);
            req.set(JAVA_INT, 12, blockSize / FRAME_SIZE * nr);
            req.set(JAVA_INT, 16, retire);
        }
        Linux.setsockopt(fd, SOL_PACKET, PACKET_RX_RING, req, v2 ? 16 : 28);
    }

    private MemorySegment mapRing() {
        return Linux.mmap((long) blockSize * blockNr, Linux.PROT_READ | Linux.PROT_WRITE,
                Linux.MAP_SHARED | Linux.MAP_POPULATE, fd, 0, ringArena);
    }

    /** iovecs for one batch: a header and a buffer per frame, plus one longest chain. */
    private static int iovPool(int vlen) {
        return 2 * vlen + MAX_FRAGS + 1;
    }

    /**
     * Opens the socket, maps a receive ring of {@code blockNr} blocks of {@code blockSize} bytes and binds
     * to {@code ifindex} for every protocol. System-call failures are thrown as they are.
     */
    static PacketQueue open(String what, int ifindex, Region region, int blockSize, int blockNr, int retireMs, int txSlots,
                            int vnet) {
        // protocol 0: receives nothing until bound to the interface, so no foreign frames get in
        int fd = Linux.socket(Linux.AF_PACKET, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, 0);
        PacketQueue q;
        try {
            q = new PacketQueue(what, fd, region, blockSize, blockNr, retireMs, txSlots, vnet);
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
        if (v2) {
            rxsyncV2(k);
            return;
        }
        k.hwcur = k.rhead;
        int last = k.prev(k.hwcur);
        int room = k.distance(k.hwtail, last);
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
            int took = take(k, slot, room - got, pktOff + mac, snap);
            if (took == WAIT) {
                break; // the frame needs more slots than are free: it stays in its block until the next sync
            }
            long ts = Integer.toUnsignedLong(blocks.get(JAVA_INT, pktOff + 4)) * 1_000_000_000L
                    + Integer.toUnsignedLong(blocks.get(JAVA_INT, pktOff + 8));
            if (capture && took > 0) {
                // tpacket3_hdr: tp_status@20, hv1.tp_vlan_tci@32, hv1.tp_vlan_tpid u16@36; sockaddr_ll at 48, sll_pkttype@10
                int status = blocks.get(JAVA_INT, pktOff + 20);
                int tci = blocks.get(JAVA_INT, pktOff + 32);
                int tpid = (status & TP_STATUS_VLAN_TPID_VALID) != 0 ? Short.toUnsignedInt(blocks.get(JAVA_SHORT, pktOff + 36)) : ETH_P_8021Q;
                boolean outgoing = Byte.toUnsignedInt(blocks.get(JAVA_BYTE, pktOff + 48 + 10)) == PACKET_OUTGOING;
                marks(k.ring, slot, took, (status & TP_STATUS_VLAN_VALID) != 0 || tci != 0, tpid, tci, outgoing);
            }
            for (int i = 0; i < took; i++) {
                k.ring.setPtr(slot, ts);
                slot = k.next(slot);
            }
            got += took;
            pktOff += blocks.get(JAVA_INT, pktOff);
            if (--pktsLeft == 0) {
                releaseBlock();
            }
        }
        k.hwtail = slot;
        rxPackets += got;
    }

    /**
     * TPACKET_V2: one frame per ring entry ({@code tpacket2_hdr}: status u32@0, len@4, snaplen@8,
     * mac u16@12), each visible as soon as the kernel wrote it, so a lone ACK does not wait for a block
     * to fill or time out (V3's hand-over delay is at least one jiffy: TCP through it crawls). A frame
     * longer than a ring frame (a GSO super-frame) is marked {@link #TP_STATUS_COPY} and read whole,
     * header first, with {@code recvmsg} straight into a chain of slot buffers.
     */
    private void rxsyncV2(Kring k) {
        k.hwcur = k.rhead;
        int last = k.prev(k.hwcur);
        int room = k.distance(k.hwtail, last);
        int slot = k.hwtail;
        int got = 0;
        int frames = blockSize / FRAME_SIZE * blockNr;
        while (got < room) {
            long f = (long) frameIdx * FRAME_SIZE;
            int status = (int) INT.getAcquire(blocks, f);
            if ((status & TP_STATUS_USER) == 0) {
                break;
            }
            int len = blocks.get(JAVA_INT, f + 4);
            int snap = blocks.get(JAVA_INT, f + 8);
            int mac = Short.toUnsignedInt(blocks.get(JAVA_SHORT, f + 12));
            int took;
            if ((status & TP_STATUS_COPY) != 0) {
                took = rxWhole(k, slot, room - got, len);
            } else if (snap < len) {
                rxDrops++; // too long for a ring frame, and the socket had no room for all of it
                took = 0;
            } else {
                took = take(k, slot, room - got, f + mac, snap);
            }
            if (took == WAIT) {
                break;
            }
            long ts = Integer.toUnsignedLong(blocks.get(JAVA_INT, f + 16)) * 1_000_000_000L
                    + Integer.toUnsignedLong(blocks.get(JAVA_INT, f + 20));
            for (int i = 0; i < took; i++) {
                k.ring.setPtr(slot, ts);
                slot = k.next(slot);
            }
            got += took;
            // ordered store -> the kernel reuses the frame only after we are done reading it
            INT.setRelease(blocks, f, TP_STATUS_KERNEL);
            frameIdx = frameIdx + 1 == frames ? 0 : frameIdx + 1;
        }
        k.hwtail = slot;
        rxPackets += got;
    }

    /**
     * A passive capture's marks on a frame just taken into {@code took} slots from {@code slot}: the VLAN
     * tag the kernel stripped put back after the MAC addresses (libpcap's reinsertion; a frame in one
     * slot whose buffer has room), and {@link Slot#NS_TXMON} on each slot of a frame the host sent.
     */
    private void marks(Ring ring, int slot, int took, boolean tagged, int tpid, int tci, boolean outgoing) {
        if (tagged && took == 1) {
            int len = ring.len(slot);
            if (len >= 12 && len + 4 <= bufSize) {
                long at = ring.bufOffset(slot);
                MemorySegment.copy(mem, at + 12, mem, at + 16, len - 12); // overlapping: copy handles it as memmove
                mem.set(JAVA_SHORT_BE, at + 12, (short) tpid);
                mem.set(JAVA_SHORT_BE, at + 14, (short) tci);
                ring.setLen(slot, len + 4);
            }
        }
        if (outgoing) {
            for (int i = 0, s = slot; i < took; i++, s = ring.nextSlot(s)) {
                ring.setSlot(s, ring.len(s), ring.flags(s) | Slot.NS_TXMON);
            }
        }
    }

    /**
     * Sees outgoing frames too and marks them, puts stripped VLAN tags back ({@link NicPort#setPassiveCapture}),
     * and rebuilds the receive ring with blocks handed over {@code captureRetireMs} after their first frame at the
     * latest, as libpcap does with its read timeout: a capturer of little traffic wakes once per block or timeout,
     * not every 2 ms. Frames in the ring are dropped (call it before traffic matters).
     * Only on TPACKET_V3 sockets (ports without {@code @vnet}).
     */
    synchronized void setPassiveCapture(int captureRetireMs, int captureBlockSize) {
        if (v2) {
            throw new UnsupportedOperationException(what + ": a passive capture takes plain frames (no @vnet option)");
        }
        if (captureRetireMs < 1) {
            throw new IllegalArgumentException(what + ": block timeout " + captureRetireMs + " ms (expected: >= 1)");
        }
        try {
            Linux.setsockoptInt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 0);
        } catch (SyscallException e) {
            if (e.errno() != Errno.ENOPROTOOPT) {
                throw e;
            }
        }
        if (captureBlockSize < FRAME_SIZE || Integer.bitCount(captureBlockSize) != 1) {
            throw new IllegalArgumentException(what + ": block size " + captureBlockSize + " (expected: a power of two >= " + FRAME_SIZE + ")");
        }
        if (captureRetireMs != retireMs || captureBlockSize != blockSize) {
            // the kernel frees a ring only when nothing maps it, and takes a new one only when none is set
            ringArena.close();
            ringArena = Arena.ofShared();
            long total = (long) blockSize * blockNr;
            try (Arena a = Arena.ofConfined()) {
                setRing(a, 0, 0);
                blockSize = captureBlockSize;
                blockNr = (int) Math.max(2, total / captureBlockSize);
                setRing(a, blockNr, captureRetireMs);
            }
            blocks = mapRing();
            retireMs = captureRetireMs;
            block = 0;
            pktsLeft = 0;
            // without a ring the socket queued frames (and counted those past its buffer as drops); the new ring purged
            // them: they came before the capture, so the kernel's counters start again here
            resetKernelCounters();
        }
        capture = true;
    }

    /** Reads PACKET_STATISTICS away (the kernel resets it on every read), as if the socket were new. */
    private void resetKernelCounters() {
        try (Arena a = Arena.ofConfined()) {
            Linux.getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, a.allocate(12, 4));
        }
    }

    /** The kernel's block retire timeout of the receive ring, in ms. */
    int retireMs() {
        return retireMs;
    }

    boolean isPassiveCapture() {
        return capture;
    }

    /**
     * A passive capture's frames straight out of the ring's blocks, as libpcap reads them: each ready block's frames
     * handed to {@code h} in turn, the block given back after its last frame, up to {@code limit} frames or until
     * the handler returns false (the next call goes on with the frame after). No copy for plain frames; a frame
     * whose checksum the kernel left partial, whose VLAN tag it stripped, or a GSO super-frame (as segments) is
     * delivered from a scratch buffer, as the RX ring would have it. Not to be mixed with {@link #rxsync}.
     * Returns the frames delivered.
     */
    int capture(NicPort.CaptureHandler h, int limit) {
        if (!capture) {
            throw new IllegalStateException(what + ": not a passive capture (setPassiveCapture first)");
        }
        int n = 0;
        MemorySegment bl = blocks;
        while (n < limit) {
            if (pktsLeft == 0) {
                long b = (long) block * blockSize;
                if (((int) INT.getAcquire(bl, b + 8) & TP_STATUS_USER) == 0) {
                    break;
                }
                pktsLeft = bl.get(JAVA_INT, b + 12);
                pktOff = b + bl.get(JAVA_INT, b + 16);
                if (pktsLeft == 0) {
                    releaseBlock();
                    continue;
                }
            }
            long f = pktOff;
            pktOff += bl.get(JAVA_INT, f); // tp_next_offset: the position moves on before the handler can stop
            boolean more = deliver(h, bl, f);
            n++;
            if (--pktsLeft == 0) {
                releaseBlock(); // after the handler: it read the frame where the kernel put it
            }
            if (!more) {
                break;
            }
        }
        rxPackets += n;
        return n;
    }

    /** One frame of a block ({@code tpacket3_hdr} at {@code f}) to the handler; its answer. */
    private boolean deliver(NicPort.CaptureHandler h, MemorySegment bl, long f) {
        int snap = bl.get(JAVA_INT, f + 12);
        int wire = bl.get(JAVA_INT, f + 16);
        int status = bl.get(JAVA_INT, f + 20);
        long frame = f + Short.toUnsignedInt(bl.get(JAVA_SHORT, f + 24));
        long ts = Integer.toUnsignedLong(bl.get(JAVA_INT, f + 4)) * 1_000_000_000L + Integer.toUnsignedLong(bl.get(JAVA_INT, f + 8));
        boolean outgoing = Byte.toUnsignedInt(bl.get(JAVA_BYTE, f + 48 + 10)) == PACKET_OUTGOING;
        int tci = bl.get(JAVA_INT, f + 32);
        boolean tagged = (status & TP_STATUS_VLAN_VALID) != 0 || tci != 0;
        long hdr = frame - VnetHeader.LEN;
        int gso = VnetHeader.gsoType(bl, hdr) & ~VnetHeader.GSO_ECN;
        boolean csum = (VnetHeader.flags(bl, hdr) & VnetHeader.F_NEEDS_CSUM) != 0;
        if (!tagged && !csum && gso == VnetHeader.GSO_NONE) {
            return h.frame(bl, frame, snap, wire, ts, outgoing); // the common case: the bytes where the kernel wrote them
        }
        if (gso != VnetHeader.GSO_NONE) {
            int segs = segmenter.begin(bl, frame, snap, gso, VnetHeader.gsoSize(bl, hdr));
            if (segs == Segmenter.NOT_SEGMENTABLE || segmenter.segmentLength() > scratch().byteSize()) {
                rxBadGso++;
                return true;
            }
            boolean more = true;
            for (int i = 0; i < segs && more; i++) {
                int len = segmenter.next(scratch, 0);
                more = h.frame(scratch, 0, len, len, ts, outgoing);
            }
            rxSegmented++;
            return more;
        }
        MemorySegment s = scratch();
        int len = (int) Math.min(snap, s.byteSize() - 4);
        MemorySegment.copy(bl, frame, s, 4, len);
        if (csum && len == snap && Checksums.complete(s, 4, len, VnetHeader.csumStart(bl, hdr), VnetHeader.csumOffset(bl, hdr))) {
            rxCsumDone++;
        }
        if (!tagged || len < 12) {
            return h.frame(s, 4, len, wire, ts, outgoing);
        }
        // the tag back in front of the EtherType, as libpcap puts it (the MAC addresses move 4 bytes up)
        int tpid = (status & TP_STATUS_VLAN_TPID_VALID) != 0 ? Short.toUnsignedInt(bl.get(JAVA_SHORT, f + 36)) : ETH_P_8021Q;
        MemorySegment.copy(s, 4, s, 0, 12);
        s.set(JAVA_SHORT_BE, 12, (short) tpid);
        s.set(JAVA_SHORT_BE, 14, (short) tci);
        return h.frame(s, 0, len + 4, wire + 4, ts, outgoing);
    }

    /** Room for a 64 KiB frame and a VLAN tag: the frames a capture cannot hand over in place. */
    private MemorySegment scratch;

    private MemorySegment scratch() {
        if (scratch == null) {
            scratch = arena.allocate(65536 + 4, 8);
        }
        return scratch;
    }

    /** recvmsg of the {@code len}-byte frame waiting on the socket into a chain from {@code slot}. */
    private int rxWhole(Kring k, int slot, int room, int len) {
        int n = (vnet + len + bufSize - 1) / bufSize;
        if (n > k.numSlots - 1 || n > MAX_FRAGS) {
            Linux.recv(fd, MemorySegment.NULL, 0, Linux.MSG_DONTWAIT | MSG_TRUNC); // drop it from the queue
            rxTruncated++;
            return 0;
        }
        if (n > room) {
            return WAIT;
        }
        Ring ring = k.ring;
        long base = mem.address();
        long iov = MMSG_SIZE;
        int s = slot;
        for (int i = 0; i < n; i++) {
            int buf = rxBuf(ring, s);
            if (buf == 0) {
                Linux.recv(fd, MemorySegment.NULL, 0, Linux.MSG_DONTWAIT | MSG_TRUNC);
                rxDrops++;
                return 0;
            }
            long at = base + region.bufOffset(buf);
            if (i == 0) {
                rxMsg.set(JAVA_LONG, iov, at);
                rxMsg.set(JAVA_LONG, iov + 8, VnetHeader.LEN);
                iov += IOV_SIZE;
                if (vnet == VnetHeader.LEN_MRG) {
                    mem.set(JAVA_SHORT, region.bufOffset(buf) + VnetHeader.LEN, (short) 0);
                }
                at += vnet;
            }
            rxMsg.set(JAVA_LONG, iov, at);
            rxMsg.set(JAVA_LONG, iov + 8, i == 0 ? bufSize - vnet : bufSize);
            iov += IOV_SIZE;
            ring.setSlot(s, ring.len(s), bufFlags); // NS_BUF_CHANGED if repaired
            s = k.next(s);
        }
        rxMsg.set(JAVA_LONG, 0, 0L);
        rxMsg.set(JAVA_INT, 8, 0);
        rxMsg.set(JAVA_LONG, 16, rxMsg.address() + MMSG_SIZE);
        rxMsg.set(JAVA_LONG, 24, (iov - MMSG_SIZE) / IOV_SIZE);
        rxMsg.set(JAVA_LONG, 32, 0L);
        rxMsg.set(JAVA_LONG, 40, 0L);
        long r = Linux.recvmsg(fd, rxMsg, Linux.MSG_DONTWAIT);
        if (r != VnetHeader.LEN + len) {
            rxDrops++; // not the frame the ring announced (the socket dropped it): skip this entry
            return 0;
        }
        int left = vnet + len;
        s = slot;
        for (int i = 0; i < n; i++) {
            int part = Math.min(left, bufSize);
            left -= part;
            ring.setSlot(s, part, (ring.flags(s) & Slot.NS_BUF_CHANGED) | (i < n - 1 ? Slot.NS_MOREFRAG : 0));
            s = k.next(s);
        }
        return n;
    }

    /** One received frame (its virtio-net header just before it) into slots from {@code slot}. */
    private int take(Kring k, int slot, int room, long frame, int snap) {
        long hdr = frame - VnetHeader.LEN;
        if (vnet != 0) {
            return rxChain(k, slot, room, frame, snap);
        }
        int gso = VnetHeader.gsoType(blocks, hdr) & ~VnetHeader.GSO_ECN;
        if (gso != VnetHeader.GSO_NONE) {
            return rxSegments(k, slot, room, frame, snap, gso, VnetHeader.gsoSize(blocks, hdr));
        }
        return rxPlain(k, slot, frame, snap, hdr);
    }

    private static final int WAIT = -1;
    private static final int MSG_TRUNC = 0x20;
    private int bufFlags;

    /** The buffer of {@code slot}, replaced by a fresh one if the user left a bad index (0: none left). */
    private int rxBuf(Ring ring, int slot) {
        int buf = ring.bufIdx(slot);
        bufFlags = 0;
        if (!region.isValidBuf(buf)) {
            buf = region.allocBuf();
            rxRepairs++;
            if (buf != 0) {
                ring.setBufIdx(slot, buf);
                bufFlags = Slot.NS_BUF_CHANGED;
            }
        }
        return buf;
    }

    /** One frame into one slot, its checksum completed if the header says so. Returns slots used. */
    private int rxPlain(Kring k, int slot, long frame, int snap, long hdr) {
        Ring ring = k.ring;
        int len = snap;
        if (len > bufSize) {
            len = bufSize;
            rxTruncated++;
        }
        int buf = rxBuf(ring, slot);
        if (buf == 0) {
            rxDrops++;
            return 0;
        }
        long at = region.bufOffset(buf);
        MemorySegment.copy(blocks, frame, mem, at, len);
        if ((VnetHeader.flags(blocks, hdr) & VnetHeader.F_NEEDS_CSUM) != 0 && len == snap
                && Checksums.complete(mem, at, len, VnetHeader.csumStart(blocks, hdr), VnetHeader.csumOffset(blocks, hdr))) {
            rxCsumDone++;
        }
        ring.setSlot(slot, len, bufFlags);
        return 1;
    }

    /** A super-frame cut into MTU frames, one per slot; WAIT if they do not all fit in {@code room}. */
    private int rxSegments(Kring k, int slot, int room, long frame, int snap, int gso, int gsoSize) {
        int n = segmenter.begin(blocks, frame, snap, gso, gsoSize);
        if (n == Segmenter.NOT_SEGMENTABLE || segmenter.segmentLength() > bufSize || n > k.numSlots - 1) {
            rxBadGso++;
            return 0;
        }
        if (n > room) {
            return WAIT;
        }
        Ring ring = k.ring;
        int s = slot;
        for (int i = 0; i < n; i++) {
            int buf = rxBuf(ring, s);
            if (buf == 0) {
                rxDrops += n - i; // the segments written so far go up, the rest is lost
                return i;
            }
            int len = segmenter.next(mem, region.bufOffset(buf));
            ring.setSlot(s, len, bufFlags);
            s = k.next(s);
        }
        rxSegmented++;
        return n;
    }

    /** Header and frame into a chain of slots ({@link Slot#NS_MOREFRAG} on all but the last). */
    private int rxChain(Kring k, int slot, int room, long frame, int snap) {
        int total = vnet + snap;
        int n = (total + bufSize - 1) / bufSize;
        if (n > k.numSlots - 1 || n > MAX_FRAGS) {
            rxTruncated++;
            return 0;
        }
        if (n > room) {
            return WAIT;
        }
        Ring ring = k.ring;
        int s = slot;
        long src = frame;
        int left = snap;
        for (int i = 0; i < n; i++) {
            int buf = rxBuf(ring, s);
            if (buf == 0) {
                if (i > 0) {
                    ring.setSlot(k.prev(s), ring.len(k.prev(s)), ring.flags(k.prev(s)) & ~Slot.NS_MOREFRAG);
                }
                rxDrops++;
                return i;
            }
            long at = region.bufOffset(buf);
            int head = 0;
            if (i == 0) {
                MemorySegment.copy(blocks, frame - VnetHeader.LEN, mem, at, VnetHeader.LEN);
                if (vnet == VnetHeader.LEN_MRG) {
                    mem.set(JAVA_SHORT, at + VnetHeader.LEN, (short) 0);
                }
                head = vnet;
            }
            int part = Math.min(left, bufSize - head);
            MemorySegment.copy(blocks, src, mem, at + head, part);
            src += part;
            left -= part;
            ring.setSlot(s, head + part, bufFlags | (i < n - 1 ? Slot.NS_MOREFRAG : 0));
            s = k.next(s);
        }
        return n;
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
        int pool = iovPool(vlen);
        while (pendingFrom != k.hwcur) {
            int cnt = 0;
            int iov = 0;
            int s = pendingFrom;
            while (s != k.hwcur && cnt < vlen && iov + MAX_FRAGS + 1 <= pool) {
                // one frame: the chain from s to the first slot without NS_MOREFRAG
                int first = s;
                int frags = 0;
                boolean ok = true;
                boolean complete = false;
                int e = s;
                while (e != k.hwcur) {
                    frags++;
                    int b = ring.bufIdx(e);
                    int len = ring.len(e);
                    if (!region.isValidBuf(b) || len > bufSize || (e == first && len < vnet)) {
                        ok = false;
                    }
                    boolean more = (ring.flags(e) & Slot.NS_MOREFRAG) != 0;
                    e = k.next(e);
                    if (!more) {
                        complete = true;
                        break;
                    }
                }
                if (!complete) {
                    break; // the rest of the chain comes with a later sync
                }
                if (!ok || frags > MAX_FRAGS) {
                    txBad++;
                    if (cnt == 0) {
                        pendingFrom = e;
                    }
                    s = e;
                    if (cnt == 0) {
                        continue;
                    }
                    break;
                }
                long m = (long) cnt * MMSG_SIZE;
                msgs.set(JAVA_LONG, m, 0L);
                msgs.set(JAVA_INT, m + 8, 0);
                msgs.set(JAVA_LONG, m + 16, iovs.address() + (long) iov * IOV_SIZE);
                msgs.set(JAVA_LONG, m + 32, 0L);
                msgs.set(JAVA_LONG, m + 40, 0L);
                int iov0 = iov;
                for (int x = first, i = 0; i < frags; i++, x = k.next(x)) {
                    long at = base + region.bufOffset(ring.bufIdx(x));
                    int len = ring.len(x);
                    if (i == 0) {
                        if (vnet != 0) {
                            setIov(iov++, at, VnetHeader.LEN);
                            at += vnet;
                            len -= vnet;
                        } else {
                            setIov(iov++, zeroHdr.address(), VnetHeader.LEN);
                        }
                    }
                    setIov(iov++, at, len);
                }
                msgs.set(JAVA_LONG, m + 24, (long) (iov - iov0));
                slotOf[cnt] = first;
                nextOf[cnt] = e;
                cnt++;
                s = e;
            }
            if (cnt == 0) {
                break;
            }
            int r = Linux.sendmmsg(fd, msgs, cnt, Linux.MSG_DONTWAIT, TX_TOLERATED);
            if (r == Linux.AGAIN) {
                pendingFrom = slotOf[0];
                break;
            }
            if (r < 0) {
                txDrops++; // the kernel refused the first frame: it is lost, go on with the rest
                pendingFrom = nextOf[0];
                continue;
            }
            txPackets += r;
            pendingFrom = r == cnt ? s : slotOf[r];
            if (r < cnt) {
                break;
            }
        }
        // the kernel copied every frame it accepted: those slots are free again
        k.hwtail = k.prev(pendingFrom);
    }

    private void setIov(int i, long addr, long len) {
        long o = (long) i * IOV_SIZE;
        iovs.set(JAVA_LONG, o, addr);
        iovs.set(JAVA_LONG, o + 8, len);
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
        into.badSlots += rxRepairs + rxTruncated + txBad + rxBadGso;
        into.csumCompleted += rxCsumDone;
        into.segmented += rxSegmented;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        Linux.close(fd);
        ringArena.close();
        arena.close();
    }

    @Override
    public String toString() {
        return what + " (AF_PACKET fd " + fd + ", TPACKET_V" + (v2 ? 2 : 3) + " " + blockNr + " x " + (blockSize >> 10) + " KiB"
                + (v2 ? "" : ", block timeout " + retireMs + " ms") + (capture ? ", passive capture" : "")
                + (vnet != 0 ? ", vnet " + vnet : "") + ")";
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
            if (v2) {
                int frames = blockSize / FRAME_SIZE * blockNr;
                for (long f = (long) frameIdx * FRAME_SIZE; (((int) INT.getAcquire(blocks, f)) & TP_STATUS_USER) != 0;
                        f = (long) frameIdx * FRAME_SIZE) {
                    if ((((int) INT.get(blocks, f)) & TP_STATUS_COPY) != 0) { // its bytes wait on the socket: drop them too
                        Linux.recv(fd, MemorySegment.NULL, 0, Linux.MSG_DONTWAIT | MSG_TRUNC);
                    }
                    INT.setRelease(blocks, f, TP_STATUS_KERNEL);
                    frameIdx = frameIdx + 1 == frames ? 0 : frameIdx + 1;
                }
            } else {
                while ((((int) INT.getAcquire(blocks, (long) block * blockSize + 8)) & TP_STATUS_USER) != 0) {
                    releaseBlock();
                }
                pktsLeft = 0;
            }
            attachSocketFilter(a, filter, count);
            if (capture) {
                resetKernelCounters(); // what the drop-all filter kept out was never offered to the capture
            }
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
