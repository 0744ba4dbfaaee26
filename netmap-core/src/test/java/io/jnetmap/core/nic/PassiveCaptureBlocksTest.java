package io.jnetmap.core.nic;

import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.sys.Linux;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A passive AF_PACKET capture read block by block ({@link NicPort#capture}), as libpcap reads TPACKET_V3: every frame
 * once, in order, with its wire length and kernel time; a handler that stops resumes at the next frame; frames the
 * host sends are flagged outgoing; the ring is rebuilt with the capture's block timeout.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PassiveCaptureBlocksTest {
    private static final int FRAMES = 300;

    /** What the handler saw: sequence numbers of test frames, their lengths, directions and times. */
    private static final class Seen implements NicPort.CaptureHandler {
        final List<Long> seqs = new ArrayList<>();
        final List<Integer> caplens = new ArrayList<>();
        final List<Integer> wirelens = new ArrayList<>();
        final List<Boolean> outgoing = new ArrayList<>();
        long minTs = Long.MAX_VALUE;
        int calls;
        int stopEvery;

        @Override
        public boolean frame(MemorySegment seg, long off, int caplen, int wirelen, long ts, boolean out) {
            if (caplen < Frames.SEQ_OFFSET + 16 || Short.reverseBytes(seg.get(JAVA_SHORT_UNALIGNED, off + 12)) != (short) Frames.ETHERTYPE) {
                return true; // not a test frame (IPv6 router solicitations and the like)
            }
            long seq = seg.get(JAVA_LONG_UNALIGNED, off + Frames.SEQ_OFFSET);
            if (seg.get(JAVA_LONG_UNALIGNED, off + Frames.SEQ_OFFSET + 8) != ~seq) {
                return true;
            }
            seqs.add(seq);
            caplens.add(caplen);
            wirelens.add(wirelen);
            outgoing.add(out);
            minTs = Math.min(minTs, ts);
            calls++;
            return stopEvery == 0 || calls % stopEvery != 0;
        }
    }

    private static void send(Port tx, byte[] dst, byte[] src, long from, int n) {
        Ring t = tx.txRing(0);
        for (long seq = from; seq < from + n; ) {
            t.sync();
            int room = t.space();
            int h = t.head();
            for (int k = 0; k < room && seq < from + n; k++, seq++) {
                Frames.write(t, h, dst, src, seq, 60 + (int) (seq % 7) * 100);
                h = t.nextSlot(h);
            }
            t.advanceTo(h);
            t.sync();
        }
    }

    /** Reads until {@code want} test frames were seen or 10 s passed, sleeping in poll(2) on the socket in between. */
    private static void read(NicPort nic, Seen seen, int want) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(8, 4);
            pfd.set(JAVA_INT, 0, nic.captureFd());
            pfd.set(JAVA_SHORT, 4, Linux.POLLIN);
            while (seen.seqs.size() < want && System.nanoTime() < deadline) {
                if (nic.capture(seen, 64) == 0) {
                    Linux.poll(pfd, 1, 100);
                }
            }
        }
    }

    @Test
    void everyFrameOnceInOrderFromTheBlocksAndAStoppedHandlerGoesOnWithTheNext() throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            byte[] macA = Frames.mac(v.macA()), macB = Frames.mac(v.macB());
            long before = System.currentTimeMillis() * 1_000_000L;
            try (Port rx = NetLab.open(v.nsB(), "netmap:" + v.b() + "@backend=packet");
                 Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet");
                 Port bSends = NetLab.open(v.nsB(), "netmap:" + v.b() + "@backend=packet")) {
                NicPort nic = (NicPort) rx;
                assertFalse(nic.capturesBlocks(), "not a passive capture yet");
                assertThrows(IllegalStateException.class, () -> nic.capture(new Seen(), 1));
                nic.setPassiveCapture(20); // blocks handed over 20 ms after their first frame at the latest
                assertTrue(nic.capturesBlocks());
                Seen seen = new Seen();
                seen.stopEvery = 7; // as -c N: the handler stops, the next call starts with the frame after
                send(tx, macB, macA, 0, FRAMES);
                read(nic, seen, FRAMES);
                List<Long> expected = new ArrayList<>();
                for (long i = 0; i < FRAMES; i++) expected.add(i);
                assertEquals(expected, seen.seqs, "each frame once, in order");
                for (int i = 0; i < FRAMES; i++) {
                    int len = 60 + (i % 7) * 100;
                    assertEquals(len, seen.caplens.get(i), "caplen of frame " + i);
                    assertEquals(len, seen.wirelens.get(i), "wire length of frame " + i);
                    assertFalse(seen.outgoing.get(i), "frame " + i + " was received");
                }
                assertTrue(seen.minTs >= before - TimeUnit.MILLISECONDS.toNanos(20), "kernel receive times: " + seen.minTs + " < " + before);

                // what the host itself sends on b (another socket of it) is seen too, flagged outgoing
                Seen out = new Seen();
                send(bSends, macA, macB, 1000, 20);
                read(nic, out, 20);
                assertEquals(20, out.seqs.size(), "outgoing frames: " + out.seqs);
                assertTrue(out.outgoing.stream().allMatch(o -> o), "flagged outgoing: " + out.outgoing);
                assertEquals(1000L, out.seqs.get(0));
                assertEquals(0, nic.stats().rxDrops(), "nothing dropped: " + nic.stats());
            }
        }
    }

    @Test
    void aPassiveCaptureRebuildsItsRingWithTheCaptureBlockTimeout() throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            try (Port rx = NetLab.open(v.nsB(), "netmap:" + v.b() + "@backend=packet")) {
                NicPort nic = (NicPort) rx;
                PacketQueue q = nic.packetQueue();
                assertEquals(NicConfig.current().packetRetireMs(), q.retireMs(), "a forwarding port keeps the short timeout");
                nic.setPassiveCapture();
                assertEquals(NicConfig.current().captureRetireMs(), q.retireMs(), "libpcap's timeout (tcpdump's 1000 ms) by default");
                assertEquals(1000, NicConfig.current().captureRetireMs());
                assertTrue(q.toString().contains("block timeout 1000 ms, passive capture"), q.toString());
                assertTrue(q.toString().contains("32 x 1024 KiB"), "1 MiB blocks, the same 32 MiB: " + q);
                assertThrows(IllegalArgumentException.class, () -> nic.setPassiveCapture(0));
            }
        }
    }
}
