package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Region;
import io.jnetmap.core.Ring;
import io.jnetmap.examples.Main;
import io.jnetmap.examples.PktGen;
import io.jnetmap.examples.traffic.Frame;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pkt-gen on pipes: across two processes, ping/pong, its output contract, and no allocation per packet. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PktGenTest {
    private static final Pattern SPEED = Pattern.compile("(?m)^Speed: (\\d+) pps Bandwidth: (\\d+) bps Average batch: ([\\d.]+) pkts$");

    static String uniqueParent() {
        return "pg" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
    }

    /** Runs pkt-gen in this JVM, on the calling thread; returns exit code and output. */
    static Run pktGen(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int code = PktGen.run(args, out);
        return new Run(code, bytes.toString(StandardCharsets.UTF_8));
    }

    record Run(int code, String out) {
        long speedLines() {
            return SPEED.matcher(out).results().count();
        }
    }

    static Process startPktGen(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "pkt-gen"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    static String finish(Process p) throws Exception {
        return finish(p, 90);
    }

    /** Waits up to {@code seconds} for pkt-gen to exit 0 and returns its output; kills it in any case. */
    static String finish(Process p, int seconds) throws Exception {
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            assertTrue(p.waitFor(seconds, TimeUnit.SECONDS), "pkt-gen finished");
            String s = out.get(10, TimeUnit.SECONDS);
            assertEquals(0, p.exitValue(), s);
            return s;
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void txseqAndRxseqInTwoProcessesLoseAndReorderNothing() throws Exception {
        String parent = uniqueParent();
        String n = "3000000";
        Process rx = startPktGen("-i", parent + "}1", "-f", "rxseq", "-n", n, "-T", "500");
        Process tx = startPktGen("-i", parent + "{1", "-f", "txseq", "-n", n, "-T", "500", "-b", "256");
        String txOut = finish(tx);
        String rxOut = finish(rx);
        assertTrue(rxOut.contains("Received " + n + " packets " + 60L * Long.parseLong(n) + " bytes"), rxOut);
        assertTrue(rxOut.contains("Sequence: lost 0 reordered 0"), rxOut);
        assertTrue(txOut.contains("Sent " + n + " packets"), txOut);
        for (String out : new String[] {txOut, rxOut}) {
            Matcher m = SPEED.matcher(out);
            assertTrue(m.find(), out);
            assertTrue(Long.parseLong(m.group(1)) > 0, out);
            assertEquals(Long.parseLong(m.group(1)) * 60 * 8, Long.parseLong(m.group(2)), 60 * 8.0 * 2, "bandwidth = pps x 480 bits");
            assertFalse(m.find(), "exactly one Speed line: " + out);
        }
        assertTrue(txOut.contains("avg_batch"), "a report line per interval: " + txOut);
        assertFalse(Files.exists(Region.directory().resolve("pipe." + parent)));
    }

    @Test
    void txAndRxInTwoProcessesCountExactlyWhatWasSent() throws Exception {
        // the default loops: tx only sets slot lengths once a buffer holds the frame, rx only counts slots and bytes
        String parent = uniqueParent();
        String n = "2000000";
        Process rx = startPktGen("-i", parent + "}1", "-f", "rx", "-n", n, "-T", "0");
        Process tx = startPktGen("-i", parent + "{1", "-f", "tx", "-n", n, "-T", "0");
        String txOut = finish(tx);
        String rxOut = finish(rx);
        assertTrue(txOut.contains("Sent " + n + " packets " + 60L * Long.parseLong(n) + " bytes"), txOut);
        assertTrue(rxOut.contains("Received " + n + " packets " + 60L * Long.parseLong(n) + " bytes"), rxOut);
    }

    /**
     * Receives {@code n} frames on {@code port}, counting those that are not byte for byte pkt-gen's
     * standard 60-byte frame; {@code scribble}: overwrites every buffer before releasing it.
     */
    static long receiveAndCompare(Port port, long n, boolean scribble) {
        byte[] want = new byte[60];
        Frame.standard(60).writeTo(MemorySegment.ofArray(want), 0);
        MemorySegment expected = MemorySegment.ofArray(want);
        Ring r = port.rxRing(0);
        long got = 0;
        long wrong = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (got < n && System.nanoTime() < deadline) {
            r.sync();
            int i = r.head();
            while (i != r.tail()) {
                MemorySegment frame = r.memory().asSlice(r.bufOffset(i), r.len(i));
                if (frame.mismatch(expected) != -1) {
                    wrong++;
                }
                if (scribble) {
                    r.memory().asSlice(r.bufOffset(i), 60).fill((byte) 0x5a);
                }
                got++;
                i = r.nextSlot(i);
            }
            r.advanceTo(i);
        }
        r.sync();
        assertEquals(n, got, "frames received");
        return wrong;
    }

    @Test
    void txWritesEachBufferOnceAndEveryFrameArrivesWhole() throws Exception {
        String parent = uniqueParent();
        long n = 50_000; // ~25 trips of every buffer of a 1024-slot pipe
        try (Port rx = Netmap.open(parent + "}1")) {
            CompletableFuture<Long> wrong = CompletableFuture.supplyAsync(() -> receiveAndCompare(rx, n, false),
                    runnable -> new Thread(runnable).start());
            Run tx = pktGen("-i", parent + "{1", "-f", "tx", "-n", "" + n, "-T", "0");
            assertEquals(0, tx.code(), tx.out());
            assertEquals(0, wrong.get(60, TimeUnit.SECONDS), "frames not pkt-gen's standard frame");
        }
    }

    @Test
    void copyRewritesBuffersAReceiverWroteInto() throws Exception {
        // a receiver that writes into the buffers it releases: the default sends what it left there (each buffer is
        // written once, as netmap's pkt-gen does), --copy writes every frame whole
        for (boolean copy : new boolean[] {false, true}) {
            String parent = uniqueParent();
            long n = 20_000;
            try (Port rx = Netmap.open(parent + "}1")) {
                CompletableFuture<Long> wrong = CompletableFuture.supplyAsync(() -> receiveAndCompare(rx, n, true),
                        runnable -> new Thread(runnable).start());
                Run tx = copy ? pktGen("-i", parent + "{1", "-f", "tx", "-n", "" + n, "-T", "0", "--copy")
                        : pktGen("-i", parent + "{1", "-f", "tx", "-n", "" + n, "-T", "0");
                assertEquals(0, tx.code(), tx.out());
                long w = wrong.get(60, TimeUnit.SECONDS);
                if (copy) {
                    assertEquals(0, w, "--copy: frames not whole");
                } else {
                    assertTrue(w > n / 2, "default: the buffers were rewritten per packet (" + w + " of " + n + " scribbled)");
                }
            }
        }
    }

    @Test
    void rxseqCountsPacketsMissingAndReorderedAndForeignFramesAsOther() throws Exception {
        String parent = uniqueParent();
        CompletableFuture<Run> rx = CompletableFuture.supplyAsync(() -> pktGen("-i", parent + "}1", "-f", "rxseq", "-n", "7", "-T", "0"));
        try (Port tx = Netmap.open(parent + "{1")) {
            Ring t = tx.txRing(0);
            Frame ours = Frame.standard(60);
            // 3 and 4 missing at 5; then 3 comes late; -1: a frame of the link's own (IPv6, as neighbour discovery)
            for (long seq : new long[] {0, 1, 2, -1, 5, 6, 3}) {
                int i = t.head();
                MemorySegment m = t.memory();
                m.asSlice(t.bufOffset(i), 60).fill((byte) 0);
                if (seq >= 0) {
                    ours.writeTo(m, t.bufOffset(i));
                    m.set(JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), t.bufOffset(i) + 42, seq);
                } else {
                    m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, t.bufOffset(i) + 12, (byte) 0x86);
                    m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, t.bufOffset(i) + 13, (byte) 0xdd);
                }
                t.setSlot(i, 60, 0);
                t.advanceTo(t.nextSlot(i));
            }
            t.sync();
            Run r = rx.get(60, TimeUnit.SECONDS);
            assertEquals(0, r.code(), r.out());
            assertTrue(r.out().contains("Sequence: lost 2 reordered 1 other 1"), r.out());
        }
    }

    @Test
    void pingPongReportsRoundTripTimes() throws Exception {
        String parent = uniqueParent();
        CompletableFuture<Run> pong = CompletableFuture.supplyAsync(() -> pktGen("-i", parent + "}1", "-f", "pong", "-n", "2000", "-T", "0", "-W"));
        Run ping = pktGen("-i", parent + "{1", "-f", "ping", "-n", "2000", "-T", "0", "-W");
        Run p = pong.get(60, TimeUnit.SECONDS);
        assertEquals(0, ping.code(), ping.out());
        assertEquals(0, p.code(), p.out());
        Matcher m = Pattern.compile("RTT: min (\\d+) avg (\\d+) p50 (\\d+) p99 (\\d+) max (\\d+) ns \\((\\d+) replies, (\\d+) lost\\)")
                .matcher(ping.out());
        assertTrue(m.find(), ping.out());
        long min = Long.parseLong(m.group(1));
        long p50 = Long.parseLong(m.group(3));
        long p99 = Long.parseLong(m.group(4));
        long max = Long.parseLong(m.group(5));
        assertTrue(0 < min && min <= p50 && p50 <= p99 && p99 <= max, ping.out());
        assertEquals("2000", m.group(6));
        assertEquals("0", m.group(7));
        assertEquals(1, ping.speedLines());
        assertTrue(p.out().contains("Answered 2000 packets"), p.out());
    }

    @Test
    void badArgumentsSayWhatIsWrong() {
        Run r = pktGen("-i", "pipe{1", "-f", "fly");
        assertEquals(2, r.code());
        Run bad = pktGen("-i", "netmap:eth0-x", "-f", "tx");
        assertEquals(1, bad.code());
        Run len = pktGen("-i", uniqueParent() + "{1", "-l", "20");
        assertEquals(2, len.code()); // a bad option value is a usage error, as in every tool (Cli)
    }

    @Test
    void theHotPathAllocatesNothingPerPacket() throws Exception {
        for (String[] f : new String[][] {{"txseq", "rxseq"}, {"tx", "rx"}}) {
            allocatesNothingPerPacket(f[0], f[1]);
        }
    }

    private static void allocatesNothingPerPacket(String txFunction, String rxFunction) throws Exception {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        String parent = uniqueParent();
        long small = 300_000;
        long large = 3_300_000;
        long[] allocated = new long[4];
        int k = 0;
        for (long n : new long[] {small, large}) {
            int at = k;
            CompletableFuture<Long> rx = CompletableFuture.supplyAsync(() -> {
                long before = mx.getCurrentThreadAllocatedBytes();
                Run r = pktGen("-i", parent + "}1", "-f", rxFunction, "-n", "" + n, "-T", "0", "-W");
                assertEquals(0, r.code(), r.out());
                return mx.getCurrentThreadAllocatedBytes() - before;
            }, runnable -> new Thread(runnable).start());
            long before = mx.getCurrentThreadAllocatedBytes();
            Run tx = pktGen("-i", parent + "{1", "-f", txFunction, "-n", "" + n, "-T", "0", "-b", "256", "-W");
            allocated[at] = mx.getCurrentThreadAllocatedBytes() - before;
            assertEquals(0, tx.code(), tx.out());
            allocated[at + 1] = rx.get(60, TimeUnit.SECONDS);
            k += 2;
        }
        long txPerRun = allocated[2] - allocated[0];
        long rxPerRun = allocated[3] - allocated[1];
        // ten times more packets must not cost (measurably) more: what a run allocates is set-up, not per packet
        // (busy-wait: a sleep and its wake-up are system calls that may allocate a small object in FFM's downcall path)
        assertTrue(txPerRun < 64 * 1024, txFunction + ": sending " + (large - small) + " more packets allocated " + txPerRun + " more bytes");
        assertTrue(rxPerRun < 64 * 1024, rxFunction + ": receiving " + (large - small) + " more packets allocated " + rxPerRun + " more bytes");
    }
}
