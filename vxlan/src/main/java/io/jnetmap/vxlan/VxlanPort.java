package io.jnetmap.vxlan;

import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.PortName;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.Epoll;
import io.jnetmap.sys.Errno;
import io.jnetmap.sys.Linux;
import io.jnetmap.sys.Udp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A VXLAN tunnel port ({@code vxlan:local=ADDR[:PORT],vni=N,remote=ADDR...}, see {@link VxlanSpec}):
 * one TX and one RX ring. TX (txsync) encapsulates every frame in IPv4/UDP/VXLAN (RFC 7348) and sends
 * the batch with one {@code sendmmsg} on a raw socket, the frame itself straight from its ring buffer:
 * the outer UDP source port is a hash of the inner flow, DF is set, a frame too large for the underlay
 * MTU is dropped and counted. A unicast frame goes to the remote learned for its destination MAC, a
 * broadcast, multicast or unknown unicast frame to every static remote (the flood list). RX (rxsync)
 * drains the endpoint's UDP socket with {@code recvmmsg}, checks every header field, learns inner source
 * MAC -> outer source address, and puts the inner frames on the RX ring of their VNI's port.
 */
public final class VxlanPort extends AbstractPort {
    /** Descriptor kind tag: "vxln" read as a little-endian u32. */
    public static final int KIND = 0x6e6c7876;
    private static final ValueLayout.OfInt BE_INT = VxlanSocket.BE_INT;
    private static final ValueLayout.OfShort BE_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN).withByteAlignment(1);
    private static final int BATCH = VxlanSocket.BATCH;
    private static final int HDR = VxlanSpec.OUTER_HEADERS;
    private static final int[] TX_TOLERATED = {Errno.EMSGSIZE, Errno.ENETUNREACH, 113 /* EHOSTUNREACH */, Errno.ENOBUFS,
            Errno.EPERM, Errno.ECONNREFUSED, Errno.EINVAL};

    final int vni;
    private final VxlanSpec spec;
    private final VxlanSocket socket;
    private final MacTable macs;
    private final Region region;
    private final Epoll epoll;

    /** Next RX slot to fill (guarded by the socket's rxLock); rxsync publishes it as hwtail. */
    int rxTail;
    private long decapsulated;
    private long rxDropped;
    private long rxTooBig;

    private final Tx tx;

    VxlanPort(PortName name, NetmapIf nifp, VxlanSpec spec, VxlanSocket socket) {
        super(name, nifp, "vxlan/udp+sendmmsg");
        this.vni = spec.vni();
        this.spec = spec;
        this.socket = socket;
        this.region = nifp.region();
        this.macs = new MacTable(4096, spec.ageSeconds());
        this.rxTail = rxKring(0).hwtail;
        this.tx = new Tx();
        this.epoll = new Epoll(2);
        epoll.add(socket.udpFd, Linux.EPOLLIN, 0);
        epoll.add(eventFd().fd(), Linux.EPOLLIN, 1);
    }

    static long seconds() {
        return System.nanoTime() / 1_000_000_000L;
    }

    /** The VXLAN network identifier. */
    public int vni() {
        return vni;
    }

    /** The parsed specification. */
    public VxlanSpec spec() {
        return spec;
    }

    /** Learned inner MAC -> remote endpoint, entries not aged out ({@code "02:00:00:00:00:01" -> "10.0.0.2"}). */
    public Map<String, String> learned() {
        Map<String, String> out = new LinkedHashMap<>();
        macs.snapshot(seconds()).forEach((mac, ip) -> out.put(mac, Udp.formatIpv4(ip)));
        return out;
    }

    /** This port's counters (see {@link VxlanStats}). */
    public VxlanStats stats() {
        long enc;
        long noRemote;
        long tooBig;
        long txErrors;
        synchronized (tx) {
            enc = tx.encapsulated;
            noRemote = tx.noRemote;
            tooBig = tx.tooBig;
            txErrors = tx.errors;
        }
        socket.rxLock.lock();
        try {
            return new VxlanStats(enc, decapsulated, socket.badHeader, socket.unknownVni, noRemote, tooBig + rxTooBig,
                    rxDropped, txErrors);
        } finally {
            socket.rxLock.unlock();
        }
    }

    @Override
    protected void txsync(Kring k) {
        synchronized (tx) {
            tx.send(k);
        }
    }

    @Override
    protected void rxsync(Kring k) {
        socket.rxsync(this, k);
    }

    /** A frame for this VNI from {@code src} (called under the socket's rxLock). True if it was queued. */
    boolean deliver(MemorySegment from, long off, int len, int src, long now) {
        Kring k = rxKring(0);
        if (rxTail == k.prev(k.hwcur)) {
            rxDropped++;
            return false;
        }
        if (len > region.bufSize()) {
            rxTooBig++;
            return false;
        }
        if (!VxlanSocket.copyToSlot(region, k.ring, rxTail, from, off, len)) {
            rxDropped++;
            return false;
        }
        rxTail = k.next(rxTail);
        decapsulated++;
        long mac = (from.get(BE_INT, off + 6) & 0xffffffffL) << 16 | (from.get(BE_SHORT, off + 10) & 0xffff);
        if ((mac & 0x0100_0000_0000L) == 0) {
            macs.learn(mac, src, now);
        }
        return true;
    }

    @Override
    protected int pollFd() {
        return epoll.fd();
    }

    @Override
    protected int pollFdEvents(int interest) {
        return Pollable.IN; // the epoll set: the socket readable, or this port's eventfd signalled
    }

    @Override
    protected void onClose() {
        try {
            epoll.close();
        } finally {
            socket.release(this);
            tx.arena.close();
        }
    }

    /** The send side: its own mmsghdrs, iovecs and outer headers, reused for every batch. */
    private final class Tx {
        final Arena arena = Arena.ofShared();
        final MemorySegment hdrs = arena.allocate((long) BATCH * Udp.MMSGHDR_SIZE, 8);
        final MemorySegment[] from = new MemorySegment[BATCH];
        final MemorySegment iovs = arena.allocate((long) BATCH * 2 * Udp.IOVEC_SIZE, 8);
        final MemorySegment names = arena.allocate((long) BATCH * Udp.SOCKADDR_IN_SIZE, 8);
        final MemorySegment outer = arena.allocate((long) BATCH * HDR, 8);
        final MemorySegment mem = region.memory();
        final long memBase = mem.address();
        final long maxFrame = spec.maxFrame();
        final int[] remotes = spec.remotes();
        int m;
        long encapsulated;
        long noRemote;
        long tooBig;
        long errors;
        long bad;

        Tx() {
            for (int i = 0; i < BATCH; i++) {
                from[i] = hdrs.asSlice((long) i * Udp.MMSGHDR_SIZE);
                long h = (long) i * Udp.MMSGHDR_SIZE;
                hdrs.set(ADDRESS, h + Udp.MSG_NAME_OFFSET, names.asSlice((long) i * Udp.SOCKADDR_IN_SIZE));
                hdrs.set(JAVA_INT, h + Udp.MSG_NAMELEN_OFFSET, Udp.SOCKADDR_IN_SIZE);
                hdrs.set(ADDRESS, h + Udp.MSG_IOV_OFFSET, iovs.asSlice((long) i * 2 * Udp.IOVEC_SIZE));
                hdrs.set(JAVA_LONG, h + Udp.MSG_IOVLEN_OFFSET, 2);
                Udp.sockaddrIn(names, (long) i * Udp.SOCKADDR_IN_SIZE, 0, 0);
                iovs.set(ADDRESS, (long) i * 2 * Udp.IOVEC_SIZE, outer.asSlice((long) i * HDR));
                iovs.set(JAVA_LONG, (long) i * 2 * Udp.IOVEC_SIZE + 8, HDR);
                long o = (long) i * HDR;
                outer.set(JAVA_BYTE, o, (byte) 0x45);              // IPv4, 20-byte header
                outer.set(BE_SHORT, o + 6, (short) 0x4000);         // DF, never fragmented
                outer.set(JAVA_BYTE, o + 8, (byte) spec.ttl());
                outer.set(JAVA_BYTE, o + 9, (byte) Udp.IPPROTO_UDP);
                Udp.putIpv4(outer, o + 12, spec.localIp());        // 0.0.0.0: the kernel fills it in
                outer.set(BE_SHORT, o + 22, (short) spec.dstPort());
                outer.set(BE_INT, o + 28, 0x08000000);               // flags: I
                outer.set(BE_INT, o + 32, vni << 8);
            }
        }

        /** Encapsulates slots [hwcur, rhead) and sends them, one sendmmsg per batch of {@link #BATCH}. */
        void send(Kring k) {
            Ring ring = k.ring;
            long now = seconds();
            int end = k.rhead;
            for (int slot = k.hwcur; slot != end; slot = k.next(slot)) {
                if (!k.validSlot(slot)) {
                    bad++;
                    continue;
                }
                int len = ring.len(slot);
                if (len < 14) {
                    bad++;
                    continue;
                }
                if (len > maxFrame) {
                    tooBig++;
                    continue;
                }
                long off = ring.bufOffset(slot);
                int sport = 49152 | (flowHash(off, len) & 0x3fff);
                int first = mem.get(JAVA_BYTE, off);
                int to = 0;
                if ((first & 1) == 0) {
                    long dst = (mem.get(BE_INT, off) & 0xffffffffL) << 16 | (mem.get(BE_SHORT, off + 4) & 0xffff);
                    to = macs.lookup(dst, now);
                }
                if (to != 0) {
                    add(to, off, len, sport);
                } else if (remotes.length == 0) {
                    noRemote++;
                } else {
                    for (int r : remotes) {
                        add(r, off, len, sport);
                    }
                }
            }
            flush();
            k.hwcur = end;
            k.hwtail = k.prev(end);
        }

        private void add(int remote, long off, int len, int sport) {
            if (m == BATCH) {
                flush();
            }
            long o = (long) m * HDR;
            outer.set(BE_SHORT, o + 2, (short) (HDR + len));
            Udp.putIpv4(outer, o + 16, remote);
            outer.set(BE_SHORT, o + 20, (short) sport);
            outer.set(BE_SHORT, o + 24, (short) (16 + len));
            Udp.putIpv4(names, (long) m * Udp.SOCKADDR_IN_SIZE + 4, remote);
            long iov = (long) m * 2 * Udp.IOVEC_SIZE + Udp.IOVEC_SIZE;
            iovs.set(JAVA_LONG, iov, memBase + off);
            iovs.set(JAVA_LONG, iov + 8, len);
            m++;
        }

        private void flush() {
            int done = 0;
            while (done < m) {
                int r = Linux.sendmmsg(socket.rawFd, from[done], m - done, 0, TX_TOLERATED);
                if (r > 0) {
                    encapsulated += r;
                    done += r;
                } else if (r == Linux.AGAIN) {
                    errors += m - done;
                    break;
                } else {
                    if (-r == Errno.EMSGSIZE) {
                        tooBig++;
                    } else {
                        errors++;
                    }
                    done++; // the refused datagram; the rest follow
                }
            }
            m = 0;
        }

        /** RFC 7348 §5: the outer source port from the inner flow (MACs, IPv4 addresses, protocol, ports). */
        private int flowHash(long off, int len) {
            int h = mem.get(BE_INT, off) * 31 + mem.get(BE_INT, off + 4);
            h = h * 31 + mem.get(BE_INT, off + 8);
            if (len >= 34 && mem.get(BE_SHORT, off + 12) == 0x0800) {
                h = h * 31 + mem.get(BE_INT, off + 26);
                h = h * 31 + mem.get(BE_INT, off + 30);
                int proto = mem.get(JAVA_BYTE, off + 23);
                h = h * 31 + proto;
                int ihl = (mem.get(JAVA_BYTE, off + 14) & 0xf) * 4;
                if ((proto == 6 || proto == 17) && len >= 14 + ihl + 4) {
                    h = h * 31 + mem.get(BE_INT, off + 14 + ihl);
                }
            }
            h ^= h >>> 16;
            h *= 0x45d9f3b;
            return h ^ (h >>> 16);
        }
    }
}
