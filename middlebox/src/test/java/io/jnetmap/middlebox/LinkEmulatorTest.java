package io.jnetmap.middlebox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * tlem between two pipe ends: the test sends into A's peer and reads B's. Delays and rates are measured
 * on the times the emulator itself records at its exit (what a receiver would see), not on the test's
 * clock, so a busy machine does not make them fail.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LinkEmulatorTest {
    /**
     * Sends {@code count} tagged frames into the link, {@code burst} at a time every {@code gapNanos}
     * ({@code prefill}: all of them before the emulator starts, so they arrive as one backlog); collects
     * what comes out. The test's own threads sleep between rounds, leaving the CPUs to the emulator.
     */
    static List<Long> run(LinkSpec spec, int count, int burst, long gapNanos, boolean prefill, LinkEmulator[] out) throws Exception {
        String p = LoadBalancerTest.parent("tl");
        // rings that hold what arrives while the test's reader is descheduled (8 ms at 1 Mpps); both pipes
        // (a pipe opened later in a parent's region gets the default 1024 slots unless told)
        String slots = "slots=" + (prefill ? Math.max(8192, Integer.highestOneBit(count) * 2) : 8192);
        try (Port in = Netmap.open(p + "{0@conf:pipes=2," + slots); Port a = Netmap.open(p + "}0");
             Port b = Netmap.open(p + "}1@conf:" + slots);
             Port sink = Netmap.open(p + "{1")) {
            List<Long> got = new ArrayList<>(count);
            if (prefill) {
                Frames.send(in, count, (m, off, i) -> Frames.udp(m, off, 0x0a000001, 0x0a000002, 1, 2, i));
            }
            LinkEmulator em = LinkEmulator.start(a, b, spec, LinkSpec.ideal(), 16L << 20, false);
            out[0] = em;
            Thread reader = Thread.ofPlatform().start(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                long idleSince = System.nanoTime();
                while (System.nanoTime() < deadline) {
                    int n = Frames.drain(sink, got::add);
                    if (n > 0) {
                        idleSince = System.nanoTime();
                        continue; // drain again at once: a reader that sleeps while packets come is what falls behind
                    } else if (System.nanoTime() - idleSince > TimeUnit.MILLISECONDS.toNanos(1500)) {
                        return; // nothing for a while after the last packet
                    }
                    LockSupport.parkNanos(200_000);
                }
            });
            int sent = prefill ? count : 0;
            long t0 = System.nanoTime();
            while (sent < count) {
                // paced by the clock: on average burst packets every gapNanos however late a park wakes up
                long due = gapNanos > 0 ? (System.nanoTime() - t0) / gapNanos * burst + burst : count;
                int n = (int) Math.min(Math.min(due - sent, count - sent), burst);
                if (n > 0) {
                    int from = sent;
                    Frames.send(in, n, (m, off, i) -> Frames.udp(m, off, 0x0a000001, 0x0a000002, 1, 2, from + i));
                    sent += n;
                }
                if (gapNanos > 0 && sent < count && due - sent <= 0) {
                    LockSupport.parkNanos(gapNanos);
                }
            }
            reader.join(70_000);
            em.close();
            assertNull(em.failure());
            return got;
        }
    }

    static void assertInOrder(List<Long> got) {
        for (int i = 1; i < got.size(); i++) {
            assertTrue(got.get(i) > got.get(i - 1), "in order at " + i + ": " + got.get(i - 1) + " then " + got.get(i));
        }
    }

    @Test
    void constantDelayWithinFivePercentAndNoReordering() throws Exception {
        long delay = TimeUnit.MILLISECONDS.toNanos(50);
        LinkEmulator[] em = new LinkEmulator[1];
        List<Long> got = run(LinkSpec.ideal().withDelay(LinkSpec.Delay.constant(delay)), 20_000, 64, 500_000, false, em);
        LinkEmulator.Stats s = em[0].stats(0);
        assertEquals(20_000, got.size());
        assertEquals(20_000, s.sent());
        assertInOrder(got);
        assertTrue(s.delayMinNanos() >= delay, "never early: " + s);
        assertEquals(delay, s.scheduledDelayMeanNanos(), 0.05 * delay, "mean delay the link gave: " + s);
    }

    /**
     * The delay a receiver sees, within 5 %, at 100 kpps. The issue asks for 1 Mpps, which needs a CPU
     * for each busy thread (the test's paced sender, the stamper, the releaser, the test's reader). On
     * this 2-CPU machine, quiet (2026-12-07), 1 Mpps gave a mean of 93 ms for 10 ms (the test's reader
     * behind, the output ring full 3158 times); 100 kpps gave 11.1 ms until the releaser stopped
     * yielding its CPU while the next exit was near, and holds since. 1 Mpps: the one-thread test below.
     * Slow suite.
     */
    @Test
    @Tag("slow")
    void deliveredDelayWithinFivePercentAt100KppsOnTwoCpus() throws Exception {
        long delay = TimeUnit.MILLISECONDS.toNanos(10);
        LinkEmulator[] em = new LinkEmulator[1];
        int count = 50_000; // 0.5 s at 100 kpps: 10 packets every 100 us
        run(LinkSpec.ideal().withDelay(LinkSpec.Delay.constant(delay)), 20_000, 10, 100_000, false, em); // warms the JIT up
        List<Long> got = run(LinkSpec.ideal().withDelay(LinkSpec.Delay.constant(delay)), count, 10, 100_000, false, em);
        LinkEmulator.Stats s = em[0].stats(0);
        assertEquals(count, got.size(), s.toString());
        assertInOrder(got);
        assertTrue(s.delayMinNanos() >= delay, "never early: " + s);
        assertEquals(delay, s.delayMeanNanos(), 0.05 * delay, "mean delay at the exit: " + s);
    }

    /**
     * The delay a receiver sees, within 5 %, at the 1 Mpps, with the emulator's stamper and
     * releaser passes ({@link LinkEmulator#stampOnce}, {@link LinkEmulator#releaseOnce}) and the test's
     * sender and reader taking turns in one thread: on 2 CPUs the four threads of the other test cannot
     * all run (the releaser spins while an exit is near, which at 1 Mpps is always), and the delay then
     * measures the scheduler. One thread needs a CPU to itself for 2 s (about 7 % of it at 1 Mpps):
     * slow suite, a quiet machine.
     */
    @Test
    @Tag("slow")
    void deliveredDelayWithinFivePercentAt1MppsInOneThread() {
        long delay = TimeUnit.MILLISECONDS.toNanos(10);
        for (int round = 0; round < 2; round++) { // the first warms the JIT up
            int count = round == 0 ? 500_000 : 2_000_000; // 2 s at 1 Mpps: 64 packets every 64 us
            String p = LoadBalancerTest.parent("t1");
            try (Port in = Netmap.open(p + "{0@conf:pipes=2,slots=16384"); Port a = Netmap.open(p + "}0");
                 Port b = Netmap.open(p + "}1@conf:slots=16384"); Port sink = Netmap.open(p + "{1");
                 LinkEmulator em = LinkEmulator.open(a, b, LinkSpec.ideal().withDelay(LinkSpec.Delay.constant(delay)), LinkSpec.ideal(), 64L << 20)) {
                Ring t = in.txRing(0);
                Ring r = sink.rxRing(0);
                long sent = 0;
                long next = 0;
                long t0 = System.nanoTime();
                long deadline = t0 + TimeUnit.SECONDS.toNanos(30);
                while (next < count) {
                    assertTrue(System.nanoTime() < deadline, "stuck at " + next + " of " + count + ": " + em.stats(0));
                    long due = Math.min(count, (System.nanoTime() - t0) / 64_000 * 64 + 64);
                    if (due > sent) {
                        t.sync();
                        int n = (int) Math.min(due - sent, t.space());
                        int j = t.head();
                        for (int k = 0; k < n; k++, sent++) {
                            Frames.udp(t.memory(), t.bufOffset(j), 0x0a000001, 0x0a000002, 1, 2, sent);
                            t.setLen(j, Frames.LEN);
                            j = t.nextSlot(j);
                        }
                        t.advanceTo(j);
                        t.sync();
                    }
                    em.stampOnce(0);
                    em.releaseOnce(0);
                    r.sync();
                    for (int i = r.head(); i != r.tail(); i = r.nextSlot(i), next++) {
                        long tag = Frames.tag(r.memory(), r.bufOffset(i));
                        if (tag != next) {
                            throw new AssertionError("packet " + tag + " where " + next + " was due");
                        }
                    }
                    r.advanceTo(r.tail());
                }
                LinkEmulator.Stats s = em.stats(0);
                assertEquals(count, s.sent(), s.toString());
                assertTrue(s.delayMinNanos() >= delay, "never early: " + s);
                if (round == 1) {
                    assertEquals(delay, s.delayMeanNanos(), 0.05 * delay, "mean delay at the exit, 1 Mpps: " + s);
                }
            }
        }
    }

    @Test
    void bandwidthWithEthernetFramingWithinTwoPercent() throws Exception {
        long bps = 100_000_000;
        LinkEmulator[] em = new LinkEmulator[1];
        int count = 8000;
        List<Long> got = run(LinkSpec.ideal().withBandwidth(bps, true).withQueue(8L << 20), count, 1024, 0, true, em);
        LinkEmulator.Stats s = em[0].stats(0);
        assertEquals(count, got.size(), "a queue that holds everything drops nothing: " + s);
        assertInOrder(got);
        double rate = s.linkBitsPerSec(60 + LinkSpec.ETHER_OVERHEAD);
        assertEquals(bps, rate, 0.02 * bps, "link rate of 84-byte wire frames: " + s);
        // what the receiver saw: never faster than the link (no packet leaves before its exit time);
        // slower only by what the machine lagged on the last packet
        double delivered = s.deliveredBitsPerSec(60 + LinkSpec.ETHER_OVERHEAD);
        assertTrue(delivered <= rate * (1 + 1e-9), "delivered " + delivered + " above the link's " + rate + ": " + s);
        assertTrue(s.lastSentNanos() >= s.lastExitNanos() && s.firstSentNanos() >= s.firstExitNanos(), s.toString());
        assertTrue(s.latenessMeanNanos() >= 0 && s.delayMinNanos() >= 0, "never sent before its exit time: " + s);
    }

    /**
     * The rate a receiver sees, within 2 % of the link's: the releaser must keep up with the exit times
     * to the last packet, which a 2-CPU machine shared with busy processes cannot promise, so it runs
     * with the slow suites ({@code bin/test slow}) on a quiet machine.
     */
    @Test
    @Tag("slow")
    void deliveredBandwidthWithinTwoPercentOnAQuietMachine() throws Exception {
        long bps = 100_000_000;
        LinkEmulator[] em = new LinkEmulator[1];
        int count = 24_000; // ~160 ms on the link: the last packet's lag (~1 ms) stays well under 2 %
        List<Long> got = run(LinkSpec.ideal().withBandwidth(bps, true).withQueue(8L << 20), count, 1024, 0, true, em);
        LinkEmulator.Stats s = em[0].stats(0);
        assertEquals(count, got.size(), s.toString());
        assertEquals(bps, s.deliveredBitsPerSec(60 + LinkSpec.ETHER_OVERHEAD), 0.02 * bps, "delivered rate: " + s);
    }

    @Test
    void lossRateWithinItsStatisticalBound() throws Exception {
        int n = 40_000;
        double plr = 0.1;
        LinkEmulator[] em = new LinkEmulator[1];
        List<Long> got = run(LinkSpec.ideal().withLoss(plr, 0), n, 256, 100_000, false, em);
        LinkEmulator.Stats s = em[0].stats(0);
        double sd = Math.sqrt(n * plr * (1 - plr));
        assertEquals(n * plr, s.lost(), 5 * sd, "packets lost: " + s);
        assertEquals(n - s.lost(), got.size());
        assertInOrder(got);
        // bit errors: 60-byte frames are 480 bits, lost with probability 1 - (1 - ber)^480
        double ber = 1e-4;
        got = run(LinkSpec.ideal().withLoss(0, ber), n, 256, 100_000, false, em);
        s = em[0].stats(0);
        double p = 1 - Math.pow(1 - ber, 480);
        assertEquals(n * p, s.lost(), 5 * Math.sqrt(n * p * (1 - p)), "packets lost to bit errors: " + s);
        assertEquals(n - s.lost(), got.size());
    }

    @Test
    void reordersOnlyWhenAskedAndCountsIt() throws Exception {
        LinkEmulator[] em = new LinkEmulator[1];
        List<Long> got = run(LinkSpec.ideal().withReorder(0.05), 20_000, 256, 100_000, false, em);
        LinkEmulator.Stats s = em[0].stats(0);
        assertEquals(20_000, got.size());
        long late = 0;
        long max = -1;
        for (long t : got) {
            if (t < max) {
                late++;
            }
            max = Math.max(max, t);
        }
        assertTrue(s.reordered() > 0, s.toString());
        assertEquals(s.reordered(), late, "each overtaken packet arrives after its successor");
    }

    @Test
    void aFullQueueDropsAndCounts() throws Exception {
        LinkEmulator[] em = new LinkEmulator[1];
        // 1 Mbit/s drains 84-byte frames every 672 us; a 2000-byte queue holds 23 of them
        List<Long> got = run(LinkSpec.ideal().withBandwidth(1_000_000, true).withQueue(2000), 2000, 1000, 0, true, em);
        LinkEmulator.Stats s = em[0].stats(0);
        assertTrue(s.queueDrops() > 1000, s.toString());
        assertEquals(2000, s.received());
        assertEquals(s.received() - s.queueDrops(), s.sent());
        assertEquals(s.sent(), got.size());
        assertInOrder(got);
    }

    /**
     * The delay line wraps (a small line of an odd size, frames of many lengths) and starts again at its
     * beginning whenever it runs empty: every packet comes out once, in order, with its own length and
     * bytes. Stepped in one thread ({@link LinkEmulator#open}), with batches of several sizes.
     */
    @Test
    void theDelayLineWrapsAndRestartsWithoutLosingOrMixingPackets() {
        String p = LoadBalancerTest.parent("tw");
        try (Port in = Netmap.open(p + "{0@conf:pipes=2"); Port a = Netmap.open(p + "}0"); Port b = Netmap.open(p + "}1");
             Port sink = Netmap.open(p + "{1");
             LinkEmulator em = LinkEmulator.open(a, b, LinkSpec.ideal(), LinkSpec.ideal(), 300_000 + 4 * 13)) {
            int total = 60_000;
            long sent = 0;
            long next = 0;
            java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
            while (next < total) {
                Ring t = in.txRing(0);
                t.sync();
                int n = (int) Math.min(Math.min(t.space(), 1 + rnd.nextInt(300)), total - sent);
                int j = t.head();
                for (int k = 0; k < n; k++, sent++) {
                    int len = lengthOf(sent);
                    MemorySegment m = t.memory();
                    long off = t.bufOffset(j);
                    m.asSlice(off, len).fill((byte) sent);
                    m.set(Frames.U64, off, sent);
                    t.setLen(j, len);
                    j = t.nextSlot(j);
                }
                t.advanceTo(j);
                t.sync();
                // stamp several batches before releasing some: the line fills, wraps, empties
                for (int s = rnd.nextInt(3); s >= 0; s--) {
                    em.stampOnce(0);
                }
                if (rnd.nextInt(4) > 0) {
                    em.releaseOnce(0);
                }
                Ring r = sink.rxRing(0);
                r.sync();
                for (int i = r.head(); i != r.tail(); i = r.nextSlot(i), next++) {
                    long off = r.bufOffset(i);
                    assertEquals(next, r.memory().get(Frames.U64, off), "packet in order");
                    assertEquals(lengthOf(next), r.len(i), "length of packet " + next);
                    assertEquals((byte) next, r.memory().get(java.lang.foreign.ValueLayout.JAVA_BYTE, off + r.len(i) - 1), "last byte of " + next);
                }
                r.advanceTo(r.tail());
                r.sync();
                if (sent == total && next < total) {
                    em.stampOnce(0);
                    em.releaseOnce(0);
                }
            }
            LinkEmulator.Stats s = em.stats(0);
            assertEquals(total, s.received());
            assertEquals(total, s.sent());
            assertTrue(s.lineFull() > 0, "the small line was full at times: " + s);
        }
    }

    private static int lengthOf(long i) {
        return 60 + (int) (i * 37 % 1455);
    }

    @Test
    void specsParseAsTlemWritesThem() {
        assertEquals(LinkSpec.Delay.constant(10_000_000), LinkSpec.Delay.parse("10ms"));
        assertEquals(LinkSpec.Delay.uniform(5_000_000, 15_000_000), LinkSpec.Delay.parse("uniform,5ms,15ms"));
        assertEquals(LinkSpec.Delay.exponential(2_000_000, 250_000), LinkSpec.Delay.parse("exp,2ms,250us"));
        assertEquals(1_000_000_000L, LinkSpec.bitsPerSecond("1Gbps"));
        assertEquals(100_000_000L, LinkSpec.bitsPerSecond("100M"));
        assertThrows(IllegalArgumentException.class, () -> LinkSpec.Delay.parse("soon"));
        assertThrows(IllegalArgumentException.class, () -> LinkSpec.bitsPerSecond("fast"));
        assertThrows(IllegalArgumentException.class, () -> LinkSpec.ideal().withLoss(2, 0));
    }
}
