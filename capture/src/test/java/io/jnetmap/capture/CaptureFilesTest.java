package io.jnetmap.capture;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * pcap and pcapng: tcpdump and tshark read what we write; we read what tcpdump and editcap write (both byte
 * orders, both resolutions, pcapng with several interfaces and blocks we skip); truncated and corrupt files
 * end with an error naming the byte offset, after every good packet, and fuzzed files never crash or hang.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class CaptureFilesTest {
    static List<byte[]> packets;

    @BeforeAll
    static void setUp() throws Exception {
        Tcpdump.ensureInstalled("tcpdump", "tcpdump");
        Tcpdump.ensureInstalled("tshark", "tshark");
        packets = Packets.corpus().subList(0, 120);
    }

    private static void write(Path f, PacketWriter.Format fmt, int interfaces) throws Exception {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < interfaces; i++) names.add("jn" + i);
        try (PacketWriter w = PacketWriter.create(f, fmt, 262144, names)) {
            for (int i = 0; i < packets.size(); i++) {
                byte[] p = packets.get(i);
                w.write(i % interfaces, MemorySegment.ofArray(p), 0, p.length, p.length + (i % 3), 1_700_000_000_000_000_000L + i * 1_234_567L);
            }
            for (int i = 0; i < interfaces; i++) w.setStatistics(i, 1000 + i, 7, packets.size(), 3);
        }
    }

    private static List<byte[]> read(Path f) throws Exception {
        List<byte[]> out = new ArrayList<>();
        try (PacketReader r = PacketReader.open(f)) {
            while (r.next()) {
                out.add(r.segment().asSlice(r.offset(), r.caplen()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            }
        }
        return out;
    }

    private static void assertSamePackets(List<byte[]> want, List<byte[]> got) {
        assertEquals(want.size(), got.size(), "packets");
        for (int i = 0; i < want.size(); i++) assertArrayEquals(want.get(i), got.get(i), "packet " + i);
    }

    @Test
    void tcpdumpAndTsharkReadWhatWeWrite(@TempDir Path dir) throws Exception {
        for (PacketWriter.Format fmt : PacketWriter.Format.values()) {
            Path f = dir.resolve("out-" + fmt);
            write(f, fmt, fmt == PacketWriter.Format.PCAPNG ? 3 : 1);
            Tcpdump.Result t = Tcpdump.run(List.of("tcpdump", "-r", f.toString(), "--count"));
            assertEquals(0, t.exit(), t.err());
            assertTrue(t.out().contains(packets.size() + " packets"), t.out());
            Tcpdump.Result s = Tcpdump.run(List.of("tshark", "-r", f.toString(), "-T", "fields", "-e", "frame.len", "-e", "frame.cap_len",
                    "-e", "frame.time_epoch", "-e", "frame.interface_name"));
            assertEquals(0, s.exit(), s.err());
            List<String> lines = s.out().lines().toList();
            assertEquals(packets.size(), lines.size(), s.out());
            for (int i = 0; i < packets.size(); i++) {
                String[] f4 = lines.get(i).split("\t", -1);
                assertEquals(packets.get(i).length + (i % 3), Integer.parseInt(f4[0]), "frame.len " + i);
                assertEquals(packets.get(i).length, Integer.parseInt(f4[1]), "frame.cap_len " + i);
                long ns = 1_700_000_000_000_000_000L + i * 1_234_567L;
                String want = fmt == PacketWriter.Format.PCAP_MICRO ? String.format("%d.%06d", ns / 1_000_000_000L, ns % 1_000_000_000L / 1000)
                        : String.format("%d.%09d", ns / 1_000_000_000L, ns % 1_000_000_000L);
                assertEquals(0, new java.math.BigDecimal(want).compareTo(new java.math.BigDecimal(f4[2])), "frame.time_epoch " + i + ": " + f4[2]);
                if (fmt == PacketWriter.Format.PCAPNG) assertEquals("jn" + (i % 3), f4[3], "if_name " + i);
            }
            if (fmt == PacketWriter.Format.PCAPNG) {
                Tcpdump.Result cap = Tcpdump.run(List.of("capinfos", "-M", f.toString()));
                Tcpdump.Result isb = Tcpdump.run(List.of("tshark", "-r", f.toString(), "-V", "-c", "1", "-Y", "frame.number == 1"));
                assertEquals(0, isb.exit(), isb.err());
                assertTrue(cap.exit() != 0 || cap.out().contains("Number of interfaces in file: 3"), cap.out());
            }
            assertSamePackets(packets, read(f));
        }
    }

    @Test
    void weReadWhatTcpdumpAndEditcapWrite(@TempDir Path dir) throws Exception {
        Path ours = dir.resolve("ours.pcap");
        write(ours, PacketWriter.Format.PCAP_MICRO, 1);
        // tcpdump's own pcap (through its filter-less reader and writer)
        Path td = dir.resolve("td.pcap");
        assertEquals(0, Tcpdump.run(List.of("tcpdump", "-r", ours.toString(), "-w", td.toString())).exit());
        assertSamePackets(packets, read(td));
        for (String[] conv : new String[][] {{"-F", "pcapng"}, {"-F", "nsecpcap"}, {"-F", "pcap"}, {"-F", "modpcap"}}) {
            Path out = dir.resolve("e" + conv[1]);
            Tcpdump.Result r = Tcpdump.run(List.of("editcap", conv[0], conv[1], ours.toString(), out.toString()));
            assertEquals(0, r.exit(), r.err());
            if (conv[1].equals("modpcap")) continue; // another magic: refused with a message below
            assertSamePackets(packets, read(out));
        }
        // several interfaces in one pcapng (mergecap keeps an IDB per input)
        Path two = dir.resolve("two.pcapng");
        Path ng = dir.resolve("epcapng");
        Tcpdump.Result m = Tcpdump.run(List.of("mergecap", "-F", "pcapng", "-w", two.toString(), ng.toString(), dir.resolve("ensecpcap").toString()));
        assertEquals(0, m.exit(), m.err());
        try (PacketReader r = PacketReader.open(two)) {
            int n = 0;
            boolean[] seen = new boolean[4];
            while (r.next()) {
                n++;
                seen[r.interfaceIndex()] = true;
            }
            assertEquals(2 * packets.size(), n);
            assertTrue(r.interfaces() >= 1);
        }
        // big-endian pcap, written by hand: our reader takes both byte orders
        Path be = dir.resolve("be.pcap");
        ByteBuffer b = ByteBuffer.allocate(1 << 20).order(ByteOrder.BIG_ENDIAN);
        b.putInt(0xa1b23c4d).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(1);
        for (int i = 0; i < 10; i++) {
            byte[] p = packets.get(i);
            b.putInt(i).putInt(999_999_999).putInt(p.length).putInt(p.length).put(p);
        }
        Files.write(be, Arrays.copyOf(b.array(), b.position()));
        assertSamePackets(packets.subList(0, 10), read(be));
        try (PacketReader r = PacketReader.open(be)) {
            r.next();
            r.next();
            assertEquals(1_999_999_999L, r.timestampNanos());
        }
    }

    @Test
    void aTruncatedFileGivesEveryGoodPacketThenAnErrorWithTheOffset(@TempDir Path dir) throws Exception {
        for (PacketWriter.Format fmt : PacketWriter.Format.values()) {
            Path f = dir.resolve("t-" + fmt);
            write(f, fmt, 1);
            byte[] all = Files.readAllBytes(f);
            // record boundaries: where each packet ends
            List<Long> ends = new ArrayList<>();
            try (PacketReader r = PacketReader.open(f)) {
                while (r.next()) ends.add(r.offset() + r.caplen());
            }
            int cut = all.length - 37;
            Files.write(f, Arrays.copyOf(all, cut));
            int good = 0;
            try (PacketReader r = PacketReader.open(f)) {
                while (r.next()) good++;
                fail(fmt + ": no error on a truncated file");
            } catch (CaptureFileException e) {
                assertTrue(e.getMessage().contains("byte offset " + e.offset()), e.getMessage());
                assertTrue(e.offset() < cut && e.offset() > 0, e.getMessage());
            }
            // pcapng ends with the statistics blocks: the cut may fall there, after the last packet
            assertTrue(good >= packets.size() - 2 && good <= packets.size(), fmt + ": good packets " + good);
        }
    }

    @Test
    void fuzzedFilesNeverCrashOrHang(@TempDir Path dir) throws Exception {
        Random rnd = new Random(42);
        for (PacketWriter.Format fmt : PacketWriter.Format.values()) {
            Path f = dir.resolve("f-" + fmt);
            write(f, fmt, 2 - (fmt == PacketWriter.Format.PCAPNG ? 0 : 1));
            byte[] all = Files.readAllBytes(f);
            for (int round = 0; round < 300; round++) {
                byte[] m = all.clone();
                int edits = 1 + rnd.nextInt(6);
                for (int e = 0; e < edits; e++) {
                    int at = rnd.nextInt(m.length);
                    switch (rnd.nextInt(3)) {
                        case 0 -> m[at] = (byte) rnd.nextInt();
                        case 1 -> { // a length field gone wild
                            int a4 = at & ~3;
                            if (a4 + 4 <= m.length) ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putInt(a4, rnd.nextInt());
                        }
                        default -> m = Arrays.copyOf(m, at);
                    }
                    if (m.length == 0) break;
                }
                long t0 = System.nanoTime();
                try (PacketReader r = new PacketReader(Channels.newChannel(new java.io.ByteArrayInputStream(m)))) {
                    int n = 0;
                    while (r.next()) {
                        assertTrue(r.caplen() >= 0 && r.offset() + r.caplen() <= r.segment().byteSize());
                        if (++n > 100_000) fail("endless");
                    }
                } catch (CaptureFileException expected) {
                    assertTrue(expected.getMessage().contains("byte offset"), expected.getMessage());
                }
                assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "slow on round " + round);
            }
        }
    }

    @Test
    void readingAllocatesNothingPerPacket(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("alloc.pcapng");
        write(f, PacketWriter.Format.PCAPNG, 2);
        var bean = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        for (int warm = 0; warm < 3; warm++) {
            try (PacketReader r = PacketReader.open(f)) {
                long sum = 0;
                while (r.next()) sum += r.caplen();
                assertTrue(sum > 0);
            }
        }
        try (PacketReader r = PacketReader.open(f)) {
            long before = bean.getThreadAllocatedBytes(tid);
            int n = 0;
            while (r.next()) n++;
            long per = (bean.getThreadAllocatedBytes(tid) - before) / n;
            assertTrue(per < 8, "bytes allocated per packet read: " + per);
        }
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (PacketWriter w = new PacketWriter(Channels.newChannel(sink), PacketWriter.Format.PCAPNG, 262144, List.of("a"))) {
            MemorySegment p = MemorySegment.ofArray(packets.get(0));
            for (int i = 0; i < 20_000; i++) w.write(0, p, 0, (int) p.byteSize(), (int) p.byteSize(), i);
            long before = bean.getThreadAllocatedBytes(tid);
            for (int i = 0; i < 1000; i++) w.write(0, p, 0, (int) p.byteSize(), (int) p.byteSize(), i);
            long per = (bean.getThreadAllocatedBytes(tid) - before) / 1000;
            assertTrue(per < 8, "bytes allocated per packet written: " + per);
        }
    }
}
