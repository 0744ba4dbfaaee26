package io.jnetmap.capture;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.core.nic.NicStats;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * one; there the filter runs in the kernel (SO_ATTACH_FILTER), elsewhere in the JVM as bytecode.
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

    private static final Handler NOTHING = v -> { };

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
    private long received;
    private final long wallAtStart = System.currentTimeMillis() * 1_000_000L;
    private final long monoAtStart = System.nanoTime();

    /** Per RX ring: the slots carry the kernel's receive time (AF_PACKET), else the sync time is used. */
    private final boolean[] kernelTs;

    private Pcap(Port port, PacketReader reader, int snaplen) {
        this.port = port;
        this.reader = reader;
        this.snaplen = snaplen;
        this.kernelTs = new boolean[port == null ? 0 : port.rxRings()];
        for (int r = 0; r < kernelTs.length; r++) {
            kernelTs[r] = port instanceof NicPort nic && nic.rxTimestamps(r);
        }
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

    /** pcap_open_live: a port by its netmap name (a NIC passively, on AF_PACKET). */
    public static Pcap openLive(String portName, int snaplen) {
        String name = portName.startsWith("netmap:") && !portName.contains("@backend=") ? portName + "@backend=packet" : portName;
        Port p = Netmap.open(name);
        if (p.rxRings() == 0) {
            p.close();
            throw new IllegalArgumentException("port " + portName + " has no RX rings bound (expected: at least one to capture from)");
        }
        passiveCapture(p);
        return new Pcap(p, null, snaplen);
    }

    /**
     * Makes an AF_PACKET NIC port a passive capture as libpcap's sockets are (frames the host sends seen
     * too, stripped VLAN tags put back: {@link NicPort#setPassiveCapture}); other ports are left alone.
     * Returns whether it did.
     */
    public static boolean passiveCapture(Port p) {
        if (p instanceof NicPort nic && p.backend().toLowerCase(Locale.ROOT).contains("packet")) {
            try {
                nic.setPassiveCapture();
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

    /** pcap_breakloop: the running loop/dispatch returns after the current packet. Any thread. */
    public void breakLoop() {
        breakRequested = true;
    }

    /** pcap_dispatch: the packets available now (at most {@code max}, 0 = all of one batch); returns how many were handed over. */
    public int dispatch(int max, Handler h) throws IOException {
        int limit = max <= 0 ? Integer.MAX_VALUE : max;
        if (reader != null) {
            int n = 0;
            while (n < limit && !breakRequested && reader.next()) {
                received++;
                if (filter != null && !filter.matches(reader.segment(), reader.offset(), reader.caplen(), reader.wirelen())) continue;
                view.segment = reader.segment();
                view.offset = reader.offset();
                view.caplen = Math.min(reader.caplen(), snaplen);
                view.wirelen = reader.wirelen();
                view.tsNanos = reader.timestampNanos();
                view.iface = reader.interfaceIndex();
                h.packet(view);
                n++;
            }
            return n;
        }
        int n = 0;
        long ts = wallAtStart + (System.nanoTime() - monoAtStart);
        for (int r = 0; r < port.rxRings() && n < limit && !breakRequested; r++) {
            Ring ring = port.rxRing(r);
            boolean kts = kernelTs[r];
            int avail = ring.space();
            int head = ring.head();
            int bufSize = ring.bufSize();
            for (int k = 0; k < avail && n < limit && !breakRequested; k++) {
                int len = ring.len(head);
                long off = ring.bufOffset(head);
                int have = Math.min(len, bufSize);
                received++;
                PacketFilter f = (ring.flags(head) & io.jnetmap.core.Slot.NS_TXMON) != 0 ? filterOut : filter;
                if (f == null || f.matches(ring.memory(), off, have, len)) {
                    view.segment = ring.memory();
                    view.offset = off;
                    view.caplen = Math.min(have, snaplen);
                    view.wirelen = len;
                    view.tsNanos = kts ? ring.ptr(head) : ts;
                    view.iface = 0;
                    h.packet(view);
                    n++;
                }
                head = ring.nextSlot(head);
            }
            ring.advanceTo(head);
        }
        port.rxSync();
        return n;
    }

    /** pcap_loop: until {@code count} packets (0 = forever), the end of the file, or {@link #breakLoop}. Returns the count. */
    public long loop(long count, Handler h) throws IOException {
        long got = 0;
        breakRequested = false;
        while (!breakRequested && (count <= 0 || got < count)) {
            int n = dispatch(count <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, count - got), h);
            got += n;
            if (n == 0) {
                if (reader != null) break;
                waitForPackets();
            }
        }
        breakRequested = false;
        return got;
    }

    /** pcap_next_ex: the next packet (the reusable view), or null at the end of a file / after {@code timeout} live. */
    public PacketView next(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            if (dispatch(1, NOTHING) > 0) return view;
            if (reader != null) return null;
            waitForPackets();
        } while (System.nanoTime() < deadline);
        return null;
    }

    private void waitForPackets() {
        if (poller == null) {
            poller = new Poller(WaitStrategy.spinThenBlock(Duration.ofNanos(50_000)));
            poller.add(port.pollable(), Pollable.IN);
        }
        poller.poll(Duration.ofMillis(100).toNanos());
    }

    /** pcap_stats: packets seen by the filter, dropped by the kernel, dropped by jnetmap (bad slots, truncations). */
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
        try {
            if (poller != null) poller.close();
            if (port != null) port.close();
            if (reader != null) reader.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            arena.close();
        }
    }
}
