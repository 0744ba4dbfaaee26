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
 * around it), with the bytes the emulator's threads allocated per packet; lb on a veth feeding 4 consumer
 * processes against the kernel's PACKET_FANOUT_HASH over 4 AF_PACKET sockets ({@link LbVeth}).
 */
public final class MiddleboxSuite {
    static {
        BenchMain.ratio("lb.veth.4consumers.vs.fanout", "lb.veth.4consumers", "peer.fanout.4consumers");
    }

    private MiddleboxSuite() {
    }

    public static void run(boolean quick, BenchMain.Results out) throws Exception {
        BenchMain.jmh("io\\.jnetmap\\.bench\\.middlebox\\.(LbBench|TlemBench)\\..*", quick, true, out);
        tlem(quick ? 2 : 6, out);
        LbVeth.run(quick, out);
    }

    /** tlem A->B between two pipes for {@code seconds}: packets received per second, and allocation per packet. */
    static void tlem(int seconds, BenchMain.Results out) throws Exception {
        String p = "tlb" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        try (Port src = Netmap.open(p + "{0@conf:pipes=2,slots=4096"); Port a = Netmap.open(p + "}0"); Port b = Netmap.open(p + "}1@conf:slots=4096");
             Port dst = Netmap.open(p + "{1")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong received = new AtomicLong();
            Thread sender = Thread.ofPlatform().start(() -> {
                Ring t = src.txRing(0);
                while (!stop.get()) {
                    t.sync();
                    int n = t.space();
                    if (n == 0) {
                        Thread.yield(); // 2 CPUs, 4 busy threads: let the emulator run
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
            Thread receiver = Thread.ofPlatform().start(() -> {
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
            try (LinkEmulator em = LinkEmulator.start(a, b, LinkSpec.ideal(), LinkSpec.ideal(), 64L << 20, true)) {
                Thread.sleep(1000); // warm-up
                com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                long alloc0 = tlemAllocated(mx);
                long r0 = received.get();
                long t0 = System.nanoTime();
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                long r1 = received.get();
                long t1 = System.nanoTime();
                long alloc1 = tlemAllocated(mx);
                out.put("tlem.60B", (r1 - r0) * 1e3 / (t1 - t0), "Mpps");
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
}
