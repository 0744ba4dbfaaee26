package io.jnetmap.examples;

import io.jnetmap.capture.CaptureFileException;
import io.jnetmap.capture.PacketReader;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.PortBrokenException;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.Pollable;
import io.jnetmap.poll.Poller;
import io.jnetmap.poll.WaitStrategy;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code replay}: netmap's nmreplay. Sends the packets of a pcap or pcapng file into any port, at the pace
 * they were recorded (optionally sped up), at a fixed packet or bit rate, or as fast as the port takes them;
 * loops; a progress line per interval and a final count. Packets are copied from the reader's buffer into TX
 * slots in batches, one txsync per batch; nothing is allocated per packet.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Sends a pcap/pcapng file into a port: at the recorded pace, sped up, at a rate, or as fast as possible (nmreplay).")
public final class Replay implements Callable<Integer> {
    @Option(names = "-r", required = true, paramLabel = "FILE", description = "pcap or pcapng file to send")
    Path file;

    @Option(names = "-i", required = true, paramLabel = "PORT", description = "port to send into (netmap syntax)")
    String portName;

    @Option(names = "-x", paramLabel = "FACTOR", defaultValue = "1", description = "speed-up of the recorded pace (default: ${DEFAULT-VALUE})")
    double speedup;

    @Option(names = "-R", paramLabel = "PPS", defaultValue = "0", description = "send at PPS packets per second instead of the recorded pace")
    double pps;

    @Option(names = "-B", paramLabel = "BPS", defaultValue = "0", description = "send at BPS bits per second (frame bytes) instead")
    double bps;

    @Option(names = "-t", description = "as fast as possible")
    boolean fast;

    @Option(names = "-l", paramLabel = "LOOPS", defaultValue = "1", description = "times to send the file, 0 = until Ctrl-C (default: ${DEFAULT-VALUE})")
    long loops;

    @Option(names = "-T", paramLabel = "MS", defaultValue = "1000", description = "progress line interval in ms, 0 = none (default: ${DEFAULT-VALUE})")
    long reportMs;

    private final PrintStream out;

    private Replay(PrintStream out) {
        this.out = out;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    public static int run(String[] args, PrintStream out) {
        return Main.execute("replay", new Replay(out), args, out, out);
    }

    /**
     * Slots filled before a txsync hands them over in the unpaced mode (at most the ring's size less one): the receiver
     * works on a batch while the next fills. {@code jnetmap.replay.batch} sets it.
     */
    private static final int FAST_BATCH = Integer.getInteger("jnetmap.replay.batch", 256);
    /** How long {@code -t} looks for room in a full ring before it sleeps (as pkt-gen's default), and at most sleeps. */
    private static final long FULL_SPIN_NANOS = 50_000, FULL_WAIT_NANOS = 100_000_000;

    /** Where {@code -t} waits for a full ring to free slots (made at the first wait, closed at the end). */
    private Poller fullWait;

    /**
     * {@code -t}: every packet of {@code r} into {@code t}, copied by the reader straight from its read buffer into
     * the slots' buffers ({@link PacketReader#copyInto}), a txsync per {@link #FAST_BATCH} slots (or when the ring is
     * full), the stop flag and the progress line looked at once per batch, no clock read per packet. The slots filled
     * are handed over (head advanced) before a corrupt record's exception leaves. {@code progress} holds sent, bytes,
     * next report time, packets and time at the last report, updated in place.
     */
    private void sendFast(PacketReader r, Port port, Ring t, AtomicBoolean stop, long[] progress) throws java.io.IOException {
        int batch = Math.max(1, Math.min(FAST_BATCH, t.numSlots() - 1));
        int h = t.head();
        int room = t.space();
        long sent = progress[SENT], bytes0 = r.copiedBytes();
        try {
            while (true) {
                if (room == 0) { // take what the port freed
                    port.txSync();
                    room = t.space();
                    if (stop.get()) return;
                    if (room == 0) { // as pkt-gen: look again for a while, then sleep until the receiver frees slots
                        if (fullWait == null) {
                            fullWait = new Poller(WaitStrategy.spinThenBlock(Duration.ofNanos(FULL_SPIN_NANOS)));
                            fullWait.add(port.pollable(), Pollable.OUT);
                        }
                        if (fullWait.poll(FULL_WAIT_NANOS) > 0 && (fullWait.readyEvents(0) & Pollable.ERR) != 0) {
                            port.txSync(); // throws what broke the port (its peer died, or broke the rules)
                            throw new PortBrokenException("port " + port.name() + " reports an error");
                        }
                        room = t.space(); // the poll synced the ring
                        continue;
                    }
                }
                int k = r.copyInto(t, h, Math.min(room, batch));
                if (k == 0) return;
                h = t.slotAfter(h, k);
                t.advanceTo(h);
                port.txSync();
                sent += k;
                room = t.space();
                if (stop.get()) return;
                if (reportMs > 0) {
                    long now = System.nanoTime();
                    if (now >= progress[NEXT_REPORT]) {
                        out.printf(Locale.ROOT, "replay: %d packets, %.0f pps%n", sent, (sent - progress[LAST_SENT]) * 1e9 / (now - progress[LAST_TIME]));
                        progress[LAST_SENT] = sent;
                        progress[LAST_TIME] = now;
                        progress[NEXT_REPORT] = now + reportMs * 1_000_000L;
                    }
                }
            }
        } finally {
            progress[SENT] = sent;
            progress[BYTES] += r.copiedBytes() - bytes0;
        }
    }

    /** Lets the last batch go out: txsyncs until the port has taken every slot (at most ~100 ms). */
    private static void drain(Port port, Ring t) throws InterruptedException {
        for (int i = 0; i < 100 && t.space() < t.numSlots() - 1; i++) {
            port.txSync();
            Thread.sleep(1);
        }
    }

    /** Indices in the progress array: packets and bytes sent, next report time, packets and time at the last report, when the next packet is due. */
    private static final int SENT = 0, BYTES = 1, NEXT_REPORT = 2, LAST_SENT = 3, LAST_TIME = 4, DUE = 5;

    /**
     * The paced modes (recorded pace and speed-up, {@code -R}, {@code -B}): each packet waits for its time; what is
     * filled is handed over before a wait, when the ring is full, and at the end (also when a corrupt record ends it).
     */
    private void sendPaced(PacketReader r, Port port, Ring t, AtomicBoolean stop, long[] progress) throws java.io.IOException {
        long sent = progress[SENT], bytes = progress[BYTES], nextReport = progress[NEXT_REPORT], lastSent = progress[LAST_SENT],
                lastTime = progress[LAST_TIME], due = progress[DUE];
        long firstTs = Long.MIN_VALUE, loopStart = System.nanoTime();
        int h = t.head(), pending = 0, room = t.space(); // room: free slots from h on
        try {
            while (!stop.get() && r.next()) {
                if (pps > 0) {
                    due += (long) (1e9 / pps);
                } else if (bps > 0) {
                    due += (long) (r.wirelen() * 8e9 / bps);
                } else {
                    if (firstTs == Long.MIN_VALUE) firstTs = r.timestampNanos();
                    due = loopStart + (long) ((r.timestampNanos() - firstTs) / speedup);
                }
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    if (pending > 0) {
                        t.advanceTo(h);
                        port.txSync();
                        pending = 0;
                        room = t.space();
                    }
                    if (wait > 100_000) LockSupport.parkNanos(wait - 50_000);
                    while (System.nanoTime() < due) Thread.onSpinWait();
                }
                while (room <= 0) { // the ring is full: hand over what is pending, take what the port freed
                    t.advanceTo(h);
                    port.txSync();
                    pending = 0;
                    h = t.head();
                    room = t.space();
                    if (stop.get()) break;
                }
                if (room <= 0) break;
                int len = Math.min(r.caplen(), t.bufSize());
                MemorySegment.copy(r.segment(), r.offset(), t.memory(), t.bufOffset(h), len);
                t.setSlot(h, len, 0);
                h = t.nextSlot(h);
                pending++;
                room--;
                sent++;
                bytes += len;
                if (reportMs > 0 && (sent & 255) == 0) {
                    long now = System.nanoTime();
                    if (now >= nextReport) {
                        out.printf(Locale.ROOT, "replay: %d packets, %.0f pps%n", sent, (sent - lastSent) * 1e9 / (now - lastTime));
                        lastSent = sent;
                        lastTime = now;
                        nextReport = now + reportMs * 1_000_000L;
                    }
                }
            }
        } finally { // what is filled goes out
            t.advanceTo(h);
            port.txSync();
            progress[SENT] = sent;
            progress[BYTES] = bytes;
            progress[NEXT_REPORT] = nextReport;
            progress[LAST_SENT] = lastSent;
            progress[LAST_TIME] = lastTime;
            progress[DUE] = due;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (speedup <= 0) throw new IllegalArgumentException("speed-up=" + speedup + " (expected: > 0)");
        if (pps < 0 || bps < 0) throw new IllegalArgumentException("rate (expected: >= 0)");
        if (loops < 0) throw new IllegalArgumentException("loops=" + loops + " (expected: >= 0)");
        AtomicBoolean stop = new AtomicBoolean();
        long start = System.nanoTime();
        long[] progress = {0, 0, start + reportMs * 1_000_000L, 0, start, start};
        try (StopOnSignal signal = new StopOnSignal("replay-stop", () -> stop.set(true), 3); Port port = Netmap.open(portName)) {
            if (port.txRings() == 0) throw new IllegalArgumentException("port " + port.name() + " has no TX rings bound");
            String pace = fast ? "as fast as possible" : pps > 0 ? pps + " pps" : bps > 0 ? bps + " bit/s" : "recorded pace x" + speedup;
            out.printf(Locale.ROOT, "replay: %s -> %s (backend %s), %s%n", file, port.name(), port.backend(), pace);
            Ring t = port.txRing(0);
            try {
                for (long loop = 0; (loops == 0 || loop < loops) && !stop.get(); loop++) {
                    try (PacketReader r = PacketReader.open(file)) {
                        if (fast) {
                            sendFast(r, port, t, stop, progress);
                        } else {
                            sendPaced(r, port, t, stop, progress);
                        }
                    }
                }
                drain(port, t);
            } catch (CaptureFileException e) {
                // every packet before the corrupt record goes out, nothing after it; then the error's one line
                drain(port, t);
                out.printf(Locale.ROOT, "replay: %d packets %d bytes sent before the error%n", progress[SENT], progress[BYTES]);
                throw e;
            } finally {
                if (fullWait != null) fullWait.close();
                fullWait = null;
            }
        }
        long sent = progress[SENT];
        double secs = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "replay: %d packets %d bytes sent in %.3f s (%.0f pps)%n", sent, progress[BYTES], secs, sent / Math.max(secs, 1e-9));
        return 0;
    }
}
