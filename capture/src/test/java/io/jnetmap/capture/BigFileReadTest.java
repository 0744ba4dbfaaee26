package io.jnetmap.capture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A file many times the reader's 256 KiB buffer, records across every refill and packets larger than the buffer
 * (it grows), in both byte orders: read, filtered and written as {@code capture -r IN -w OUT -F pcap-us 'udp port 9'}
 * does, the output is byte for byte what {@code tcpdump -r IN -w OUT 'udp port 9'} writes.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BigFileReadTest {
    private static final String EXPR = "udp port 9";

    /** Packet i: UDP to port 9 when i % 7 == 0, else UDP to 53 or TCP to 80; sizes 42..1514, and a few of 100k-262144 bytes. */
    private static byte[] packet(int i, Random rnd) {
        int size = i % 4999 == 17 ? 100_000 + rnd.nextInt(262144 - 100_000 + 1) : 42 + rnd.nextInt(1514 - 42 + 1);
        if (i == 20_001) size = 262144; // the largest record the file allows: more than the buffer
        byte[] f = new byte[size];
        System.arraycopy(Packets.MAC_B, 0, f, 0, 6);
        System.arraycopy(Packets.MAC_A, 0, f, 6, 6);
        f[12] = 0x08;
        f[14] = 0x45;
        int ipLen = Math.min(size - 14, 0xffff);
        f[16] = (byte) (ipLen >> 8);
        f[17] = (byte) ipLen;
        f[22] = 64;
        boolean tcp = i % 3 == 1 && i % 7 != 0;
        f[23] = (byte) (tcp ? 6 : 17);
        f[26] = 10;
        f[29] = (byte) (1 + (i & 0x7f));
        f[30] = 10;
        f[33] = 2;
        int dport = i % 7 == 0 ? 9 : tcp ? 80 : 53;
        f[34] = (byte) (40000 >> 8);
        f[35] = (byte) 40000;
        f[36] = (byte) (dport >> 8);
        f[37] = (byte) dport;
        for (int k = 42; k < size; k += 97) f[k] = (byte) (i + k); // payload that differs per packet
        return f;
    }

    private static int write(Path file, int n) throws Exception {
        Random rnd = new Random(7);
        int udp9 = 0;
        try (PacketWriter w = PacketWriter.create(file, PacketWriter.Format.PCAP_MICRO, 262144, List.of("big"))) {
            for (int i = 0; i < n; i++) {
                byte[] p = packet(i, rnd);
                if (i % 7 == 0) udp9++;
                w.write(0, MemorySegment.ofArray(p), 0, p.length, p.length, 1_700_000_000_000_000_000L + i * 1_000L);
            }
        }
        return udp9;
    }

    /** The same file with every header field big-endian, as a SPARC or PowerPC libpcap writes it. */
    private static void toBigEndian(Path in, Path out) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(in)).order(ByteOrder.LITTLE_ENDIAN);
        for (int o : new int[] {0, 8, 12, 16, 20}) b.putInt(o, Integer.reverseBytes(b.getInt(o)));
        b.putShort(4, Short.reverseBytes(b.getShort(4)));
        b.putShort(6, Short.reverseBytes(b.getShort(6)));
        int p = 24;
        while (p < b.limit()) {
            int cap = b.getInt(p + 8);
            for (int k = 0; k < 16; k += 4) b.putInt(p + k, Integer.reverseBytes(b.getInt(p + k)));
            p += 16 + cap;
        }
        Files.write(out, b.array());
    }

    /** What capture -r does: reader, bytecode filter, writer. */
    private static long ours(Path in, Path out) throws Exception {
        PacketFilter f = PacketFilter.bytecode(FilterCompiler.compile(EXPR, 262144, true));
        long matched = 0;
        try (PacketReader r = PacketReader.open(in);
             PacketWriter w = new PacketWriter(FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.TRUNCATE_EXISTING), PacketWriter.Format.PCAP_MICRO, 262144, List.of("big"))) {
            while (r.next()) {
                if (!f.matches(r.segment(), r.offset(), r.caplen(), r.wirelen())) continue;
                w.write(0, r.segment(), r.offset(), r.caplen(), r.wirelen(), r.timestampNanos());
                matched++;
            }
        }
        return matched;
    }

    @Test
    void aBigFileFilteredIsWhatTcpdumpWrites(@TempDir Path dir) throws Exception {
        Tcpdump.ensureInstalled("tcpdump", "tcpdump");
        Path in = dir.resolve("big.pcap"), be = dir.resolve("big-be.pcap");
        int n = 40_000;
        int udp9 = write(in, n);
        assertTrue(Files.size(in) > 60L * (256 << 10), "a file of " + Files.size(in) + " bytes (expected: many buffers)");
        toBigEndian(in, be);
        Path theirs = dir.resolve("theirs.pcap");
        Tcpdump.Result t = Tcpdump.run(List.of("tcpdump", "-r", in.toString(), "-w", theirs.toString(), EXPR));
        assertEquals(0, t.exit(), t.err());
        for (Path source : List.of(in, be)) {
            Path mine = dir.resolve("mine.pcap");
            assertEquals(udp9, ours(source, mine), source.toString());
            assertEquals(-1, Files.mismatch(mine, theirs), source + ": ours differs from tcpdump's at byte " + Files.mismatch(mine, theirs));
        }
        // and every packet, unfiltered, as written
        long count = 0;
        Random rnd = new Random(7);
        try (PacketReader r = PacketReader.open(be)) {
            while (r.next()) {
                byte[] want = packet((int) count, rnd);
                assertEquals(want.length, r.caplen(), "packet " + count);
                assertEquals(-1, MemorySegment.ofArray(want).mismatch(r.segment().asSlice(r.offset(), r.caplen())), "packet " + count);
                assertEquals(1_700_000_000_000_000_000L + count * 1_000L, r.timestampNanos(), "packet " + count);
                count++;
            }
        }
        assertEquals(n, count);
    }
}
