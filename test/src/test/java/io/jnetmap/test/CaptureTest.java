package io.jnetmap.test;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.examples.Capture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code capture} writes what a port receives as a pcap file that the file's own reader (here, a
 * parser written from the format) and tcpdump -r (where installed) read back packet for packet.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CaptureTest {
    private record Run(int code, String out) {
    }

    private static CompletableFuture<Run> capture(String... args) {
        return CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            int code = Capture.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
            return new Run(code, bytes.toString(StandardCharsets.UTF_8));
        }, r -> new Thread(r, "capture").start());
    }

    private static int lengthOf(int k) {
        return 60 + (k * 37) % 1455;
    }

    private static byte byteOf(int k, int j) {
        return (byte) (k * 7 + j);
    }

    /** Sends packets {@code [from, to)} on {@code p}, each of lengthOf(k) bytes of byteOf(k, j), waiting for room. */
    private static void send(Port p, int from, int to) {
        Ring t = p.txRing(0);
        for (int k = from; k < to; ) {
            t.sync();
            int h = t.head();
            for (int n = t.space(); n > 0 && k < to; n--, k++) {
                int len = lengthOf(k);
                long off = t.bufOffset(h);
                for (int j = 0; j < len; j++) {
                    t.memory().set(JAVA_BYTE, off + j, byteOf(k, j));
                }
                t.setSlot(h, len, 0);
                h = t.nextSlot(h);
            }
            t.advanceTo(h);
            t.sync();
        }
    }

    /** Checks the pcap file holds packets {@code 0..n-1} as sent, cut at {@code snaplen}; returns its record count. */
    private static int check(Path file, int n, int snaplen, long notBeforeNs, long notAfterNs) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xa1b23c4d, b.getInt(), "nanosecond pcap magic");
        assertEquals(2, b.getShort());
        assertEquals(4, b.getShort());
        b.getInt();
        b.getInt();
        assertEquals(snaplen, b.getInt());
        assertEquals(1, b.getInt(), "LINKTYPE_ETHERNET");
        long lastTs = 0;
        int k = 0;
        while (b.hasRemaining()) {
            long ts = b.getInt() * 1_000_000_000L + b.getInt();
            int caplen = b.getInt();
            int len = b.getInt();
            assertTrue(ts >= lastTs && ts >= notBeforeNs && ts <= notAfterNs, "timestamp of packet " + k);
            lastTs = ts;
            assertEquals(lengthOf(k), len, "length on the wire of packet " + k);
            assertEquals(Math.min(len, snaplen), caplen, "captured length of packet " + k);
            for (int j = 0; j < caplen; j++) {
                if (b.get() != byteOf(k, j)) {
                    throw new AssertionError("packet " + k + " byte " + j);
                }
            }
            k++;
        }
        assertEquals(n, k, "records in the file");
        return k;
    }

    @Test
    void whatAPipeEndReceivesIsInTheFileByteForByte(@TempDir Path dir) throws Exception {
        String parent = "cap" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        Path file = dir.resolve("out.pcap");
        int n = 5000;
        long before = System.currentTimeMillis() * 1_000_000L;
        try (Port tx = Netmap.open(parent + "{1")) {
            CompletableFuture<Run> cap = capture("-i", parent + "}1", "-w", file.toString(), "-c", "" + n);
            send(tx, 0, n);
            Run r = cap.get(30, TimeUnit.SECONDS);
            assertEquals(0, r.code(), r.out());
            assertTrue(r.out().contains(n + " packets captured"), r.out());
        }
        long after = System.currentTimeMillis() * 1_000_000L + 1_000_000L;
        check(file, n, 262144, before, after);
        Path tcpdump = Path.of("/usr/bin/tcpdump");
        if (Files.isExecutable(tcpdump)) { // a second, independent reader where one is installed
            Process p = new ProcessBuilder(tcpdump.toString(), "-r", file.toString(), "--count").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("reading from file " + file + ", link-type EN10MB (Ethernet), snapshot length 262144"), out);
            assertTrue(out.lines().anyMatch(l -> l.equals(n + " packets")), "tcpdump reads every packet: " + out);
        }
    }

    @Test
    void aMonitorOfAPortOfThisProcessIsCapturedWithASnapLength(@TempDir Path dir) throws Exception {
        String parent = "capm" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        Path file = dir.resolve("tx.pcap");
        int n = 300;
        try (Port tx = Netmap.open(parent + "{1"); Port rx = Netmap.open(parent + "}1")) {
            CompletableFuture<Run> cap = capture("-i", parent + "{1/t", "-w", file.toString(), "-c", "" + n, "-s", "100");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!Files.exists(file) || Files.size(file) < 24) { // the monitor is open once the header is written
                assertTrue(System.nanoTime() < deadline, "capture started");
                Thread.sleep(10);
            }
            send(tx, 0, n);
            Run r = cap.get(30, TimeUnit.SECONDS);
            assertEquals(0, r.code(), r.out());
            Ring in = rx.rxRing(0);
            in.sync();
            assertEquals(n, in.space(), "the pipe delivered everything, watched or not");
        }
        check(file, n, 100, 0, Long.MAX_VALUE);
    }

    @Test
    void badArgumentsSayWhatIsWrong(@TempDir Path dir) throws Exception {
        Run noSource = capture("-w", dir.resolve("z").toString()).get(10, TimeUnit.SECONDS);
        assertEquals(1, noSource.code());
        assertTrue(noSource.out().contains("expected: -i PORT or -r FILE"), noSource.out());
        Run badExpr = capture("-i", "pipe}1", "tcp", "port").get(10, TimeUnit.SECONDS);
        assertEquals(1, badExpr.code());
        assertTrue(badExpr.out().contains("column 9"), badExpr.out());
        Run snap = capture("-i", "pipe}1", "-w", dir.resolve("x").toString(), "-s", "0").get(10, TimeUnit.SECONDS);
        assertEquals(1, snap.code());
        assertTrue(snap.out().contains("snaplen=0 (expected: 1..262144)"), snap.out());
        Run badPort = capture("-i", "netmap:", "-w", dir.resolve("y").toString()).get(10, TimeUnit.SECONDS);
        assertEquals(1, badPort.code(), badPort.out());
        assertTrue(badPort.out().startsWith("capture: "), badPort.out());
    }
}
