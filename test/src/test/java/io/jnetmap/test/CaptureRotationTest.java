package io.jnetmap.test;

import io.jnetmap.capture.PacketReader;
import io.jnetmap.capture.PacketWriter;
import io.jnetmap.capture.RotatingWriter;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.examples.Capture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rotation as tcpdump's {@code -C}, {@code -G}, {@code -W}: on the same input, capture makes the files tcpdump
 * makes (names, packets in each); tcpdump reads every rotated file; and across the files every packet is
 * there exactly once, in order.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CaptureRotationTest {
    private static final int N = 3000;

    private record Run(int code, String out) {
    }

    private static Run capture(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int code = Capture.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return new Run(code, bytes.toString(StandardCharsets.UTF_8));
    }

    private static int lengthOf(int k) {
        return 60 + (k * 37) % 1455;
    }

    /** N frames of varied lengths, each with its number at byte 14, a millisecond apart: about 2.4 MB. */
    private static Path input(Path dir) throws IOException {
        Path in = dir.resolve("in.pcap");
        byte[] f = new byte[1600];
        MemorySegment seg = MemorySegment.ofArray(f);
        try (PacketWriter w = PacketWriter.create(in, PacketWriter.Format.PCAP_MICRO, 262144, List.of("in"))) {
            for (int k = 0; k < N; k++) {
                f[12] = (byte) 0x88;
                f[13] = (byte) 0xb5;
                seg.set(JAVA_INT_UNALIGNED, 14, k);
                w.write(0, seg, 0, lengthOf(k), lengthOf(k), 1_700_000_000_000_000_000L + k * 1_000_000L);
            }
        }
        return in;
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), cmd + ": " + out);
        return out;
    }

    /** The packet numbers in a file, read by PacketReader, after checking that tcpdump reads as many. */
    private static List<Integer> numbers(Path file) throws Exception {
        List<Integer> out = new ArrayList<>();
        try (PacketReader r = PacketReader.open(file)) {
            while (r.next()) {
                out.add(r.segment().get(JAVA_INT_UNALIGNED, r.offset() + 14));
            }
        }
        String t = run(List.of("tcpdump", "-r", file.toString(), "--count"));
        assertTrue(t.contains("\n" + out.size() + " packet"), "tcpdump reads " + out.size() + " packets in " + file + ": " + t);
        return out;
    }

    /** File name → packet numbers in it, for every file in {@code dir} whose name starts with {@code prefix}. */
    private static TreeMap<String, List<Integer>> files(Path dir, String prefix) throws Exception {
        TreeMap<String, List<Integer>> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(prefix)).toList()) {
                m.put(p.getFileName().toString(), numbers(p));
            }
        }
        return m;
    }

    private static TreeMap<String, Integer> counts(TreeMap<String, List<Integer>> m) {
        TreeMap<String, Integer> c = new TreeMap<>();
        m.forEach((k, v) -> c.put(k, v.size()));
        return c;
    }

    @Test
    void sizeRotationMakesTcpdumpsFilesAndLosesNothing(@TempDir Path dir) throws Exception {
        Path in = input(dir);
        Files.createDirectories(dir.resolve("t"));
        Files.createDirectories(dir.resolve("j"));
        run(List.of("tcpdump", "-r", in.toString(), "-w", dir.resolve("t/out").toString(), "-C", "1", "-Z", "root"));
        Run r = capture("-r", in.toString(), "-w", dir.resolve("j/out").toString(), "-C", "1");
        assertEquals(0, r.code(), r.out());
        TreeMap<String, List<Integer>> t = files(dir.resolve("t"), "out"), j = files(dir.resolve("j"), "out");
        assertEquals(List.of("out", "out1", "out2"), List.copyOf(j.keySet()), "tcpdump's names: out, out1, out2");
        assertEquals(counts(t), counts(j), "the packets in each file, as tcpdump splits them");
        List<Integer> all = new ArrayList<>();
        for (String name : List.of("out", "out1", "out2")) all.addAll(j.get(name));
        List<Integer> want = new ArrayList<>();
        for (int k = 0; k < N; k++) want.add(k);
        assertEquals(want, all, "every packet once, in order, across the files");
    }

    @Test
    void aRingOfFilesWithW(@TempDir Path dir) throws Exception {
        Path in = input(dir);
        Files.createDirectories(dir.resolve("t"));
        Files.createDirectories(dir.resolve("j"));
        // 1 MB files, a ring of 2: the third MB overwrites out0; names out0, out1 as tcpdump's
        run(List.of("tcpdump", "-r", in.toString(), "-w", dir.resolve("t/out").toString(), "-C", "1", "-W", "2", "-Z", "root"));
        Run r = capture("-r", in.toString(), "-w", dir.resolve("j/out").toString(), "-C", "1", "-W", "2");
        assertEquals(0, r.code(), r.out());
        TreeMap<String, List<Integer>> t = files(dir.resolve("t"), "out"), j = files(dir.resolve("j"), "out");
        assertEquals(List.of("out0", "out1"), List.copyOf(j.keySet()));
        assertEquals(t.keySet(), j.keySet());
        assertEquals(t, j, "the same packets in each file of the ring as tcpdump's");
        // the ring holds the last packets, each once, contiguous up to the last one
        List<Integer> all = new ArrayList<>();
        j.values().forEach(all::addAll);
        all.sort(null);
        assertEquals(N - 1, all.getLast());
        for (int i = 1; i < all.size(); i++) assertEquals(all.get(i - 1) + 1, all.get(i), "no gap or duplicate in the ring");
    }

    @Test
    void timeRotationAcrossALiveCapture(@TempDir Path dir) throws Exception {
        String parent = "rot" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffff);
        String pattern = dir.resolve("g-%s.pcap").toString();
        int n = 26;
        try (Port tx = Netmap.open(parent + "{1")) {
            CompletableFuture<Run> cap = CompletableFuture.supplyAsync(() -> capture("-i", parent + "}1", "-w", pattern, "-G", "1", "-c", "" + n),
                    r -> new Thread(r, "capture").start());
            Thread.sleep(300);
            for (int k = 0; k < n; k++) {
                send(tx, k);
                Thread.sleep(100);
            }
            Run r = cap.get(30, TimeUnit.SECONDS);
            assertEquals(0, r.code(), r.out());
        }
        TreeMap<String, List<Integer>> files = files(dir, "g-");
        assertTrue(files.size() >= 2, "2.6 s with -G 1 make several files: " + files.keySet());
        List<Integer> all = new ArrayList<>();
        files.values().forEach(all::addAll); // names by epoch second: in time order
        List<Integer> want = new ArrayList<>();
        for (int k = 0; k < n; k++) want.add(k);
        assertEquals(want, all, "every packet once, in order, across " + files.keySet());
    }

    @Test
    void timeRotationWithWStopsAfterTheLastFile(@TempDir Path dir) throws Exception {
        String parent = "rot" + ProcessHandle.current().pid() + "y" + (System.nanoTime() & 0xffff);
        String pattern = dir.resolve("w-%s.pcap").toString();
        try (Port tx = Netmap.open(parent + "{1")) {
            CompletableFuture<Run> cap = CompletableFuture.supplyAsync(() -> capture("-i", parent + "}1", "-w", pattern, "-G", "1", "-W", "2"),
                    r -> new Thread(r, "capture").start());
            Thread.sleep(300);
            int k = 0;
            while (!cap.isDone() && k < 100) {
                send(tx, k++);
                Thread.sleep(100);
            }
            Run r = cap.get(30, TimeUnit.SECONDS);
            assertEquals(0, r.code(), r.out());
            assertTrue(r.out().contains("Maximum file limit reached: 2"), r.out());
            assertTrue(k < 60, "capture ended by itself after two files, " + k + " packets sent");
        }
        TreeMap<String, List<Integer>> files = files(dir, "w-");
        assertEquals(2, files.size(), files.keySet().toString());
        List<Integer> all = new ArrayList<>();
        files.values().forEach(all::addAll);
        for (int i = 0; i < all.size(); i++) assertEquals(i, all.get(i), "packets in order from the first: " + all);
    }

    @Test
    void namesAndSizesAsTcpdumps() {
        assertEquals(0, RotatingWriter.digits(1));
        assertEquals(1, RotatingWriter.digits(10));
        assertEquals(2, RotatingWriter.digits(11));
        assertEquals(2, RotatingWriter.digits(100));
        assertEquals("out", RotatingWriter.fileName("out", 0, 0, null));
        assertEquals("out7", RotatingWriter.fileName("out", 7, 0, null));
        assertEquals("out07", RotatingWriter.fileName("out", 7, 2, null));
        ZonedDateTime t = ZonedDateTime.of(2026, 3, 4, 5, 6, 7, 0, ZoneOffset.UTC);
        assertEquals("cap-2026-03-04_05:06:07-1772600767.pcap", RotatingWriter.strftime("cap-%F_%T-%s.pcap", t));
        assertEquals("d20260304%3", RotatingWriter.fileName("d%Y%m%d%%", 3, 0, t));
        assertEquals(2_000_000L, RotatingWriter.parseFileSize("2"));
        assertEquals(300L << 10, RotatingWriter.parseFileSize("300k"));
        assertEquals(5L << 20, RotatingWriter.parseFileSize("5M"));
        assertThrows(IllegalArgumentException.class, () -> RotatingWriter.parseFileSize("0"));
        assertThrows(IllegalArgumentException.class, () -> RotatingWriter.parseFileSize("x"));
        assertThrows(IllegalArgumentException.class, () -> RotatingWriter.strftime("%Q", t));
        Run r = capture("-r", "/nonexistent", "-C", "1");
        assertTrue(r.code() != 0 && r.out().contains("-C without -w FILE"), r.out());
    }

    private static void send(Port p, int k) {
        Ring t = p.txRing(0);
        t.sync();
        int h = t.head();
        long off = t.bufOffset(h);
        MemorySegment m = t.memory();
        for (int j = 0; j < 60; j++) m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off + j, (byte) 0);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 12, (byte) 0x88);
        m.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off + 13, (byte) 0xb5);
        m.set(JAVA_INT_UNALIGNED, off + 14, k);
        t.setSlot(h, 60, 0);
        t.advanceTo(t.nextSlot(h));
        t.sync();
    }
}
