package io.jnetmap.examples;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NicPort;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * {@code capture}: what a port receives, written as a pcap file (nanosecond timestamps, Ethernet), the
 * way one would use tcpdump -w — on a NIC port, a VALE port, a pipe end, or a monitor of a port of this
 * process. Each batch of received packets becomes one write(2) from a staging buffer; nothing is
 * allocated per packet. The timestamp is the time of the batch's rxsync (netmap's ring timestamp).
 *
 * <pre>
 * file header (24 B): u32 magic a1b23c4d (ns), u16 2, u16 4, i32 0, u32 0, u32 snaplen, u32 linktype 1
 * record (16 B + caplen): u32 ts_sec, u32 ts_nsec, u32 caplen, u32 len, then caplen bytes
 * </pre>
 */
@Command(name = "capture", mixinStandardHelpOptions = true,
        description = "Writes what a port receives to a pcap file (or - for standard output), like tcpdump -w.")
public final class Capture implements Callable<Integer> {
    static final int MAGIC_NS = 0xa1b23c4d;
    static final int LINKTYPE_ETHERNET = 1;
    private static final int STAGING = 4 << 20;

    @Option(names = "-i", required = true, paramLabel = "PORT", description = "port to capture from (netmap syntax): netmap:eth0, vale0:tap, pipe}1, pipe{1/rt")
    String portName;

    @Option(names = "-w", required = true, paramLabel = "FILE", description = "pcap file to write, - for standard output")
    String file;

    @Option(names = "-c", paramLabel = "COUNT", defaultValue = "0", description = "stop after COUNT packets, 0 = until Ctrl-C")
    long count;

    @Option(names = "-s", paramLabel = "SNAPLEN", defaultValue = "65535", description = "bytes kept of each packet (default: ${DEFAULT-VALUE})")
    int snaplen;

    @Option(names = "-W", description = "busy-wait instead of sleeping when nothing arrives")
    boolean busyWait;

    private final PrintStream out;

    private Capture(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    /** Runs capture with {@code args}; messages go to {@code out}. Returns the exit code (0 done, 1 failed, 2 usage). */
    public static int run(String[] args, PrintStream out) {
        return Main.execute("capture", new Capture(out), args, out, out);
    }

    @Override
    public Integer call() throws Exception {
        if (snaplen < 1 || snaplen > 262144) {
            throw new IllegalArgumentException("snaplen=" + snaplen + " (expected: 1..262144)");
        }
        if (count < 0) {
            throw new IllegalArgumentException("count=" + count + " (expected: >= 0)");
        }
        AtomicBoolean stop = new AtomicBoolean();
        StopOnSignal signal = new StopOnSignal("capture-stop", () -> stop.set(true), 3);
        try (signal; Port port = Netmap.open(portName);
             FileChannel ch = file.equals("-") ? new FileOutputStream(java.io.FileDescriptor.out).getChannel()
                     : FileChannel.open(Path.of(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            if (port.rxRings() == 0) {
                throw new IllegalArgumentException("port " + port.name() + " has no RX rings bound (expected: at least one to capture from)");
            }
            out.printf(Locale.ROOT, "capture: %s (backend %s, %d rx rings) -> %s%n", port.name(), port.backend(), port.rxRings(), file);
            Writer w = new Writer(ch, snaplen);
            long start = System.nanoTime();
            long got = loop(port, w, stop);
            w.flush();
            double secs = (System.nanoTime() - start) / 1e9;
            out.printf(Locale.ROOT, "capture: %d packets %d bytes written (%d bytes on the wire) in %.3f s%n", got,
                    w.written, w.wire, secs);
            if (port instanceof NicPort nic) {
                out.println("Kernel: " + nic.stats());
            }
        }
        return 0;
    }

    private long loop(Port port, Writer w, AtomicBoolean stop) throws IOException {
        int nrings = port.rxRings();
        WaitStrategy wait = busyWait ? WaitStrategy.busySpin() : WaitStrategy.spinThenBlock(Duration.ofNanos(50_000));
        long idleWait = TimeUnit.MILLISECONDS.toNanos(100);
        long got = 0;
        try (Poller poller = new Poller(wait)) {
            poller.add(port.pollable(), Pollable.IN);
            while (!stop.get() && (count == 0 || got < count)) {
                long now = w.clock.now();
                int sec = (int) (now / 1_000_000_000L); // the batch's timestamp, split once
                int nsec = (int) (now % 1_000_000_000L);
                int did = 0;
                for (int r = 0; r < nrings; r++) {
                    Ring ring = port.rxRing(r);
                    int n = ring.space();
                    if (count != 0) {
                        n = (int) Math.min(n, count - got - did);
                    }
                    int h = ring.head();
                    int bufSize = ring.bufSize();
                    for (int k = 0; k < n; k++) {
                        int len = ring.len(h);
                        w.record(ring.memory(), ring.bufOffset(h), len, Math.min(len, bufSize), sec, nsec);
                        h = ring.nextSlot(h);
                    }
                    ring.advanceTo(h);
                    did += n;
                }
                if (did > 0) {
                    got += did;
                    w.flush(); // one write per batch
                    port.rxSync();
                } else {
                    poller.poll(idleWait);
                }
            }
        }
        port.rxSync();
        return got;
    }

    /** Wall-clock nanoseconds from the monotonic clock (one reading of each at start; no allocation after). */
    static final class Clock {
        private final long wallAtStart = System.currentTimeMillis() * 1_000_000L;
        private final long monoAtStart = System.nanoTime();

        long now() {
            return wallAtStart + (System.nanoTime() - monoAtStart);
        }
    }

    /** pcap writer over a channel through one direct staging buffer. */
    static final class Writer {
        private final FileChannel ch;
        private final int snaplen;
        private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING).order(ByteOrder.nativeOrder());
        private final MemorySegment seg = MemorySegment.ofBuffer(staging);
        private final Clock clock = new Clock();
        private int fill;
        long written;
        long wire;

        Writer(FileChannel ch, int snaplen) throws IOException {
            this.ch = ch;
            this.snaplen = snaplen;
            seg.set(JAVA_INT_UNALIGNED, 0, MAGIC_NS);
            seg.set(JAVA_SHORT_UNALIGNED, 4, (short) 2);
            seg.set(JAVA_SHORT_UNALIGNED, 6, (short) 4);
            seg.set(JAVA_INT_UNALIGNED, 8, 0);
            seg.set(JAVA_INT_UNALIGNED, 12, 0);
            seg.set(JAVA_INT_UNALIGNED, 16, snaplen);
            seg.set(JAVA_INT_UNALIGNED, 20, LINKTYPE_ETHERNET);
            fill = 24;
            flush();
        }

        /** One packet of {@code len} bytes on the wire, of which the first {@code have} are at {@code off}. */
        void record(MemorySegment mem, long off, int len, int have, int sec, int nsec) throws IOException {
            int cap = Math.min(have, snaplen);
            if (fill + 16 + cap > STAGING) {
                flush();
            }
            seg.set(JAVA_INT_UNALIGNED, fill, sec);
            seg.set(JAVA_INT_UNALIGNED, fill + 4, nsec);
            seg.set(JAVA_INT_UNALIGNED, fill + 8, cap);
            seg.set(JAVA_INT_UNALIGNED, fill + 12, len);
            MemorySegment.copy(mem, off, seg, fill + 16, cap);
            fill += 16 + cap;
            wire += len;
        }

        void flush() throws IOException {
            staging.clear().limit(fill);
            while (staging.hasRemaining()) {
                ch.write(staging);
            }
            written += fill;
            fill = 0;
        }
    }
}
