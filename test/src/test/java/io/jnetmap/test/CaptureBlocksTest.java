package io.jnetmap.test;

import io.jnetmap.capture.PacketReader;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.examples.Capture;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code capture -i netmap:IF} reads the AF_PACKET ring block by block (libpcap's way, with its 1000 ms block timeout):
 * {@code -c N} writes exactly N packets even when they arrive in one block with more; a capture stopped by SIGTERM
 * while its block is not handed over yet ends at once with a complete file.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CaptureBlocksTest {
    private static void send(Port tx, byte[] dst, byte[] src, int n) {
        Ring t = tx.txRing(0);
        for (int seq = 0; seq < n; ) {
            t.sync();
            int room = t.space();
            int h = t.head();
            for (int k = 0; k < room && seq < n; k++, seq++) {
                Frames.write(t, h, dst, src, seq, 60);
                h = t.nextSlot(h);
            }
            t.advanceTo(h);
            t.sync();
        }
    }

    @Test
    @SuppressWarnings("try")
    void countIsExactWhenOneBlockHoldsMore(@TempDir Path dir) throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            Path file = dir.resolve("seven.pcap");
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            CompletableFuture<Integer> cap = CompletableFuture.supplyAsync(() -> {
                try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
                    return Capture.run(new String[] {"-i", "netmap:" + v.b(), "-c", "7", "-w", file.toString(), "ether proto 0x88b5"},
                            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
                }
            }, r -> new Thread(r, "capture").start());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!err.toString(StandardCharsets.UTF_8).contains("listening on")) {
                assertTrue(System.nanoTime() < deadline, "capture started: " + err);
                Thread.sleep(20);
            }
            try (Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet")) {
                send(tx, Frames.mac(v.macB()), Frames.mac(v.macA()), 50); // all in one block, handed over by its timeout
            }
            assertEquals(0, cap.get(30, TimeUnit.SECONDS), err.toString(StandardCharsets.UTF_8));
            String e = err.toString(StandardCharsets.UTF_8);
            assertTrue(e.contains("7 packets captured"), e);
            List<Long> seqs = new ArrayList<>();
            try (PacketReader r = PacketReader.open(file)) {
                while (r.next()) {
                    seqs.add(r.segment().get(JAVA_LONG_UNALIGNED, r.offset() + Frames.SEQ_OFFSET));
                }
            }
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L), seqs, e);
        }
    }

    @Test
    void sigtermStopsAtOnceWithACompleteFile(@TempDir Path dir) throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            Path file = dir.resolve("stopped.pcap");
            Path log = dir.resolve("capture.log");
            Process p = RemoteMonitorTest.startIn(v.nsB(), log, "capture", "-i", "netmap:" + v.b(), "-w", file.toString());
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!Files.readString(log).contains("listening on")) {
                    assertTrue(p.isAlive() && System.nanoTime() < deadline, "capture started: " + Files.readString(log));
                    Thread.sleep(20);
                }
                try (Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet")) {
                    send(tx, Frames.mac(v.macB()), Frames.mac(v.macA()), 3); // into a block the kernel keeps for up to a second
                }
                long t0 = System.nanoTime();
                p.destroy();
                assertTrue(p.waitFor(10, TimeUnit.SECONDS), "stopped on SIGTERM: " + Files.readString(log));
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                String text = Files.readString(log);
                // idle, the loop sleeps in poll(2) without a timeout: the signal wakes it (an eventfd), not a block's timeout
                assertTrue(ms < 1500, "stopped in " + ms + " ms: " + text);
                assertTrue(text.contains("packets captured"), text);
                // a whole pcap file: tcpdump reads it without complaint
                String read = NetLab.run(List.of("tcpdump", "-n", "-r", file.toString()));
                assertTrue(read.contains("reading from file"), read);
            } finally {
                p.destroyForcibly();
            }
        }
    }
}
