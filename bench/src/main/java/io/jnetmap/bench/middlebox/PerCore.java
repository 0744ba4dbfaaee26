package io.jnetmap.bench.middlebox;

import io.jnetmap.bench.BenchMain;
import io.jnetmap.core.Netmap;
import io.jnetmap.core.Port;
import io.jnetmap.core.Ring;
import io.jnetmap.middlebox.LinkEmulator;
import io.jnetmap.middlebox.LinkSpec;
import io.jnetmap.middlebox.LoadBalancer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The middleboxes' figures per core: packets per CPU-second of the middlebox's own work, from the
 * thread CPU clock ({@code ThreadMXBean}) of the threads that run it, beside the wall-clock rates. On a
 * machine with fewer CPUs than busy threads (a sender, the middlebox, the receivers) a wall-clock Mpps
 * is partly the harness's, and a thread that waits for the harness spins; the targets are per
 * core. So the middlebox's passes run in threads of their own ({@code runOnce}, {@code stampOnce},
 * {@code releaseOnce}: the same code as its own threads, without their idle policy), and the figure is
 * the packets moved divided by the CPU time of the rounds that moved packets (the clock is read where a
 * streak of busy rounds begins and ends); the thread's whole CPU time, idle polls included, is printed too.
 *
 * <ul>
 *   <li>{@code lb.4pipes.60B.percore}: lb from a pipe source over 4 pipes of the source's region (buffer
 *   swaps); one harness thread writes 60-byte frames of 4096 flows into the source and drains the 4
 *   consumers.</li>
 *   <li>{@code tlem.60B.percore}: one direction of tlem (no delay, no limit), a sender and a receiver
 *   thread around it; the stamper's and the releaser's busy CPU added (one core doing both halves).</li>
 * </ul>
 * {@code main}: {@code lb|tlem [SECONDS [TIMES]]}, one of them alone (for profiling, A/B runs).
 */
public final class PerCore {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private PerCore() {
    }

    public static void main(String[] args) throws Exception {
        BenchMain.Results out = new BenchMain.Results();
        if (args[0].equals("delay")) {
            delay(Integer.parseInt(args[1]), args[2], Integer.parseInt(args[3]));
            return;
        }
        int secs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        for (int i = 0; i < (args.length > 2 ? Integer.parseInt(args[2]) : 1); i++) {
            if (args[0].equals("lb1") || args[0].equals("tlem1")) {
                oneThread(args[0], secs);
            } else if (args[0].equals("lb")) {
                lb(secs, out);
            } else {
                tlem(secs, out);
            }
        }
    }

    /** LbBench's or TlemBench's invocation in a loop for {@code secs}: CPU nanoseconds per packet of the whole loop. */
    private static void oneThread(String which, int secs) {
        LbBench lbb = new LbBench();
        TlemBench tb = new TlemBench();
        boolean lb = which.equals("lb1");
        if (lb) {
            lbb.open();
        } else {
            tb.open();
        }
        try {
            for (int round = 0; round < 2; round++) {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(secs);
                long c0 = mx().getCurrentThreadCpuTime();
                long n = 0;
                // warm-up: 8 million packets, however long the JIT takes on a busy machine
                while (round == 0 ? n < 8_000_000 : System.nanoTime() < end) {
                    for (int i = 0; i < 64; i++) {
                        n += lb ? lbb.spread() : tb.oneDirection();
                    }
                }
                long c1 = mx().getCurrentThreadCpuTime();
                System.out.printf(Locale.ROOT, "%s %s: %.1f ns CPU per packet, %d packets%n", which, round == 0 ? "warm-up" : "measured",
                        (double) (c1 - c0) / n, n);
            }
        } finally {
            if (lb) {
                lbb.close();
            } else {
                tb.close();
            }
        }
    }

    /**
     * tlem with a 10 ms constant delay at {@code kpps} thousand 60-byte packets a second for 2 s, and what
     * the exit saw. {@code mode}: {@code threads} (tlem's two threads, the sender and the reader one
     * thread), {@code pinned} (the same, stamper on CPU 0, releaser on CPU 1), {@code one} (one thread
     * sends, stamps, releases and reads in turn).
     */
    static void delay(int kpps, String mode, int burst) throws Exception {
        String p = "tld" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        long delay = 10_000_000;
        LinkSpec spec = LinkSpec.ideal().withDelay(LinkSpec.Delay.constant(delay));
        for (int round = 0; round < 2; round++) {
            try (Port in = Netmap.open(p + round + "{0@conf:pipes=2,slots=16384"); Port a = Netmap.open(p + round + "}0");
                 Port b = Netmap.open(p + round + "}1@conf:slots=16384"); Port sink = Netmap.open(p + round + "{1")) {
                LinkEmulator em = switch (mode) {
                    case "threads" -> LinkEmulator.start(a, b, spec, LinkSpec.ideal(), 64L << 20, false);
                    case "pinned" -> LinkEmulator.start(a, b, spec, LinkSpec.ideal(), 64L << 20, false, 0, 1, 0, 1);
                    default -> LinkEmulator.open(a, b, spec, LinkSpec.ideal(), 64L << 20);
                };
                boolean one = mode.equals("one");
                long count = kpps * 2000L;
                long gap = 1_000_000_000L / kpps / 1000 * burst; // ns per burst
                Ring t = in.txRing(0);
                Ring r = sink.rxRing(0);
                long sent = 0;
                long got = 0;
                long t0 = System.nanoTime();
                long c0 = mx().getCurrentThreadCpuTime();
                long end = t0 + 2_000_000_000L + delay + 1_000_000_000L;
                while (got < count && System.nanoTime() < end) {
                    long due = Math.min(count, (System.nanoTime() - t0) / gap * burst + burst);
                    if (due > sent) {
                        t.sync();
                        int n = (int) Math.min(due - sent, t.space());
                        int j = t.head();
                        for (int k = 0; k < n; k++) {
                            t.setSlot(j, 60, 0);
                            j = t.nextSlot(j);
                        }
                        t.advanceTo(j);
                        t.sync();
                        sent += n;
                    }
                    if (one) {
                        em.stampOnce(0);
                        em.releaseOnce(0);
                    }
                    r.sync();
                    got += r.space();
                    r.advanceTo(r.tail());
                    if (!one && due <= sent) {
                        Thread.onSpinWait();
                    }
                }
                long c1 = mx().getCurrentThreadCpuTime();
                long t1 = System.nanoTime();
                LinkEmulator.Stats st = em.stats(0);
                em.close();
                System.out.printf(Locale.ROOT, "delay %s %d kpps burst %d%s: %d/%d out; delay mean %.3f ms (%.1f %% off), min %.3f max %.3f;"
                                + " lateness mean %.1f us max %.1f ms; output full %d; line full %d; test thread %.0f %% CPU%n",
                        mode, kpps, burst, round == 0 ? " (warm-up)" : "", st.sent(), count, st.delayMeanNanos() / 1e6,
                        100 * (st.delayMeanNanos() - delay) / delay, st.delayMinNanos() / 1e6, st.delayMaxNanos() / 1e6,
                        st.latenessMeanNanos() / 1e3, st.latenessMaxNanos() / 1e6, st.outputFull(), st.lineFull(), 100.0 * (c1 - c0) / (t1 - t0));
            }
        }
    }

    static com.sun.management.ThreadMXBean mx() {
        return (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    }

    /** Sum of the CPU time of the live threads whose names start with one of {@code prefixes}. */
    static long cpuNanos(String... prefixes) {
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            for (String p : prefixes) {
                if (t.getName().startsWith(p)) {
                    long c = mx().getThreadCpuTime(t.threadId());
                    sum += Math.max(c, 0);
                    break;
                }
            }
        }
        return sum;
    }

    /**
     * Runs {@code round} until {@code stop}, adding the CPU time of the rounds that moved packets to
     * {@code busy} and all of the thread's CPU time to {@code total}. The thread CPU clock is read after
     * every idle round (the start of a possible streak of busy rounds) and where a streak ends (the idle
     * round that ends it counts as busy), so a long streak costs no clock read.
     */
    static void busyLoop(AtomicBoolean stop, java.util.function.BooleanSupplier round, AtomicLong busy, AtomicLong total) {
        var mx = mx();
        long start = mx.getCurrentThreadCpuTime();
        long last = start; // the clock after the last idle round
        long streak = -1;
        int idle = 0;
        while (!stop.get()) {
            if (round.getAsBoolean()) {
                idle = 0;
                if (streak < 0) {
                    streak = last;
                }
            } else {
                last = mx.getCurrentThreadCpuTime();
                if (streak >= 0) {
                    busy.addAndGet(last - streak);
                    streak = -1;
                }
                if (++idle < 64) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield(); // CPUs are fewer than busy threads here: let the harness run
                }
            }
        }
        long end = mx.getCurrentThreadCpuTime();
        if (streak >= 0) {
            busy.addAndGet(end - streak);
        }
        total.addAndGet(end - start);
    }

    /**
     * lb ({@link LoadBalancer#open}, its {@code runOnce} in a thread of its own), 4 pipes, 60-byte frames
     * of 4096 flows from a pipe source written by a harness thread that also drains the consumers:
     * packets forwarded per CPU-second of lb's busy rounds.
     */
    static void lb(int seconds, BenchMain.Results out) throws Exception {
        String p = "lbc" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        long[] frame = new long[8];
        LbBench.udpTemplate(frame);
        try (LoadBalancer lb = LoadBalancer.open(p + "}4", List.of(new LoadBalancer.Group(p, 4)), 0, 256);
             Port source = Netmap.open(p + "{4")) {
            Port[] consumers = new Port[4];
            for (int k = 0; k < 4; k++) {
                consumers[k] = Netmap.open(p + "}" + k);
            }
            try {
                AtomicBoolean stop = new AtomicBoolean();
                AtomicBoolean warm = new AtomicBoolean();
                AtomicLong busy = new AtomicLong();
                AtomicLong total = new AtomicLong();
                Thread runner = Thread.ofPlatform().name("lb-runner").start(() -> {
                    busyLoop(warm, lb::runOnce, new AtomicLong(), new AtomicLong());
                    busyLoop(stop, lb::runOnce, busy, total);
                });
                Thread harness = Thread.ofPlatform().name("lbc-harness").start(() -> {
                    Ring t = source.txRing(0);
                    MemorySegment m = t.memory();
                    int flow = 0;
                    while (!stop.get()) {
                        t.sync();
                        int n = t.space();
                        int j = t.head();
                        for (int k = 0; k < n; k++) {
                            long off = t.bufOffset(j);
                            for (int w = 0; w < 7; w++) {
                                m.set(LONG, off + 8L * w, frame[w]);
                            }
                            m.set(U32, off + 26, 0x0a000000 | (flow++ & 4095));
                            t.setSlot(j, 60, 0);
                            j = t.nextSlot(j);
                        }
                        t.advanceTo(j);
                        t.sync();
                        for (Port c : consumers) {
                            Ring r = c.rxRing(0);
                            r.sync();
                            r.advanceTo(r.tail());
                        }
                        if (n == 0) {
                            Thread.yield(); // the source is full: let lb run where CPUs are few
                        }
                    }
                });
                try {
                    warmUp(() -> forwarded(lb));
                    long f0 = forwarded(lb);
                    long d0 = dropped(lb);
                    long t0 = System.nanoTime();
                    warm.set(true);
                    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                    stop.set(true);
                    runner.join(5000);
                    long t1 = System.nanoTime();
                    long moved = forwarded(lb) - f0;
                    long d1 = dropped(lb) - d0;
                    System.out.printf(Locale.ROOT, "# lb.4pipes.60B.percore: lb's thread %.2f CPU-s in %.2f s, %.2f of them in rounds that moved"
                            + " packets; %d forwarded, %d dropped (pipes full); %.1f ns of lb CPU per packet (%.1f counting its idle polls)%n",
                            total.get() / 1e9, (t1 - t0) / 1e9, busy.get() / 1e9, moved, d1,
                            moved == 0 ? 0 : (double) busy.get() / moved, moved == 0 ? 0 : (double) total.get() / moved);
                    out.put("lb.4pipes.60B.percore", busy.get() > 0 ? moved * 1e3 / busy.get() : 0, "Mpps");
                } finally {
                    stop.set(true);
                    warm.set(true);
                    runner.join(5000);
                    harness.join(5000);
                }
            } finally {
                for (Port c : consumers) {
                    if (c != null) {
                        c.close();
                    }
                }
            }
        }
    }

    /**
     * One direction of tlem ({@link LinkEmulator#open}: its stamper and releaser passes, each in a thread
     * of its own) between pipes, no delay, no limit, 60-byte frames from a sender thread to a receiver
     * thread: packets out per CPU-second of the two halves' busy rounds together.
     */
    static void tlem(int seconds, BenchMain.Results out) throws Exception {
        String p = "tlc" + ProcessHandle.current().pid() + "x" + (System.nanoTime() & 0xffffff);
        try (Port src = Netmap.open(p + "{0@conf:pipes=2,slots=4096"); Port a = Netmap.open(p + "}0"); Port b = Netmap.open(p + "}1@conf:slots=4096");
             Port dst = Netmap.open(p + "{1");
             LinkEmulator em = LinkEmulator.open(a, b, LinkSpec.ideal(), LinkSpec.ideal(), 64L << 20)) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicBoolean warm = new AtomicBoolean();
            AtomicLong received = new AtomicLong();
            AtomicLong[] cpu = {new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong()};
            Thread stamper = Thread.ofPlatform().name("tlc-stamp").start(() -> {
                busyLoop(warm, () -> em.stampOnce(0) > 0, new AtomicLong(), new AtomicLong());
                busyLoop(stop, () -> em.stampOnce(0) > 0, cpu[0], cpu[1]);
            });
            Thread releaser = Thread.ofPlatform().name("tlc-release").start(() -> {
                busyLoop(warm, () -> em.releaseOnce(0) > 0, new AtomicLong(), new AtomicLong());
                busyLoop(stop, () -> em.releaseOnce(0) > 0, cpu[2], cpu[3]);
            });
            Thread sender = MiddleboxSuite.spinSender(src, stop);
            Thread receiver = MiddleboxSuite.spinReceiver(dst, stop, received);
            try {
                warmUp(received::get);
                long r0 = received.get();
                long t0 = System.nanoTime();
                warm.set(true);
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                stop.set(true);
                stamper.join(5000);
                releaser.join(5000);
                long t1 = System.nanoTime();
                long moved = received.get() - r0;
                long busy = cpu[0].get() + cpu[2].get();
                System.out.printf(Locale.ROOT, "# tlem.60B.percore: stamper %.2f CPU-s (%.2f busy, %.1f ns/packet), releaser %.2f CPU-s (%.2f busy,"
                        + " %.1f ns/packet) in %.2f s; %d packets%n", cpu[1].get() / 1e9, cpu[0].get() / 1e9,
                        moved == 0 ? 0 : (double) cpu[0].get() / moved, cpu[3].get() / 1e9, cpu[2].get() / 1e9,
                        moved == 0 ? 0 : (double) cpu[2].get() / moved, (t1 - t0) / 1e9, moved);
                out.put("tlem.60B.percore", busy > 0 ? moved * 1e3 / busy : 0, "Mpps");
            } finally {
                stop.set(true);
                warm.set(true);
                for (Thread t : new Thread[] {stamper, releaser, sender, receiver}) {
                    t.join(5000);
                }
            }
        }
    }

    /** Until 4 million packets moved (the JIT has compiled the paths; a shared machine may take long), at most 20 s. */
    private static void warmUp(java.util.function.LongSupplier packets) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long p0 = packets.getAsLong();
        do {
            Thread.sleep(200);
        } while (packets.getAsLong() - p0 < 4_000_000 && System.nanoTime() < end);
    }

    private static long forwarded(LoadBalancer lb) {
        long s = 0;
        for (int k = 0; k < 4; k++) {
            s += lb.forwarded(0, k);
        }
        return s;
    }

    private static long dropped(LoadBalancer lb) {
        long s = 0;
        for (int k = 0; k < 4; k++) {
            s += lb.dropped(0, k);
        }
        return s;
    }

}
