package io.jnetmap.test;

import io.jnetmap.capture.Pcap;
import io.jnetmap.capture.PacketWriter;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-packet timestamps: on an AF_PACKET NIC port each frame carries the kernel's receive time (TPACKET
 * tp_sec/tp_nsec through the slot's ptr), not the time of the sync that brought it; frames sent 100 ms
 * apart and collected in one batch keep their spacing, and the pcapng file says where its timestamps come
 * from (if_description, as capinfos and Wireshark show it).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CaptureTimestampsTest {
    private static final int FRAMES = 5;

    @Test
    @SuppressWarnings("try")
    void framesCollectedInOneBatchKeepTheirKernelReceiveTimes(@TempDir Path dir) throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            Pcap pcap;
            try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
                pcap = Pcap.openLive("netmap:" + v.b(), 2048);
            }
            Path file = dir.resolve("ts.pcapng");
            try (pcap; Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet")) {
                assertEquals("kernel", pcap.timestampSource());
                long[] before = new long[FRAMES], after = new long[FRAMES];
                for (int i = 0; i < FRAMES; i++) {
                    before[i] = System.currentTimeMillis() * 1_000_000L;
                    send(tx, i);
                    after[i] = System.currentTimeMillis() * 1_000_000L;
                    Thread.sleep(100);
                }
                Thread.sleep(200); // the V3 block retires: everything waits in the ring for one batch
                List<Long> ts = new ArrayList<>();
                try (PacketWriter w = pcap.dumpOpen(file, PacketWriter.Format.PCAPNG)) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (ts.size() < FRAMES && System.nanoTime() < deadline) {
                        Pcap.PacketView p = pcap.next(Duration.ofMillis(200));
                        if (p == null || p.caplen() < 60 || p.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, p.offset() + 12) != (byte) 0x88
                                || p.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, p.offset() + 13) != (byte) 0xb5) {
                            continue; // only our frames (local experimental ethertype 0x88b5)
                        }
                        ts.add(p.timestampNanos());
                        w.write(0, p.segment(), p.offset(), p.caplen(), p.wirelen(), p.timestampNanos());
                    }
                }
                assertEquals(FRAMES, ts.size(), "frames received: " + ts);
                long slack = TimeUnit.MILLISECONDS.toNanos(20); // the wall clock in ms, the kernel's in ns
                for (int i = 0; i < FRAMES; i++) {
                    assertTrue(ts.get(i) >= before[i] - slack && ts.get(i) <= after[i] + slack,
                            "frame " + i + " stamped " + ts.get(i) + ", sent between " + before[i] + " and " + after[i]);
                    if (i > 0) {
                        long gap = ts.get(i) - ts.get(i - 1);
                        assertTrue(gap >= TimeUnit.MILLISECONDS.toNanos(90), "frames 100 ms apart stamped " + gap + " ns apart");
                    }
                }
            }
            String capinfos = NetLab.run(List.of("capinfos", file.toString()));
            assertTrue(capinfos.matches("(?s).*Number of packets:\\s+" + FRAMES + "\\s.*"), "capinfos reads the file: " + capinfos);
            assertTrue(capinfos.contains("timestamps: kernel receive time per packet"), "capinfos shows the interface description: " + capinfos);
            String ifs = NetLab.run(List.of("tshark", "-r", file.toString(), "-V", "-c", "1"));
            assertTrue(ifs.contains("Interface id: 0"), ifs);
        }
    }

    private static void send(Port tx, int i) {
        Ring t = tx.txRing(0);
        t.sync();
        int h = t.head();
        byte[] f = new byte[64];
        for (int k = 0; k < 6; k++) f[k] = (byte) 0xff;
        f[6] = 2;
        f[11] = 1;
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5;
        f[14] = (byte) i;
        MemorySegment.copy(MemorySegment.ofArray(f), 0, t.memory(), t.bufOffset(h), f.length);
        t.setSlot(h, f.length, 0);
        t.advanceTo(t.nextSlot(h));
        t.sync();
    }
}
