package io.jnetmap.bench.middlebox;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.middlebox.LinkEmulator;
import io.jnetmap.middlebox.LinkSpec;
import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code bench/run middlebox}: lb on one core from a pipe source ({@link LbBench}, JMH); tlem at 60 B on
 * one core ({@link TlemBench}, JMH: stamper and releaser passes in turn), and with its threads
 * ({@code tlem.60B}: one direction, no delay, no limit; a sender and a receiver thread on the pipes
 * around it), with the bytes the emulator's threads allocated per packet, and per core ({@link PerCore}:
 * {@code tlem.60B.percore}, {@code lb.4pipes.60B.percore}, packets per CPU-second of the middlebox's own
 * threads, what the "per core" targets mean on a machine with fewer CPUs than busy threads); lb on a veth feeding 4 consumer
 * processes against the kernel's PACKET_FANOUT_HASH over 4 AF_PACKET sockets ({@link LbVeth}).
 */
public final class MiddleboxSuite {
    static {
        BenchMain.ratio("lb.veth.4consumers.vs.fanout", "lb.veth.4consumers", "peer.fanout.4consumers");
    }

    private MiddleboxSuite() {
    }

    public static void run(boolean quick, BenchMain.Results out) throws Exception {
        System.out.println("# middlebox: lb.4pipes.60B and tlem.1core.60B are wall-clock rates of one thread doing the source's,"
                + " the middlebox's and the consumers' work in turn; tlem.60B and lb.4pipes.60B.threaded are wall-clock rates"
                + " with the middlebox's own threads beside a sender and receivers (" + Runtime.getRuntime().availableProcessors()
                + " CPUs here, shared by all of them); *.percore are packets per CPU-second of the middlebox's own threads"
                + " only (thread CPU clocks over the same window): the issue's per-core targets");
        BenchMain.jmh("io\\.jnetmap\\.bench\\.middlebox\\.(LbBench|TlemBench)\\..*", quick, true, out);
        tlem(quick ? 2 : 6, out);
        PerCore.tlem(quick ? 2 : 6, out);
        PerCore.lb(quick ? 2 : 6, out);
        LbVeth.run(quick, out);
    }

    /** tlem A->B between two pipes for {@code seconds}: packets received per second, and allocation per packet. */
    static void tlem(int seconds, BenchMain.Results out) throws Exception {
        String p = "tlb" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        try (Port src = Netmap.open(p + "{0@conf:pipes=2,slots=4096"); Port a = Netmap.open(p + "}0"); Port b = Netmap.open(p + "}1@conf:slots=4096");
             Port dst = Netmap.open(p + "{1")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong received = new AtomicLong();
            Thread sender = spinSender(src, stop);
            Thread receiver = spinReceiver(dst, stop, received);
            try (LinkEmulator em = LinkEmulator.start(a, b, LinkSpec.ideal(), LinkSpec.ideal(), 64L << 20, true)) {
                Thread.sleep(1000); // warm-up
                com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                long alloc0 = tlemAllocated(mx);
                long s0 = PerCore.cpuNanos("tlem-stamp-a->b");
                long e0 = PerCore.cpuNanos("tlem-release-a->b");
                long o0 = PerCore.cpuNanos("tlem-stamp-b->a", "tlem-release-b->a");
                long r0 = received.get();
                long t0 = System.nanoTime();
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                long r1 = received.get();
                long t1 = System.nanoTime();
                long s1 = PerCore.cpuNanos("tlem-stamp-a->b");
                long e1 = PerCore.cpuNanos("tlem-release-a->b");
                long o1 = PerCore.cpuNanos("tlem-stamp-b->a", "tlem-release-b->a");
                long alloc1 = tlemAllocated(mx);
                out.put("tlem.60B", (r1 - r0) * 1e3 / (t1 - t0), "Mpps");
                System.out.printf(java.util.Locale.ROOT, "# tlem.60B: a->b's stamper %.2f CPU-s, releaser %.2f CPU-s, b->a's idle threads %.2f CPU-s"
                        + " in %.2f s (idle spins and yields included): %.1f ns of a->b's CPU per packet%n", (s1 - s0) / 1e9, (e1 - e0) / 1e9,
                        (o1 - o0) / 1e9, (t1 - t0) / 1e9, r1 > r0 ? (double) (s1 - s0 + e1 - e0) / (r1 - r0) : 0);
                out.put("tlem.alloc", r1 > r0 ? (double) (alloc1 - alloc0) / (r1 - r0) : 0, "B/op");
            } finally {
                stop.set(true);
                sender.join(5000);
                receiver.join(5000);
            }
        }
    }

    private static long tlemAllocated(com.sun.management.ThreadMXBean mx) {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("tlem-")) {
                sum += mx.getThreadAllocatedBytes(t.threadId());
            }
        }
        return sum;
    }

    /** A thread that fills {@code src}'s TX ring with 60-byte slots until {@code stop} (yields when full: 2 CPUs, 4 busy threads). */
    static Thread spinSender(Port src, AtomicBoolean stop) {
        return Thread.ofPlatform().start(() -> {
            Ring t = src.txRing(0);
            while (!stop.get()) {
                t.sync();
                int n = t.space();
                if (n == 0) {
                    Thread.yield();
                    continue;
                }
                int j = t.head();
                for (int k = 0; k < n; k++) {
                    t.setSlot(j, 60, 0);
                    j = t.nextSlot(j);
                }
                t.advanceTo(j);
            }
        });
    }

    /** A thread that drains {@code dst}'s RX ring until {@code stop}, adding what it took to {@code received}. */
    static Thread spinReceiver(Port dst, AtomicBoolean stop, AtomicLong received) {
        return Thread.ofPlatform().start(() -> {
            Ring r = dst.rxRing(0);
            while (!stop.get()) {
                r.sync();
                int n = r.space();
                if (n == 0) {
                    Thread.yield();
                    continue;
                }
                r.advanceTo(r.tail());
                received.addAndGet(n);
            }
        });
    }
}
