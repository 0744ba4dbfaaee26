package io.jnetmap.test;

import io.jnetmap.capture.PacketWriter;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.examples.Replay;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code replay} sends a file into a pipe: every packet, in order, looped, at the recorded pace or faster. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ReplayTest {
    static final int N = 40;

    private static Path trace(Path dir) throws Exception {
        Path f = dir.resolve("r.pcap");
        try (PacketWriter w = PacketWriter.create(f, PacketWriter.Format.PCAP, 262144, List.of("x"))) {
            for (int i = 0; i < N; i++) {
                byte[] p = new byte[60 + i];
                p[0] = (byte) i;
                w.write(0, MemorySegment.ofArray(p), 0, p.length, p.length, 1_000_000_000L + i * 10_000_000L); // 10 ms apart
            }
        }
        return f;
    }

    private record Run(int code, String out, long nanos) { }

    private static CompletableFuture<Run> replay(String... args) {
        return CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            long t0 = System.nanoTime();
            int code = Replay.run(args, new PrintStream(b, true, StandardCharsets.UTF_8));
            return new Run(code, b.toString(StandardCharsets.UTF_8), System.nanoTime() - t0);
        }, r -> new Thread(r, "replay").start());
    }

    private static int receive(Ring rx, int want, int[] order) throws InterruptedException {
        int got = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (got < want && System.nanoTime() < deadline) {
            rx.sync();
            int n = rx.space(), h = rx.head();
            for (int i = 0; i < n; i++) {
                int k = rx.memory().get(ValueLayout.JAVA_BYTE, rx.bufOffset(h)) & 0xff;
                assertEquals(60 + k, rx.len(h));
                order[got++] = k;
                h = rx.nextSlot(h);
            }
            rx.advanceTo(h);
            if (n == 0) Thread.sleep(1);
        }
        return got;
    }

    /**
     * As fast as possible, a file of many times the ring's slots (sizes 60..1514) while a receiver drains: every packet
     * arrives once, in order, with its bytes, over the batches and the waits for a full ring.
     */
    @Test
    void asFastAsPossibleAFileManyRingsLong(@TempDir Path dir) throws Exception {
        int n = 20_000, loops = 2;
        Path f = dir.resolve("many.pcap");
        try (PacketWriter w = PacketWriter.create(f, PacketWriter.Format.PCAP, 262144, List.of("x"))) {
            for (int i = 0; i < n; i++) {
                byte[] p = new byte[60 + i % 1455];
                MemorySegment.ofArray(p).set(ValueLayout.JAVA_INT_UNALIGNED, 0, i);
                p[p.length - 1] = (byte) (i * 31);
                w.write(0, MemorySegment.ofArray(p), 0, p.length, p.length, 1_000_000_000L + i);
            }
        }
        String parent = "rpm" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        try (Port rx = Netmap.open(parent + "}1")) {
            CompletableFuture<Run> run = replay("-r", f.toString(), "-i", parent + "{1", "-t", "-l", "" + loops);
            Ring r = rx.rxRing(0);
            int got = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (got < n * loops && System.nanoTime() < deadline) {
                r.sync();
                int k = r.space(), h = r.head();
                for (int j = 0; j < k; j++, got++) {
                    int i = got % n;
                    long off = r.bufOffset(h);
                    assertEquals(i, r.memory().get(ValueLayout.JAVA_INT_UNALIGNED, off), "packet " + got);
                    assertEquals(60 + i % 1455, r.len(h), "packet " + got);
                    assertEquals((byte) (i * 31), r.memory().get(ValueLayout.JAVA_BYTE, off + r.len(h) - 1), "packet " + got);
                    h = r.nextSlot(h);
                }
                r.advanceTo(h);
                if (k == 0) Thread.onSpinWait();
            }
            Run done = run.get(30, TimeUnit.SECONDS);
            assertEquals(0, done.code(), done.out());
            assertEquals(n * loops, got, done.out());
            assertTrue(done.out().contains("replay: " + n * loops + " packets"), done.out());
        }
    }

    @Test
    void everyPacketInOrderLoopedAndPaced(@TempDir Path dir) throws Exception {
        Path f = trace(dir);
        String parent = "rp" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        try (Port rx = Netmap.open(parent + "}1")) {
            int[] order = new int[3 * N];
            Run fast = replay("-r", f.toString(), "-i", parent + "{1", "-t", "-l", "3").get(30, TimeUnit.SECONDS);
            assertEquals(0, fast.code(), fast.out());
            assertEquals(3 * N, receive(rx.rxRing(0), 3 * N, order), fast.out());
            for (int i = 0; i < 3 * N; i++) assertEquals(i % N, order[i]);
            assertTrue(fast.out().contains("replay: " + 3 * N + " packets"), fast.out());

            Run paced = replay("-r", f.toString(), "-i", parent + "{1").get(30, TimeUnit.SECONDS);
            assertEquals(N, receive(rx.rxRing(0), N, order));
            assertTrue(paced.nanos() >= 380_000_000L, "recorded pace: 390 ms of packets took " + paced.nanos() / 1e6 + " ms");

            Run sped = replay("-r", f.toString(), "-i", parent + "{1", "-x", "10").get(30, TimeUnit.SECONDS);
            assertEquals(N, receive(rx.rxRing(0), N, order));
            assertTrue(sped.nanos() < paced.nanos(), "x10 faster than x1: " + sped.nanos() / 1e6 + " ms");

            Run rate = replay("-r", f.toString(), "-i", parent + "{1", "-R", "200").get(30, TimeUnit.SECONDS);
            assertEquals(N, receive(rx.rxRing(0), N, order));
            assertTrue(rate.nanos() >= 190_000_000L, "40 packets at 200 pps took " + rate.nanos() / 1e6 + " ms");
        }
    }
}
