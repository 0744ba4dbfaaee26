package io.jnetmap.test;

import io.jnetmap.capture.PacketReader;
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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
    /** Packet i of the big files: 60..1514 bytes (a few of 3000, more than a pipe buffer holds), bytes that differ per packet. */
    private static byte[] bigPacket(int i) {
        int size = i % 997 == 5 ? 3000 : 60 + (i * 389) % 1455;
        byte[] p = new byte[size];
        for (int k = 0; k < size; k++) p[k] = (byte) (i * 7 + k * 13 + (k >> 8));
        MemorySegment.ofArray(p).set(ValueLayout.JAVA_INT_UNALIGNED, 0, i);
        return p;
    }

    /** A file of packets 0..n-1 ({@link #bigPacket}) in {@code format}, one microsecond apart. */
    private static void writeBig(Path f, PacketWriter.Format format, int n) throws Exception {
        try (PacketWriter w = PacketWriter.create(f, format, 262144, List.of("big"))) {
            for (int i = 0; i < n; i++) {
                byte[] p = bigPacket(i);
                w.write(0, MemorySegment.ofArray(p), 0, p.length, p.length, 1_700_000_000_000_000_000L + i * 1_000L);
            }
        }
    }

    /** A little-endian pcap file rewritten with every header field big-endian (as a SPARC or PowerPC libpcap writes it). */
    private static void toBigEndian(Path in, Path out) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(in)).order(ByteOrder.LITTLE_ENDIAN);
        for (int o : new int[] {0, 8, 12, 16, 20}) b.putInt(o, Integer.reverseBytes(b.getInt(o)));
        b.putShort(4, Short.reverseBytes(b.getShort(4)));
        b.putShort(6, Short.reverseBytes(b.getShort(6)));
        for (int p = 24; p < b.limit(); ) {
            int cap = b.getInt(p + 8);
            for (int k = 0; k < 16; k += 4) b.putInt(p + k, Integer.reverseBytes(b.getInt(p + k)));
            p += 16 + cap;
        }
        Files.write(out, b.array());
    }

    /**
     * Receives on {@code r} until {@code want} packets came or {@code run} ended and nothing more arrives, checking
     * that packet j is {@link #bigPacket}(j) cut to the buffer size, byte for byte. Returns the count.
     */
    private static int receiveBig(Ring r, int want, CompletableFuture<Run> run) throws Exception {
        int got = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40), quiet = 0;
        while (System.nanoTime() < deadline) {
            r.sync();
            int k = r.space(), h = r.head();
            for (int j = 0; j < k; j++, got++) {
                byte[] want0 = bigPacket(got);
                int len = Math.min(want0.length, r.bufSize());
                assertEquals(len, r.len(h), "packet " + got);
                long diff = MemorySegment.ofArray(want0).asSlice(0, len).mismatch(r.memory().asSlice(r.bufOffset(h), len));
                assertEquals(-1, diff, "packet " + got + " differs at byte " + diff);
                h = r.nextSlot(h);
            }
            r.advanceTo(h);
            if (k == 0) {
                if (got >= want && run.isDone()) break;
                if (run.isDone() && quiet == 0) quiet = System.nanoTime();
                if (quiet != 0 && System.nanoTime() - quiet > 300_000_000L) break; // the replay ended; nothing more came
                Thread.sleep(1);
            }
        }
        return got;
    }

    /**
     * A file many times the reader's 256 KiB buffer, records across every refill, in each format replay reads (pcap
     * with nanoseconds, pcap with microseconds in both byte orders, pcapng): every packet arrives once, in order, byte
     * for byte (cut to the pipe's buffer where longer).
     */
    @Test
    void aBigFileInEveryFormatArrivesByteForByte(@TempDir Path dir) throws Exception {
        int n = 6_000;
        Path ns = dir.resolve("ns.pcap"), us = dir.resolve("us.pcap"), be = dir.resolve("be.pcap"), ng = dir.resolve("big.pcapng");
        writeBig(ns, PacketWriter.Format.PCAP, n);
        writeBig(us, PacketWriter.Format.PCAP_MICRO, n);
        toBigEndian(us, be);
        writeBig(ng, PacketWriter.Format.PCAPNG, n);
        assertTrue(Files.size(ns) > 10L * (256 << 10), "a file of " + Files.size(ns) + " bytes (expected: many read buffers)");
        String parent = "rpb" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        try (Port rx = Netmap.open(parent + "}1")) {
            for (Path f : List.of(ns, us, be, ng)) {
                CompletableFuture<Run> run = replay("-r", f.toString(), "-i", parent + "{1", "-t", "-T", "0");
                int got = receiveBig(rx.rxRing(0), n, run);
                Run done = run.get(30, TimeUnit.SECONDS);
                assertEquals(0, done.code(), f + ": " + done.out());
                assertEquals(n, got, f + ": " + done.out());
                assertTrue(done.out().contains("replay: " + n + " packets"), done.out());
            }
        }
    }

    /**
     * A corrupt record (a caplen of 4 GB) or a file cut inside its last record: replay sends every packet before it,
     * nothing after, and fails with one line naming the byte offset; as fast as possible and paced alike.
     */
    @Test
    void aCorruptFileSendsEveryPacketBeforeTheCorruptionAndFailsInOneLine(@TempDir Path dir) throws Exception {
        int n = 3_000, bad = 2_345;
        Path good = dir.resolve("good.pcap"), corrupt = dir.resolve("corrupt.pcap"), cut = dir.resolve("cut.pcap");
        writeBig(good, PacketWriter.Format.PCAP_MICRO, n);
        byte[] b = Files.readAllBytes(good);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int at = 24;
        for (int i = 0; i < bad; i++) at += 16 + bb.getInt(at + 8);
        assertTrue(at > 256 << 10, "the corrupt record lies past the first read buffer");
        bb.putInt(at + 8, 0xffff_fff0);
        Files.write(corrupt, b);
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(good), (int) Files.size(good) - 10));
        String parent = "rpc" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        try (Port rx = Netmap.open(parent + "}1")) {
            for (String mode : List.of("-t", "-R")) {
                for (Path f : List.of(corrupt, cut)) {
                    int expect = f == corrupt ? bad : n - 1;
                    CompletableFuture<Run> run = mode.equals("-t")
                            ? replay("-r", f.toString(), "-i", parent + "{1", "-t", "-T", "0", "-l", "2")
                            : replay("-r", f.toString(), "-i", parent + "{1", "-R", "2000000", "-T", "0", "-l", "2");
                    int got = receiveBig(rx.rxRing(0), expect, run);
                    Run done = run.get(30, TimeUnit.SECONDS);
                    String what = mode + " " + f.getFileName() + ": " + done.out();
                    assertTrue(done.code() != 0, what);
                    assertEquals(expect, got, what);
                    List<String> errors = done.out().lines().filter(l -> l.contains("byte offset")).toList();
                    assertEquals(1, errors.size(), what);
                    assertTrue(errors.get(0).startsWith("replay: " + (f == corrupt ? "corrupt packet record" : "truncated packet")), what);
                    assertTrue(done.out().contains("replay: " + expect + " packets"), what);
                }
            }
        }
    }
    /**
     * {@link PacketReader#copyInto} against {@link PacketReader#next()} on a second reader of the same file, in batches
     * of odd sizes across refills, in both byte orders and pcapng: the slots hold the packets cut to the buffer size, the
     * last one copied is the current packet (length, timestamp, file offset), and {@code copiedBytes} is the sum.
     */
    @Test
    void copyIntoAgreesWithNext(@TempDir Path dir) throws Exception {
        int n = 4_000;
        Path us = dir.resolve("us.pcap"), be = dir.resolve("be.pcap"), ng = dir.resolve("c.pcapng");
        writeBig(us, PacketWriter.Format.PCAP_MICRO, n);
        toBigEndian(us, be);
        writeBig(ng, PacketWriter.Format.PCAPNG, n);
        String parent = "rpr" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        try (Port tx = Netmap.open(parent + "{1")) {
            Ring t = tx.txRing(0);
            for (Path f : List.of(us, be, ng)) {
                try (PacketReader a = PacketReader.open(f); PacketReader b = PacketReader.open(f)) {
                    int i = 0, k, batch = 1;
                    long bytes = 0;
                    while ((k = a.copyInto(t, t.head(), batch)) > 0) {
                        for (int j = 0, h = t.head(); j < k; j++, i++, h = t.nextSlot(h)) {
                            assertTrue(b.next(), f + ": packet " + i);
                            byte[] want = bigPacket(i);
                            int len = Math.min(want.length, t.bufSize());
                            assertEquals(len, t.len(h), f + ": packet " + i);
                            assertEquals(-1, MemorySegment.ofArray(want).asSlice(0, len).mismatch(t.memory().asSlice(t.bufOffset(h), len)),
                                    f + ": packet " + i);
                            bytes += len;
                        }
                        assertEquals(b.caplen(), a.caplen(), f + ": packet " + (i - 1));
                        assertEquals(b.wirelen(), a.wirelen(), f + ": packet " + (i - 1));
                        assertEquals(b.timestampNanos(), a.timestampNanos(), f + ": packet " + (i - 1));
                        assertEquals(b.fileOffset(), a.fileOffset(), f + ": packet " + (i - 1));
                        assertEquals(bytes, a.copiedBytes(), f + ": packet " + (i - 1));
                        batch = batch * 3 % (t.numSlots() - 2) + 1; // 1, 4, 13, 40, ...: batches end anywhere in a refill
                    }
                    assertEquals(n, i, f.toString());
                    assertTrue(!b.next(), f.toString());
                }
            }
        }
    }
}
