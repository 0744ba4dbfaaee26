package io.jnetmap.capture;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.core.nic.NicStats;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;
import io.jnetmap.sys.EventFd;
import io.jnetmap.sys.Linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What libpcap users do, over a jnetmap port or a file: {@link #openLive} / {@link #openOffline},
 * {@link #setFilter}, {@link #loop} / {@link #dispatch} with a handler that receives one reusable
 * {@link PacketView} (nothing allocated per packet), {@link #next}, {@link #stats}, {@link #inject},
 * {@link #breakLoop}, and a dumper ({@link #dumpOpen}). Not thread-safe, except {@link #breakLoop}.
 *
 * <p>A live NIC ({@code netmap:IF}) is opened passively, on the AF_PACKET backend, unless the name chooses
 * one; there the filter runs in the kernel (SO_ATTACH_FILTER), elsewhere in the JVM as bytecode, and packets are
 * read where the kernel wrote them, in its TPACKET_V3 blocks ({@link NicPort#capture}), as libpcap reads them: the
 * handler's view points into the block, which goes back to the kernel after its last packet. Other ports (pipes,
 * switch ports, monitors, AF_XDP or several AF_PACKET queues) are read through their RX slots. The system property
 * {@code jnetmap.pcap.read_slots=true} makes a handle opened after it read a NIC's slots too (to compare the two).
 *
 * <p>As libpcap's: {@link #dispatch} hands over what is ready and does not wait; {@link #loop} waits;
 * {@link #next} waits up to its timeout and returns a copy valid until the next call. {@link #breakLoop} (from
 * the handler or another thread, which it wakes) makes the running call return, or the next one if none runs.
 */
public final class Pcap implements AutoCloseable {
    /** Receives each packet; the view is valid only during the call. */
    @FunctionalInterface
    public interface Handler {
        void packet(PacketView packet);
    }

    /** A reusable view of the current packet. */
    public static final class PacketView {
        MemorySegment segment;
        long offset;
        int caplen;
        int wirelen;
        long tsNanos;
        int iface;

        public MemorySegment segment() {
            return segment;
        }

        public long offset() {
            return offset;
        }

        public int caplen() {
            return caplen;
        }

        public int wirelen() {
            return wirelen;
        }

        public long timestampNanos() {
            return tsNanos;
        }

        public int interfaceIndex() {
            return iface;
        }

        /** The captured bytes, copied (allocates: for convenience, not for hot paths). */
        public byte[] toArray() {
            return segment.asSlice(offset, caplen).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    /** libpcap's pcap_stat: received (by the filter), dropped by the kernel, dropped by the interface/us. */
    public record Stats(long received, long kernelDrops, long ifDrops) { }

    /** Frames a block read hands over before looking at the break flag and the caller's limit again. */
    private static final int BLOCK_BATCH = 8192;
    /** Longest a live wait sleeps before looking again (breakLoop wakes it at once). */
    private static final int WAIT_MS = 1000;

    private final Port port;
    private final PacketReader reader;
    private final int snaplen;
    private final PacketView view = new PacketView();
    private final Arena arena = Arena.ofShared();
    private PacketFilter filter;
    /** The filter for packets the port sent (slots flagged NS_TXMON): differs from {@link #filter} for inbound/outbound. */
    private PacketFilter filterOut;
    private String filterFallback;
    /** Where the last filter ran in the kernel ("kernel", "xdp"), or null. */
    private String kernelFilter;
    private Poller poller;
    private volatile boolean breakRequested;
    /** Blocks: what the capture socket says besides POLLIN (the interface down, deleted), read as libpcap 1.10 reads it. */
    private SocketWatch watch;
    /** The last read stopped because of {@link #breakLoop} (and took the request). */
    private boolean broke;
    private volatile boolean closed;
    private long received;
    private final long wallAtStart = System.currentTimeMillis() * 1_000_000L;
    private final long monoAtStart = System.nanoTime();

    /** Per RX ring: the slots carry the kernel's receive time (AF_PACKET), else the sync time is used. */
    private final boolean[] kernelTs;

    /** A NIC read in place from its TPACKET_V3 blocks, or null (slots, or a file). */
    private final NicPort blocks;
    private final BlockReader blockReader;
    /** Blocks: {@link #breakLoop} wakes a waiting loop through it (a loop on slots looks every 100 ms). */
    private final EventFd wake;
    /** Blocks: {@code struct pollfd} for the capture socket and {@link #wake}. */
    private final MemorySegment pollFds;
    /** {@link #next} on a live port: the packet copied here, as libpcap's oneshot buffer (its slot or block goes back). */
    private MemorySegment oneshot;
    private final Handler copyToOneshot = this::copyToOneshot;

    private Pcap(Port port, PacketReader reader, int snaplen) {
        this.port = port;
        this.reader = reader;
        this.snaplen = snaplen;
        this.kernelTs = new boolean[port == null ? 0 : port.rxRings()];
        for (int r = 0; r < kernelTs.length; r++) {
            kernelTs[r] = port instanceof NicPort nic && nic.rxTimestamps(r);
        }
        this.blocks = port instanceof NicPort nic && nic.capturesBlocks() && !Boolean.getBoolean("jnetmap.pcap.read_slots") ? nic : null;
        this.blockReader = blocks != null ? new BlockReader() : null;
        this.wake = blocks != null ? EventFd.create() : null;
        this.watch = blocks != null ? new SocketWatch(blocks, port.name(), io.jnetmap.core.nic.NicConfig.current().captureRetireMs()) : null;
        if (blocks != null) {
            pollFds = arena.allocate(16, 8);
            pollFds.set(ValueLayout.JAVA_INT, 0, blocks.captureFd());
            pollFds.set(ValueLayout.JAVA_SHORT, 4, Linux.POLLIN);
            pollFds.set(ValueLayout.JAVA_INT, 8, wake.fd());
            pollFds.set(ValueLayout.JAVA_SHORT, 12, Linux.POLLIN);
        } else {
            pollFds = null;
        }
    }

    /**
     * How this handle reads packets: "blocks" (a NIC's TPACKET_V3 blocks, in place), "slots" (the port's RX rings)
     * or "file".
     */
    public String readPath() {
        return port == null ? "file" : blocks != null ? "blocks" : "slots";
    }

    /**
     * Where a live handle's timestamps come from: "kernel" when every RX ring gives each frame's kernel
     * receive time (AF_PACKET NIC ports: TPACKET {@code tp_sec}/{@code tp_nsec}), "sync" when they are
     * the time of the sync that brought the batch, "mixed" when some rings give one and others not, and
     * "file" for an offline handle (the file's own timestamps).
     */
    public String timestampSource() {
        if (port == null) return "file";
        int k = 0;
        for (boolean b : kernelTs) if (b) k++;
        return k == kernelTs.length ? "kernel" : k == 0 ? "sync" : "mixed";
    }

    /** pcap_open_live: a port by its netmap name (a NIC passively, on AF_PACKET, with tcpdump's 1 s block timeout). */
    public static Pcap openLive(String portName, int snaplen) {
        return openLive(portName, snaplen, null);
    }

    /**
     * pcap_open_live with libpcap's {@code to_ms}: on a NIC read in blocks, the kernel hands a block over when it is
     * full or {@code timeout} after its first packet (1 ms .. 10 s); a capturer of little traffic sees packets that
     * late and wakes that seldom. Other ports deliver each packet at once and ignore it. Null: the default
     * ({@code jnetmap.capture.retire_ms}, 1000 ms).
     */
    public static Pcap openLive(String portName, int snaplen, Duration timeout) {
        if (snaplen < 1) {
            throw new IllegalArgumentException("snaplen=" + snaplen + " (expected: >= 1)");
        }
        long ms = timeout == null ? 0 : timeout.toMillis();
        if (timeout != null && (ms < 1 || ms > 10_000)) {
            throw new IllegalArgumentException("timeout=" + timeout + " (expected: 1 ms .. 10 s)");
        }
        String name = portName.startsWith("netmap:") && !portName.contains("@backend=") ? portName + "@backend=packet" : portName;
        Port p = Netmap.open(name);
        try {
            if (p.rxRings() == 0) {
                throw new IllegalArgumentException("port " + portName + " has no RX rings bound (expected: at least one to capture from)");
            }
            passiveCapture(p, (int) ms);
            Pcap pcap = new Pcap(p, null, snaplen);
            if (pcap.blocks != null && ms > 0) {
                pcap.watch = new SocketWatch(pcap.blocks, p.name(), (int) ms); // the block timeout passiveCapture set
            }
            return pcap;
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
    }

    /**
     * Makes an AF_PACKET NIC port a passive capture as libpcap's sockets are (frames the host sends seen
     * too, stripped VLAN tags put back: {@link NicPort#setPassiveCapture}); other ports are left alone.
     * Returns whether it did.
     */
    public static boolean passiveCapture(Port p) {
        return passiveCapture(p, 0);
    }

    /** As {@link #passiveCapture(Port)} with a block timeout in ms (0: the default). */
    private static boolean passiveCapture(Port p, int timeoutMs) {
        if (p instanceof NicPort nic && p.backend().toLowerCase(Locale.ROOT).contains("packet")) {
            try {
                if (timeoutMs > 0) nic.setPassiveCapture(timeoutMs);
                else nic.setPassiveCapture();
                return true;
            } catch (UnsupportedOperationException e) { // host rings (TAP), @vnet: as they are
                return false;
            }
        }
        return false;
    }

    /** pcap_open_offline: a pcap or pcapng file. */
    public static Pcap openOffline(Path file) throws IOException {
        PacketReader r = PacketReader.open(file);
        return new Pcap(null, r, Math.max(1, r.snaplen()));
    }

    /** pcap_compile: the program for an expression (Ethernet). */
    public static Bpf compile(String expression, int snaplen) {
        return FilterCompiler.compile(expression, snaplen, true);
    }

    /**
     * pcap_setfilter: compiles {@code expression}; in the kernel on AF_PACKET NIC ports ("kernel") and on
     * AF_XDP ones ("xdp", translated to eBPF in the XDP program), in the JVM elsewhere or when the verifier
     * refuses it ("jvm"; {@link #filterFallback()} says why). A program that loops ({@code protochain}: a
     * backward jump, which the kernel's classic BPF refuses) runs in the JVM on every port, as libpcap runs it
     * in user space. Returns where.
     */
    public String setFilter(String expression) {
        Bpf prog = compile(expression, snaplen);
        filterFallback = null;
        boolean kernelPort = port instanceof NicPort && (port.backend().toLowerCase(Locale.ROOT).contains("packet")
                || port.backend().toLowerCase(Locale.ROOT).contains("xdp"));
        if (kernelPort && prog.hasBackwardJump()) {
            filterFallback = "protochain loops (a backward jump), which classic BPF in the kernel refuses";
        } else if (port instanceof NicPort nic && port.backend().toLowerCase(Locale.ROOT).contains("packet")) {
            try {
                Bpf live = FilterCompiler.compileLinuxLive(expression, snaplen, true); // stripped VLAN tags as libpcap
                nic.setSocketFilter(live.toSockFilter(arena), live.length());
                filter = null;
                filterOut = null;
                return kernelFilter = "kernel";
            } catch (UnsupportedOperationException e) {
                // a queue that is not AF_PACKET (host rings): filter in the JVM
            }
        }
        if (filterFallback == null && !prog.readsAncillary() && port instanceof NicPort nic
                && port.backend().toLowerCase(Locale.ROOT).contains("xdp")) {
            try {
                nic.setXdpFilter(prog.toSockFilter(arena), prog.length());
                filter = null;
                filterOut = null;
                return kernelFilter = "xdp";
            } catch (UnsupportedOperationException e) {
                filterFallback = e.getMessage(); // the verifier refused it: filter in the JVM, and say why
            }
        }
        if (prog.readsAncillary() && reader != null) {
            throw new UnsupportedOperationException("inbound/outbound not supported on Ethernet when reading savefiles");
        }
        if (kernelFilter != null && port instanceof NicPort nic) {
            // an earlier filter still runs in the kernel: let everything through there, filter here
            Bpf all = new Bpf(Bpf.Insn.stmt(Bpf.RET | Bpf.K, snaplen));
            if (kernelFilter.equals("kernel")) nic.setSocketFilter(all.toSockFilter(arena), all.length());
            else nic.setXdpFilter(all.toSockFilter(arena), all.length());
            kernelFilter = null;
        }
        // a port's RX slots are what it received, its monitor's NS_TXMON copies what it sent
        filter = PacketFilter.bytecode(prog.withPacketType(Bpf.PACKET_HOST));
        filterOut = prog.readsAncillary() ? PacketFilter.bytecode(prog.withPacketType(Bpf.PACKET_OUTGOING)) : filter;
        return "jvm";
    }

    /**
     * Why the last filter runs in the JVM although the port could run it in the kernel (the XDP verifier's
     * refusal, or a looping program), or null.
     */
    public String filterFallback() {
        return filterFallback;
    }

    /**
     * pcap_breakloop: the running {@link #loop}, {@link #dispatch} or {@link #next} returns after the current packet
     * (from the handler) or before the next one (from another thread, waking it if it waits: at once on a NIC read in
     * blocks, within 100 ms on other ports); if none runs, the next call returns at once. The call that returns takes
     * the request.
     */
    public void breakLoop() {
        breakRequested = true;
        if (wake != null && !closed) {
            wake.signal();
        }
    }

    /** Takes a pending {@link #breakLoop} request: true if there was one (the read stops). */
    private boolean takeBreak() {
        if (breakRequested) {
            breakRequested = false;
            broke = true;
            return true;
        }
        return false;
    }

    /**
     * pcap_dispatch (non-blocking, as after pcap_setnonblock): the packets ready now, at most {@code max} (0 = all
     * of one batch: every ready block of a NIC, the filled slots of each RX ring, the rest of a file); returns how
     * many were handed over. Never waits.
     */
    public int dispatch(int max, Handler h) throws IOException {
        broke = false;
        try {
            return read(max <= 0 ? Integer.MAX_VALUE : max, h);
        } catch (io.jnetmap.core.PortBrokenException e) {
            throw new CaptureEndedException(e.getMessage(), e);
        }
    }

    private int read(int limit, Handler h) throws IOException {
        if (takeBreak()) {
            return 0;
        }
        if (blocks != null) {
            return readBlocks(limit, h);
        }
        if (reader != null) {
            return readFile(limit, h);
        }
        return readSlots(limit, h);
    }

    private int readFile(int limit, Handler h) throws IOException {
        int n = 0;
        while (n < limit && reader.next()) {
            received++;
            if (filter == null || filter.matches(reader.segment(), reader.offset(), reader.caplen(), reader.wirelen())) {
                view.segment = reader.segment();
                view.offset = reader.offset();
                view.caplen = Math.min(reader.caplen(), snaplen);
                view.wirelen = reader.wirelen();
                view.tsNanos = reader.timestampNanos();
                view.iface = reader.interfaceIndex();
                h.packet(view);
                n++;
            }
            if (takeBreak()) {
                break;
            }
        }
        return n;
    }

    private int readSlots(int limit, Handler h) {
        int n = 0;
        long ts = wallAtStart + (System.nanoTime() - monoAtStart);
        boolean stop = false;
        for (int r = 0; r < port.rxRings() && n < limit && !stop; r++) {
            Ring ring = port.rxRing(r);
            boolean kts = kernelTs[r];
            int avail = ring.space();
            int head = ring.head();
            int bufSize = ring.bufSize();
            try {
                for (int k = 0; k < avail && n < limit && !stop; k++) {
                    int len = ring.len(head);
                    long off = ring.bufOffset(head);
                    int have = Math.min(len, bufSize);
                    received++;
                    PacketFilter f = (ring.flags(head) & io.jnetmap.core.Slot.NS_TXMON) != 0 ? filterOut : filter;
                    int slot = head;
                    head = ring.nextSlot(head); // the slot is taken even if the handler throws
                    if (f == null || f.matches(ring.memory(), off, have, len)) {
                        view.segment = ring.memory();
                        view.offset = off;
                        view.caplen = Math.min(have, snaplen);
                        view.wirelen = len;
                        view.tsNanos = kts ? ring.ptr(slot) : ts;
                        view.iface = 0;
                        h.packet(view);
                        n++;
                    }
                    stop = takeBreak();
                }
            } finally {
                ring.advanceTo(head);
            }
        }
        port.rxSync();
        return n;
    }

    /**
     * What a NIC's block reader hands each frame to: the filter, then the caller's handler with the view on the
     * frame where the kernel wrote it. Stops the block reader at the caller's limit, on {@link #breakLoop}, or when
     * the handler throws (kept, thrown after the reader has put its place in the block right).
     */
    private final class BlockReader implements NicPort.CaptureHandler {
        Handler handler;
        int limit;
        int handed;
        Throwable failure;

        @Override
        public boolean frame(MemorySegment seg, long off, int caplen, int wirelen, long ts, boolean outgoing) {
            PacketFilter f = outgoing ? filterOut : filter;
            if (f == null || f.matches(seg, off, caplen, wirelen)) {
                PacketView v = view;
                v.segment = seg;
                v.offset = off;
                v.caplen = Math.min(caplen, snaplen);
                v.wirelen = wirelen;
                v.tsNanos = ts;
                v.iface = 0;
                try {
                    handler.packet(v);
                } catch (Throwable t) {
                    failure = t;
                    return false;
                }
                handed++;
            }
            return handed < limit && !breakRequested;
        }
    }

    private int readBlocks(int limit, Handler h) {
        BlockReader r = blockReader;
        r.handler = h;
        r.limit = limit;
        r.handed = 0;
        int got;
        do {
            got = blocks.capture(r, BLOCK_BATCH);
        } while (got == BLOCK_BATCH && r.handed < limit && !breakRequested && r.failure == null);
        r.handler = null;
        Throwable t = r.failure;
        if (t != null) {
            r.failure = null;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            throw new IllegalStateException("the handler failed", t); // a checked exception thrown sneakily
        }
        takeBreak();
        return r.handed;
    }

    /**
     * pcap_loop: until {@code count} packets (0 = forever), the end of the file, or {@link #breakLoop}, waiting for
     * packets on a live port. Returns the packets handed over; {@link #broken()} says whether breakLoop ended it.
     * As libpcap 1.10's, a NIC that goes down is waited for (it may come back up); one that disappears ends the loop,
     * after the frames the kernel still held for it; a monitor of a port of another process ends, after every copy
     * relayed, when that port closes or its process dies.
     *
     * @throws IOException if the file is corrupt, the NIC disappeared ("PORT: the interface disappeared") or its
     *                     capture socket reports another error, or the port stopped for good (the monitored port closed)
     */
    public long loop(long count, Handler h) throws IOException {
        try {
            return loopOn(count, h);
        } catch (io.jnetmap.core.PortBrokenException e) {
            throw new CaptureEndedException(e.getMessage(), e);
        }
    }

    private long loopOn(long count, Handler h) throws IOException {
        long got = 0;
        broke = false;
        while (count <= 0 || got < count) {
            int n = read(count <= 0 ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE, count - got), h);
            got += n;
            if (broke) {
                break;
            }
            if (n == 0) {
                if (reader != null) break;
                waitForPackets(WAIT_MS);
            }
        }
        return got;
    }

    /** Whether the last {@link #loop}, {@link #dispatch} or {@link #next} returned because of {@link #breakLoop} (libpcap's -2). */
    public boolean broken() {
        return broke;
    }

    /**
     * pcap_next_ex: the next packet, or null at the end of a file, after {@code timeout} live, or on
     * {@link #breakLoop}. On a live port the view holds a copy (its slot or block has gone back), valid until the
     * next call; on a file, the reader's bytes, valid until the next call too.
     */
    public PacketView next(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        broke = false;
        try {
            return nextOn(deadline);
        } catch (io.jnetmap.core.PortBrokenException e) {
            throw new CaptureEndedException(e.getMessage(), e);
        }
    }

    private PacketView nextOn(long deadline) throws IOException {
        while (true) {
            if (read(1, reader != null ? NOTHING : copyToOneshot) > 0) return view;
            if (reader != null || broke) return null;
            long left = deadline - System.nanoTime();
            if (left <= 0) return null;
            waitForPackets((int) Math.min(WAIT_MS, Math.max(1, (left + 999_999) / 1_000_000)));
        }
    }

    private static final Handler NOTHING = v -> { };

    private void copyToOneshot(PacketView v) {
        if (oneshot == null) {
            oneshot = arena.allocate(Math.min(snaplen, 1 << 18), 8);
        }
        int len = (int) Math.min(v.caplen, oneshot.byteSize());
        MemorySegment.copy(v.segment, v.offset, oneshot, 0, len);
        v.segment = oneshot;
        v.offset = 0;
        v.caplen = len;
    }

    /**
     * Sleeps until the port may have packets, {@link #breakLoop} is called, or {@code timeoutMs} passed.
     *
     * @throws IOException if the capture socket reports an error or the interface disappeared ({@link SocketWatch})
     */
    private void waitForPackets(int timeoutMs) throws IOException {
        if (blocks != null) {
            int ms = watch.timeout(timeoutMs);
            // the socket is readable when a block is ready; rxsync is never called (the blocks are read in place)
            pollFds.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
            pollFds.set(ValueLayout.JAVA_SHORT, 14, (short) 0);
            if (!breakRequested) {
                Linux.poll(pollFds, 2, ms);
            }
            if (pollFds.get(ValueLayout.JAVA_SHORT, 14) != 0) {
                wake.drain();
            }
            watch.polled(pollFds.get(ValueLayout.JAVA_SHORT, 6));
            return;
        }
        // slots: the port's own readiness (syncs included), looking at the break flag every 100 ms at the latest (an
        // eventfd beside it would cost a poll(2) per look while the poller spins)
        if (poller == null) {
            poller = new Poller(WaitStrategy.spinThenBlock(Duration.ofNanos(50_000)));
            poller.add(port.pollable(), Pollable.IN);
        }
        if (!breakRequested) {
            poller.poll(Math.min(timeoutMs, 100) * 1_000_000L);
        }
    }

    /**
     * The interface a NIC capture read from was deleted (libpcap's "The interface disappeared"). The frames of the block
     * the kernel was filling come with its block timeout: a reader that wants them all reads on until then.
     */
    public static final class InterfaceGoneException extends CaptureEndedException {
        private static final long serialVersionUID = 1L;

        public InterfaceGoneException(String message) {
            super(message, null);
        }
    }

    /**
     * The port stopped delivering for good: a NIC's capture socket reported an error ({@link SocketWatch}), the
     * monitored port of another process closed, or that process died. What was read before it has been handed over.
     */
    public static class CaptureEndedException extends IOException {
        private static final long serialVersionUID = 1L;

        public CaptureEndedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * A NIC capture socket's end, read as libpcap 1.10 reads it, for {@link #loop} and the {@code capture} tool:
     * a waiter asks {@link #timeout} how long it may sleep, then hands {@link #polled} what poll(2) reported. An
     * interface that goes down is waited for (tcpdump waits for it to come back up); one deleted ends the capture
     * with {@link InterfaceGoneException} once its last block, which the kernel hands over with its block timeout,
     * has been read. The kernel sets ENETDOWN and wakes the socket a moment before it forgets the socket's interface
     * (its ifindex becomes -1), so after a down the waits look again for a while.
     */
    public static final class SocketWatch {
        /** How long after a down the waits look for a deletion (the kernel completes it microseconds after the error). */
        private static final long DOWN_LOOK_NANOS = 2_000_000_000L;
        /** The longest wait while a down may still turn out to be a deletion, ms. */
        private static final int DOWN_WAIT_MS = 500;
        private static final int SO_ERROR = 4;

        private final NicPort nic;
        private final String name;
        private final long retireNanos;
        /** When the interface went down (or began to be deleted), 0 if not. */
        private long wentDownAt;
        /** The interface disappeared: thrown once its last block has been read (or could not come any more). */
        private InterfaceGoneException gone;
        /** {@link System#nanoTime()} after which {@link #gone} is thrown even if no last block came. */
        private long goneDeadline;

        /** @param retireMs the socket's block timeout (the last block of a deleted interface comes this late) */
        public SocketWatch(NicPort nic, String name, int retireMs) {
            this.nic = nic;
            this.name = name;
            this.retireNanos = retireMs * 1_000_000L;
        }

        /**
         * How long the caller may sleep in poll(2), ms, given what it would ({@code ms}, -1 = no limit): shorter while a
         * down may be a deletion or a deleted interface's last block is due.
         *
         * @throws InterfaceGoneException once the deleted interface's last block had its chance
         */
        public int timeout(int ms) throws InterfaceGoneException {
            if (gone != null) {
                long left = goneDeadline - System.nanoTime();
                if (left <= 0) {
                    InterfaceGoneException e = gone;
                    gone = null;
                    throw e;
                }
                return (int) Math.clamp(left / 1_000_000, 1, ms < 0 ? Integer.MAX_VALUE : ms);
            }
            return wentDownAt == 0 ? ms : ms < 0 ? DOWN_WAIT_MS : Math.min(ms, DOWN_WAIT_MS);
        }

        /**
         * What poll(2) reported on the socket ({@code revents}). Reads, and so clears, the socket's pending error.
         *
         * @throws CaptureEndedException for an error other than the interface going down, a hangup (POLLHUP) or a
         *                               closed descriptor (POLLNVAL)
         */
        public void polled(short revents) throws IOException {
            long now = System.nanoTime();
            if (gone != null && (revents & Linux.POLLIN) != 0) {
                goneDeadline = now; // the last block: read it, then end
            }
            try {
                if (wentDownAt != 0 && gone == null) {
                    checkInterfaceGone();
                    if (now - wentDownAt > DOWN_LOOK_NANOS) {
                        wentDownAt = 0; // down, not deleted
                    }
                }
                if (checkSocket(revents)) {
                    wentDownAt = now;
                }
            } catch (InterfaceGoneException e) {
                gone = e;
                goneDeadline = now + retireNanos + 200_000_000L;
            }
        }

        /** True when the interface went down (or is being deleted); false when nothing was reported. */
        private boolean checkSocket(short revents) throws IOException {
            if ((revents & (Linux.POLLERR | Linux.POLLHUP | Linux.POLLNVAL)) == 0) {
                return false;
            }
            if ((revents & Linux.POLLNVAL) != 0) {
                throw new CaptureEndedException(name + ": the capture socket is closed (poll: POLLNVAL)", null);
            }
            if ((revents & Linux.POLLHUP) != 0) {
                throw new CaptureEndedException(name + ": hangup on the capture socket (poll: POLLHUP)", null);
            }
            int err = Linux.getsockoptInt(nic.captureFd(), Linux.SOL_SOCKET, SO_ERROR); // reading it clears it
            if (err == io.jnetmap.sys.Errno.ENETDOWN) {
                checkInterfaceGone();
                return true;
            }
            if (err != 0) {
                throw new CaptureEndedException(name + ": error on the capture socket: " + io.jnetmap.sys.Errno.describe(err), null);
            }
            return false;
        }

        private void checkInterfaceGone() throws InterfaceGoneException {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sll = a.allocate(20, 4); // struct sockaddr_ll: family, protocol, ifindex @4, ...
                Linux.getsockname(nic.captureFd(), sll);
                if (sll.get(ValueLayout.JAVA_INT, 4) <= 0) {
                    throw new InterfaceGoneException(name + ": the interface disappeared");
                }
            }
        }
    }

    /**
     * pcap_stats: on a NIC, received = packets that passed the kernel's filter (read, or dropped by the kernel for
     * want of room), dropped by the kernel (its PACKET_STATISTICS), dropped by jnetmap (bad slots, truncations);
     * elsewhere, the packets the filter saw.
     */
    public Stats stats() {
        if (port instanceof NicPort nic) {
            NicStats s = nic.stats();
            return new Stats(s.rxPackets() + s.rxDrops(), s.rxDrops(), s.badSlots());
        }
        return new Stats(received, 0, 0);
    }

    /** pcap_inject: sends one frame on a live port; false if its TX ring is full now. */
    public boolean inject(MemorySegment frame, long off, int len) {
        if (port == null) throw new IllegalStateException("inject on a file (expected: a live port)");
        if (port.txRings() == 0) throw new IllegalStateException("port " + port.name() + " has no TX rings bound");
        Ring t = port.txRing(0);
        if (t.space() == 0) {
            port.txSync();
            if (t.space() == 0) return false;
        }
        int h = t.head();
        if (len > t.bufSize()) throw new IllegalArgumentException("len=" + len + " (expected: <= " + t.bufSize() + ")");
        MemorySegment.copy(frame, off, t.memory(), t.bufOffset(h), len);
        t.setSlot(h, len, 0);
        t.advanceTo(t.nextSlot(h));
        port.txSync();
        return true;
    }

    /** pcap_dump_open: a writer; hand it the view's fields in the handler ({@link PacketWriter#write}). */
    public PacketWriter dumpOpen(Path file, PacketWriter.Format format) throws IOException {
        return new PacketWriter(java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING),
                format, snaplen, List.of(port != null ? port.name() : "file"), java.util.Collections.singletonList(timestampDescription(timestampSource())));
    }

    /** The pcapng {@code if_description} capture writes for a timestamp source (see {@link #timestampSource()}). */
    public static String timestampDescription(String source) {
        return switch (source) {
            case "kernel" -> "timestamps: kernel receive time per packet (AF_PACKET tp_sec/tp_nsec)";
            case "sync" -> "timestamps: jnetmap sync time per batch (the backend gives none per packet)";
            case "mixed" -> "timestamps: kernel receive time on AF_PACKET rings, jnetmap sync time on the others";
            default -> null;
        };
    }

    /** The port of a live handle (null for a file). */
    public Port port() {
        return port;
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (poller != null) poller.close();
            if (wake != null) wake.close();
            if (port != null) port.close();
            if (reader != null) reader.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            arena.close();
        }
    }
}
