package io.jnetmap.middlebox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.poll.WaitStrategy;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LoadBalancerTest {
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final int FLOWS = 10_000;

    static String parent(String p) {
        return p + ProcessHandle.current().pid() + "x" + SEQ.incrementAndGet();
    }

    /** Flow f, direction d (0: client to server, 1: back): addresses and ports swapped for d = 1. */
    static void flowFrame(MemorySegment m, long off, int f, int d, long tag) {
        int client = 0x0a000000 | (f * 2654435 & 0xffffff);
        int server = 0x0a640001 + f % 7;
        int cport = 1024 + (f * 7919) % 60000;
        int sport = 80 + f % 3;
        if (d == 0) {
            Frames.udp(m, off, client, server, cport, sport, tag);
        } else {
            Frames.udp(m, off, server, client, sport, cport, tag);
        }
    }

    static long tag(int f, int d, int rep) {
        return (long) rep << 32 | (long) f << 1 | d;
    }

    @Test
    void flowsSpreadEvenlyAndBothDirectionsMeetOnePipeWithNothingLost() throws Exception {
        String p = parent("lbs");
        int pipes = 4;
        int reps = 5;
        try (LoadBalancer lb = LoadBalancer.start(p + "}" + pipes, List.of(new LoadBalancer.Group(p, pipes)), 16384, 512,
                WaitStrategy.busySpin(), -1);
             Port gen = Netmap.open(p + "{" + pipes)) {
            assertTrue(lb.zeroCopy(), "an input pipe of the group's parent shares its region");
            List<Port> consumers = new ArrayList<>();
            for (int k = 0; k < pipes; k++) {
                consumers.add(Netmap.open(p + "}" + k));
            }
            int[] pipeOfFlow = new int[FLOWS];
            Arrays.fill(pipeOfFlow, -1);
            long total = 2L * FLOWS * reps;
            AtomicLong got = new AtomicLong();
            String[] problem = new String[1];
            long stallNanos = TimeUnit.SECONDS.toNanos(30);
            Thread consumer = Thread.ofPlatform().start(() -> {
                long lastProgress = System.nanoTime();
                while (got.get() < total && System.nanoTime() - lastProgress < stallNanos) {
                    long before = got.get();
                    for (int k = 0; k < pipes; k++) {
                        int pipe = k;
                        got.addAndGet(Frames.drain(consumers.get(k), t -> {
                            int f = (int) (t & 0xffffffffL) >>> 1;
                            if (pipeOfFlow[f] == -1) {
                                pipeOfFlow[f] = pipe;
                            } else if (pipeOfFlow[f] != pipe && problem[0] == null) {
                                problem[0] = "flow " + f + " on pipes " + pipeOfFlow[f] + " and " + pipe;
                            }
                        }));
                    }
                    if (got.get() != before) {
                        lastProgress = System.nanoTime();
                    } else {
                        Thread.onSpinWait();
                    }
                }
            });
            // at most `window` packets unread: even all in one pipe, 1023 in its ring and the rest in the 16384
            // overflow buffers, so the balancer never has to drop however the threads are scheduled
            long window = 8192;
            int chunk = 512;
            long sent = 0;
            long lastProgress = System.nanoTime();
            long lastRead = 0;
            while (sent < total) {
                long read = got.get();
                if (read != lastRead) {
                    lastRead = read;
                    lastProgress = System.nanoTime();
                }
                if (sent + chunk - read > window) {
                    assertTrue(System.nanoTime() - lastProgress < stallNanos, "no packet read for 30 s: sent " + sent + ", read " + read);
                    LockSupport.parkNanos(20_000);
                    continue;
                }
                long n = Math.min(chunk, total - sent);
                long from = sent;
                Frames.send(gen, n, (m, off, i) -> {
                    long j = from + i;
                    int rep = (int) (j / (2 * FLOWS));
                    int f = (int) (j % (2 * FLOWS)) >>> 1;
                    int d = (int) (j & 1);
                    flowFrame(m, off, f, d, tag(f, d, rep));
                });
                sent += n;
            }
            consumer.join();
            assertNull(problem[0]);
            assertNull(lb.failure());
            assertEquals(total, got.get(), "every packet reached a consumer");
            assertEquals(total, lb.received());
            long[] flowsPerPipe = new long[pipes];
            for (int f = 0; f < FLOWS; f++) {
                flowsPerPipe[pipeOfFlow[f]]++;
            }
            double expected = (double) FLOWS / pipes;
            double chi2 = 0;
            for (long c : flowsPerPipe) {
                chi2 += (c - expected) * (c - expected) / expected;
            }
            // 3 degrees of freedom: P(chi2 > 16.27) = 0.001 for a uniform spread
            assertTrue(chi2 < 16.27, "flows per pipe " + Arrays.toString(flowsPerPipe) + " chi2=" + chi2);
            for (int k = 0; k < pipes; k++) {
                assertEquals(0, lb.dropped(0, k));
                assertEquals(0, lb.queued(0, k));
            }
            String json = lb.countersJson();
            assertTrue(json.startsWith("{\"ts\":") && json.contains("\"name\":\"" + p + "}3\"") && json.contains("\"dropped\":0"), json);
            consumers.forEach(Port::close);
        }
    }

    @Test
    void overflowThenDropsCountedExactlyWhenConsumersStall() throws Exception {
        String p = parent("lbd");
        int pipes = 4;
        int extra = 100;
        int packets = 6000;
        int cap = 1023; // a 1024-slot pipe holds 1023 packets its consumer has not taken
        // what should happen, packet by packet: ring, else an overflow buffer, else dropped
        int[] bucket = new int[packets];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(64);
            for (int i = 0; i < packets; i++) {
                flowFrame(f, 0, i, 0, i);
                bucket[i] = FlowHash.bucket(FlowHash.hash(f, 0, Frames.LEN), pipes);
            }
        }
        long[] inRing = new long[pipes];
        long[] queued = new long[pipes];
        long[] lost = new long[pipes];
        int free = extra;
        List<List<Long>> expectOrder = new ArrayList<>();
        for (int k = 0; k < pipes; k++) {
            expectOrder.add(new ArrayList<>());
        }
        for (int i = 0; i < packets; i++) {
            int k = bucket[i];
            if (inRing[k] < cap) {
                inRing[k]++;
            } else if (free > 0) {
                free--;
                queued[k]++;
            } else {
                lost[k]++;
                continue;
            }
            expectOrder.get(k).add((long) i);
        }
        assertTrue(Arrays.stream(lost).sum() > 0, "the test must overflow the buffers");
        try (LoadBalancer lb = LoadBalancer.start(p + "}" + pipes, List.of(new LoadBalancer.Group(p, pipes)), extra, 256,
                WaitStrategy.busySpin(), -1);
             Port gen = Netmap.open(p + "{" + pipes)) {
            List<Port> consumers = new ArrayList<>();
            for (int k = 0; k < pipes; k++) {
                consumers.add(Netmap.open(p + "}" + k));
            }
            Frames.send(gen, packets, (m, off, i) -> flowFrame(m, off, (int) i, 0, i));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (lb.received() < packets && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(100);
            for (int k = 0; k < pipes; k++) {
                assertEquals(lost[k], lb.dropped(0, k), "drops of pipe " + k);
                assertEquals(queued[k], lb.queued(0, k), "overflow queue of pipe " + k);
                assertEquals(inRing[k], lb.forwarded(0, k), "in the ring of pipe " + k);
            }
            // consumers catch up: the queued packets follow, in order, nothing else is lost
            for (int k = 0; k < pipes; k++) {
                List<Long> seen = new ArrayList<>();
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (seen.size() < expectOrder.get(k).size() && System.nanoTime() < until) {
                    Frames.drain(consumers.get(k), seen::add);
                }
                assertEquals(expectOrder.get(k), seen, "pipe " + k + " received");
                assertEquals(0, lb.queued(0, k));
            }
            assertNull(lb.failure());
            consumers.forEach(Port::close);
        }
    }

    /**
     * A balancer that copies to one group and forwards to another loses nothing while its consumers keep
     * up. The sender keeps at most {@code WINDOW} packets in flight (sent, not yet read by both groups),
     * so the pipes and the overflow buffers can hold them even if every flow hashed to one pipe: the
     * balancer never has to drop, and every packet must reach each group exactly once however the
     * threads are scheduled. The deadline is on progress (nothing new for 30 s), not on the whole run,
     * since three threads on a busy 2-CPU machine may take long but never stall.
     */
    @Test
    void everyGroupSeesEveryPacketThroughACopyingInput() throws Exception {
        String src = parent("lbsrc");
        String a = parent("lbga");
        String b = parent("lbgb");
        int total = 30_000;
        int overflow = 8192;
        int ring = 1023; // a 1024-slot pipe holds 1023 packets its consumer has not taken
        int window = 4096; // worst case, all in one pipe per group: 2 * (window - ring) overflow buffers
        int chunk = 512;
        assertTrue(2 * (window - ring) <= overflow);
        long stallNanos = TimeUnit.SECONDS.toNanos(30);
        try (LoadBalancer lb = LoadBalancer.start(src + "}0", List.of(new LoadBalancer.Group(a, 2), new LoadBalancer.Group(b, 3)),
                overflow, 512, WaitStrategy.busySpin(), -1);
             Port gen = Netmap.open(src + "{0")) {
            assertFalse(lb.zeroCopy(), "an input of another parent is copied");
            List<Port> cons = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                cons.add(Netmap.open(a + "}" + k));
            }
            for (int k = 0; k < 3; k++) {
                cons.add(Netmap.open(b + "}" + k));
            }
            int[] seenA = new int[total];
            int[] seenB = new int[total];
            AtomicLong gotA = new AtomicLong();
            AtomicLong gotB = new AtomicLong();
            Thread consumer = Thread.ofPlatform().start(() -> {
                long lastProgress = System.nanoTime();
                while (gotA.get() + gotB.get() < 2L * total && System.nanoTime() - lastProgress < stallNanos) {
                    int n = 0;
                    for (int k = 0; k < 5; k++) {
                        int[] seen = k < 2 ? seenA : seenB;
                        int m = Frames.drain(cons.get(k), t -> seen[(int) t]++);
                        (k < 2 ? gotA : gotB).addAndGet(m);
                        n += m;
                    }
                    if (n > 0) {
                        lastProgress = System.nanoTime();
                    } else {
                        Thread.onSpinWait();
                    }
                }
            });
            int sent = 0;
            long lastProgress = System.nanoTime();
            long lastRead = 0;
            while (sent < total) {
                long read = Math.min(gotA.get(), gotB.get());
                if (read != lastRead) {
                    lastRead = read;
                    lastProgress = System.nanoTime();
                }
                if (sent + chunk - read > window) {
                    assertTrue(System.nanoTime() - lastProgress < stallNanos, "no packet read for 30 s: sent " + sent
                            + ", group a read " + gotA.get() + ", group b read " + gotB.get() + ", balancer received " + lb.received());
                    LockSupport.parkNanos(20_000);
                    continue;
                }
                int n = Math.min(chunk, total - sent);
                int from = sent;
                Frames.send(gen, n, (m, off, i) -> flowFrame(m, off, (int) ((from + i) % 997), (int) ((from + i) / 997 & 1), from + i));
                sent += n;
            }
            consumer.join();
            for (int k = 0; k < 5; k++) {
                int g = k < 2 ? 0 : 1;
                int pk = k < 2 ? k : k - 2;
                assertEquals(0, lb.dropped(g, pk), "dropped for pipe " + pk + " of group " + g);
                assertEquals(0, lb.queued(g, pk), "left in the overflow queue of pipe " + pk + " of group " + g);
            }
            for (int i = 0; i < total; i++) {
                assertEquals(1, seenA[i], "packet " + i + " in group a");
                assertEquals(1, seenB[i], "packet " + i + " in group b");
            }
            assertEquals(total, lb.received());
            assertNull(lb.failure());
            cons.forEach(Port::close);
        }
    }

    /**
     * The four-read path for untagged option-less IPv4 (frames of 42 bytes and more) gives the value the
     * header-by-header parse gives (reached here by cutting the same frame to 38 bytes, ports included);
     * fragments, other protocols and options take the parse.
     */
    @Test
    void theFastIpv4PathHashesAsTheFullParse() {
        MemorySegment f = MemorySegment.ofArray(new byte[64]);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(11);
        for (int i = 0; i < 10_000; i++) {
            int proto = new int[] {6, 17, 132, 1, 47}[i % 5];
            Frames.udp(f, 0, rnd.nextInt(), rnd.nextInt(), rnd.nextInt(1 << 16), rnd.nextInt(1 << 16), i);
            f.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 23, (byte) proto);
            if (i % 7 == 0) {
                f.set(Frames.U16, 20, (short) 0x2001); // a fragment: addresses only
            }
            assertEquals(FlowHash.hash(f, 0, 38), FlowHash.hash(f, 0, 60), "frame " + i + " proto " + proto);
        }
    }

    @Test
    void spreadingAllocatesNothingPerPacket() {
        String p = parent("lba");
        try (LoadBalancer lb = LoadBalancer.open(p + "}4", List.of(new LoadBalancer.Group(p, 4)), 64, 256);
             Port src = Netmap.open(p + "{4")) {
            List<Port> cons = new ArrayList<>();
            for (int k = 0; k < 4; k++) {
                cons.add(Netmap.open(p + "}" + k));
            }
            Port[] consArray = cons.toArray(Port[]::new);
            com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long[] flow = {0};
            long before = 0;
            long moved = 0;
            for (int round = 0; round < 6000; round++) {
                if (round == 2000) { // after warm-up (JIT, first touches)
                    before = mx.getCurrentThreadAllocatedBytes();
                    moved = 0;
                }
                Ring t = src.txRing(0);
                t.sync();
                int j = t.head();
                for (int n = Math.min(256, t.space()); n > 0; n--) {
                    flowFrame(t.memory(), t.bufOffset(j), (int) (flow[0]++ % FLOWS), 0, 0);
                    t.setLen(j, Frames.LEN);
                    j = t.nextSlot(j);
                }
                t.advanceTo(j);
                t.sync();
                lb.runOnce();
                for (Port c : consArray) {
                    Ring r = c.rxRing(0);
                    r.sync();
                    moved += r.space();
                    r.advanceTo(r.tail());
                    r.sync();
                }
            }
            long bytes = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(moved > 500_000, "moved " + moved);
            assertTrue(bytes < 16 * 1024, bytes + " bytes allocated for " + moved + " packets");
            cons.forEach(Port::close);
        }
    }
}
