package io.jnetmap.capture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The libpcap-like API on a file: filter, loop, dispatch, next, breakLoop, dumper. */
class PcapTest {
    @Test
    void offlineLoopNextBreakAndDump(@TempDir Path dir) throws Exception {
        List<byte[]> packets = Packets.corpus();
        Path trace = dir.resolve("t.pcap");
        Tcpdump.writeTrace(trace, packets);
        PacketFilter tcp = PacketFilter.interpreter(FilterCompiler.compile("tcp"));
        long want = packets.stream().filter(p -> tcp.matches(MemorySegment.ofArray(p), 0, p.length, p.length)).count();
        Path dump = dir.resolve("tcp.pcapng");
        try (Pcap pcap = Pcap.openOffline(trace); PacketWriter w = pcap.dumpOpen(dump, PacketWriter.Format.PCAPNG)) {
            assertEquals("jvm", pcap.setFilter("tcp"));
            long n = pcap.loop(0, v -> {
                try {
                    w.write(0, v.segment(), v.offset(), v.caplen(), v.wirelen(), v.timestampNanos());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertEquals(want, n);
            assertEquals(packets.size(), pcap.stats().received());
        }
        assertEquals(want, Tcpdump.readTrace(dump).size());
        try (Pcap pcap = Pcap.openOffline(trace)) {
            Pcap.PacketView v = pcap.next(Duration.ZERO);
            assertArrayEquals(packets.get(0), v.toArray());
            int[] seen = new int[1];
            long n = pcap.loop(0, p -> {
                if (++seen[0] == 10) pcap.breakLoop();
            });
            assertEquals(10, n);
            assertEquals(5, pcap.dispatch(5, p -> { }));
            long rest = pcap.loop(0, p -> { });
            assertEquals(packets.size() - 16, rest);
            assertNull(pcap.next(Duration.ZERO));
        }
    }
}
