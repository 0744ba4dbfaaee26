package io.jnetmap.vxlan;

import io.jnetmap.core.NetmapException;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.SyscallException;
import io.jnetmap.sys.Udp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One tunnel endpoint ({@code local=ADDR:PORT}) shared by every VNI port on it: a UDP socket bound to
 * the address that receives (recvmmsg, one call per batch of up to {@link #BATCH} datagrams), and a
 * raw IPv4 socket ({@code IPPROTO_RAW}) that sends, so each datagram carries its own UDP source port
 * (the inner flow's hash, RFC 7348 §5) and the DF bit. The raw socket blocks while its send buffer is
 * full, for at most 100 ms ({@code SO_SNDTIMEO}), so a burst waits for the underlay instead of being
 * lost. Received datagrams land in this socket's staging memory, are checked, and their inner frames
 * are copied to the RX ring of the port of their VNI.
 * Whichever port's rxsync runs drains the socket, under {@link #rxLock}, for all of them.
 */
final class VxlanSocket {
    static final int BATCH = 64;
    private static final int BUFFER_BYTES = 16 << 20;
    private static final int SO_SNDBUFFORCE = 32;
    private static final int SO_RCVBUFFORCE = 33;
    /** Staging bytes per datagram: a VXLAN header and an inner frame of up to 4088 bytes. */
    static final int STAGE = 4096;
    static final ValueLayout.OfInt BE_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN).withByteAlignment(1);

    private static final Map<String, VxlanSocket> OPEN = new HashMap<>();

    final String key;
    final int localIp;
    final int localPort;
    final int udpFd;
    final int rawFd;
    final ReentrantLock rxLock = new ReentrantLock();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rxHdrs;
    private final MemorySegment rxNames;
    private final MemorySegment stage;
    private volatile VxlanPort[] ports = new VxlanPort[0];
    private int refs;
    /** Failed receive calls (guarded by rxLock): every 65536th learns its errno (the others allocate nothing). */
    private int emptyPolls;
    /** Guarded by rxLock. */
    long badHeader;
    /** Guarded by rxLock. */
    long unknownVni;

    private VxlanSocket(VxlanSpec spec) {
        this.key = spec.localKey();
        this.localIp = spec.localIp();
        this.localPort = spec.localPort();
        int udp = -1;
        int raw = -1;
        try {
            udp = Linux.socket(Linux.AF_INET, Linux.SOCK_DGRAM | Linux.SOCK_NONBLOCK | Linux.SOCK_CLOEXEC, 0);
            bufferSize(udp, SO_RCVBUFFORCE, Linux.SO_RCVBUF);
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sa = a.allocate(Udp.SOCKADDR_IN_SIZE, 8);
                Udp.sockaddrIn(sa, 0, localIp, localPort);
                Linux.bind(udp, sa, Udp.SOCKADDR_IN_SIZE);
            } catch (SyscallException e) {
                throw new NetmapException("vxlan: local=" + key + " (expected: an address of this host and a free UDP port: "
                        + e.getMessage() + ")", e);
            }
            raw = Linux.socket(Linux.AF_INET, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, Udp.IPPROTO_RAW);
            bufferSize(raw, SO_SNDBUFFORCE, Linux.SO_SNDBUF);
            try (Arena a = Arena.ofConfined()) {
                // a full send buffer holds a sender back at most 100 ms; then the rest of the batch is dropped and counted
                MemorySegment tv = a.allocate(16, 8);
                tv.set(JAVA_LONG, 0, 0);
                tv.set(JAVA_LONG, 8, 100_000);
                Linux.setsockopt(raw, Linux.SOL_SOCKET, Linux.SO_SNDTIMEO, tv, 16);
            }
        } catch (RuntimeException e) {
            if (udp >= 0) {
                Linux.close(udp);
            }
            if (raw >= 0) {
                Linux.close(raw);
            }
            if (e instanceof SyscallException se && raw < 0 && udp >= 0) {
                throw new NetmapException("vxlan: cannot open a raw IPv4 socket to send (needs CAP_NET_RAW): " + se.getMessage(), se);
            }
            throw e;
        }
        this.udpFd = udp;
        this.rawFd = raw;
        this.rxHdrs = arena.allocate((long) BATCH * Udp.MMSGHDR_SIZE, 8);
        MemorySegment iovs = arena.allocate((long) BATCH * Udp.IOVEC_SIZE, 8);
        this.rxNames = arena.allocate((long) BATCH * Udp.SOCKADDR_IN_SIZE, 8);
        this.stage = arena.allocate((long) BATCH * STAGE, 64);
        for (int i = 0; i < BATCH; i++) {
            long h = (long) i * Udp.MMSGHDR_SIZE;
            rxHdrs.set(ADDRESS, h + Udp.MSG_NAME_OFFSET, rxNames.asSlice((long) i * Udp.SOCKADDR_IN_SIZE));
            rxHdrs.set(JAVA_INT, h + Udp.MSG_NAMELEN_OFFSET, Udp.SOCKADDR_IN_SIZE);
            rxHdrs.set(ADDRESS, h + Udp.MSG_IOV_OFFSET, iovs.asSlice((long) i * Udp.IOVEC_SIZE));
            rxHdrs.set(JAVA_LONG, h + Udp.MSG_IOVLEN_OFFSET, 1);
            iovs.set(ADDRESS, (long) i * Udp.IOVEC_SIZE, stage.asSlice((long) i * STAGE));
            iovs.set(JAVA_LONG, (long) i * Udp.IOVEC_SIZE + 8, STAGE);
        }
    }

    /**
     * 16 MiB of socket buffer (some 8000 small datagrams while a receiver is held up): with {@code force}
     * (root, CAP_NET_ADMIN) beyond {@code net.core.rmem_max} / {@code wmem_max}, which would otherwise cap
     * it at a few hundred datagrams; else as much as those allow.
     */
    private static void bufferSize(int fd, int force, int plain) {
        try {
            Linux.setsockoptInt(fd, Linux.SOL_SOCKET, force, BUFFER_BYTES);
        } catch (SyscallException e) {
            Linux.setsockoptInt(fd, Linux.SOL_SOCKET, plain, BUFFER_BYTES);
        }
    }

    /** The socket of {@code spec}'s local endpoint, opened on first use; registers {@code port}'s VNI on it. */
    static VxlanSocket acquire(VxlanSpec spec) {
        synchronized (OPEN) {
            VxlanSocket s = OPEN.get(spec.localKey());
            if (s == null) {
                s = new VxlanSocket(spec);
                OPEN.put(s.key, s);
            }
            s.refs++;
            return s;
        }
    }

    void register(VxlanPort p) {
        synchronized (OPEN) {
            for (VxlanPort q : ports) {
                if (q.vni == p.vni) {
                    throw new NetmapException("vxlan: vni=" + p.vni + " (expected: a VNI not yet open on local=" + key
                            + "; it is port " + q.name() + ")");
                }
            }
            VxlanPort[] a = Arrays.copyOf(ports, ports.length + 1);
            a[a.length - 1] = p;
            ports = a;
        }
    }

    /** Drops {@code p} (if registered) and one reference; the last closes the sockets. */
    void release(VxlanPort p) {
        synchronized (OPEN) {
            rxLock.lock(); // no other port's rxsync is delivering into p's ring while it leaves
            try {
                ports = Arrays.stream(ports).filter(x -> x != p).toArray(VxlanPort[]::new);
                if (--refs == 0) {
                    OPEN.remove(key);
                    Linux.close(udpFd);
                    Linux.close(rawFd);
                    arena.close();
                }
            } finally {
                rxLock.unlock();
            }
        }
    }

    private VxlanPort portOf(int vni) {
        for (VxlanPort p : ports) {
            if (p.vni == vni) {
                return p;
            }
        }
        return null;
    }

    /**
     * rxsync of {@code self}: takes back released slots, drains the socket in batches (for every VNI),
     * and publishes what arrived for {@code self}.
     */
    void rxsync(VxlanPort self, Kring k) {
        rxLock.lock();
        try {
            k.hwcur = k.rhead;
            long now = VxlanPort.seconds();
            for (int round = 0; round < 8 && self.rxTail != k.prev(k.hwcur); round++) {
                for (int i = 0; i < BATCH; i++) {
                    rxHdrs.set(JAVA_INT, (long) i * Udp.MMSGHDR_SIZE + Udp.MSG_NAMELEN_OFFSET, Udp.SOCKADDR_IN_SIZE);
                }
                int n = Udp.recvmmsgUnchecked(udpFd, rxHdrs, BATCH, Linux.MSG_DONTWAIT);
                if (n < 0 && (++emptyPolls & 0xffff) == 0) {
                    n = Udp.recvmmsg(udpFd, rxHdrs, BATCH, Linux.MSG_DONTWAIT); // now and then: EAGAIN, or the error thrown
                }
                if (n <= 0) {
                    break;
                }
                for (int i = 0; i < n; i++) {
                    handle(i, self, now);
                }
                if (n < BATCH) {
                    break;
                }
            }
            k.hwtail = self.rxTail;
        } finally {
            rxLock.unlock();
        }
    }

    /** Checks datagram {@code i} of the batch and hands its inner frame to its VNI's port. */
    private void handle(int i, VxlanPort self, long now) {
        long h = (long) i * Udp.MMSGHDR_SIZE;
        int len = rxHdrs.get(JAVA_INT, h + Udp.MSG_LEN_OFFSET);
        int flags = rxHdrs.get(JAVA_INT, h + Udp.MSG_FLAGS_OFFSET);
        long s = (long) i * STAGE;
        if ((flags & Linux.MSG_TRUNC) != 0 || len < 8 + 14) {
            badHeader++; // truncated by our buffer, shorter than a header, or an inner frame shorter than Ethernet's
            return;
        }
        int w0 = stage.get(BE_INT, s);
        int w1 = stage.get(BE_INT, s + 4);
        if (w0 != 0x08000000 || (w1 & 0xff) != 0) {
            badHeader++; // flags other than I, or a reserved bit set
            return;
        }
        VxlanPort p = portOf(w1 >>> 8);
        if (p == null) {
            unknownVni++;
            return;
        }
        int src = Udp.sockaddrInAddr(rxNames, (long) i * Udp.SOCKADDR_IN_SIZE);
        if (p.deliver(stage, s + 8, len - 8, src, now) && p != self) {
            p.rxKring(0).notifyIfWaiting();
        }
    }

    /** Copies a frame into {@code ring}'s slot with a valid buffer; false if no buffer could be had. */
    static boolean copyToSlot(Region region, Ring ring, int slot, MemorySegment from, long off, int len) {
        int b = ring.bufIdx(slot);
        int slotFlags = 0;
        if (!region.isValidBuf(b)) {
            b = region.allocBuf();
            if (b == 0) {
                return false;
            }
            ring.setBufIdx(slot, b);
            slotFlags = Slot.NS_BUF_CHANGED;
        }
        MemorySegment.copy(from, off, region.memory(), region.bufOffset(b), len);
        ring.setSlot(slot, len, slotFlags);
        return true;
    }
}
