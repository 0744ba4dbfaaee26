package io.jnetmap.test;

import io.jnetmap.capture.Pcap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.core.nic.Frames;
import io.jnetmap.core.nic.NetLab;
import io.jnetmap.sys.NetNamespace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The libpcap-like API live on a NIC (a veth between two namespaces), read as libpcap reads TPACKET_V3: in place,
 * out of the kernel's blocks. Every frame sent is handed over once, in order, with its length and bytes; the filter
 * applies in the kernel and in the JVM; breakLoop stops a loop from its handler and wakes one waiting in another
 * thread; next copies; the counters count.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PcapNicTest {
    @RegisterExtension
    static final NetLab.Fixture NET = NetLab.fixture(1);

    /** Blocks handed over 5 ms after their first frame: the test need not wait a second for a partly filled one. */
    private static final Duration TIMEOUT = Duration.ofMillis(5);

    private static final AtomicLong SEQ = new AtomicLong(1000);

    /** Test frame {@code seq}, {@code len} bytes: the veth's MACs, EtherType 0x88b5, seq and ~seq, then bytes made of both. */
    static byte[] frame(long seq, int len) {
        byte[] f = new byte[len];
        System.arraycopy(Frames.mac(NET.veth().macB()), 0, f, 0, 6);
        System.arraycopy(Frames.mac(NET.veth().macA()), 0, f, 6, 6);
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5;
        MemorySegment m = MemorySegment.ofArray(f);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), Frames.SEQ_OFFSET, seq);
        m.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), Frames.SEQ_OFFSET + 8, ~seq);
        for (int i = Frames.SEQ_OFFSET + 16; i < len; i++) {
            f[i] = (byte) (seq * 31 + i);
        }
        return f;
    }

    static long seqOf(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), off + Frames.SEQ_OFFSET);
    }

    /** Sends {@code frames} from a's TX ring, waiting for room. */
    static void send(Port tx, List<byte[]> frames) {
        Ring t = tx.txRing(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int i = 0;
        while (i < frames.size()) {
            t.sync();
            int h = t.head();
            for (int room = t.space(); room > 0 && i < frames.size(); room--, i++) {
                byte[] f = frames.get(i);
                MemorySegment.copy(f, 0, t.memory(), ValueLayout.JAVA_BYTE, t.bufOffset(h), f.length);
                t.setSlot(h, f.length, 0);
                h = t.nextSlot(h);
            }
            t.advanceTo(h);
            t.sync();
            assertTrue(System.nanoTime() < deadline, "sent " + i + " of " + frames.size());
        }
    }

    /** {@code n} numbered frames from {@code first}, lengths 60 .. 1514. */
    static List<byte[]> numbered(long first, int n) {
        List<byte[]> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(frame(first + i, 60 + (int) ((first + i) * 97 % 1455)));
        }
        return l;
    }

    static Pcap open() {
        return open(NET.veth(), false);
    }

    static Pcap open(boolean slots) {
        return open(NET.veth(), slots);
    }

    /** A handle on v's b end; {@code slots}: read through the RX slots as before the blocks ({@code jnetmap.pcap.read_slots}). */
    @SuppressWarnings("try")
    static Pcap open(NetLab.Veth v, boolean slots) {
        try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
            if (slots) System.setProperty("jnetmap.pcap.read_slots", "true");
            return Pcap.openLive("netmap:" + v.b(), 262144, TIMEOUT);
        } finally {
            System.clearProperty("jnetmap.pcap.read_slots");
        }
    }

    static Port sender() {
        return NetLab.open(NET.veth().nsA(), "netmap:" + NET.veth().a() + "@backend=packet");
    }

    /** What a handler saw: sequence numbers, lengths and whether the bytes were the ones sent. */
    static final class Seen implements Pcap.Handler {
        final List<Long> seqs = new ArrayList<>();
        final List<String> wrong = new ArrayList<>();
        int breakAt;
        Pcap pcap;
        long firstTs = Long.MAX_VALUE;

        @Override
        public void packet(Pcap.PacketView v) {
            long seq = seqOf(v.segment(), v.offset());
            seqs.add(seq);
            firstTs = Math.min(firstTs, v.timestampNanos());
            byte[] want = frame(seq, 60 + (int) (seq * 97 % 1455));
            if (v.caplen() != want.length || v.wirelen() != want.length) {
                wrong.add(seq + ": caplen " + v.caplen() + " wirelen " + v.wirelen() + ", sent " + want.length);
            } else if (!java.util.Arrays.equals(v.toArray(), want)) {
                wrong.add(seq + ": bytes " + HexFormat.of().formatHex(v.toArray(), 0, 32));
            }
            if (breakAt > 0 && seqs.size() == breakAt) {
                pcap.breakLoop();
            }
        }
    }

    @ParameterizedTest(name = "read from the {0}")
    @ValueSource(strings = {"blocks", "slots"})
    void everyFrameOnceInOrderWithItsLengthAndBytes(String path) throws Exception {
        try (Pcap pcap = open(path.equals("slots")); Port tx = sender()) {
            assertEquals(path, pcap.readPath());
            assertEquals("kernel", pcap.timestampSource());
            assertEquals("kernel", pcap.setFilter("ether proto 0x88b5"));
            long first = SEQ.getAndAdd(10_000);
            int n = 3000;
            long before = System.currentTimeMillis() * 1_000_000L;
            send(tx, numbered(first, n));
            Seen seen = new Seen();
            assertEquals(n, pcap.loop(n, seen));
            assertFalse(pcap.broken());
            List<Long> expected = new ArrayList<>();
            for (int i = 0; i < n; i++) expected.add(first + i);
            assertEquals(expected, seen.seqs, "each frame once, in order");
            assertEquals(List.of(), seen.wrong);
            assertTrue(seen.firstTs >= before - TimeUnit.MILLISECONDS.toNanos(20), "kernel receive times: " + seen.firstTs + " < " + before);
            assertNull(pcap.next(Duration.ofMillis(300)), "nothing more");
            Pcap.Stats st = pcap.stats();
            assertEquals(n, st.received(), "received by the filter: " + st);
            assertEquals(0, st.kernelDrops(), st.toString());
        }
    }

    /**
     * The filter selects every third frame, in the kernel and then in the JVM (a protochain alternative keeps it
     * there); the JVM's counts what it looked at, as libpcap's ps_recv when it filters in user space.
     */
    @Test
    void theFilterAppliesInTheKernelAndInTheJvm() throws Exception {
        try (Pcap pcap = open(); Port tx = sender()) {
            // the byte after the sequence number's high bytes: its low byte, in network order at SEQ_OFFSET + 7
            String third = "ether proto 0x88b5 and ether[" + (Frames.SEQ_OFFSET + 7) + "] % 3 = 0";
            for (String where : List.of("kernel", "jvm")) {
                String expr = where.equals("kernel") ? third : "(" + third + ") or ip6 protochain 17";
                assertEquals(where, pcap.setFilter(expr), expr);
                long first = SEQ.getAndAdd(10_000) / 256 * 256 + 256; // seq % 256 == 0: the low byte runs 0 .. 255
                Pcap.Stats st0 = pcap.stats();
                send(tx, numbered(first, 256));
                List<Long> expected = new ArrayList<>();
                for (long s = first; s < first + 256; s++) if (s % 256 % 3 == 0) expected.add(s);
                Seen seen = new Seen();
                assertEquals(expected.size(), pcap.loop(expected.size(), seen), where);
                assertEquals(expected, seen.seqs, where);
                assertEquals(List.of(), seen.wrong, where);
                assertNull(pcap.next(Duration.ofMillis(300)), where + ": nothing else passes");
                Pcap.Stats st = pcap.stats();
                assertEquals(where.equals("kernel") ? expected.size() : 256, st.received() - st0.received(), where + ": " + st);
            }
        }
    }

    @Test
    void breakLoopFromTheHandlerStopsAfterThatPacketAndTheNextLoopGoesOn() throws Exception {
        try (Pcap pcap = open(); Port tx = sender()) {
            assertEquals("kernel", pcap.setFilter("ether proto 0x88b5"));
            long first = SEQ.getAndAdd(10_000);
            send(tx, numbered(first, 500));
            Seen seen = new Seen();
            seen.pcap = pcap;
            seen.breakAt = 10;
            assertEquals(10, pcap.loop(0, seen));
            assertTrue(pcap.broken());
            seen.breakAt = 0;
            assertEquals(5, pcap.dispatch(5, seen), "dispatch goes on where the loop stopped");
            assertFalse(pcap.broken());
            assertEquals(485, pcap.loop(485, seen));
            List<Long> expected = new ArrayList<>();
            for (int i = 0; i < 500; i++) expected.add(first + i);
            assertEquals(expected, seen.seqs);
            assertEquals(List.of(), seen.wrong);
            // a request while nothing runs: the next call returns at once, and takes it
            pcap.breakLoop();
            assertEquals(0, pcap.loop(0, seen));
            assertTrue(pcap.broken());
            assertNull(pcap.next(Duration.ofMillis(100)));
            assertFalse(pcap.broken());
        }
    }

    @Test
    void breakLoopFromAnotherThreadWakesALoopWaitingForPackets() throws Exception {
        try (Pcap pcap = open()) {
            assertEquals("kernel", pcap.setFilter("ether proto 0x88b5"));
            CompletableFuture<Long> running = CompletableFuture.supplyAsync(() -> {
                try {
                    return pcap.loop(0, v -> { });
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(300); // the loop sleeps in poll(2): nothing is sent
            assertFalse(running.isDone());
            pcap.breakLoop();
            assertEquals(0L, running.get(30, TimeUnit.SECONDS));
            assertTrue(pcap.broken());
        }
    }

    /** next: a copy of each packet that stays valid after its block went back, until the next call. */
    @Test
    void nextReturnsCopiesInOrder() throws Exception {
        try (Pcap pcap = open(); Port tx = sender()) {
            assertEquals("kernel", pcap.setFilter("ether proto 0x88b5"));
            long first = SEQ.getAndAdd(10_000);
            List<byte[]> frames = numbered(first, 40);
            send(tx, frames);
            for (int i = 0; i < 40; i++) {
                Pcap.PacketView v = pcap.next(Duration.ofSeconds(10));
                assertTrue(v != null, "frame " + i);
                byte[] got = v.toArray();
                assertArrayEquals(frames.get(i), got, "frame " + i);
                if (i == 20) { // the frames after it arrive in the blocks meanwhile: the copy stays
                    send(tx, numbered(first + 1_000_000, 1));
                    Thread.sleep(50);
                    assertArrayEquals(got, v.toArray());
                }
            }
            Pcap.PacketView last = pcap.next(Duration.ofSeconds(10));
            assertTrue(last != null);
            assertEquals(first + 1_000_000, seqOf(last.segment(), last.offset()));
        }
    }

    /** A handler's exception reaches the caller, and the reader's place in the block stays right. */
    @Test
    void anExceptionFromTheHandlerReachesTheCallerAndTheNextCallGoesOn() throws Exception {
        try (Pcap pcap = open(); Port tx = sender()) {
            assertEquals("kernel", pcap.setFilter("ether proto 0x88b5"));
            long first = SEQ.getAndAdd(10_000);
            send(tx, numbered(first, 30));
            Seen seen = new Seen();
            assertThrows(IllegalStateException.class, () -> pcap.loop(30, v -> {
                seen.packet(v);
                if (seen.seqs.size() == 7) throw new IllegalStateException("seventh");
            }));
            assertEquals(23, pcap.loop(23, seen));
            List<Long> expected = new ArrayList<>();
            for (int i = 0; i < 30; i++) expected.add(first + i);
            assertEquals(expected, seen.seqs);
        }
    }

    /**
     * As libpcap 1.10's (tcpdump 4.99 here): an interface that goes down is waited for and the loop goes on when it comes
     * back up; one that is deleted ends the loop with an IOException ("the interface disappeared") instead of a loop that
     * never wakes, after every frame sent before, those of the block the kernel was still filling too (tcpdump loses
     * those).
     */
    @Test
    @SuppressWarnings("try")
    void aLoopGoesOnOverDownAndEndsWithAnErrorWhenTheInterfaceDisappears() throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            Pcap p;
            try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
                p = Pcap.openLive("netmap:" + v.b(), 2048); // tcpdump's 1 s block timeout: the last block is not handed over yet
            }
            try (Pcap pcap = p; Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet")) {
                List<Long> seqs = java.util.Collections.synchronizedList(new ArrayList<>());
                CompletableFuture<Long> running = CompletableFuture.supplyAsync(() -> {
                    try {
                        return pcap.loop(0, x -> {
                            if (x.caplen() >= Frames.SEQ_OFFSET + 16 && x.segment().get(ValueLayout.JAVA_BYTE, x.offset() + 12) == (byte) 0x88) {
                                seqs.add(seqOf(x.segment(), x.offset()));
                            }
                        });
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                List<Long> sent = new ArrayList<>();
                send(tx, framesFor(v, sent, 5));
                Thread.sleep(300);
                NetLab.inNs(v.nsB(), "ip", "link", "set", v.b(), "down");
                Thread.sleep(1500);
                assertFalse(running.isDone(), "the loop goes on while the interface is down");
                NetLab.inNs(v.nsB(), "ip", "link", "set", v.b(), "up");
                Thread.sleep(300);
                send(tx, framesFor(v, sent, 5));
                Thread.sleep(50);
                NetLab.inNs(v.nsB(), "ip", "link", "del", v.b());
                java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
                        () -> running.get(30, TimeUnit.SECONDS));
                assertTrue(e.getCause() instanceof java.io.UncheckedIOException, e.toString());
                assertTrue(e.getCause().getCause() instanceof Pcap.InterfaceGoneException, e.toString());
                String msg = e.getCause().getCause().getMessage();
                assertTrue(msg.contains(v.b()) && msg.endsWith(": the interface disappeared"), msg);
                assertEquals(sent, seqs, "every frame sent before the interface disappeared, once, in order");
            }
        }
    }

    /** {@code n} test frames from a to b of {@code v}, their sequence numbers added to {@code sent}. */
    private static List<byte[]> framesFor(NetLab.Veth v, List<Long> sent, int n) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long seq = SEQ.incrementAndGet();
            byte[] f = frame(seq, 200);
            System.arraycopy(Frames.mac(v.macB()), 0, f, 0, 6);
            System.arraycopy(Frames.mac(v.macA()), 0, f, 6, 6);
            out.add(f);
            sent.add(seq);
        }
        return out;
    }

    /**
     * The counters count what the kernel dropped: 30 000 frames of 1514 bytes into a ring of 32 MiB that nobody reads
     * meanwhile. Each frame is read once (in order) or counted as dropped by the kernel (or, at the sending veth,
     * by the veth itself); received is what was read plus the kernel's drops, as libpcap's ps_recv.
     */
    @Test
    @SuppressWarnings("try")
    void theCountersCountWhatTheKernelDropped() throws Exception {
        try (NetLab lab = new NetLab()) {
            NetLab.Veth v = lab.vethPair();
            Pcap p;
            try (NetNamespace ignored = NetNamespace.enter(v.nsB())) {
                p = Pcap.openLive("netmap:" + v.b(), 262144, TIMEOUT);
            }
            try (Pcap pcap = p; Port tx = NetLab.open(v.nsA(), "netmap:" + v.a() + "@backend=packet")) {
                assertEquals("kernel", pcap.setFilter("ether proto 0x88b5"));
                long vethDrops0 = NetLab.counter(v.nsA(), v.a(), "tx_dropped");
                int n = 30_000;
                List<byte[]> frames = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    byte[] f = frame(i, 1514);
                    System.arraycopy(Frames.mac(v.macB()), 0, f, 0, 6);
                    System.arraycopy(Frames.mac(v.macA()), 0, f, 6, 6);
                    frames.add(f);
                }
                send(tx, frames);
                long read = 0;
                long last = -1;
                for (Pcap.PacketView pv; (pv = pcap.next(Duration.ofMillis(500))) != null; read++) {
                    long seq = seqOf(pv.segment(), pv.offset());
                    assertTrue(seq > last, "in order, each once: " + seq + " after " + last);
                    assertEquals(1514, pv.caplen());
                    last = seq;
                }
                Pcap.Stats st = pcap.stats();
                long vethDrops = NetLab.counter(v.nsA(), v.a(), "tx_dropped") - vethDrops0;
                assertTrue(st.kernelDrops() > 0, "a full ring drops: " + st + ", read " + read);
                assertEquals(read + st.kernelDrops(), st.received(), st.toString());
                assertEquals(n, read + st.kernelDrops() + vethDrops, "read " + read + ", " + st + ", dropped by the veth " + vethDrops);
            }
        }
    }
}
