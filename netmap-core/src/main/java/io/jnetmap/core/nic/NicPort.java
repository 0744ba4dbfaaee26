package io.jnetmap.core.nic;

import io.jnetmap.core.NetmapIf;
import io.jnetmap.core.PortName;
import io.jnetmap.core.spi.AbstractPort;
import io.jnetmap.core.spi.Kring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.sys.Epoll;
import io.jnetmap.sys.Linux;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A NIC port ({@code netmap:IF}, {@code netmap:IF-N}), a host-stack port ({@code netmap:IF^}) or both
 * ({@code netmap:IF*}): netmap rings in a region, moved by kernel queues ({@link #backend()} says which:
 * {@code af_xdp/copy/skb}, {@code af_packet/tpacket_v3+sendmmsg}, {@code tap}, or a NIC backend
 * {@code +tap}). Open one with {@code Netmap.open}; this class adds what only NIC ports have:
 * {@link #stats()}, {@link #interfaceName()}, {@link #tapName()}.
 *
 * <p>Readiness comes from the kernel: the port's {@link Pollable} waits on the queue's socket or TAP
 * descriptor, or on an epoll set of them when the port has several queues.
 */
public final class NicPort extends AbstractPort {
    /** Descriptor kind tag of NIC and host-stack ports: "nic " read as a little-endian u32 (docs/jnetmap.h). */
    public static final int KIND = 0x2063696e;

    private final String ifname;
    private final String tapName;
    /** The queue serving each bound ring, by {@link Kring#index}. */
    private final NicQueue[] queueOf;
    private final List<NicQueue> queues;
    private final Runnable onClose;
    private final Epoll epoll;
    private int epollInterest = -1;

    /**
     * @param nicQueues  queue serving NIC ring pair {@code q}, for every bound NIC ring (others absent)
     * @param hostQueues queue serving host ring pair {@code h}
     * @param onClose    run after the queues closed (detaches XDP, gives back claimed queues)
     */
    NicPort(PortName name, NetmapIf nifp, String backend, String ifname, String tapName,
            Map<Integer, NicQueue> nicQueues, Map<Integer, NicQueue> hostQueues, Runnable onClose) {
        super(name, nifp, backend);
        this.ifname = ifname;
        this.tapName = tapName;
        this.onClose = onClose;
        this.queues = new ArrayList<>();
        queues.addAll(nicQueues.values());
        queues.addAll(hostQueues.values());
        int nicRings = nifp.txRings();
        this.queueOf = new NicQueue[nifp.totalRings()];
        for (int i = 0; i < txRings(); i++) {
            map(txKring(i), nicRings, nicQueues, hostQueues);
        }
        for (int i = 0; i < rxRings(); i++) {
            map(rxKring(i), nicRings, nicQueues, hostQueues);
        }
        this.epoll = queues.size() > 1 ? new Epoll(queues.size()) : null;
        if (epoll != null) {
            for (NicQueue q : queues) {
                epoll.add(q.fd(), Linux.EPOLLIN, q.fd());
            }
            epollInterest = Pollable.IN;
        }
    }

    private void map(Kring k, int nicRings, Map<Integer, NicQueue> nicQueues, Map<Integer, NicQueue> hostQueues) {
        int id = k.ring.ringId();
        NicQueue q = id < nicRings ? nicQueues.get(id) : hostQueues.get(id - nicRings);
        if (q == null) {
            throw new IllegalStateException(name() + ": no queue for " + k);
        }
        queueOf[k.index] = q;
    }

    @Override
    protected void txsync(Kring k) {
        queueOf[k.index].txsync(k);
    }

    @Override
    protected void rxsync(Kring k) {
        queueOf[k.index].rxsync(k);
    }

    @Override
    protected int pollFd() {
        return epoll != null ? epoll.fd() : queues.get(0).fd();
    }

    /**
     * One queue: wait on its descriptor for exactly {@code interest}. Several: each member of the epoll
     * set is (re)registered for {@code interest} when it changes, and the set itself becomes readable.
     */
    @Override
    protected int pollFdEvents(int interest) {
        int want = interest & (Pollable.IN | Pollable.OUT);
        if (epoll == null) {
            return want;
        }
        if (want != epollInterest) {
            for (NicQueue q : queues) {
                epoll.modify(q.fd(), want, q.fd());
            }
            epollInterest = want;
        }
        return Pollable.IN;
    }

    /**
     * Whether RX ring {@code r} leaves each received frame's kernel timestamp in its slots' {@code ptr}
     * ({@link io.jnetmap.core.Ring#ptr(int)}: nanoseconds since the epoch, the TPACKET frame's
     * {@code tp_sec}/{@code tp_nsec}). True on AF_PACKET queues; AF_XDP and TAP queues give none.
     */
    public boolean rxTimestamps(int r) {
        return queueOf[rxKring(r).index] instanceof PacketQueue;
    }

    /** The network interface of the NIC rings, or null for a host-stack-only port. */
    public String interfaceName() {
        return ifname;
    }

    /** The TAP device of the host-stack rings, or null if the port has none. */
    public String tapName() {
        return tapName;
    }

    /** Counters summed over the port's queues, including the kernel's drop counters. */
    public NicStats stats() {
        NicStats.Builder b = new NicStats.Builder();
        for (NicQueue q : queues) {
            q.addStats(b);
        }
        return b.build();
    }

    @Override
    protected void onClose() {
        RuntimeException failure = null;
        for (NicQueue q : queues) {
            try {
                q.close();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (epoll != null) {
            epoll.close();
        }
        onClose.run();
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Makes this AF_PACKET port a passive capture, as libpcap's sockets are: it sees the frames the host
     * sends on the interface too (no {@code PACKET_IGNORE_OUTGOING}), flagged {@link io.jnetmap.core.Slot#NS_TXMON}
     * in their RX slots as a monitor flags what a port sends; VLAN tags the kernel took off a received frame
     * (rx VLAN offload) are put back in front of its EtherType, as libpcap does; and the kernel hands its
     * receive blocks ({@link NicConfig#captureBlockSize()}, 1 MiB) over when full or {@link NicConfig#captureRetireMs()}
     * (1000 ms, tcpdump's timeout) after their first frame, as libpcap's ring, instead of every 2 ms (the ring is
     * rebuilt, same total size: frames in it are dropped).
     * Call it before any traffic matters (then attach a filter, whose drop-all/drain sequence discards what came
     * before). Not for ports that forward: they would see their own transmissions, late.
     *
     * @throws UnsupportedOperationException if a queue is not AF_PACKET
     */
    public void setPassiveCapture() {
        setPassiveCapture(NicConfig.current().captureRetireMs());
    }

    /**
     * As {@link #setPassiveCapture()}, with blocks handed over at the latest {@code timeoutMs} after their first
     * frame (libpcap's {@code pcap_set_timeout}).
     */
    public void setPassiveCapture(int timeoutMs) {
        for (NicQueue q : queues) {
            if (!(q instanceof PacketQueue)) {
                throw new UnsupportedOperationException(name() + ": a passive capture needs the AF_PACKET backend (@backend=packet), this queue is " + q);
            }
        }
        for (NicQueue q : queues) {
            ((PacketQueue) q).setPassiveCapture(timeoutMs, NicConfig.current().captureBlockSize());
        }
    }

    /** What {@link #capture} hands each frame to. */
    @FunctionalInterface
    public interface CaptureHandler {
        /**
         * One frame: {@code caplen} bytes at {@code offset} of {@code segment}, readable only during the call;
         * {@code wirelen} bytes on the wire; the kernel's receive time (ns since the epoch); {@code outgoing}: the
         * host sent it. Returns false to stop after this frame.
         */
        boolean frame(java.lang.foreign.MemorySegment segment, long offset, int caplen, int wirelen, long timestampNanos,
                      boolean outgoing);
    }

    /**
     * Reads a passive capture ({@link #setPassiveCapture}) as libpcap does: the frames of every block the kernel
     * handed over go to {@code handler} where the kernel wrote them, without passing through the RX ring, each
     * block given back after its last frame. Stops after {@code limit} frames, when no block is ready, or when the
     * handler returns false (the next call goes on with the frame after). Returns the frames delivered; 0 means
     * wait for {@link #pollable()}. Use either this or the RX ring, not both.
     *
     * @throws UnsupportedOperationException if the port is not one AF_PACKET queue
     * @throws IllegalStateException         if it is not a passive capture
     */
    public int capture(CaptureHandler handler, int limit) {
        if (queues.size() != 1 || !(queues.get(0) instanceof PacketQueue q)) {
            throw new UnsupportedOperationException(name() + ": reading blocks needs one AF_PACKET queue, this port has " + queues);
        }
        return q.capture(handler, limit);
    }

    /** The descriptor that poll(2) finds readable when {@link #capture} has a block to read (one AF_PACKET queue). */
    public int captureFd() {
        if (queues.size() != 1 || !(queues.get(0) instanceof PacketQueue q)) {
            throw new UnsupportedOperationException(name() + ": reading blocks needs one AF_PACKET queue, this port has " + queues);
        }
        return q.fd();
    }

    /** The AF_PACKET queue of a one-queue port (tests). */
    PacketQueue packetQueue() {
        return (PacketQueue) queues.get(0);
    }

    /** Whether {@link #capture} can read this port: one AF_PACKET queue made a passive capture. */
    public boolean capturesBlocks() {
        return queues.size() == 1 && queues.get(0) instanceof PacketQueue q && q.isPassiveCapture();
    }

    /**
     * Runs a classic BPF filter in the kernel on every queue of this port ({@code count} 8-byte
     * {@code struct sock_filter} at {@code filter}, as SO_ATTACH_FILTER takes them), attached in libpcap's
     * sequence so that no frame it rejects reaches the rings. Only AF_PACKET queues take one.
     *
     * @throws UnsupportedOperationException if a queue is not AF_PACKET (filter in the JVM instead)
     */
    public void setSocketFilter(java.lang.foreign.MemorySegment filter, int count) {
        setFilterOnQueues(filter, count);
    }

    /**
     * Runs a classic BPF filter in the kernel on this AF_XDP port: translated to eBPF in front of the XDP
     * redirect, so only matching frames reach the sockets and the others go on to the host stack. The
     * program belongs to the interface: every port of this process on it sees the filter. Frames already
     * in the RX rings (received before the filter) are dropped, as libpcap drains before attaching.
     *
     * @throws IllegalArgumentException      if the program is not valid classic BPF (a jump backward or past the end,
     *         more than 4096 instructions, an unknown code: one line naming the instruction), checked before anything
     *         is loaded into the kernel
     * @throws UnsupportedOperationException if a queue is not AF_XDP, or the translation or the verifier
     *         refuses the program (the message says why: filter in the JVM instead)
     */
    public void setXdpFilter(java.lang.foreign.MemorySegment filter, int count) {
        java.util.LinkedHashSet<XdpProgram> programs = new java.util.LinkedHashSet<>();
        for (NicQueue q : queues) {
            XdpProgram p = q instanceof XskQueue x ? XdpProgram.ofSocket(x.fd()) : null;
            if (p == null) {
                throw new UnsupportedOperationException(name() + ": an XDP filter needs AF_XDP receive queues, this queue is " + q);
            }
            programs.add(p);
        }
        for (XdpProgram p : programs) {
            p.setFilter(filter, count);
        }
        for (int r = 0; r < rxRings(); r++) { // what came before the filter
            io.jnetmap.core.Ring ring = rxRing(r);
            ring.sync();
            ring.advanceTo(ring.tail());
            ring.sync();
        }
    }

    private void setFilterOnQueues(java.lang.foreign.MemorySegment filter, int count) {
        for (NicQueue q : queues) {
            if (!(q instanceof PacketQueue)) {
                throw new UnsupportedOperationException(name() + ": a kernel filter needs the AF_PACKET backend (@backend=packet), this queue is " + q);
            }
        }
        for (NicQueue q : queues) {
            ((PacketQueue) q).attachFilter(filter, count);
        }
    }
}
