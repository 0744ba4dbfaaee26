package io.jnetmap.examples;

import io.jnetmap.capture.Bpf;
import io.jnetmap.capture.FilterCompiler;
import io.jnetmap.capture.PacketFilter;
import io.jnetmap.capture.PacketPrinter;
import io.jnetmap.capture.PacketReader;
import io.jnetmap.capture.PacketWriter;
import io.jnetmap.capture.RotatingWriter;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.Slot;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.core.nic.NicStats;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code capture}: tcpdump's usage over jnetmap ports and files, without libpcap. Packets come from ports
 * ({@code -i}, several allowed) or a file ({@code -r}), go through the pcap-filter expression (in the kernel
 * with SO_ATTACH_FILTER on AF_PACKET NIC ports, in the JVM as bytecode elsewhere) and are written to a pcap
 * or pcapng file ({@code -w}) or printed one line each as {@code tcpdump -n} prints them.
 *
 * <p>On a NIC ({@code netmap:IF}) capture is passive, as tcpdump's: it opens the AF_PACKET backend
 * ({@code @backend=packet}) unless the name chooses one, so the interface's own traffic goes on.
 */
@Command(name = "capture", mixinStandardHelpOptions = true, versionProvider = Capture.Version.class,
        description = "tcpdump without libpcap: capture from ports or read a file, filter with a pcap-filter expression, write pcap/pcapng or print.")
public final class Capture implements Callable<Integer> {
    @Option(names = "-i", paramLabel = "PORT", description = "port to capture from (netmap syntax), repeatable: netmap:eth0, vale0:a, pipe}1, vale0:a/rt (a copy monitor of a port open in any process: a switch port, a pipe end, a NIC port)")
    List<String> ports = new ArrayList<>();

    @Option(names = "-r", paramLabel = "FILE", description = "read packets from a pcap or pcapng file instead")
    Path readFile;

    @Option(names = "-w", paramLabel = "FILE", description = "write packets to FILE (- for standard output) instead of printing them")
    String writeFile;

    @Option(names = "-c", paramLabel = "N", defaultValue = "0", description = "stop after N packets (0: until the end or Ctrl-C)")
    long count = 0;

    @Option(names = "-s", paramLabel = "SNAPLEN", defaultValue = "262144", description = "bytes kept of each packet (default: ${DEFAULT-VALUE})")
    int snaplen = 262144;

    @Option(names = "-F", paramLabel = "FORMAT", description = "file format of -w: pcap (nanosecond), pcap-us (microsecond) or pcapng (default: pcap; pcapng with several -i)")
    String format;

    @Option(names = "-d", description = "print the compiled filter as tcpdump -d does and exit")
    boolean dump;

    @Option(names = "-n", description = "do not resolve addresses (always the case; accepted for tcpdump's sake)")
    boolean numeric;

    @Option(names = "-C", paramLabel = "FILE_SIZE", description = "as tcpdump: before writing a packet, if the file is larger than FILE_SIZE millions of bytes (k, m, g suffixes: KiB, MiB, GiB, as newer tcpdump), go on in NAME1, NAME2, …")
    String fileSize;

    @Option(names = "-G", paramLabel = "SECONDS", defaultValue = "0", description = "as tcpdump: a new file every SECONDS, the -w name a strftime pattern")
    long rotateSeconds;

    @Option(names = "-W", paramLabel = "FILECOUNT", defaultValue = "0", description = "as tcpdump: with -C, a ring of FILECOUNT files (NAME0…); with -G, stop after FILECOUNT files")
    int fileCount;

    @Option(names = "--busy-wait", description = "busy-wait instead of sleeping when nothing arrives")
    boolean busyWait;

    @Parameters(paramLabel = "EXPRESSION", arity = "0..*", description = "pcap-filter(7) expression, as tcpdump takes it")
    List<String> expression = new ArrayList<>();

    private final PrintStream out;
    private final PrintStream err;

    private Capture(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs capture with {@code args}; packets and help go to {@code out}, messages to {@code err}. Returns the exit code.
     * The command line is read as tcpdump's getopt reads it ({@code -nr FILE}, {@code -c10}, options anywhere, {@code --}
     * ends them), without picocli: a capture starts in a few tens of milliseconds. Help and version go through
     * picocli, from the annotations above, as every tool's do.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        for (String a : args) {
            if (a.equals("--")) break;
            if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) {
                return Main.execute("capture", new Capture(out, err), args, out, err);
            }
        }
        Capture c = new Capture(out, err);
        try {
            c.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("capture: " + e.getMessage() + " (bin/jnetmap capture --help)");
            err.flush();
            return Cli.USAGE;
        }
        try {
            return c.call();
        } catch (Exception e) {
            err.println("capture: " + ToolFailure.message(e));
            err.flush();
            return Cli.FAILED;
        }
    }

    /** The options that take a value, and the label of that value in messages (picocli's paramLabel). */
    private static final String WITH_VALUE = "irwcsFCGW";

    /** Sets the fields from {@code args} as getopt(3) with tcpdump's option string would; a bad line throws. */
    private void parse(String[] args) {
        boolean options = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!options || !a.startsWith("-") || a.length() == 1) {
                expression.add(a);
                continue;
            }
            if (a.equals("--")) {
                options = false;
                continue;
            }
            if (a.startsWith("--")) {
                if (a.equals("--busy-wait")) {
                    busyWait = true;
                    continue;
                }
                throw new IllegalArgumentException("Unknown option: '" + a + "'");
            }
            for (int k = 1; k < a.length(); k++) {
                char o = a.charAt(k);
                if (o == 'd') {
                    dump = true;
                } else if (o == 'n') {
                    numeric = true;
                } else if (WITH_VALUE.indexOf(o) >= 0) {
                    String v;
                    if (k + 1 < a.length()) {
                        v = a.substring(k + 1);
                    } else if (i + 1 < args.length) {
                        v = args[++i];
                    } else {
                        throw new IllegalArgumentException("Missing required parameter for option '-" + o + "' (" + label(o) + ")");
                    }
                    set(o, v);
                    break;
                } else {
                    throw new IllegalArgumentException("Unknown option: '" + (k == 1 ? a : "-" + o) + "'");
                }
            }
        }
    }

    private static String label(char o) {
        return switch (o) {
            case 'i' -> "PORT";
            case 'r', 'w' -> "FILE";
            case 'c' -> "N";
            case 's' -> "SNAPLEN";
            case 'F' -> "FORMAT";
            case 'C' -> "FILE_SIZE";
            case 'G' -> "SECONDS";
            default -> "FILECOUNT";
        };
    }

    private void set(char o, String v) {
        switch (o) {
            case 'i' -> ports.add(v);
            case 'r' -> readFile = Path.of(v);
            case 'w' -> writeFile = v;
            case 'c' -> count = number(o, v);
            case 's' -> snaplen = (int) Math.clamp(number(o, v), Integer.MIN_VALUE, Integer.MAX_VALUE);
            case 'F' -> format = v;
            case 'C' -> fileSize = v;
            case 'G' -> rotateSeconds = number(o, v);
            default -> fileCount = (int) Math.clamp(number(o, v), Integer.MIN_VALUE, Integer.MAX_VALUE);
        }
    }

    private static long number(char o, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid value for option '-" + o + "': '" + v + "' is not a number");
        }
    }

    /** As {@link #run(String[], PrintStream, PrintStream)} with everything on {@code out}. */
    public static int run(String[] args, PrintStream out) {
        return run(args, out, out);
    }

    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Capture.class.getPackage().getImplementationVersion();
            return new String[] {"capture (jnetmap) " + (v != null ? v : "0.1.0-SNAPSHOT") + ", pcap-filter compiler: libpcap 1.10 grammar"};
        }
    }

    /** The counters tcpdump prints at exit. */
    private static final class Counts {
        long seen;
        long matched;
        long written;
    }

    @Override
    public Integer call() throws Exception {
        if (snaplen < 1 || snaplen > 262144) {
            throw new IllegalArgumentException("snaplen=" + snaplen + " (expected: 1..262144)");
        }
        if (count < 0) {
            throw new IllegalArgumentException("count=" + count + " (expected: >= 0)");
        }
        String expr = String.join(" ", expression);
        Bpf program = FilterCompiler.compile(expr, snaplen, true);
        if (dump) {
            out.print(program.dump());
            return 0;
        }
        if (readFile == null && ports.isEmpty()) {
            throw new IllegalArgumentException("nothing to capture from (expected: -i PORT or -r FILE)");
        }
        if ((fileSize != null || rotateSeconds > 0) && (writeFile == null || writeFile.equals("-"))) {
            throw new IllegalArgumentException((fileSize != null ? "-C" : "-G") + " without -w FILE (expected: a file name to rotate)");
        }
        if (rotateSeconds < 0) throw new IllegalArgumentException("-G " + rotateSeconds + " (expected: seconds > 0)");
        if (fileCount < 0) throw new IllegalArgumentException("-W " + fileCount + " (expected: a file count > 0)");
        if (fileSize != null) RotatingWriter.parseFileSize(fileSize);
        if (readFile != null && !ports.isEmpty()) {
            throw new IllegalArgumentException("-r and -i together (expected: one source)");
        }
        PacketWriter.Format fmt = format(format, ports.size());
        if (readFile != null && program.readsAncillary()) {
            throw new IllegalArgumentException("inbound/outbound not supported on Ethernet when reading savefiles");
        }
        // a program reading the packet's direction runs only in the kernel (live AF_PACKET ports)
        PacketFilter filter = expr.isBlank() || program.readsAncillary() ? null : PacketFilter.bytecode(program);
        Counts c = new Counts();
        AtomicBoolean stop = new AtomicBoolean();
        try (StopOnSignal signal = new StopOnSignal("capture-stop", () -> stop.set(true), 3)) {
            if (readFile != null) {
                try (PacketReader r = PacketReader.open(readFile); Sink sink = sink(fmt, List.of(readFile.getFileName().toString()), List.of())) {
                    err.printf(Locale.ROOT, "reading from file %s, link-type EN10MB (Ethernet), snapshot length %d%n", readFile, r.snaplen());
                    if (r.linktype() != 1) {
                        throw new IllegalArgumentException(readFile + ": link type " + r.linktype() + " (expected: 1, Ethernet)");
                    }
                    long limit = count == 0 ? Long.MAX_VALUE : count;
                    int batch = 16;
                    while (!stop.get() && readBatch(r, filter, sink, c, limit, batch)) {
                        batch = c.seen < 8192 ? 16 : 4096;
                    }
                }
                if (writeFile != null) {
                    err.printf(Locale.ROOT, "%d packets read, %d matched the filter, %d written%n", c.seen, c.matched, c.written);
                }
                return 0;
            }
            return live(program, filter, fmt, c, stop);
        }
    }

    /**
     * Up to {@code max} packets of {@code r} through {@code filter} into {@code sink}, counted in {@code c}; false once the
     * file ends, the sink takes no more or {@code limit} packets are written. The -r loop calls it with a stop check
     * (Ctrl-C) between batches, not per packet. Batches are small for the first packets: the JIT compiles this method
     * after about a hundred calls, and until then its loop runs in the interpreter (a loop compiled on the stack
     * waits for 60,000 iterations).
     */
    private static boolean readBatch(PacketReader r, PacketFilter filter, Sink sink, Counts c, long limit, int max) throws IOException {
        long seen = c.seen, matched = c.matched, written = c.written;
        boolean more = true;
        try {
            for (int i = 0; i < max; i++) {
                if (written >= limit || !r.next()) {
                    more = false;
                    break;
                }
                seen++;
                if (filter != null && !filter.matches(r.segment(), r.offset(), r.caplen(), r.wirelen())) continue;
                matched++;
                if (!sink.packet(0, r.segment(), r.offset(), r.caplen(), r.wirelen(), r.timestampNanos())) {
                    more = false;
                    break;
                }
                written++;
            }
        } finally {
            c.seen = seen;
            c.matched = matched;
            c.written = written;
        }
        return more && written < limit;
    }

    private static PacketWriter.Format format(String f, int interfaces) {
        if (f == null) return interfaces > 1 ? PacketWriter.Format.PCAPNG : PacketWriter.Format.PCAP;
        return switch (f) {
            case "pcap" -> PacketWriter.Format.PCAP;
            case "pcap-us" -> PacketWriter.Format.PCAP_MICRO;
            case "pcapng" -> PacketWriter.Format.PCAPNG;
            default -> throw new IllegalArgumentException("-F " + f + " (expected: pcap, pcap-us or pcapng)");
        };
    }

    /** Where matching packets go: a file writer or lines on {@code out}. */
    private interface Sink extends AutoCloseable {
        /** False when the sink takes no more (-G with -W made its last file): capture ends. */
        boolean packet(int iface, java.lang.foreign.MemorySegment seg, long off, int caplen, int wirelen, long ts) throws IOException;

        /**
         * A batch of the live loop is done; {@code idle}: nothing came, the loop is about to wait (at most 100 ms). A file
         * sink writes what it staged when 1 MiB is staged or 100 ms after its last write, not after every batch nor at
         * every wait: a write(2) per ring sync cost more than the copies at a few hundred thousand packets a second, and a
         * write per wake-up (a block every few ms) ran the channel's code in the interpreter, seldom enough never to be
         * compiled, at more CPU than the packets. What is staged reaches the file within 200 ms.
         */
        default void batchDone(boolean idle) throws IOException {
        }

        default PacketWriter writer() {
            return null;
        }

        @Override
        void close() throws IOException;
    }

    private Sink sink(PacketWriter.Format fmt, List<String> names, List<String> descriptions) throws IOException {
        if (writeFile == null) {
            PacketPrinter printer = new PacketPrinter(true);
            StringBuilder line = new StringBuilder(256);
            int cut = snaplen;
            return new Sink() {
                @Override
                public boolean packet(int iface, java.lang.foreign.MemorySegment seg, long off, int caplen, int wirelen, long ts) {
                    line.setLength(0);
                    printer.print(line, seg, off, Math.min(caplen, cut), wirelen, ts);
                    out.println(line);
                    return true;
                }

                @Override
                public void close() {
                    out.flush();
                }
            };
        }
        if (fileSize != null || rotateSeconds > 0) {
            RotatingWriter rw = new RotatingWriter(writeFile, fmt, snaplen, names, descriptions,
                    fileSize == null ? 0 : RotatingWriter.parseFileSize(fileSize), rotateSeconds, fileCount);
            return new Sink() {
                @Override
                public boolean packet(int iface, java.lang.foreign.MemorySegment seg, long off, int caplen, int wirelen, long ts) throws IOException {
                    if (rw.write(iface, seg, off, caplen, wirelen, ts)) return true;
                    err.printf(Locale.ROOT, "Maximum file limit reached: %d%n", fileCount);
                    return false;
                }

                @Override
                public void batchDone(boolean idle) throws IOException {
                    rw.flush();
                }

                @Override
                public PacketWriter writer() {
                    return rw.current();
                }

                @Override
                public void close() throws IOException {
                    rw.close();
                }
            };
        }
        WritableByteChannel ch = writeFile.equals("-") ? Channels.newChannel(new FileOutputStream(java.io.FileDescriptor.out))
                : java.nio.channels.FileChannel.open(Path.of(writeFile), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        PacketWriter w = new PacketWriter(ch, fmt, snaplen, names, descriptions);
        w.flush(); // the header is out once the ports are open
        return new Sink() {
            @Override
            public boolean packet(int iface, java.lang.foreign.MemorySegment seg, long off, int caplen, int wirelen, long ts) throws IOException {
                w.write(iface, seg, off, caplen, wirelen, ts);
                return true;
            }

            private long lastWrite = System.nanoTime();

            @Override
            public void batchDone(boolean idle) throws IOException {
                if (w.pending() == 0) return;
                long now = System.nanoTime();
                if (w.pending() >= 1 << 20 || now - lastWrite >= 100_000_000L) {
                    w.flush();
                    lastWrite = now;
                }
            }

            @Override
            public PacketWriter writer() {
                return w;
            }

            @Override
            public void close() throws IOException {
                w.close();
            }
        };
    }

    private static String passive(String name) {
        if (name.startsWith("netmap:") && !name.contains("@backend=")) {
            return name + "@backend=packet";
        }
        return name;
    }

    /** Captures from the {@code -i} ports; returns the exit status (failed when a port ended the capture: gone, closed). */
    private int live(Bpf program, PacketFilter filter, PacketWriter.Format fmt, Counts c, AtomicBoolean stop) throws Exception {
        List<Port> open = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            for (String name : ports) {
                Port p = Netmap.open(passive(name));
                open.add(p);
                io.jnetmap.capture.Pcap.passiveCapture(p); // sees what the host sends too, VLAN tags back in place
            }
            PacketFilter[] jvmFilter = new PacketFilter[open.size()];
            // for the packets a port sent (a monitor's copies of its TX, flagged NS_TXMON): inbound/outbound differ
            PacketFilter[] jvmFilterOut = new PacketFilter[open.size()];
            boolean direction = program.readsAncillary();
            PacketFilter inFilter = !direction ? filter : PacketFilter.bytecode(program.withPacketType(Bpf.PACKET_HOST));
            PacketFilter outFilter = !direction ? filter : PacketFilter.bytecode(program.withPacketType(Bpf.PACKET_OUTGOING));
            boolean[][] kernelTs = new boolean[open.size()][];
            List<String> descriptions = new ArrayList<>();
            for (int i = 0; i < open.size(); i++) {
                Port p = open.get(i);
                if (p.rxRings() == 0) {
                    throw new IllegalArgumentException("port " + p.name() + " has no RX rings bound (expected: at least one to capture from)");
                }
                kernelTs[i] = new boolean[p.rxRings()];
                int withTs = 0;
                for (int r = 0; r < p.rxRings(); r++) {
                    kernelTs[i][r] = p instanceof NicPort nic && nic.rxTimestamps(r);
                    if (kernelTs[i][r]) withTs++;
                }
                String tsSource = withTs == p.rxRings() ? "kernel" : withTs == 0 ? "sync" : "mixed";
                descriptions.add(io.jnetmap.capture.Pcap.timestampDescription(tsSource));
                String where = "no filter";
                if (inFilter != null) {
                    jvmFilter[i] = inFilter;
                    jvmFilterOut[i] = outFilter;
                    where = "filter in the JVM (bytecode)";
                    boolean kernelPort = p instanceof NicPort && (p.backend().toLowerCase(Locale.ROOT).contains("packet")
                            || p.backend().toLowerCase(Locale.ROOT).contains("xdp"));
                    if (kernelPort && program.hasBackwardJump()) { // as libpcap on Linux: the kernel refuses loops
                        where = "filter in the JVM (bytecode), not in the kernel: protochain loops (a backward jump), which classic BPF in the kernel refuses";
                    } else if (p instanceof NicPort nic && p.backend().toLowerCase(Locale.ROOT).contains("packet")) {
                        try {
                            // as libpcap on Linux: the first vlan reads a tag the kernel stripped from beside the frame
                            Bpf live = FilterCompiler.compileLinuxLive(String.join(" ", expression), snaplen, true);
                            nic.setSocketFilter(live.toSockFilter(arena), live.length());
                            jvmFilter[i] = null;
                            jvmFilterOut[i] = null;
                            where = "filter in the kernel (SO_ATTACH_FILTER)";
                        } catch (UnsupportedOperationException e) { // host rings (TAP) as well: filter here
                            where = "filter in the JVM (bytecode): " + e.getMessage();
                        }
                    } else if (!direction && p instanceof NicPort nic && p.backend().toLowerCase(Locale.ROOT).contains("xdp")) {
                        try {
                            nic.setXdpFilter(program.toSockFilter(arena), program.length());
                            jvmFilter[i] = null;
                            jvmFilterOut[i] = null;
                            where = "filter in the kernel (XDP: matching frames to the socket, the others to the stack)";
                        } catch (UnsupportedOperationException e) { // the verifier refused it, or host rings
                            where = "filter in the JVM (bytecode), not in XDP: " + e.getMessage();
                        }
                    }
                }
                err.printf(Locale.ROOT, "capture: listening on %s (backend %s, %d rx rings, %s, %s timestamps), link-type EN10MB (Ethernet), snapshot length %d%n",
                        p.name(), p.backend(), p.rxRings(), where, tsSource, snaplen);
            }
            boolean blocks = open.stream().allMatch(p -> p instanceof NicPort nic && nic.capturesBlocks());
            int status = 0;
            try (Sink sink = sink(fmt, ports, descriptions)) {
                try {
                    if (blocks) {
                        blockLoop(open, jvmFilter, jvmFilterOut, sink, c, stop);
                    } else {
                        loop(open, jvmFilter, jvmFilterOut, kernelTs, sink, c, stop);
                    }
                } catch (io.jnetmap.capture.Pcap.CaptureEndedException | io.jnetmap.core.PortBrokenException e) {
                    // as tcpdump's "pcap_loop: The interface disappeared": what was read is written, then the error, the
                    // counts, a failed exit (a file's error goes up as it is)
                    err.println("capture: " + e.getMessage());
                    status = Cli.FAILED;
                }
                long kernelDrops = 0, received = c.seen, ours = 0;
                for (int i = 0; i < open.size(); i++) {
                    if (open.get(i) instanceof NicPort nic) {
                        NicStats st = nic.stats();
                        kernelDrops += st.rxDrops();
                        ours += st.badSlots();
                        received += st.rxDrops();
                        if (sink.writer() != null) sink.writer().setStatistics(i, st.rxPackets() + st.rxDrops(), st.rxDrops(), c.matched, st.badSlots());
                    } else if (sink.writer() != null) {
                        sink.writer().setStatistics(i, c.seen, 0, c.matched, 0);
                    }
                }
                err.printf(Locale.ROOT, "%d packets captured%n%d packets received by filter%n%d packets dropped by kernel%n%d packets dropped by jnetmap%n",
                        c.written, received, kernelDrops, ours);
            }
            return status;
        } finally {
            for (Port p : open) {
                p.close();
            }
        }
    }

    /**
     * One AF_PACKET capture's frames to the sink straight from the kernel's blocks ({@link NicPort#capture}): what
     * libpcap's TPACKET_V3 reader does, with no copy into RX slots in between. Stops after the frame that makes
     * {@code -c}, or when the sink takes no more.
     */
    private final class BlockReader implements NicPort.CaptureHandler {
        private final int iface;
        private final PacketFilter in;
        private final PacketFilter out;
        private final Sink sink;
        private final Counts c;
        private final AtomicBoolean stop;
        IOException failure;

        BlockReader(int iface, PacketFilter in, PacketFilter out, Sink sink, Counts c, AtomicBoolean stop) {
            this.iface = iface;
            this.in = in;
            this.out = out;
            this.sink = sink;
            this.c = c;
            this.stop = stop;
        }

        @Override
        public boolean frame(java.lang.foreign.MemorySegment seg, long off, int caplen, int wirelen, long ts, boolean outgoing) {
            c.seen++;
            PacketFilter g = outgoing ? out : in;
            if (g != null && !g.matches(seg, off, caplen, wirelen)) {
                return true;
            }
            c.matched++;
            try {
                if (!sink.packet(iface, seg, off, caplen, wirelen, ts)) {
                    stop.set(true); // -G with -W: the last file is done
                    return false;
                }
            } catch (IOException e) {
                failure = e;
                return false;
            }
            return ++c.written != count; // count 0: never equal, written starts at 1
        }
    }

    /** Frames read per port before looking at the others and at the stop flag: a few blocks of 60-byte frames. */
    private static final int BLOCK_BATCH = 8192;

    /**
     * The loop over AF_PACKET passive captures: every ready block read in place, the file written in large writes
     * ({@link Sink#batchDone}), and poll(2) on the sockets when no block is ready: the kernel wakes it when a block
     * is full or its timeout passed, an eventfd when a signal stops the capture, and a 100 ms timeout only while
     * the file has bytes staged. An idle capture does not wake at all.
     */
    private void blockLoop(List<Port> open, PacketFilter[] jvmFilter, PacketFilter[] jvmFilterOut, Sink sink, Counts c,
                           AtomicBoolean stop) throws IOException {
        int n = open.size();
        NicPort[] nics = new NicPort[n];
        BlockReader[] readers = new BlockReader[n];
        io.jnetmap.sys.EventFd wake = io.jnetmap.sys.EventFd.create();
        // runs beside StopOnSignal's hook on SIGINT/SIGTERM: the stop flag, then the poll(2) below wakes
        Thread onSignal = new Thread(() -> {
            stop.set(true);
            wake.signal();
        }, "capture-wake");
        Runtime.getRuntime().addShutdownHook(onSignal);
        boolean exiting = false;
        try (Arena a = Arena.ofConfined()) {
            java.lang.foreign.MemorySegment fds = a.allocate(8L * (n + 1), 4); // struct pollfd { int fd; short events, revents; }
            for (int i = 0; i < n; i++) {
                nics[i] = (NicPort) open.get(i);
                readers[i] = new BlockReader(i, jvmFilter[i], jvmFilterOut[i], sink, c, stop);
                fds.set(java.lang.foreign.ValueLayout.JAVA_INT, 8L * i, nics[i].captureFd());
                fds.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * i + 4, io.jnetmap.sys.Linux.POLLIN);
            }
            fds.set(java.lang.foreign.ValueLayout.JAVA_INT, 8L * n, wake.fd());
            fds.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * n + 4, io.jnetmap.sys.Linux.POLLIN);
            // what each capture socket says besides POLLIN: a deletion ends the capture once its last block is in
            io.jnetmap.capture.Pcap.SocketWatch[] watches = new io.jnetmap.capture.Pcap.SocketWatch[n];
            for (int i = 0; i < n; i++) {
                watches[i] = new io.jnetmap.capture.Pcap.SocketWatch(nics[i], ports.get(i), io.jnetmap.core.nic.NicConfig.current().captureRetireMs());
            }
            while (!stop.get() && (count == 0 || c.written < count)) {
                if (readReady(nics, readers, sink, c, stop) > 0) {
                    sink.batchDone(false);
                } else {
                    sink.batchDone(true);
                    boolean staged = sink.writer() != null && sink.writer().pending() > 0;
                    int timeout = staged ? 100 : -1;
                    for (io.jnetmap.capture.Pcap.SocketWatch w : watches) {
                        timeout = w.timeout(timeout); // never longer than asked; -1 (no limit) may become a limit
                    }
                    for (int i = 0; i < n; i++) {
                        fds.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * i + 6, (short) 0);
                    }
                    io.jnetmap.sys.Linux.poll(fds, n + 1, timeout);
                    for (int i = 0; i < n; i++) {
                        watches[i].polled(fds.get(java.lang.foreign.ValueLayout.JAVA_SHORT, 8L * i + 6));
                    }
                }
            }
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException shuttingDown) {
                exiting = true; // the hook may be signalling right now: its descriptor stays open until the JVM exits
            }
            if (!exiting) {
                wake.close();
            }
        }
    }

    /**
     * Every block ready on every port, up to {@link #BLOCK_BATCH} frames each; returns the frames read. A method of its
     * own: this loop runs a few hundred times a second at most, too seldom for the JIT to compile it inside the
     * caller's, and interpreted it cost more than the frames.
     */
    private int readReady(NicPort[] nics, BlockReader[] readers, Sink sink, Counts c, AtomicBoolean stop) throws IOException {
        int did = 0;
        for (int i = 0; i < nics.length && !stop.get() && (count == 0 || c.written < count); i++) {
            did += nics[i].capture(readers[i], BLOCK_BATCH);
            if (readers[i].failure != null) {
                throw readers[i].failure;
            }
        }
        return did;
    }

    private void loop(List<Port> open, PacketFilter[] jvmFilter, PacketFilter[] jvmFilterOut, boolean[][] kernelTs, Sink sink, Counts c,
                      AtomicBoolean stop) throws IOException {
        // AF_PACKET hands packets over in TPACKET_V3 blocks, a block every few ms at most: spinning between them catches
        // nothing and cost a capturer of 10 % of a veth's traffic 25x tcpdump's CPU. Other ports deliver per packet.
        boolean blocks = open.stream().allMatch(p -> p instanceof NicPort && p.backend().toLowerCase(Locale.ROOT).contains("packet"));
        WaitStrategy wait = busyWait ? WaitStrategy.busySpin() : blocks ? WaitStrategy.block() : WaitStrategy.spinThenBlock(Duration.ofNanos(50_000));
        long idleWait = TimeUnit.MILLISECONDS.toNanos(100);
        long wallAtStart = System.currentTimeMillis() * 1_000_000L, monoAtStart = System.nanoTime();
        try (Poller poller = new Poller(wait)) {
            for (Port p : open) {
                poller.add(p.pollable(), Pollable.IN);
            }
            while (!stop.get() && (count == 0 || c.written < count)) {
                long ts = wallAtStart + (System.nanoTime() - monoAtStart); // the batch's time where the backend gives none per packet
                int did = 0;
                for (int i = 0; i < open.size(); i++) {
                    Port port = open.get(i);
                    PacketFilter f = jvmFilter[i];
                    PacketFilter fOut = jvmFilterOut[i];
                    for (int r = 0; r < port.rxRings() && !stop.get(); r++) {
                        Ring ring = port.rxRing(r);
                        boolean kts = kernelTs[i][r]; // the slot's ptr holds the kernel receive time
                        int n = ring.space();
                        int h = ring.head();
                        int bufSize = ring.bufSize();
                        for (int k = 0; k < n && (count == 0 || c.written < count); k++) {
                            int len = ring.len(h);
                            int have = Math.min(len, bufSize);
                            long off = ring.bufOffset(h);
                            c.seen++;
                            PacketFilter g = (ring.flags(h) & Slot.NS_TXMON) != 0 ? fOut : f; // what the port sent, or received
                            if (g == null || g.matches(ring.memory(), off, have, len)) {
                                c.matched++;
                                if (!sink.packet(i, ring.memory(), off, have, len, kts ? ring.ptr(h) : ts)) {
                                    stop.set(true); // -G with -W: the last file is done
                                    break;
                                }
                                c.written++;
                            }
                            h = ring.nextSlot(h);
                            did++;
                        }
                        ring.advanceTo(h);
                    }
                }
                if (did > 0) {
                    sink.batchDone(false);
                    for (Port p : open) {
                        p.rxSync();
                    }
                } else {
                    sink.batchDone(true);
                    poller.poll(idleWait);
                    for (Port p : open) {
                        p.rxSync();
                    }
                }
            }
        }
    }
}
